#include "fake_tensor/dtype.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deferred {
namespace {

constexpr DType kF32 = DType::kFloat32;
constexpr DType kF64 = DType::kFloat64;
constexpr DType kF16 = DType::kFloat16;
constexpr DType kBF16 = DType::kBFloat16;
constexpr DType kI64 = DType::kInt64;
constexpr DType kI32 = DType::kInt32;
constexpr DType kU8 = DType::kUInt8;
constexpr DType kB = DType::kBool;

TEST(DTypeTest, PromoteTypesMatchesPyTorchTable) {
  // torch.promote_types(row, column), written out by hand; order as kAllDTypes:
  // float32, float64, float16, bfloat16, int64, int32, uint8, bool.
  const DType expected[8][8] = {
      /*float32*/ {kF32, kF64, kF32, kF32, kF32, kF32, kF32, kF32},
      /*float64*/ {kF64, kF64, kF64, kF64, kF64, kF64, kF64, kF64},
      /*float16*/ {kF32, kF64, kF16, kF32, kF16, kF16, kF16, kF16},
      /*bfloat16*/ {kF32, kF64, kF32, kBF16, kBF16, kBF16, kBF16, kBF16},
      /*int64*/ {kF32, kF64, kF16, kBF16, kI64, kI64, kI64, kI64},
      /*int32*/ {kF32, kF64, kF16, kBF16, kI64, kI32, kI32, kI32},
      /*uint8*/ {kF32, kF64, kF16, kBF16, kI64, kI32, kU8, kU8},
      /*bool*/ {kF32, kF64, kF16, kBF16, kI64, kI32, kU8, kB},
  };
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      EXPECT_EQ(PromoteTypes(kAllDTypes[i], kAllDTypes[j]), expected[i][j])
          << DTypeName(kAllDTypes[i]) << " with " << DTypeName(kAllDTypes[j]) << " gave "
          << DTypeName(PromoteTypes(kAllDTypes[i], kAllDTypes[j]));
    }
  }
}

TEST(DTypeTest, ElementSizesNamesAndCategories) {
  struct Expected {
    DType dtype;
    int64_t size;
    const char* name;
    bool floating;
    bool integral;
  };
  const Expected table[] = {
      {kF32, 4, "float32", true, false},   {kF64, 8, "float64", true, false},
      {kF16, 2, "float16", true, false},   {kBF16, 2, "bfloat16", true, false},
      {kI64, 8, "int64", false, true},     {kI32, 4, "int32", false, true},
      {kU8, 1, "uint8", false, true},      {kB, 1, "bool", false, false},
  };
  for (const Expected& e : table) {
    EXPECT_EQ(ElementSize(e.dtype), e.size) << e.name;
    EXPECT_STREQ(DTypeName(e.dtype), e.name);
    EXPECT_EQ(IsFloatingPoint(e.dtype), e.floating) << e.name;
    EXPECT_EQ(IsIntegral(e.dtype), e.integral) << e.name;
  }
}

TEST(DTypeTest, ParseDTypeRoundTripsEveryNameAndRejectsOthers) {
  for (DType dtype : kAllDTypes) {
    DType parsed = dtype == kF32 ? kB : kF32;
    ASSERT_TRUE(ParseDType(DTypeName(dtype), &parsed)) << DTypeName(dtype);
    EXPECT_EQ(parsed, dtype);
  }
  for (const char* name : {"", "float", "Float32", "float32 ", "int8", "half", "unknown"}) {
    DType parsed = kI32;
    EXPECT_FALSE(ParseDType(name, &parsed)) << name;
    EXPECT_EQ(parsed, kI32) << "a failed parse must leave the output alone";
  }
}

TEST(DTypeTest, VisitDTypeGivesTheStorageTypeOfEachDType) {
  for (DType dtype : kAllDTypes) {
    VisitDType(dtype, [&]<typename T>() {
      EXPECT_EQ(DTypeOf<T>(), dtype);
      EXPECT_EQ(static_cast<int64_t>(sizeof(T)), ElementSize(dtype)) << DTypeName(dtype);
    });
  }
}

// The exact value of half bit pattern `bits` (sign ignored); 0x7c00 gives 2^16, the value
// a binary16 with one more exponent would have, which is where rounding to inf starts.
double HalfMagnitude(uint32_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  if (exponent == 0) return std::ldexp(mantissa, -24);
  return std::ldexp(1024 + mantissa, exponent - 25);
}

