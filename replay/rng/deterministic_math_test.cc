#include "replay/rng/deterministic_math.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace deferred::detmath {
namespace {

// Points per sampled domain. Sanitized builds run an order of magnitude slower, and the
// plain build already measures the bounds over the full count.
#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kPoints = 100'000;
#else
constexpr int64_t kPoints = 1'000'000;
#endif

constexpr uint64_t kSeed = 20240611;

// The error of `got` in units in the last place of T at `want`. An infinite `got` is exact
// where `want` rounds to infinity, and otherwise counts as 2^max_exponent, so a result that
// overflows one ulp early is one ulp off, not infinitely.
template <typename T>
double UlpError(T got, long double want) {
  using Limits = std::numeric_limits<T>;
  if (std::isnan(want) || std::isnan(got)) {
    return std::isnan(want) && std::isnan(got) ? 0.0 : Limits::infinity();
  }
  if (std::isinf(got) && static_cast<T>(want) == got) return 0.0;
  const long double overflow = std::ldexp(1.0L, Limits::max_exponent);
  const long double got_ld = std::isinf(got) ? std::copysign(overflow, got) : got;
  const long double want_ld = std::isinf(want) ? std::copysign(overflow, want) : want;
  const long double magnitude = std::fabs(want_ld);
  long double ulp = Limits::denorm_min();
  if (magnitude >= Limits::min()) {
    const int exponent = std::min(std::ilogb(magnitude), Limits::max_exponent - 1);
    ulp = std::ldexp(1.0L, exponent - (Limits::digits - 1));
  }
  return static_cast<double>(std::fabs(got_ld - want_ld) / ulp);
}

template <typename T>
struct WorstCase {
  double ulp = 0.0;
  T input = 0;
};

// The largest ulp error of `f` against the long double reference `ref` over `inputs`.
template <typename T>
WorstCase<T> MaxUlpError(const std::vector<T>& inputs, const std::function<T(T)>& f,
                         const std::function<long double(T)>& ref) {
  WorstCase<T> worst;
  for (const T x : inputs) {
    const double error = UlpError(f(x), ref(x));
    if (!(error <= worst.ulp)) worst = {error, x};
  }
  return worst;
}

template <typename T>
void ExpectMaxUlp(const std::string& what, const std::vector<T>& inputs,
                  const std::function<T(T)>& f, const std::function<long double(T)>& ref,
                  double bound) {
  const WorstCase<T> worst = MaxUlpError(inputs, f, ref);
  // Printed so that the measured accuracy (docs/RNG_MATH.md) can be read from any run.
  std::printf("%-44s %9lld points  max %.4f ulp  at %a\n", what.c_str(),
              static_cast<long long>(inputs.size()), worst.ulp,
              static_cast<double>(worst.input));
  EXPECT_LE(worst.ulp, bound) << what << " at " << std::hexfloat << worst.input;
}

// Bit patterns drawn uniformly from [lo, hi]: every binade equally often.
template <typename T>
std::vector<T> RandomBitPatterns(T lo, T hi, int64_t n, uint64_t seed) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<Bits> bits(std::bit_cast<Bits>(lo), std::bit_cast<Bits>(hi));
  std::vector<T> out(n);
  for (T& x : out) x = std::bit_cast<T>(bits(rng));
  return out;
}

// Symmetric version of RandomBitPatterns: magnitudes up to `hi`, either sign.
template <typename T>
std::vector<T> RandomSignedBitPatterns(T hi, int64_t n, uint64_t seed) {
  std::vector<T> out = RandomBitPatterns<T>(0, hi, n, seed);
  for (size_t i = 0; i < out.size(); i += 2) out[i] = -out[i];
  return out;
}

template <typename T>
std::vector<T> RandomUniform(T lo, T hi, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<T> dist(lo, hi);
  std::vector<T> out(n);
  for (T& x : out) x = dist(rng);
  return out;
}

// What a sampler feeds to Log: (k + 1) * 2^-digits for a random integer k, in (0, 1].
template <typename T>
std::vector<T> SamplerUnitInterval(int64_t n, uint64_t seed) {
  constexpr int kDigits = std::numeric_limits<T>::digits;
  std::mt19937_64 rng(seed);
  std::vector<T> out(n);
  for (T& x : out) {
    x = std::ldexp(static_cast<T>((rng() >> (64 - kDigits)) + 1), -kDigits);
  }
  return out;
}

