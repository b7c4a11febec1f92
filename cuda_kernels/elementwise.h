#ifndef DEFERRED_CUDA_KERNELS_ELEMENTWISE_H_
#define DEFERRED_CUDA_KERNELS_ELEMENTWISE_H_

// The CUDA kernels of the elementwise ops over flat operands: every operand already holds
// exactly the output's elements, contiguously, in the compute dtype (the host side,
// kernels.cc, makes them so with strided copies where they do not). The arithmetic is
// replay/math/elementwise_ops.h's, the CPU kernels' own. A work item is four contiguous
// elements, loaded and stored as 16-byte words on the device (vector_access.h). Compiled for
// both the device (gpu_launch.cu) and the host (the emulator tests).

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_kernels/vector_access.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/math/elementwise_ops.h"

namespace deferred::cuda {

// The elementwise ops with a CUDA kernel, by the functor that computes them.
// clang-format off
enum class ElementwiseOp : uint8_t {
  // binary: out = fn(a, b) or fn(a, scalar)
  kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kPow,
  // comparisons: bool out
  kEq, kNe, kLt, kLe, kGt, kGe,
  // unary: out = fn(a)
  kNeg, kAbs, kSign, kExp, kLog, kLog1p, kErf, kSqrt, kRsqrt, kReciprocal, kSigmoid,
  kFloor, kCeil, kRound,
  kSin, kCos, kTanh, kLog2, kExp2, kExpm1,
  // out = clamp(a, lo, hi); out = c ? a : b
  kClamp, kWhere,
};
// clang-format on

// What a launch of one elementwise op takes: the op, the compute dtype T (of a and b, and
// of out unless the op is a comparison, whose out is bool), n elements per operand, and
// the scalar operands as the bits of T's op-math type M.
struct ElementwiseArgs {
  ElementwiseOp op = ElementwiseOp::kAdd;
  DType dtype = DType::kFloat32;
  int64_t n = 0;
  const void* a = nullptr;
  const void* b = nullptr;          // binary with a tensor; where's "if true"
  const bool* condition = nullptr;  // where
  bool b_is_scalar = false;         // binary with a scalar: `scalar` instead of b
  uint64_t scalar = 0;              // the scalar operand; clamp's lo
  uint64_t scalar_hi = 0;           // clamp's hi
  void* out = nullptr;
};

// ---- Work items: four contiguous elements each ----

template <typename T>
DEFERRED_HOST_DEVICE inline MathOf<T> ScalarFromBits(uint64_t bits) {
  MathOf<T> value;
  std::memcpy(static_cast<void*>(&value), &bits, sizeof(value));
  return value;
}

// Work items of a map over n elements: four elements each, the last perhaps fewer.
DEFERRED_HOST_DEVICE inline int64_t ItemsOfFour(int64_t n) { return (n + 3) / 4; }

// out[i] = element(i) for the elements of the items first_item, first_item + item_stride,
// ...: a whole item computes its four values with four(begin, values) (which loads its
// inputs with LoadFour) and stores them with StoreFour; the last, partial item one by one.
template <typename Out, typename Four, typename Element>
DEFERRED_HOST_DEVICE inline void MapItemsOfFour(int64_t n, int64_t first_item, int64_t item_stride,
                                                Out* out, Four&& four, Element&& element) {
  for (int64_t item = first_item; item < ItemsOfFour(n); item += item_stride) {
    const int64_t begin = item * 4;
    if (begin + 4 <= n) {
      Out values[4];
      four(begin, values);
      StoreFour(out + begin, values);
    } else {
      for (int64_t i = begin; i < n; ++i) out[i] = element(i);
    }
  }
}

// out[i] = fn(a[i], b[i]), or fn(a[i], scalar) when b is null; Out is bool for a
// comparison, else T.
template <typename Fn, typename T, typename Out>
struct BinaryMap {
  int64_t n;
  Fn fn;
  const T* a;
  const T* b;
  MathOf<T> scalar;
  Out* out;
};

template <typename Fn, typename T, typename Out>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const BinaryMap<Fn, T, Out>& map) {
  return ItemsOfFour(map.n);
}

