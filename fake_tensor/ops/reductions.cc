#include "fake_tensor/ops/reductions.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/elementwise.h"

namespace deferred {
namespace {

enum class ResultDType {
  kSum,       // integers and bool give int64; floating dtypes are kept
  kFloating,  // mean, var, std: the input's, which must be floating
  kSame,      // min, max
};

struct Reduction {
  const char* name;
  ResultDType result;
  bool corrected = false;  // takes attr "correction" (var, std)
};

constexpr Reduction kReductions[] = {
    {"sum", ResultDType::kSum},
    {"mean", ResultDType::kFloating},
    {"var", ResultDType::kFloating, /*corrected=*/true},
    {"std", ResultDType::kFloating, /*corrected=*/true},
    {"min", ResultDType::kSame},
    {"max", ResultDType::kSame},
};

// Which of t's dims `dims` reduces (all for an empty list). Throws for a dim out of range
// or listed twice.
std::vector<bool> ReducedDims(const std::string& op, const Tensor& t, const Shape& dims) {
  const int64_t ndim = t.dim();
  std::vector<bool> reduced(ndim, dims.empty());
  std::vector<bool> seen(std::max<int64_t>(ndim, 1), false);  // a 0-d tensor has dim 0
  for (int64_t dim : dims) {
    const int64_t d = WrapDim(dim, ndim, op);
    if (seen[d]) {
      ThrowError("%s: dim %d appears more than once in dims %s", op, d, ShapeToString(dims));
    }
    seen[d] = true;
    if (d < ndim) reduced[d] = true;
  }
  return reduced;
}

DType ResultFrom(const std::string& op, DType input, ResultDType rule) {
  switch (rule) {
    case ResultDType::kSum: return IsFloatingPoint(input) ? input : DType::kInt64;
    case ResultDType::kFloating:
      if (!IsFloatingPoint(input)) {
        ThrowError("%s: expected a floating dtype, got %s; convert with to() first", op,
                   DTypeName(input));
      }
      return input;
    case ResultDType::kSame: return input;
  }
  return input;
}

TensorSpecs ReductionSpec(const OpCall& call, const Reduction& reduction) {
  const std::string& op = call.def->name;
  if (call.inputs.size() != 1) {
    ThrowError("%s: expected 1 tensor input, got %d", op, call.inputs.size());
  }
  const Tensor& t = call.inputs[0];
  const Shape& dims = call.attrs.Get<Shape>("dims");
  const bool keepdim = call.attrs.Get<bool>("keepdim");
  const DType dtype = ResultFrom(op, t.dtype(), reduction.result);
  const std::vector<bool> reduced = ReducedDims(op, t, dims);
  Shape sizes;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (reduced[d] && reduction.result == ResultDType::kSame && t.size(d) == 0) {
      ThrowError("%s: cannot reduce dim %d of size 0 (input shape %s): an empty %s is "
                 "undefined",
                 op, d, ShapeToString(t.sizes()), op);
    }
    if (!reduced[d]) {
      sizes.push_back(t.size(d));
    } else if (keepdim) {
      sizes.push_back(1);
    }
  }
  return {TensorSpec{std::move(sizes), dtype, t.device()}};
}

// Kept dims read the output region's range; reduced dims are read whole.
std::optional<RegionPlan> ReductionRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Tensor& t = call.inputs[0];
  const bool keepdim = call.attrs.Get<bool>("keepdim");
  const std::vector<bool> reduced = ReducedDims(call.def->name, t, call.attrs.Get<Shape>("dims"));
  Region in = Region::Full(t.sizes());
  int64_t out_dim = 0;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (!reduced[d]) {
      in.start[d] = outputs[0].start[out_dim];
      in.stop[d] = outputs[0].stop[out_dim];
    }
    if (!reduced[d] || keepdim) ++out_dim;
  }
  return RegionPlan{{std::move(in)}, call.attrs};
}

