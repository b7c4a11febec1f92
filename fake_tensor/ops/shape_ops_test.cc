#include "fake_tensor/ops/shape_ops.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "absl/types/span.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/views.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/kernels/parallel.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

constexpr DType kNumericDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                    DType::kBFloat16, DType::kInt64,  DType::kInt32,
                                    DType::kUInt8};

Tensor Meta(const Shape& sizes, DType dtype = DType::kFloat32) {
  return AllocateTensor(sizes, dtype, Device::Meta());
}

template <typename T>
double ToDouble(T v) {
  return static_cast<double>(static_cast<typename OpMathOf<T>::type>(v));
}

// A random value of T: floats in [-4, 4); integers over their whole range half the time
// (so that arithmetic wraps), small otherwise.
template <typename T>
T RandomValue(std::mt19937_64& rng) {
  if constexpr (std::is_same_v<T, bool>) {
    return rng() % 2 == 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (rng() % 2 == 0) return static_cast<T>(rng());
    return static_cast<T>(static_cast<int64_t>(rng() % 19) - 9);
  } else {
    return CastElement<T>(std::uniform_real_distribution<double>(-4, 4)(rng));
  }
}

// A CPU tensor of `sizes` with random values. Two times in three it is a view into a
// larger storage: its dims laid out in a random order (a transposed layout), with gaps
// between them and a storage offset; otherwise it is contiguous.
Tensor RandomTensor(std::mt19937_64& rng, const Shape& sizes, DType dtype) {
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const bool contiguous = rng() % 3 == 0;
  std::vector<int64_t> inner_to_outer(ndim);
  std::iota(inner_to_outer.rbegin(), inner_to_outer.rend(), 0);
  if (!contiguous) std::shuffle(inner_to_outer.begin(), inner_to_outer.end(), rng);
  Shape strides(ndim);
  int64_t stride = contiguous ? 1 : 1 + static_cast<int64_t>(rng() % 2);
  int64_t reach = 0;
  for (int64_t d : inner_to_outer) {
    strides[d] = stride;
    reach += stride * std::max<int64_t>(sizes[d] - 1, 0);
    stride = stride * std::max<int64_t>(sizes[d], 1) + (contiguous ? 0 : rng() % 3);
  }
  const int64_t offset = contiguous ? 0 : static_cast<int64_t>(rng() % 4);
  const Tensor base = AllocateTensor({offset + reach + 1}, dtype, Device::CPU());
  VisitDType(dtype, [&]<typename T>() {
    T* data = base.data_ptr<T>();
    for (int64_t i = 0; i < base.numel(); ++i) data[i] = RandomValue<T>(rng);
  });
  return MakeView(base, TensorLayout{sizes, strides, offset});
}

Shape RandomShape(std::mt19937_64& rng, int64_t ndim, int64_t max_size) {
  Shape sizes(ndim);
  for (int64_t& s : sizes) s = static_cast<int64_t>(rng() % (max_size + 1));
  return sizes;
}

DType RandomDType(std::mt19937_64& rng, bool with_bool) {
  if (with_bool && rng() % 8 == 0) return DType::kBool;
  return kNumericDTypes[rng() % std::size(kNumericDTypes)];
}

// t's elements in row-major order, each cast to T.
template <typename T>
std::vector<T> ValuesAs(const Tensor& t) {
  std::vector<T> out;
  VisitDType(t.dtype(), [&]<typename From>() {
    for (From v : t.to_vector<From>()) out.push_back(CastElement<T>(v));
  });
  return out;
}

// The row-major coordinates of element `flat` of `sizes`.
Shape Unravel(int64_t flat, const Shape& sizes) {
  Shape index(sizes.size());
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    index[d] = flat % sizes[d];
    flat /= sizes[d];
  }
  return index;
}

// The row-major number of `index` in `sizes`.
int64_t Ravel(const Shape& index, const Shape& sizes) {
  int64_t flat = 0;
  for (size_t d = 0; d < sizes.size(); ++d) flat = flat * sizes[d] + index[d];
  return flat;
}

// Expects `actual` to hold `expected` (row-major) bit for bit.
template <typename T>
void ExpectSameBits(const Tensor& actual, const std::vector<T>& expected) {
  ASSERT_EQ(actual.dtype(), DTypeOf<T>());
  const std::vector<T> values = actual.to_vector<T>();
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const T got = values[i], want = expected[i];  // copies: vector<bool> has no addresses
    if (std::memcmp(&got, &want, sizeof(T)) != 0) {
      ADD_FAILURE() << "element " << i << " of " << actual.ToString() << ": " << ToDouble(got)
                    << ", expected " << ToDouble(want);
      return;
    }
  }
}

