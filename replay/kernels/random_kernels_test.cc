#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/views.h"
#include "gtest/gtest.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/random_kernel_path.h"
#include "replay/rng/samplers.h"

namespace deferred {
namespace {

using rng::Precision;

// The element bits of a value of type T, for bitwise comparison whatever T is.
template <typename T>
uint64_t BitsOf(T value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}

// Calls fn.template operator()<P, T>() for a floating dtype.
template <typename Fn>
void VisitFloating(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn.template operator()<Precision::kFloat32, float>();
    case DType::kFloat64: return fn.template operator()<Precision::kFloat64, double>();
    case DType::kFloat16: return fn.template operator()<Precision::kFloat16, Half>();
    case DType::kBFloat16: return fn.template operator()<Precision::kBFloat16, BFloat16>();
    default: FAIL() << "not floating: " << DTypeName(dtype);
  }
}

// One random op under test: how to call it, and the bits rng::SampleAt says element i of
// a call at (seed, offset) must have in `dtype`.
struct RandomOpCase {
  std::string name;
  bool floating_only;
  std::function<void(const Tensor&)> apply;
  std::function<uint64_t(DType, uint64_t seed, uint64_t offset, uint64_t i)> expected;
};

RandomOpCase TruncNormalCase(double mean, double std, double a, double b) {
  return {absl::StrFormat("trunc_normal_(%g, %g, %g, %g)", mean, std, a, b), true,
          [=](const Tensor& t) { trunc_normal_(t, mean, std, a, b); },
          [=](DType dtype, uint64_t seed, uint64_t offset, uint64_t i) {
            uint64_t bits = 0;
            VisitFloating(dtype, [&]<Precision P, typename T>() {
              const auto s = rng::MakeTruncNormalSampler<P>(mean, std, a, b);
              bits = BitsOf(CastElement<T>(rng::SampleAt(s, seed, offset, i)));
            });
            return bits;
          }};
}

std::vector<RandomOpCase> Cases() {
  std::vector<RandomOpCase> cases;
  cases.push_back({"uniform_(-2, 3)", true, [](const Tensor& t) { uniform_(t, -2, 3); },
                   [](DType dtype, uint64_t seed, uint64_t offset, uint64_t i) {
                     uint64_t bits = 0;
                     VisitFloating(dtype, [&]<Precision P, typename T>() {
                       const auto s = rng::MakeUniformSampler<P>(-2, 3);
                       bits = BitsOf(CastElement<T>(rng::SampleAt(s, seed, offset, i)));
                     });
                     return bits;
                   }});
  cases.push_back({"normal_(0.5, 2)", true, [](const Tensor& t) { normal_(t, 0.5, 2); },
                   [](DType dtype, uint64_t seed, uint64_t offset, uint64_t i) {
                     uint64_t bits = 0;
                     VisitFloating(dtype, [&]<Precision P, typename T>() {
                       const auto s = rng::MakeNormalSampler<P>(0.5, 2);
                       bits = BitsOf(CastElement<T>(rng::SampleAt(s, seed, offset, i)));
                     });
                     return bits;
                   }});
  // Bounds within ErfInv's central case (every tile takes it); bounds just past it (tiles
  // with no element past it take it: about 1 in 10); and bounds six standard deviations
  // out, where about 4% of the elements take ErfInv's outer regions, up to x rounding to 1
  // (no tile takes the central case).
  cases.push_back(TruncNormalCase(1, 2, -1, 4));
  cases.push_back(TruncNormalCase(0, 1, -1.96, 2.08));
  cases.push_back(TruncNormalCase(0, 0.5, -3, 3));
  cases.push_back({"random_(0, 2)", false, [](const Tensor& t) { random_(t, 0, 2); },
                   [](DType dtype, uint64_t seed, uint64_t offset, uint64_t i) {
                     const int64_t v = rng::SampleAt(rng::MakeRandomSampler<1>(0, 1), seed, offset, i);
                     return VisitDType(dtype, [&]<typename T>() { return BitsOf(CastElement<T>(v)); });
                   }});
  cases.push_back({"bernoulli_(0.3)", false, [](const Tensor& t) { bernoulli_(t, 0.3); },
                   [](DType dtype, uint64_t seed, uint64_t offset, uint64_t i) {
                     const float v = rng::SampleAt(rng::MakeBernoulliSampler(0.3), seed, offset, i);
                     return VisitDType(dtype, [&]<typename T>() { return BitsOf(CastElement<T>(v)); });
                   }});
  return cases;
}

// Cases for one integral dtype whose range needs 64-bit draws.
RandomOpCase WideRandomCase() {
  const int64_t lo = -(int64_t{1} << 40), hi = int64_t{3} << 40;
  return {"random_(-2^40, 3*2^40)", false, [=](const Tensor& t) { random_(t, lo, hi); },
          [=](DType, uint64_t seed, uint64_t offset, uint64_t i) {
            return BitsOf(rng::SampleAt(rng::MakeRandomSampler<2>(lo, hi - 1), seed, offset, i));
          }};
}

// A view of `sizes` over a larger storage of `dtype`: one of contiguous, permuted (e.g.
// transposed), or narrowed (every dim a slice with a random start and step), at a storage
// offset. The whole storage is filled with a sentinel byte first.
Tensor RandomLayout(std::mt19937_64& rng, const Shape& sizes, DType dtype, std::string* what) {
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int kind = static_cast<int>(rng() % 3);
  Shape base_sizes = sizes;
  std::vector<int64_t> steps(ndim, 1), starts(ndim, 0);
  if (kind == 2) {
    for (int64_t d = 0; d < ndim; ++d) {
      steps[d] = 1 + static_cast<int64_t>(rng() % 3);
      starts[d] = static_cast<int64_t>(rng() % 3);
      base_sizes[d] = starts[d] + (sizes[d] == 0 ? 0 : (sizes[d] - 1) * steps[d] + 1) +
                      static_cast<int64_t>(rng() % 2);
    }
  }
  std::vector<int64_t> order(ndim);
  for (int64_t d = 0; d < ndim; ++d) order[d] = d;
  if (kind == 1) std::shuffle(order.begin(), order.end(), rng);
  // The base holds dims in `order` (outermost first); view dim d is base dim position of d.
  Shape permuted_sizes(ndim);
  for (int64_t k = 0; k < ndim; ++k) permuted_sizes[k] = base_sizes[order[k]];
  const Shape permuted_strides = ContiguousStrides(permuted_sizes);
  Shape strides(ndim);
  for (int64_t k = 0; k < ndim; ++k) strides[order[k]] = permuted_strides[k];
  const int64_t storage_offset = static_cast<int64_t>(rng() % 5);
  int64_t offset = storage_offset;
  for (int64_t d = 0; d < ndim; ++d) {
    offset += starts[d] * strides[d];
    strides[d] *= steps[d];
  }
  const Tensor storage = empty({storage_offset + NumElements(base_sizes) + 3}, {dtype});
  std::memset(storage.storage()->data(), 0xa5, storage.storage()->nbytes());
  *what = absl::StrFormat("%s view, strides %s, offset %d",
                          kind == 0 ? "contiguous" : kind == 1 ? "permuted" : "narrowed",
                          ShapeToString(strides), offset);
  return MakeView(storage, TensorLayout{sizes, strides, offset});
}

Shape RandomSizes(std::mt19937_64& rng) {
  Shape sizes(1 + rng() % 4);
  for (int64_t& s : sizes) s = static_cast<int64_t>(rng() % 9);
  if (rng() % 4 == 0) sizes.back() = 1 + static_cast<int64_t>(rng() % 200);  // long runs
  return sizes;
}

// Checks every element of `t` (row-major) against `expected`, and that the storage bytes
// outside `t` still hold the sentinel.
void ExpectFillMatches(const Tensor& t, const RandomOpCase& c, uint64_t seed, uint64_t offset) {
  const int64_t element_size = ElementSize(t.dtype());
  const std::byte* data = t.storage()->data();
  std::vector<int64_t> positions;  // of each element, in row-major order
  t.ForEachElementOffset([&](int64_t element_offset) {
    positions.push_back(t.storage_offset() + element_offset);
  });
  std::vector<bool> inside(t.storage()->nbytes() / element_size, false);
  for (size_t i = 0; i < positions.size(); ++i) {
    inside[positions[i]] = true;
    uint64_t actual = 0;
    std::memcpy(&actual, data + positions[i] * element_size, element_size);
    ASSERT_EQ(actual, c.expected(t.dtype(), seed, offset, i)) << "element " << i;
  }
  for (size_t p = 0; p < inside.size(); ++p) {
    if (inside[p]) continue;
    for (int64_t b = 0; b < element_size; ++b) {
      ASSERT_EQ(data[p * element_size + b], std::byte{0xa5}) << "element " << p << " outside";
    }
  }
}

constexpr RandomKernelPath kPaths[] = {RandomKernelPath::kAvx512, RandomKernelPath::kAvx2,
                                       RandomKernelPath::kPortable};

TEST(RandomKernelsTest, ElementIOfAFillIsThePerIndexFunctionForAnyLayout) {
  const uint64_t test_seed = 90210;
  SCOPED_TRACE(testing::Message() << "test seed " << test_seed);
  std::mt19937_64 rng(test_seed);
  std::vector<RandomOpCase> cases = Cases();
  cases.push_back(WideRandomCase());
  for (int trial = 0; trial < 150; ++trial) {
    const Shape sizes = RandomSizes(rng);
    const RandomOpCase& c = cases[rng() % cases.size()];
    DType dtype = kAllDTypes[rng() % std::size(kAllDTypes)];
    if (c.floating_only && !IsFloatingPoint(dtype)) dtype = DType::kFloat32;
    if (c.name.find("2^40") != std::string::npos) dtype = DType::kInt64;
    set_rng_state(RngState{rng(), rng() % 3 == 0 ? rng() : rng() % 100});
    std::string layout;
    const Tensor t = RandomLayout(rng, sizes, dtype, &layout);
    SCOPED_TRACE(testing::Message() << "trial " << trial << " ("
                                    << RandomKernelPathName(kPaths[trial % std::size(kPaths)])
                                    << "): " << c.name << " on "
                                    << DTypeName(dtype) << " " << ShapeToString(sizes) << ", "
                                    << layout);
    const RngState state = get_rng_state();
    {
      // Trials take turns on the paths (each capped to what this CPU runs).
      ScopedRandomKernelPath path(kPaths[trial % std::size(kPaths)]);
      c.apply(t);
    }
    ExpectFillMatches(t, c, state.seed, state.offset);
    if (testing::Test::HasFatalFailure()) return;
  }
}

// Fills of `numel` elements by each case and floating dtype, as raw bytes.
std::vector<std::vector<std::byte>> FillAll(int64_t numel, const Shape& view_sizes = {}) {
  std::vector<std::vector<std::byte>> results;
  std::vector<RandomOpCase> cases = Cases();
  for (const RandomOpCase& c : cases) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16}) {
      set_rng_state(RngState{0x1234567890ull, 3});
      Tensor t = empty({numel}, {dtype});
      std::memset(t.storage()->data(), 0, t.storage()->nbytes());
      // A transposed view exercises the strided path as well.
      if (!view_sizes.empty()) {
        t = MakeView(t, TensorLayout{view_sizes, {1, view_sizes[0]}, 0});
      }
      c.apply(t);
      const std::byte* data = t.storage()->data();
      results.emplace_back(data, data + t.storage()->nbytes());
    }
  }
  return results;
}

