#include "fake_tensor/ops/reductions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/kernels/parallel.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

constexpr DType kFloatingDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                     DType::kBFloat16};

Tensor Meta(const Shape& sizes, DType dtype = DType::kFloat32) {
  return AllocateTensor(sizes, dtype, Device::Meta());
}

template <typename T>
double ToDouble(T v) {
  return static_cast<double>(static_cast<typename OpMathOf<T>::type>(v));
}

// A random value of T: floats in [-4, 4), a NaN now and then when `nans`; integers over
// their whole range half the time (so that sums wrap), small otherwise.
template <typename T>
T RandomValue(std::mt19937_64& rng, bool nans) {
  if constexpr (std::is_same_v<T, bool>) {
    return rng() % 2 == 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (rng() % 2 == 0) return static_cast<T>(rng());
    return static_cast<T>(static_cast<int64_t>(rng() % 19) - 9);
  } else {
    if (nans && rng() % 16 == 0) return CastElement<T>(std::nan(""));
    return CastElement<T>(std::uniform_real_distribution<double>(-4, 4)(rng));
  }
}

// A CPU tensor of `sizes` with random values. Two times in three it is a view into a
// larger storage: its dims laid out in a random order (a transposed layout), with gaps
// between them and a storage offset; otherwise it is contiguous.
Tensor RandomTensor(std::mt19937_64& rng, const Shape& sizes, DType dtype, bool nans = false) {
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
    for (int64_t i = 0; i < base.numel(); ++i) data[i] = RandomValue<T>(rng, nans);
  });
  return MakeView(base, TensorLayout{sizes, strides, offset});
}

Shape RandomShape(std::mt19937_64& rng, int64_t ndim, int64_t max_size) {
  Shape sizes(ndim);
  for (int64_t& s : sizes) s = static_cast<int64_t>(rng() % (max_size + 1));
  return sizes;
}

// A random reduction over a tensor of `ndim` dims: which dims (`reduced`; all of them for
// an empty list) and how they are spelled in `dims` (any order, maybe negative).
struct RandomDims {
  Shape dims;
  std::vector<bool> reduced;
};

RandomDims PickDims(std::mt19937_64& rng, int64_t ndim) {
  RandomDims pick;
  pick.reduced.assign(ndim, false);
  for (int64_t d = 0; d < ndim; ++d) {
    if (rng() % 2 == 0) continue;
    pick.reduced[d] = true;
    pick.dims.push_back(rng() % 2 == 0 ? d : d - ndim);
  }
  std::shuffle(pick.dims.begin(), pick.dims.end(), rng);
  if (pick.dims.empty()) pick.reduced.assign(ndim, true);
  return pick;
}

// The reference walk: calls visit(out, value) for every element of `t`, in row-major order
// of t's own indices, with `out` the row-major number of the output element it reduces
// into. For each output element this visits its reduced elements in row-major order of the
// reduced indices: the order the header specifies.
template <typename T, typename Fn>
void ForEachInOutput(const Tensor& t, const std::vector<bool>& reduced, Fn&& visit) {
  const std::vector<T> values = t.to_vector<T>();
  const int64_t ndim = t.dim();
  for (int64_t e = 0; e < t.numel(); ++e) {
    int64_t rest = e, out = 0, out_stride = 1;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      const int64_t index = rest % t.size(d);
      rest /= t.size(d);
      if (reduced[d]) continue;
      out += index * out_stride;
      out_stride *= t.size(d);
    }
    visit(out, values[e]);
  }
}

Shape ReducedShape(const Tensor& t, const std::vector<bool>& reduced, bool keepdim) {
  Shape sizes;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (!reduced[d]) {
      sizes.push_back(t.size(d));
    } else if (keepdim) {
      sizes.push_back(1);
    }
  }
  return sizes;
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

TEST(ReductionsTest, OpsAreRegisteredWithCpuKernels) {
  for (const char* name : {"sum", "mean", "var", "std", "min", "max", "cumsum", "argsort"}) {
    const OpDef& def = OpRegistry::Global().Get(name);
    EXPECT_EQ(def.kind, OpKind::kFunctional) << name;
    EXPECT_TRUE(static_cast<bool>(def.kernel(DeviceType::kCPU))) << name;
  }
}

