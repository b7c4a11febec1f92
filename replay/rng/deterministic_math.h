#ifndef DEFERRED_REPLAY_RNG_DETERMINISTIC_MATH_H_
#define DEFERRED_REPLAY_RNG_DETERMINISTIC_MATH_H_

// Transcendental functions for the random samplers, written once in plain IEEE arithmetic
// (+, -, *, /, sqrt and explicit fused multiply-adds, each correctly rounded) so that every
// compiler and device computes the same bits: the portable x86-64 build, an AVX2+FMA build
// and CUDA device code. docs/RNG_MATH.md gives each algorithm bit for bit and the measured
// accuracy. Callers must compile without implicit contraction (host: -ffp-contract=off;
// nvcc: -fmad=false), without fast-math, and without flushing subnormals to zero.
//
// Every function is straight-line code over its argument (selects, no data-dependent
// branches, no tables), so a loop over it vectorizes. A NaN argument is returned unchanged;
// an argument outside the domain gives the positive quiet NaN (0x7fc00000 / 0x7ff8...0).

#include <cstdint>

#include "replay/rng/host_device.h"

#ifndef __CUDA_ARCH__
#include <bit>
#include <cmath>
#endif

namespace deferred::detmath {

// Natural logarithm. Log(+0) = Log(-0) = -inf, Log(+inf) = +inf, Log(x < 0) = NaN.
DEFERRED_HOST_DEVICE inline float Log(float x);
DEFERRED_HOST_DEVICE inline double Log(double x);

// log(1 + x), accurate also for tiny x. Log1p(-1) = -inf, Log1p(x < -1) = NaN,
// Log1p(+inf) = +inf, Log1p(±0) = ±0.
DEFERRED_HOST_DEVICE inline float Log1p(float x);
DEFERRED_HOST_DEVICE inline double Log1p(double x);

// e^x. Overflows to +inf, underflows through the subnormals to +0; Exp(-inf) = +0.
DEFERRED_HOST_DEVICE inline float Exp(float x);
DEFERRED_HOST_DEVICE inline double Exp(double x);

// Sets *s = sin(2*pi*u) and *c = cos(2*pi*u). u is reduced modulo 1/4 exactly, so the
// result is accurate for every finite u (Box–Muller passes u in [0, 1]); exact at multiples
// of 1/4. An infinite or NaN u gives NaN for both (a NaN u itself).
DEFERRED_HOST_DEVICE inline void SinCos2Pi(float u, float* s, float* c);
DEFERRED_HOST_DEVICE inline void SinCos2Pi(double u, double* s, double* c);

// The error function. Erf(±inf) = ±1, Erf(±0) = ±0.
DEFERRED_HOST_DEVICE inline float Erf(float x);
DEFERRED_HOST_DEVICE inline double Erf(double x);

// The inverse error function on (-1, 1): ErfInv(±1) = ±inf, ErfInv(|x| > 1) = NaN,
// ErfInv(±0) = ±0.
DEFERRED_HOST_DEVICE inline float ErfInv(float x);
DEFERRED_HOST_DEVICE inline double ErfInv(double x);

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

// The correctly rounded square root.
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

DEFERRED_HOST_DEVICE inline float InfF() { return FloatFromBits(0x7f800000u); }
DEFERRED_HOST_DEVICE inline double InfD() { return DoubleFromBits(0x7ff0000000000000ull); }
DEFERRED_HOST_DEVICE inline float NanF() { return FloatFromBits(0x7fc00000u); }
DEFERRED_HOST_DEVICE inline double NanD() { return DoubleFromBits(0x7ff8000000000000ull); }

// log(x) + c for finite x > 0 and |c| <= 2^-23 * log-ulp scale: x = 2^k * m with m in
// [sqrt(2)/2, sqrt(2)), f = m - 1 (exact), s = f / (2 + f), and
// log(1 + f) = f - hfsq + s * (hfsq + R(s^2)) with hfsq = f^2 / 2.
DEFERRED_HOST_DEVICE inline float LogPositive(float x, float c) {
  const bool subnormal = x < 0x1p-126f;
  const float scaled = subnormal ? x * 0x1p25f : x;
  // Adding 1.0 - sqrt(2)/2 in the bits carries into the exponent exactly when m >= sqrt(2).
  const uint32_t shifted = Bits(scaled) + (0x3f800000u - 0x3f3504f3u);
  const float k = static_cast<float>(static_cast<int32_t>(shifted >> 23) -
                                     (subnormal ? 127 + 25 : 127));
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
  const float log1p_f = f - (hfsq - tail);
  return Fma(k, 0x1.62e43p-1f, log1p_f);
}

DEFERRED_HOST_DEVICE inline double LogPositive(double x, double c) {
  const bool subnormal = x < 0x1p-1022;
  const double scaled = subnormal ? x * 0x1p54 : x;
  const uint64_t shifted = Bits(scaled) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
  // (shifted >> 52) is the biased exponent; 0x4330... + n is the double 2^52 + n.
  const double k = DoubleFromBits((shifted >> 52) | 0x4330000000000000ull) -
                   (subnormal ? 0x1p52 + (1023 + 54) : 0x1p52 + 1023);
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
  const double log1p_f = f - (hfsq - tail);
  return Fma(k, 0x1.62e42fefa39efp-1, log1p_f);
}

}  // namespace internal