// Expects a and b to have the same shape, dtype and bits.
void ExpectSameTensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  VisitDType(a.dtype(), [&]<typename T>() { ExpectSameBits<T>(b, a.to_vector<T>()); });
}

// Runs op `name`'s CPU kernel directly into `out`, a random strided view over a larger
// storage (as replay may hand a kernel), and expects the values the dispatcher's own
// contiguous output holds, with the storage around the view left as it was.
void ExpectKernelWritesThroughStrides(std::mt19937_64& rng, const std::string& name,
                                      const std::vector<Tensor>& inputs, const Attrs& attrs) {
  const Tensor expected = DispatchOne(name, inputs, attrs);
  const Tensor out = RandomTensor(rng, expected.sizes(), expected.dtype());
  const int64_t element = ElementSize(out.dtype());
  const std::byte* bytes = out.storage()->data();
  const std::vector<std::byte> before(bytes, bytes + out.storage()->nbytes());
  std::vector<bool> in_view(before.size() / element, false);
  out.ForEachElementOffset(
      [&](int64_t offset) { in_view[out.storage_offset() + offset] = true; });
  OpCall call{&OpRegistry::Global().Get(name), inputs, attrs};
  call.def->kernel(DeviceType::kCPU)(KernelContext{}, call, {out});
  ExpectSameTensor(expected, out);
  for (size_t e = 0; e < in_view.size(); ++e) {
    if (!in_view[e]) {
      ASSERT_EQ(std::memcmp(bytes + e * element, before.data() + e * element, element), 0)
          << "element " << e << " of the storage, outside the output view, was written";
    }
  }
}

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

TEST(ShapeOpsTest, OpsAreRegisteredWithCpuKernels) {
  for (const char* name : {"cat", "stack", "repeat", "tril", "triu", "outer", "matmul"}) {
    const OpDef& def = OpRegistry::Global().Get(name);
    EXPECT_EQ(def.kind, OpKind::kFunctional) << name;
    EXPECT_TRUE(static_cast<bool>(def.kernel(DeviceType::kCPU))) << name;
  }
  for (const char* name : {"tril_", "triu_"}) {
    EXPECT_EQ(OpRegistry::Global().Get(name).kind, OpKind::kInPlace) << name;
    EXPECT_TRUE(static_cast<bool>(OpRegistry::Global().Get(name).kernel(DeviceType::kCPU)));
  }
}

// ---- cat and stack

TEST(ShapeOpsTest, CatMatchesReferenceOnRandomLayoutsAndDTypes) {
  for (uint64_t seed = 0; seed < 150; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = 1 + static_cast<int64_t>(rng() % 4);
    const int64_t dim = static_cast<int64_t>(rng() % ndim);
    const Shape common = RandomShape(rng, ndim, 4);
    std::vector<Tensor> inputs(1 + rng() % 4);
    DType dtype = DType::kBool;
    for (Tensor& input : inputs) {
      Shape sizes = common;
      sizes[dim] = static_cast<int64_t>(rng() % 4);
      input = RandomTensor(rng, sizes, RandomDType(rng, true));
      dtype = PromoteTypes(dtype, input.dtype());
    }
    const int64_t wrapped = rng() % 2 == 0 ? dim : dim - ndim;
    const Tensor out = cat(inputs, wrapped);
    Shape sizes = common;
    sizes[dim] = 0;
    for (const Tensor& input : inputs) sizes[dim] += input.size(dim);
    ASSERT_EQ(out.sizes(), sizes);
    ASSERT_EQ(out.dtype(), dtype);
    ASSERT_TRUE(out.is_contiguous());
    VisitDType(dtype, [&]<typename T>() {
      std::vector<T> expected(out.numel());
      for (int64_t e = 0; e < out.numel(); ++e) {
        Shape index = Unravel(e, sizes);
        size_t i = 0;
        while (index[dim] >= inputs[i].size(dim)) index[dim] -= inputs[i++].size(dim);
        expected[e] = ValuesAs<T>(inputs[i])[Ravel(index, inputs[i].sizes())];
      }
      ExpectSameBits<T>(out, expected);
    });
  }
}

