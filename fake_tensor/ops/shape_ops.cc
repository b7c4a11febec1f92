#include "fake_tensor/ops/shape_ops.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "fake_tensor/checked_arithmetic.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/region_rules.h"

namespace deferred {
namespace {

void CheckInputCount(const OpCall& call, size_t expected) {
  if (call.inputs.size() != expected) {
    ThrowError("%s: expected %d tensor inputs, got %d", call.def->name, expected,
               call.inputs.size());
  }
}

DType PromotedDType(const std::vector<Tensor>& inputs) {
  DType dtype = inputs[0].dtype();
  for (const Tensor& t : inputs) dtype = PromoteTypes(dtype, t.dtype());
  return dtype;
}

// PyTorch's legacy rule: cat skips 1-d tensors without elements, whatever the other shapes.
bool SkippedByCat(const Tensor& t) { return t.dim() == 1 && t.numel() == 0; }

TensorSpecs CatSpec(const OpCall& call) {
  const std::vector<Tensor>& inputs = call.inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dim() == 0) {
      ThrowError("cat: input %d is 0-d (shape []) and cannot be concatenated", i);
    }
  }
  const DType dtype = PromotedDType(inputs);
  size_t ref = 0;
  while (ref < inputs.size() && SkippedByCat(inputs[ref])) ++ref;
  if (ref == inputs.size()) {  // only skipped tensors: the result is empty too
    WrapDim(call.attrs.Get<int64_t>("dim"), 1, "cat");
    return {TensorSpec{{0}, dtype, inputs[0].device()}};
  }
  const Tensor& first = inputs[ref];
  const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), first.dim(), "cat");
  Shape sizes = first.sizes();
  sizes[dim] = 0;
  for (size_t i = ref; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (SkippedByCat(t)) continue;
    if (t.dim() != first.dim()) {
      ThrowError("cat: input %d has shape %s with %d dims, but input %d has shape %s with %d; "
                 "all inputs must have the same number of dims",
                 i, ShapeToString(t.sizes()), t.dim(), ref, ShapeToString(first.sizes()),
                 first.dim());
    }
    for (int64_t d = 0; d < t.dim(); ++d) {
      if (d != dim && t.size(d) != first.size(d)) {
        ThrowError("cat: input %d has shape %s, but input %d has shape %s: sizes must match "
                   "except in dim %d (they differ in dim %d)",
                   i, ShapeToString(t.sizes()), ref, ShapeToString(first.sizes()), dim, d);
      }
    }
    sizes[dim] += t.size(dim);
  }
  return {TensorSpec{std::move(sizes), dtype, first.device()}};
}

TensorSpecs StackSpec(const OpCall& call) {
  const std::vector<Tensor>& inputs = call.inputs;
  const Tensor& first = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (inputs[i].sizes() != first.sizes()) {
      ThrowError("stack: input %d has shape %s, but input 0 has shape %s; all inputs must "
                 "have the same shape",
                 i, ShapeToString(inputs[i].sizes()), ShapeToString(first.sizes()));
    }
  }
  const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), first.dim() + 1, "stack");
  Shape sizes = first.sizes();
  sizes.insert(sizes.begin() + dim, static_cast<int64_t>(inputs.size()));
  return {TensorSpec{std::move(sizes), PromotedDType(inputs), first.device()}};
}

