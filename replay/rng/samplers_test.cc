#include "replay/rng/samplers.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "fake_tensor/half.h"
#include "gtest/gtest.h"
#include "replay/rng/deterministic_math.h"
#include "replay/rng/philox.h"

namespace deferred::rng {
namespace {

constexpr uint64_t kSeed = 0x5eed5eed12345678ull;

// Words [first, first + count) of the stream at `offset`, one StreamWord call each.
std::vector<uint32_t> Words(uint64_t offset, uint64_t first, int count) {
  std::vector<uint32_t> words;
  for (int k = 0; k < count; ++k) words.push_back(StreamWord(kSeed, offset, first + k));
  return words;
}

TEST(SamplersTest, RoundToPrecisionMatchesTheTensorConversions) {
  std::mt19937_64 rng(1);
  std::vector<float> values = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.99f, 65520.0f, 1e-8f,
                               0x1p-24f, 0x1.8p-25f, 0x1p-25f, 0x1.ffcp-15f, 0x1.ffep-15f,
                               std::numeric_limits<float>::infinity(), 3.3895e38f, 3.4e38f};
  for (int k = 0; k < 200000; ++k) values.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  for (float v : values) {
    if (std::isnan(v)) continue;
    for (float x : {v, -v}) {
      const float half = static_cast<float>(Half(x));
      const float bfloat = static_cast<float>(BFloat16(x));
      ASSERT_EQ(std::bit_cast<uint32_t>(RoundToPrecision<Precision::kFloat16>(x)),
                std::bit_cast<uint32_t>(half))
          << "float16 of " << x;
      ASSERT_EQ(std::bit_cast<uint32_t>(RoundToPrecision<Precision::kBFloat16>(x)),
                std::bit_cast<uint32_t>(bfloat))
          << "bfloat16 of " << x;
    }
  }
}

TEST(SamplersTest, UnitIntervalsSpanTheirEndsExactly) {
  const uint32_t zeros[2] = {0, 0};
  const uint32_t ones[2] = {0xffffffffu, 0xffffffffu};
  EXPECT_EQ(UnitInterval<Precision::kFloat32>(zeros), 0.0f);
  EXPECT_EQ(UnitInterval<Precision::kFloat32>(ones), 1.0f - 0x1p-24f);
  EXPECT_EQ(UnitIntervalOpenAtZero<Precision::kFloat32>(zeros), 0x1p-24f);
  EXPECT_EQ(UnitIntervalOpenAtZero<Precision::kFloat32>(ones), 1.0f);
  EXPECT_EQ(UnitInterval<Precision::kFloat64>(zeros), 0.0);
  EXPECT_EQ(UnitInterval<Precision::kFloat64>(ones), 1.0 - 0x1p-53);
  EXPECT_EQ(UnitIntervalOpenAtZero<Precision::kFloat64>(zeros), 0x1p-53);
  EXPECT_EQ(UnitIntervalOpenAtZero<Precision::kFloat64>(ones), 1.0);
  // The first word holds the high bits.
  const uint32_t first_only[2] = {1, 0};
  EXPECT_EQ(UnitInterval<Precision::kFloat64>(first_only), 0x1p-32);
  const uint32_t high_of_second[2] = {0, 0x800u};
  EXPECT_EQ(UnitInterval<Precision::kFloat64>(high_of_second), 0x1p-53);
}

// The specification of each sampler, restated from docs/RNG.md with the stream words read
// one by one: element i of an op at `offset` must equal it.
TEST(SamplersTest, ElementIIsTheDocumentedFunctionOfItsWords) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 2000; ++trial) {
    const uint64_t offset = trial % 3 == 0 ? rng() : rng() % 1000;
    const uint64_t i = rng() % 100000;
    SCOPED_TRACE(testing::Message() << "offset " << offset << " element " << i);

    const uint32_t w1 = StreamWord(kSeed, offset, i);
    const auto u24 = [](uint32_t w) { return static_cast<float>(w >> 8) * 0x1p-24f; };
    const auto u53 = [](uint32_t a, uint32_t b) {
      return static_cast<double>((static_cast<uint64_t>(a) << 21) | (b >> 11)) * 0x1p-53;
    };

    // uniform_, float32: one word per element.
    const auto uniform32 = MakeUniformSampler<Precision::kFloat32>(-3.0, 5.0);
    EXPECT_EQ(SampleAt(uniform32, kSeed, offset, i), -3.0f + u24(w1) * 8.0f);
    // uniform_, float64: words 2i and 2i+1.
    const std::vector<uint32_t> w2 = Words(offset, 2 * i, 2);
    const auto uniform64 = MakeUniformSampler<Precision::kFloat64>(-3.0, 5.0);
    EXPECT_EQ(SampleAt(uniform64, kSeed, offset, i), -3.0 + u53(w2[0], w2[1]) * 8.0);

    // normal_, float32: elements 2k and 2k+1 from words 2k and 2k+1.
    const uint64_t k = i / 2;
    const std::vector<uint32_t> pair = Words(offset, 2 * k, 2);
    const float u1 = static_cast<float>((pair[0] >> 8) + 1) * 0x1p-24f;
    const float r = std::sqrt(-2.0f * detmath::Log(u1));
    float s, c;
    detmath::SinCos2Pi(u24(pair[1]), &s, &c);
    const float z = i % 2 == 0 ? r * c : r * s;
    EXPECT_EQ(SampleAt(MakeNormalSampler<Precision::kFloat32>(1.5, 2.0), kSeed, offset, i),
              z * 2.0f + 1.5f);
    // normal_, float64: elements 2k and 2k+1 from words 4k .. 4k+3 (one block).
    const std::vector<uint32_t> quad = Words(offset, 4 * k, 4);
    const double d1 = (static_cast<double>((static_cast<uint64_t>(quad[0]) << 21) |
                                           (quad[1] >> 11)) + 1.0) * 0x1p-53;
    const double rd = std::sqrt(-2.0 * detmath::Log(d1));
    double sd, cd;
    detmath::SinCos2Pi(u53(quad[2], quad[3]), &sd, &cd);
    const double zd = i % 2 == 0 ? rd * cd : rd * sd;
    EXPECT_EQ(SampleAt(MakeNormalSampler<Precision::kFloat64>(1.5, 2.0), kSeed, offset, i),
              zd * 2.0 + 1.5);

    // trunc_normal_, float32: one word.
    const auto trunc = MakeTruncNormalSampler<Precision::kFloat32>(0.5, 2.0, -1.0, 3.0);
    const float x = std::min(trunc.lo + u24(w1) * trunc.range, trunc.hi);
    const float t = std::clamp(detmath::ErfInv(x) * trunc.scale + 0.5f, -1.0f, 3.0f);
    EXPECT_EQ(SampleAt(trunc, kSeed, offset, i), t);

    // random_: one word below a range of 2^32, else two (first word high).
    EXPECT_EQ(SampleAt(MakeRandomSampler<1>(-10, 89), kSeed, offset, i), -10 + int64_t{w1 % 100});
    const uint64_t x64 = (static_cast<uint64_t>(w2[0]) << 32) | w2[1];
    const int64_t to = int64_t{1} << 40;
    EXPECT_EQ(SampleAt(MakeRandomSampler<2>(7, to), kSeed, offset, i),
              static_cast<int64_t>(7 + x64 % static_cast<uint64_t>(to - 6)));
    EXPECT_EQ(SampleAt(MakeRandomSampler<2>(std::numeric_limits<int64_t>::min(),
                                            std::numeric_limits<int64_t>::max()),
                       kSeed, offset, i),
              static_cast<int64_t>(x64 + (uint64_t{1} << 63)));

    // bernoulli_: one word, 1 when its high 24 bits scaled by 2^-24 are below p.
    EXPECT_EQ(SampleAt(MakeBernoulliSampler(0.3), kSeed, offset, i), u24(w1) < 0.3 ? 1.0f : 0.0f);
  }
}