TEST(ReductionsTest, SumEqualsSequentialReferenceBitwise) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 5);
    const Tensor t = RandomTensor(rng, RandomShape(rng, ndim, 5), kAllDTypes[rng() % 8]);
    const RandomDims pick = PickDims(rng, ndim);
    const bool keepdim = rng() % 2 == 0;
    const bool all = pick.dims.size() == static_cast<size_t>(ndim) && rng() % 2 == 0;
    const Tensor out = all ? sum(t) : sum(t, pick.dims, keepdim);
    ASSERT_EQ(out.sizes(), all ? Shape{} : ReducedShape(t, pick.reduced, keepdim));
    VisitDType(t.dtype(), [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      const int64_t count = NumElements(ReducedShape(t, pick.reduced, false));
      if constexpr (std::is_integral_v<T>) {
        std::vector<uint64_t> acc(count, 0);
        ForEachInOutput<T>(t, pick.reduced, [&](int64_t o, T x) {
          acc[o] = acc[o] + static_cast<uint64_t>(static_cast<int64_t>(x));
        });
        ExpectSameBits<int64_t>(out, std::vector<int64_t>(acc.begin(), acc.end()));
      } else {
        std::vector<double> acc(count, 0.0);
        ForEachInOutput<T>(t, pick.reduced,
                           [&](int64_t o, T x) { acc[o] = acc[o] + static_cast<double>(M(x)); });
        std::vector<T> expected;
        for (double v : acc) expected.push_back(CastElement<T>(v));
        ExpectSameBits<T>(out, expected);
      }
    });
  }
}

TEST(ReductionsTest, MeanVarAndStdEqualTwoPassReferenceBitwise) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 5);
    const Tensor t = RandomTensor(rng, RandomShape(rng, ndim, 5),
                                  kFloatingDTypes[rng() % std::size(kFloatingDTypes)]);
    const RandomDims pick = PickDims(rng, ndim);
    const bool keepdim = rng() % 2 == 0;
    const int64_t correction = static_cast<int64_t>(rng() % 3);
    const bool all = pick.dims.size() == static_cast<size_t>(ndim) && rng() % 2 == 0;
    const Tensor mean_out = all ? mean(t) : mean(t, pick.dims, keepdim);
    const Tensor var_out = all ? var(t, correction) : var(t, pick.dims, keepdim, correction);
    const Tensor std_out = all ? std(t, correction) : std(t, pick.dims, keepdim, correction);
    const Shape sizes = all ? Shape{} : ReducedShape(t, pick.reduced, keepdim);
    ASSERT_EQ(mean_out.sizes(), sizes);
    ASSERT_EQ(var_out.sizes(), sizes);
    ASSERT_EQ(std_out.sizes(), sizes);
    VisitDType(t.dtype(), [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      const int64_t outputs = NumElements(ReducedShape(t, pick.reduced, false));
      const double count = static_cast<double>(t.numel() == 0 ? 0 : t.numel() / outputs);
      std::vector<double> sums(outputs, 0.0), squares(outputs, 0.0);
      ForEachInOutput<T>(t, pick.reduced,
                         [&](int64_t o, T x) { sums[o] = sums[o] + static_cast<double>(M(x)); });
      std::vector<double> means;
      for (double s : sums) means.push_back(s / count);
      ForEachInOutput<T>(t, pick.reduced, [&](int64_t o, T x) {
        const double d = static_cast<double>(M(x)) - means[o];
        squares[o] = squares[o] + d * d;
      });
      std::vector<T> expected_mean, expected_var, expected_std;
      for (int64_t o = 0; o < outputs; ++o) {
        const double variance = squares[o] / std::max(0.0, count - correction);
        expected_mean.push_back(CastElement<T>(means[o]));
        expected_var.push_back(CastElement<T>(variance));
        expected_std.push_back(CastElement<T>(std::sqrt(variance)));
      }
      ExpectSameBits<T>(mean_out, expected_mean);
      ExpectSameBits<T>(var_out, expected_var);
      ExpectSameBits<T>(std_out, expected_std);
    });
  }
}