TensorSpecs RepeatSpec(const OpCall& call) {
  CheckInputCount(call, 1);
  const Tensor& t = call.inputs[0];
  const Shape& repeats = call.attrs.Get<Shape>("repeats");
  const int64_t ndim = static_cast<int64_t>(repeats.size());
  if (ndim < t.dim()) {
    ThrowError("repeat: %d repeat counts %s given for a %d-d tensor of shape %s; give at "
               "least one per dim",
               ndim, ShapeToString(repeats), t.dim(), ShapeToString(t.sizes()));
  }
  Shape sizes(ndim);
  for (int64_t d = 0; d < ndim; ++d) {
    if (repeats[d] < 0) {
      ThrowError("repeat: repeat counts must be non-negative, got %s", ShapeToString(repeats));
    }
    const int64_t lead = ndim - t.dim();
    const int64_t size = d < lead ? 1 : t.size(d - lead);
    const std::optional<int64_t> repeated = CheckedMul(size, repeats[d]);
    if (!repeated) {
      ThrowError("repeat: repeating shape %s by %s overflows", ShapeToString(t.sizes()),
                 ShapeToString(repeats));
    }
    sizes[d] = *repeated;
  }
  return {TensorSpec{std::move(sizes), t.dtype(), t.device()}};
}

// Throws unless each element of the in-place output `self` is its own memory: zeroing an
// expanded view element by element would give a result that depends on the order.
void CheckWritable(const std::string& op, const Tensor& self) {
  if (MayHaveInternalOverlap(self.sizes(), self.strides())) {
    ThrowError("%s: the in-place output %s has elements that share memory (an expanded "
               "view?); write into a copy instead",
               op, self.ToString());
  }
}

TensorSpecs TriangleSpec(const OpCall& call) {
  CheckInputCount(call, 1);
  const Tensor& t = call.inputs[0];
  if (t.dim() < 2) {
    ThrowError("%s: expected a tensor with at least 2 dims, got shape %s", call.def->name,
               ShapeToString(t.sizes()));
  }
  if (call.def->kind == OpKind::kInPlace) CheckWritable(call.def->name, t);
  return {TensorSpec{t.sizes(), t.dtype(), t.device()}};
}

TensorSpecs OuterSpec(const OpCall& call) {
  CheckInputCount(call, 2);
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  if (a.dim() != 1 || b.dim() != 1) {
    ThrowError("outer: expected 1-d inputs, got shapes %s and %s", ShapeToString(a.sizes()),
               ShapeToString(b.sizes()));
  }
  return {TensorSpec{{a.size(0), b.size(0)}, PromoteTypes(a.dtype(), b.dtype()), a.device()}};
}

TensorSpecs MatmulSpec(const OpCall& call) {
  CheckInputCount(call, 2);
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  const std::string a_shape = ShapeToString(a.sizes());
  const std::string b_shape = ShapeToString(b.sizes());
  if (a.dim() == 0 || b.dim() == 0) {
    ThrowError("matmul: both inputs need at least 1 dim, got shapes %s and %s", a_shape,
               b_shape);
  }
  for (int i = 0; i < 2; ++i) {
    if (call.inputs[i].dtype() == DType::kBool) {
      ThrowError("matmul: bool inputs are not supported (input %d of shapes %s and %s is "
                 "bool); convert with to()",
                 i, a_shape, b_shape);
    }
  }
  // A 1-d left operand is a row [1, k]; a 1-d right operand a column [k, 1].
  const int64_t k_a = a.size(-1);
  const int64_t k_b = b.dim() == 1 ? b.size(0) : b.size(-2);
  if (k_a != k_b) {
    ThrowError("matmul: shapes %s and %s cannot be multiplied (inner sizes %d and %d differ)",
               a_shape, b_shape, k_a, k_b);
  }
  const Shape a_batch(a.sizes().begin(), a.sizes().end() - std::min<int64_t>(a.dim(), 2));
  const Shape b_batch(b.sizes().begin(), b.sizes().end() - std::min<int64_t>(b.dim(), 2));
  const size_t batch_dims = std::max(a_batch.size(), b_batch.size());
  // Size of dim i of the broadcast batch in `batch` (trailing-aligned; 1 where absent).
  auto batch_size = [batch_dims](const Shape& batch, size_t i) {
    const size_t lead = batch_dims - batch.size();
    return i < lead ? int64_t{1} : batch[i - lead];
  };
  Shape sizes(batch_dims);
  for (size_t i = 0; i < batch_dims; ++i) {
    const int64_t sa = batch_size(a_batch, i);
    const int64_t sb = batch_size(b_batch, i);
    if (sa != sb && sa != 1 && sb != 1) {
      ThrowError("matmul: the batch dims of shapes %s and %s do not broadcast (%s vs %s)",
                 a_shape, b_shape, ShapeToString(a_batch), ShapeToString(b_batch));
    }
    sizes[i] = sa == 1 ? sb : sa;
  }
  if (a.dim() >= 2) sizes.push_back(a.size(-2));
  if (b.dim() >= 2) sizes.push_back(b.size(-1));
  return {TensorSpec{std::move(sizes), PromoteTypes(a.dtype(), b.dtype()), a.device()}};
}

