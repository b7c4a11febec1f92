#include "cuda_kernels/kernels.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/scalar.h"
#include "replay/math/copy_views.h"
#include "replay/math/elementwise_ops.h"

namespace deferred::cuda {
namespace {

// `t` itself, or a contiguous copy of it on its device when it shares storage with `other`:
// a GPU's threads copy elements in no order, so a source that the copy overwrites must be
// set aside first (the CPU's copy_ snapshots it likewise).
Tensor ApartFrom(const Tensor& t, const Tensor& other, const KernelLaunchers& launchers,
                 const KernelContext& context) {
  if (t.storage() != other.storage()) return t;
  const Tensor aside = AllocateTensor(t.sizes(), t.dtype(), t.device());
  launchers.strided_copy(StridedCopyArgsOf("copy_", aside, t), context);
  return aside;
}

// ---- Elementwise ops ----

// `t` as an operand of a flat elementwise kernel that writes `result`: `t` itself when it
// holds exactly `sizes` elements of `dtype` contiguously, else a contiguous copy of it,
// broadcast to `sizes` and cast to `dtype`. An operand used as it is never overlaps
// `result` but element for element (then thread i reads element i before writing it): the
// dispatcher refuses an input that partially overlaps what an in-place op writes.
Tensor FlatOperand(const Tensor& t, const Shape& sizes, DType dtype, const Tensor& result,
                   const KernelLaunchers& launchers, const KernelContext& context) {
  if (t.sizes() == sizes && t.dtype() == dtype && t.is_contiguous()) return t;
  const Tensor flat = AllocateTensor(sizes, dtype, result.device());
  launchers.strided_copy(StridedCopyArgsOf("copy_", flat, t), context);
  return flat;
}

// The contiguous tensor an elementwise kernel writes for `out`: `out` itself when it is
// contiguous and of `dtype`, else a temporary that WriteBack copies into `out`.
Tensor FlatResult(const Tensor& out, DType dtype) {
  if (out.is_contiguous() && out.dtype() == dtype) return out;
  return AllocateTensor(out.sizes(), dtype, out.device());
}

void WriteBack(const Tensor& result, const Tensor& out, const KernelLaunchers& launchers,
               const KernelContext& context) {
  if (!result.is_same(out)) {
    launchers.strided_copy(StridedCopyArgsOf("copy_", out, result), context);
  }
}

// The bits of `value` as T's op-math type.
template <typename T>
uint64_t ScalarBits(MathOf<T> value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(value));
  return bits;
}

// The device address of contiguous `t`'s first element.
void* FlatData(const Tensor& t) {
  return t.storage()->data() + t.storage_offset() * ElementSize(t.dtype());
}

// The kernel of binary op `name` (tensor and scalar forms, in place or not) computing `op`.
Kernel BinaryKernel(const std::string& name, ElementwiseOp op, bool comparison,
                    std::shared_ptr<const KernelLaunchers> launchers) {
  return [name, op, comparison, launchers](const KernelContext& context, const OpCall& call,
                                           absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    const Tensor& a = call.inputs[0];
    const bool with_scalar = call.inputs.size() == 1;
    const DType promoted = with_scalar
                               ? PromoteWithScalar(a.dtype(), call.attrs.Get<Scalar>("other"))
                               : PromoteTypes(a.dtype(), call.inputs[1].dtype());
    const DType compute = math::BinaryComputeDType(name, promoted);
    ElementwiseArgs args{.op = op, .dtype = compute, .n = out.numel()};
    const Tensor result = FlatResult(out, comparison ? DType::kBool : compute);
    const Tensor flat_a = FlatOperand(a, out.sizes(), compute, result, *launchers, context);
    Tensor flat_b;
    if (with_scalar) {
      const Scalar& other = call.attrs.Get<Scalar>("other");
      args.b_is_scalar = true;
      VisitDType(compute, [&]<typename T>() {
        // Comparisons take the scalar as a tensor of the compute dtype would hold it;
        // arithmetic in the op-math type (as the CPU kernels do).
        args.scalar = ScalarBits<T>(comparison ? MathOf<T>(other.to<T>()) : other.to<MathOf<T>>());
      });
    } else {
      flat_b = FlatOperand(call.inputs[1], out.sizes(), compute, result, *launchers, context);
      args.b = FlatData(flat_b);
    }
    args.a = FlatData(flat_a);
    args.out = FlatData(result);
    launchers->elementwise(args, context);
    WriteBack(result, out, *launchers, context);
  };
}

// The kernel of unary op `op`: the input cast to the output's dtype, as on the CPU.
Kernel UnaryKernel(ElementwiseOp op, std::shared_ptr<const KernelLaunchers> launchers) {
  return [op, launchers](const KernelContext& context, const OpCall& call,
                         absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    const Tensor result = FlatResult(out, out.dtype());
    const Tensor a =
        FlatOperand(call.inputs[0], out.sizes(), out.dtype(), result, *launchers, context);
    ElementwiseArgs args{.op = op, .dtype = out.dtype(), .n = out.numel(), .a = FlatData(a)};
    if (op == ElementwiseOp::kClamp) {
      VisitDType(out.dtype(), [&]<typename T>() {
        args.scalar = ScalarBits<T>(call.attrs.Get<Scalar>("min").to<MathOf<T>>());
        args.scalar_hi = ScalarBits<T>(call.attrs.Get<Scalar>("max").to<MathOf<T>>());
      });
    }
    args.out = FlatData(result);
    launchers->elementwise(args, context);
    WriteBack(result, out, *launchers, context);
  };
}

// where(condition, a, b): a and b cast to the output's dtype, all three broadcast.
Kernel WhereKernel(std::shared_ptr<const KernelLaunchers> launchers) {
  return [launchers](const KernelContext& context, const OpCall& call,
                     absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    const Tensor result = FlatResult(out, out.dtype());
    const Tensor condition =
        FlatOperand(call.inputs[0], out.sizes(), DType::kBool, result, *launchers, context);
    const Tensor a =
        FlatOperand(call.inputs[1], out.sizes(), out.dtype(), result, *launchers, context);
    const Tensor b =
        FlatOperand(call.inputs[2], out.sizes(), out.dtype(), result, *launchers, context);
    ElementwiseArgs args{.op = ElementwiseOp::kWhere,
                         .dtype = out.dtype(),
                         .n = out.numel(),
                         .a = FlatData(a),
                         .b = FlatData(b),
                         .condition = static_cast<const bool*>(FlatData(condition))};
    args.out = FlatData(result);
    launchers->elementwise(args, context);
    WriteBack(result, out, *launchers, context);
  };
}

// The binary ops, each with the forms the CPU registers (elementwise_kernels.cc): all four
// for arithmetic, no in-place forms for comparisons, tensors only for maximum and minimum.
struct BinaryOp {
  const char* name;
  ElementwiseOp op;
  bool comparison;
  bool scalar_forms;
  bool in_place_forms;
};
constexpr BinaryOp kBinaryOps[] = {
    {"add", ElementwiseOp::kAdd, false, true, true},
    {"sub", ElementwiseOp::kSub, false, true, true},
    {"mul", ElementwiseOp::kMul, false, true, true},
    {"div", ElementwiseOp::kDiv, false, true, true},
    {"pow", ElementwiseOp::kPow, false, true, true},
    {"eq", ElementwiseOp::kEq, true, true, false},
    {"ne", ElementwiseOp::kNe, true, true, false},
    {"lt", ElementwiseOp::kLt, true, true, false},
    {"le", ElementwiseOp::kLe, true, true, false},
    {"gt", ElementwiseOp::kGt, true, true, false},
    {"ge", ElementwiseOp::kGe, true, true, false},
    {"maximum", ElementwiseOp::kMaximum, false, false, false},
    {"minimum", ElementwiseOp::kMinimum, false, false, false},
};

// The unary ops; each also has its in-place form, name + "_".
constexpr std::pair<const char*, ElementwiseOp> kUnaryOps[] = {
    {"neg", ElementwiseOp::kNeg},         {"abs", ElementwiseOp::kAbs},
    {"sign", ElementwiseOp::kSign},       {"exp", ElementwiseOp::kExp},
    {"log", ElementwiseOp::kLog},         {"log1p", ElementwiseOp::kLog1p},
    {"erf", ElementwiseOp::kErf},         {"sqrt", ElementwiseOp::kSqrt},
    {"rsqrt", ElementwiseOp::kRsqrt},     {"reciprocal", ElementwiseOp::kReciprocal},
    {"sigmoid", ElementwiseOp::kSigmoid}, {"floor", ElementwiseOp::kFloor},
    {"ceil", ElementwiseOp::kCeil},       {"round", ElementwiseOp::kRound},
    {"clamp", ElementwiseOp::kClamp},     {"sin", ElementwiseOp::kSin},
    {"cos", ElementwiseOp::kCos},         {"tanh", ElementwiseOp::kTanh},
    {"log2", ElementwiseOp::kLog2},       {"exp2", ElementwiseOp::kExp2},
    {"expm1", ElementwiseOp::kExpm1},
};

// ---- Ops that only move elements: strided copies between views (replay/math) ----

Kernel ViewCopiesKernel(std::vector<math::ViewCopy> (*copies_of)(const OpCall&, const Tensor&),
                        std::shared_ptr<const KernelLaunchers> launchers) {
  return [copies_of, launchers](const KernelContext& context, const OpCall& call,
                                absl::Span<const Tensor> outputs) {
    for (const math::ViewCopy& copy : copies_of(call, outputs[0])) {
      if (copy.destination.numel() == 0) continue;
      launchers->strided_copy(StridedCopyArgsOf(call.def->name, copy.destination, copy.source),
                              context);
    }
  };
}

std::vector<math::ViewCopy> RepeatCopies(const OpCall& call, const Tensor& out) {
  return {math::RepeatCopy(call, out)};
}

// outer(a, b): mul of a as a column and b as a row, in the output's dtype.
Kernel OuterKernel(std::shared_ptr<const KernelLaunchers> launchers) {
  return [launchers](const KernelContext& context, const OpCall& call,
                     absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    const Tensor result = FlatResult(out, out.dtype());
    const Tensor a = FlatOperand(math::OuterColumn(call.inputs[0]), out.sizes(), out.dtype(),
                                 result, *launchers, context);
    const Tensor b =
        FlatOperand(call.inputs[1], out.sizes(), out.dtype(), result, *launchers, context);
    ElementwiseArgs args{.op = ElementwiseOp::kMul,
                         .dtype = out.dtype(),
                         .n = out.numel(),
                         .a = FlatData(a),
                         .b = FlatData(b)};
    args.out = FlatData(result);
    launchers->elementwise(args, context);
    WriteBack(result, out, *launchers, context);
  };
}

// matmul(a, b): both operands rounded to the output's dtype (promotion), then packed
// contiguous in its op-math dtype, as the CPU kernel packs them.
Kernel MatmulKernel(std::shared_ptr<const KernelLaunchers> launchers) {
  return [launchers](const KernelContext& context, const OpCall& call,
                     absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    DType math_dtype = out.dtype();
    VisitDType(out.dtype(), [&]<typename T>() { math_dtype = DTypeOf<MathOf<T>>(); });
    const auto packed = [&](const Tensor& t) {
      const Tensor rounded = FlatOperand(t, t.sizes(), out.dtype(), out, *launchers, context);
      return FlatOperand(rounded, t.sizes(), math_dtype, out, *launchers, context);
    };
    const Tensor& a = call.inputs[0];
    const Tensor& b = call.inputs[1];
    launchers->matmul(MatmulArgsOf(out, a, b, packed(a), packed(b)), context);
  };
}

// The reductions ReductionArgsOf takes.
constexpr const char* kReductionOps[] = {"sum", "mean", "var", "std", "min", "max"};

// ---- Host fallbacks ----

std::atomic<int64_t> host_fallbacks{0};

// Runs the CPU kernel of `call` on host copies of its inputs, then copies each output up
// into the device tensor it stands for.
Kernel HostFallbackKernel(std::shared_ptr<const KernelLaunchers> launchers) {
  return [launchers](const KernelContext& context, const OpCall& call,
                     absl::Span<const Tensor> outputs) {
    host_fallbacks.fetch_add(1);
    OpCall on_host = call;
    for (Tensor& input : on_host.inputs) input = input.to(Device::CPU());
    std::vector<Tensor> host_outputs;
    for (const Tensor& out : outputs) {
      host_outputs.push_back(AllocateTensor(out.sizes(), out.dtype(), Device::CPU()));
    }
    const Kernel& cpu = call.def->kernel(DeviceType::kCPU);
    if (!cpu) ThrowError("%s has no CPU kernel to fall back on", call.def->name);
    cpu(KernelContext{}, on_host, host_outputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor up = host_outputs[i].to(outputs[i].device());
      launchers->strided_copy(StridedCopyArgsOf(call.def->name, outputs[i], up), context);
    }
  };
}

// Runs `work`, naming the op in any error it throws.
template <typename Work>
void RunNamed(const OpCall& call, Work&& work) {
  try {
    work();
  } catch (const Error& e) {
    throw Error(absl::StrCat(call.def->name, " on CUDA: ", e.what()), e.code());
  }
}

}  // namespace

