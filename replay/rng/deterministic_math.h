#ifndef DEFERRED_REPLAY_RNG_DETERMINISTIC_MATH_H_
#define DEFERRED_REPLAY_RNG_DETERMINISTIC_MATH_H_

// Transcendental functions for the random samplers, written once in plain IEEE arithmetic
// (+, -, *, / and explicit fused multiply-adds, each correctly rounded, plus exact bit
// manipulation) so that every compiler and device computes the same bits: the portable
// x86-64 build, an AVX2+FMA build, and CUDA device code. docs/RNG_MATH.md gives each
// algorithm bit for bit, and the accuracy measured by deterministic_math_test.
//
// Callers must compile without implicit contraction (host: -ffp-contract=off; nvcc:
// -fmad=false), without fast-math, and without flushing subnormals to zero.
//
// Every function is straight-line code: no data-dependent branches and no tables. Choices
// between computed values go through internal::Select, a bitwise blend, because GCC (with
// its default -ftrapping-math) will not if-convert a ternary whose arms hold floating-point
// arithmetic, and so would not vectorize a loop over these functions; conditions are
// combined with & and |, not the short-circuiting && and ||, for the same reason.
//
// A NaN argument is returned unchanged; an argument outside the domain gives the positive
// quiet NaN (bits 0x7fc00000 / 0x7ff8000000000000).
//
// Accuracy, measured against a long double reference over each sampler's domain (a few
// million points each, deterministic_math_test): below 1 ulp for every function and both
// types, except ErfInv, below 1.5 ulp.

#include <cstdint>

#include "fake_tensor/host_device.h"

#ifndef __CUDA_ARCH__
#include <bit>
#include <cmath>
#endif

namespace deferred::detmath {

// The operations IEEE 754 rounds correctly, which every implementation computes alike:
// on the host the C++ library's, on a CUDA device the intrinsics that round to nearest
// (nvcc's plain sqrt may be approximate under some flags; these never are). Sqrt of a
// negative is NaN; Floor, Ceil and Rint (halves to even) are exact.
DEFERRED_HOST_DEVICE inline float Sqrt(float x) {
#ifdef __CUDA_ARCH__
  return __fsqrt_rn(x);
#else
  return std::sqrt(x);
#endif
}
DEFERRED_HOST_DEVICE inline double Sqrt(double x) {
#ifdef __CUDA_ARCH__
  return __dsqrt_rn(x);
#else
  return std::sqrt(x);
#endif
}
DEFERRED_HOST_DEVICE inline float Floor(float x) {
#ifdef __CUDA_ARCH__
  return floorf(x);
#else
  return std::floor(x);
#endif
}
DEFERRED_HOST_DEVICE inline double Floor(double x) {
#ifdef __CUDA_ARCH__
  return ::floor(x);
#else
  return std::floor(x);
#endif
}
DEFERRED_HOST_DEVICE inline float Ceil(float x) {
#ifdef __CUDA_ARCH__
  return ceilf(x);
#else
  return std::ceil(x);
#endif
}
DEFERRED_HOST_DEVICE inline double Ceil(double x) {
#ifdef __CUDA_ARCH__
  return ::ceil(x);
#else
  return std::ceil(x);
#endif
}
// Rounds to the nearest integer, halves to even (the default rounding mode, which nothing
// here changes).
DEFERRED_HOST_DEVICE inline float Rint(float x) {
#ifdef __CUDA_ARCH__
  return rintf(x);
#else
  return std::nearbyint(x);
#endif
}
DEFERRED_HOST_DEVICE inline double Rint(double x) {
#ifdef __CUDA_ARCH__
  return ::rint(x);
#else
  return std::nearbyint(x);
#endif
}

// Natural logarithm. Log(±0) = -inf, Log(+inf) = +inf, Log(x < 0) = NaN.
DEFERRED_HOST_DEVICE inline float Log(float x);
DEFERRED_HOST_DEVICE inline double Log(double x);

// log(1 + x), accurate also for tiny x. Log1p(±0) = ±0, Log1p(-1) = -inf,
// Log1p(x < -1) = NaN, Log1p(+inf) = +inf.
DEFERRED_HOST_DEVICE inline float Log1p(float x);
DEFERRED_HOST_DEVICE inline double Log1p(double x);

// e^x. Overflows to +inf, underflows through the subnormals to +0;
// Exp(-inf) = +0, Exp(+inf) = +inf.
DEFERRED_HOST_DEVICE inline float Exp(float x);
DEFERRED_HOST_DEVICE inline double Exp(double x);

// x^y in float32, with the special cases of C's powf (pow(x, ±0) = 1 and pow(1, y) = 1
// even for a quiet NaN; a negative x takes integer y only, else NaN; zeros and infinities by
// the sign and parity of y). Computed as exp(y * log|x|) in double, whose error is far
// below float's half ulp, so the result is float's correct rounding but in rare
// near-halfway cases (within one ulp always).
DEFERRED_HOST_DEVICE inline float Pow(float x, float y);

// Float functions computed in double, from the deterministic double functions and IEEE
// operations, and rounded to float once: correctly rounded but in rare near-halfway
// cases (within one ulp always), with C's special values. Sin and Cos are the double
// functions' results rounded.
DEFERRED_HOST_DEVICE inline float Expm1(float x);
DEFERRED_HOST_DEVICE inline float Exp2(float x);
DEFERRED_HOST_DEVICE inline float Log2(float x);
DEFERRED_HOST_DEVICE inline float Tanh(float x);
DEFERRED_HOST_DEVICE inline float Sin(float x);
DEFERRED_HOST_DEVICE inline float Cos(float x);

// The same functions in double, with C's special values. Their accuracy, measured against
// long double by deterministic_math_test, is in docs/RNG_MATH.md: Log2 and Exp2 round a
// double-double intermediate once; Pow is exp(y * log|x|) with log|x| in double-double, so
// its error grows with |y * log x| near overflow and underflow; Sin and Cos reduce exactly
// modulo 2*pi with 1400 bits of 1/(2*pi), whatever the argument's size.
DEFERRED_HOST_DEVICE inline double Pow(double x, double y);
DEFERRED_HOST_DEVICE inline double Expm1(double x);
DEFERRED_HOST_DEVICE inline double Exp2(double x);
DEFERRED_HOST_DEVICE inline double Log2(double x);
DEFERRED_HOST_DEVICE inline double Tanh(double x);
DEFERRED_HOST_DEVICE inline double Sin(double x);
DEFERRED_HOST_DEVICE inline double Cos(double x);

// Sets *s = sin(2*pi*u) and *c = cos(2*pi*u). u is reduced modulo 1/4 exactly, so the
// accuracy holds for every finite u (Box–Muller passes u in [0, 1]), and results at
// multiples of 1/4 are exact (sin(2*pi*0.5) = -0). An infinite u gives NaN for both, a NaN
// u gives u for both.
DEFERRED_HOST_DEVICE inline void SinCos2Pi(float u, float* s, float* c);
DEFERRED_HOST_DEVICE inline void SinCos2Pi(double u, double* s, double* c);

// The error function. Erf(±0) = ±0, Erf(±inf) = ±1.
DEFERRED_HOST_DEVICE inline float Erf(float x);
DEFERRED_HOST_DEVICE inline double Erf(double x);

// The inverse error function on (-1, 1). ErfInv(±0) = ±0, ErfInv(±1) = ±inf,
// ErfInv(|x| > 1) = NaN.
DEFERRED_HOST_DEVICE inline float ErfInv(float x);
DEFERRED_HOST_DEVICE inline double ErfInv(double x);

// ErfInv(x) for |x| <= kErfInvCentralLimit (the draws within 2 standard deviations of a
// normal's mean), bitwise equal to ErfInv(x) there: the operations ErfInv(float) performs
// in its first region, without the other regions' work. Fills take the common case with it.
inline constexpr float kErfInvCentralLimit = 0.958f;  // the region ends at 0.958079...
DEFERRED_HOST_DEVICE inline float ErfInvCentral(float x);

namespace internal {

// Exact reinterpretations between a floating-point value and its bits.
DEFERRED_HOST_DEVICE inline uint32_t Bits(float x) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(x);
#else
  return std::bit_cast<uint32_t>(x);
#endif
}
DEFERRED_HOST_DEVICE inline uint64_t Bits(double x) {
#ifdef __CUDA_ARCH__
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  return std::bit_cast<uint64_t>(x);
#endif
}
DEFERRED_HOST_DEVICE inline float FloatFromBits(uint32_t b) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(b);
#else
  return std::bit_cast<float>(b);
#endif
}
DEFERRED_HOST_DEVICE inline double DoubleFromBits(uint64_t b) {
#ifdef __CUDA_ARCH__
  return __longlong_as_double(static_cast<long long>(b));
#else
  return std::bit_cast<double>(b);
#endif
}