// Region rules. Each maps the output region back onto the inputs exactly; ops whose
// restricted inputs would not give the restricted output (repeat, stack) have none.

// tril/triu of a block [r0:r1, c0:c1] is tril/triu of the block with the diagonal moved by
// r0 - c0: element (i, j) of the block is element (r0 + i, c0 + j) of the whole.
std::optional<RegionPlan> TriangleRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Region& region = outputs[0];
  const int64_t rows = region.rank() - 2, cols = region.rank() - 1;
  const Tensor& t = call.inputs[0];
  // j - i lies in [-(R - 1), C - 1], so clamping the diagonal to [-R, C] changes nothing
  // and keeps the shifted diagonal from overflowing.
  const int64_t diagonal =
      std::clamp(call.attrs.Get<int64_t>("diagonal"), -t.size(rows), t.size(cols));
  RegionPlan plan{{region}, call.attrs};
  plan.attrs.Set("diagonal", diagonal + region.start[rows] - region.start[cols]);
  return plan;
}

// outer(a, b)[rows, cols] reads a[rows] and b[cols].
std::optional<RegionPlan> OuterRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Region& region = outputs[0];
  return RegionPlan{{Region{{region.start[0]}, {region.stop[0]}},
                     Region{{region.start[1]}, {region.stop[1]}}},
                    call.attrs};
}

// Batched matmul keeps rows of a and columns of b; the inner dim is read whole and the
// batch dims are projected through broadcasting. 1-d operands compute whole outputs.
std::optional<RegionPlan> MatmulRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  if (a.dim() < 2 || b.dim() < 2) return std::nullopt;
  const Region& out = outputs[0];
  const int64_t batch = out.rank() - 2;
  auto operand = [&](const Tensor& t, int64_t kept_out_dim, int64_t kept_dim) {
    Region batch_region{Shape(out.start.begin(), out.start.begin() + batch),
                        Shape(out.stop.begin(), out.stop.begin() + batch)};
    const Shape t_batch(t.sizes().begin(), t.sizes().end() - 2);
    Region r = ProjectBroadcast(batch_region, t_batch);
    r.start.resize(t.dim(), 0);
    r.stop.resize(t.dim());
    r.stop[t.dim() - 2] = t.size(-2);
    r.stop[t.dim() - 1] = t.size(-1);
    r.start[kept_dim] = out.start[kept_out_dim];
    r.stop[kept_dim] = out.stop[kept_out_dim];
    return r;
  };
  return RegionPlan{{operand(a, batch, a.dim() - 2), operand(b, batch + 1, b.dim() - 1)},
                    call.attrs};
}

// Each part of a cat reads the part of the region that falls in it (possibly nothing).
std::optional<RegionPlan> CatRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Region& out = outputs[0];
  for (const Tensor& t : call.inputs) {
    if (SkippedByCat(t) && out.rank() != 1) return std::nullopt;
  }
  const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), out.rank(), "cat");
  RegionPlan plan{{}, call.attrs};
  int64_t offset = 0;
  for (const Tensor& t : call.inputs) {
    Region r = out;
    const int64_t size = t.size(dim);
    r.start[dim] = std::clamp<int64_t>(out.start[dim] - offset, 0, size);
    r.stop[dim] = std::clamp<int64_t>(out.stop[dim] - offset, r.start[dim], size);
    plan.inputs.push_back(std::move(r));
    offset += size;
  }
  return plan;
}