TEST(ReductionsTest, MinAndMaxEqualSequentialReferenceWithNaNs) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 5);
    Shape sizes = RandomShape(rng, ndim, 5);
    for (int64_t& s : sizes) s = std::max<int64_t>(s, 1);  // empty min/max is an error
    const Tensor t = RandomTensor(rng, sizes, kAllDTypes[rng() % 8], /*nans=*/true);
    const RandomDims pick = PickDims(rng, ndim);
    const bool keepdim = rng() % 2 == 0;
    const bool all = pick.dims.size() == static_cast<size_t>(ndim) && rng() % 2 == 0;
    const bool is_max = rng() % 2 == 0;
    const Tensor out = is_max ? (all ? max(t) : max(t, pick.dims, keepdim))
                              : (all ? min(t) : min(t, pick.dims, keepdim));
    ASSERT_EQ(out.sizes(), all ? Shape{} : ReducedShape(t, pick.reduced, keepdim));
    ASSERT_EQ(out.dtype(), t.dtype());
    VisitDType(t.dtype(), [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      const int64_t outputs = NumElements(ReducedShape(t, pick.reduced, false));
      std::vector<T> best(outputs);
      std::vector<bool> seen(outputs, false);
      auto is_nan = [](T x) {
        if constexpr (std::is_integral_v<T>) {
          return false;
        } else {
          return std::isnan(M(x));
        }
      };
      ForEachInOutput<T>(t, pick.reduced, [&](int64_t o, T x) {
        if (!seen[o]) {
          best[o] = x;
          seen[o] = true;
        } else if (!is_nan(best[o]) &&
                   (is_nan(x) || (is_max ? M(x) > M(best[o]) : M(x) < M(best[o])))) {
          best[o] = x;
        }
      });
      ExpectSameBits<T>(out, best);
    });
  }
}

TEST(ReductionsTest, CumsumEqualsSequentialReferenceBitwise) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 4);
    const Tensor t = RandomTensor(rng, RandomShape(rng, ndim, 5), kAllDTypes[rng() % 8]);
    const int64_t dim = ndim == 0 ? 0 : static_cast<int64_t>(rng() % ndim);
    const Tensor out = cumsum(t, rng() % 2 == 0 ? dim : dim - std::max<int64_t>(ndim, 1));
    ASSERT_EQ(out.sizes(), t.sizes());
    VisitDType(t.dtype(), [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      // Element i of the row-major output: the sequential sum of its line up to i.
      const std::vector<T> values = t.to_vector<T>();
      const int64_t inner = ndim == 0 ? 1 : NumElements(Shape(t.sizes().begin() + dim + 1,
                                                              t.sizes().end()));
      const int64_t length = ndim == 0 ? 1 : t.size(dim);
      if constexpr (std::is_integral_v<T>) {
        std::vector<int64_t> expected(values.size());
        for (size_t i = 0; i < values.size(); ++i) {
          const int64_t along = (static_cast<int64_t>(i) / inner) % length;
          uint64_t acc = 0;
          for (int64_t k = 0; k <= along; ++k) {
            const T x = values[i - (along - k) * inner];
            acc = acc + static_cast<uint64_t>(static_cast<int64_t>(x));
          }
          expected[i] = static_cast<int64_t>(acc);
        }
        ExpectSameBits<int64_t>(out, expected);
      } else {
        std::vector<T> expected(values.size());
        for (size_t i = 0; i < values.size(); ++i) {
          const int64_t along = (static_cast<int64_t>(i) / inner) % length;
          double acc = 0.0;
          for (int64_t k = 0; k <= along; ++k) {
            acc = acc + static_cast<double>(M(values[i - (along - k) * inner]));
          }
          expected[i] = CastElement<T>(acc);
        }
        ExpectSameBits<T>(out, expected);
      }
    });
  }
}

TEST(ReductionsTest, ArgsortEqualsAStableSortOfEachLine) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int64_t ndim = static_cast<int64_t>(rng() % 4);
    // Few distinct values, so that ties (and NaNs) occur.
    const Tensor t = round(mul(RandomTensor(rng, RandomShape(rng, ndim, 5), kAllDTypes[rng() % 8],
                                            /*nans=*/true),
                               0.0));
    const int64_t dim = ndim == 0 ? 0 : static_cast<int64_t>(rng() % ndim);
    const bool descending = rng() % 2 == 0;
    const Tensor out = argsort(t, dim, descending);
    ASSERT_EQ(out.sizes(), t.sizes());
    ASSERT_EQ(out.dtype(), DType::kInt64);
    VisitDType(t.dtype(), [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      const std::vector<T> values = t.to_vector<T>();
      const int64_t inner =
          ndim == 0 ? 1 : NumElements(Shape(t.sizes().begin() + dim + 1, t.sizes().end()));
      const int64_t length = ndim == 0 ? 1 : t.size(dim);
      std::vector<int64_t> expected(values.size());
      for (size_t first = 0; first < values.size(); ++first) {
        if ((static_cast<int64_t>(first) / inner) % length != 0) continue;  // not a line start
        std::vector<int64_t> order(length);
        std::iota(order.begin(), order.end(), 0);
        const auto key = [&](int64_t i) { return static_cast<double>(M(values[first + i * inner])); };
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          const double x = key(a), y = key(b);
          if (std::isnan(x) || std::isnan(y)) return descending ? !std::isnan(y) : !std::isnan(x);
          return descending ? y < x : x < y;
        });
        for (int64_t i = 0; i < length; ++i) expected[first + i * inner] = order[i];
      }
      ExpectSameBits<int64_t>(out, expected);
    });
  }
}

