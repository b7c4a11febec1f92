#ifndef DEFERRED_REPLAY_RNG_SAMPLERS_H_
#define DEFERRED_REPLAY_RNG_SAMPLERS_H_

// The samplers of random ops: how the Philox words of an op's stream become element values.
// docs/RNG.md is the specification; this file is its one implementation, shared by the
// portable and vectorized CPU fills and (later) CUDA device code.
//
// An op's stream starts at Philox counter block `offset` under `seed` (replay/rng/philox.h).
// A sampler consumes kWordsPerElement (W) words per element, in groups of
// kElementsPerGroup (G) elements: group g reads words [g*G*W, (g+1)*G*W) of the stream, so
// element i is a function of (seed, offset, i) alone (SampleAt). G*W divides 4, so a group
// never straddles two blocks.
//
// Each sampler is a small struct of precomputed parameters, made on the host by its Make
// function from an op's attributes; Group() is the per-group math, plain inline code over
// the parameters that compilers vectorize and nvcc compiles for the device.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "fake_tensor/half.h"
#include "replay/rng/deterministic_math.h"
#include "fake_tensor/host_device.h"
#include "replay/rng/philox.h"

#ifndef __CUDA_ARCH__
#include <bit>
#endif

namespace deferred::rng {

// The floating-point formats a sampler can produce. The 16-bit ones are computed in
// float32 and rounded (to nearest, ties to even) to the format at the end.
enum class Precision { kFloat32, kFloat64, kFloat16, kBFloat16 };

// The type a sampler of precision P computes in (and returns): double for kFloat64,
// float otherwise.
template <Precision P>
using ValueOf = std::conditional_t<P == Precision::kFloat64, double, float>;

// Words per element of the uniform-based samplers: 2 for float64 (53 random bits), else 1.
template <Precision P>
inline constexpr int kWordsPerValue = P == Precision::kFloat64 ? 2 : 1;

namespace internal {

using detmath::internal::Bits;
using detmath::internal::FloatFromBits;


// ((first << 21 | second >> 11) + extra) * 2^-53 for extra in {0, 1}, exactly: the sum of
// two exact products whose sum is representable, from int32 conversions only (which
// vectorize where 64-bit ones do not).
DEFERRED_HOST_DEVICE inline double Unit53(uint32_t first, uint32_t second, int32_t extra) {
  const int32_t high = static_cast<int32_t>(first >> 1);
  const int32_t low = static_cast<int32_t>(((first & 1u) << 21) | (second >> 11)) + extra;
  return static_cast<double>(high) * 0x1p-31 + static_cast<double>(low) * 0x1p-53;
}

}  // namespace internal

// A uniform value in [0, 1) from the stream words at `words`: for float, the high 24 bits
// of words[0] times 2^-24; for double, the 53 bits (words[0] << 21) | (words[1] >> 11)
// times 2^-53. Exact: every such value is representable.
template <Precision P>
DEFERRED_HOST_DEVICE inline ValueOf<P> UnitInterval(const uint32_t* words) {
  if constexpr (P == Precision::kFloat64) {
    return internal::Unit53(words[0], words[1], 0);
  } else {
    return static_cast<float>(static_cast<int32_t>(words[0] >> 8)) * 0x1p-24f;
  }
}

// As UnitInterval plus one unit of the last place: a value in (0, 1], which a logarithm
// can take.
template <Precision P>
DEFERRED_HOST_DEVICE inline ValueOf<P> UnitIntervalOpenAtZero(const uint32_t* words) {
  if constexpr (P == Precision::kFloat64) {
    return internal::Unit53(words[0], words[1], 1);
  } else {
    return static_cast<float>(static_cast<int32_t>((words[0] >> 8) + 1)) * 0x1p-24f;
  }
}

// `v` rounded to precision P, to nearest with ties to even (overflow gives infinity), as
// the value of type ValueOf<P>; the same rounding as fake_tensor/half.h's conversions.
template <Precision P>
DEFERRED_HOST_DEVICE inline ValueOf<P> RoundToPrecision(ValueOf<P> v) {
  if constexpr (P == Precision::kFloat16) {
    const uint32_t bits = internal::Bits(v);
    const uint32_t sign = bits & 0x80000000u;
    const uint32_t magnitude = bits & 0x7fffffffu;
    // Below 2^-14 the float16 spacing is 2^-24, the float32 spacing of [2^-1, 1): adding
    // and removing 1/2 rounds to it. Above, drop 13 mantissa bits, rounding to even.
    const float small = (internal::FloatFromBits(magnitude) + 0.5f) - 0.5f;
    const uint32_t normal = (magnitude + 0xfffu + ((magnitude >> 13) & 1u)) & 0xffffe000u;
    const uint32_t rounded = magnitude < 0x38800000u   ? internal::Bits(small)
                             : magnitude >= 0x7f800000u ? magnitude
                             : magnitude >= 0x477ff000u ? 0x7f800000u
                                                        : normal;
    return internal::FloatFromBits(sign | rounded);
  } else if constexpr (P == Precision::kBFloat16) {
    const uint32_t bits = internal::Bits(v);
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
    return (bits & 0x7fffffffu) > 0x7f800000u ? v : internal::FloatFromBits(rounded);
  } else {
    return v;
  }
}

// uniform_(from, to): lo + u * (hi - lo) for u = UnitInterval, in ValueOf<P>, rounded to
// P; a result that rounded up to hi is replaced by below_hi, so values lie in [lo, hi).
template <Precision P>
struct UniformSampler {
  using Value = ValueOf<P>;
  static constexpr int kWordsPerElement = kWordsPerValue<P>;
  static constexpr int kElementsPerGroup = 1;