template <typename T>
std::vector<T> Concat(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ---- Long double references (test only).

long double LogRef(long double x) { return std::log(x); }
long double Log1pRef(long double x) { return std::log1p(x); }
long double ExpRef(long double x) { return std::exp(x); }
long double ErfRef(long double x) { return std::erf(x); }

// sin(2*pi*u) and cos(2*pi*u) with u reduced exactly (4u and its rounding are exact in long
// double), so the reference keeps its relative accuracy near every zero.
std::pair<long double, long double> SinCos2PiRef(long double u) {
  const long double q = std::nearbyint(4.0L * u);
  const long double r = u - q / 4.0L;
  long double s, c;
  sincosl(2.0L * 3.141592653589793238462643383279502884L * r, &s, &c);
  switch (static_cast<int64_t>(std::fmod(q, 4.0L) + 4.0L) % 4) {
    case 0:
      return {s, c};
    case 1:
      return {c, -s};
    case 2:
      return {-s, -c};
    default:
      return {-c, s};
  }
}

// erfinv(y) for |y| < 1 by Newton's method in long double, from the value under test
// (three steps from a start within a few ulp leave only long double's own rounding). The
// residual uses erfc beyond 1/2 so that it keeps its relative accuracy as |y| -> 1. A
// non-finite start gets 0, which it cannot match.
long double ErfInvRef(long double y, long double start) {
  if (y == 0) return y;
  if (!std::isfinite(start)) return 0;
  const long double a = std::fabs(y);
  const long double two_over_sqrt_pi = 1.128379167095512573896158903121545172L;
  long double x = std::fabs(start);
  for (int i = 0; i < 3; ++i) {
    const long double residual = a < 0.5L ? a - std::erf(x) : std::erfc(x) - (1.0L - a);
    x += residual / (two_over_sqrt_pi * std::exp(-x * x));
  }
  return std::copysign(x, y);
}

// ---- Accuracy over each sampler's domain.

TEST(DeterministicMathTest, LogFloatWithinOneUlp) {
  SCOPED_TRACE(kSeed);
  const std::function<float(float)> f = [](float x) { return Log(x); };
  ExpectMaxUlp<float>("Log(float) sampler grid (0,1]", SamplerUnitInterval<float>(kPoints, kSeed),
                      f, LogRef, 1.0);
  ExpectMaxUlp<float>("Log(float) bits (0,1]",
                      RandomBitPatterns<float>(0x1p-149f, 1.0f, kPoints, kSeed + 1), f, LogRef,
                      1.0);
  ExpectMaxUlp<float>("Log(float) all positive finite",
                      RandomBitPatterns<float>(0x1p-149f, std::numeric_limits<float>::max(),
                                               kPoints, kSeed + 2),
                      f, LogRef, 1.0);
}

// Float ulps between a and b (finite, same sign or zero): the distance of their bit
// patterns on the line of ordered floats.
int64_t FloatUlps(float a, float b) {
  const auto ordered = [](float v) {
    const int32_t bits = std::bit_cast<int32_t>(v);
    return bits < 0 ? int64_t{INT32_MIN} - bits : int64_t{bits};
  };
  return std::abs(ordered(a) - ordered(b));
}

TEST(DeterministicMathTest, PowFloatWithinOneUlpAndCorrectlyRoundedAlmostEverywhere) {
  std::mt19937_64 rng(kSeed);
  int64_t inexact = 0, points = 0;
  for (int i = 0; i < 200000; ++i) {
    // Bases over all magnitudes, negative ones with integer exponents; exponents small
    // and large.
    const float x = std::bit_cast<float>(static_cast<uint32_t>(rng() % 0x7f800000u)) *
                    (i % 4 == 0 ? -1.0f : 1.0f);
    float y = std::uniform_real_distribution<float>(-8, 8)(rng) * (i % 3 == 0 ? 16.0f : 1.0f);
    if (x < 0) y = std::round(y);
    // The correctly rounded x^y: pow in double rounded once (double's error is far below
    // float's half ulp except for near-halfway results, counted below).
    const float expected =
        static_cast<float>(std::pow(static_cast<double>(x), static_cast<double>(y)));
    const float actual = Pow(x, y);
    if (std::isinf(expected) || expected == 0.0f) {
      // Overflow and underflow: the same, or one float off the edge.
      ASSERT_LE(FloatUlps(actual, expected), 1) << x << "^" << y;
      continue;
    }
    ++points;
    const int64_t ulps = FloatUlps(actual, expected);
    ASSERT_LE(ulps, 1) << x << "^" << y << " = " << actual << ", expected " << expected;
    inexact += ulps;
  }
  EXPECT_GT(points, 50000);
  EXPECT_LT(inexact, points / 10000) << "correctly rounded in all but rare halfway cases";
}

TEST(DeterministicMathTest, PowFloatSpecialValuesAreCs) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float signaling = std::numeric_limits<float>::signaling_NaN();
  const float values[] = {0.0f, -0.0f, 1.0f, -1.0f,  0.5f,      -0.5f,  2.0f,  -2.0f,   3.0f,
                          -3.0f, 2.5f, -2.5f, inf,  -inf,      nan,    signaling, 0x1p-149f,
                          1e30f, -1e30f, 0x1p24f};
  for (const float x : values) {
    for (const float y : values) {
      const float expected = std::pow(x, y);
      const float actual = Pow(x, y);
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << x << "^" << y << " = " << actual;
      } else {
        EXPECT_EQ(std::bit_cast<uint32_t>(actual), std::bit_cast<uint32_t>(expected))
            << x << "^" << y << " = " << actual << ", expected " << expected;
      }
    }
  }
}

// `f` against `reference` (a C library function in double, rounded to float) over random
// floats of every exponent and sign, plus `extra` inputs: within one ulp everywhere, and
// correctly rounded in all but rare halfway cases.
void ExpectFloatFunction(const char* name, float (*f)(float), double (*reference)(double),
                         const std::vector<float>& extra) {
  std::mt19937_64 rng(kSeed);
  std::vector<float> inputs = extra;
  for (int i = 0; i < 300000; ++i) {
    inputs.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  }
  int64_t inexact = 0, finite = 0;
  for (const float x : inputs) {
    const float expected = static_cast<float>(reference(static_cast<double>(x)));
    const float actual = f(x);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(actual)) << name << "(" << x << ") = " << actual;
      continue;
    }
    ASSERT_FALSE(std::isnan(actual)) << name << "(" << x << ")";
    ASSERT_EQ(std::signbit(actual), std::signbit(expected)) << name << "(" << x << ")";
    const int64_t ulps = FloatUlps(std::abs(actual), std::abs(expected));
    ASSERT_LE(ulps, 1) << name << "(" << std::hexfloat << x << ") = " << actual << ", expected "
                       << expected;
    inexact += ulps;
    ++finite;
  }
  EXPECT_LT(inexact, finite / 10000 + 1) << name << ": correctly rounded but in rare cases";
}

// Floats near multiples of pi/2 (where sin or cos is tiny and the reduction must be exact)
// and in the ranges the models use.
std::vector<float> TrigInputs() {
  std::vector<float> inputs = {0.0f, -0.0f, 1e-30f, -1e-30f, 0x1p-149f, 1.0f, -1.0f,
                               std::numeric_limits<float>::max(), -3.0e38f, 1e30f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  for (int k = -200000; k <= 200000; k += 7) {
    const float near = static_cast<float>(k * 1.5707963267948966);
    inputs.push_back(near);
    inputs.push_back(std::nextafter(near, 1e38f));
    inputs.push_back(std::nextafter(near, -1e38f));
  }
  for (int i = 0; i < 20000; ++i) inputs.push_back(static_cast<float>(i) * 0.0625f);
  return inputs;
}

TEST(DeterministicMathTest, SinAndCosFloatOverEveryFloat) {
  const std::vector<float> inputs = TrigInputs();
  ExpectFloatFunction("Sin", Sin, [](double x) { return std::sin(x); }, inputs);
  ExpectFloatFunction("Cos", Cos, [](double x) { return std::cos(x); }, inputs);
}

TEST(DeterministicMathTest, Expm1Exp2Log2TanhFloatOverEveryFloat) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> specials = {0.0f, -0.0f, inf, -inf, 1.0f, 2.0f, 8.0f, 0.5f, -1.0f,
                                       3.0f, -149.0f, 127.0f, 128.0f, 88.7f, -103.9f, 1e-8f,
                                       -1e-8f, 9.0f, 10.0f, -10.0f,
                                       std::numeric_limits<float>::quiet_NaN()};
  ExpectFloatFunction("Expm1", Expm1, [](double x) { return std::expm1(x); }, specials);
  ExpectFloatFunction("Exp2", Exp2, [](double x) { return std::exp2(x); }, specials);
  ExpectFloatFunction("Log2", Log2, [](double x) { return std::log2(x); }, specials);
  ExpectFloatFunction("Tanh", Tanh, [](double x) { return std::tanh(x); }, specials);
}