TEST(ReductionsTest, CumsumNormAndTheirMisuse) {
  const Tensor t = from_data<float>({1, 2, 3, -4, 5, 6}, {2, 3});
  EXPECT_EQ(cumsum(t, 1).to_vector<float>(), (std::vector<float>{1, 3, 6, -4, 1, 7}));
  EXPECT_EQ(cumsum(t, 0).to_vector<float>(), (std::vector<float>{1, 2, 3, -3, 7, 9}));
  EXPECT_EQ(cumsum(from_data<int64_t>({}, {0}), 0).numel(), 0);
  EXPECT_EQ(cumsum(full({}, 3), -1).item<int64_t>(), 3);
  EXPECT_THROW(cumsum(t, 2), Error);
  EXPECT_FLOAT_EQ(norm(t).item<float>(), std::sqrt(91.0f));
  EXPECT_EQ(norm(t, 1).item<float>(), 21);
  EXPECT_EQ(norm(t, std::numeric_limits<double>::infinity()).item<float>(), 6);
  EXPECT_EQ(norm(t, -std::numeric_limits<double>::infinity()).item<float>(), 1);
  EXPECT_EQ(norm(t, 0).item<float>(), 6);
  EXPECT_NEAR(norm(t, 3, {1}).to_vector<float>()[0], std::cbrt(36.0), 1e-5);
  EXPECT_EQ(norm(t, 2, {0}, true).sizes(), (Shape{1, 3}));
  EXPECT_THROW(norm(from_data<int64_t>({1, 2})), Error);
  EXPECT_EQ(argsort(t).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(argsort(t, 0, true).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1, 1, 0, 0}));
  EXPECT_THROW(argsort(t, 2), Error);
}