// The known answers of docs/RNG.md, section 7.
TEST(SamplersTest, MatchesTheDocumentedKnownAnswers) {
  const uint64_t seed = 42;
  const PhiloxWords block0 = PhiloxBlock(seed, 0), block1 = PhiloxBlock(seed, 1);
  EXPECT_EQ(std::vector<uint32_t>(block0.w, block0.w + 4),
            (std::vector<uint32_t>{0x9ceaf053, 0x77f5493b, 0x12bf50ad, 0x5742b3d7}));
  EXPECT_EQ(std::vector<uint32_t>(block1.w, block1.w + 4),
            (std::vector<uint32_t>{0xfcdb2127, 0x53ba6cfd, 0x838f5a6e, 0x744e06fb}));
  const auto u32 = MakeUniformSampler<Precision::kFloat32>(0, 1);
  const float expected32[] = {0x1.39d5ep-1f, 0x1.dfd524p-2f, 0x1.2bf5p-4f, 0x1.5d0accp-2f};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(SampleAt(u32, seed, 0, i), expected32[i]) << i;
  const auto u64 = MakeUniformSampler<Precision::kFloat64>(0, 1);
  EXPECT_EQ(SampleAt(u64, seed, 0, 0), 0x1.39d5e0a6efea9p-1);
  EXPECT_EQ(SampleAt(u64, seed, 0, 1), 0x1.2bf50ad5742bp-4);
  const auto r = MakeRandomSampler<1>(0, 9);
  const int64_t expected_r[] = {3, 1, 7, 7};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(SampleAt(r, seed, 0, i), expected_r[i]) << i;
}