TEST(ShapeOpsTest, CatSkipsOneDimTensorsWithoutElements) {
  const Tensor a = from_data<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor none = from_data<double>({});
  const Tensor out = cat({none, a, none, a}, 0);
  EXPECT_EQ(out.sizes(), (Shape{4, 3}));
  EXPECT_EQ(out.dtype(), DType::kFloat64);  // the skipped tensor still promotes
  EXPECT_EQ(out.to_vector<double>(),
            (std::vector<double>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(cat({none, none}).sizes(), (Shape{0}));
  EXPECT_EQ(cat({Meta({0}), Meta({2, 0, 3}), Meta({2, 4, 3})}, 1).sizes(), (Shape{2, 4, 3}));
}

TEST(ShapeOpsTest, CatShapeRulesOnMetaTensors) {
  const Tensor out = cat({Meta({2, 3}), Meta({2, 5}, DType::kInt64)}, -1);
  EXPECT_TRUE(out.is_meta());
  EXPECT_EQ(out.sizes(), (Shape{2, 8}));
  EXPECT_EQ(out.dtype(), DType::kFloat32);
  EXPECT_EQ(cat({Meta({1, 2}, DType::kFloat16), Meta({3, 2}, DType::kBFloat16)}).dtype(),
            DType::kFloat32);
}

TEST(ShapeOpsTest, CatMisuseIsAnErrorNamingTheInput) {
  EXPECT_THAT(ErrorMessage([] { cat({}); }), HasSubstr("cat: expected at least one tensor input"));
  EXPECT_THAT(ErrorMessage([] { cat({Meta({2}), Meta({})}); }),
              HasSubstr("cat: input 1 is 0-d"));
  EXPECT_THAT(ErrorMessage([] { cat({Meta({2, 3}), Meta({2, 3}), Meta({2, 4, 1})}); }),
              HasSubstr("cat: input 2 has shape [2, 4, 1] with 3 dims, but input 0 has "
                        "shape [2, 3] with 2"));
  EXPECT_THAT(ErrorMessage([] { cat({Meta({2, 3}), Meta({5, 4})}, 0); }),
              HasSubstr("cat: input 1 has shape [5, 4], but input 0 has shape [2, 3]: sizes "
                        "must match except in dim 0 (they differ in dim 1)"));
  EXPECT_THAT(ErrorMessage([] { cat({Meta({2, 3}), Meta({2, 3})}, 2); }),
              HasSubstr("cat: dim 2 is out of range"));
  EXPECT_THAT(ErrorMessage([] { cat({Meta({2}), AllocateTensor({2}, DType::kFloat32,
                                                               Device::CPU())}); }),
              HasSubstr("different devices"));
}

TEST(ShapeOpsTest, StackMatchesReference) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 4);
    const Shape sizes = RandomShape(rng, ndim, 4);
    const int64_t dim = static_cast<int64_t>(rng() % (ndim + 1));
    std::vector<Tensor> inputs(1 + rng() % 4);
    DType dtype = DType::kBool;
    for (Tensor& input : inputs) {
      input = RandomTensor(rng, sizes, RandomDType(rng, true));
      dtype = PromoteTypes(dtype, input.dtype());
    }
    const Tensor out = stack(inputs, rng() % 2 == 0 ? dim : dim - ndim - 1);
    Shape out_sizes = sizes;
    out_sizes.insert(out_sizes.begin() + dim, static_cast<int64_t>(inputs.size()));
    ASSERT_EQ(out.sizes(), out_sizes);
    ASSERT_EQ(out.dtype(), dtype);
    VisitDType(dtype, [&]<typename T>() {
      std::vector<T> expected(out.numel());
      for (int64_t e = 0; e < out.numel(); ++e) {
        Shape index = Unravel(e, out_sizes);
        const int64_t i = index[dim];
        index.erase(index.begin() + dim);
        expected[e] = ValuesAs<T>(inputs[i])[Ravel(index, sizes)];
      }
      ExpectSameBits<T>(out, expected);
    });
  }
}

TEST(ShapeOpsTest, StackMisuseIsAnError) {
  EXPECT_THAT(ErrorMessage([] { stack({}); }),
              HasSubstr("stack: expected at least one tensor input"));
  EXPECT_THAT(ErrorMessage([] { stack({Meta({2, 3}), Meta({2, 3}), Meta({3, 2})}); }),
              HasSubstr("stack: input 2 has shape [3, 2], but input 0 has shape [2, 3]"));
  EXPECT_THAT(ErrorMessage([] { stack({Meta({2, 3})}, 3); }),
              HasSubstr("stack: dim 3 is out of range"));
  EXPECT_EQ(stack({Meta({2, 3}), Meta({2, 3})}, -1).sizes(), (Shape{2, 3, 2}));
  EXPECT_EQ(stack({Meta({})}).sizes(), (Shape{1}));
}

