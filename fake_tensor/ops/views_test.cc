#include "fake_tensor/ops/views.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Tensor Meta(const Shape& sizes) { return empty(sizes, {.device = Device::Meta()}); }

// 0, 1, ..., numel - 1 as int64 with shape `sizes`.
Tensor Iota(const Shape& sizes) { return view(arange(NumElements(sizes)), sizes); }

// The message of the Error `fn` throws; fails the test when it throws none.
template <typename Fn>
std::string ErrorMessage(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a deferred::Error";
  return "";
}

void ExpectLayout(const Tensor& t, const Shape& sizes, const Shape& strides, int64_t offset) {
  EXPECT_EQ(t.sizes(), sizes);
  EXPECT_EQ(t.strides(), strides);
  EXPECT_EQ(t.storage_offset(), offset);
}

bool SharesStorage(const Tensor& a, const Tensor& b) {
  return a.storage().get() == b.storage().get();
}

TEST(ViewsTest, ViewOpsAreRegisteredAsViewsAndCloneAsFunctional) {
  for (const char* name : {"view", "narrow", "slice", "select", "transpose", "permute", "unsqueeze",
                           "squeeze", "squeeze_dim", "expand", "diagonal", "t"}) {
    const OpDef& def = OpRegistry::Global().Get(name);
    EXPECT_EQ(def.kind, OpKind::kView) << name;
    EXPECT_TRUE(static_cast<bool>(def.view_rule)) << name;
  }
  EXPECT_EQ(OpRegistry::Global().Get("clone").kind, OpKind::kFunctional);
  EXPECT_TRUE(static_cast<bool>(OpRegistry::Global().Get("clone").kernel(DeviceType::kCPU)));
}

// Layout rules, on meta tensors (no data): the values PyTorch gives.

TEST(ViewsTest, ViewInfersOneSizeAndKeepsTheOffset) {
  const Tensor t = Meta({2, 3, 4});
  ExpectLayout(view(t, {4, -1}), {4, 6}, {6, 1}, 0);
  ExpectLayout(view(t, {24}), {24}, {1}, 0);
  ExpectLayout(view(t, {1, 2, 1, 12, 1}), {1, 2, 1, 12, 1}, {24, 12, 12, 1, 1}, 0);
  const Tensor row = select(t, 0, 1);
  ExpectLayout(view(row, {-1}), {12}, {1}, 12);
  ExpectLayout(view(Meta({}), {1, 1}), {1, 1}, {1, 1}, 0);
  ExpectLayout(view(Meta({1, 1}), {}), {}, {}, 0);
  ExpectLayout(view(Meta({0, 3}), {3, 0, 2}), {3, 0, 2}, {2, 2, 1}, 0);
  EXPECT_TRUE(view(t, {6, 4}).is_meta());
  EXPECT_TRUE(SharesStorage(view(t, {6, 4}), t));
}

TEST(ViewsTest, ViewOfNonContiguousSplitsAndMergesWithinChunks) {
  const Tensor t = transpose(Meta({2, 3, 4}), 0, 2);  // [4, 3, 2] strides [1, 4, 12]
  ExpectLayout(t, {4, 3, 2}, {1, 4, 12}, 0);
  ExpectLayout(view(t, {2, 2, 3, 2}), {2, 2, 3, 2}, {2, 1, 4, 12}, 0);
  ExpectLayout(view(t, {4, 3, 1, 2}), {4, 3, 1, 2}, {1, 4, 24, 12}, 0);
  // Dims 0 and 1 of a row-narrowed matrix still merge: stride 4 = 4 * stride 1.
  const Tensor narrowed = narrow(Meta({5, 4}), 0, 1, 3);
  ExpectLayout(view(narrowed, {12}), {12}, {1}, 4);
  // Columns narrowed: rows no longer merge, but each row splits.
  const Tensor columns = narrow(Meta({5, 4}), 1, 1, 2);
  ExpectLayout(view(columns, {5, 2, 1}), {5, 2, 1}, {4, 1, 1}, 1);
  // Expanded dims merge when the stride-0 run is whole.
  const Tensor expanded = expand(Meta({3}), {2, 2, 3});
  ExpectLayout(view(expanded, {4, 3}), {4, 3}, {0, 1}, 0);
}

TEST(ViewsTest, NarrowSliceAndSelectMoveTheOffset) {
  const Tensor t = Meta({2, 3, 4});
  ExpectLayout(narrow(t, 1, 1, 2), {2, 2, 4}, {12, 4, 1}, 4);
  ExpectLayout(narrow(t, -1, -3, 3), {2, 3, 3}, {12, 4, 1}, 1);
  ExpectLayout(narrow(t, 2, 4, 0), {2, 3, 0}, {12, 4, 1}, 4);
  ExpectLayout(slice(t, 2, 1, 4, 2), {2, 3, 2}, {12, 4, 2}, 1);
  ExpectLayout(slice(t, 1, -2), {2, 2, 4}, {12, 4, 1}, 4);
  ExpectLayout(slice(t, 0, 5, 9), {0, 3, 4}, {12, 4, 1}, 24);  // clamped: empty range
  ExpectLayout(slice(t, 1, 2, 1), {2, 0, 4}, {12, 4, 1}, 8);   // end before start
  ExpectLayout(slice(t, 2, -100, 100, 3), {2, 3, 2}, {12, 4, 3}, 0);
  ExpectLayout(select(t, 1, -1), {2, 4}, {12, 1}, 8);
  ExpectLayout(select(select(t, 0, 1), 0, 2), {4}, {1}, 20);
}

TEST(ViewsTest, SliceClampsLikePython) {
  const Tensor t = Meta({10});
  EXPECT_EQ(slice(t, 0, 5, 9).sizes(), (Shape{4}));
  EXPECT_EQ(slice(t, 0, 12, 20).sizes(), (Shape{0}));
  EXPECT_EQ(slice(t, 0, 12, 20).storage_offset(), 10);
  EXPECT_EQ(slice(t, 0, -3).storage_offset(), 7);
  EXPECT_EQ(slice(t, 0, -30, -8).sizes(), (Shape{2}));
  EXPECT_EQ(slice(t, 0, 0, 10, 4).sizes(), (Shape{3}));  // 0, 4, 8
  EXPECT_EQ(slice(t, 0, 1, 10, 3).sizes(), (Shape{3}));  // 1, 4, 7
}