DEFERRED_HOST_DEVICE inline float Log(float x) {
  const float r = internal::LogPositive(x, 0.0f);
  return x > 0.0f && x < internal::InfF() ? r
         : x == 0.0f                      ? -internal::InfF()
         : x < 0.0f                       ? internal::NanF()
                                          : x;
}

DEFERRED_HOST_DEVICE inline double Log(double x) {
  const double r = internal::LogPositive(x, 0.0);
  return x > 0.0 && x < internal::InfD() ? r
         : x == 0.0                      ? -internal::InfD()
         : x < 0.0                       ? internal::NanD()
                                         : x;
}

DEFERRED_HOST_DEVICE inline float Log1p(float x) {
  // 1 + x = u + e exactly (TwoSum); log(1 + x) = log(u) + e / u to well below an ulp.
  const float u = 1.0f + x;
  const float x_part = u - 1.0f;
  const float e = (1.0f - (u - x_part)) + (x - x_part);
  const float r = internal::LogPositive(u, e / u);
  return x > -1.0f && x < internal::InfF() ? (x == 0.0f ? x : r)
         : x == -1.0f                      ? -internal::InfF()
         : x < -1.0f                       ? internal::NanF()
                                           : x;
}

DEFERRED_HOST_DEVICE inline double Log1p(double x) {
  const double u = 1.0 + x;
  const double x_part = u - 1.0;
  const double e = (1.0 - (u - x_part)) + (x - x_part);
  const double r = internal::LogPositive(u, e / u);
  return x > -1.0 && x < internal::InfD() ? (x == 0.0 ? x : r)
         : x == -1.0                      ? -internal::InfD()
         : x < -1.0                       ? internal::NanD()
                                          : x;
}

DEFERRED_HOST_DEVICE inline float Exp(float x) {
  // Beyond these bounds the result is already +inf or +0; clamping keeps k in range.
  const float xc = x > 89.0f ? 89.0f : x < -104.0f ? -104.0f : x;
  // t = 1.5 * 2^23 + k with k = round(x / ln 2), exact in the low bits of t.
  const float t = internal::Fma(xc, 0x1.715476p+0f, 0x1.8p23f);
  const float k = t - 0x1.8p23f;
  const float r = internal::Fma(k, 0x1.05c61p-29f, internal::Fma(k, -0x1.62e43p-1f, xc));
  float p = 0x1.694c86p-10f;
  p = internal::Fma(p, r, 0x1.12397cp-7f);
  p = internal::Fma(p, r, 0x1.555a26p-5f);
  p = internal::Fma(p, r, 0x1.555492p-3f);
  p = internal::Fma(p, r, 0x1.fffffap-2f);
  p = internal::Fma(p, r, 1.0f);
  p = internal::Fma(p, r, 1.0f);
  // 2^k = 2^k1 * 2^k2 with k1 = floor(k / 2), so that both factors are normal floats.
  const uint32_t k_biased = internal::Bits(t) - internal::Bits(0x1.8p23f) + 256u;
  const uint32_t k1_biased = k_biased >> 1;
  const uint32_t k2_biased = k_biased - k1_biased;
  const float scale1 = internal::FloatFromBits((k1_biased - 1u) << 23);
  const float scale2 = internal::FloatFromBits((k2_biased - 1u) << 23);
  const float result = p * scale1 * scale2;
  return x == x ? result : x;
}