// ---- repeat

TEST(ShapeOpsTest, RepeatMatchesReferenceWithLeadingNewDims) {
  for (uint64_t seed = 0; seed < 150; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 4);
    const Tensor input = RandomTensor(rng, RandomShape(rng, ndim, 3), RandomDType(rng, true));
    const Shape repeats = RandomShape(rng, ndim + static_cast<int64_t>(rng() % 3), 3);
    const Tensor out = repeat(input, repeats);
    const int64_t lead = static_cast<int64_t>(repeats.size()) - ndim;
    Shape sizes(repeats.size());
    for (size_t d = 0; d < sizes.size(); ++d) {
      sizes[d] = repeats[d] * (static_cast<int64_t>(d) < lead ? 1 : input.size(d - lead));
    }
    ASSERT_EQ(out.sizes(), sizes);
    VisitDType(input.dtype(), [&]<typename T>() {
      const std::vector<T> values = input.to_vector<T>();
      std::vector<T> expected(out.numel());
      for (int64_t e = 0; e < out.numel(); ++e) {
        const Shape index = Unravel(e, sizes);
        const Shape source(index.begin() + lead, index.end());
        Shape wrapped(ndim);
        for (int64_t d = 0; d < ndim; ++d) wrapped[d] = source[d] % input.size(d);
        expected[e] = values[Ravel(wrapped, input.sizes())];
      }
      ExpectSameBits<T>(out, expected);
    });
  }
}

TEST(ShapeOpsTest, RepeatKnownValuesAndMisuse) {
  const Tensor t = from_data<int64_t>({1, 2});
  EXPECT_EQ(repeat(t, {2, 2}).sizes(), (Shape{2, 4}));
  EXPECT_EQ(repeat(t, {2, 2}).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 1, 2, 1, 2, 1, 2}));
  EXPECT_EQ(repeat(Meta({2, 3}), {2, 0, 1}).sizes(), (Shape{2, 0, 3}));
  EXPECT_THAT(ErrorMessage([] { repeat(Meta({2, 3}), {2}); }),
              HasSubstr("repeat: 1 repeat counts [2] given for a 2-d tensor of shape [2, 3]"));
  EXPECT_THAT(ErrorMessage([] { repeat(Meta({2}), {1, -1}); }),
              HasSubstr("repeat: repeat counts must be non-negative, got [1, -1]"));
}

TEST(ShapeOpsTest, RepeatAndOuterWhoseElementCountOverflowsAreErrors) {
  const int64_t big = int64_t{1} << 31;
  // Each dim fits ([2^32, 2^32]) but the element count wraps to 0 in int64 arithmetic.
  EXPECT_THAT(ErrorMessage([&] { repeat(ones({2, 2}), {big, big}); }),
              HasSubstr("repeat: a tensor of shape [4294967296, 4294967296] and dtype float32 "
                        "would hold more than 2^63 - 1 bytes"));
  EXPECT_THAT(ErrorMessage([&] { repeat(Meta({2, 2}), {big, big}); }), HasSubstr("repeat:"));
  const Tensor a = Meta({int64_t{1} << 32});
  EXPECT_THAT(ErrorMessage([&] { outer(a, a); }), HasSubstr("outer: a tensor of shape"));
  // What fits is accepted: 2^61 bytes of meta tensor.
  EXPECT_EQ(outer(Meta({int64_t{1} << 30}), Meta({int64_t{1} << 29})).numel(), int64_t{1} << 59);
}

// ---- tril / triu

// tril (lower) or triu of `input`, computed element by element.
template <typename T>
std::vector<T> ReferenceTriangle(const Tensor& input, int64_t diagonal, bool lower) {
  std::vector<T> values = input.to_vector<T>();
  for (int64_t e = 0; e < input.numel(); ++e) {
    const Shape index = Unravel(e, input.sizes());
    const int64_t i = index[index.size() - 2], j = index.back();
    if (lower ? j - i > diagonal : j - i < diagonal) values[e] = T{};
  }
  return values;
}