// ---- The double functions the elementwise ops use (pow, sin, cos, tanh, log2, exp2,
// expm1), against long double (sin and cos against glibc's double sin and cos, whose
// exact reduction long double's x87 sinl lacks for huge arguments).

TEST(DeterministicMathTest, Exp2Log2Expm1DoubleWithinOneUlp) {
  SCOPED_TRACE(kSeed);
  constexpr double kMax = std::numeric_limits<double>::max();
  ExpectMaxUlp<double>(
      "Exp2(double) uniform [-1080,1030]", RandomUniform<double>(-1080.0, 1030.0, kPoints, kSeed),
      [](double x) { return Exp2(x); }, [](double x) { return std::exp2(static_cast<long double>(x)); },
      1.0);
  ExpectMaxUlp<double>(
      "Log2(double) all positive finite",
      RandomBitPatterns<double>(0x1p-1074, kMax, kPoints, kSeed + 1),
      [](double x) { return Log2(x); }, [](double x) { return std::log2(static_cast<long double>(x)); },
      1.0);
  ExpectMaxUlp<double>(
      "Expm1(double) uniform [-40,710]", RandomUniform<double>(-40.0, 710.0, kPoints, kSeed + 2),
      [](double x) { return Expm1(x); },
      [](double x) { return std::expm1(static_cast<long double>(x)); }, 1.0);
  ExpectMaxUlp<double>(
      "Expm1(double) bits |x|<=1", RandomSignedBitPatterns<double>(1.0, kPoints, kSeed + 3),
      [](double x) { return Expm1(x); },
      [](double x) { return std::expm1(static_cast<long double>(x)); }, 1.0);
}

TEST(DeterministicMathTest, TanhDoubleWithinTwoUlps) {
  SCOPED_TRACE(kSeed);
  ExpectMaxUlp<double>(
      "Tanh(double) bits |x|<=25", RandomSignedBitPatterns<double>(25.0, kPoints, kSeed),
      [](double x) { return Tanh(x); }, [](double x) { return std::tanh(static_cast<long double>(x)); },
      2.0);
  ExpectMaxUlp<double>(
      "Tanh(double) uniform [-3,3]", RandomUniform<double>(-3.0, 3.0, kPoints, kSeed + 1),
      [](double x) { return Tanh(x); }, [](double x) { return std::tanh(static_cast<long double>(x)); },
      2.0);
}

// Doubles near multiples of pi/2, over every magnitude, and the range models use.
std::vector<double> DoubleTrigInputs() {
  std::vector<double> inputs = RandomSignedBitPatterns<double>(
      std::numeric_limits<double>::max(), kPoints / 2, kSeed);
  const std::vector<double> moderate = RandomSignedBitPatterns<double>(1e6, kPoints / 4, kSeed + 1);
  inputs.insert(inputs.end(), moderate.begin(), moderate.end());
  for (int k = -100000; k <= 100000; k += 3) {
    const double near = k * 1.5707963267948966;
    inputs.push_back(near);
    inputs.push_back(std::nextafter(near, 1e300));
    inputs.push_back(std::nextafter(near, -1e300));
  }
  return inputs;
}

TEST(DeterministicMathTest, SinAndCosDoubleOverEveryMagnitude) {
  SCOPED_TRACE(kSeed);
  const std::vector<double> inputs = DoubleTrigInputs();
  ExpectMaxUlp<double>(
      "Sin(double) bits, near k*pi/2", inputs, [](double x) { return Sin(x); },
      [](double x) { return std::sin(x); }, 1.5);
  ExpectMaxUlp<double>(
      "Cos(double) bits, near k*pi/2", inputs, [](double x) { return Cos(x); },
      [](double x) { return std::cos(x); }, 1.5);
}

TEST(DeterministicMathTest, PowDoubleWithinBound) {
  std::mt19937_64 rng(kSeed);
  double worst = 0.0, worst_moderate = 0.0;
  double worst_x = 0.0, worst_y = 0.0;
  int64_t points = 0;
  for (int i = 0; i < 200000; ++i) {
    // Positive bases of every magnitude and negative ones with integer exponents; y such
    // that the result stays finite and normal, often near the edges.
    double x = std::bit_cast<double>(rng() % 0x7ff0000000000000ull);
    const long double log_x = std::log(static_cast<long double>(x));
    if (log_x == 0) continue;
    const double limit = static_cast<double>(700.0L / std::fabs(log_x));
    double y = std::uniform_real_distribution<double>(-limit, limit)(rng);
    if (i % 4 == 0) {
      x = -x;
      y = std::trunc(y);
    }
    const double actual = Pow(x, y);
    const long double expected = std::pow(static_cast<long double>(x), static_cast<long double>(y));
    const double error = UlpError(actual, expected);
    ++points;
    const bool moderate = std::fabs(static_cast<double>(y * log_x)) <= 50.0;
    if (moderate) worst_moderate = std::max(worst_moderate, error);
    if (!(error <= worst)) {
      worst = error;
      worst_x = x;
      worst_y = y;
    }
  }
  std::printf("Pow(double) |y log x| <= 700: %lld points  max %.4f ulp at %a ^ %a; "
              "|y log x| <= 50: max %.4f ulp\n",
              static_cast<long long>(points), worst, worst_x, worst_y, worst_moderate);
  EXPECT_LE(worst_moderate, 1.5);
  EXPECT_LE(worst, 1.5) << std::hexfloat << worst_x << " ^ " << worst_y;
}