TEST(RandomKernelsTest, EveryPathGivesIdenticalBits) {
  const RandomKernelPath best = ActiveRandomKernelPath();
  if (best == RandomKernelPath::kPortable) GTEST_SKIP() << "this CPU runs only the portable path";
  for (const Shape& view : {Shape{}, Shape{151, 207}}) {
    SCOPED_TRACE(view.empty() ? "contiguous" : "transposed");
    const int64_t n = 151 * 207;  // many tiles, with partial blocks at the row ends
    std::vector<std::vector<std::byte>> portable;
    {
      ScopedRandomKernelPath path(RandomKernelPath::kPortable);
      ASSERT_EQ(ActiveRandomKernelPath(), RandomKernelPath::kPortable);
      portable = FillAll(n, view);
    }
    for (RandomKernelPath p : {RandomKernelPath::kAvx2, RandomKernelPath::kAvx512}) {
      if (p > best) continue;
      SCOPED_TRACE(RandomKernelPathName(p));
      ScopedRandomKernelPath path(p);
      ASSERT_EQ(ActiveRandomKernelPath(), p);
      const auto vector = FillAll(n, view);
      ASSERT_EQ(vector.size(), portable.size());
      for (size_t k = 0; k < vector.size(); ++k) {
        EXPECT_TRUE(vector[k] == portable[k]) << "fill " << k;
      }
    }
  }
}