TEST(SamplersTest, RandomUsesTwoWordsFromARangeOf2To32) {
  EXPECT_EQ(RandomWordsPerElement(0, 0xfffffffell), 1);
  EXPECT_EQ(RandomWordsPerElement(0, 0xffffffffll), 2);
  EXPECT_EQ(RandomWordsPerElement(-1, 0xfffffffdll), 1);
  EXPECT_EQ(RandomWordsPerElement(std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()),
            2);
}

TEST(SamplersTest, UniformNeverReachesHiEvenWhereRoundingWould) {
  const uint32_t top[2] = {0xffffffffu, 0xffffffffu};
  float f;
  // 1 + (1 - 2^-24) rounds to 2 in float.
  MakeUniformSampler<Precision::kFloat32>(1.0, 2.0).Group(top, &f);
  EXPECT_EQ(f, std::nextafter(2.0f, 0.0f));
  // 1 - 2^-24 rounds to 1 in float16 and bfloat16.
  MakeUniformSampler<Precision::kFloat16>(0.0, 1.0).Group(top, &f);
  EXPECT_EQ(f, 1.0f - 0x1p-11f);
  MakeUniformSampler<Precision::kBFloat16>(0.0, 1.0).Group(top, &f);
  EXPECT_EQ(f, 1.0f - 0x1p-8f);
  MakeUniformSampler<Precision::kFloat16>(-1.0, 0.0).Group(top, &f);
  EXPECT_EQ(f, -0x1p-24f);
  double d;
  MakeUniformSampler<Precision::kFloat64>(1.0, 2.0).Group(top, &d);
  EXPECT_LT(d, 2.0);
  // from == to gives from.
  MakeUniformSampler<Precision::kFloat32>(0.25, 0.25).Group(top, &f);
  EXPECT_EQ(f, 0.25f);
}

TEST(SamplersTest, BoxMullerWithU1OfOneGivesTheMean) {
  const uint32_t words[4] = {0xffffffffu, 0xffffffffu, 0x12345678u, 0x9abcdef0u};
  float f[2];
  MakeNormalSampler<Precision::kFloat32>(3.0, 2.0).Group(words, f);
  EXPECT_EQ(f[0], 3.0f);
  EXPECT_EQ(f[1], 3.0f);
  double d[2];
  MakeNormalSampler<Precision::kFloat64>(-1.0, 2.0).Group(words, d);
  EXPECT_EQ(d[0], -1.0);
  EXPECT_EQ(d[1], -1.0);
}

TEST(SamplersTest, TruncNormalExtremeWordsStayWithinBounds) {
  for (const auto& [a, b] : std::vector<std::pair<double, double>>{
           {-2, 2}, {-0.1, 0.1}, {1.5, 4}, {-10, -9}, {-1e-3, 40}}) {
    SCOPED_TRACE(testing::Message() << "[" << a << ", " << b << "]");
    for (uint32_t w : {0u, 0xffu, 0x100u, 0x80000000u, 0xfffffeffu, 0xffffffffu}) {
      const uint32_t words[2] = {w, w};
      float f;
      MakeTruncNormalSampler<Precision::kFloat32>(0.0, 1.0, a, b).Group(words, &f);
      EXPECT_GE(f, static_cast<float>(a)) << std::hex << w;
      EXPECT_LE(f, static_cast<float>(b)) << std::hex << w;
      double d;
      MakeTruncNormalSampler<Precision::kFloat64>(0.0, 1.0, a, b).Group(words, &d);
      EXPECT_GE(d, a) << std::hex << w;
      EXPECT_LE(d, b) << std::hex << w;
    }
  }
}