// C's special cases exactly (NaN, infinities, zeros, ±1), and every other value of the
// grid within PowDoubleWithinBound's moderate bound.
TEST(DeterministicMathTest, PowDoubleSpecialValuesAreCs) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double signaling = std::numeric_limits<double>::signaling_NaN();
  const double values[] = {0.0,  -0.0,  1.0,    -1.0,   0.5,        -0.5, 2.0,       -2.0,
                           3.0,  -3.0,  2.5,    -2.5,   inf,        -inf, nan,       signaling,
                           0x1p-1074, 1e300, -1e300, 0x1p53, 0x1p54, -0x1p53 - 2};
  for (const double x : values) {
    for (const double y : values) {
      const double expected = std::pow(x, y);
      const double actual = Pow(x, y);
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << x << "^" << y << " = " << actual;
      } else if (std::isinf(expected) || expected == 0.0 || std::fabs(expected) == 1.0) {
        EXPECT_EQ(std::bit_cast<uint64_t>(actual), std::bit_cast<uint64_t>(expected))
            << x << "^" << y << " = " << actual << ", expected " << expected;
      } else {
        EXPECT_LE(UlpError(actual, std::pow(static_cast<long double>(x),
                                            static_cast<long double>(y))),
                  1.5)
            << x << "^" << y << " = " << actual << ", expected " << expected;
      }
    }
  }
}

// Just past overflow and underflow (|y log x| in (709, 1000)), where exp's high part is
// infinite or zero and its low part must not turn it into NaN.
TEST(DeterministicMathTest, PowDoubleOverflowsAndUnderflowsCleanly) {
  std::mt19937_64 rng(kSeed);
  for (int i = 0; i < 20000; ++i) {
    const double x = std::uniform_real_distribution<double>(1.01, 1e6)(rng);
    const double p = std::uniform_real_distribution<double>(709.0, 1000.0)(rng);
    const double y = (i % 2 == 0 ? p : -p) / std::log(x);
    const double expected = std::pow(x, y);
    const double actual = Pow(x, y);
    ASSERT_FALSE(std::isnan(actual)) << std::hexfloat << x << " ^ " << y;
    if (std::isinf(expected) || expected == 0.0) {
      EXPECT_LE(UlpError(actual, static_cast<long double>(expected)), 1.0)
          << std::hexfloat << x << " ^ " << y << " = " << actual;
    }
  }
}

TEST(DeterministicMathTest, DoubleFunctionsSpecialValuesAreCs) {
  const double inf = std::numeric_limits<double>::infinity();
  const double values[] = {0.0,  -0.0, inf,  -inf,   1.0,     2.0,    8.0,     0.5,   -1.0,
                           1024.0, -1075.0, -1074.0, 1023.0, 709.8, -745.2, 1e-300, -1e-300,
                           22.0, 23.0, -40.0, 0x1p-1074, std::numeric_limits<double>::quiet_NaN()};
  struct Function {
    const char* name;
    double (*ours)(double);
    double (*c)(double);
  };
  const Function functions[] = {
      {"Exp2", [](double x) { return Exp2(x); }, [](double x) { return std::exp2(x); }},
      {"Log2", [](double x) { return Log2(x); }, [](double x) { return std::log2(x); }},
      {"Expm1", [](double x) { return Expm1(x); }, [](double x) { return std::expm1(x); }},
      {"Tanh", [](double x) { return Tanh(x); }, [](double x) { return std::tanh(x); }},
      {"Sin", [](double x) { return Sin(x); }, [](double x) { return std::sin(x); }},
      {"Cos", [](double x) { return Cos(x); }, [](double x) { return std::cos(x); }},
  };
  for (const Function& f : functions) {
    for (const double x : values) {
      const double expected = f.c(x);
      const double actual = f.ours(x);
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << f.name << "(" << x << ") = " << actual;
      } else if (std::isinf(expected) || expected == 0.0 || std::fabs(expected) == 1.0) {
        EXPECT_EQ(std::bit_cast<uint64_t>(actual), std::bit_cast<uint64_t>(expected))
            << f.name << "(" << x << ") = " << actual << ", expected " << expected;
      } else {
        EXPECT_LE(UlpError(actual, static_cast<long double>(expected)), 1.0)
            << f.name << "(" << std::hexfloat << x << ") = " << actual << ", expected "
            << expected;
      }
    }
  }
}

TEST(DeterministicMathTest, LogDoubleWithinOneUlp) {
  SCOPED_TRACE(kSeed);
  const std::function<double(double)> f = [](double x) { return Log(x); };
  ExpectMaxUlp<double>("Log(double) sampler grid (0,1]",
                       SamplerUnitInterval<double>(kPoints, kSeed), f, LogRef, 1.0);
  ExpectMaxUlp<double>("Log(double) bits (0,1]",
                       RandomBitPatterns<double>(0x1p-1074, 1.0, kPoints, kSeed + 1), f, LogRef,
                       1.0);
  ExpectMaxUlp<double>("Log(double) all positive finite",
                       RandomBitPatterns<double>(0x1p-1074, std::numeric_limits<double>::max(),
                                                 kPoints, kSeed + 2),
                       f, LogRef, 1.0);
}

TEST(DeterministicMathTest, Log1pWithinOneUlp) {
  SCOPED_TRACE(kSeed);
  const std::function<float(float)> ff = [](float x) { return Log1p(x); };
  ExpectMaxUlp<float>("Log1p(float) (-1,1)", RandomUniform<float>(-1.0f, 1.0f, kPoints, kSeed),
                      ff, Log1pRef, 1.0);
  ExpectMaxUlp<float>("Log1p(float) bits (-1,max]",
                      Concat(RandomBitPatterns<float>(-0x1p-149f, -0x1.fffffep-1f, kPoints / 2,
                                                      kSeed + 1),
                             RandomBitPatterns<float>(0x1p-149f, std::numeric_limits<float>::max(),
                                                      kPoints / 2, kSeed + 2)),
                      ff, Log1pRef, 1.0);
  const std::function<double(double)> fd = [](double x) { return Log1p(x); };
  ExpectMaxUlp<double>("Log1p(double) (-1,1)", RandomUniform<double>(-1.0, 1.0, kPoints, kSeed),
                       fd, Log1pRef, 1.0);
  ExpectMaxUlp<double>(
      "Log1p(double) bits (-1,max]",
      Concat(RandomBitPatterns<double>(-0x1p-1074, -0x1.fffffffffffffp-1, kPoints / 2, kSeed + 1),
             RandomBitPatterns<double>(0x1p-1074, std::numeric_limits<double>::max(), kPoints / 2,
                                       kSeed + 2)),
      fd, Log1pRef, 1.0);
}