TEST(ViewsTest, TransposePermuteAndTSwapSizesAndStrides) {
  const Tensor t = Meta({2, 3, 4});
  ExpectLayout(transpose(t, 0, 2), {4, 3, 2}, {1, 4, 12}, 0);
  ExpectLayout(transpose(t, -1, 1), {2, 4, 3}, {12, 1, 4}, 0);
  ExpectLayout(transpose(t, 1, 1), {2, 3, 4}, {12, 4, 1}, 0);
  ExpectLayout(permute(t, {2, 0, 1}), {4, 2, 3}, {1, 12, 4}, 0);
  ExpectLayout(permute(t, {-1, -3, -2}), {4, 2, 3}, {1, 12, 4}, 0);
  ExpectLayout(deferred::t(Meta({3, 4})), {4, 3}, {1, 4}, 0);
  ExpectLayout(deferred::t(Meta({5})), {5}, {1}, 0);
  ExpectLayout(deferred::t(Meta({})), {}, {}, 0);
  ExpectLayout(transpose(Meta({}), 0, -1), {}, {}, 0);
  ExpectLayout(permute(Meta({}), {}), {}, {}, 0);
}

TEST(ViewsTest, UnsqueezeAndSqueezeFollowPyTorchStrides) {
  const Tensor t = Meta({2, 3, 4});
  ExpectLayout(unsqueeze(t, 0), {1, 2, 3, 4}, {24, 12, 4, 1}, 0);
  ExpectLayout(unsqueeze(t, 1), {2, 1, 3, 4}, {12, 12, 4, 1}, 0);
  ExpectLayout(unsqueeze(t, 3), {2, 3, 4, 1}, {12, 4, 1, 1}, 0);
  ExpectLayout(unsqueeze(t, -1), {2, 3, 4, 1}, {12, 4, 1, 1}, 0);
  ExpectLayout(unsqueeze(t, -4), {1, 2, 3, 4}, {24, 12, 4, 1}, 0);
  ExpectLayout(unsqueeze(Meta({}), 0), {1}, {1}, 0);
  const Tensor ones_dims = Meta({1, 3, 1, 2});
  ExpectLayout(squeeze(ones_dims), {3, 2}, {2, 1}, 0);
  ExpectLayout(squeeze(ones_dims, 2), {1, 3, 2}, {6, 2, 1}, 0);
  ExpectLayout(squeeze(ones_dims, -4), {3, 1, 2}, {2, 2, 1}, 0);
  ExpectLayout(squeeze(ones_dims, 1), {1, 3, 1, 2}, {6, 2, 2, 1}, 0);
  ExpectLayout(squeeze(Meta({1, 1})), {}, {}, 0);
  ExpectLayout(squeeze(Meta({}), 0), {}, {}, 0);
}

TEST(ViewsTest, ExpandRepeatsSizeOneAndNewLeadingDimsWithStrideZero) {
  const Tensor column = Meta({3, 1});
  ExpectLayout(expand(column, {3, 4}), {3, 4}, {1, 0}, 0);
  ExpectLayout(expand(column, {2, 3, 4}), {2, 3, 4}, {0, 1, 0}, 0);
  ExpectLayout(expand(column, {1, -1, 5}), {1, 3, 5}, {3, 1, 0}, 0);
  ExpectLayout(expand(column, {3, 1}), {3, 1}, {1, 1}, 0);
  ExpectLayout(expand(Meta({}), {2, 3}), {2, 3}, {0, 0}, 0);
  ExpectLayout(expand(column, {0, 3, 0}), {0, 3, 0}, {0, 1, 0}, 0);
  const Tensor row = select(Meta({4, 1}), 0, 2);  // offset 2
  ExpectLayout(expand(row, {6}), {6}, {0}, 2);
}

TEST(ViewsTest, DiagonalAppendsTheDiagonalDim) {
  const Tensor m = Meta({3, 4});
  ExpectLayout(diagonal(m), {3}, {5}, 0);
  ExpectLayout(diagonal(m, 1), {3}, {5}, 1);
  ExpectLayout(diagonal(m, 2), {2}, {5}, 2);
  ExpectLayout(diagonal(m, -1), {2}, {5}, 4);
  ExpectLayout(diagonal(m, 4), {0}, {5}, 0);
  ExpectLayout(diagonal(m, -7), {0}, {5}, 0);
  ExpectLayout(diagonal(m, 0, 1, 0), {3}, {5}, 0);
  const Tensor t = Meta({2, 3, 4});
  ExpectLayout(diagonal(t, 0, 0, 2), {3, 2}, {4, 13}, 0);
  ExpectLayout(diagonal(t, 1, -1, 1), {2, 2}, {12, 5}, 4);
}

TEST(ViewsTest, FlattenMergesTheGivenDims) {
  const Tensor t = Meta({2, 3, 4});
  ExpectLayout(flatten(t), {24}, {1}, 0);
  ExpectLayout(flatten(t, 1), {2, 12}, {12, 1}, 0);
  ExpectLayout(flatten(t, 0, -2), {6, 4}, {4, 1}, 0);
  EXPECT_TRUE(flatten(t, 1, 1).is_same(t));
  ExpectLayout(flatten(Meta({})), {1}, {1}, 0);
  const Tensor moved = permute(t, {1, 2, 0});  // [3, 4, 2] strides [4, 1, 12]
  ExpectLayout(flatten(moved, 0, 1), {12, 2}, {1, 12}, 0);
  EXPECT_TRUE(SharesStorage(flatten(moved, 0, 1), t));
  const Tensor copied = flatten(moved, 1, 2);
  EXPECT_FALSE(SharesStorage(copied, t));
  EXPECT_TRUE(copied.is_meta());
  ExpectLayout(copied, {3, 8}, {8, 1}, 0);
}

// Data checks on CPU tensors: each element against PyTorch's values.