TEST(RandomKernelsTest, LargeFillsStreamedPastTheCacheGiveIdenticalBits) {
  // 40 MiB of float32: above the size from which the vector paths write whole tiles with
  // non-temporal stores. The view starting 3 elements in leaves every tile unaligned, so
  // it takes the ordinary stores.
  const int64_t n = int64_t{10} << 20;
  const auto fill = [n](RandomKernelPath p, int64_t start) {
    ScopedRandomKernelPath path(p);
    set_rng_state(RngState{0xfeedull, 11});
    const Tensor base = empty({n + 3});
    std::memset(base.storage()->data(), 0, base.storage()->nbytes());
    const Tensor t = narrow(base, 0, start, n);
    const auto bytes = [&] {
      const auto* data = reinterpret_cast<const std::byte*>(t.data_ptr<float>());
      return std::vector<std::byte>(data, data + n * sizeof(float));
    };
    uniform_(t, -1, 1);
    const std::vector<std::byte> uniform = bytes();
    trunc_normal_(t, 0, 0.5, -3, 3);
    return std::pair(uniform, bytes());
  };
  for (const int64_t start : {0, 3}) {
    SCOPED_TRACE(testing::Message() << "view starting at element " << start);
    const auto portable = fill(RandomKernelPath::kPortable, start);
    for (RandomKernelPath p : {RandomKernelPath::kAvx2, RandomKernelPath::kAvx512}) {
      if (p > ActiveRandomKernelPath()) continue;
      SCOPED_TRACE(RandomKernelPathName(p));
      const auto vector = fill(p, start);
      EXPECT_TRUE(vector.first == portable.first) << "uniform_";
      EXPECT_TRUE(vector.second == portable.second) << "trunc_normal_";
    }
  }
}