TEST(ShapeOpsTest, TrilAndTriuMatchReference) {
  for (uint64_t seed = 0; seed < 150; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = 2 + static_cast<int64_t>(rng() % 3);
    const Tensor input = RandomTensor(rng, RandomShape(rng, ndim, 5), RandomDType(rng, true));
    const int64_t diagonal = static_cast<int64_t>(rng() % 13) - 6;
    const bool lower = rng() % 2 == 0;
    const Tensor out = lower ? tril(input, diagonal) : triu(input, diagonal);
    ASSERT_EQ(out.sizes(), input.sizes());
    VisitDType(input.dtype(), [&]<typename T>() {
      ExpectSameBits<T>(out, ReferenceTriangle<T>(input, diagonal, lower));
    });
  }
}

TEST(ShapeOpsTest, InPlaceTriangleWritesOnlyThroughTheView) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = 2 + static_cast<int64_t>(rng() % 3);
    const Tensor self = RandomTensor(rng, RandomShape(rng, ndim, 5), RandomDType(rng, true));
    const Tensor storage = MakeView(self, ContiguousLayout({self.storage()->nbytes() /
                                                           ElementSize(self.dtype())}));
    const int64_t diagonal = static_cast<int64_t>(rng() % 9) - 4;
    const bool lower = rng() % 2 == 0;
    VisitDType(self.dtype(), [&]<typename T>() {
      // What the storage should hold afterwards: the view's elements replaced.
      std::vector<T> expected = storage.to_vector<T>();
      const std::vector<T> triangle = ReferenceTriangle<T>(self, diagonal, lower);
      int64_t e = 0;
      self.ForEachElementOffset(
          [&](int64_t offset) { expected[self.storage_offset() + offset] = triangle[e++]; });
      const Tensor result = lower ? tril_(self, diagonal) : triu_(self, diagonal);
      EXPECT_TRUE(result.is_same(self));
      ExpectSameBits<T>(storage, expected);
    });
  }
}

TEST(ShapeOpsTest, TriangleMisuseIsAnError) {
  EXPECT_THAT(ErrorMessage([] { tril(Meta({3})); }),
              HasSubstr("tril: expected a tensor with at least 2 dims, got shape [3]"));
  EXPECT_THAT(ErrorMessage([] { triu_(Meta({})); }),
              HasSubstr("triu_: expected a tensor with at least 2 dims, got shape []"));
  const Tensor row = from_data<float>({1, 2, 3});
  const Tensor expanded = MakeView(row, TensorLayout{{3, 3}, {0, 1}, 0});
  EXPECT_THAT(ErrorMessage([&] { tril_(expanded); }),
              HasSubstr("tril_: the in-place output"));
  EXPECT_EQ(triu(Meta({2, 0, 4}, DType::kBool)).sizes(), (Shape{2, 0, 4}));
  EXPECT_EQ(triu(Meta({2, 0, 4}, DType::kBool)).dtype(), DType::kBool);
}

// ---- outer

TEST(ShapeOpsTest, OuterMatchesReference) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const Tensor a = RandomTensor(rng, RandomShape(rng, 1, 6), RandomDType(rng, true));
    const Tensor b = RandomTensor(rng, RandomShape(rng, 1, 6), RandomDType(rng, true));
    const Tensor out = outer(a, b);
    const DType dtype = PromoteTypes(a.dtype(), b.dtype());
    ASSERT_EQ(out.sizes(), (Shape{a.size(0), b.size(0)}));
    ASSERT_EQ(out.dtype(), dtype);
    VisitDType(dtype, [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      const std::vector<T> x = ValuesAs<T>(a), y = ValuesAs<T>(b);
      std::vector<T> expected;
      for (T u : x) {
        for (T v : y) {
          if constexpr (std::is_same_v<T, bool>) {
            expected.push_back(u && v);
          } else if constexpr (std::is_integral_v<T>) {
            using U = std::make_unsigned_t<T>;
            expected.push_back(static_cast<T>(static_cast<U>(u) * static_cast<U>(v)));
          } else {
            expected.push_back(CastElement<T>(M(u) * M(v)));
          }
        }
      }
      ExpectSameBits<T>(out, expected);
    });
  }
}

TEST(ShapeOpsTest, OuterMisuseIsAnError) {
  EXPECT_THAT(ErrorMessage([] { outer(Meta({2, 1}), Meta({3})); }),
              HasSubstr("outer: expected 1-d inputs, got shapes [2, 1] and [3]"));
}

// ---- matmul

// One random matmul case: operand shapes built from a broadcast batch shape.
struct MatmulCase {
  Shape a_sizes;
  Shape b_sizes;
  Shape out_sizes;
};