TEST(ViewsTest, ViewOpsReadTheRightElements) {
  const Tensor m = Iota({3, 4});
  EXPECT_THAT(diagonal(m).to_vector<int64_t>(), ElementsAre(0, 5, 10));
  EXPECT_THAT(diagonal(m, 1).to_vector<int64_t>(), ElementsAre(1, 6, 11));
  EXPECT_THAT(diagonal(m, -1).to_vector<int64_t>(), ElementsAre(4, 9));
  EXPECT_THAT(diagonal(m, 4).to_vector<int64_t>(), IsEmpty());
  EXPECT_THAT(deferred::t(m).to_vector<int64_t>(),
              ElementsAre(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11));
  EXPECT_THAT(select(m, 1, -1).to_vector<int64_t>(), ElementsAre(3, 7, 11));
  EXPECT_THAT(narrow(m, 1, -3, 2).to_vector<int64_t>(), ElementsAre(1, 2, 5, 6, 9, 10));
  EXPECT_THAT(slice(arange(10), 0, -8, -1, 3).to_vector<int64_t>(), ElementsAre(2, 5, 8));
  EXPECT_THAT(expand(view(arange(3), {3, 1}), {2, 3, 2}).to_vector<int64_t>(),
              ElementsAre(0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2));
  EXPECT_THAT(view(deferred::t(m), {2, 2, 3}).to_vector<int64_t>(),
              ElementsAre(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11));
  const Tensor cube = Iota({2, 3, 4});
  const Tensor moved = permute(cube, {2, 0, 1});
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 2; ++j) {
      for (int64_t k = 0; k < 3; ++k) {
        EXPECT_EQ(moved.at<int64_t>({i, j, k}), cube.at<int64_t>({j, k, i}));
      }
    }
  }
  EXPECT_THAT(diagonal(cube, 1, 2, 0).to_vector<int64_t>(), ElementsAre(12, 16, 20));
  EXPECT_THAT(diagonal(cube, -1, 2, 0).to_vector<int64_t>(), ElementsAre(1, 14, 5, 18, 9, 22));
}

TEST(ViewsTest, ViewsShareStorageAndWritesReachTheBase) {
  const Tensor base = zeros({3, 4}, {.dtype = DType::kInt64});
  fill_(diagonal(base), 7);
  add_(select(base, 1, 3), 1);
  copy_(narrow(deferred::t(base), 0, 0, 1), from_data<int64_t>({10, 20, 30}));
  EXPECT_THAT(base.to_vector<int64_t>(), ElementsAre(10, 0, 0, 1, 20, 7, 0, 1, 30, 0, 7, 1));
}

TEST(ViewsTest, ReshapeIsAViewWhenStridesAllowElseACopy) {
  const Tensor m = Iota({3, 4});
  const Tensor same = reshape(m, {2, -1});
  EXPECT_TRUE(SharesStorage(same, m));
  EXPECT_EQ(same.sizes(), (Shape{2, 6}));
  const Tensor transposed = deferred::t(m);
  const Tensor copy = reshape(transposed, {12});
  EXPECT_FALSE(SharesStorage(copy, m));
  EXPECT_TRUE(copy.is_contiguous());
  EXPECT_EQ(copy.to_vector<int64_t>(), transposed.to_vector<int64_t>());
  EXPECT_TRUE(SharesStorage(reshape(transposed, {2, 2, 3}), m));
}

TEST(ViewsTest, ContiguousReturnsItselfOrAContiguousCopy) {
  const Tensor m = Iota({3, 4});
  EXPECT_TRUE(contiguous(m).is_same(m));
  const Tensor transposed = deferred::t(m);
  const Tensor copy = contiguous(transposed);
  EXPECT_FALSE(SharesStorage(copy, m));
  EXPECT_TRUE(copy.is_contiguous());
  EXPECT_EQ(copy.sizes(), (Shape{4, 3}));
  EXPECT_EQ(copy.to_vector<int64_t>(), transposed.to_vector<int64_t>());
}

TEST(ViewsTest, CloneKeepsValuesDtypeAndDeviceInNewStorage) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                      DType::kInt32, DType::kInt64, DType::kBool}) {
    SCOPED_TRACE(DTypeName(dtype));
    const Tensor source = slice(deferred::t(to(Iota({4, 5}), dtype)), 1, 1, 4, 2);
    const Tensor copy = clone(source);
    EXPECT_EQ(copy.dtype(), dtype);
    EXPECT_EQ(copy.device(), Device::CPU());
    EXPECT_EQ(copy.sizes(), source.sizes());
    EXPECT_TRUE(copy.is_contiguous());
    EXPECT_EQ(copy.storage_offset(), 0);
    EXPECT_FALSE(SharesStorage(copy, source));
    EXPECT_EQ(to(copy, DType::kFloat64).to_vector<double>(),
              to(source, DType::kFloat64).to_vector<double>());
  }
  const Tensor source = Iota({2, 2});
  const Tensor copy = clone(source);
  fill_(copy, -1);
  EXPECT_THAT(source.to_vector<int64_t>(), ElementsAre(0, 1, 2, 3));
  const Tensor meta = clone(transpose(Meta({2, 3}), 0, 1));
  EXPECT_TRUE(meta.is_meta());
  ExpectLayout(meta, {3, 2}, {2, 1}, 0);
  EXPECT_THAT(clone(arange(0)).to_vector<int64_t>(), IsEmpty());
  EXPECT_EQ(clone(select(arange(3), 0, 2)).item<int64_t>(), 2);
}

TEST(ViewsTest, CloneOfARegionReadsTheSameRegionOfItsInput) {
  const Tensor source = transpose(Meta({4, 6}), 0, 1);
  const OpDef& def = OpRegistry::Global().Get("clone");
  const Region region{{1, 2}, {5, 3}};
  const std::optional<RegionPlan> plan = def.region_rule(OpCall{&def, {source}, {}}, {region});
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->inputs.size(), 1u);
  EXPECT_EQ(plan->inputs[0], region);
  EXPECT_TRUE(plan->attrs.entries().empty());
}

// Misuse: each kind is an Error naming the op and what was wrong.

