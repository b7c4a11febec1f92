#include "replay/math/reduction_walks.h"

#include <vector>

namespace deferred::math {

ReductionWalk ReductionWalkOf(const OpCall& call, const Tensor& out) {
  const Tensor& input = call.inputs[0];
  const Shape& dims = call.attrs.Get<Shape>("dims");
  const bool keepdim = call.attrs.Get<bool>("keepdim");
  const int64_t ndim = input.dim();
  std::vector<bool> reduced(ndim, dims.empty());
  for (int64_t dim : dims) {
    const int64_t d = WrapDim(dim, ndim, call.def->name);
    if (d < ndim) reduced[d] = true;
  }
  ReductionWalk walk;
  int64_t out_dim = 0;
  for (int64_t d = 0; d < ndim; ++d) {
    const int64_t size = input.size(d);
    const int64_t stride = input.stride(d);
    if (!reduced[d]) {
      walk.kept_sizes.push_back(size);
      walk.kept_input_strides.push_back(stride);
      walk.kept_output_strides.push_back(out.stride(out_dim++));
      continue;
    }
    if (keepdim) ++out_dim;
    walk.count *= size;
    if (size == 1) continue;
    if (!walk.reduced_sizes.empty() && walk.reduced_strides.back() == stride * size) {
      walk.reduced_sizes.back() *= size;
      walk.reduced_strides.back() = stride;
    } else {
      walk.reduced_sizes.push_back(size);
      walk.reduced_strides.push_back(stride);
    }
  }
  return walk;
}

LineWalk LineWalkOf(const OpCall& call, const Tensor& out) {
  const Tensor& input = call.inputs[0];
  LineWalk walk{input.sizes(), input.strides(), out.strides()};
  if (input.dim() > 0) {
    const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), input.dim(), call.def->name);
    walk.length = walk.line_sizes[dim];
    walk.in_step = walk.in_strides[dim];
    walk.out_step = walk.out_strides[dim];
    walk.line_sizes.erase(walk.line_sizes.begin() + dim);
    walk.in_strides.erase(walk.in_strides.begin() + dim);
    walk.out_strides.erase(walk.out_strides.begin() + dim);
  }
  walk.lines = NumElements(walk.line_sizes);
  return walk;
}

}  // namespace deferred::math