TEST(DeterministicMathTest, ExpWithinOneUlpOverItsFiniteRange) {
  SCOPED_TRACE(kSeed);
  const std::function<float(float)> ff = [](float x) { return Exp(x); };
  ExpectMaxUlp<float>("Exp(float) uniform [-104,89]",
                      RandomUniform<float>(-104.0f, 89.0f, kPoints, kSeed), ff, ExpRef, 1.0);
  ExpectMaxUlp<float>("Exp(float) bits |x|<=89",
                      RandomSignedBitPatterns<float>(89.0f, kPoints, kSeed + 1), ff, ExpRef, 1.0);
  const std::function<double(double)> fd = [](double x) { return Exp(x); };
  ExpectMaxUlp<double>("Exp(double) uniform [-746,710]",
                       RandomUniform<double>(-746.0, 710.0, kPoints, kSeed), fd, ExpRef, 1.0);
  ExpectMaxUlp<double>("Exp(double) bits |x|<=710",
                       RandomSignedBitPatterns<double>(710.0, kPoints, kSeed + 1), fd, ExpRef,
                       1.0);
}

template <typename T>
void ExpectSinCos2PiWithin(const std::string& what, const std::vector<T>& inputs, double bound) {
  WorstCase<T> worst_sin;
  WorstCase<T> worst_cos;
  for (const T u : inputs) {
    T s, c;
    SinCos2Pi(u, &s, &c);
    const auto [want_sin, want_cos] = SinCos2PiRef(u);
    const double sin_error = UlpError(s, want_sin);
    const double cos_error = UlpError(c, want_cos);
    if (!(sin_error <= worst_sin.ulp)) worst_sin = {sin_error, u};
    if (!(cos_error <= worst_cos.ulp)) worst_cos = {cos_error, u};
  }
  for (const auto& [name, worst] : {std::pair{"sin", worst_sin}, std::pair{"cos", worst_cos}}) {
    std::printf("%-44s %9lld points  max %.4f ulp  at %a\n", (what + " " + name).c_str(),
                static_cast<long long>(inputs.size()), worst.ulp,
                static_cast<double>(worst.input));
    EXPECT_LE(worst.ulp, bound) << what << " " << name << " at " << std::hexfloat << worst.input;
  }
}

TEST(DeterministicMathTest, SinCos2PiWithinOneUlp) {
  SCOPED_TRACE(kSeed);
  ExpectSinCos2PiWithin<float>("SinCos2Pi(float) sampler grid [0,1]",
                               SamplerUnitInterval<float>(kPoints, kSeed), 1.0);
  ExpectSinCos2PiWithin<float>("SinCos2Pi(float) bits [0,1]",
                               RandomBitPatterns<float>(0.0f, 1.0f, kPoints, kSeed + 1), 1.0);
  ExpectSinCos2PiWithin<float>("SinCos2Pi(float) bits |u|<=2^30",
                               RandomSignedBitPatterns<float>(0x1p30f, kPoints / 4, kSeed + 2),
                               1.0);
  ExpectSinCos2PiWithin<double>("SinCos2Pi(double) sampler grid [0,1]",
                                SamplerUnitInterval<double>(kPoints, kSeed), 1.0);
  ExpectSinCos2PiWithin<double>("SinCos2Pi(double) bits [0,1]",
                                RandomBitPatterns<double>(0.0, 1.0, kPoints, kSeed + 1), 1.0);
  ExpectSinCos2PiWithin<double>("SinCos2Pi(double) bits |u|<=2^60",
                                RandomSignedBitPatterns<double>(0x1p60, kPoints / 4, kSeed + 2),
                                1.0);
}

TEST(DeterministicMathTest, ErfWithinOneUlpOnMinusSixToSix) {
  SCOPED_TRACE(kSeed);
  const std::function<float(float)> ff = [](float x) { return Erf(x); };
  ExpectMaxUlp<float>("Erf(float) uniform [-6,6]",
                      RandomUniform<float>(-6.0f, 6.0f, kPoints, kSeed), ff, ErfRef, 1.0);
  ExpectMaxUlp<float>("Erf(float) bits |x|<=6",
                      RandomSignedBitPatterns<float>(6.0f, kPoints, kSeed + 1), ff, ErfRef, 1.0);
  const std::function<double(double)> fd = [](double x) { return Erf(x); };
  ExpectMaxUlp<double>("Erf(double) uniform [-6,6]",
                       RandomUniform<double>(-6.0, 6.0, kPoints, kSeed), fd, ErfRef, 1.0);
  ExpectMaxUlp<double>("Erf(double) bits |x|<=6",
                       RandomSignedBitPatterns<double>(6.0, kPoints, kSeed + 1), fd, ErfRef, 1.0);
}

// Inputs 1 - k*ulp and -(1 - k*ulp) for small k: where erfinv grows without bound.
template <typename T>
std::vector<T> NearOne(int64_t n) {
  std::vector<T> out;
  const T ulp_below_one = std::numeric_limits<T>::epsilon() / 2;
  for (int64_t k = 1; k <= n / 2; ++k) {
    const T x = 1 - static_cast<T>(k) * ulp_below_one;
    out.push_back(x);
    out.push_back(-x);
  }
  return out;
}