  Value lo, range, hi;
  Value below_hi;  // the largest value of precision P below hi (lo's rounding if none is >= it)

  DEFERRED_HOST_DEVICE void Group(const uint32_t* words, Value* out) const {
    const Value v = RoundToPrecision<P>(lo + UnitInterval<P>(words) * range);
    out[0] = v < hi ? v : below_hi;
  }
};

// normal_(mean, std) by Box–Muller: the group of elements 2k and 2k+1 reads
// u1 = UnitIntervalOpenAtZero (the first W words) and u2 = UnitInterval (the next W);
// with r = sqrt(-2 log u1), element 2k is r cos(2 pi u2) * std + mean and element 2k+1 is
// r sin(2 pi u2) * std + mean.
template <Precision P>
struct NormalSampler {
  using Value = ValueOf<P>;
  static constexpr int kWordsPerElement = kWordsPerValue<P>;
  static constexpr int kElementsPerGroup = 2;

  Value mean, std;

  DEFERRED_HOST_DEVICE void Group(const uint32_t* words, Value* out) const {
    const Value u1 = UnitIntervalOpenAtZero<P>(words);
    const Value u2 = UnitInterval<P>(words + kWordsPerElement);
    // Log and SinCos2Pi without the checks for arguments that u1 in (0, 1] and u2 in
    // [0, 1) cannot be: the same bits, with less work.
    const Value r = detmath::Sqrt(Value(-2) * detmath::internal::LogPositive(u1, Value(0)));
    Value s, c;
    detmath::internal::SinCos2PiOfUnit(u2, &s, &c);
    out[0] = (r * c) * std + mean;
    out[1] = (r * s) * std + mean;
  }
};

// trunc_normal_(mean, std, a, b) by PyTorch's method: x = lo + u * (hi - lo) for
// u = UnitInterval, limited to hi, where lo = 2 cdf((a - mean) / std) - 1 and
// hi = 2 cdf((b - mean) / std) - 1; then erfinv(x) * (std * sqrt(2)) + mean, clamped to
// [a, b].
template <Precision P>
struct TruncNormalSampler {
  using Value = ValueOf<P>;
  static constexpr int kWordsPerElement = kWordsPerValue<P>;
  static constexpr int kElementsPerGroup = 1;

  Value lo, range, hi, scale, mean, a, b;

  DEFERRED_HOST_DEVICE void Group(const uint32_t* words, Value* out) const {
    out[0] = FromErfInv(detmath::ErfInv(X(words)));
  }