// a * b + c with a single rounding.
DEFERRED_HOST_DEVICE inline float Fma(float a, float b, float c) {
#ifdef __CUDA_ARCH__
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
DEFERRED_HOST_DEVICE inline double Fma(double a, double b, double c) {
#ifdef __CUDA_ARCH__
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

// `condition ? if_true : if_false`, as a bitwise blend of two values already computed (see
// the file comment for why not a ternary).
DEFERRED_HOST_DEVICE inline float Select(bool condition, float if_true, float if_false) {
  const uint32_t mask = 0u - static_cast<uint32_t>(condition);
  return FloatFromBits((Bits(if_true) & mask) | (Bits(if_false) & ~mask));
}
DEFERRED_HOST_DEVICE inline double Select(bool condition, double if_true, double if_false) {
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(condition);
  return DoubleFromBits((Bits(if_true) & mask) | (Bits(if_false) & ~mask));
}

// |x|, and `magnitude` with the sign bit of `sign`.
DEFERRED_HOST_DEVICE inline float Abs(float x) { return FloatFromBits(Bits(x) & 0x7fffffffu); }
DEFERRED_HOST_DEVICE inline double Abs(double x) {
  return DoubleFromBits(Bits(x) & 0x7fffffffffffffffull);
}
DEFERRED_HOST_DEVICE inline float WithSignOf(float magnitude, float sign) {
  return FloatFromBits(Bits(magnitude) | (Bits(sign) & 0x80000000u));
}
DEFERRED_HOST_DEVICE inline double WithSignOf(double magnitude, double sign) {
  return DoubleFromBits(Bits(magnitude) | (Bits(sign) & 0x8000000000000000ull));
}

DEFERRED_HOST_DEVICE inline float InfF() { return FloatFromBits(0x7f800000u); }
DEFERRED_HOST_DEVICE inline double InfD() { return DoubleFromBits(0x7ff0000000000000ull); }
DEFERRED_HOST_DEVICE inline float NanF() { return FloatFromBits(0x7fc00000u); }
DEFERRED_HOST_DEVICE inline double NanD() { return DoubleFromBits(0x7ff8000000000000ull); }

// sqrt(x) for finite x > 0, within about half an ulp. Computed by Newton's method rather
// than std::sqrt because, with errno-setting math (GCC's default), a std::sqrt call keeps a
// loop from vectorizing. 1/sqrt(x) starts from a bit-level estimate (relative error below
// 3.5%), Newton steps y += y * (1/2 - (x/2) * y^2) take it below 2^-30 (float) or 2^-60
// (double), and s = x * y is corrected once by its residual x - s^2.
DEFERRED_HOST_DEVICE inline float SqrtPositive(float x) {
  const float half_x = 0.5f * x;
  float y = FloatFromBits(0x5f375a86u - (Bits(x) >> 1));
  y = Fma(y, Fma(-half_x * y, y, 0.5f), y);
  y = Fma(y, Fma(-half_x * y, y, 0.5f), y);
  y = Fma(y, Fma(-half_x * y, y, 0.5f), y);
  const float s = x * y;
  return Fma(Fma(-s, s, x), 0.5f * y, s);
}
DEFERRED_HOST_DEVICE inline double SqrtPositive(double x) {
  const double half_x = 0.5 * x;
  double y = DoubleFromBits(0x5fe6eb50c7b537a9ull - (Bits(x) >> 1));
  y = Fma(y, Fma(-half_x * y, y, 0.5), y);
  y = Fma(y, Fma(-half_x * y, y, 0.5), y);
  y = Fma(y, Fma(-half_x * y, y, 0.5), y);
  y = Fma(y, Fma(-half_x * y, y, 0.5), y);
  const double s = x * y;
  return Fma(Fma(-s, s, x), 0.5 * y, s);
}

// log(x) + c for finite x > 0 and |c| <= 2^-24 (float) or 2^-53 (double): c is 0 for Log,
// and for Log1p the correction for rounding 1 + x. x = 2^k * m with m in
// [sqrt(2)/2, sqrt(2)), so f = m - 1 is exact; with s = f / (2 + f) and z = s^2,
//   log(1 + f) = f - hfsq + s * (hfsq + R(z)),  hfsq = f^2 / 2,
// R a minimax polynomial for (log((1 + s) / (1 - s)) - 2s) / s, and
//   log(x) + c = k * ln2_hi + (f - (hfsq - (s * (hfsq + R) + (k * ln2_lo + c)))).
DEFERRED_HOST_DEVICE inline float LogPositive(float x, float c) {
  const bool subnormal = x < 0x1p-126f;
  const float scaled = Select(subnormal, x * 0x1p25f, x);
  // Adding 1 - sqrt(2)/2 in the bits carries into the exponent exactly when m >= sqrt(2).
  const uint32_t shifted = Bits(scaled) + (0x3f800000u - 0x3f3504f3u);
  const int32_t k_int = static_cast<int32_t>(shifted >> 23) - (subnormal ? 127 + 25 : 127);
  const float k = static_cast<float>(k_int);
  const float m = FloatFromBits((shifted & 0x007fffffu) + 0x3f3504f3u);
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  float r = 0x1.ec01bap-3f;
  r = Fma(r, z, 0x1.23f24ep-2f);
  r = Fma(r, z, 0x1.999bd2p-2f);
  r = Fma(r, z, 0x1.555554p-1f);
  r = r * z;
  const float hfsq = 0.5f * f * f;
  const float tail = s * (hfsq + r) + Fma(k, -0x1.05c61p-29f, c);
  return Fma(k, 0x1.62e43p-1f, f - (hfsq - tail));
}
DEFERRED_HOST_DEVICE inline double LogPositive(double x, double c) {
  const bool subnormal = x < 0x1p-1022;
  const double scaled = Select(subnormal, x * 0x1p54, x);
  const uint64_t shifted = Bits(scaled) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
  // The bits 0x4330000000000000 + n are the double 2^52 + n: k without an int64 conversion.
  const double k = DoubleFromBits((shifted >> 52) | 0x4330000000000000ull) -
                   Select(subnormal, 0x1p52 + (1023 + 54), 0x1p52 + 1023);
  const double m = DoubleFromBits((shifted & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  double r = 0x1.2f0387a6368bap-3;
  r = Fma(r, z, 0x1.39a1eddc4108fp-3);
  r = Fma(r, z, 0x1.74663cbb1ec74p-3);
  r = Fma(r, z, 0x1.c71c52153f6d1p-3);
  r = Fma(r, z, 0x1.24924941e04a4p-2);
  r = Fma(r, z, 0x1.999999997ff27p-2);
  r = Fma(r, z, 0x1.5555555555592p-1);
  r = r * z;
  const double hfsq = 0.5 * f * f;
  const double tail = s * (hfsq + r) + Fma(k, 0x1.abc9e3b39803fp-56, c);
  return Fma(k, 0x1.62e42fefa39efp-1, f - (hfsq - tail));
}

// The correction c with log(1 + x) = log(u) + c to far below an ulp, where u = 1 + x
// rounded: 1 + x = u + e exactly (Knuth's TwoSum) and log(1 + e/u) = e/u to first order.
DEFERRED_HOST_DEVICE inline float Log1pCorrection(float x, float u) {
  const float x_part = u - 1.0f;
  const float e = (1.0f - (u - x_part)) + (x - x_part);
  return e / u;
}
DEFERRED_HOST_DEVICE inline double Log1pCorrection(double x, double u) {
  const double x_part = u - 1.0;
  const double e = (1.0 - (u - x_part)) + (x - x_part);
  return e / u;
}

}  // namespace internal

DEFERRED_HOST_DEVICE inline float Log(float x) {
  using internal::Select;
  const float r = internal::LogPositive(x, 0.0f);
  const float special = Select(x == 0.0f, -internal::InfF(), Select(x < 0.0f, internal::NanF(), x));
  return Select((x > 0.0f) & (x < internal::InfF()), r, special);
}

DEFERRED_HOST_DEVICE inline double Log(double x) {
  using internal::Select;
  const double r = internal::LogPositive(x, 0.0);
  const double special = Select(x == 0.0, -internal::InfD(), Select(x < 0.0, internal::NanD(), x));
  return Select((x > 0.0) & (x < internal::InfD()), r, special);
}

DEFERRED_HOST_DEVICE inline float Log1p(float x) {
  using internal::Select;
  const float u = 1.0f + x;
  const float r = internal::LogPositive(u, internal::Log1pCorrection(x, u));
  const float special =
      Select(x == -1.0f, -internal::InfF(), Select(x < -1.0f, internal::NanF(), x));
  // x itself for ±0 keeps the sign of zero.
  return Select((x > -1.0f) & (x < internal::InfF()) & (x != 0.0f), r, special);
}

DEFERRED_HOST_DEVICE inline double Log1p(double x) {
  using internal::Select;
  const double u = 1.0 + x;
  const double r = internal::LogPositive(u, internal::Log1pCorrection(x, u));
  const double special =
      Select(x == -1.0, -internal::InfD(), Select(x < -1.0, internal::NanD(), x));
  return Select((x > -1.0) & (x < internal::InfD()) & (x != 0.0), r, special);
}

DEFERRED_HOST_DEVICE inline float Exp(float x) {
  using internal::Fma;
  using internal::Select;
  // Beyond these bounds the result is already +inf or +0; clamping keeps k in range. A NaN
  // passes through both comparisons.
  const float xc = Select(x > 89.0f, 89.0f, Select(x < -104.0f, -104.0f, x));
  // t = 1.5 * 2^23 + k with k = round(x / ln 2): k sits exactly in the low bits of t.
  const float t = Fma(xc, 0x1.715476p+0f, 0x1.8p23f);
  const float k = t - 0x1.8p23f;
  // r = x - k * ln 2 in [-0.35, 0.35]; its first part is exact (Cody and Waite).
  const float r = Fma(k, 0x1.05c61p-29f, Fma(k, -0x1.62e43p-1f, xc));
  float p = 0x1.694c86p-10f;
  p = Fma(p, r, 0x1.12397cp-7f);
  p = Fma(p, r, 0x1.555a26p-5f);
  p = Fma(p, r, 0x1.555492p-3f);
  p = Fma(p, r, 0x1.fffffap-2f);
  p = Fma(p, r, 1.0f);
  p = Fma(p, r, 1.0f);
  // 2^k = 2^k1 * 2^k2 with k1 = floor(k / 2): both factors are normal floats, and the
  // product rounds once, also into the subnormals.
  const uint32_t k_biased = internal::Bits(t) - internal::Bits(0x1.8p23f) + 256u;
  const uint32_t k1_biased = k_biased >> 1;
  const uint32_t k2_biased = k_biased - k1_biased;
  const float scale1 = internal::FloatFromBits((k1_biased - 1u) << 23);
  const float scale2 = internal::FloatFromBits((k2_biased - 1u) << 23);
  return Select(x == x, p * scale1 * scale2, x);
}

DEFERRED_HOST_DEVICE inline double Exp(double x) {
  using internal::Fma;
  using internal::Select;
  const double xc = Select(x > 710.0, 710.0, Select(x < -746.0, -746.0, x));
  const double t = Fma(xc, 0x1.71547652b82fep+0, 0x1.8p52);
  const double k = t - 0x1.8p52;
  const double r = Fma(k, -0x1.abc9e3b39803fp-56, Fma(k, -0x1.62e42fefa39efp-1, xc));
  double p = 0x1.ad92c5d75f195p-26;
  p = Fma(p, r, 0x1.28adf7b51df2fp-22);
  p = Fma(p, r, 0x1.71df18fd0e407p-19);
  p = Fma(p, r, 0x1.a0199963bbc45p-16);
  p = Fma(p, r, 0x1.a01a012febadcp-13);
  p = Fma(p, r, 0x1.6c16c18475a3fp-10);
  p = Fma(p, r, 0x1.1111111126b38p-7);
  p = Fma(p, r, 0x1.55555555506cp-5);
  p = Fma(p, r, 0x1.55555555554fep-3);
  p = Fma(p, r, 0x1.000000000000ap-1);
  p = Fma(p, r, 1.0);
  p = Fma(p, r, 1.0);
  const uint64_t k_biased = internal::Bits(t) - internal::Bits(0x1.8p52) + 2048u;
  const uint64_t k1_biased = k_biased >> 1;
  const uint64_t k2_biased = k_biased - k1_biased;
  const double scale1 = internal::DoubleFromBits((k1_biased - 1u) << 52);
  const double scale2 = internal::DoubleFromBits((k2_biased - 1u) << 52);
  return Select(x == x, p * scale1 * scale2, x);
}

namespace internal {

// sin(2 pi v) and cos(2 pi v) for v in [-1/2, 1/2]: SinCos2Pi after its first reduction.
DEFERRED_HOST_DEVICE inline void SinCos2PiOfReduced(float v, float* s, float* c) {
  // r = v - q/4 in [-1/8, 1/8] with q = round(4v), exactly.
  const float t = Fma(v, 4.0f, 0x1.8p23f);
  const float q = t - 0x1.8p23f;
  const float r = Fma(q, -0.25f, v);
  const uint32_t quadrant = Bits(t) & 3u;
  const float r2 = r * r;
  // sin(2 pi r) = r * 2pi_hi + r * (2pi_lo + r^2 * S(r^2)), cos(2 pi r) = 1 + r^2 * C(r^2).
  // 2pi_hi is 2 pi rounded down, so 2pi_lo > 0 and sin(2 pi (-0)) = -0.
  float ps = 0x1.46c086p+5f;
  ps = Fma(ps, r2, -0x1.32b5ap+6f);
  ps = Fma(ps, r2, 0x1.466b84p+6f);
  ps = Fma(ps, r2, -0x1.4abbcep+5f);
  const float sin_r = Fma(r, 0x1.921fb4p+2f, r * Fma(ps, r2, 0x1.4442d2p-22f));
  float pc = 0x1.d684aap+5f;
  pc = Fma(pc, r2, -0x1.55b7cep+6f);
  pc = Fma(pc, r2, 0x1.03c1b8p+6f);
  pc = Fma(pc, r2, -0x1.3bd3ccp+4f);
  const float cos_r = Fma(pc, r2, 1.0f);
  // sin and cos of 2 pi (r + quadrant / 4).
  const bool swap = (quadrant & 1u) != 0u;
  const float sin_abs = Select(swap, cos_r, sin_r);
  const float cos_abs = Select(swap, sin_r, cos_r);
  const float sin_out = Select(quadrant >= 2u, -sin_abs, sin_abs);
  const float cos_out = Select(((quadrant + 1u) & 2u) != 0u, -cos_abs, cos_abs);
  *s = sin_out;
  *c = cos_out;
}
DEFERRED_HOST_DEVICE inline void SinCos2PiOfReduced(double v, double* s, double* c) {
  const double t = Fma(v, 4.0, 0x1.8p52);
  const double q = t - 0x1.8p52;
  const double r = Fma(q, -0.25, v);
  const uint64_t quadrant = Bits(t) & 3u;
  const double r2 = r * r;
  double ps = 0x1.e3fe157a20439p+1;
  ps = Fma(ps, r2, -0x1.e3009539b8239p+3);
  ps = Fma(ps, r2, 0x1.5078300841253p+5);
  ps = Fma(ps, r2, -0x1.32d2cce31fa29p+6);
  ps = Fma(ps, r2, 0x1.466bc67758c6ap+6);
  ps = Fma(ps, r2, -0x1.4abbce625be46p+5);
  const double sin_r = Fma(r, 0x1.921fb54442d18p+2, r * Fma(ps, r2, 0x1.1a62633145c07p-52));
  double pc = -0x1.b1673f09c707fp+0;
  pc = Fma(pc, r2, 0x1.f9c89cce8e2d6p+2);
  pc = Fma(pc, r2, -0x1.a6d1e7297d362p+4);
  pc = Fma(pc, r2, 0x1.e1f5067b90e22p+5);
  pc = Fma(pc, r2, -0x1.55d3c7e3c325cp+6);
  pc = Fma(pc, r2, 0x1.03c1f081b5a67p+6);
  pc = Fma(pc, r2, -0x1.3bd3cc9be45dep+4);
  const double cos_r = Fma(pc, r2, 1.0);
  const bool swap = (quadrant & 1u) != 0u;
  const double sin_abs = Select(swap, cos_r, sin_r);
  const double cos_abs = Select(swap, sin_r, cos_r);
  const double sin_out = Select(quadrant >= 2u, -sin_abs, sin_abs);
  const double cos_out = Select(((quadrant + 1u) & 2u) != 0u, -cos_abs, cos_abs);
  *s = sin_out;
  *c = cos_out;
}

// SinCos2Pi(u) for u in [0, 1), a sampler's UnitInterval: the same operations, without
// the checks for values such a u cannot take.
DEFERRED_HOST_DEVICE inline void SinCos2PiOfUnit(float u, float* s, float* c) {
  SinCos2PiOfReduced(u - ((u + 0x1p23f) - 0x1p23f), s, c);
}
DEFERRED_HOST_DEVICE inline void SinCos2PiOfUnit(double u, double* s, double* c) {
  SinCos2PiOfReduced(u - ((u + 0x1p52) - 0x1p52), s, c);
}

}  // namespace internal

DEFERRED_HOST_DEVICE inline void SinCos2Pi(float u, float* s, float* c) {
  using internal::Select;
  // v = u - round(u) in [-1/2, 1/2], exactly. Floats of magnitude >= 2^23 are integers:
  // v = 0.
  const float a = Select((u < 0x1p23f) & (u > -0x1p23f), u, 0.0f);
  const float shift = Select(a < 0.0f, -0x1p23f, 0x1p23f);
  const float v = a - ((a + shift) - shift);
  float sin_out, cos_out;
  internal::SinCos2PiOfReduced(v, &sin_out, &cos_out);
  const bool finite = u - u == 0.0f;
  const float invalid = Select(u == u, internal::NanF(), u);
  *s = Select(finite, sin_out, invalid);
  *c = Select(finite, cos_out, invalid);
}

DEFERRED_HOST_DEVICE inline void SinCos2Pi(double u, double* s, double* c) {
  using internal::Select;
  const double a = Select((u < 0x1p52) & (u > -0x1p52), u, 0.0);
  const double shift = Select(a < 0.0, -0x1p52, 0x1p52);
  const double v = a - ((a + shift) - shift);
  double sin_out, cos_out;
  internal::SinCos2PiOfReduced(v, &sin_out, &cos_out);
  const bool finite = u - u == 0.0;
  const double invalid = Select(u == u, internal::NanD(), u);
  *s = Select(finite, sin_out, invalid);
  *c = Select(finite, cos_out, invalid);
}

DEFERRED_HOST_DEVICE inline float Erf(float x) {
  using internal::Fma;
  using internal::Select;
  const float a = internal::Abs(x);
  // Region 0, a < 1: erf = a + a * Q(a^2). Regions 1 and 2, [1, 2) and [2, 3.92): erf =
  // 1 - E(a - center) with E approximating erfc. Beyond 3.92, erfc < 2^-25: erf rounds to 1.
  const bool in0 = a < 1.0f;
  const bool in1 = a < 2.0f;
  const float v = Select(in0, a * a, a - Select(in1, 1.5f, 3.0f));
  const auto pick = [&](float c0, float c1, float c2) {
    return Select(in0, c0, Select(in1, c1, c2));
  };
  float p = pick(0.0f, 0.0f, 0x1.526c6cp-17f);
  p = Fma(p, v, pick(0.0f, 0x1.a97bc6p-13f, -0x1.6a5ea6p-16f));
  p = Fma(p, v, pick(0.0f, -0x1.9519dap-10f, -0x1.bd7314p-17f));
  p = Fma(p, v, pick(0.0f, 0x1.28db72p-9f, 0x1.25adfep-13f));
  p = Fma(p, v, pick(0.0f, 0x1.344934p-8f, -0x1.99c1c4p-12f));
  p = Fma(p, v, pick(0x1.4c5cb4p-14f, -0x1.3c35aap-6f, 0x1.81c3f2p-11f));
  p = Fma(p, v, pick(-0x1.a5197ap-11f, 0x1.e744cap-7f, -0x1.0a7a1ep-10f));
  p = Fma(p, v, pick(0x1.542fecp-8f, 0x1.6d545ap-5f, 0x1.11e652p-10f));
  p = Fma(p, v, pick(-0x1.b7fec4p-6f, -0x1.1c2a18p-3f, -0x1.9db726p-11f));
  p = Fma(p, v, pick(0x1.ce2d52p-4f, 0x1.6d5aa8p-3f, 0x1.b60494p-12f));
  p = Fma(p, v, pick(-0x1.81274p-2f, -0x1.e72372p-4f, -0x1.2408f6p-13f));
  p = Fma(p, v, pick(0x1.06eba8p-3f, 0x1.15aaa8p-5f, 0x1.729fa4p-16f));
  const float y = Select(in0, Fma(a, p, a), 1.0f - p);
  return Select(x == x, internal::WithSignOf(Select(a < 3.92f, y, 1.0f), x), x);
}

DEFERRED_HOST_DEVICE inline double Erf(double x) {
  using internal::Fma;
  using internal::Select;
  const double a = internal::Abs(x);
  // Region 0, a < 1: erf = a + a * Q(a^2). Regions 1-4, [1, 2), [2, 3), [3, 4), [4, 5.9):
  // erf = 1 - E(a - center) with E approximating erfc. Beyond 5.9, erfc < 2^-54.
  const bool in0 = a < 1.0;
  const bool in1 = a < 2.0;
  const bool in2 = a < 3.0;
  const bool in3 = a < 4.0;
  const double v =
      Select(in0, a * a, a - Select(in1, 1.5, Select(in2, 2.5, Select(in3, 3.5, 5.0))));
  const auto pick = [&](double c0, double c1, double c2, double c3, double c4) {
    return Select(in0, c0, Select(in1, c1, Select(in2, c2, Select(in3, c3, c4))));
  };
  double p = pick(0.0, 0x1.29e9f9802fe75p-22, 0.0, 0.0, -0x1.82a3472b3ffc3p-38);
  p = Fma(p, v,
          pick(0.0, -0x1.7c925fd6f6269p-20, -0x1.4678305fc0f4cp-23, 0.0, 0x1.095e30db7d317p-35));
  p = Fma(p, v,
          pick(0.0, -0x1.2f4476ed3dc67p-21, 0x1.4c8a13b125d87p-21, 0.0, -0x1.79bb31f33e494p-34));
  p = Fma(p, v,
          pick(0.0, 0x1.d714940de9023p-17, -0x1.a21d69bc2b6e1p-23, -0x1.6664b08499648p-24,
               0x1.b648ef50bb446p-33));
  p = Fma(p, v,
          pick(0.0, -0x1.2d636864f876bp-16, -0x1.3a23821493119p-18, 0x1.475fd6db4c998p-22,
               -0x1.d49f464aeed17p-32));
  p = Fma(p, v,
          pick(0x1.2978304266ff7p-34, -0x1.45ccc71496c93p-14, 0x1.d890f69aad315p-17,
               -0x1.e085e2a5ff543p-22, 0x1.b724cb3f4064fp-31));
  p = Fma(p, v,
          pick(-0x1.46794feb16f44p-30, 0x1.0acf628e8a787p-12, -0x1.58e531ac78c35p-18,
               -0x1.de7eafc53dfd3p-22, -0x1.625878ba525d7p-30));
  p = Fma(p, v,
          pick(0x1.fc78cbccf6129p-27, 0x1.85b3e316db128p-14, -0x1.4a84e19a469abp-14,
               0x1.378225dc2252fp-18, 0x1.f3b041767510cp-30));
  p = Fma(p, v,
          pick(-0x1.5f9828c55da45p-23, -0x1.c0380f0c067p-10, 0x1.06718e25d97e8p-12,
               -0x1.013482047e374p-16, -0x1.34d9cfa7e6423p-29));
  p = Fma(p, v,
          pick(0x1.b9ee95850f6f5p-20, 0x1.35ae4fa1b582cp-9, -0x1.11551a66945e8p-12,
               0x1.1f62ce797f0a5p-15, 0x1.4bdd2fa73991dp-29));
  p = Fma(p, v,
          pick(-0x1.f4d333884b5cap-17, 0x1.36d73a6d48a15p-8, -0x1.1c610c99347e1p-11,
               -0x1.e8280250c3ad2p-15, -0x1.32d152bc85637p-29));
  p = Fma(p, v,
          pick(0x1.f9a335388d2f5p-14, -0x1.3ca3d72e6923dp-6, 0x1.6ecdbf61d4bdcp-9,
               0x1.46154181f53dep-14, 0x1.e230996ccbceep-30));
  p = Fma(p, v,
          pick(-0x1.c02db49b09506p-11, 0x1.e723726b4f5e9p-7, -0x1.90e81282f5384p-8,
               -0x1.586baf9daeb31p-14, -0x1.3c4f4cdbaa1cbp-30));
  p = Fma(p, v,
          pick(0x1.565bcd12991cp-8, 0x1.6d5a95d0a8091p-5, 0x1.1a89b97cf4df1p-7,
               0x1.1c07720c16baap-14, 0x1.516e1483bb9cap-31));
  p = Fma(p, v,
          pick(-0x1.b82ce312abf08p-6, -0x1.1c2a02beb69e4p-3, -0x1.119da0c46f1ecp-7,
               -0x1.62ccea65a224ep-15, -0x1.196e30eebfb26p-32));
  p = Fma(p, v,
          pick(0x1.ce2f21a04362dp-4, 0x1.6d5a95d0a1b49p-3, 0x1.64e3dcd3af166p-8,
               0x1.3d0e43d72c9dep-16, 0x1.589ae9b5943d5p-34));
  p = Fma(p, v,
          pick(-0x1.812746b0379fdp-2, -0x1.e723726b824abp-4, -0x1.1d83170fbf636p-9,
               -0x1.6a5972199260ap-18, -0x1.13af2928003aep-36));
  p = Fma(p, v,
          pick(0x1.06eba8214db69p-3, 0x1.15aaa8ec85205p-5, 0x1.aab859b20acb6p-12,
               0x1.8ef2a9a181a2dp-21, 0x1.b0c1bb40cf6f1p-40));
  const double y = Select(in0, Fma(a, p, a), 1.0 - p);
  return Select(x == x, internal::WithSignOf(Select(a < 5.9, y, 1.0), x), x);
}

namespace internal {

// ErfInv(float)'s variable w = -log(1 - a^2) for a = |x|, with 1 - a^2 rounded once
// (w <= 16 for a <= 1 - 2^-24).
DEFERRED_HOST_DEVICE inline float ErfInvVariable(float a) {
  return -LogPositive(Fma(-a, a, 1.0f), 0.0f);
}

// ErfInv(float)'s first region, w < 2.5: erfinv(a) = a * P(v) for v = w - center,
// P(v) = c0 + v * P1(v).
DEFERRED_HOST_DEVICE inline float ErfInvMagnitudeCentral(float a, float w) {
  const float v = w - 0x1.02p+0f;
  float p = 0x1.d53aa2p-24f;
  p = Fma(p, v, -0x1.1a1188p-21f);
  p = Fma(p, v, -0x1.2008c2p-18f);
  p = Fma(p, v, 0x1.3e58f6p-15f);
  p = Fma(p, v, 0x1.aa2c0cp-14f);
  p = Fma(p, v, -0x1.370ef6p-9f);
  p = Fma(p, v, 0x1.12ed3ep-8f);
  p = Fma(p, v, 0x1.fbb264p-3f);
  return Fma(a, 0x1.211a84p+0f, a * (v * p));
}

}  // namespace internal

DEFERRED_HOST_DEVICE inline float ErfInv(float x) {
  using internal::Fma;
  using internal::Select;
  const float a = internal::Abs(x);
  // w = -log(1 - a^2). Then erfinv(a) = a * P(v), P(v) = c0 + v * P1(v), in three regions:
  // v = w - center for w < 2.5 and w < 5, v = sqrt(w) - center beyond. Each center is
  // chosen so that P's value there, c0, is within 0.002 ulp of a float; the last step
  // a * c0 + a * (v * P1) rounds once at full size.
  const float w = internal::ErfInvVariable(a);
  const bool in1 = w < 5.0f;
  const float v = Select(in1, w - 0x1.c7p+1f, internal::SqrtPositive(w) - 0x1.8fp+1f);
  const auto pick = [&](float c1, float c2) { return Select(in1, c1, c2); };
  float p = pick(0.0f, -0x1.03012ap-15f);
  p = Fma(p, v, pick(0.0f, 0x1.06a62cp-13f));
  p = Fma(p, v, pick(0.0f, -0x1.02408ep-13f));
  p = Fma(p, v, pick(0x1.08e1b2p-22f, -0x1.3faea4p-12f));
  p = Fma(p, v, pick(-0x1.661518p-22f, 0x1.51916ep-10f));
  p = Fma(p, v, pick(-0x1.08bfb2p-16f, -0x1.531b0ap-9f));
  p = Fma(p, v, pick(0x1.43861cp-13f, 0x1.fe30b2p-9f));
  p = Fma(p, v, pick(-0x1.d4dea6p-12f, -0x1.63304p-8f));
  p = Fma(p, v, pick(-0x1.bd3338p-8f, 0x1.d62146p-8f));
  p = Fma(p, v, pick(0x1.e08034p-3f, 0x1.00ec6cp+0f));
  const float outer = Fma(a, pick(0x1.c1744ep+0f, 0x1.79a94cp+1f), a * (v * p));
  // w is meaningless for a >= 1 (log of a value <= 0): those select inf or NaN below.
  const float magnitude = Select(a < 1.0f,
                                 Select(w < 2.5f, internal::ErfInvMagnitudeCentral(a, w), outer),
                                 internal::InfF());
  return Select(a <= 1.0f, internal::WithSignOf(magnitude, x),
                Select(x == x, internal::NanF(), x));
}

DEFERRED_HOST_DEVICE inline float ErfInvCentral(float x) {
  const float a = internal::Abs(x);
  return internal::WithSignOf(
      internal::ErfInvMagnitudeCentral(a, internal::ErfInvVariable(a)), x);
}

DEFERRED_HOST_DEVICE inline double ErfInv(double x) {
  using internal::Fma;
  using internal::Select;
  const double a = internal::Abs(x);
  // As for float, with w <= 37 for a <= 1 - 2^-53 and four regions: v = w - center for
  // w < 3.125 and w < 6.25, v = sqrt(w) - center for w < 16 and beyond; each c0 is within
  // 0.015 ulp of P's value at its center.
  const double w = -internal::LogPositive(Fma(-a, a, 1.0), 0.0);
  const bool in0 = w < 3.125;
  const bool in1 = w < 6.25;
  const bool in2 = w < 16.0;
  const double v = Select(in1, w - Select(in0, 0x1.a6p+0, 0x1.3a4p+2),
                          internal::SqrtPositive(w) - Select(in2, 0x1.a48p+1, 0x1.32cp+2));
  const auto pick = [&](double c0, double c1, double c2, double c3) {
    return Select(in0, c0, Select(in1, c1, Select(in2, c2, c3)));
  };
  const double c0 = pick(0x1.4a0b9c00c385ep+0, 0x1.07c03d69dcb55p+1, 0x1.8f4308c9131d8p+1,
                         0x1.2901dd12bcc29p+2);
  double p = pick(0.0, 0.0, 0x1.032851fddc1ffp-27, 0.0);
  p = Fma(p, v, pick(0.0, 0.0, -0x1.56c4ab6b46904p-27, 0x1.3db59f789d31cp-38));
  p = Fma(p, v, pick(0x1.030cefb460ed9p-51, 0.0, -0x1.f162c52d0bbcbp-26, -0x1.4ce184db05ae7p-35));
  p = Fma(p, v, pick(-0x1.b4a21e791f0f3p-50, 0.0, 0x1.f0d5636b7f683p-24, 0x1.1c3f2e112fdbp-33));
  p = Fma(p, v,
          pick(-0x1.64fa6f4066ce3p-46, -0x1.a121a89c12375p-51, -0x1.710dce434b121p-23,
               -0x1.85fe53030c54dp-33));
  p = Fma(p, v,
          pick(0x1.35cd685448595p-43, 0x1.ba7eae067027p-48, -0x1.368de7717cd4fp-23,
               -0x1.5dfd02fec1d56p-32));
  p = Fma(p, v,
          pick(0x1.ee2529d9cc7a8p-42, 0x1.59073147f59c5p-54, 0x1.81207f248b8a1p-20,
               0x1.69b8eea3fb002p-29));
  p = Fma(p, v,
          pick(-0x1.10ff084329e39p-37, -0x1.a7160ac8d0a37p-42, -0x1.b6482b2aace63p-19,
               -0x1.3f09d53fef91dp-27));
  p = Fma(p, v,
          pick(0x1.f76a2b1ef65eap-38, 0x1.0bb46ccdd2db3p-38, 0x1.569babdedbae3p-20,
               0x1.9f3b29b399935p-26));
  p = Fma(p, v,
          pick(0x1.69fb010405a02p-32, -0x1.dfc10d0b39334p-37, 0x1.bfa870a26f3p-17,
               -0x1.bc77cae468e02p-25));
  p = Fma(p, v,
          pick(-0x1.9c5339638eb51p-30, -0x1.0769783a95e23p-33, -0x1.62e8419e55c5p-15,
               0x1.a364c8dc4383dp-24));
  p = Fma(p, v,
          pick(-0x1.5271415b40419p-27, 0x1.2ae69761a37cap-29, 0x1.b8966d64342c8p-15,
               -0x1.8c69957a4636fp-23));
  p = Fma(p, v,
          pick(0x1.c827fdf53d0e5p-24, -0x1.ef8d614bd142p-27, 0x1.6986f7744b968p-15,
               0x1.db0718496f34bp-22));
  p = Fma(p, v,
          pick(0x1.24fe337ba5c5ep-24, 0x1.fca421a4361abp-30, -0x1.6a4351bbb4d73p-12,
               -0x1.97f100c9cab0ep-20));
  p = Fma(p, v,
          pick(-0x1.685f2b29102aap-18, 0x1.077f44000db36p-20, 0x1.c68c75d7d4de3p-11,
               0x1.a71eaffe5b87cp-18));
  p = Fma(p, v,
          pick(0x1.36472bc4e1efdp-16, -0x1.71025ea9c6ce4p-17, -0x1.88415a2b6d7a4p-10,
               -0x1.b9c19307ed72cp-16));
  p = Fma(p, v,
          pick(0x1.951da3125b5f6p-13, 0x1.e2d4a5aca641ap-15, 0x1.21e8136fff144p-9,
               0x1.a1d6cf27f6152p-14));
  p = Fma(p, v,
          pick(-0x1.03cad146f52c8p-9, 0x1.d0cde3f2716c4p-14, -0x1.c06291e779929p-9,
               -0x1.2d3a0b8d0fe3p-12));
  p = Fma(p, v,
          pick(-0x1.d1cedd72286dfp-16, -0x1.de3c036e36c93p-8, 0x1.47395cd846af1p-8,
               0x1.10c3fc0681803p-16));
  p = Fma(p, v,
          pick(0x1.007fd8ebd5852p-2, 0x1.b8579fa851a98p-3, 0x1.01708452fb96p+0,
               0x1.02a4d06c2717p+0));
  const double magnitude = Select(a < 1.0, Fma(a, c0, a * (v * p)), internal::InfD());
  return Select(a <= 1.0, internal::WithSignOf(magnitude, x),
                Select(x == x, internal::NanD(), x));
}

namespace internal {

// C's special cases of pow(x, y) for quiet or no NaNs (signaling ones are the callers'):
// returns true with *result set when one applies. Otherwise |x|^y is finite-argument work
// (x finite and nonzero, y finite, x > 0 or y an integer) and *negative says whether the
// result is its negation (x negative, y odd).
DEFERRED_HOST_DEVICE inline bool PowSpecialCase(double x, double y, double* result,
                                                bool* negative) {
  *result = 1.0;
  if (y == 0.0 || x == 1.0) return true;
  *result = x + y;
  if (x != x || y != y) return true;  // NaN
  const double ay = Abs(y);
  const bool y_integer = detmath::Floor(y) == y;
  // |y| >= 2^53 is even; below, y / 2 is exact.
  const bool y_odd = y_integer && ay < 0x1p53 && detmath::Floor(y * 0.5) * 2.0 != y;
  const double ax = Abs(x);
  if (ay == InfD()) {
    *result = ax == 1.0 ? 1.0 : ((ax < 1.0) == (y < 0.0) ? InfD() : 0.0);  // pow(-1, ±inf) = 1
    return true;
  }
  // -0 counts as negative: pow(-0, -1) = -inf.
  *negative = (Bits(x) >> 63) != 0 && y_odd;
  if (ax == 0.0 || ax == InfD()) {
    const double magnitude = (ax == 0.0) == (y < 0.0) ? InfD() : 0.0;
    *result = *negative ? -magnitude : magnitude;
    return true;
  }
  if (x < 0.0 && !y_integer) {
    *result = NanD();
    return true;
  }
  return false;
}

}  // namespace internal

DEFERRED_HOST_DEVICE inline float Pow(float x, float y) {
  // A signaling NaN operand gives NaN even where a quiet one gives 1, as glibc's powf does;
  // converting it to double would quiet it.
  const auto signaling = [](float v) {
    const uint32_t bits = internal::Bits(v) & 0x7fffffffu;
    return bits > 0x7f800000u && (bits & 0x00400000u) == 0;
  };
  if (signaling(x) || signaling(y)) return x + y;
  double special;
  bool negative = false;
  if (internal::PowSpecialCase(x, y, &special, &negative)) return static_cast<float>(special);
  const double dx = x, dy = y;
  const float result = static_cast<float>(Exp(dy * Log(internal::Abs(dx))));
  return negative ? -result : result;
}

DEFERRED_HOST_DEVICE inline float Expm1(float x) {
  const double d = x;
  if (d != d || d == 0.0) return x;  // NaN; ±0 keeps its sign
  // Below 2^-10 a series (its first omitted term is below 2^-50 relative); above, e^d - 1
  // cancels at most 10 of double's 53 bits.
  if (internal::Abs(d) < 0x1p-10) {
    return static_cast<float>(d + d * d * (0.5 + d * (1.0 / 6 + d * (1.0 / 24 + d / 120))));
  }
  return static_cast<float>(Exp(d) - 1.0);
}

DEFERRED_HOST_DEVICE inline float Exp2(float x) {
  constexpr double kLn2 = 0x1.62e42fefa39efp-1;
  return static_cast<float>(Exp(static_cast<double>(x) * kLn2));
}

DEFERRED_HOST_DEVICE inline float Log2(float x) {
  constexpr double kLog2E = 0x1.71547652b82fep0;  // 1 / ln 2
  return static_cast<float>(Log(static_cast<double>(x)) * kLog2E);
}

DEFERRED_HOST_DEVICE inline float Tanh(float x) {
  const double d = x;
  if (d != d || d == 0.0) return x;
  const double a = internal::Abs(d);
  double t;
  if (a < 0x1p-10) {
    t = a - a * a * a * (1.0 / 3 - a * a * (2.0 / 15));
  } else if (a > 10.0) {
    t = 1.0;  // tanh(10) = 1 - 4e-9, which rounds to float's 1
  } else {
    const double e = Exp(2.0 * a);
    t = (e - 1.0) / (e + 1.0);
  }
  return static_cast<float>(internal::WithSignOf(t, d));
}

// The double functions' results, rounded to float.
DEFERRED_HOST_DEVICE inline float Sin(float x) {
  return static_cast<float>(Sin(static_cast<double>(x)));
}

DEFERRED_HOST_DEVICE inline float Cos(float x) {
  return static_cast<float>(Cos(static_cast<double>(x)));
}

namespace internal {

// ln 2 = kLn2Hi + kLn2Lo to about 2^-97: kLn2Hi has 42 significant bits, so k * kLn2Hi is
// exact for |k| < 2^11.
inline constexpr double kLn2Hi = 0x1.62e42fefa38p-1;
inline constexpr double kLn2Lo = 0x1.ef35793c7673p-45;
// 1 / ln 2 = kLog2E + kLog2ELo to about 2^-107.
inline constexpr double kLog2E = 0x1.71547652b82fep+0;
inline constexpr double kLog2ELo = 0x1.777d0ffda0d24p-56;

// m * 2^k for m in [1/2, 2] and integral k with |k| <= 1100, rounded once: 2^k as two
// normal factors, the first product exact.
DEFERRED_HOST_DEVICE inline double TimesPowerOfTwo(double m, double k) {
  const double k1 = Floor(k * 0.5);
  const double k2 = k - k1;
  const double scale1 =
      DoubleFromBits(static_cast<uint64_t>(static_cast<int64_t>(k1) + 1023) << 52);
  const double scale2 =
      DoubleFromBits(static_cast<uint64_t>(static_cast<int64_t>(k2) + 1023) << 52);
  return m * scale1 * scale2;
}

// log(x) = *hi + *lo, to about 2^-66 relative, for finite x > 0. x = 2^k * m with m in
// [sqrt(2)/2, sqrt(2)) as LogPositive; c = j / 32 the nearest such fraction to m, whose log
// is tabulated in double-double; s = (m - c) / (m + c) in double-double (m - c is exact),
// |s| <= 1/90; and log(m) = log(c) + 2 atanh(s) = log(c) + 2s + s * z * R(z), z = s^2, R
// the atanh series to z^4 (its first omitted term is below 2^-70 of the sum).
DEFERRED_HOST_DEVICE inline void LogDoubleDouble(double x, double* hi, double* lo) {
  constexpr double kLogHi[23] = {
      -0x1.522ae0738a3d8p-2, -0x1.269621134db92p-2, -0x1.f991c6cb3b379p-3, -0x1.a93ed3c8ad9e3p-3,
      -0x1.5bf406b543db2p-3, -0x1.1178e8227e47cp-3, -0x1.9335e5d594989p-4, -0x1.08598b59e3a07p-4,
      -0x1.0415d89e74444p-5, 0.0,                   0x1.f829b0e7833p-6,    0x1.f0a30c01162a6p-5,
      0x1.6f0d28ae56b4cp-4,  0x1.e27076e2af2e6p-4,  0x1.29552f81ff523p-3,  0x1.5ff3070a793d4p-3,
      0x1.9525a9cf456b4p-3,  0x1.c8ff7c79a9a22p-3,  0x1.fb9186d5e3e2bp-3,  0x1.1675cababa60ep-2,
      0x1.2e8e2bae11d31p-2,  0x1.4618bc21c5ec2p-2,  0x1.5d1bdbf5809cap-2};
  constexpr double kLogLo[23] = {
      0x1.8f7e9b38a6979p-57, -0x1.e0efadd9db02bp-56, -0x1.f665066f980a2p-57,
      -0x1.bcafa9de97203p-57, 0x1.1f5b44c0df7e7p-61, 0x1.0e63a5f01c691p-58,
      0x1.478a85704ccb7p-58, 0x1.dd7009902bf32p-58, -0x1.c05cf1d753622p-59,
      0.0, 0x1.33e3f04f1ef23p-60, 0x1.85f325c5bbacdp-59,
      -0x1.906d99184b992p-58, -0x1.61578001e0162p-60, 0x1.301771c407dbfp-57,
      -0x1.bc60efafc6f6ep-58, 0x1.d904c1d4e2e26p-57, -0x1.4f689f8434012p-57,
      -0x1.caaae64f21acbp-57, 0x1.ce63eab883717p-61, -0x1.8f4cdb95ebdf9p-56,
      0x1.f42decdeccf1dp-56, 0x1.4236383dc7fe1p-56};
  const bool subnormal = x < 0x1p-1022;
  const double scaled = Select(subnormal, x * 0x1p54, x);
  const uint64_t shifted = Bits(scaled) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
  const double k = DoubleFromBits((shifted >> 52) | 0x4330000000000000ull) -
                   Select(subnormal, 0x1p52 + (1023 + 54), 0x1p52 + 1023);
  const double m = DoubleFromBits((shifted & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
  const double j = Rint(m * 32.0);  // 23 to 45
  const double c = j * 0x1p-5;
  const double numerator = m - c;
  const double d_hi = m + c;
  const double d_lo = (m - (d_hi - c)) + (c - (d_hi - (d_hi - c)));  // TwoSum
  const double s_hi = numerator / d_hi;
  const double s_lo = (Fma(-s_hi, d_hi, numerator) - s_hi * d_lo) / d_hi;
  const double z = s_hi * s_hi;
  double r = 0x1.745d1745d1746p-3;
  r = Fma(r, z, 0x1.c71c71c71c71cp-3);
  r = Fma(r, z, 0x1.2492492492492p-2);
  r = Fma(r, z, 0x1.999999999999ap-2);
  r = Fma(r, z, 0x1.5555555555555p-1);
  const int index = static_cast<int>(j) - 23;
  const double tail = kLogLo[index] + 2.0 * s_lo + s_hi * z * r + k * kLn2Lo;
  // k * kLn2Hi + log(c)'s high part + 2 * s_hi, each exact, summed exactly (TwoSum twice),
  // then the small parts.
  const auto two_sum = [](double a, double b, double* error) {
    const double sum = a + b;
    const double b_part = sum - a;
    *error = (a - (sum - b_part)) + (b - b_part);
    return sum;
  };
  double error1, error2;
  const double sum1 = two_sum(k * kLn2Hi, kLogHi[index], &error1);
  const double sum = two_sum(sum1, 2.0 * s_hi, &error2);
  const double low = (error1 + error2) + tail;
  *hi = sum + low;
  *lo = low - (*hi - sum);
}

// e^(hi + lo) for |lo| <= 2^-50 |hi| or so: Exp(hi) * (1 + lo).
DEFERRED_HOST_DEVICE inline double ExpDoubleDouble(double hi, double lo) {
  const double e = Exp(hi);
  // Where e is infinite or lo is not finite (hi overflowed), e is the result already: 0,
  // inf or NaN.
  const bool finite = (e - e == 0.0) & (lo - lo == 0.0);
  return Select(finite, Fma(e, lo, e), e);
}

// ReduceTurns for a finite double x: x / (2*pi) = quadrant / 4 + *turns + *turns_lo + an
// integer, |*turns| <= 1/8, *turns_lo below half an ulp of *turns. Products of x with
// each table word are split exactly (Fma) and their fractional parts summed in
// double-double; |x| >= 2^600 is scaled by 2^-600 first (exactly), else the table by
// 2^-600, so that no product overflows.
DEFERRED_HOST_DEVICE inline int ReduceTurns(double x, double* turns, double* turns_lo) {
  // 1/(2*pi) * 2^600 as a sum of 23 doubles (each the rounding of what the earlier ones
  // leave), which covers 1/(2*pi) down to 2^-1222: enough for x / (2*pi) modulo 1 to about
  // 2^-110 for every double x.
  constexpr double kInvTwoPiScaled[23] = {
      0x1.45f306dc9c883p+597,  -0x1.6b01ec5417056p+543, -0x1.6447e493ad4cep+489,
      0x1.e21c820ff28b2p+435,  -0x1.508510ea79237p+380, 0x1.b8e909374b802p+324,
      -0x1.b6d115f62e6dep+270, -0x1.80f10a71a76b3p+215, 0x1.cfba208d7d4bbp+160,
      -0x1.2edec598e3f65p+104, -0x1.741037d8cdc54p+49,  0x1.cc1a99cfa4e42p-5,
      0x1.7e2ef7e4a0ec8p-60,   -0x1.da00087e99fc0p-120, -0x1.0d0ee74a5f593p-174,
      0x1.f6d367ecf27cbp-230,  0x1.36e9e8c7ecd3dp-287,  -0x1.00ae9456c229cp-341,
      -0x1.41a0e84c2f8c6p-398, -0x1.0eb5ada2b2809p-455, -0x1.0277039517bd5p-509,
      0x1.98237e3db5d60p-569,  -0x1.e6087beca1794p-623};
  const bool huge = Abs(x) >= 0x1p600;
  const double xs = Select(huge, x * 0x1p-600, x);
  const double table_scale = Select(huge, 1.0, 0x1p-600);
  double sum = 0.0, error = 0.0;
  const auto add = [&](double v) {
    if (Abs(v) >= 1.0) v -= Rint(v);  // exact: drops whole turns
    const double s = sum + v;
    const double b = s - sum;
    error += (sum - (s - b)) + (v - b);
    sum = s;
  };
  for (const double word : kInvTwoPiScaled) {
    const double c = word * table_scale;
    const double hi = xs * c;
    // The words shrink by 2^54 or more each: what the rest would add is below 2^-118.
    if (Abs(hi) < 0x1p-120) break;
    add(hi);
    add(Fma(xs, c, -hi));
  }
  const double quarters = Rint(4.0 * sum);
  const double t = sum - 0.25 * quarters;
  *turns = t + error;
  *turns_lo = error - (*turns - t);
  const int64_t q = static_cast<int64_t>(quarters) % 4;
  return static_cast<int>(q < 0 ? q + 4 : q);
}

// sin(x) (want_sin) or cos(x) for finite x with |x| >= 2^-27.
DEFERRED_HOST_DEVICE inline double SinOrCos(double x, bool want_sin) {
  double turns, turns_lo;
  const int quadrant = ReduceTurns(x, &turns, &turns_lo);
  double s, c;
  SinCos2Pi(turns, &s, &c);
  // The rest of the angle, 2*pi*turns_lo, turns (s, c) by a first-order rotation.
  const double rest = 0x1.921fb54442d18p+2 * turns_lo;
  const double s1 = Fma(rest, c, s);
  const double c1 = Fma(-rest, s, c);
  const int k = want_sin ? quadrant : quadrant + 1;
  switch (k % 4) {
    case 0:
      return s1;
    case 1:
      return c1;
    case 2:
      return -s1;
    default:
      return -c1;
  }
}

}  // namespace internal

DEFERRED_HOST_DEVICE inline double Pow(double x, double y) {
  // A signaling NaN operand gives NaN even where a quiet one gives 1, as glibc's pow does.
  const auto signaling = [](double v) {
    const uint64_t bits = internal::Bits(v) & 0x7fffffffffffffffull;
    return bits > 0x7ff0000000000000ull && (bits & 0x0008000000000000ull) == 0;
  };
  if (signaling(x) || signaling(y)) return x + y;
  double special;
  bool negative = false;
  if (internal::PowSpecialCase(x, y, &special, &negative)) return special;
  double log_hi, log_lo;
  internal::LogDoubleDouble(internal::Abs(x), &log_hi, &log_lo);
  const double p_hi = y * log_hi;
  const double p_lo = internal::Fma(y, log_hi, -p_hi) + y * log_lo;
  const double magnitude = internal::ExpDoubleDouble(p_hi, p_lo);
  return negative ? -magnitude : magnitude;
}

DEFERRED_HOST_DEVICE inline double Expm1(double x) {
  using internal::Fma;
  if (x != x || x == 0.0) return x;  // NaN; ±0 keeps its sign
  if (x > 710.0) return internal::InfD();
  if (x < -40.0) return -1.0;  // e^-40 is below half an ulp of 1
  // x = k ln 2 + r, and expm1(r) = r + r^2 Q(r), Q the Taylor series to r^18 (enough for
  // |r| <= ln 2). k is 0 on [-ln2 / 2, ln 2), where r = x exactly and 2^k (1 + p) - 1
  // below would cancel; elsewhere |r| <= ln2 / 2.
  const bool direct = x >= -0x1.62e42fefa39efp-2 && x < 0x1.62e42fefa39efp-1;
  const double k = direct ? 0.0 : Rint(x * internal::kLog2E);
  // r = x - k ln 2 rounded, and r_lo what the rounding left (k * kLn2Hi is exact).
  const double r_hi = Fma(k, -internal::kLn2Hi, x);
  const double r = Fma(k, -internal::kLn2Lo, r_hi);
  const double r_lo = (r_hi - r) - k * internal::kLn2Lo;
  double q = 0x1.6827863b97d97p-53;
  q = Fma(q, r, 0x1.952c77030ad4ap-49);
  q = Fma(q, r, 0x1.ae7f3e733b81fp-45);
  q = Fma(q, r, 0x1.ae7f3e733b81fp-41);
  q = Fma(q, r, 0x1.93974a8c07c9dp-37);
  q = Fma(q, r, 0x1.6124613a86d09p-33);
  q = Fma(q, r, 0x1.1eed8eff8d898p-29);
  q = Fma(q, r, 0x1.ae64567f544e4p-26);
  q = Fma(q, r, 0x1.27e4fb7789f5cp-22);
  q = Fma(q, r, 0x1.71de3a556c734p-19);
  q = Fma(q, r, 0x1.a01a01a01a01ap-16);
  q = Fma(q, r, 0x1.a01a01a01a01ap-13);
  q = Fma(q, r, 0x1.6c16c16c16c17p-10);
  q = Fma(q, r, 0x1.1111111111111p-7);
  q = Fma(q, r, 0x1.5555555555555p-5);
  q = Fma(q, r, 0x1.5555555555555p-3);
  q = Fma(q, r, 0x1.0p-1);
  // p = expm1(r + r_lo) = expm1(r) + r_lo e^r, the small terms added before r.
  const double p = r + Fma(r * r, q, r_lo * (1.0 + r));
  if (k == 0.0) return p;
  if (k > 53.0) {
    // 2^k ((1 + p) - 2^-k), with 1 + p in double-double (Fast2Sum); 2^-k is 0 past k = 1000,
    // where it is far below any ulp anyway.
    const double one_plus_p = 1.0 + p;
    const int64_t minus_k_biased = k < 1000.0 ? 1023 - static_cast<int64_t>(k) : 0;
    const double two_minus_k =
        internal::DoubleFromBits(static_cast<uint64_t>(minus_k_biased) << 52);
    const double low = (p - (one_plus_p - 1.0)) - two_minus_k;
    return internal::TimesPowerOfTwo(one_plus_p + low, k);
  }
  // 2^k (1 + p) - 1 = 2^k p + (2^k - 1), both exact for -58 <= k <= 53: one rounding.
  const double two_k =
      internal::DoubleFromBits(static_cast<uint64_t>(static_cast<int64_t>(k) + 1023) << 52);
  return two_k * p + (two_k - 1.0);
}

DEFERRED_HOST_DEVICE inline double Exp2(double x) {
  using internal::Select;
  if (x != x) return x;
  const double xc = Select(x > 1100.0, 1100.0, Select(x < -1100.0, -1100.0, x));
  const double k = Rint(xc);
  const double r = xc - k;  // exact, |r| <= 1/2
  // r ln 2 in double-double, then e^(r ln 2) * 2^k.
  const double hi = r * 0x1.62e42fefa39efp-1;
  const double lo = internal::Fma(r, 0x1.62e42fefa39efp-1, -hi) + r * 0x1.abc9e3b39803fp-56;
  return internal::TimesPowerOfTwo(internal::ExpDoubleDouble(hi, lo), k);
}

DEFERRED_HOST_DEVICE inline double Log2(double x) {
  if (!(x > 0.0 && x < internal::InfD())) return Log(x);  // ±0, negative, inf, NaN: as Log
  double hi, lo;
  internal::LogDoubleDouble(x, &hi, &lo);
  const double p_hi = hi * internal::kLog2E;
  const double p_lo = internal::Fma(hi, internal::kLog2E, -p_hi) +
                      (lo * internal::kLog2E + hi * internal::kLog2ELo);
  return p_hi + p_lo;
}

DEFERRED_HOST_DEVICE inline double Tanh(double x) {
  if (x != x || x == 0.0) return x;
  const double a = internal::Abs(x);
  double t;
  if (a < 0x1p-28) {
    t = a;  // a^3 / 3 is below half an ulp of a
  } else if (a > 22.0) {
    t = 1.0;  // tanh(22) = 1 - 1.6e-19 rounds to 1
  } else if (a >= 1.0) {
    t = 1.0 - 2.0 / (Expm1(2.0 * a) + 2.0);  // the small quotient's error hardly shows
  } else {
    // tanh(a) = -e / (e + 2) with e = expm1(-2a) in (-0.87, 0], the denominator in
    // double-double (Fast2Sum) and the quotient corrected by its residual.
    const double e = Expm1(-2.0 * a);
    const double d_hi = e + 2.0;
    const double d_lo = e - (d_hi - 2.0);
    const double quotient = -e / d_hi;
    t = quotient + (internal::Fma(-quotient, d_hi, -e) - quotient * d_lo) / d_hi;
  }
  return internal::WithSignOf(t, x);
}

DEFERRED_HOST_DEVICE inline double Sin(double x) {
  if (internal::Abs(x) < 0x1p-26) return x;  // x^3 / 6 is below half an ulp; keeps -0
  if (!(internal::Abs(x) < internal::InfD())) return internal::NanD();
  return internal::SinOrCos(x, true);
}

DEFERRED_HOST_DEVICE inline double Cos(double x) {
  if (internal::Abs(x) < 0x1p-27) return 1.0;  // x^2 / 2 is below half an ulp of 1
  if (!(internal::Abs(x) < internal::InfD())) return internal::NanD();
  return internal::SinOrCos(x, false);
}

}  // namespace deferred::detmath

#endif  // DEFERRED_REPLAY_RNG_DETERMINISTIC_MATH_H_
