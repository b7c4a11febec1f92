#ifndef DEFERRED_REPLAY_MATH_ELEMENTWISE_OPS_H_
#define DEFERRED_REPLAY_MATH_ELEMENTWISE_OPS_H_

// The arithmetic of the elementwise ops, one definition compiled into the CPU kernels
// (replay/kernels/elementwise_kernels.cc) and the CUDA device code (cuda_kernels/), so
// that both compute the same bits. Each op is a functor over op-math values (M: float for
// the 16-bit floats, else the element type). Only operations IEEE 754 rounds correctly
// (+ - * /, sqrt) and the deterministic math (replay/rng/deterministic_math.h) appear here.

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/rng/deterministic_math.h"

namespace deferred::math {

template <typename T>
inline constexpr bool kIsFloat = !std::is_integral_v<T>;

// ---- Binary ops ----

struct Add {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    return a + b;
  }
};
struct Sub {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    return a - b;
  }
};
struct Mul {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    return a * b;
  }
};
struct Div {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    return a / b;
  }
};
struct Eq {
  template <typename M>
  DEFERRED_HOST_DEVICE bool operator()(M a, M b) const {
    return a == b;
  }
};
struct Ne {
  template <typename M>
  DEFERRED_HOST_DEVICE bool operator()(M a, M b) const {
    return a != b;
  }
};
struct Lt {
  template <typename M>
  DEFERRED_HOST_DEVICE bool operator()(M a, M b) const {
    return a < b;
  }
};
struct Le {
  template <typename M>
  DEFERRED_HOST_DEVICE bool operator()(M a, M b) const {
    return a <= b;
  }
};
struct Gt {
  template <typename M>
  DEFERRED_HOST_DEVICE bool operator()(M a, M b) const {
    return a > b;
  }
};
struct Ge {
  template <typename M>
  DEFERRED_HOST_DEVICE bool operator()(M a, M b) const {
    return a >= b;
  }
};
// torch.maximum / minimum: a NaN operand wins (a's when both are).
struct Maximum {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    if constexpr (kIsFloat<M>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return a < b ? b : a;
  }
};
struct Minimum {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    if constexpr (kIsFloat<M>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return b < a ? b : a;
  }
};

// pow on integers (exact: by squaring, wrapping like the other integer arithmetic;
// negative exponents give 0 unless |a| is 1, as in PyTorch) and on floats (detmath::Pow).
struct Pow {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a, M b) const {
    if constexpr (!std::is_integral_v<M>) {
      return detmath::Pow(a, b);
    } else {
      if constexpr (std::is_signed_v<M>) {
        if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 == 0 ? 1 : -1) : 0);
      }
      using U = std::make_unsigned_t<M>;
      U result = 1;
      for (U base = static_cast<U>(a); b > 0; b >>= 1, base *= base) {
        if (b & 1) result *= base;
      }
      return static_cast<M>(result);
    }
  }
};

// Whether Fn is a comparison (its result is bool whatever M is).
template <typename Fn>
inline constexpr bool kIsComparison = std::is_same_v<decltype(Fn()(0, 0)), bool>;

// fn(a, b) in op-math type M. Integer arithmetic wraps (as in PyTorch) instead of
// overflowing: done in unsigned.
template <typename M, typename Fn>
DEFERRED_HOST_DEVICE M WrappingArithmetic(Fn fn, M a, M b) {
  if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool> &&
                (std::is_same_v<Fn, Add> || std::is_same_v<Fn, Sub> || std::is_same_v<Fn, Mul>)) {
    using U = std::make_unsigned_t<M>;
    return static_cast<M>(fn(static_cast<U>(a), static_cast<U>(b)));
  } else if constexpr (std::is_same_v<M, bool>) {
    return static_cast<bool>(fn(static_cast<int>(a), static_cast<int>(b)));
  } else {
    return fn(a, b);
  }
}

// One element of a binary arithmetic op on elements of type T: computed in T's op-math
// type and rounded to T. `b` is already op-math (a scalar operand is taken so).
template <typename T, typename Fn>
DEFERRED_HOST_DEVICE T ApplyBinary(Fn fn, T a, typename OpMathOf<T>::type b) {
  using M = typename OpMathOf<T>::type;
  return CastElement<T>(WrappingArithmetic<M>(fn, M(a), b));
}

// One element of a comparison on elements of type T.
template <typename T, typename Fn>
DEFERRED_HOST_DEVICE bool ApplyComparison(Fn fn, T a, typename OpMathOf<T>::type b) {
  using M = typename OpMathOf<T>::type;
  return static_cast<bool>(fn(M(a), b));
}

// The dtype a binary op `op` ("add", "div", ...) computes in, given its inputs' promoted
// dtype: that dtype, except that div of integers computes in the default float dtype.
inline DType BinaryComputeDType(std::string_view op, DType promoted) {
  if (op == "div" && !IsFloatingPoint(promoted)) return kDefaultFloatDType;
  return promoted;
}

