#ifndef DEFERRED_FAKE_TENSOR_HALF_H_
#define DEFERRED_FAKE_TENSOR_HALF_H_

#include <bit>
#include <cstdint>

#include "fake_tensor/host_device.h"

namespace deferred {

// IEEE 754 binary16. Converted from float by rounding to nearest, ties to even; arithmetic
// is done in float by the kernels (as PyTorch does) and rounded back. The conversions are
// compiled for CUDA devices too (std::bit_cast is constexpr, which nvcc's
// --expt-relaxed-constexpr lets device code call), so both sides round the same way.
struct Half {
  uint16_t bits = 0;

  Half() = default;
  DEFERRED_HOST_DEVICE explicit Half(float value) : bits(FromFloat(value)) {}
  DEFERRED_HOST_DEVICE operator float() const { return ToFloat(bits); }

  DEFERRED_HOST_DEVICE static Half FromBits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }

  DEFERRED_HOST_DEVICE static uint16_t FromFloat(float value) {
    const uint32_t f = std::bit_cast<uint32_t>(value);
    const uint32_t sign = (f >> 16) & 0x8000u;
    const uint32_t abs = f & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or NaN; NaN keeps a quiet payload bit.
      return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    }
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (abs < 0x38800000u) {  // result is subnormal or zero
      // In integers, so that neither the rounding mode nor flush-to-zero can change it:
      // abs is m * 2^(e - 150), which is m * 2^(e - 126) units of half's 2^-24, so shift
      // m right by 126 - e and round the dropped bits to nearest even.
      const uint32_t e = abs >> 23;
      if (e < 102) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to zero
      const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
      const uint32_t shift = 126 - e;  // 14..24
      const uint32_t dropped = m & ((1u << shift) - 1);
      const uint32_t halfway = 1u << (shift - 1);
      uint32_t units = m >> shift;
      if (dropped > halfway || (dropped == halfway && (units & 1u))) ++units;
      return static_cast<uint16_t>(sign | units);
    }
    const uint32_t mantissa_odd = (abs >> 13) & 1u;
    const uint32_t rounded = abs + 0xfffu + mantissa_odd;  // round to nearest even
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }

  DEFERRED_HOST_DEVICE static float ToFloat(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
      const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
      return sign ? -magnitude : magnitude;
    }
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  }
};

// bfloat16: the high 16 bits of a float32, rounded to nearest, ties to even.
struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  DEFERRED_HOST_DEVICE explicit BFloat16(float value) : bits(FromFloat(value)) {}
  DEFERRED_HOST_DEVICE operator float() const {
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
  }

  DEFERRED_HOST_DEVICE static BFloat16 FromBits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }

  DEFERRED_HOST_DEVICE static uint16_t FromFloat(float value) {
    const uint32_t f = std::bit_cast<uint32_t>(value);
    if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((f >> 16) | 0x40u);  // NaN
    const uint32_t lsb = (f >> 16) & 1u;
    return static_cast<uint16_t>((f + 0x7fffu + lsb) >> 16);
  }
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_HALF_H_