TEST(ViewsTest, BadDimsAreErrorsNamingTheOp) {
  const Tensor m = Meta({3, 4});
  EXPECT_THAT(ErrorMessage([&] { narrow(m, 2, 0, 1); }),
              HasSubstr("narrow: dim 2 is out of range for a 2-d tensor (expected in [-2, 1])"));
  EXPECT_THAT(ErrorMessage([&] { slice(m, -3, 0, 1); }), HasSubstr("slice: dim -3 is out"));
  EXPECT_THAT(ErrorMessage([&] { select(m, 5, 0); }), HasSubstr("select: dim 5 is out"));
  EXPECT_THAT(ErrorMessage([&] { transpose(m, 0, 2); }), HasSubstr("transpose: dim 2 is out"));
  EXPECT_THAT(ErrorMessage([&] { permute(m, {0, 2}); }), HasSubstr("permute: dim 2 is out"));
  EXPECT_THAT(ErrorMessage([&] { unsqueeze(m, 3); }),
              HasSubstr("unsqueeze: dim 3 is out of range for a 3-d tensor (expected in [-3, 2])"));
  EXPECT_THAT(ErrorMessage([&] { squeeze(m, -3); }), HasSubstr("squeeze: dim -3 is out"));
  EXPECT_THAT(ErrorMessage([&] { diagonal(m, 0, 0, 2); }), HasSubstr("diagonal: dim 2 is out"));
  EXPECT_THAT(ErrorMessage([&] { diagonal(Meta({4}), 0); }), HasSubstr("diagonal: dim 1 is out"));
  EXPECT_THAT(ErrorMessage([&] { diagonal(m, 0, 1, -1); }),
              HasSubstr("diagonal: dim1 and dim2 must be different dims, both are 1"));
  EXPECT_THAT(ErrorMessage([&] { flatten(m, 2); }), HasSubstr("flatten: dim 2 is out"));
  EXPECT_THAT(ErrorMessage([&] { flatten(m, 1, 0); }),
              HasSubstr("flatten: start_dim 1 comes after end_dim 0"));
  EXPECT_THAT(ErrorMessage([&] {
                deferred::t(Meta({2, 3, 4}));
              }),
              HasSubstr("t: expects a tensor with at most 2 dims, got a 3-d tensor"));
  for (auto op : std::vector<std::function<void(const Tensor&)>>{
           [](const Tensor& s) { narrow(s, 0, 0, 1); }, [](const Tensor& s) { slice(s, 0, 0, 1); },
           [](const Tensor& s) { select(s, 0, 0); }}) {
    EXPECT_THAT(ErrorMessage([&] { op(Meta({})); }),
                HasSubstr("cannot be applied to a 0-d tensor"));
  }
}

TEST(ViewsTest, OutOfRangeNarrowAndSelectAreErrors) {
  const Tensor m = Meta({3, 4});
  EXPECT_THAT(
      ErrorMessage([&] { narrow(m, 1, 5, 0); }),
      HasSubstr("narrow: start 5 is out of range for dim 1 of size 4 (expected in [-4, 4])"));
  EXPECT_THAT(ErrorMessage([&] { narrow(m, 1, -5, 1); }), HasSubstr("narrow: start -5 is out"));
  EXPECT_THAT(ErrorMessage([&] { narrow(m, 1, -2, 3); }),
              HasSubstr("narrow: start 2 + length 3 exceeds the size 4 of dim 1"));
  EXPECT_THAT(ErrorMessage([&] { narrow(m, 0, 1, -1); }),
              HasSubstr("narrow: length must be non-negative, got -1"));
  EXPECT_THAT(ErrorMessage([&] { select(m, 0, 3); }),
              HasSubstr("select: index 3 is out of range for dim 0 of size 3"));
  EXPECT_THAT(ErrorMessage([&] { select(m, -1, -5); }),
              HasSubstr("select: index -5 is out of range for dim 1 of size 4"));
  EXPECT_THAT(ErrorMessage([&] { select(Meta({0}), 0, 0); }), HasSubstr("select: index 0"));
}

TEST(ViewsTest, NonPositiveSliceStepIsAnError) {
  const Tensor m = Meta({3, 4});
  EXPECT_THAT(ErrorMessage([&] { slice(m, 0, 0, 3, 0); }),
              HasSubstr("slice: step must be positive, got 0"));
  EXPECT_THAT(ErrorMessage([&] { slice(m, 1, 3, 0, -1); }),
              HasSubstr("slice: step must be positive, got -1"));
}

TEST(ViewsTest, InvalidViewSizesAreErrors) {
  const Tensor m = Meta({2, 3});
  EXPECT_THAT(ErrorMessage([&] {
                view(m, {4, 2});
              }),
              HasSubstr("view: shape [4, 2] is invalid for input of 6 elements"));
  EXPECT_THAT(ErrorMessage([&] {
                view(m, {4, -1});
              }),
              HasSubstr("view: shape [4, -1] is invalid for input of 6 elements"));
  EXPECT_THAT(ErrorMessage([&] {
                view(m, {-1, -1});
              }),
              HasSubstr("view: only one dim can be inferred (-1) in shape [-1, -1]"));
  EXPECT_THAT(ErrorMessage([&] {
                view(m, {-2, -3});
              }),
              HasSubstr("view: invalid size -2 in shape [-2, -3]"));
  EXPECT_THAT(ErrorMessage([&] {
                view(Meta({0, 2}), {0, -1});
              }),
              HasSubstr("view: cannot reshape a tensor of 0 elements into shape [0, -1]"));
  EXPECT_THAT(ErrorMessage([&] { reshape(m, {5}); }),
              HasSubstr("reshape: shape [5] is invalid for input of 6 elements"));
  EXPECT_THAT(ErrorMessage([&] { reshape(m, {3, -2}); }), HasSubstr("reshape: invalid size -2"));
}

TEST(ViewsTest, ViewWithIncompatibleStridesAsksForReshape) {
  const Tensor transposed = deferred::t(Meta({3, 4}));
  EXPECT_THAT(ErrorMessage([&] { view(transposed, {12}); }),
              HasSubstr("view: size [12] is not compatible with the input's size [4, 3] and "
                        "stride [1, 4]"));
  EXPECT_THAT(ErrorMessage([&] { view(transposed, {12}); }), HasSubstr("use reshape instead"));
  EXPECT_THAT(ErrorMessage([&] {
                view(narrow(Meta({3, 4}), 1, 0, 2), {-1});
              }),
              HasSubstr("view: size [6] is not compatible"));
  EXPECT_THAT(ErrorMessage([&] {
                view(expand(Meta({3}), {2, 3}), {6});
              }),
              HasSubstr("view: size [6] is not compatible"));
}