// ---- Unary ops ----

struct Neg {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a) const {
    if constexpr (std::is_same_v<M, bool>) {
      return a;
    } else if constexpr (std::is_integral_v<M>) {
      return static_cast<M>(-static_cast<std::make_unsigned_t<M>>(a));
    } else {
      return -a;
    }
  }
};
struct Abs {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a) const {
    if constexpr (std::is_unsigned_v<M>) {
      return a;
    } else if constexpr (kIsFloat<M>) {
      return detmath::internal::Abs(a);  // clears the sign of -0.0 and of NaN too
    } else {
      return a < 0 ? Neg()(a) : a;
    }
  }
};
struct Sign {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M a) const {
    if constexpr (std::is_same_v<M, bool>) {
      return a;
    } else if constexpr (kIsFloat<M>) {
      return a > 0 ? M(1) : (a < 0 ? M(-1) : a);  // zeros keep their sign, NaN stays NaN
    } else if constexpr (std::is_unsigned_v<M>) {
      return static_cast<M>(a != 0);
    } else {
      return static_cast<M>((M(0) < a) - (a < M(0)));
    }
  }
};

// Ops on floating op-math types: their result dtype is floating, so the kernels never run
// them on integers (for integer M they are the identity, which lets every dtype compile).
// Math is the op on a floating value; the rounding ops pass integers through, and Round
// rounds halves to even.
template <typename Math>
struct FloatingUnary {
  template <typename M>
  DEFERRED_HOST_DEVICE M operator()(M x) const {
    if constexpr (kIsFloat<M>) {
      return Math::Of(x);
    } else {
      return x;
    }
  }
};

struct ExpMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Exp(x);
  }
};
struct LogMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Log(x);
  }
};
struct Log1pMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Log1p(x);
  }
};
struct ErfMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Erf(x);
  }
};
struct SqrtMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Sqrt(x);
  }
};
struct RsqrtMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return M(1) / detmath::Sqrt(x);
  }
};
struct ReciprocalMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return M(1) / x;
  }
};
struct SigmoidMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return M(1) / (M(1) + detmath::Exp(-x));
  }
};
struct FloorMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Floor(x);
  }
};
struct CeilMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Ceil(x);
  }
};
struct RoundMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Rint(x);
  }
};

using Exp = FloatingUnary<ExpMath>;
using Log = FloatingUnary<LogMath>;
using Log1p = FloatingUnary<Log1pMath>;
using Erf = FloatingUnary<ErfMath>;
using Sqrt = FloatingUnary<SqrtMath>;
using Rsqrt = FloatingUnary<RsqrtMath>;
using Reciprocal = FloatingUnary<ReciprocalMath>;
using Sigmoid = FloatingUnary<SigmoidMath>;
using Floor = FloatingUnary<FloorMath>;
using Ceil = FloatingUnary<CeilMath>;
using Round = FloatingUnary<RoundMath>;

struct SinMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Sin(x);
  }
};
struct CosMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Cos(x);
  }
};
struct TanhMath {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Tanh(x);
  }
};
struct Log2Math {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Log2(x);
  }
};
struct Exp2Math {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Exp2(x);
  }
};
struct Expm1Math {
  template <typename M>
  static DEFERRED_HOST_DEVICE M Of(M x) {
    return detmath::Expm1(x);
  }
};

using Sin = FloatingUnary<SinMath>;
using Cos = FloatingUnary<CosMath>;
using Tanh = FloatingUnary<TanhMath>;
using Log2 = FloatingUnary<Log2Math>;
using Exp2 = FloatingUnary<Exp2Math>;
using Expm1 = FloatingUnary<Expm1Math>;

// One element of a unary op on elements of type T, computed in T's op-math type.
template <typename T, typename Fn>
DEFERRED_HOST_DEVICE T ApplyUnary(Fn fn, T a) {
  using M = typename OpMathOf<T>::type;
  return CastElement<T>(fn(M(a)));
}

// clamp(x, lo, hi) = min(max(x, lo), hi): NaN propagates, and where lo > hi every element
// becomes hi, as in PyTorch.
template <typename T>
DEFERRED_HOST_DEVICE T Clamp(T x, typename OpMathOf<T>::type lo, typename OpMathOf<T>::type hi) {
  using M = typename OpMathOf<T>::type;
  const M v = M(x);
  if constexpr (kIsFloat<M>) {
    if (v != v) return x;
  }
  const M raised = v < lo ? lo : v;
  return CastElement<T>(raised > hi ? hi : raised);
}

}  // namespace deferred::math

#endif  // DEFERRED_REPLAY_MATH_ELEMENTWISE_OPS_H_