TEST(RandomKernelsTest, ThreadCountDoesNotChangeABit) {
  const int threads = NumThreads();
  const int64_t n = 2 * 65536 + 12345;  // three units of work for the threads to share
  SetNumThreads(1);
  const auto one = FillAll(n);
  SetNumThreads(4);
  const auto four = FillAll(n);
  SetNumThreads(3);
  const auto three = FillAll(n, {1001, n / 1001});
  SetNumThreads(1);
  const auto one_strided = FillAll(n, {1001, n / 1001});
  SetNumThreads(threads);
  for (size_t k = 0; k < one.size(); ++k) {
    EXPECT_TRUE(one[k] == four[k]) << "fill " << k;
    EXPECT_TRUE(one_strided[k] == three[k]) << "strided fill " << k;
  }
}

// Runs op `name`'s CPU kernel on `out` as a call restricted to `region_start` within a
// whole of `full_sizes` (what replay does for a shard).
void RunRestricted(const std::string& name, const Tensor& out, Attrs attrs, const Shape& start,
                   const Shape& full_sizes) {
  const OpDef& def = OpRegistry::Global().Get(name);
  attrs.Set("region_start", start);
  attrs.Set("full_sizes", full_sizes);
  OpCall call{&def, {out}, std::move(attrs)};
  def.kernel(DeviceType::kCPU)(KernelContext{}, call, {out});
}

