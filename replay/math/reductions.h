#ifndef DEFERRED_REPLAY_MATH_REDUCTIONS_H_
#define DEFERRED_REPLAY_MATH_REDUCTIONS_H_

// The arithmetic of the reductions (sum, mean, var, std, min, max, cumsum), argsort's order
// and matmul's accumulation, one definition compiled into the CPU kernels
// (replay/kernels/) and the CUDA device code (cuda_kernels/). The order in which elements
// are fed to these steps is each op's contract (fake_tensor/ops/reductions.h): both kinds
// of kernel follow it, so both give the same bits.

#include <cstdint>
#include <type_traits>

#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/rng/deterministic_math.h"

namespace deferred::math {

// A sum over T runs in double for floating T; for integral T in int64 arithmetic that
// wraps (computed in uint64, where wrapping is defined). Its result is T for floating T,
// else int64.
template <typename T>
using SumAccumulator = std::conditional_t<!std::is_integral_v<T>, double, uint64_t>;
template <typename T>
using SumResult = std::conditional_t<!std::is_integral_v<T>, T, int64_t>;

template <typename T>
DEFERRED_HOST_DEVICE inline SumAccumulator<T> AddToSum(SumAccumulator<T> acc, T x) {
  if constexpr (!std::is_integral_v<T>) {
    return acc + static_cast<double>(MathOf<T>(x));
  } else {
    return acc + static_cast<uint64_t>(static_cast<int64_t>(x));
  }
}

template <typename T>
DEFERRED_HOST_DEVICE inline SumResult<T> SumResultOf(SumAccumulator<T> acc) {
  if constexpr (!std::is_integral_v<T>) {
    return CastElement<T>(acc);
  } else {
    return static_cast<int64_t>(acc);
  }
}

// mean = sum / count, both in double.
DEFERRED_HOST_DEVICE inline double MeanOf(double sum, int64_t count) {
  return sum / static_cast<double>(count);
}

// The variance's second pass: acc + (x - mean)^2, in double.
template <typename T>
DEFERRED_HOST_DEVICE inline double AddSquaredDeviation(double acc, T x, double mean) {
  const double deviation = static_cast<double>(MathOf<T>(x)) - mean;
  return acc + deviation * deviation;
}

// The variance from the sum of squared deviations of `count` elements, with Bessel's
// `correction` (divisor max(0, count - correction)), or its square root (std).
DEFERRED_HOST_DEVICE inline double VarianceOf(double squared_deviations, int64_t count,
                                              double correction, bool square_root) {
  const double n = static_cast<double>(count) - correction;
  const double variance = squared_deviations / (n > 0.0 ? n : 0.0);
  return square_root ? detmath::Sqrt(variance) : variance;
}

// Whether x replaces `best` as the running min (kMax false) or max of a reduction, compared
// in the op-math type: the first NaN met is kept (and so propagates), and among equal
// values the first.
template <bool kMax, typename T>
DEFERRED_HOST_DEVICE inline bool ReplacesExtremum(T best, T x) {
  const MathOf<T> b = MathOf<T>(best);
  const MathOf<T> v = MathOf<T>(x);
  if constexpr (!std::is_integral_v<T>) {
    if (b != b) return false;
    if (v != v) return true;
  }
  return kMax ? b < v : v < b;
}

// argsort's strict weak order on op-math values: ascending puts NaN last, descending
// first. A stable sort by it has one result, however it is computed.
template <typename M>
DEFERRED_HOST_DEVICE inline bool SortsBefore(M x, M y, bool descending) {
  if constexpr (!std::is_integral_v<M>) {
    const bool x_nan = x != x;
    const bool y_nan = y != y;
    if (x_nan || y_nan) return descending ? !y_nan : !x_nan;
  }
  return descending ? y < x : x < y;
}

// matmul accumulates each output element's products in increasing k in the op-math type;
// integral types in their unsigned form, where overflow wraps as defined.
template <typename T>
struct MatmulAccumulator {
  using type = MathOf<T>;
};
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) struct MatmulAccumulator<T> {
  using type = std::make_unsigned_t<T>;
};

// acc + a * b, each operand an op-math value.
template <typename Acc, typename M>
DEFERRED_HOST_DEVICE inline Acc MultiplyAdd(Acc acc, M a, M b) {
  return static_cast<Acc>(acc + static_cast<Acc>(a) * static_cast<Acc>(b));
}

}  // namespace deferred::math

#endif  // DEFERRED_REPLAY_MATH_REDUCTIONS_H_