// The dim a cumsum call runs along (0 for a 0-d input) and the first index its output
// holds.
std::pair<int64_t, int64_t> CumsumDimAndStart(const OpCall& call) {
  const Tensor& t = call.inputs[0];
  const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), std::max<int64_t>(t.dim(), 1),
                              "cumsum");
  const int64_t start = call.attrs.Get<int64_t>("start");
  const int64_t size = t.dim() == 0 ? 1 : t.size(dim);
  if (start < 0 || start > size || (t.dim() == 0 && start != 0)) {
    ThrowError("cumsum: start %d is outside dim %d of size %d", start, dim, size);
  }
  return {dim, start};
}

TensorSpecs CumsumSpec(const OpCall& call) {
  if (call.inputs.size() != 1) {
    ThrowError("cumsum: expected 1 tensor input, got %d", call.inputs.size());
  }
  const Tensor& t = call.inputs[0];
  const auto [dim, start] = CumsumDimAndStart(call);
  Shape sizes = t.sizes();
  if (t.dim() > 0) sizes[dim] -= start;
  return {TensorSpec{std::move(sizes), ResultFrom("cumsum", t.dtype(), ResultDType::kSum),
                     t.device()}};
}

// Other dims read the output region's range; `dim` reads the prefix up to the region's
// end, and the restricted run starts its output at the region's start.
std::optional<RegionPlan> CumsumRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Tensor& t = call.inputs[0];
  Region in = outputs[0];
  RegionPlan plan{{}, call.attrs};
  if (t.dim() > 0) {
    const auto [dim, start] = CumsumDimAndStart(call);
    in.start[dim] = 0;
    in.stop[dim] = start + outputs[0].stop[dim];
    plan.attrs.Set("start", start + outputs[0].start[dim]);
  }
  plan.inputs.push_back(std::move(in));
  return plan;
}

TensorSpecs ArgsortSpec(const OpCall& call) {
  if (call.inputs.size() != 1) {
    ThrowError("argsort: expected 1 tensor input, got %d", call.inputs.size());
  }
  const Tensor& t = call.inputs[0];
  WrapDim(call.attrs.Get<int64_t>("dim"), std::max<int64_t>(t.dim(), 1), "argsort");
  call.attrs.Get<bool>("descending");
  return {TensorSpec{t.sizes(), DType::kInt64, t.device()}};
}

// The other dims read the output region's range; a region that takes part of a line
// cannot be restricted (every index of a line depends on all its values).
std::optional<RegionPlan> ArgsortRegion(const OpCall& call, absl::Span<const Region> outputs) {
  const Tensor& t = call.inputs[0];
  if (t.dim() > 0) {
    const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), t.dim(), "argsort");
    if (outputs[0].start[dim] != 0 || outputs[0].stop[dim] != t.size(dim)) return std::nullopt;
  }
  return RegionPlan{{outputs[0]}, call.attrs};
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterOp(OpDef{.name = "cumsum",
                            .attrs = {{"dim", AttrType::kInt}, {"start", AttrType::kInt}},
                            .shape_rule = CumsumSpec,
                            .region_rule = CumsumRegion});
  registry.RegisterOp(OpDef{.name = "argsort",
                            .attrs = {{"dim", AttrType::kInt}, {"descending", AttrType::kBool}},
                            .shape_rule = ArgsortSpec,
                            .region_rule = ArgsortRegion});
  for (const Reduction& reduction : kReductions) {
    std::vector<AttrSpec> attrs = {{"dims", AttrType::kShape}, {"keepdim", AttrType::kBool}};
    if (reduction.corrected) attrs.push_back({"correction", AttrType::kInt});
    registry.RegisterOp(OpDef{.name = reduction.name,
                              .attrs = std::move(attrs),
                              .shape_rule = [reduction](const OpCall& call) {
                                return ReductionSpec(call, reduction);
                              },
                              .region_rule = ReductionRegion});
  }
  return true;
}();

Tensor Reduce(const char* op, const Tensor& t, const Shape& dims, bool keepdim, CallSite site) {
  return DispatchOne(op, {t}, Attrs{{"dims", dims}, {"keepdim", keepdim}}, site);
}