TEST(ViewsTest, ExpandOfANonSingletonDimIsAnError) {
  const Tensor m = Meta({2, 3});
  EXPECT_THAT(ErrorMessage([&] {
                expand(m, {2, 4});
              }),
              HasSubstr("expand: the size 3 of dim 1 (tensor shape [2, 3]) must match the "
                        "target size 4 (target shape [2, 4])"));
  EXPECT_THAT(ErrorMessage([&] { expand(m, {3}); }),
              HasSubstr("expand: 1 sizes given ([3]) for a 2-d tensor"));
  EXPECT_THAT(ErrorMessage([&] {
                expand(m, {-1, 2, 3});
              }),
              HasSubstr("expand: size -1 at dim 0 of [-1, 2, 3] names a new leading dim"));
  EXPECT_THAT(ErrorMessage([&] { expand(Meta({1}), {-2}); }),
              HasSubstr("expand: negative size -2 at dim 0 of [-2]"));
  EXPECT_THAT(ErrorMessage([&] { expand(Meta({}), {-1}); }), HasSubstr("expand: size -1 at dim 0"));
}

TEST(ViewsTest, ViewsWhoseElementCountOverflowsAreErrors) {
  const Tensor b = AllocateTensor({1, 1}, DType::kFloat32, Device::CPU());
  EXPECT_THAT(ErrorMessage([&] { expand(b, {int64_t{1} << 40, int64_t{1} << 40}); }),
              HasSubstr("expand: a tensor of shape [1099511627776, 1099511627776]"));
  // An expanded view of 2^60 elements has no bytes of its own and is fine.
  EXPECT_EQ(expand(b, {int64_t{1} << 30, int64_t{1} << 30}).numel(), int64_t{1} << 60);
  EXPECT_THAT(ErrorMessage([&] { view(b, {int64_t{1} << 32, int64_t{1} << 32}); }),
              HasSubstr("elements"));
}

TEST(ViewsTest, PermuteNeedsAPermutation) {
  const Tensor t = Meta({2, 3, 4});
  EXPECT_THAT(ErrorMessage([&] {
                permute(t, {0, 1});
              }),
              HasSubstr("permute: dims [0, 1] name 2 dims, but the tensor has 3"));
  EXPECT_THAT(ErrorMessage([&] {
                permute(t, {0, 2, -1});
              }),
              HasSubstr("permute: dim 2 appears twice in [0, 2, -1]"));
}

TEST(ViewsTest, UndefinedInputsAreErrors) {
  EXPECT_THAT(ErrorMessage([] { reshape(Tensor(), {1}); }), HasSubstr("reshape: input 0"));
  EXPECT_THAT(ErrorMessage([] { flatten(Tensor()); }), HasSubstr("flatten: input 0"));
  EXPECT_THAT(ErrorMessage([] { contiguous(Tensor()); }), HasSubstr("contiguous: input 0"));
  EXPECT_THAT(ErrorMessage([] { narrow(Tensor(), 0, 0, 0); }), HasSubstr("narrow: input 0"));
  EXPECT_THAT(ErrorMessage([] { clone(Tensor()); }), HasSubstr("clone: input 0"));
}

// Property tests: random chains of views over random (often non-contiguous) layouts,
// against a reference that maps each view element to its base element by index
// arithmetic alone.

// A view as the reference sees it: its shape and, for each element in row-major order,
// the storage offset it reads.
struct Reference {
  Shape sizes;
  std::vector<int64_t> offsets;
};

Shape Unravel(int64_t i, const Shape& sizes) {
  Shape index(sizes.size());
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    index[d] = i % sizes[d];
    i /= sizes[d];
  }
  return index;
}

int64_t Ravel(const Shape& index, const Shape& sizes) {
  int64_t i = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    EXPECT_TRUE(index[d] >= 0 && index[d] < sizes[d]) << "reference bug";
    i = i * sizes[d] + index[d];
  }
  return i;
}

// The reference of a view of `parent` with `sizes`, whose element at index i is the
// parent's element at parent_index(i).
Reference Derive(const Reference& parent, Shape sizes,
                 const std::function<Shape(Shape)>& parent_index) {
  Reference child{std::move(sizes), {}};
  const int64_t n = NumElements(child.sizes);
  for (int64_t i = 0; i < n; ++i) {
    child.offsets.push_back(
        parent.offsets[Ravel(parent_index(Unravel(i, child.sizes)), parent.sizes)]);
  }
  return child;
}

// Whether some strides lay `sizes` over `offsets` (brute force): PyTorch's view
// succeeds exactly then.
bool Viewable(const Shape& sizes, const std::vector<int64_t>& offsets) {
  if (offsets.empty()) return true;
  const Shape unit = ContiguousStrides(sizes);
  Shape strides(sizes.size(), 0);
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] > 1) strides[d] = offsets[unit[d]] - offsets[0];
  }
  for (size_t i = 0; i < offsets.size(); ++i) {
    const Shape index = Unravel(static_cast<int64_t>(i), sizes);
    int64_t offset = offsets[0];
    for (size_t d = 0; d < sizes.size(); ++d) offset += index[d] * strides[d];
    if (offset != offsets[i]) return false;
  }
  return true;
}

// One random view op: how to apply it, its reference, and how it reads in a trace.
struct ViewStep {
  std::string description;
  std::function<Tensor(const Tensor&)> apply;
  Reference reference;
  bool may_copy = false;   // reshape and flatten copy when no strides express the view
  bool must_fail = false;  // view with incompatible strides
};

class RandomViews {
 public:
  explicit RandomViews(uint64_t seed) : rng_(seed) {}

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  // A dim of an `ndim`-d tensor, sometimes spelled negatively.
  int64_t Dim(int64_t ndim) {
    const int64_t d = Uniform(0, ndim - 1);
    return Uniform(0, 1) ? d : d - ndim;
  }

  // A layout over a storage of `*storage_numel` elements: random sizes, dims in random
  // memory order, gaps between them, and an offset.
  TensorLayout Layout(int64_t* storage_numel) {
    TensorLayout layout;
    const int64_t ndim = Uniform(0, 9) == 0 ? 0 : Uniform(1, 4);
    for (int64_t d = 0; d < ndim; ++d) layout.sizes.push_back(Uniform(1, 5));
    if (ndim > 0 && Uniform(0, 15) == 0) layout.sizes[Uniform(0, ndim - 1)] = 0;
    std::vector<int64_t> order(ndim);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    layout.strides.assign(ndim, 0);
    int64_t stride = Uniform(1, 2);
    for (int64_t k = ndim - 1; k >= 0; --k) {
      layout.strides[order[k]] = stride;
      stride *= std::max<int64_t>(layout.sizes[order[k]], 1) + Uniform(0, 1);
    }
    layout.storage_offset = Uniform(0, 3);
    int64_t last = layout.storage_offset;
    for (int64_t d = 0; d < ndim; ++d)
      last += std::max<int64_t>(layout.sizes[d] - 1, 0) * layout.strides[d];
    *storage_numel = last + 1 + Uniform(0, 2);
    return layout;
  }