MatmulCase RandomMatmulCase(std::mt19937_64& rng, int64_t max_size) {
  const int64_t n = 1 + static_cast<int64_t>(rng() % max_size);
  const int64_t k = static_cast<int64_t>(rng() % (max_size + 1));
  const int64_t m = 1 + static_cast<int64_t>(rng() % max_size);
  const bool a_vector = rng() % 4 == 0;
  const bool b_vector = rng() % 4 == 0;
  const Shape batch = RandomShape(rng, static_cast<int64_t>(rng() % 3), 3);
  // Each operand takes a suffix of the batch dims, with some sizes turned into 1.
  auto operand_batch = [&](bool vector) {
    if (vector) return Shape{};
    Shape own(batch.begin() + rng() % (batch.size() + 1), batch.end());
    for (int64_t& s : own) {
      if (rng() % 3 == 0) s = 1;
    }
    return own;
  };
  MatmulCase c;
  c.a_sizes = operand_batch(a_vector);
  c.b_sizes = operand_batch(b_vector);
  // The broadcast of both operands' batch dims.
  const size_t batch_dims = std::max(c.a_sizes.size(), c.b_sizes.size());
  for (size_t i = 0; i < batch_dims; ++i) {
    const size_t a_lead = batch_dims - c.a_sizes.size(), b_lead = batch_dims - c.b_sizes.size();
    const int64_t sa = i < a_lead ? 1 : c.a_sizes[i - a_lead];
    const int64_t sb = i < b_lead ? 1 : c.b_sizes[i - b_lead];
    c.out_sizes.push_back(sa == 1 ? sb : sa);
  }
  if (a_vector) {
    c.a_sizes = {k};
  } else {
    c.a_sizes.insert(c.a_sizes.end(), {n, k});
    c.out_sizes.push_back(n);
  }
  if (b_vector) {
    c.b_sizes = {k};
  } else {
    c.b_sizes.insert(c.b_sizes.end(), {k, m});
    c.out_sizes.push_back(m);
  }
  return c;
}

// matmul by the naive loop the header specifies: for each output element, acc = acc + a * b
// over p = 0..k-1 from 0 in the op-math type (wrapping for integers), then rounded.
template <typename T>
std::vector<T> NaiveMatmul(const Tensor& a, const Tensor& b, const Shape& out_sizes) {
  using M = typename OpMathOf<T>::type;
  const std::vector<T> x = ValuesAs<T>(a), y = ValuesAs<T>(b);
  const Shape a3 = a.dim() == 1 ? Shape{1, a.size(0)} : a.sizes();
  const Shape b3 = b.dim() == 1 ? Shape{b.size(0), 1} : b.sizes();
  const int64_t n = a3[a3.size() - 2], k = a3.back(), m = b3.back();
  const Shape batch(out_sizes.begin(), out_sizes.end() - (a.dim() >= 2) - (b.dim() >= 2));
  const Shape a_batch(a3.begin(), a3.end() - 2), b_batch(b3.begin(), b3.end() - 2);
  // The matrix of an operand with batch dims `own` used at batch index `index`.
  auto matrix_of = [&](const Shape& index, const Shape& own) {
    Shape own_index(index.end() - own.size(), index.end());
    for (size_t d = 0; d < own.size(); ++d) {
      if (own[d] == 1) own_index[d] = 0;
    }
    return Ravel(own_index, own);
  };
  std::vector<T> out;
  for (int64_t q = 0; q < NumElements(batch); ++q) {
    const Shape index = Unravel(q, batch);
    const int64_t a_matrix = matrix_of(index, a_batch), b_matrix = matrix_of(index, b_batch);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < m; ++j) {
        if constexpr (std::is_integral_v<T>) {
          using U = std::make_unsigned_t<T>;
          U acc = 0;
          for (int64_t p = 0; p < k; ++p) {
            acc = static_cast<U>(acc + static_cast<U>(x[(a_matrix * n + i) * k + p]) *
                                           static_cast<U>(y[(b_matrix * k + p) * m + j]));
          }
          out.push_back(static_cast<T>(acc));
        } else {
          M acc = 0;
          for (int64_t p = 0; p < k; ++p) {
            acc = acc + M(x[(a_matrix * n + i) * k + p]) * M(y[(b_matrix * k + p) * m + j]);
          }
          out.push_back(CastElement<T>(acc));
        }
      }
    }
  }
  return out;
}