  // Whether the element's ErfInv argument is within detmath::kErfInvCentralLimit, where
  // GroupCentral gives Group's value with less work. Float precisions only.
  DEFERRED_HOST_DEVICE bool IsCentral(const uint32_t* words) const
    requires(P != Precision::kFloat64)
  {
    return detmath::internal::Abs(X(words)) <= detmath::kErfInvCentralLimit;
  }
  DEFERRED_HOST_DEVICE void GroupCentral(const uint32_t* words, Value* out) const
    requires(P != Precision::kFloat64)
  {
    out[0] = FromErfInv(detmath::ErfInvCentral(X(words)));
  }

  // The share of elements IsCentral holds for (x is uniform over [lo, hi]): exactly 1 when
  // it holds for all. Host only.
  double CentralShare() const
    requires(P != Precision::kFloat64)
  {
    const double limit = detmath::kErfInvCentralLimit;
    if (!(hi > lo)) return std::fabs(lo) <= limit ? 1.0 : 0.0;
    if (lo >= -limit && hi <= limit) return 1.0;
    const double inside = std::min<double>(hi, limit) - std::max<double>(lo, -limit);
    return inside > 0 ? inside / (hi - lo) : 0.0;
  }

 private:
  DEFERRED_HOST_DEVICE Value X(const uint32_t* words) const {
    const Value x0 = lo + UnitInterval<P>(words) * range;
    return x0 < hi ? x0 : hi;
  }
  DEFERRED_HOST_DEVICE Value FromErfInv(Value e) const {
    const Value v = e * scale + mean;
    const Value above_a = v < a ? a : v;
    return above_a > b ? b : above_a;
  }
};

// random_(from, to_inclusive): from + (x mod (to_inclusive - from + 1)), where x is the
// element's word (W = 1) or the 64 bits (words[0] << 32) | words[1] (W = 2); a range of
// 2^64 takes x as is. Values are int64 (of the element's dtype by range checks).
template <int W>
struct RandomSampler {
  static_assert(W == 1 || W == 2);
  using Value = int64_t;
  static constexpr int kWordsPerElement = W;
  static constexpr int kElementsPerGroup = 1;

  int64_t from;
  uint64_t range_minus_1;  // to_inclusive - from, modulo 2^64

  DEFERRED_HOST_DEVICE void Group(const uint32_t* words, Value* out) const {
    uint64_t x = words[0];
    if constexpr (W == 2) x = (x << 32) | words[1];
    const uint64_t within = range_minus_1 == ~uint64_t{0} ? x : x % (range_minus_1 + 1);
    out[0] = static_cast<int64_t>(static_cast<uint64_t>(from) + within);
  }
};

// The words per element random_ uses for [from, to_inclusive]: 1 for a range below 2^32,
// else 2 (as PyTorch switches to 64-bit draws).
DEFERRED_HOST_DEVICE inline constexpr int RandomWordsPerElement(int64_t from,
                                                                int64_t to_inclusive) {
  return static_cast<uint64_t>(to_inclusive) - static_cast<uint64_t>(from) >= 0xffffffffull ? 2
                                                                                           : 1;
}

// bernoulli_(p): 1 where the word's high 24 bits, k, satisfy k < ceil(p * 2^24) (that is,
// k * 2^-24 < p), else 0.
struct BernoulliSampler {
  using Value = float;
  static constexpr int kWordsPerElement = 1;
  static constexpr int kElementsPerGroup = 1;

  uint32_t threshold;  // ceil(p * 2^24)