// Same for bfloat16 (8 exponent bits, 7 mantissa bits); 0x7f80 gives 2^128.
double BFloat16Magnitude(uint32_t bits) {
  const int exponent = (bits >> 7) & 0xff;
  const int mantissa = bits & 0x7f;
  if (exponent == 0) return std::ldexp(mantissa, -133);
  return std::ldexp(128 + mantissa, exponent - 134);
}

// Reference round-to-nearest-even of float `x` into a 16-bit format whose non-negative
// values, by bit pattern, are `magnitudes` (up to and including the inf pattern, valued at
// the next power of two). Ties are decided by comparing with the exact midpoint (a double).
uint16_t ReferenceRound(float x, const std::vector<double>& magnitudes, uint16_t nan_bits) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return sign | nan_bits;
  const uint16_t inf_bits = static_cast<uint16_t>(magnitudes.size() - 1);
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return sign | inf_bits;
  if (a >= magnitudes.back()) return sign | inf_bits;
  // The largest pattern whose value is <= a.
  const size_t low = std::upper_bound(magnitudes.begin(), magnitudes.end(), a) -
                     magnitudes.begin() - 1;
  if (magnitudes[low] == a) return sign | static_cast<uint16_t>(low);
  const double midpoint = (magnitudes[low] + magnitudes[low + 1]) / 2;  // exact
  size_t chosen;
  if (a < midpoint) {
    chosen = low;
  } else if (a > midpoint) {
    chosen = low + 1;
  } else {
    chosen = low % 2 == 0 ? low : low + 1;
  }
  return sign | static_cast<uint16_t>(chosen);
}

std::vector<double> Magnitudes(double (*magnitude)(uint32_t), uint32_t inf_bits) {
  std::vector<double> out;
  for (uint32_t bits = 0; bits <= inf_bits; ++bits) out.push_back(magnitude(bits));
  return out;
}

bool IsHalfNaN(uint16_t bits) { return (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0; }
bool IsBFloat16NaN(uint16_t bits) { return (bits & 0x7f80) == 0x7f80 && (bits & 0x7f) != 0; }

TEST(HalfTest, EveryBitPatternConvertsExactlyAndRoundTrips) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const float f = Half::FromBits(static_cast<uint16_t>(bits));
    const uint16_t back = Half(f).bits;
    if (IsHalfNaN(bits)) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << bits;
      EXPECT_TRUE(IsHalfNaN(back)) << std::hex << bits;
      EXPECT_EQ(back & 0x8000, bits & 0x8000) << "NaN keeps its sign: " << std::hex << bits;
      continue;
    }
    const double magnitude = (bits & 0x7fff) == 0x7c00
                                 ? std::numeric_limits<double>::infinity()
                                 : HalfMagnitude(bits & 0x7fff);
    EXPECT_EQ(static_cast<double>(f), (bits & 0x8000) ? -magnitude : magnitude)
        << std::hex << bits;
    EXPECT_EQ(std::signbit(f), (bits & 0x8000) != 0) << std::hex << bits;
    EXPECT_EQ(back, bits) << std::hex << bits;
  }
}

TEST(BFloat16Test, EveryBitPatternConvertsExactlyAndRoundTrips) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const float f = BFloat16::FromBits(static_cast<uint16_t>(bits));
    EXPECT_EQ(std::bit_cast<uint32_t>(f), bits << 16) << std::hex << bits;
    const uint16_t back = BFloat16(f).bits;
    if (IsBFloat16NaN(bits)) {
      EXPECT_TRUE(IsBFloat16NaN(back)) << std::hex << bits;
      EXPECT_EQ(back & 0x8000, bits & 0x8000) << std::hex << bits;
      continue;
    }
    EXPECT_EQ(back, bits) << std::hex << bits;
  }
}