TEST(ShapeOpsTest, MatmulEqualsNaiveLoopBitwise) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    // Sizes past the kernel's 64-column block now and then.
    const MatmulCase c = RandomMatmulCase(rng, seed % 10 == 0 ? 80 : 7);
    const DType a_dtype = RandomDType(rng, false);
    const DType b_dtype = rng() % 2 == 0 ? a_dtype : RandomDType(rng, false);
    const Tensor a = RandomTensor(rng, c.a_sizes, a_dtype);
    const Tensor b = RandomTensor(rng, c.b_sizes, b_dtype);
    SCOPED_TRACE(testing::Message() << a.ToString() << " @ " << b.ToString());
    const Tensor out = matmul(a, b);
    const DType dtype = PromoteTypes(a_dtype, b_dtype);
    ASSERT_EQ(out.sizes(), c.out_sizes);
    ASSERT_EQ(out.dtype(), dtype);
    VisitDType(dtype, [&]<typename T>() {
      if constexpr (!std::is_same_v<T, bool>) {
        ExpectSameBits<T>(out, NaiveMatmul<T>(a, b, c.out_sizes));
      }
    });
  }
}

TEST(ShapeOpsTest, MatmulKnownValues) {
  const Tensor a = from_data<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = from_data<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector<float>(), (std::vector<float>{4, 5, 10, 11}));
  const Tensor v = from_data<float>({1, 1, 1});
  EXPECT_EQ(matmul(v, v).sizes(), Shape{});
  EXPECT_EQ(matmul(v, v).item<float>(), 3);
  EXPECT_EQ(matmul(a, v).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(matmul(v, b).to_vector<float>(), (std::vector<float>{2, 2}));
  // Empty inner dimension: zeros.
  const Tensor zeros = matmul(AllocateTensor({2, 0}, DType::kFloat64, Device::CPU()),
                              AllocateTensor({0, 3}, DType::kFloat64, Device::CPU()));
  EXPECT_EQ(zeros.to_vector<double>(), std::vector<double>(6, 0.0));
}

TEST(ShapeOpsTest, MatmulShapeRulesOnMetaTensors) {
  struct Case {
    Shape a, b, out;
  };
  const Case cases[] = {
      {{3}, {3}, {}},
      {{2, 3}, {3, 4}, {2, 4}},
      {{3}, {3, 4}, {4}},
      {{2, 3}, {3}, {2}},
      {{5, 2, 3}, {3}, {5, 2}},
      {{3}, {5, 3, 4}, {5, 4}},
      {{7, 1, 2, 3}, {5, 3, 4}, {7, 5, 2, 4}},
      {{1, 2, 3}, {6, 3, 4}, {6, 2, 4}},
      {{0, 2, 3}, {3, 4}, {0, 2, 4}},
  };
  for (const Case& c : cases) {
    const Tensor out = matmul(Meta(c.a, DType::kInt32), Meta(c.b, DType::kFloat16));
    EXPECT_TRUE(out.is_meta());
    EXPECT_EQ(out.sizes(), c.out) << ShapeToString(c.a) << " @ " << ShapeToString(c.b);
    EXPECT_EQ(out.dtype(), DType::kFloat16);
  }
}

TEST(ShapeOpsTest, MatmulMisuseIsAnErrorNamingTheShapes) {
  EXPECT_THAT(ErrorMessage([] { matmul(Meta({}), Meta({3})); }),
              HasSubstr("matmul: both inputs need at least 1 dim, got shapes [] and [3]"));
  EXPECT_THAT(ErrorMessage([] { matmul(Meta({2, 3}), Meta({4, 5})); }),
              HasSubstr("matmul: shapes [2, 3] and [4, 5] cannot be multiplied (inner sizes "
                        "3 and 4 differ)"));
  EXPECT_THAT(ErrorMessage([] { matmul(Meta({3}), Meta({2})); }),
              HasSubstr("matmul: shapes [3] and [2] cannot be multiplied"));
  EXPECT_THAT(ErrorMessage([] { matmul(Meta({2, 2, 3}), Meta({3, 3, 4})); }),
              HasSubstr("matmul: the batch dims of shapes [2, 2, 3] and [3, 3, 4] do not "
                        "broadcast ([2] vs [3])"));
  EXPECT_THAT(ErrorMessage([] { matmul(Meta({2, 3}), Meta({3, 2}, DType::kBool)); }),
              HasSubstr("matmul: bool inputs are not supported (input 1"));
}

// ---- strided outputs

