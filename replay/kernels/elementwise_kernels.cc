// CPU kernels of the elementwise ops in fake_tensor/ops/elementwise.h. Inputs are first
// cast to the op's compute dtype (the promoted one); the arithmetic runs in that dtype's
// op-math type (float for 16-bit floats) and is rounded to the output dtype.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "fake_tensor/op_registry.h"
#include "replay/kernels/cast.h"
#include "replay/kernels/strided_loop.h"

namespace deferred {
namespace {

template <typename T>
constexpr bool kIsFloat = !std::is_integral_v<T>;

// The arithmetic of each binary op on op-math values.
struct Add { template <typename M> M operator()(M a, M b) const { return a + b; } };
struct Sub { template <typename M> M operator()(M a, M b) const { return a - b; } };
struct Mul { template <typename M> M operator()(M a, M b) const { return a * b; } };
struct Div { template <typename M> M operator()(M a, M b) const { return a / b; } };
struct Pow {
  template <typename M>
  M operator()(M a, M b) const {
    if constexpr (kIsFloat<M>) {
      return std::pow(a, b);
    } else {
      // Integer power by squaring, wrapping like the other integer arithmetic; negative
      // exponents give 0 unless |a| is 1, as in PyTorch.
      if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 == 0 ? 1 : -1) : 0);
      using U = std::make_unsigned_t<M>;
      U result = 1;
      for (U base = static_cast<U>(a); b > 0; b >>= 1, base *= base) {
        if (b & 1) result *= base;
      }
      return static_cast<M>(result);
    }
  }
};
struct Eq { template <typename M> bool operator()(M a, M b) const { return a == b; } };
struct Ne { template <typename M> bool operator()(M a, M b) const { return a != b; } };
struct Lt { template <typename M> bool operator()(M a, M b) const { return a < b; } };
struct Le { template <typename M> bool operator()(M a, M b) const { return a <= b; } };
struct Gt { template <typename M> bool operator()(M a, M b) const { return a > b; } };
struct Ge { template <typename M> bool operator()(M a, M b) const { return a >= b; } };
// torch.maximum / minimum: a NaN operand wins (a's when both are).
struct Maximum {
  template <typename M> M operator()(M a, M b) const {
    if constexpr (kIsFloat<M>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return a < b ? b : a;
  }
};
struct Minimum {
  template <typename M> M operator()(M a, M b) const {
    if constexpr (kIsFloat<M>) {
      if (a != a) return a;
      if (b != b) return b;
    }
    return b < a ? b : a;
  }
};

// Integer arithmetic wraps (as in PyTorch) instead of overflowing: done in unsigned.
template <typename M, typename Fn>
M WrappingArithmetic(Fn fn, M a, M b) {
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

// out = fn(a, b) with a and b of dtype `compute` (cast first if needed).
template <typename Fn>
void BinaryLoop(const Tensor& out, Tensor a, Tensor b, DType compute, Fn fn) {
  a = CastIfNeeded(a, compute);
  b = CastIfNeeded(b, compute);
  // Write into a temporary when the output's dtype differs (comparisons, in-place casts).
  VisitDType(compute, [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    if constexpr (std::is_same_v<decltype(fn(0, 0)), bool>) {  // a comparison
      Tensor result = out.dtype() == DType::kBool
                          ? out
                          : AllocateTensor(out.sizes(), DType::kBool, out.device());
      MapElements<bool, T, T>(
          result, [fn](T x, T y) { return static_cast<bool>(fn(M(x), M(y))); }, {a, b});
      if (!result.is_same(out)) CastCopy(out, result);
    } else {
      Tensor result = out.dtype() == compute
                          ? out
                          : AllocateTensor(out.sizes(), compute, out.device());
      MapElements<T, T, T>(
          result,
          [fn](T x, T y) { return CastElement<T>(WrappingArithmetic<M>(fn, M(x), M(y))); },
          {a, b});
      if (!result.is_same(out)) CastCopy(out, result);
    }
  });
}

// out = fn(a, other) with a of dtype `compute` (cast first if needed). Arithmetic takes
// the scalar in the op-math type (as PyTorch does for float16 and bfloat16); comparisons
// take it converted to `compute`, as a tensor of that dtype would hold it.
template <typename Fn>
void BinaryScalarLoop(const Tensor& out, Tensor a, const Scalar& other, DType compute, Fn fn) {
  a = CastIfNeeded(a, compute);
  VisitDType(compute, [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    if constexpr (std::is_same_v<decltype(fn(0, 0)), bool>) {  // a comparison: out is bool
      const M b = M(other.to<T>());
      MapElements<bool, T>(out, [fn, b](T x) { return static_cast<bool>(fn(M(x), b)); }, {a});
    } else {
      const M b = other.to<M>();
      Tensor result = out.dtype() == compute
                          ? out
                          : AllocateTensor(out.sizes(), compute, out.device());
      MapElements<T, T>(
          result, [fn, b](T x) { return CastElement<T>(WrappingArithmetic<M>(fn, M(x), b)); },
          {a});
      if (!result.is_same(out)) CastCopy(out, result);
    }
  });
}

// The dtype binary op arithmetic runs in: the promoted input dtype, floating for div.
DType ComputeDType(const std::string& op, DType promoted) {
  if (op == "div" && !IsFloatingPoint(promoted)) return kDefaultFloatDType;
  return promoted;
}

// Which forms of a binary op exist: its tensor form always; comparisons have no in-place
// forms, and maximum and minimum (as in PyTorch) take two tensors only.
enum class BinaryForms { kAll, kNoInPlace, kTensorsOnly };

// Registers the kernels of `name` and of those of `name_scalar`, `name_` and
// `name_scalar_` that `forms` has.
template <typename Fn>
void RegisterBinaryKernels(OpRegistry& registry, const std::string& name, Fn fn,
                           BinaryForms forms) {
  auto tensor_kernel = [name, fn](const OpCall& call, absl::Span<const Tensor> outputs) {
    const DType promoted = PromoteTypes(call.inputs[0].dtype(), call.inputs[1].dtype());
    BinaryLoop(outputs[0], call.inputs[0], call.inputs[1], ComputeDType(name, promoted), fn);
  };
  auto scalar_kernel = [name, fn](const OpCall& call, absl::Span<const Tensor> outputs) {
    const Scalar& other = call.attrs.Get<Scalar>("other");
    const DType compute = ComputeDType(name, PromoteWithScalar(call.inputs[0].dtype(), other));
    BinaryScalarLoop(outputs[0], call.inputs[0], other, compute, fn);
  };
  registry.RegisterKernel(name, DeviceType::kCPU, tensor_kernel);
  if (forms == BinaryForms::kTensorsOnly) return;
  registry.RegisterKernel(name + "_scalar", DeviceType::kCPU, scalar_kernel);
  if (forms == BinaryForms::kNoInPlace) return;
  registry.RegisterKernel(name + "_", DeviceType::kCPU, tensor_kernel);
  registry.RegisterKernel(name + "_scalar_", DeviceType::kCPU, scalar_kernel);
}

// out = fn(a) with a cast to out's dtype first.
template <typename Fn>
void UnaryLoop(const Tensor& out, Tensor a, Fn fn) {
  VisitDType(out.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    const Tensor input = CastIfNeeded(a, out.dtype());
    MapElements<T, T>(out, [fn](T x) { return CastElement<T>(fn(M(x))); }, {input});
  });
}

template <typename Fn>
void RegisterUnaryKernels(OpRegistry& registry, const std::string& name, Fn fn) {
  auto kernel = [fn](const OpCall& call, absl::Span<const Tensor> outputs) {
    UnaryLoop(outputs[0], call.inputs[0], fn);
  };
  registry.RegisterKernel(name, DeviceType::kCPU, kernel);
  registry.RegisterKernel(name + "_", DeviceType::kCPU, kernel);
}

struct Neg {
  template <typename M> M operator()(M a) const {
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
  template <typename M> M operator()(M a) const {
    if constexpr (std::is_unsigned_v<M>) {
      return a;
    } else if constexpr (kIsFloat<M>) {
      return std::abs(a);  // clears the sign of -0.0 and of NaN too
    } else {
      return a < 0 ? Neg()(a) : a;
    }
  }
};
// The transcendental ops are defined on floating op-math types only (their result dtype
// is floating, so UnaryLoop never instantiates them for integers at run time).
template <typename M, typename Fn>
M FloatingOnly(M a, Fn fn) {
  if constexpr (kIsFloat<M>) {
    return fn(a);
  } else {
    return a;
  }
}
struct Exp { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::exp(x); }); } };
struct Log { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::log(x); }); } };
struct Sqrt { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::sqrt(x); }); } };
struct Rsqrt { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return decltype(x)(1) / std::sqrt(x); }); } };
struct Sin { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::sin(x); }); } };
struct Cos { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::cos(x); }); } };
struct Tanh { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::tanh(x); }); } };
struct Sigmoid { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return decltype(x)(1) / (decltype(x)(1) + std::exp(-x)); }); } };
struct Erf { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::erf(x); }); } };
struct Log2 { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::log2(x); }); } };
struct Exp2 { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::exp2(x); }); } };
struct Expm1 { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::expm1(x); }); } };
struct Log1p { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::log1p(x); }); } };
struct Reciprocal { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return decltype(x)(1) / x; }); } };
// Rounding ops pass integers through. nearbyint rounds halves to even in the default
// rounding mode, which nothing here changes.
struct Floor { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::floor(x); }); } };
struct Ceil { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::ceil(x); }); } };
struct Round { template <typename M> M operator()(M a) const { return FloatingOnly(a, [](auto x) { return std::nearbyint(x); }); } };
struct Sign {
  template <typename M> M operator()(M a) const {
    if constexpr (std::is_same_v<M, bool>) {
      return a;
    } else if constexpr (kIsFloat<M>) {
      return a > 0 ? M(1) : (a < 0 ? M(-1) : a);  // zeros keep their sign, NaN stays NaN
    } else {
      return static_cast<M>((M(0) < a) - (a < M(0)));
    }
  }
};

void ClampKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Scalar& min_value = call.attrs.Get<Scalar>("min");
  const Scalar& max_value = call.attrs.Get<Scalar>("max");
  VisitDType(out.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    const M lo = min_value.to<M>();
    const M hi = max_value.to<M>();
    const Tensor input = CastIfNeeded(call.inputs[0], out.dtype());
    MapElements<T, T>(
        out,
        [lo, hi](T x) {
          const M v = M(x);
          if constexpr (kIsFloat<M>) {
            if (std::isnan(v)) return x;  // NaN propagates, as in PyTorch
          }
          // min(max(v, lo), hi): where lo > hi every element becomes hi, as in PyTorch.
          const M raised = v < lo ? lo : v;
          return CastElement<T>(raised > hi ? hi : raised);
        },
        {input});
  });
}

void WhereKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Tensor a = CastIfNeeded(call.inputs[1], out.dtype());
  const Tensor b = CastIfNeeded(call.inputs[2], out.dtype());
  VisitDType(out.dtype(), [&]<typename T>() {
    MapElements<T, bool, T, T>(
        out, [](bool c, T x, T y) { return c ? x : y; }, {call.inputs[0], a, b});
  });
}

void FillKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Scalar& value = call.attrs.Get<Scalar>("value");
  // An expanded output (stride 0) is filled through one index per address along those
  // dims, so that no two threads write the same memory.
  TensorLayout distinct = outputs[0].layout();
  for (size_t d = 0; d < distinct.sizes.size(); ++d) {
    if (distinct.strides[d] == 0) distinct.sizes[d] = std::min<int64_t>(distinct.sizes[d], 1);
  }
  const Tensor out = MakeView(outputs[0], std::move(distinct));
  VisitDType(out.dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    MapElements<T>(out, [v]() { return v; }, {});
  });
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  RegisterBinaryKernels(registry, "add", Add(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "sub", Sub(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "mul", Mul(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "div", Div(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "pow", Pow(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "eq", Eq(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "ne", Ne(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "lt", Lt(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "le", Le(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "gt", Gt(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "ge", Ge(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "maximum", Maximum(), BinaryForms::kTensorsOnly);
  RegisterBinaryKernels(registry, "minimum", Minimum(), BinaryForms::kTensorsOnly);
  RegisterUnaryKernels(registry, "neg", Neg());
  RegisterUnaryKernels(registry, "abs", Abs());
  RegisterUnaryKernels(registry, "exp", Exp());
  RegisterUnaryKernels(registry, "log", Log());
  RegisterUnaryKernels(registry, "sqrt", Sqrt());
  RegisterUnaryKernels(registry, "rsqrt", Rsqrt());
  RegisterUnaryKernels(registry, "sin", Sin());
  RegisterUnaryKernels(registry, "cos", Cos());
  RegisterUnaryKernels(registry, "tanh", Tanh());
  RegisterUnaryKernels(registry, "sigmoid", Sigmoid());
  RegisterUnaryKernels(registry, "erf", Erf());
  RegisterUnaryKernels(registry, "log2", Log2());
  RegisterUnaryKernels(registry, "exp2", Exp2());
  RegisterUnaryKernels(registry, "expm1", Expm1());
  RegisterUnaryKernels(registry, "log1p", Log1p());
  RegisterUnaryKernels(registry, "reciprocal", Reciprocal());
  RegisterUnaryKernels(registry, "floor", Floor());
  RegisterUnaryKernels(registry, "ceil", Ceil());
  RegisterUnaryKernels(registry, "round", Round());
  RegisterUnaryKernels(registry, "sign", Sign());
  registry.RegisterKernel("clamp", DeviceType::kCPU, ClampKernel);
  registry.RegisterKernel("clamp_", DeviceType::kCPU, ClampKernel);
  registry.RegisterKernel("where", DeviceType::kCPU, WhereKernel);
  registry.RegisterKernel("fill_", DeviceType::kCPU, FillKernel);
  auto cast_kernel = [](const OpCall& call, absl::Span<const Tensor> outputs) {
    CastCopy(outputs[0], call.inputs[call.inputs.size() - 1]);
  };
  registry.RegisterKernel("to", DeviceType::kCPU, cast_kernel);
  registry.RegisterKernel("copy_", DeviceType::kCPU, cast_kernel);
  return true;
}();

}  // namespace
}  // namespace deferred