DEFERRED_HOST_DEVICE inline double Exp(double x) {
  const double xc = x > 710.0 ? 710.0 : x < -746.0 ? -746.0 : x;
  const double t = internal::Fma(xc, 0x1.71547652b82fep+0, 0x1.8p52);
  const double k = t - 0x1.8p52;
  const double r = internal::Fma(k, -0x1.abc9e3b39803fp-56,
                                 internal::Fma(k, -0x1.62e42fefa39efp-1, xc));
  double p = 0x1.ad92c5d75f195p-26;
  p = internal::Fma(p, r, 0x1.28adf7b51df2fp-22);
  p = internal::Fma(p, r, 0x1.71df18fd0e407p-19);
  p = internal::Fma(p, r, 0x1.a0199963bbc45p-16);
  p = internal::Fma(p, r, 0x1.a01a012febadcp-13);
  p = internal::Fma(p, r, 0x1.6c16c18475a3fp-10);
  p = internal::Fma(p, r, 0x1.1111111126b38p-7);
  p = internal::Fma(p, r, 0x1.55555555506cp-5);
  p = internal::Fma(p, r, 0x1.55555555554fep-3);
  p = internal::Fma(p, r, 0x1.000000000000ap-1);
  p = internal::Fma(p, r, 1.0);
  p = internal::Fma(p, r, 1.0);
  const uint64_t k_biased = internal::Bits(t) - internal::Bits(0x1.8p52) + 2048u;
  const uint64_t k1_biased = k_biased >> 1;
  const uint64_t k2_biased = k_biased - k1_biased;
  const double scale1 = internal::DoubleFromBits((k1_biased - 1u) << 52);
  const double scale2 = internal::DoubleFromBits((k2_biased - 1u) << 52);
  const double result = p * scale1 * scale2;
  return x == x ? result : x;
}

DEFERRED_HOST_DEVICE inline void SinCos2Pi(float u, float* s, float* c) {
  // v = u - round(u) in [-1/2, 1/2] and r = v - q/4 in [-1/8, 1/8], both exact. Floats of
  // magnitude >= 2^23 are integers, hence v = 0.
  const bool finite = u - u == 0.0f;
  const float a = u < 0x1p23f && u > -0x1p23f ? u : 0.0f;
  const float shift = a < 0.0f ? -0x1p23f : 0x1p23f;
  const float v = a - ((a + shift) - shift);
  const float t = internal::Fma(v, 4.0f, 0x1.8p23f);
  const float q = t - 0x1.8p23f;
  const float r = internal::Fma(q, -0.25f, v);
  const uint32_t quadrant = internal::Bits(t) & 3u;
  const float r2 = r * r;
  float ps = 0x1.46c086p+5f;
  ps = internal::Fma(ps, r2, -0x1.32b5ap+6f);
  ps = internal::Fma(ps, r2, 0x1.466b84p+6f);
  ps = internal::Fma(ps, r2, -0x1.4abbcep+5f);
  const float sin_r = internal::Fma(r, 0x1.921fb6p+2f, r * internal::Fma(ps, r2, -0x1.777a5cp-23f));
  float pc = 0x1.d684aap+5f;
  pc = internal::Fma(pc, r2, -0x1.55b7cep+6f);
  pc = internal::Fma(pc, r2, 0x1.03c1b8p+6f);
  pc = internal::Fma(pc, r2, -0x1.3bd3ccp+4f);
  const float cos_r = internal::Fma(pc, r2, 1.0f);
  const float sin_out = quadrant == 0u   ? sin_r
                        : quadrant == 1u ? cos_r
                        : quadrant == 2u ? -sin_r
                                         : -cos_r;
  const float cos_out = quadrant == 0u   ? cos_r
                        : quadrant == 1u ? -sin_r
                        : quadrant == 2u ? -cos_r
                                         : sin_r;
  const float invalid = u == u ? internal::NanF() : u;
  *s = finite ? sin_out : invalid;
  *c = finite ? cos_out : invalid;
}