TEST(RandomKernelsTest, ARegionFillEqualsThatRegionOfTheWholeFill) {
  std::mt19937_64 rng(5);
  const uint64_t seed = 77, offset = 1000;
  const Attrs base{{"mean", 0.0}, {"std", 1.0}, {"seed", std::bit_cast<int64_t>(seed)},
                   {"offset", std::bit_cast<int64_t>(offset)}};
  const auto sampler = rng::MakeNormalSampler<Precision::kFloat32>(0.0, 1.0);
  for (int trial = 0; trial < 40; ++trial) {
    const Shape full = {1 + static_cast<int64_t>(rng() % 40), 1 + static_cast<int64_t>(rng() % 300)};
    Shape start(2), sizes(2);
    for (int d = 0; d < 2; ++d) {
      start[d] = static_cast<int64_t>(rng() % full[d]);
      sizes[d] = 1 + static_cast<int64_t>(rng() % (full[d] - start[d]));
    }
    SCOPED_TRACE(testing::Message() << "region at " << ShapeToString(start) << " of size "
                                    << ShapeToString(sizes) << " in " << ShapeToString(full));
    const Tensor out = empty(sizes, {DType::kFloat32});
    RunRestricted("normal_", out, base, start, full);
    for (int64_t r = 0; r < sizes[0]; ++r) {
      for (int64_t c = 0; c < sizes[1]; ++c) {
        const uint64_t global = (start[0] + r) * full[1] + start[1] + c;
        ASSERT_EQ(out.at<float>({r, c}), rng::SampleAt(sampler, seed, offset, global))
            << "at " << r << ", " << c;
      }
    }
  }
}

TEST(RandomKernelsTest, FactoriesEqualTheInPlaceFormsBitwise) {
  const auto bytes = [](const Tensor& t) {
    const std::byte* d = t.storage()->data();
    return std::vector<std::byte>(d, d + t.storage()->nbytes());
  };
  const Shape sizes = {37, 5};
  manual_seed(9);
  const Tensor a = rand(sizes);
  const Tensor b = randn(sizes, {DType::kFloat64});
  const Tensor c = randint(-4, 1000, sizes);
  const Tensor d = normal(3, 0.5, sizes, {DType::kBFloat16});
  manual_seed(9);
  EXPECT_EQ(bytes(a), bytes(uniform_(empty(sizes))));
  EXPECT_EQ(bytes(b), bytes(normal_(empty(sizes, {DType::kFloat64}))));
  EXPECT_EQ(bytes(c), bytes(random_(empty(sizes, {DType::kInt64}), -4, 1000)));
  EXPECT_EQ(bytes(d), bytes(normal_(empty(sizes, {DType::kBFloat16}), 3, 0.5)));
}

// Mean and variance of a tensor's elements.
std::pair<double, double> Moments(const Tensor& t) {
  double sum = 0, sum_sq = 0;
  VisitDType(t.dtype(), [&]<typename T>() {
    for (T v : t.to_vector<T>()) {
      const double x = static_cast<double>(static_cast<typename OpMathOf<T>::type>(v));
      sum += x;
      sum_sq += x * x;
    }
  });
  const double n = static_cast<double>(t.numel());
  return {sum / n, sum_sq / n - (sum / n) * (sum / n)};
}