TEST(ShapeOpsTest, KernelsWriteThroughStridedOutputs) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const DType dtype = RandomDType(rng, false);
    const Tensor x = RandomTensor(rng, {3, 4}, dtype);
    const Tensor y = RandomTensor(rng, {3, 2}, RandomDType(rng, true));
    ExpectKernelWritesThroughStrides(rng, "cat", {x, y}, Attrs{{"dim", int64_t{1}}});
    ExpectKernelWritesThroughStrides(rng, "stack", {x, x}, Attrs{{"dim", int64_t{2}}});
    ExpectKernelWritesThroughStrides(rng, "repeat", {y}, Attrs{{"repeats", Shape{2, 2, 3}}});
    ExpectKernelWritesThroughStrides(rng, "tril", {x}, Attrs{{"diagonal", int64_t{0}}});
    ExpectKernelWritesThroughStrides(rng, "triu", {x}, Attrs{{"diagonal", int64_t{1}}});
    ExpectKernelWritesThroughStrides(
        rng, "outer", {RandomTensor(rng, {5}, dtype), RandomTensor(rng, {3}, dtype)}, {});
    for (const auto& [a_sizes, b_sizes] : {std::pair<Shape, Shape>{{2, 3, 4}, {4, 5}},
                                           {{4}, {2, 4, 5}},
                                           {{2, 3, 4}, {4}},
                                           {{4}, {4}}}) {
      ExpectKernelWritesThroughStrides(
          rng, "matmul", {RandomTensor(rng, a_sizes, dtype), RandomTensor(rng, b_sizes, dtype)},
          {});
    }
  }
}

// ---- thread count

TEST(ShapeOpsTest, ResultsDoNotDependOnTheThreadCount) {
  const int threads = NumThreads();
  std::mt19937_64 rng(42);
  for (DType dtype : kNumericDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    const Tensor a = RandomTensor(rng, {3, 70, 50}, dtype);
    const Tensor b = RandomTensor(rng, {50, 90}, dtype);
    const Tensor square = RandomTensor(rng, {4, 130, 130}, dtype);
    const Tensor column = RandomTensor(rng, {300}, dtype);
    const Tensor row = RandomTensor(rng, {200}, dtype);
    std::vector<Tensor> results[2];
    for (int run = 0; run < 2; ++run) {
      SetNumThreads(run == 0 ? 1 : 4);
      results[run] = {matmul(a, b),           tril(square, 3),       triu(square, -2),
                      cat({square, square}, 1), repeat(b, {3, 2, 1}), outer(column, row),
                      stack({b, b, b}, 1)};
    }
    SetNumThreads(threads);
    for (size_t i = 0; i < results[0].size(); ++i) {
      SCOPED_TRACE(testing::Message() << "result " << i);
      ExpectSameTensor(results[0][i], results[1][i]);
    }
  }
}

// Q's columns are orthonormal and Q^T A is upper triangular with a non-negative diagonal:
// Q is the Q of A = QR with R's diagonal non-negative.
TEST(ShapeOpsTest, QrQIsTheOrthonormalFactorWithANonNegativeDiagonal) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  for (const auto& [m, n] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {4, 4}, {7, 3}, {9, 1}}) {
    SCOPED_TRACE(testing::Message() << m << " x " << n);
    std::vector<double> values(m * n);
    for (double& v : values) v = normal(rng);
    const Tensor a = from_data<double>(absl::MakeConstSpan(values), {m, n});
    const Tensor q = qr_q(a);
    ASSERT_EQ(q.sizes(), (Shape{m, n}));
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double qtq = 0, qta = 0;
        for (int64_t k = 0; k < m; ++k) {
          qtq += q.at<double>({k, i}) * q.at<double>({k, j});
          qta += q.at<double>({k, i}) * a.at<double>({k, j});
        }
        EXPECT_NEAR(qtq, i == j ? 1.0 : 0.0, 1e-12);
        if (i > j) {
          EXPECT_NEAR(qta, 0.0, 1e-12);
        } else if (i == j) {
          EXPECT_GT(qta, 0.0);
        }
      }
    }
  }
  const Tensor transposed = qr_q(t(from_data<float>({1, 2, 3, 4, 5, 6}, {2, 3})));
  EXPECT_EQ(transposed.dtype(), DType::kFloat32);
  EXPECT_THROW(qr_q(from_data<float>({1, 2, 3, 4, 5, 6}, {2, 3})), Error);  // m < n
  EXPECT_THROW(qr_q(from_data<float>({1, 2})), Error);
  EXPECT_THROW(qr_q(from_data<int64_t>({1, 2}, {2, 1})), Error);
}

}  // namespace
}  // namespace deferred
