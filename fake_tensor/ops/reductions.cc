#include "fake_tensor/ops/reductions.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"

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
};

constexpr Reduction kReductions[] = {
    {"sum", ResultDType::kSum},      {"mean", ResultDType::kFloating},
    {"var", ResultDType::kFloating}, {"std", ResultDType::kFloating},
    {"min", ResultDType::kSame},     {"max", ResultDType::kSame},
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

std::vector<TensorSpec> ReductionSpec(const OpCall& call, const Reduction& reduction) {
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
std::optional<RegionPlan> ReductionRegion(const OpCall& call, const std::vector<Region>& outputs) {
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

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  for (const Reduction& reduction : kReductions) {
    registry.RegisterOp(OpDef{.name = reduction.name,
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
Tensor max(const Tensor& t, const Shape& dims, bool keepdim, CallSite site) {
  return Reduce("max", t, dims, keepdim, site);
}

}  // namespace deferred