template <typename Fn, typename T, typename Out>
DEFERRED_HOST_DEVICE inline void RunThread(const BinaryMap<Fn, T, Out>& map, int64_t first_item,
                                           int64_t item_stride) {
  const auto apply = [&map](T a, MathOf<T> b) -> Out {
    if constexpr (math::kIsComparison<Fn>) {
      return math::ApplyComparison<T>(map.fn, a, b);
    } else {
      return math::ApplyBinary<T>(map.fn, a, b);
    }
  };
  const auto b_at = [&map](int64_t i) {
    return map.b == nullptr ? map.scalar : MathOf<T>(map.b[i]);
  };
  MapItemsOfFour(
      map.n, first_item, item_stride, map.out,
      [&](int64_t begin, Out* values) {
        T a[4];
        LoadFour(map.a + begin, a);
        MathOf<T> b[4] = {map.scalar, map.scalar, map.scalar, map.scalar};
        if (map.b != nullptr) {
          T loaded[4];
          LoadFour(map.b + begin, loaded);
          for (int k = 0; k < 4; ++k) b[k] = MathOf<T>(loaded[k]);
        }
        for (int k = 0; k < 4; ++k) values[k] = apply(a[k], b[k]);
      },
      [&](int64_t i) { return apply(map.a[i], b_at(i)); });
}

template <typename Fn, typename T>
struct UnaryMap {
  int64_t n;
  Fn fn;
  const T* a;
  T* out;
};

template <typename Fn, typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const UnaryMap<Fn, T>& map) {
  return ItemsOfFour(map.n);
}

template <typename Fn, typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const UnaryMap<Fn, T>& map, int64_t first_item,
                                           int64_t item_stride) {
  MapItemsOfFour(
      map.n, first_item, item_stride, map.out,
      [&map](int64_t begin, T* values) {
        T a[4];
        LoadFour(map.a + begin, a);
        for (int k = 0; k < 4; ++k) values[k] = math::ApplyUnary<T>(map.fn, a[k]);
      },
      [&map](int64_t i) { return math::ApplyUnary<T>(map.fn, map.a[i]); });
}

template <typename T>
struct ClampMap {
  int64_t n;
  const T* a;
  MathOf<T> lo, hi;
  T* out;
};

template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const ClampMap<T>& map) {
  return ItemsOfFour(map.n);
}

template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const ClampMap<T>& map, int64_t first_item,
                                           int64_t item_stride) {
  MapItemsOfFour(
      map.n, first_item, item_stride, map.out,
      [&map](int64_t begin, T* values) {
        T a[4];
        LoadFour(map.a + begin, a);
        for (int k = 0; k < 4; ++k) values[k] = math::Clamp<T>(a[k], map.lo, map.hi);
      },
      [&map](int64_t i) { return math::Clamp<T>(map.a[i], map.lo, map.hi); });
}

template <typename T>
struct WhereMap {
  int64_t n;
  const bool* condition;
  const T* a;
  const T* b;
  T* out;
};

template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const WhereMap<T>& map) {
  return ItemsOfFour(map.n);
}

template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const WhereMap<T>& map, int64_t first_item,
                                           int64_t item_stride) {
  MapItemsOfFour(
      map.n, first_item, item_stride, map.out,
      [&map](int64_t begin, T* values) {
        T a[4], b[4];
        LoadFour(map.a + begin, a);
        LoadFour(map.b + begin, b);
        for (int k = 0; k < 4; ++k) values[k] = map.condition[begin + k] ? a[k] : b[k];
      },
      [&map](int64_t i) { return map.condition[i] ? map.a[i] : map.b[i]; });
}

// ---- Host side: from args to the work that `launch` runs ----

template <typename T, typename Fn, typename Launch>
void LaunchBinary(const ElementwiseArgs& args, Fn fn, Launch& launch) {
  const T* b = args.b_is_scalar ? nullptr : static_cast<const T*>(args.b);
  const MathOf<T> scalar = ScalarFromBits<T>(args.scalar);
  if constexpr (math::kIsComparison<Fn>) {
    launch(BinaryMap<Fn, T, bool>{args.n, fn, static_cast<const T*>(args.a), b, scalar,
                                  static_cast<bool*>(args.out)});
  } else {
    launch(BinaryMap<Fn, T, T>{args.n, fn, static_cast<const T*>(args.a), b, scalar,
                               static_cast<T*>(args.out)});
  }
}

template <typename T, typename Fn, typename Launch>
void LaunchUnary(const ElementwiseArgs& args, Fn fn, Launch& launch) {
  launch(UnaryMap<Fn, T>{args.n, fn, static_cast<const T*>(args.a), static_cast<T*>(args.out)});
}