TensorSpecs QrQSpec(const OpCall& call) {
  CheckInputCount(call, 1);
  const Tensor& a = call.inputs[0];
  if (a.dim() != 2 || a.size(0) < a.size(1)) {
    ThrowError("qr_q: expected a 2-d tensor [m, n] with m >= n, got %s",
               ShapeToString(a.sizes()));
  }
  if (!IsFloatingPoint(a.dtype())) {
    ThrowError("qr_q: expected a floating dtype, got %s", DTypeName(a.dtype()));
  }
  return {TensorSpec{a.sizes(), a.dtype(), a.device()}};
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterOp(OpDef{.name = "qr_q", .shape_rule = QrQSpec});
  registry.RegisterOp(OpDef{.name = "cat",
                            .attrs = {{"dim", AttrType::kInt}},
                            .shape_rule = CatSpec,
                            .region_rule = CatRegion});
  registry.RegisterOp(
      OpDef{.name = "stack", .attrs = {{"dim", AttrType::kInt}}, .shape_rule = StackSpec});
  registry.RegisterOp(OpDef{
      .name = "repeat", .attrs = {{"repeats", AttrType::kShape}}, .shape_rule = RepeatSpec});
  for (const char* name : {"tril", "triu"}) {
    registry.RegisterOp(OpDef{.name = name,
                              .attrs = {{"diagonal", AttrType::kInt}},
                              .shape_rule = TriangleSpec,
                              .region_rule = TriangleRegion});
    registry.RegisterOp(OpDef{.name = std::string(name) + "_",
                              .kind = OpKind::kInPlace,
                              .attrs = {{"diagonal", AttrType::kInt}},
                              .shape_rule = TriangleSpec,
                              .region_rule = TriangleRegion});
  }
  registry.RegisterOp(OpDef{.name = "outer", .shape_rule = OuterSpec, .region_rule = OuterRegion});
  registry.RegisterOp(
      OpDef{.name = "matmul", .shape_rule = MatmulSpec, .region_rule = MatmulRegion});
  return true;
}();

}  // namespace

Tensor qr_q(const Tensor& a, CallSite site) { return DispatchOne("qr_q", {a}, {}, site); }

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim, CallSite site) {
  return DispatchOne("cat", tensors, Attrs{{"dim", dim}}, site);
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim, CallSite site) {
  return DispatchOne("stack", tensors, Attrs{{"dim", dim}}, site);
}

Tensor repeat(const Tensor& t, const Shape& repeats, CallSite site) {
  return DispatchOne("repeat", {t}, Attrs{{"repeats", repeats}}, site);
}

Tensor tril(const Tensor& t, int64_t diagonal, CallSite site) {
  return DispatchOne("tril", {t}, Attrs{{"diagonal", diagonal}}, site);
}
Tensor triu(const Tensor& t, int64_t diagonal, CallSite site) {
  return DispatchOne("triu", {t}, Attrs{{"diagonal", diagonal}}, site);
}
Tensor tril_(const Tensor& self, int64_t diagonal, CallSite site) {
  return DispatchOne("tril_", {self}, Attrs{{"diagonal", diagonal}}, site);
}
Tensor triu_(const Tensor& self, int64_t diagonal, CallSite site) {
  return DispatchOne("triu_", {self}, Attrs{{"diagonal", diagonal}}, site);
}

Tensor outer(const Tensor& a, const Tensor& b, CallSite site) {
  return DispatchOne("outer", {a, b}, {}, site);
}

Tensor matmul(const Tensor& a, const Tensor& b, CallSite site) {
  return DispatchOne("matmul", {a, b}, {}, site);
}

}  // namespace deferred