DEFERRED_HOST_DEVICE inline void SinCos2Pi(double u, double* s, double* c) {
  const bool finite = u - u == 0.0;
  const double a = u < 0x1p52 && u > -0x1p52 ? u : 0.0;
  const double shift = a < 0.0 ? -0x1p52 : 0x1p52;
  const double v = a - ((a + shift) - shift);
  const double t = internal::Fma(v, 4.0, 0x1.8p52);
  const double q = t - 0x1.8p52;
  const double r = internal::Fma(q, -0.25, v);
  const uint64_t quadrant = internal::Bits(t) & 3u;
  const double r2 = r * r;
  double ps = 0x1.e3fe157a20439p+1;
  ps = internal::Fma(ps, r2, -0x1.e3009539b8239p+3);
  ps = internal::Fma(ps, r2, 0x1.5078300841253p+5);
  ps = internal::Fma(ps, r2, -0x1.32d2cce31fa29p+6);
  ps = internal::Fma(ps, r2, 0x1.466bc67758c6ap+6);
  ps = internal::Fma(ps, r2, -0x1.4abbce625be46p+5);
  const double sin_r =
      internal::Fma(r, 0x1.921fb54442d18p+2, r * internal::Fma(ps, r2, 0x1.1a62633145c07p-52));
  double pc = -0x1.b1673f09c707fp+0;
  pc = internal::Fma(pc, r2, 0x1.f9c89cce8e2d6p+2);
  pc = internal::Fma(pc, r2, -0x1.a6d1e7297d362p+4);
  pc = internal::Fma(pc, r2, 0x1.e1f5067b90e22p+5);
  pc = internal::Fma(pc, r2, -0x1.55d3c7e3c325cp+6);
  pc = internal::Fma(pc, r2, 0x1.03c1f081b5a67p+6);
  pc = internal::Fma(pc, r2, -0x1.3bd3cc9be45dep+4);
  const double cos_r = internal::Fma(pc, r2, 1.0);
  const double sin_out = quadrant == 0u   ? sin_r
                         : quadrant == 1u ? cos_r
                         : quadrant == 2u ? -sin_r
                                          : -cos_r;
  const double cos_out = quadrant == 0u   ? cos_r
                         : quadrant == 1u ? -sin_r
                         : quadrant == 2u ? -cos_r
                                          : sin_r;
  const double invalid = u == u ? internal::NanD() : u;
  *s = finite ? sin_out : invalid;
  *c = finite ? cos_out : invalid;
}

// Provisional: Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).
DEFERRED_HOST_DEVICE inline double Erf(double x) {
  const double a = x < 0.0 ? -x : x;
  const double t = 1.0 / (1.0 + 0.3275911 * a);
  double p = 1.061405429;
  p = internal::Fma(p, t, -1.453152027);
  p = internal::Fma(p, t, 1.421413741);
  p = internal::Fma(p, t, -0.284496736);
  p = internal::Fma(p, t, 0.254829592);
  const double y = 1.0 - p * t * Exp(-a * a);
  const double r = x < 0.0 ? -y : y;
  return x == 0.0 ? x : r;
}

DEFERRED_HOST_DEVICE inline float Erf(float x) {
  return static_cast<float>(Erf(static_cast<double>(x)));
}

// Provisional: Giles' single-precision approximation.
DEFERRED_HOST_DEVICE inline float ErfInv(float x) {
  const float w0 = -Log(internal::Fma(-x, x, 1.0f));
  const bool central = w0 < 5.0f;
  const float w = central ? w0 - 2.5f : internal::Sqrt(w0) - 3.0f;
  float p = central ? 2.81022636e-08f : -0.000200214257f;
  p = internal::Fma(p, w, central ? 3.43273939e-07f : 0.000100950558f);
  p = internal::Fma(p, w, central ? -3.5233877e-06f : 0.00134934322f);
  p = internal::Fma(p, w, central ? -4.39150654e-06f : -0.00367342844f);
  p = internal::Fma(p, w, central ? 0.00021858087f : 0.00573950773f);
  p = internal::Fma(p, w, central ? -0.00125372503f : -0.0076224613f);
  p = internal::Fma(p, w, central ? -0.00417768164f : 0.00943887047f);
  p = internal::Fma(p, w, central ? 0.246640727f : 1.00167406f);
  p = internal::Fma(p, w, central ? 1.50140941f : 2.83297682f);
  const float r = p * x;
  return x > -1.0f && x < 1.0f ? r
         : x == 1.0f           ? internal::InfF()
         : x == -1.0f          ? -internal::InfF()
         : x == x              ? internal::NanF()
                               : x;
}

DEFERRED_HOST_DEVICE inline double ErfInv(double x) {
  const double r = static_cast<double>(ErfInv(static_cast<float>(x)));
  return x > -1.0 && x < 1.0 ? r
         : x == 1.0          ? internal::InfD()
         : x == -1.0         ? -internal::InfD()
         : x == x            ? internal::NanD()
                             : x;
}

}  // namespace deferred::detmath

#endif  // DEFERRED_REPLAY_RNG_DETERMINISTIC_MATH_H_