TEST(ReductionsTest, KnownValues) {
  const Tensor t = from_data<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(t).item<float>(), 21);
  EXPECT_EQ(sum(t, {0}).to_vector<float>(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(sum(t, {-1}, true).sizes(), (Shape{2, 1}));
  EXPECT_EQ(sum(t, {-1}, true).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(mean(t, {1}).to_vector<float>(), (std::vector<float>{2, 5}));
  EXPECT_EQ(var(t, {1}).to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(var(t, {1}, false, 0).to_vector<float>(),
            (std::vector<float>{2.0f / 3, 2.0f / 3}));
  EXPECT_FLOAT_EQ(var(t).item<float>(), 3.5f);
  EXPECT_FLOAT_EQ(var(t, 0).item<float>(), 17.5f / 6);
  EXPECT_FLOAT_EQ(std(t).item<float>(), std::sqrt(3.5f));
  EXPECT_EQ(std(t, {0}, true).sizes(), (Shape{1, 3}));
  EXPECT_EQ(min(t).item<float>(), 1);
  EXPECT_EQ(max(t, {0}).to_vector<float>(), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(min(t, {1}).to_vector<float>(), (std::vector<float>{1, 4}));
}

TEST(ReductionsTest, ResultDTypes) {
  for (DType dtype : {DType::kInt64, DType::kInt32, DType::kUInt8, DType::kBool}) {
    EXPECT_EQ(sum(Meta({2, 3}, dtype)).dtype(), DType::kInt64) << DTypeName(dtype);
    EXPECT_EQ(min(Meta({2, 3}, dtype), {0}).dtype(), dtype);
    EXPECT_EQ(max(Meta({2, 3}, dtype)).dtype(), dtype);
  }
  for (DType dtype : kFloatingDTypes) {
    EXPECT_EQ(sum(Meta({2, 3}, dtype)).dtype(), dtype) << DTypeName(dtype);
    EXPECT_EQ(mean(Meta({2, 3}, dtype)).dtype(), dtype);
    EXPECT_EQ(var(Meta({2, 3}, dtype), {1}).dtype(), dtype);
    EXPECT_EQ(std(Meta({2, 3}, dtype)).dtype(), dtype);
  }
  const Tensor flags = from_data<bool>({true, false, true, true}, {2, 2}, Device::CPU());
  EXPECT_EQ(sum(flags).item<int64_t>(), 3);
  EXPECT_EQ(sum(flags, {0}).to_vector<int64_t>(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(min(flags).item<bool>(), false);
  EXPECT_EQ(max(flags, {1}).to_vector<bool>(), (std::vector<bool>{true, true}));
}

TEST(ReductionsTest, ShapeRulesOnMetaTensors) {
  const Tensor t = Meta({2, 3, 4, 5});
  EXPECT_TRUE(sum(t, {1}).is_meta());
  EXPECT_EQ(sum(t, {1, -1}).sizes(), (Shape{2, 4}));
  EXPECT_EQ(sum(t, {-1, 1}, true).sizes(), (Shape{2, 1, 4, 1}));
  EXPECT_EQ(sum(t, {}).sizes(), Shape{});  // an empty list means all dims
  EXPECT_EQ(sum(t, {}, true).sizes(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(mean(t, {0, 1, 2, 3}).sizes(), Shape{});
  EXPECT_EQ(var(t, {2}, true, 0).sizes(), (Shape{2, 3, 1, 5}));
  EXPECT_EQ(max(t, {3}).sizes(), (Shape{2, 3, 4}));
  // A 0-d tensor has one dim to name (0 or -1), which reduces nothing.
  EXPECT_EQ(sum(Meta({}), {0}).sizes(), Shape{});
  EXPECT_EQ(min(Meta({}), {-1}, true).sizes(), Shape{});
  // Reducing a dim of size 0: sums are fine, the output may be empty too.
  EXPECT_EQ(sum(Meta({0, 3}), {0}).sizes(), (Shape{3}));
  EXPECT_EQ(max(Meta({0, 3}), {1}).sizes(), (Shape{0}));
}

TEST(ReductionsTest, VarWithABracedListReducesThoseDims) {
  const Tensor t = Meta({2, 3});
  EXPECT_EQ(var(t, {1}).sizes(), (Shape{2}));
  EXPECT_EQ(std(t, {0}).sizes(), (Shape{3}));
  EXPECT_EQ(var(t, {}).sizes(), Shape{});
  EXPECT_EQ(var(t, int64_t{1}).sizes(), Shape{});
}

TEST(ReductionsTest, EmptyReductions) {
  const Tensor empty_rows = AllocateTensor({0, 3}, DType::kFloat32, Device::CPU());
  EXPECT_EQ(sum(empty_rows, {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(sum(AllocateTensor({0}, DType::kInt32, Device::CPU())).item<int64_t>(), 0);
  EXPECT_TRUE(std::isnan(mean(empty_rows).item<float>()));
  EXPECT_TRUE(std::isnan(var(empty_rows, {0}).to_vector<float>()[1]));
  EXPECT_EQ(max(empty_rows, {1}).numel(), 0);
  // One element, correction 1: 0 / 0.
  EXPECT_TRUE(std::isnan(var(from_data<double>({2.5})).item<double>()));
  // N <= correction with spread values: x / 0.
  EXPECT_EQ(var(from_data<double>({1, 3}), 2).item<double>(),
            std::numeric_limits<double>::infinity());
}

TEST(ReductionsTest, IntegerSumsWrap) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(sum(from_data<int64_t>({big, 1})).item<int64_t>(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(sum(from_data<uint8_t>({200, 100})).item<int64_t>(), 300);
  EXPECT_EQ(sum(from_data<int32_t>({-5, 2})).item<int64_t>(), -3);
}

TEST(ReductionsTest, NaNPropagatesThroughMinAndMax) {
  const float nan = std::nanf("");
  const Tensor t = from_data<float>({1, nan, -3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(std::isnan(min(t).item<float>()));
  EXPECT_TRUE(std::isnan(max(t).item<float>()));
  const std::vector<float> row_max = max(t, {1}).to_vector<float>();
  EXPECT_TRUE(std::isnan(row_max[0]));
  EXPECT_EQ(row_max[1], 6);
  EXPECT_EQ(min(t, {0}).to_vector<float>()[2], -3);
}

TEST(ReductionsTest, MisuseIsAnErrorNamingTheOp) {
  const Tensor t = Meta({2, 3});
  EXPECT_THAT(ErrorMessage([&] { sum(t, {1, -1}); }),
              HasSubstr("sum: dim 1 appears more than once in dims [1, -1]"));
  EXPECT_THAT(ErrorMessage([&] { max(t, {0, 0}, true); }),
              HasSubstr("max: dim 0 appears more than once in dims [0, 0]"));
  EXPECT_THAT(ErrorMessage([&] { sum(Meta({}), {0, -1}); }),
              HasSubstr("sum: dim 0 appears more than once"));
  EXPECT_THAT(ErrorMessage([&] { mean(t, {2}); }), HasSubstr("mean: dim 2 is out of range"));
  EXPECT_THAT(ErrorMessage([&] { var(t, {-3}); }), HasSubstr("var: dim -3 is out of range"));
  for (DType dtype : {DType::kInt64, DType::kUInt8, DType::kBool}) {
    EXPECT_THAT(ErrorMessage([&] { mean(Meta({2}, dtype)); }),
                HasSubstr(std::string("mean: expected a floating dtype, got ") +
                          DTypeName(dtype)));
    EXPECT_THAT(ErrorMessage([&] { var(Meta({2}, dtype)); }),
                HasSubstr("var: expected a floating dtype"));
    EXPECT_THAT(ErrorMessage([&] { std(Meta({2}, dtype), {0}); }),
                HasSubstr("std: expected a floating dtype"));
  }
  EXPECT_THAT(ErrorMessage([] { min(Meta({2, 0})); }),
              HasSubstr("min: cannot reduce dim 1 of size 0 (input shape [2, 0])"));
  EXPECT_THAT(ErrorMessage([] { max(Meta({0, 3}), {0}); }),
              HasSubstr("max: cannot reduce dim 0 of size 0 (input shape [0, 3])"));
  EXPECT_THAT(ErrorMessage([] { max(Meta({0, 0}), {1}); }),
              HasSubstr("max: cannot reduce dim 1 of size 0"));
}

TEST(ReductionsTest, KernelsWriteThroughStridedOutputs) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const Tensor t = RandomTensor(rng, {3, 4, 5},
                                  kFloatingDTypes[rng() % std::size(kFloatingDTypes)]);
    for (const char* name : {"sum", "mean", "min", "max"}) {
      ExpectKernelWritesThroughStrides(rng, name, {t},
                                       Attrs{{"dims", Shape{1}}, {"keepdim", rng() % 2 == 0}});
    }
    for (const char* name : {"var", "std"}) {
      ExpectKernelWritesThroughStrides(rng, name, {t},
                                       Attrs{{"dims", Shape{-1, 0}},
                                             {"keepdim", rng() % 2 == 0},
                                             {"correction", int64_t{1}}});
    }
    ExpectKernelWritesThroughStrides(rng, "sum", {RandomTensor(rng, {3, 4, 5}, DType::kInt32)},
                                     Attrs{{"dims", Shape{0, 2}}, {"keepdim", true}});
  }
}

TEST(ReductionsTest, ResultsDoNotDependOnTheThreadCount) {
  const int threads = NumThreads();
  std::mt19937_64 rng(7);
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    const Tensor t = RandomTensor(rng, {40, 300, 30}, dtype, /*nans=*/true);
    std::vector<Tensor> results[2];
    for (int run = 0; run < 2; ++run) {
      SetNumThreads(run == 0 ? 1 : 4);
      results[run] = {sum(t, {1}), sum(t, {0, 2}), sum(t), min(t, {2}), max(t, {0}, true)};
      if (IsFloatingPoint(dtype)) {
        for (const Tensor& r : {mean(t, {2}), var(t, {1}), std(t, {0, 1}, true, 0)}) {
          results[run].push_back(r);
        }
      }
    }
    SetNumThreads(threads);
    for (size_t i = 0; i < results[0].size(); ++i) {
      SCOPED_TRACE(testing::Message() << "result " << i);
      ExpectSameTensor(results[0][i], results[1][i]);
    }
  }
}

}  // namespace
}  // namespace deferred