Tensor ReduceWithCorrection(const char* op, const Tensor& t, const Shape& dims, bool keepdim,
                            int64_t correction, CallSite site) {
  return DispatchOne(op, {t},
                     Attrs{{"dims", dims}, {"keepdim", keepdim}, {"correction", correction}},
                     site);
}

}  // namespace

Tensor sum(const Tensor& t, CallSite site) { return Reduce("sum", t, {}, false, site); }
Tensor sum(const Tensor& t, const Shape& dims, bool keepdim, CallSite site) {
  return Reduce("sum", t, dims, keepdim, site);
}

Tensor mean(const Tensor& t, CallSite site) { return Reduce("mean", t, {}, false, site); }
Tensor mean(const Tensor& t, const Shape& dims, bool keepdim, CallSite site) {
  return Reduce("mean", t, dims, keepdim, site);
}

Tensor var(const Tensor& t, int64_t correction, CallSite site) {
  return ReduceWithCorrection("var", t, {}, false, correction, site);
}
Tensor var(const Tensor& t, const Shape& dims, bool keepdim, int64_t correction, CallSite site) {
  return ReduceWithCorrection("var", t, dims, keepdim, correction, site);
}
Tensor var(const Tensor& t, std::initializer_list<int64_t> dims, bool keepdim, int64_t correction,
           CallSite site) {
  return ReduceWithCorrection("var", t, Shape(dims), keepdim, correction, site);
}

Tensor std(const Tensor& t, int64_t correction, CallSite site) {
  return ReduceWithCorrection("std", t, {}, false, correction, site);
}
Tensor std(const Tensor& t, const Shape& dims, bool keepdim, int64_t correction, CallSite site) {
  return ReduceWithCorrection("std", t, dims, keepdim, correction, site);
}
Tensor std(const Tensor& t, std::initializer_list<int64_t> dims, bool keepdim, int64_t correction,
           CallSite site) {
  return ReduceWithCorrection("std", t, Shape(dims), keepdim, correction, site);
}

Tensor min(const Tensor& t, CallSite site) { return Reduce("min", t, {}, false, site); }
Tensor min(const Tensor& t, const Shape& dims, bool keepdim, CallSite site) {
  return Reduce("min", t, dims, keepdim, site);
}

Tensor max(const Tensor& t, CallSite site) { return Reduce("max", t, {}, false, site); }

Tensor norm(const Tensor& t, double p, CallSite site) { return norm(t, p, {}, false, site); }
Tensor norm(const Tensor& t, double p, const Shape& dims, bool keepdim, CallSite site) {
  if (!IsFloatingPoint(t.dtype())) {
    ThrowError("norm: expected a floating dtype, got %s; convert with to() first",
               DTypeName(t.dtype()));
  }
  if (std::isinf(p)) {
    return p > 0 ? max(abs(t, site), dims, keepdim, site) : min(abs(t, site), dims, keepdim, site);
  }
  if (p == 0) return sum(to(ne(t, 0, site), t.dtype(), site), dims, keepdim, site);
  if (p == 1) return sum(abs(t, site), dims, keepdim, site);
  if (p == 2) return sqrt(sum(mul(t, t, site), dims, keepdim, site), site);
  return pow(sum(pow(abs(t, site), p, site), dims, keepdim, site), 1.0 / p, site);
}

Tensor argsort(const Tensor& t, int64_t dim, bool descending, CallSite site) {
  return DispatchOne("argsort", {t}, Attrs{{"dim", dim}, {"descending", descending}}, site);
}

Tensor cumsum(const Tensor& t, int64_t dim, CallSite site) {
  return DispatchOne("cumsum", {t}, Attrs{{"dim", dim}, {"start", int64_t{0}}}, site);
}
Tensor max(const Tensor& t, const Shape& dims, bool keepdim, CallSite site) {
  return Reduce("max", t, dims, keepdim, site);
}

}  // namespace deferred