// Mean and variance of `n` elements of a sampler, from SampleAt.
template <typename Sampler>
std::pair<double, double> Moments(const Sampler& sampler, int64_t n, uint64_t offset = 77) {
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(SampleAt(sampler, kSeed, offset, i));
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / n;
  return {mean, sum_sq / n - mean * mean};
}

constexpr int64_t kSamples = 1 << 17;

TEST(SamplersTest, MomentsMatchTheDistributions) {
  // Tolerances: about 5 standard errors of each estimate for 2^17 samples.
  {
    const auto [mean, var] = Moments(MakeUniformSampler<Precision::kFloat32>(-1, 3), kSamples);
    EXPECT_NEAR(mean, 1.0, 0.016);
    EXPECT_NEAR(var, 16.0 / 12, 0.02);
  }
  {
    const auto [mean, var] = Moments(MakeUniformSampler<Precision::kFloat64>(2, 4), kSamples);
    EXPECT_NEAR(mean, 3.0, 0.008);
    EXPECT_NEAR(var, 4.0 / 12, 0.005);
  }
  for (const auto& [mean, var] : {Moments(MakeNormalSampler<Precision::kFloat32>(1, 2), kSamples),
                                   Moments(MakeNormalSampler<Precision::kFloat64>(1, 2), kSamples)}) {
    EXPECT_NEAR(mean, 1.0, 0.03);
    EXPECT_NEAR(var, 4.0, 0.08);
  }
  EXPECT_NEAR(Moments(MakeBernoulliSampler(0.3), kSamples).first, 0.3, 0.007);
  {
    const auto [mean, var] = Moments(MakeRandomSampler<1>(-5, 14), kSamples);
    EXPECT_NEAR(mean, 4.5, 0.1);
    EXPECT_NEAR(var, (20.0 * 20 - 1) / 12, 0.8);
  }
}

// The mean and variance of N(mean, std^2) truncated to [a, b].
std::pair<double, double> TruncatedNormalMoments(double mean, double std, double a, double b) {
  const auto pdf = [](double x) { return std::exp(-x * x / 2) / std::sqrt(2 * M_PI); };
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const double alpha = (a - mean) / std, beta = (b - mean) / std;
  const double z = cdf(beta) - cdf(alpha);
  const double shift = (pdf(alpha) - pdf(beta)) / z;
  const double var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift * shift;
  return {mean + std * shift, std * std * var};
}

TEST(SamplersTest, TruncNormalMomentsAndBounds) {
  for (const auto& [mean, std, a, b] : std::vector<std::tuple<double, double, double, double>>{
           {0, 1, -2, 2}, {1, 0.5, 0, 3}, {0, 1, 0.5, 2.5}, {-2, 3, -1, 5}}) {
    SCOPED_TRACE(testing::Message() << "mean " << mean << " std " << std << " [" << a << ", "
                                    << b << "]");
    const auto expected = TruncatedNormalMoments(mean, std, a, b);
    const auto sampler32 = MakeTruncNormalSampler<Precision::kFloat32>(mean, std, a, b);
    const auto sampler64 = MakeTruncNormalSampler<Precision::kFloat64>(mean, std, a, b);
    for (int64_t i = 0; i < 20000; ++i) {
      const float f = SampleAt(sampler32, kSeed, 3, i);
      ASSERT_TRUE(f >= static_cast<float>(a) && f <= static_cast<float>(b)) << f;
      const double d = SampleAt(sampler64, kSeed, 3, i);
      ASSERT_TRUE(d >= a && d <= b) << d;
    }
    for (const auto& [m, v] : {Moments(sampler32, kSamples), Moments(sampler64, kSamples)}) {
      const double sd = std::sqrt(expected.second / kSamples);
      EXPECT_NEAR(m, expected.first, 6 * sd);
      EXPECT_NEAR(v, expected.second, 0.03 * expected.second);
    }
  }
}

TEST(SamplersTest, DifferentSeedsAndOffsetsGiveDifferentStreams) {
  const auto sampler = MakeUniformSampler<Precision::kFloat32>(0, 1);
  int same_offset = 0, same_seed = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    const float v = SampleAt(sampler, kSeed, 0, i);
    same_offset += v == SampleAt(sampler, kSeed, 1, i);
    same_seed += v == SampleAt(sampler, kSeed + 1, 0, i);
  }
  EXPECT_LT(same_offset, 5);
  EXPECT_LT(same_seed, 5);
}

}  // namespace
}  // namespace deferred::rng
