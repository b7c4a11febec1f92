#ifndef DEFERRED_REPLAY_MATH_COPY_VIEWS_H_
#define DEFERRED_REPLAY_MATH_COPY_VIEWS_H_

// The ops that only move elements (cat, stack, repeat) as strided copies between views,
// one definition for the CPU kernels (replay/kernels/shape_kernels.cc) and the CUDA
// kernels (cuda_kernels/kernels.cc), which differ only in the copy they run.

#include <utility>
#include <vector>

#include "fake_tensor/op_registry.h"
#include "fake_tensor/tensor.h"

namespace deferred::math {

// A copy of `source` (broadcast to, and cast to the dtype of) `destination`.
struct ViewCopy {
  Tensor destination;
  Tensor source;
};

// cat(inputs, dim) into `out`: each input with elements into its slice along dim.
std::vector<ViewCopy> CatCopies(const OpCall& call, const Tensor& out);

// stack(inputs, dim) into `out`: input i into index i of dim.
std::vector<ViewCopy> StackCopies(const OpCall& call, const Tensor& out);

// repeat(input, repeats) into `out`: output dim d, of size repeats[d] * size, viewed as
// two dims [repeats[d], size], and the input (given leading dims of size 1) broadcast
// along each first one: one copy.
ViewCopy RepeatCopy(const OpCall& call, const Tensor& out);

// outer(a, b)'s a as an [n, 1] column, which broadcasts against b's [m] row.
Tensor OuterColumn(const Tensor& a);

}  // namespace deferred::math

#endif  // DEFERRED_REPLAY_MATH_COPY_VIEWS_H_