TEST(RandomKernelsTest, FillsHaveTheRightMomentsAndStayInBounds) {
  manual_seed(2024);
  const int64_t n = 1 << 20;
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16}) {
    SCOPED_TRACE(DTypeName(dtype));
    const Tensor u = uniform_(empty({n}, {dtype}), -1, 3);
    const auto [umean, uvar] = Moments(u);
    EXPECT_NEAR(umean, 1.0, 0.01);
    EXPECT_NEAR(uvar, 16.0 / 12, 0.02);
    const Tensor unit = uniform_(empty({n}, {dtype}), 0, 1);
    VisitFloating(dtype, [&]<Precision P, typename T>() {
      for (T v : unit.to_vector<T>()) {
        const float x = static_cast<float>(v);
        ASSERT_TRUE(x >= 0.0f && x < 1.0f) << x;
      }
      for (T v : u.to_vector<T>()) {
        const double x = static_cast<double>(static_cast<typename OpMathOf<T>::type>(v));
        ASSERT_TRUE(x >= -1.0 && x < 3.0) << x;
      }
    });

    const auto [nmean, nvar] = Moments(normal_(empty({n}, {dtype}), -2, 3));
    EXPECT_NEAR(nmean, -2.0, 0.02);
    EXPECT_NEAR(nvar, 9.0, 0.06);

    const Tensor tn = trunc_normal_(empty({n}, {dtype}), 0, 1, -2, 2);
    const auto [tmean, tvar] = Moments(tn);
    EXPECT_NEAR(tmean, 0.0, 0.01);
    EXPECT_NEAR(tvar, 0.7737413, 0.01);  // variance of N(0, 1) truncated to [-2, 2]
    VisitFloating(dtype, [&]<Precision P, typename T>() {
      for (T v : tn.to_vector<T>()) {
        const double x = static_cast<double>(static_cast<typename OpMathOf<T>::type>(v));
        ASSERT_TRUE(x >= -2.0 && x <= 2.0) << x;
      }
    });
  }
  const Tensor ints = random_(empty({n}, {DType::kInt32}), -10, 10);
  const std::vector<int32_t> values = ints.to_vector<int32_t>();
  EXPECT_EQ(*std::min_element(values.begin(), values.end()), -10);
  EXPECT_EQ(*std::max_element(values.begin(), values.end()), 9);
  EXPECT_NEAR(Moments(ints).first, -0.5, 0.03);
  EXPECT_NEAR(Moments(bernoulli_(empty({n}, {DType::kUInt8}), 0.8)).first, 0.8, 0.003);
}

TEST(RandomKernelsTest, RandpermIsAPermutationFixedByTheSeedAndOffset) {
  std::vector<int64_t> first_counts(5, 0);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    manual_seed(seed);
    const std::vector<int64_t> p = randperm(5).to_vector<int64_t>();
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(sorted, (std::vector<int64_t>{0, 1, 2, 3, 4})) << "seed " << seed;
    ++first_counts[p[0]];
    manual_seed(seed);
    EXPECT_EQ(randperm(5).to_vector<int64_t>(), p);
    EXPECT_EQ(get_rng_state(), (RngState{seed, 3}));  // 5 keys x 2 words: 3 blocks
  }
  // Each value leads about 40 of 200 permutations (a 6-sigma band of the binomial).
  for (int64_t count : first_counts) {
    EXPECT_GT(count, 10);
    EXPECT_LT(count, 70);
  }
  EXPECT_EQ(randperm(0).numel(), 0);
  EXPECT_EQ(randperm(300, {.dtype = DType::kFloat32}).dtype(), DType::kFloat32);
  EXPECT_THROW(randperm(-1), Error);
  EXPECT_THROW(randperm(300, {.dtype = DType::kUInt8}), Error);
}

}  // namespace
}  // namespace deferred