TEST(DeterministicMathTest, ErfInvWithinOneAndAHalfUlpOnOpenInterval) {
  SCOPED_TRACE(kSeed);
  const std::function<float(float)> ff = [](float x) { return ErfInv(x); };
  const std::function<long double(float)> ref_f = [](float x) {
    return ErfInvRef(x, ErfInv(x));
  };
  ExpectMaxUlp<float>("ErfInv(float) uniform (-1,1)",
                      RandomUniform<float>(-1.0f, 1.0f, kPoints, kSeed), ff, ref_f, 1.5);
  ExpectMaxUlp<float>("ErfInv(float) bits |x|<1",
                      RandomSignedBitPatterns<float>(0x1.fffffep-1f, kPoints / 2, kSeed + 1), ff,
                      ref_f, 1.5);
  ExpectMaxUlp<float>("ErfInv(float) 1-k*2^-24, k<=100000", NearOne<float>(200'000), ff, ref_f,
                      1.5);
  const std::function<double(double)> fd = [](double x) { return ErfInv(x); };
  const std::function<long double(double)> ref_d = [](double x) {
    return ErfInvRef(x, ErfInv(x));
  };
  ExpectMaxUlp<double>("ErfInv(double) uniform (-1,1)",
                       RandomUniform<double>(-1.0, 1.0, kPoints, kSeed), fd, ref_d, 1.5);
  ExpectMaxUlp<double>("ErfInv(double) bits |x|<1",
                       RandomSignedBitPatterns<double>(0x1.fffffffffffffp-1, kPoints / 2,
                                                       kSeed + 1),
                       fd, ref_d, 1.5);
  ExpectMaxUlp<double>("ErfInv(double) 1-k*2^-53, k<=100000", NearOne<double>(200'000), fd,
                       ref_d, 1.5);
}

// ---- Special values, compared bit for bit (signed zeros and NaN payloads included).

template <typename T>
auto BitsOf(T x) {
  return std::bit_cast<std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>(x);
}

template <typename T>
void ExpectSameBits(T got, T want, const std::string& what) {
  EXPECT_EQ(BitsOf(got), BitsOf(want))
      << what << ": got " << std::hexfloat << got << ", want " << want;
}

template <typename T>
T NanWithPayload() {
  using Limits = std::numeric_limits<T>;
  return std::bit_cast<T>(BitsOf(Limits::quiet_NaN()) | 0x1234);
}

template <typename T>
void ExpectSpecialValues() {
  using Limits = std::numeric_limits<T>;
  const T inf = Limits::infinity();
  const T nan = Limits::quiet_NaN();  // the positive quiet NaN every invalid input gives
  const T payload = NanWithPayload<T>();
  const T tiny = Limits::denorm_min();

  ExpectSameBits(Log(T(0)), -inf, "Log(+0)");
  ExpectSameBits(Log(T(-0.0)), -inf, "Log(-0)");
  ExpectSameBits(Log(T(-1)), nan, "Log(-1)");
  ExpectSameBits(Log(-inf), nan, "Log(-inf)");
  ExpectSameBits(Log(inf), inf, "Log(+inf)");
  ExpectSameBits(Log(payload), payload, "Log(NaN)");
  ExpectSameBits(Log(T(1)), T(0), "Log(1)");

  ExpectSameBits(Log1p(T(0)), T(0), "Log1p(+0)");
  ExpectSameBits(Log1p(T(-0.0)), T(-0.0), "Log1p(-0)");
  ExpectSameBits(Log1p(tiny), tiny, "Log1p(denorm_min)");
  ExpectSameBits(Log1p(-tiny), -tiny, "Log1p(-denorm_min)");
  ExpectSameBits(Log1p(T(-1)), -inf, "Log1p(-1)");
  ExpectSameBits(Log1p(T(-2)), nan, "Log1p(-2)");
  ExpectSameBits(Log1p(-inf), nan, "Log1p(-inf)");
  ExpectSameBits(Log1p(inf), inf, "Log1p(+inf)");
  ExpectSameBits(Log1p(payload), payload, "Log1p(NaN)");

  ExpectSameBits(Exp(T(0)), T(1), "Exp(+0)");
  ExpectSameBits(Exp(T(-0.0)), T(1), "Exp(-0)");
  ExpectSameBits(Exp(inf), inf, "Exp(+inf)");
  ExpectSameBits(Exp(-inf), T(0), "Exp(-inf)");
  ExpectSameBits(Exp(T(1000)), inf, "Exp(1000)");
  ExpectSameBits(Exp(T(-1000)), T(0), "Exp(-1000)");
  ExpectSameBits(Exp(Limits::max()), inf, "Exp(max)");
  ExpectSameBits(Exp(Limits::lowest()), T(0), "Exp(lowest)");
  ExpectSameBits(Exp(payload), payload, "Exp(NaN)");

  ExpectSameBits(Erf(T(0)), T(0), "Erf(+0)");
  ExpectSameBits(Erf(T(-0.0)), T(-0.0), "Erf(-0)");
  ExpectSameBits(Erf(inf), T(1), "Erf(+inf)");
  ExpectSameBits(Erf(-inf), T(-1), "Erf(-inf)");
  ExpectSameBits(Erf(T(10)), T(1), "Erf(10)");
  ExpectSameBits(Erf(payload), payload, "Erf(NaN)");

  ExpectSameBits(ErfInv(T(0)), T(0), "ErfInv(+0)");
  ExpectSameBits(ErfInv(T(-0.0)), T(-0.0), "ErfInv(-0)");
  ExpectSameBits(ErfInv(T(1)), inf, "ErfInv(1)");
  ExpectSameBits(ErfInv(T(-1)), -inf, "ErfInv(-1)");
  ExpectSameBits(ErfInv(T(1.5)), nan, "ErfInv(1.5)");
  ExpectSameBits(ErfInv(T(-1.5)), nan, "ErfInv(-1.5)");
  ExpectSameBits(ErfInv(inf), nan, "ErfInv(+inf)");
  ExpectSameBits(ErfInv(payload), payload, "ErfInv(NaN)");
}

TEST(DeterministicMathTest, SpecialValuesFloat) { ExpectSpecialValues<float>(); }
TEST(DeterministicMathTest, SpecialValuesDouble) { ExpectSpecialValues<double>(); }

template <typename T>
void ExpectSinCos2PiSpecialValues() {
  using Limits = std::numeric_limits<T>;
  const auto expect = [](T u, T want_sin, T want_cos) {
    T s, c;
    SinCos2Pi(u, &s, &c);
    ExpectSameBits(s, want_sin, "sin(2 pi u) at u = " + std::to_string(u));
    ExpectSameBits(c, want_cos, "cos(2 pi u) at u = " + std::to_string(u));
  };
  // Multiples of 1/4 are exact; a zero result's sign follows from r = ±0 in the reduction.
  expect(T(0), T(0), T(1));
  expect(T(-0.0), T(-0.0), T(1));
  expect(T(0.25), T(1), T(-0.0));
  expect(T(0.5), T(-0.0), T(-1));
  expect(T(0.75), T(-1), T(0));
  expect(T(1), T(0), T(1));
  expect(T(-0.25), T(-1), T(0));
  expect(T(7.25), T(1), T(-0.0));
  // Large arguments: every float of magnitude >= 2^(digits-1) is an integer.
  const T big = std::ldexp(T(1), Limits::digits - 1);
  expect(big, T(0), T(1));
  expect(-big * 1024, T(0), T(1));
  expect(Limits::max(), T(0), T(1));
  expect(big / 4 + T(0.25), T(1), T(-0.0));
  expect(big / 8 + T(0.75), T(-1), T(0));

  const T nan = Limits::quiet_NaN();
  const T payload = NanWithPayload<T>();
  expect(Limits::infinity(), nan, nan);
  expect(-Limits::infinity(), nan, nan);
  expect(payload, payload, payload);
}

TEST(DeterministicMathTest, SinCos2PiSpecialValuesFloat) { ExpectSinCos2PiSpecialValues<float>(); }
TEST(DeterministicMathTest, SinCos2PiSpecialValuesDouble) {
  ExpectSinCos2PiSpecialValues<double>();
}

template <typename T>
void ExpectOddSymmetry() {
  SCOPED_TRACE(kSeed);
  for (const T x : RandomSignedBitPatterns<T>(T(6), kPoints / 10, kSeed)) {
    ExpectSameBits(Erf(-x), T(-Erf(x)), "Erf(-x) = -Erf(x)");
  }
  for (const T x : RandomSignedBitPatterns<T>(T(1), kPoints / 10, kSeed + 1)) {
    ExpectSameBits(ErfInv(-x), T(-ErfInv(x)), "ErfInv(-x) = -ErfInv(x)");
  }
}

TEST(DeterministicMathTest, ErfInvCentralIsErfInvUpToItsLimit) {
  SCOPED_TRACE(kSeed);
  std::vector<float> inputs =
      RandomUniform<float>(-kErfInvCentralLimit, kErfInvCentralLimit, kPoints / 4, kSeed + 2);
  const std::vector<float> bits =
      RandomSignedBitPatterns<float>(kErfInvCentralLimit, kPoints / 4, kSeed + 3);
  inputs.insert(inputs.end(), bits.begin(), bits.end());
  // Every float in [0.95, kErfInvCentralLimit], up to the limit itself.
  for (float x = 0.95f; x <= kErfInvCentralLimit; x = std::nextafter(x, 1.0f)) {
    inputs.push_back(x);
    inputs.push_back(-x);
  }
  inputs.push_back(0.0f);
  inputs.push_back(-0.0f);
  for (const float x : inputs) {
    ASSERT_LE(std::fabs(x), kErfInvCentralLimit);
    ExpectSameBits(ErfInvCentral(x), ErfInv(x), "ErfInvCentral(x) = ErfInv(x)");
    if (testing::Test::HasFailure()) {
      ADD_FAILURE() << "x = " << std::hexfloat << x;
      return;
    }
  }
}

// The normal sampler's shortcuts: LogPositive for u1 in (0, 1] and SinCos2PiOfUnit for u2
// in [0, 1) give Log's and SinCos2Pi's bits. Every float value UnitInterval can take (k
// 2^-24), and a million double ones.
TEST(DeterministicMathTest, NormalSamplerShortcutsGiveTheSameBits) {
  for (uint32_t k = 0; k < (1u << 24); ++k) {
    const float u = static_cast<float>(k) * 0x1p-24f;
    float s0, c0, s1, c1;
    SinCos2Pi(u, &s0, &c0);
    internal::SinCos2PiOfUnit(u, &s1, &c1);
    const float u1 = static_cast<float>(k + 1) * 0x1p-24f;
    if (BitsOf(s0) != BitsOf(s1) || BitsOf(c0) != BitsOf(c1) ||
        BitsOf(Log(u1)) != BitsOf(internal::LogPositive(u1, 0.0f))) {
      FAIL() << "k = " << k;
    }
  }
  std::mt19937_64 rng(kSeed);
  for (int i = 0; i < 1'000'000; ++i) {
    const uint64_t k = rng() >> 11;
    const double u = static_cast<double>(k) * 0x1p-53;
    double s0, c0, s1, c1;
    SinCos2Pi(u, &s0, &c0);
    internal::SinCos2PiOfUnit(u, &s1, &c1);
    const double u1 = static_cast<double>(k + 1) * 0x1p-53;
    if (BitsOf(s0) != BitsOf(s1) || BitsOf(c0) != BitsOf(c1) ||
        BitsOf(Log(u1)) != BitsOf(internal::LogPositive(u1, 0.0))) {
      FAIL() << "k = " << k;
    }
  }
}

TEST(DeterministicMathTest, ErfAndErfInvAreOddBitForBit) {
  ExpectOddSymmetry<float>();
  ExpectOddSymmetry<double>();
}

// ---- The same bits from a portable build and an AVX2+FMA build.

// The loops run a fixed count so that GCC's -O2 vectorizer, which allows no remainder loop,
// vectorizes them under target("avx2,fma") (checked with -fopt-info-vec).
constexpr int kBlock = 256;

// The elementwise ops' functions too (Pow with a fixed exponent).
enum Function {
  kLog, kLog1p, kExp, kSinCos2Pi, kErf, kErfInv,
  kPow, kExpm1, kExp2, kLog2, kTanh, kSin, kCos, kNumFunctions
};
constexpr const char* kFunctionNames[] = {"Log", "Log1p", "Exp",  "SinCos2Pi", "Erf",
                                          "ErfInv", "Pow", "Expm1", "Exp2", "Log2",
                                          "Tanh", "Sin", "Cos"};

// Evaluates every function over one block: in[f * kBlock + i] gives out[f * kBlock + i],
// and the cosine of SinCos2Pi goes to cos_out[i].
template <typename T>
inline void EvaluateBlock(const T* __restrict in, T* __restrict out, T* __restrict cos_out) {
  for (int i = 0; i < kBlock; ++i) out[kLog * kBlock + i] = Log(in[kLog * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kLog1p * kBlock + i] = Log1p(in[kLog1p * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kExp * kBlock + i] = Exp(in[kExp * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) {
    SinCos2Pi(in[kSinCos2Pi * kBlock + i], &out[kSinCos2Pi * kBlock + i], &cos_out[i]);
  }
  for (int i = 0; i < kBlock; ++i) out[kErf * kBlock + i] = Erf(in[kErf * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kErfInv * kBlock + i] = ErfInv(in[kErfInv * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kPow * kBlock + i] = Pow(in[kPow * kBlock + i], T(-2.75));
  for (int i = 0; i < kBlock; ++i) out[kExpm1 * kBlock + i] = Expm1(in[kExpm1 * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kExp2 * kBlock + i] = Exp2(in[kExp2 * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kLog2 * kBlock + i] = Log2(in[kLog2 * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kTanh * kBlock + i] = Tanh(in[kTanh * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kSin * kBlock + i] = Sin(in[kSin * kBlock + i]);
  for (int i = 0; i < kBlock; ++i) out[kCos * kBlock + i] = Cos(in[kCos * kBlock + i]);
}

// flatten inlines the header's functions into each copy, so each is compiled for its target.
__attribute__((flatten)) void EvaluatePortable(const float* __restrict in, float* __restrict out,
                                               float* __restrict cos_out) {
  EvaluateBlock(in, out, cos_out);
}
__attribute__((flatten)) void EvaluatePortable(const double* __restrict in,
                                               double* __restrict out,
                                               double* __restrict cos_out) {
  EvaluateBlock(in, out, cos_out);
}
__attribute__((target("avx2,fma"), flatten)) void EvaluateAvx2Fma(const float* __restrict in,
                                                                  float* __restrict out,
                                                                  float* __restrict cos_out) {
  EvaluateBlock(in, out, cos_out);
}
__attribute__((target("avx2,fma"), flatten)) void EvaluateAvx2Fma(const double* __restrict in,
                                                                  double* __restrict out,
                                                                  double* __restrict cos_out) {
  EvaluateBlock(in, out, cos_out);
}

// Inputs for each function: its sampled domains, then special values.
template <typename T>
std::vector<std::vector<T>> BitIdentityInputs(int64_t n) {
  using Limits = std::numeric_limits<T>;
  const std::vector<T> specials = {T(0), T(-0.0), T(1), T(-1), Limits::infinity(),
                                   -Limits::infinity(), Limits::quiet_NaN(), Limits::denorm_min(),
                                   Limits::min(), Limits::max(), Limits::lowest()};
  std::vector<std::vector<T>> inputs(kNumFunctions);
  inputs[kLog] = Concat(SamplerUnitInterval<T>(n / 2, kSeed),
                        RandomBitPatterns<T>(Limits::denorm_min(), Limits::max(), n / 2, kSeed));
  inputs[kLog1p] = RandomUniform<T>(T(-1), T(1), n, kSeed);
  inputs[kExp] = RandomUniform<T>(T(-750), T(750), n, kSeed);
  inputs[kSinCos2Pi] = Concat(SamplerUnitInterval<T>(n / 2, kSeed),
                              RandomSignedBitPatterns<T>(T(1e6), n / 2, kSeed));
  inputs[kErf] = RandomSignedBitPatterns<T>(T(7), n, kSeed);
  inputs[kErfInv] = Concat(RandomUniform<T>(T(-1), T(1), n / 2, kSeed),
                           RandomSignedBitPatterns<T>(T(1), n / 2, kSeed));
  inputs[kPow] = RandomSignedBitPatterns<T>(Limits::max(), n, kSeed);
  inputs[kExpm1] = RandomUniform<T>(T(-50), T(750), n, kSeed);
  inputs[kExp2] = RandomUniform<T>(T(-1100), T(1100), n, kSeed);
  inputs[kLog2] = RandomBitPatterns<T>(Limits::denorm_min(), Limits::max(), n, kSeed);
  inputs[kTanh] = RandomSignedBitPatterns<T>(T(30), n, kSeed);
  inputs[kSin] = RandomSignedBitPatterns<T>(Limits::max(), n, kSeed);
  inputs[kCos] = RandomSignedBitPatterns<T>(T(1e6), n, kSeed);
  for (std::vector<T>& in : inputs) {
    std::copy(specials.begin(), specials.end(), in.begin());
    in.resize((in.size() + kBlock - 1) / kBlock * kBlock, T(0.5));
  }
  return inputs;
}

template <typename T>
void ExpectPortableAndAvx2FmaAgree() {
  SCOPED_TRACE(kSeed);
  // A quarter of kPoints per function.
  const std::vector<std::vector<T>> inputs = BitIdentityInputs<T>(kPoints / 4);
  const size_t blocks = inputs[0].size() / kBlock;
  std::vector<T> in(kNumFunctions * kBlock);
  // One row per function, then the cosines.
  std::vector<T> portable((kNumFunctions + 1) * kBlock);
  std::vector<T> avx2((kNumFunctions + 1) * kBlock);
  T* const portable_cos = portable.data() + kNumFunctions * kBlock;
  T* const avx2_cos = avx2.data() + kNumFunctions * kBlock;
  int64_t mismatches = 0;
  for (size_t b = 0; b < blocks; ++b) {
    for (int f = 0; f < kNumFunctions; ++f) {
      std::copy_n(inputs[f].begin() + b * kBlock, kBlock, in.begin() + f * kBlock);
    }
    EvaluatePortable(in.data(), portable.data(), portable_cos);
    EvaluateAvx2Fma(in.data(), avx2.data(), avx2_cos);
    for (int row = 0; row <= kNumFunctions; ++row) {
      const bool cos_row = row == kNumFunctions;
      const int f = cos_row ? kSinCos2Pi : row;
      for (int i = 0; i < kBlock; ++i) {
        const int k = row * kBlock + i;
        if (BitsOf(portable[k]) == BitsOf(avx2[k])) continue;
        if (++mismatches <= 10) {
          ADD_FAILURE() << kFunctionNames[f] << (cos_row ? " (cos)" : "") << " at "
                        << std::hexfloat << in[f * kBlock + i] << ": portable "
                        << portable[k] << ", avx2+fma " << avx2[k];
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(DeterministicMathTest, PortableAndAvx2FmaBuildsGiveIdenticalBits) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    GTEST_SKIP() << "this CPU lacks AVX2 or FMA, so the AVX2+FMA build cannot run here";
  }
  ExpectPortableAndAvx2FmaAgree<float>();
  ExpectPortableAndAvx2FmaAgree<double>();
}

}  // namespace
}  // namespace deferred::detmath