  DEFERRED_HOST_DEVICE void Group(const uint32_t* words, Value* out) const {
    out[0] = (words[0] >> 8) < threshold ? 1.0f : 0.0f;
  }
};

// Element `i` of the op whose stream starts at block `offset` under `seed`: the one
// definition that every fill, on every device, must reproduce.
template <typename Sampler>
DEFERRED_HOST_DEVICE inline typename Sampler::Value SampleAt(const Sampler& sampler,
                                                             uint64_t seed, uint64_t offset,
                                                             uint64_t i) {
  constexpr uint64_t kGroupWords = Sampler::kElementsPerGroup * Sampler::kWordsPerElement;
  const uint64_t first_word = i / Sampler::kElementsPerGroup * kGroupWords;
  const PhiloxWords block = PhiloxBlock(seed, offset + first_word / 4);
  typename Sampler::Value group[Sampler::kElementsPerGroup];
  sampler.Group(block.w + first_word % 4, group);
  return group[i % Sampler::kElementsPerGroup];
}

// ---- Making samplers from an op's attributes (host only) ----

namespace internal {

// The next value of precision P below `x` (a value of precision P, not NaN or -inf).
template <Precision P>
ValueOf<P> NextBelow(ValueOf<P> x) {
  if constexpr (P == Precision::kFloat16 || P == Precision::kBFloat16) {
    using Format = std::conditional_t<P == Precision::kFloat16, Half, BFloat16>;
    const uint16_t bits = Format(x).bits;
    const uint16_t below = (bits & 0x7fffu) == 0 ? 0x8001u
                           : (bits & 0x8000u)    ? static_cast<uint16_t>(bits + 1)
                                                 : static_cast<uint16_t>(bits - 1);
    return static_cast<float>(Format::FromBits(below));
  } else {
    return std::nextafter(x, -std::numeric_limits<ValueOf<P>>::infinity());
  }
}

// Φ(x) = (1 + erf(x / sqrt(2))) / 2, PyTorch's norm_cdf, with the deterministic erf.
inline double NormCdf(double x) { return (1.0 + detmath::Erf(x / std::sqrt(2.0))) / 2.0; }

}  // namespace internal

// uniform_(from, to) with from <= to, both finite in precision P and to - from finite.
template <Precision P>
UniformSampler<P> MakeUniformSampler(double from, double to) {
  using Value = ValueOf<P>;
  UniformSampler<P> s;
  s.lo = static_cast<Value>(from);
  s.hi = static_cast<Value>(to);
  s.range = s.hi - s.lo;
  Value below = RoundToPrecision<P>(s.hi);
  while (below >= s.hi) below = internal::NextBelow<P>(below);
  const Value lo_rounded = RoundToPrecision<P>(s.lo);
  s.below_hi = below < lo_rounded ? lo_rounded : below;
  return s;
}

// normal_(mean, std) with std >= 0.
template <Precision P>
NormalSampler<P> MakeNormalSampler(double mean, double std) {
  using Value = ValueOf<P>;
  return NormalSampler<P>{static_cast<Value>(mean), static_cast<Value>(std)};
}

// trunc_normal_(mean, std, a, b) with std > 0 and a < b. The cdf bounds and the scale are
// computed in double, then converted to ValueOf<P>.
template <Precision P>
TruncNormalSampler<P> MakeTruncNormalSampler(double mean, double std, double a, double b) {
  using Value = ValueOf<P>;
  TruncNormalSampler<P> s;
  s.lo = static_cast<Value>(2.0 * internal::NormCdf((a - mean) / std) - 1.0);
  s.hi = static_cast<Value>(2.0 * internal::NormCdf((b - mean) / std) - 1.0);
  s.range = s.hi - s.lo;
  s.scale = static_cast<Value>(std * std::sqrt(2.0));
  s.mean = static_cast<Value>(mean);
  s.a = static_cast<Value>(a);
  s.b = static_cast<Value>(b);
  return s;
}

// random_ over [from, to_inclusive] (from <= to_inclusive), with
// W = RandomWordsPerElement(from, to_inclusive).
template <int W>
RandomSampler<W> MakeRandomSampler(int64_t from, int64_t to_inclusive) {
  return RandomSampler<W>{from, static_cast<uint64_t>(to_inclusive) - static_cast<uint64_t>(from)};
}

// bernoulli_(p) with 0 <= p <= 1.
inline BernoulliSampler MakeBernoulliSampler(double p) {
  return BernoulliSampler{static_cast<uint32_t>(std::ceil(p * 0x1p24))};
}

}  // namespace deferred::rng

#endif  // DEFERRED_REPLAY_RNG_SAMPLERS_H_