const std::vector<std::string>& HostFallbackOps() {
  static const auto* const ops = new std::vector<std::string>{"from_bytes", "qr_q"};
  return *ops;
}

int64_t HostFallbackCount() { return host_fallbacks.load(); }

bool RegisterCudaKernels(KernelLaunchers launchers) {
  const auto shared = std::make_shared<const KernelLaunchers>(std::move(launchers));
  OpRegistry& registry = OpRegistry::Global();
  const Kernel random_fill = [shared](const KernelContext& context, const OpCall& call,
                                      absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    RunNamed(call, [&] { shared->random_fill(RandomFillArgsOf(call, out), context); });
  };
  for (const std::string_view op : kRandomFillOps) {
    registry.RegisterKernel(op, DeviceType::kCUDA, random_fill);
  }
  const Kernel constant_fill = [shared](const KernelContext& context, const OpCall& call,
                                        absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    RunNamed(call, [&] { shared->constant_fill(ConstantFillArgsOf(call, out), context); });
  };
  registry.RegisterKernel("full", DeviceType::kCUDA, constant_fill);
  registry.RegisterKernel("fill_", DeviceType::kCUDA, constant_fill);
  registry.RegisterKernel("empty", DeviceType::kCUDA,
                          [](const KernelContext&, const OpCall&, absl::Span<const Tensor>) {});
  // copy_(dst, src), to(src) and clone(src): the source is the last input, as on the CPU.
  const Kernel copy = [shared](const KernelContext& context, const OpCall& call,
                               absl::Span<const Tensor> outputs) {
    const Tensor& dst = outputs[0];
    if (dst.numel() == 0) return;
    RunNamed(call, [&] {
      const Tensor src = ApartFrom(call.inputs.back(), dst, *shared, context);
      shared->strided_copy(StridedCopyArgsOf(call.def->name, dst, src), context);
    });
  };
  registry.RegisterKernel("copy_", DeviceType::kCUDA, copy);
  registry.RegisterKernel("to", DeviceType::kCUDA, copy);
  registry.RegisterKernel("clone", DeviceType::kCUDA, copy);
  for (const BinaryOp& op : kBinaryOps) {
    const Kernel kernel = BinaryKernel(op.name, op.op, op.comparison, shared);
    const Kernel named = [kernel](const KernelContext& context, const OpCall& call,
                                  absl::Span<const Tensor> outputs) {
      RunNamed(call, [&] { kernel(context, call, outputs); });
    };
    registry.RegisterKernel(op.name, DeviceType::kCUDA, named);
    if (op.scalar_forms)
      registry.RegisterKernel(std::string(op.name) + "_scalar", DeviceType::kCUDA, named);
    if (op.in_place_forms) {
      registry.RegisterKernel(std::string(op.name) + "_", DeviceType::kCUDA, named);
      registry.RegisterKernel(std::string(op.name) + "_scalar_", DeviceType::kCUDA, named);
    }
  }
  for (const auto& [name, op] : kUnaryOps) {
    const Kernel kernel = UnaryKernel(op, shared);
    const Kernel named = [kernel](const KernelContext& context, const OpCall& call,
                                  absl::Span<const Tensor> outputs) {
      RunNamed(call, [&] { kernel(context, call, outputs); });
    };
    registry.RegisterKernel(name, DeviceType::kCUDA, named);
    registry.RegisterKernel(std::string(name) + "_", DeviceType::kCUDA, named);
  }
  const Kernel indexed_fill = [shared](const KernelContext& context, const OpCall& call,
                                       absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    RunNamed(call, [&] { shared->indexed_fill(IndexedFillArgsOf(call, out), context); });
  };
  for (const char* op : {"arange", "linspace", "eye"}) {
    registry.RegisterKernel(op, DeviceType::kCUDA, indexed_fill);
  }
  const Kernel triangle = [shared](const KernelContext& context, const OpCall& call,
                                   absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    RunNamed(call, [&] { shared->triangle(TriangleArgsOf(call, out), context); });
  };
  for (const char* op : {"tril", "tril_", "triu", "triu_"}) {
    registry.RegisterKernel(op, DeviceType::kCUDA, triangle);
  }
  const auto named = [](Kernel kernel) -> Kernel {
    return [kernel](const KernelContext& context, const OpCall& call,
                    absl::Span<const Tensor> outputs) {
      RunNamed(call, [&] { kernel(context, call, outputs); });
    };
  };
  registry.RegisterKernel("cat", DeviceType::kCUDA,
                          named(ViewCopiesKernel(math::CatCopies, shared)));
  registry.RegisterKernel("stack", DeviceType::kCUDA,
                          named(ViewCopiesKernel(math::StackCopies, shared)));
  registry.RegisterKernel("repeat", DeviceType::kCUDA,
                          named(ViewCopiesKernel(RepeatCopies, shared)));
  registry.RegisterKernel("outer", DeviceType::kCUDA, named(OuterKernel(shared)));
  registry.RegisterKernel("matmul", DeviceType::kCUDA, named(MatmulKernel(shared)));
  const Kernel reduction = [shared](const KernelContext& context, const OpCall& call,
                                    absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    shared->reduction(ReductionArgsOf(call, out), context);
  };
  for (const char* op : kReductionOps) {
    registry.RegisterKernel(op, DeviceType::kCUDA, named(reduction));
  }
  const Kernel lines = [shared](const KernelContext& context, const OpCall& call,
                                absl::Span<const Tensor> outputs) {
    const Tensor& out = outputs[0];
    if (out.numel() == 0) return;
    shared->lines(LineArgsOf(call, out), context);
  };
  registry.RegisterKernel("cumsum", DeviceType::kCUDA, named(lines));
  registry.RegisterKernel("argsort", DeviceType::kCUDA, named(lines));
  const Kernel host_fallback = HostFallbackKernel(shared);
  for (const std::string& op : HostFallbackOps()) {
    registry.RegisterHostFallbackKernel(op, DeviceType::kCUDA, named(host_fallback));
  }
  const Kernel where = WhereKernel(shared);
  registry.RegisterKernel(
      "where", DeviceType::kCUDA,
      [where](const KernelContext& context, const OpCall& call, absl::Span<const Tensor> outputs) {
        RunNamed(call, [&] { where(context, call, outputs); });
      });
  return true;
}

}  // namespace deferred::cuda