  // A shape of `numel` elements, sometimes with one size spelled -1.
  Shape ShapeOf(int64_t numel) {
    Shape sizes;
    if (numel == 0) {
      const int64_t ndim = Uniform(1, 3);
      for (int64_t d = 0; d < ndim; ++d) sizes.push_back(Uniform(0, 3));
      sizes[Uniform(0, ndim - 1)] = 0;
      return sizes;
    }
    const int64_t ndim = Uniform(numel == 1 ? 0 : 1, 4);
    int64_t rest = numel;
    for (int64_t d = 0; d + 1 < ndim; ++d) {
      std::vector<int64_t> divisors;
      for (int64_t k = 1; k <= rest; ++k) {
        if (rest % k == 0) divisors.push_back(k);
      }
      sizes.push_back(divisors[Uniform(0, divisors.size() - 1)]);
      rest /= sizes.back();
    }
    if (ndim > 0) sizes.push_back(rest);
    std::shuffle(sizes.begin(), sizes.end(), rng_);
    if (ndim > 0 && Uniform(0, 2) == 0) sizes[Uniform(0, ndim - 1)] = -1;
    return sizes;
  }

  // A random view op valid for `parent`'s shape.
  ViewStep Step(const Reference& parent) {
    const Shape& sizes = parent.sizes;
    const int64_t ndim = static_cast<int64_t>(sizes.size());
    const int64_t numel = NumElements(sizes);
    while (true) {
      switch (Uniform(0, 13)) {
        case 0:
        case 1:
        case 2: {  // view, reshape, flatten
          const int kind = Uniform(0, 2);
          Shape requested = kind == 2 ? Shape{} : ShapeOf(numel);
          int64_t start = 0, end = 0;
          if (kind == 2) {
            if (ndim == 0) {
              requested = {1};
            } else {
              start = Uniform(0, ndim - 1);
              end = Uniform(start, ndim - 1);
              requested.assign(sizes.begin(), sizes.begin() + start);
              requested.push_back(1);
              for (int64_t d = start; d <= end; ++d) requested.back() *= sizes[d];
              requested.insert(requested.end(), sizes.begin() + end + 1, sizes.end());
              if (Uniform(0, 1)) start -= ndim;
              if (Uniform(0, 1)) end -= ndim;
            }
          }
          Shape inferred = requested;
          int64_t known = 1;
          for (int64_t s : requested) known *= s == -1 ? 1 : s;
          for (int64_t& s : inferred) {
            if (s == -1) s = numel / known;
          }
          ViewStep step{absl::StrCat(kind == 0   ? "view"
                                     : kind == 1 ? "reshape"
                                                 : "flatten",
                                     " ", ShapeToString(requested)),
                        nullptr, Reference{inferred, parent.offsets}};
          step.may_copy = kind != 0;
          step.must_fail = kind == 0 && !Viewable(inferred, parent.offsets);
          if (kind == 0) {
            step.apply = [requested](const Tensor& x) { return view(x, requested); };
          } else if (kind == 1) {
            step.apply = [requested](const Tensor& x) { return reshape(x, requested); };
          } else {
            absl::StrAppend(&step.description, " from flatten(", start, ", ", end, ")");
            step.apply = [start, end](const Tensor& x) { return flatten(x, start, end); };
          }
          return step;
        }
        case 3: {  // narrow
          if (ndim == 0) break;
          const int64_t dim = Dim(ndim);
          const int64_t size = sizes[dim < 0 ? dim + ndim : dim];
          // Mostly non-empty ranges; sometimes any valid one.
          const bool nonempty = size > 0 && Uniform(0, 7) != 0;
          const int64_t begin = nonempty ? Uniform(0, size - 1) : Uniform(0, size);
          const int64_t length = Uniform(nonempty ? 1 : 0, size - begin);
          const int64_t start = Uniform(0, 1) ? begin : begin - size;
          Shape child = sizes;
          child[dim < 0 ? dim + ndim : dim] = length;
          return ViewStep{absl::StrCat("narrow(", dim, ", ", start, ", ", length, ")"),
                          [=](const Tensor& x) { return narrow(x, dim, start, length); },
                          Derive(parent, child, [=](Shape index) {
                            index[dim < 0 ? dim + ndim : dim] += begin;
                            return index;
                          })};
        }
        case 4: {  // slice
          if (ndim == 0) break;
          const int64_t dim = Dim(ndim);
          const int64_t d = dim < 0 ? dim + ndim : dim;
          const int64_t size = sizes[d];
          const int64_t step = Uniform(1, 3);
          // Mostly a non-empty range spelled either way; sometimes any bounds at all.
          int64_t start = Uniform(-size - 2, size + 2);
          int64_t end = Uniform(-size - 2, size + 2);
          if (size > 0 && Uniform(0, 3) != 0) {
            start = Uniform(0, size - 1);
            end = Uniform(start + 1, size + 2);
            if (Uniform(0, 1)) start -= size;
            if (end <= size && Uniform(0, 1)) end -= size;
          }
          // The indices Python's range(size)[start:end:step] picks.
          std::vector<int64_t> picked;
          const int64_t first = std::clamp<int64_t>(start < 0 ? start + size : start, 0, size);
          const int64_t last = std::clamp<int64_t>(end < 0 ? end + size : end, 0, size);
          for (int64_t i = first; i < last; i += step) picked.push_back(i);
          Shape child = sizes;
          child[d] = static_cast<int64_t>(picked.size());
          return ViewStep{absl::StrCat("slice(", dim, ", ", start, ", ", end, ", ", step, ")"),
                          [=](const Tensor& x) { return slice(x, dim, start, end, step); },
                          Derive(parent, child, [=](Shape index) {
                            index[d] = picked[index[d]];
                            return index;
                          })};
        }
        case 5: {  // select
          if (ndim == 0) break;
          const int64_t dim = Dim(ndim);
          const int64_t d = dim < 0 ? dim + ndim : dim;
          if (sizes[d] == 0) break;
          const int64_t index_in_dim = Uniform(-sizes[d], sizes[d] - 1);
          Shape child = sizes;
          child.erase(child.begin() + d);
          return ViewStep{absl::StrCat("select(", dim, ", ", index_in_dim, ")"),
                          [=](const Tensor& x) { return select(x, dim, index_in_dim); },
                          Derive(parent, child, [=](Shape index) {
                            index.insert(index.begin() + d,
                                         index_in_dim < 0 ? index_in_dim + sizes[d] : index_in_dim);
                            return index;
                          })};
        }
        case 6: {  // transpose
          if (ndim == 0) break;
          const int64_t dim0 = Dim(ndim), dim1 = Dim(ndim);
          const int64_t d0 = dim0 < 0 ? dim0 + ndim : dim0;
          const int64_t d1 = dim1 < 0 ? dim1 + ndim : dim1;
          Shape child = sizes;
          std::swap(child[d0], child[d1]);
          return ViewStep{absl::StrCat("transpose(", dim0, ", ", dim1, ")"),
                          [=](const Tensor& x) { return transpose(x, dim0, dim1); },
                          Derive(parent, child, [=](Shape index) {
                            std::swap(index[d0], index[d1]);
                            return index;
                          })};
        }
        case 7: {  // permute
          Shape dims(ndim);
          std::iota(dims.begin(), dims.end(), 0);
          std::shuffle(dims.begin(), dims.end(), rng_);
          Shape child(ndim);
          for (int64_t i = 0; i < ndim; ++i) child[i] = sizes[dims[i]];
          Shape spelled = dims;
          for (int64_t& d : spelled) d -= Uniform(0, 1) * ndim;
          return ViewStep{absl::StrCat("permute(", ShapeToString(spelled), ")"),
                          [=](const Tensor& x) { return permute(x, spelled); },
                          Derive(parent, child, [=](Shape index) {
                            Shape parent_index(ndim);
                            for (int64_t i = 0; i < ndim; ++i) parent_index[dims[i]] = index[i];
                            return parent_index;
                          })};
        }
        case 8: {  // unsqueeze
          if (ndim >= 6) break;
          const int64_t dim = Dim(ndim + 1);
          const int64_t d = dim < 0 ? dim + ndim + 1 : dim;
          Shape child = sizes;
          child.insert(child.begin() + d, 1);
          return ViewStep{absl::StrCat("unsqueeze(", dim, ")"),
                          [=](const Tensor& x) { return unsqueeze(x, dim); },
                          Derive(parent, child, [=](Shape index) {
                            index.erase(index.begin() + d);
                            return index;
                          })};
        }
        case 9: {  // squeeze, all or one dim
          if (Uniform(0, 1) == 0) {
            Shape child;
            for (int64_t s : sizes) {
              if (s != 1) child.push_back(s);
            }
            return ViewStep{"squeeze()", [](const Tensor& x) { return squeeze(x); },
                            Derive(parent, child, [=](Shape index) {
                              Shape parent_index;
                              size_t k = 0;
                              for (int64_t s : sizes) {
                                parent_index.push_back(s == 1 ? 0 : index[k++]);
                              }
                              return parent_index;
                            })};
          }
          const int64_t dim = Dim(std::max<int64_t>(ndim, 1));
          const int64_t d = dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
          const bool removes = ndim > 0 && sizes[d] == 1;
          Shape child = sizes;
          if (removes) child.erase(child.begin() + d);
          return ViewStep{absl::StrCat("squeeze(", dim, ")"),
                          [=](const Tensor& x) { return squeeze(x, dim); },
                          Derive(parent, child, [=](Shape index) {
                            if (removes) index.insert(index.begin() + d, 0);
                            return index;
                          })};
        }
        case 10: {  // expand
          const int64_t lead = ndim >= 5 ? 0 : Uniform(0, 2);
          Shape requested, child;
          for (int64_t i = 0; i < lead; ++i) requested.push_back(Uniform(1, 3));
          for (int64_t s : sizes) {
            const int64_t target = s == 1 ? Uniform(1, 3) : s;
            requested.push_back(Uniform(0, 3) == 0 ? -1 : target);
            child.push_back(requested.back() == -1 ? s : target);
          }
          child.insert(child.begin(), requested.begin(), requested.begin() + lead);
          if (NumElements(child) > 2000) break;
          return ViewStep{absl::StrCat("expand(", ShapeToString(requested), ")"),
                          [=](const Tensor& x) { return expand(x, requested); },
                          Derive(parent, child, [=](Shape index) {
                            Shape parent_index(index.begin() + lead, index.end());
                            for (int64_t d = 0; d < ndim; ++d) {
                              if (sizes[d] == 1) parent_index[d] = 0;
                            }
                            return parent_index;
                          })};
        }
        case 11: {  // diagonal
          if (ndim < 2) break;
          const int64_t dim1 = Dim(ndim), dim2 = Dim(ndim);
          const int64_t d1 = dim1 < 0 ? dim1 + ndim : dim1;
          const int64_t d2 = dim2 < 0 ? dim2 + ndim : dim2;
          if (d1 == d2) break;
          // Mostly a non-empty diagonal; sometimes one past either corner.
          const int64_t offset = Uniform(0, 3) == 0 ? Uniform(-sizes[d1] - 1, sizes[d2] + 1)
                                                    : Uniform(-std::max<int64_t>(sizes[d1] - 1, 0),
                                                              std::max<int64_t>(sizes[d2] - 1, 0));
          const int64_t row0 = std::max<int64_t>(-offset, 0);
          const int64_t col0 = std::max<int64_t>(offset, 0);
          int64_t length = 0;
          while (row0 + length < sizes[d1] && col0 + length < sizes[d2]) ++length;
          Shape child;
          for (int64_t d = 0; d < ndim; ++d) {
            if (d != d1 && d != d2) child.push_back(sizes[d]);
          }
          child.push_back(length);
          return ViewStep{absl::StrCat("diagonal(", offset, ", ", dim1, ", ", dim2, ")"),
                          [=](const Tensor& x) { return diagonal(x, offset, dim1, dim2); },
                          Derive(parent, child, [=](Shape index) {
                            Shape parent_index(ndim);
                            size_t k = 0;
                            for (int64_t d = 0; d < ndim; ++d) {
                              if (d != d1 && d != d2) parent_index[d] = index[k++];
                            }
                            parent_index[d1] = row0 + index.back();
                            parent_index[d2] = col0 + index.back();
                            return parent_index;
                          })};
        }
        default: {  // t
          if (ndim > 2) break;
          Shape child = sizes;
          std::reverse(child.begin(), child.end());
          return ViewStep{"t()", [](const Tensor& x) { return deferred::t(x); },
                          Derive(parent, child, [](Shape index) {
                            std::reverse(index.begin(), index.end());
                            return index;
                          })};
        }
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

Reference ReferenceOf(const TensorLayout& layout) {
  Reference reference{layout.sizes, {}};
  const int64_t n = NumElements(layout.sizes);
  for (int64_t i = 0; i < n; ++i) {
    const Shape index = Unravel(i, layout.sizes);
    int64_t offset = layout.storage_offset;
    for (size_t d = 0; d < index.size(); ++d) offset += index[d] * layout.strides[d];
    reference.offsets.push_back(offset);
  }
  return reference;
}

bool HasDuplicates(std::vector<int64_t> offsets) {
  std::sort(offsets.begin(), offsets.end());
  return std::adjacent_find(offsets.begin(), offsets.end()) != offsets.end();
}

// Writes through `v` with a random in-place op and checks that exactly the storage
// elements of the reference changed, as the reference says. `storage` is the whole
// storage as a 1-d tensor, holding 0, 1, ... before the write.
void ExpectWriteChangesExactlyTheFootprint(RandomViews& random, const Tensor& storage,
                                           const Tensor& v, const Reference& reference) {
  std::vector<int64_t> expected(storage.numel());
  std::iota(expected.begin(), expected.end(), 0);
  // Several writes to one element (an expanded view) agree only when they write one value.
  const int kind = HasDuplicates(reference.offsets) ? 0 : static_cast<int>(random.Uniform(0, 2));
  if (kind == 0) {
    fill_(v, -7);
    for (int64_t o : reference.offsets) expected[o] = -7;
  } else if (kind == 1) {
    add_(v, 1000);
    for (int64_t o : reference.offsets) expected[o] += 1000;
  } else {
    std::vector<int64_t> values(reference.offsets.size());
    std::iota(values.begin(), values.end(), 5000);
    copy_(v, from_data<int64_t>(absl::MakeConstSpan(values), v.sizes()));
    for (size_t i = 0; i < values.size(); ++i) expected[reference.offsets[i]] = values[i];
  }
  SCOPED_TRACE(absl::StrCat("write kind ", kind));
  EXPECT_EQ(storage.to_vector<int64_t>(), expected);
}

TEST(ViewsPropertyTest, RandomViewChainsMatchReferenceIndexMapping) {
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    RandomViews random(seed);
    int64_t storage_numel = 0;
    const TensorLayout layout = random.Layout(&storage_numel);
    const Tensor storage = arange(storage_numel);
    const Tensor meta_storage = Meta({storage_numel});
    Tensor cpu = MakeView(storage, layout);
    Tensor meta = MakeView(meta_storage, layout);
    Reference reference = ReferenceOf(layout);
    std::vector<std::string> applied = {absl::StrCat("base ", ShapeToString(layout.sizes),
                                                     " strides ", ShapeToString(layout.strides),
                                                     " offset ", layout.storage_offset)};
    bool copied = false;
    const int64_t length = random.Uniform(1, 6);
    for (int64_t k = 0; k < length && !copied; ++k) {
      ViewStep step = random.Step(reference);
      applied.push_back(step.description);
      SCOPED_TRACE(absl::StrJoin(applied, " -> "));
      if (step.must_fail) {
        EXPECT_THAT(ErrorMessage([&] { step.apply(cpu); }), HasSubstr("use reshape instead"));
        EXPECT_THAT(ErrorMessage([&] { step.apply(meta); }), HasSubstr("use reshape instead"));
        continue;
      }
      const Tensor next = step.apply(cpu);
      const Tensor next_meta = step.apply(meta);
      ASSERT_EQ(next.sizes(), step.reference.sizes);
      EXPECT_EQ(next.to_vector<int64_t>(), step.reference.offsets);
      EXPECT_EQ(next_meta.layout().sizes, next.layout().sizes);
      EXPECT_EQ(next_meta.layout().strides, next.layout().strides);
      EXPECT_EQ(next_meta.storage_offset(), next.storage_offset());
      EXPECT_TRUE(next_meta.is_meta());
      const bool viewable = Viewable(step.reference.sizes, step.reference.offsets);
      if (step.may_copy && !viewable) {
        EXPECT_FALSE(SharesStorage(next, storage));
        EXPECT_FALSE(SharesStorage(next_meta, meta_storage));
        EXPECT_TRUE(next.is_contiguous());
        copied = true;
      } else {
        EXPECT_TRUE(SharesStorage(next, storage));
        EXPECT_TRUE(SharesStorage(next_meta, meta_storage));
      }
      cpu = next;
      meta = next_meta;
      reference = std::move(step.reference);
    }
    if (!copied) {
      SCOPED_TRACE(absl::StrJoin(applied, " -> "));
      ExpectWriteChangesExactlyTheFootprint(random, storage, cpu, reference);
    }
  }
}

TEST(ViewsPropertyTest, ContiguousAndCloneOfRandomViewsCopyTheValues) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    RandomViews random(seed);
    int64_t storage_numel = 0;
    const TensorLayout layout = random.Layout(&storage_numel);
    const Tensor storage = arange(storage_numel);
    const Tensor v = MakeView(storage, layout);
    const Reference reference = ReferenceOf(layout);
    const Tensor copy = clone(v);
    EXPECT_FALSE(SharesStorage(copy, storage));
    EXPECT_EQ(copy.layout().strides, ContiguousStrides(layout.sizes));
    EXPECT_EQ(copy.to_vector<int64_t>(), reference.offsets);
    const Tensor made_contiguous = contiguous(v);
    EXPECT_TRUE(made_contiguous.is_contiguous());
    EXPECT_EQ(made_contiguous.is_same(v), v.is_contiguous());
    EXPECT_EQ(made_contiguous.to_vector<int64_t>(), reference.offsets);
  }
}

}  // namespace
}  // namespace deferred
