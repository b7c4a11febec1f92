#ifndef DEFERRED_CUDA_KERNELS_KERNEL_ARGS_H_
#define DEFERRED_CUDA_KERNELS_KERNEL_ARGS_H_

#include <string>
#include <string_view>

#include "cuda_kernels/constant_fill.h"
#include "cuda_kernels/indexed_fill.h"
#include "cuda_kernels/matmul.h"
#include "cuda_kernels/random_fill.h"
#include "cuda_kernels/reduction.h"
#include "cuda_kernels/strided_copy.h"
#include "cuda_kernels/triangle.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/tensor.h"

namespace deferred::cuda {

// The arguments each CUDA kernel takes, read on the host from an op's call: plain structs
// of layouts, dtypes and device addresses that a launch copies to the GPU.

// The names of the ops RandomFillArgsOf takes: the random ops of fake_tensor/ops/random.h.
inline constexpr std::string_view kRandomFillOps[] = {"uniform_", "normal_", "trunc_normal_",
                                                      "random_", "bernoulli_"};

// The fill of random op `call` into `out` (input 0 of the call, on the device that runs
// the fill): its parameters from the call's attrs, its Philox coordinates ("seed",
// "offset"), and its layout, which maps each element of `out` to its index in the op's
// stream (through "region_start" and "full_sizes" when replay restricted the call to a
// region, as GlobalIndexMapOf does for the CPU). Throws `Error` for an op that is not one
// of kRandomFillOps, a dtype the op does not take, or a layout of more than kMaxLayoutDims
// dims after merging.
RandomFillArgs RandomFillArgsOf(const OpCall& call, const Tensor& out);

// The fill of `out` with attr "value" (full, fill_), cast to out's dtype as the CPU
// kernels cast it (Scalar::to). An expanded `out` (stride 0) is filled through one index
// per address. Throws `Error` like RandomFillArgsOf.
ConstantFillArgs ConstantFillArgsOf(const OpCall& call, const Tensor& out);

// The fill of factory `call` (arange, linspace, eye) into `out`: each element from its
// index in the whole tensor (through the region attrs when replay restricted the call).
// Throws `Error` like RandomFillArgsOf.
IndexedFillArgs IndexedFillArgsOf(const OpCall& call, const Tensor& out);

// tril or triu (in place or not) of `call` writing `out`. Throws `Error` like
// RandomFillArgsOf.
TriangleArgs TriangleArgsOf(const OpCall& call, const Tensor& out);

// Reduction `call` (sum, mean, var, std, min, max) writing `out`. Throws `Error` like
// RandomFillArgsOf.
ReductionArgs ReductionArgsOf(const OpCall& call, const Tensor& out);

// cumsum or argsort `call` writing `out`. Throws `Error` like RandomFillArgsOf.
LineArgs LineArgsOf(const OpCall& call, const Tensor& out);

// matmul(a, b) writing `out`, reading a_packed and b_packed: a and b in out's op-math
// dtype, contiguous (the CPU kernel's operands). Throws `Error` for more than
// kMaxLayoutDims batch dims.
MatmulArgs MatmulArgsOf(const Tensor& out, const Tensor& a, const Tensor& b,
                        const Tensor& a_packed, const Tensor& b_packed);

// The copy of `src` into `dst` (both on the device that runs it), src broadcast to dst's
// sizes as the CPU's copy_ broadcasts it, for op `op` (named in errors). Throws `Error`
// like RandomFillArgsOf, or when src does not broadcast to dst.
StridedCopyArgs StridedCopyArgsOf(const std::string& op, const Tensor& dst, const Tensor& src);

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_KERNEL_ARGS_H_
