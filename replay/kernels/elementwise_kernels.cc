// CPU kernels of the elementwise ops in fake_tensor/ops/elementwise.h. Inputs are first
// cast to the op's compute dtype (the promoted one); the arithmetic runs in that dtype's
// op-math type (float for 16-bit floats) and is rounded to the output dtype. The
// arithmetic itself is replay/math/elementwise_ops.h's, which CUDA device code shares.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "fake_tensor/op_registry.h"
#include "replay/kernels/cast.h"
#include "replay/kernels/strided_loop.h"
#include "replay/math/elementwise_ops.h"

namespace deferred {
namespace {

using math::kIsFloat;

// out = fn(a, b) with a and b of dtype `compute` (cast first if needed).
template <typename Fn>
void BinaryLoop(const Tensor& out, Tensor a, Tensor b, DType compute, Fn fn) {
  a = CastIfNeeded(a, compute);
  b = CastIfNeeded(b, compute);
  // Write into a temporary when the output's dtype differs (comparisons, in-place casts).
  VisitDType(compute, [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    if constexpr (math::kIsComparison<Fn>) {
      Tensor result = out.dtype() == DType::kBool
                          ? out
                          : AllocateTensor(out.sizes(), DType::kBool, out.device());
      MapElements<bool, T, T>(
          result, [fn](T x, T y) { return math::ApplyComparison<T>(fn, x, M(y)); }, {a, b});
      if (!result.is_same(out)) CastCopy(out, result);
    } else {
      Tensor result = out.dtype() == compute
                          ? out
                          : AllocateTensor(out.sizes(), compute, out.device());
      MapElements<T, T, T>(
          result, [fn](T x, T y) { return math::ApplyBinary<T>(fn, x, M(y)); }, {a, b});
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
    if constexpr (math::kIsComparison<Fn>) {  // out is bool
      const M b = M(other.to<T>());
      MapElements<bool, T>(out, [fn, b](T x) { return math::ApplyComparison<T>(fn, x, b); }, {a});
    } else {
      const M b = other.to<M>();
      Tensor result = out.dtype() == compute
                          ? out
                          : AllocateTensor(out.sizes(), compute, out.device());
      MapElements<T, T>(result, [fn, b](T x) { return math::ApplyBinary<T>(fn, x, b); }, {a});
      if (!result.is_same(out)) CastCopy(out, result);
    }
  });
}

// Which forms of a binary op exist: its tensor form always; comparisons have no in-place
// forms, and maximum and minimum (as in PyTorch) take two tensors only.
enum class BinaryForms { kAll, kNoInPlace, kTensorsOnly };

// Registers the kernels of `name` and of those of `name_scalar`, `name_` and
// `name_scalar_` that `forms` has.
template <typename Fn>
void RegisterBinaryKernels(OpRegistry& registry, const std::string& name, Fn fn,
                           BinaryForms forms) {
  auto tensor_kernel = [name, fn](const KernelContext&, const OpCall& call,
                                  absl::Span<const Tensor> outputs) {
    const DType promoted = PromoteTypes(call.inputs[0].dtype(), call.inputs[1].dtype());
    BinaryLoop(outputs[0], call.inputs[0], call.inputs[1], math::BinaryComputeDType(name, promoted),
               fn);
  };
  auto scalar_kernel = [name, fn](const KernelContext&, const OpCall& call,
                                  absl::Span<const Tensor> outputs) {
    const Scalar& other = call.attrs.Get<Scalar>("other");
    const DType compute =
        math::BinaryComputeDType(name, PromoteWithScalar(call.inputs[0].dtype(), other));
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
    const Tensor input = CastIfNeeded(a, out.dtype());
    MapElements<T, T>(out, [fn](T x) { return math::ApplyUnary<T>(fn, x); }, {input});
  });
}

template <typename Fn>
void RegisterUnaryKernels(OpRegistry& registry, const std::string& name, Fn fn) {
  auto kernel = [fn](const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
    UnaryLoop(outputs[0], call.inputs[0], fn);
  };
  registry.RegisterKernel(name, DeviceType::kCPU, kernel);
  registry.RegisterKernel(name + "_", DeviceType::kCPU, kernel);
}

void ClampKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Scalar& min_value = call.attrs.Get<Scalar>("min");
  const Scalar& max_value = call.attrs.Get<Scalar>("max");
  VisitDType(out.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    const M lo = min_value.to<M>();
    const M hi = max_value.to<M>();
    const Tensor input = CastIfNeeded(call.inputs[0], out.dtype());
    MapElements<T, T>(out, [lo, hi](T x) { return math::Clamp<T>(x, lo, hi); }, {input});
  });
}

void WhereKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Tensor a = CastIfNeeded(call.inputs[1], out.dtype());
  const Tensor b = CastIfNeeded(call.inputs[2], out.dtype());
  VisitDType(out.dtype(), [&]<typename T>() {
    MapElements<T, bool, T, T>(
        out, [](bool c, T x, T y) { return c ? x : y; }, {call.inputs[0], a, b});
  });
}

void FillKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
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
  RegisterBinaryKernels(registry, "add", math::Add(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "sub", math::Sub(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "mul", math::Mul(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "div", math::Div(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "pow", math::Pow(), BinaryForms::kAll);
  RegisterBinaryKernels(registry, "eq", math::Eq(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "ne", math::Ne(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "lt", math::Lt(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "le", math::Le(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "gt", math::Gt(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "ge", math::Ge(), BinaryForms::kNoInPlace);
  RegisterBinaryKernels(registry, "maximum", math::Maximum(), BinaryForms::kTensorsOnly);
  RegisterBinaryKernels(registry, "minimum", math::Minimum(), BinaryForms::kTensorsOnly);
  RegisterUnaryKernels(registry, "neg", math::Neg());
  RegisterUnaryKernels(registry, "abs", math::Abs());
  RegisterUnaryKernels(registry, "exp", math::Exp());
  RegisterUnaryKernels(registry, "log", math::Log());
  RegisterUnaryKernels(registry, "sqrt", math::Sqrt());
  RegisterUnaryKernels(registry, "rsqrt", math::Rsqrt());
  RegisterUnaryKernels(registry, "sin", math::Sin());
  RegisterUnaryKernels(registry, "cos", math::Cos());
  RegisterUnaryKernels(registry, "tanh", math::Tanh());
  RegisterUnaryKernels(registry, "sigmoid", math::Sigmoid());
  RegisterUnaryKernels(registry, "erf", math::Erf());
  RegisterUnaryKernels(registry, "log2", math::Log2());
  RegisterUnaryKernels(registry, "exp2", math::Exp2());
  RegisterUnaryKernels(registry, "expm1", math::Expm1());
  RegisterUnaryKernels(registry, "log1p", math::Log1p());
  RegisterUnaryKernels(registry, "reciprocal", math::Reciprocal());
  RegisterUnaryKernels(registry, "floor", math::Floor());
  RegisterUnaryKernels(registry, "ceil", math::Ceil());
  RegisterUnaryKernels(registry, "round", math::Round());
  RegisterUnaryKernels(registry, "sign", math::Sign());
  registry.RegisterKernel("clamp", DeviceType::kCPU, ClampKernel);
  registry.RegisterKernel("clamp_", DeviceType::kCPU, ClampKernel);
  registry.RegisterKernel("where", DeviceType::kCPU, WhereKernel);
  registry.RegisterKernel("fill_", DeviceType::kCPU, FillKernel);
  auto cast_kernel = [](const KernelContext&, const OpCall& call,
                        absl::Span<const Tensor> outputs) {
    CastCopy(outputs[0], call.inputs[call.inputs.size() - 1]);
  };
  registry.RegisterKernel("to", DeviceType::kCPU, cast_kernel);
  registry.RegisterKernel("copy_", DeviceType::kCPU, cast_kernel);
  return true;
}();

}  // namespace
}  // namespace deferred
