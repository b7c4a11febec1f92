#ifndef DEFERRED_REPLAY_MATH_REDUCTION_WALKS_H_
#define DEFERRED_REPLAY_MATH_REDUCTION_WALKS_H_

// How the reductions and the ops over lines along a dim walk their input and output, one
// definition for the CPU kernels (replay/kernels/reduction_kernels.cc) and the CUDA kernels
// (cuda_kernels/kernel_args.cc), which differ only in how they run the walk.

#include <cstdint>

#include "fake_tensor/op_registry.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred::math {

// Reduction `call` (attrs "dims", "keepdim") writing `out`: output element o reads the
// input from OffsetOf(o, kept_sizes, kept_input_strides) over the reduced index space, in
// row-major order of the reduced indices, and is written at OffsetOf(o, kept_sizes,
// kept_output_strides).
struct ReductionWalk {
  Shape kept_sizes;  // the output's index space: the kept dims, in order
  Shape kept_input_strides;
  Shape kept_output_strides;
  // The reduced dims in order, without size-1 dims, adjacent ones merged where the input
  // steps through them as one dim (which keeps the row-major visiting order).
  Shape reduced_sizes;
  Shape reduced_strides;
  int64_t count = 1;  // reduced elements per output element
};
ReductionWalk ReductionWalkOf(const OpCall& call, const Tensor& out);

// An op over whole lines along attr "dim" (cumsum, argsort) writing `out`: line l starts at
// OffsetOf(l, line_sizes, {in,out}_strides) and steps by {in,out}_step along the dim,
// `length` elements. A 0-d tensor is one line of one element.
struct LineWalk {
  Shape line_sizes;
  Shape in_strides;
  Shape out_strides;
  int64_t length = 1;
  int64_t in_step = 0;
  int64_t out_step = 0;
  int64_t lines = 1;
};
LineWalk LineWalkOf(const OpCall& call, const Tensor& out);

}  // namespace deferred::math

#endif  // DEFERRED_REPLAY_MATH_REDUCTION_WALKS_H_