// Floats that exercise rounding: uniformly random bit patterns (every exponent, subnormals,
// inf, NaN), the exact midpoints between neighbouring 16-bit values and their float
// neighbours, and values around the overflow threshold.
std::vector<float> RoundingProbes(const std::vector<double>& magnitudes, uint64_t seed,
                                  int random_count) {
  std::mt19937_64 rng(seed);
  std::vector<float> probes;
  for (int i = 0; i < random_count; ++i) {
    probes.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  }
  for (size_t i = 0; i + 1 < magnitudes.size(); ++i) {
    const double mid = (magnitudes[i] + magnitudes[i + 1]) / 2;
    const float tie = static_cast<float>(mid);
    if (static_cast<double>(tie) != mid) continue;  // not a float
    for (float v : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, INFINITY),
                    static_cast<float>(magnitudes[i])}) {
      probes.push_back(v);
      probes.push_back(-v);
    }
  }
  for (float special : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN,
                        std::numeric_limits<float>::denorm_min(),
                        std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
                        std::numeric_limits<float>::lowest()}) {
    probes.push_back(special);
  }
  return probes;
}

TEST(HalfTest, FromFloatRoundsToNearestEvenLikeTheExactReference) {
  const uint64_t seed = 20240611;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  const std::vector<double> magnitudes = Magnitudes(HalfMagnitude, 0x7c00);
  int failures = 0;
  for (float x : RoundingProbes(magnitudes, seed, 4'000'000)) {
    const uint16_t expected = ReferenceRound(x, magnitudes, 0x7e00);
    const uint16_t got = Half(x).bits;
    if (got != expected && failures++ < 10) {
      ADD_FAILURE() << "float bits " << std::hex << std::bit_cast<uint32_t>(x) << " gave half "
                    << got << ", expected " << expected;
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(BFloat16Test, FromFloatRoundsToNearestEvenLikeTheExactReference) {
  const uint64_t seed = 20240612;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  const std::vector<double> magnitudes = Magnitudes(BFloat16Magnitude, 0x7f80);
  int failures = 0;
  for (float x : RoundingProbes(magnitudes, seed, 4'000'000)) {
    const uint16_t expected = ReferenceRound(x, magnitudes, 0x7fc0);
    const uint16_t got = BFloat16(x).bits;
    // NaN payloads are not specified; any NaN of the right sign will do.
    const bool both_nan = IsBFloat16NaN(got) && IsBFloat16NaN(expected) &&
                          (got & 0x8000) == (expected & 0x8000);
    if (got != expected && !both_nan && failures++ < 10) {
      ADD_FAILURE() << "float bits " << std::hex << std::bit_cast<uint32_t>(x)
                    << " gave bfloat16 " << got << ", expected " << expected;
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(HalfTest, KnownRoundingCases) {
  EXPECT_EQ(Half(1.0f).bits, 0x3c00);
  EXPECT_EQ(Half(1.0f + 0x1p-11f).bits, 0x3c00) << "tie rounds down to the even mantissa";
  EXPECT_EQ(Half(1.0f + 3 * 0x1p-11f).bits, 0x3c02) << "tie rounds up to the even mantissa";
  EXPECT_EQ(Half(65504.0f).bits, 0x7bff);
  EXPECT_EQ(Half(65519.99f).bits, 0x7bff);
  EXPECT_EQ(Half(65520.0f).bits, 0x7c00) << "the tie above the largest half is inf";
  EXPECT_EQ(Half(-1e10f).bits, 0xfc00);
  EXPECT_EQ(Half(0x1p-24f).bits, 0x0001);
  EXPECT_EQ(Half(0x1p-25f).bits, 0x0000) << "tie between 0 and the smallest subnormal";
  EXPECT_EQ(Half(0x1.000002p-25f).bits, 0x0001);
  EXPECT_EQ(Half(0x3p-25f).bits, 0x0002) << "subnormal tie rounds to even";
  EXPECT_EQ(Half(-0.0f).bits, 0x8000);
  EXPECT_EQ(Half(0x1.ffcp-15f).bits, 0x0400) << "rounds up from subnormal to normal";
  EXPECT_EQ(Half(NAN).bits & 0x7e00, 0x7e00);
}

TEST(BFloat16Test, KnownRoundingCases) {
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(BFloat16(1.0f + 0x1p-8f).bits, 0x3f80) << "tie to even (down)";
  EXPECT_EQ(BFloat16(1.0f + 3 * 0x1p-8f).bits, 0x3f82) << "tie to even (up)";
  EXPECT_EQ(BFloat16(std::numeric_limits<float>::max()).bits, 0x7f80);
  EXPECT_EQ(BFloat16(-INFINITY).bits, 0xff80);
  EXPECT_EQ(BFloat16(std::numeric_limits<float>::denorm_min()).bits, 0x0000);
  EXPECT_TRUE(IsBFloat16NaN(BFloat16(std::bit_cast<float>(0x7f800001u)).bits))
      << "a NaN whose payload is only in the low bits stays NaN";
}

TEST(CastElementTest, FloatingToIntegralTruncatesAndIsDefinedOutOfRange) {
  EXPECT_EQ(CastElement<int64_t>(2.9), 2);
  EXPECT_EQ(CastElement<int64_t>(-2.9f), -2);
  EXPECT_EQ(CastElement<int32_t>(2147483647.9), 2147483647);
  EXPECT_EQ(CastElement<int32_t>(-2147483648.9), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(CastElement<int32_t>(2147483648.0), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(CastElement<int32_t>(1e10f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(CastElement<int64_t>(9.3e18), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(CastElement<int64_t>(-9223372036854775808.0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(CastElement<int64_t>(9223372036854774784.0), 9223372036854774784);
  for (double bad : {NAN, INFINITY, -INFINITY}) {
    EXPECT_EQ(CastElement<int64_t>(bad), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(CastElement<int32_t>(static_cast<float>(bad)), std::numeric_limits<int32_t>::min());
    EXPECT_EQ(CastElement<int32_t>(Half(static_cast<float>(bad))),
              std::numeric_limits<int32_t>::min());
    EXPECT_EQ(CastElement<uint8_t>(bad), 0);
  }
  // uint8 goes through int64, as in PyTorch: negative values wrap.
  EXPECT_EQ(CastElement<uint8_t>(-1.0f), 255);
  EXPECT_EQ(CastElement<uint8_t>(-1.5), 255);
  EXPECT_EQ(CastElement<uint8_t>(256.0), 0);
  EXPECT_EQ(CastElement<uint8_t>(300.7f), 44);
  EXPECT_EQ(CastElement<uint8_t>(BFloat16(-2.0f)), 254);
}

TEST(CastElementTest, IntegralAndBoolConversions) {
  EXPECT_EQ(CastElement<int32_t>(int64_t{1} << 32 | 5), 5);
  EXPECT_EQ(CastElement<uint8_t>(int64_t{-1}), 255);
  EXPECT_EQ(CastElement<int64_t>(uint8_t{200}), 200);
  EXPECT_EQ(CastElement<int64_t>(true), 1);
  EXPECT_EQ(CastElement<float>(true), 1.0f);
  EXPECT_EQ(CastElement<Half>(true).bits, 0x3c00);
  EXPECT_TRUE(CastElement<bool>(0.5));
  EXPECT_TRUE(CastElement<bool>(NAN));
  EXPECT_TRUE(CastElement<bool>(Half(NAN)));
  EXPECT_TRUE(CastElement<bool>(int64_t{256}));
  EXPECT_FALSE(CastElement<bool>(-0.0f));
  EXPECT_FALSE(CastElement<bool>(BFloat16::FromBits(0x8000)));
  EXPECT_FALSE(CastElement<bool>(uint8_t{0}));
}

TEST(CastElementTest, SixteenBitFloatsConvertThroughFloat) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const double d = std::bit_cast<double>(rng());
    EXPECT_EQ(CastElement<Half>(d).bits, Half(static_cast<float>(d)).bits);
    EXPECT_EQ(CastElement<BFloat16>(d).bits, BFloat16(static_cast<float>(d)).bits);
    const int64_t n = static_cast<int64_t>(rng()) >> (rng() % 64);
    EXPECT_EQ(CastElement<Half>(n).bits, Half(static_cast<float>(n)).bits);
    EXPECT_EQ(CastElement<BFloat16>(n).bits, BFloat16(static_cast<float>(n)).bits);
  }
  EXPECT_EQ(CastElement<BFloat16>(Half(1.5f)).bits, 0x3fc0);
  EXPECT_EQ(CastElement<Half>(BFloat16(-2.0f)).bits, 0xc000);
  EXPECT_EQ(CastElement<double>(Half::FromBits(0x0001)), 0x1p-24);
}

}  // namespace
}  // namespace deferred