// Calls launch(work) with the work of `args`.
template <typename Launch>
void RunElementwise(const ElementwiseArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    switch (args.op) {
      case ElementwiseOp::kAdd:
        return LaunchBinary<T>(args, math::Add(), launch);
      case ElementwiseOp::kSub:
        return LaunchBinary<T>(args, math::Sub(), launch);
      case ElementwiseOp::kMul:
        return LaunchBinary<T>(args, math::Mul(), launch);
      case ElementwiseOp::kDiv:
        return LaunchBinary<T>(args, math::Div(), launch);
      case ElementwiseOp::kMaximum:
        return LaunchBinary<T>(args, math::Maximum(), launch);
      case ElementwiseOp::kMinimum:
        return LaunchBinary<T>(args, math::Minimum(), launch);
      case ElementwiseOp::kPow:
        return LaunchBinary<T>(args, math::Pow(), launch);
      case ElementwiseOp::kEq:
        return LaunchBinary<T>(args, math::Eq(), launch);
      case ElementwiseOp::kNe:
        return LaunchBinary<T>(args, math::Ne(), launch);
      case ElementwiseOp::kLt:
        return LaunchBinary<T>(args, math::Lt(), launch);
      case ElementwiseOp::kLe:
        return LaunchBinary<T>(args, math::Le(), launch);
      case ElementwiseOp::kGt:
        return LaunchBinary<T>(args, math::Gt(), launch);
      case ElementwiseOp::kGe:
        return LaunchBinary<T>(args, math::Ge(), launch);
      case ElementwiseOp::kNeg:
        return LaunchUnary<T>(args, math::Neg(), launch);
      case ElementwiseOp::kAbs:
        return LaunchUnary<T>(args, math::Abs(), launch);
      case ElementwiseOp::kSign:
        return LaunchUnary<T>(args, math::Sign(), launch);
      case ElementwiseOp::kExp:
        return LaunchUnary<T>(args, math::Exp(), launch);
      case ElementwiseOp::kLog:
        return LaunchUnary<T>(args, math::Log(), launch);
      case ElementwiseOp::kLog1p:
        return LaunchUnary<T>(args, math::Log1p(), launch);
      case ElementwiseOp::kErf:
        return LaunchUnary<T>(args, math::Erf(), launch);
      case ElementwiseOp::kSqrt:
        return LaunchUnary<T>(args, math::Sqrt(), launch);
      case ElementwiseOp::kRsqrt:
        return LaunchUnary<T>(args, math::Rsqrt(), launch);
      case ElementwiseOp::kReciprocal:
        return LaunchUnary<T>(args, math::Reciprocal(), launch);
      case ElementwiseOp::kSigmoid:
        return LaunchUnary<T>(args, math::Sigmoid(), launch);
      case ElementwiseOp::kFloor:
        return LaunchUnary<T>(args, math::Floor(), launch);
      case ElementwiseOp::kCeil:
        return LaunchUnary<T>(args, math::Ceil(), launch);
      case ElementwiseOp::kRound:
        return LaunchUnary<T>(args, math::Round(), launch);
      case ElementwiseOp::kSin:
        return LaunchUnary<T>(args, math::Sin(), launch);
      case ElementwiseOp::kCos:
        return LaunchUnary<T>(args, math::Cos(), launch);
      case ElementwiseOp::kTanh:
        return LaunchUnary<T>(args, math::Tanh(), launch);
      case ElementwiseOp::kLog2:
        return LaunchUnary<T>(args, math::Log2(), launch);
      case ElementwiseOp::kExp2:
        return LaunchUnary<T>(args, math::Exp2(), launch);
      case ElementwiseOp::kExpm1:
        return LaunchUnary<T>(args, math::Expm1(), launch);
      case ElementwiseOp::kClamp:
        return launch(ClampMap<T>{args.n, static_cast<const T*>(args.a),
                                  ScalarFromBits<T>(args.scalar), ScalarFromBits<T>(args.scalar_hi),
                                  static_cast<T*>(args.out)});
      case ElementwiseOp::kWhere:
        return launch(WhereMap<T>{args.n, args.condition, static_cast<const T*>(args.a),
                                  static_cast<const T*>(args.b), static_cast<T*>(args.out)});
    }
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_ELEMENTWISE_H_
