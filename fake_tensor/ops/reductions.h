#ifndef DEFERRED_FAKE_TENSOR_OPS_REDUCTIONS_H_
#define DEFERRED_FAKE_TENSOR_OPS_REDUCTIONS_H_

#include <cstdint>
#include <initializer_list>

#include "fake_tensor/call_site.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// Reductions with PyTorch's semantics. The forms without `dims` reduce every element to a
// 0-d tensor. `dims` lists the dims to reduce (negative ones count from the end); an empty
// list means all dims. The reduced dims are removed from the result, or kept with size 1
// when `keepdim`. Each throws `Error` naming the op for a dim out of range or listed twice
// (after wrapping), and as noted below; dtypes and shapes are checked without data.
//
// Arithmetic, fixed so that every device reproduces it bit for bit: each output element is
// reduced by one thread, sequentially, over its reduced elements in row-major order of the
// reduced indices, so the result does not depend on the thread count (and a reduction to a
// single element runs on one thread). Sums accumulate as acc = acc + x from acc = 0, in
// double for floating inputs and in int64 (wrapping) for integer and bool inputs, and are
// converted once to the result dtype at the end (CastElement; for the 16-bit floats that
// goes through float32, as every cast here does).

// Sum of the elements. Integer and bool inputs give int64; floating inputs keep their dtype.
// An empty reduction gives 0.
Tensor sum(const Tensor& t, CallSite site = CallSite::Here());
Tensor sum(const Tensor& t, const Shape& dims, bool keepdim = false,
           CallSite site = CallSite::Here());

// The sum (in double, as above) divided by the element count in double, then converted.
// Requires a floating dtype (throws for integers and bool: convert with to()). An empty
// reduction gives NaN.
Tensor mean(const Tensor& t, CallSite site = CallSite::Here());
Tensor mean(const Tensor& t, const Shape& dims, bool keepdim = false,
            CallSite site = CallSite::Here());

// Variance in two passes, all in double: the mean (as `mean`), then the sum of squared
// deviations d * d with d = x - mean, divided by max(0, N - correction) for N reduced
// elements (so a non-positive divisor gives inf, or NaN for 0 / 0, as in PyTorch). std is
// the square root of the double variance; each is converted once at the end. Requires a
// floating dtype. The initializer_list forms make `var(t, {1})` reduce dim 1 rather than
// read {1} as the correction.
Tensor var(const Tensor& t, int64_t correction = 1, CallSite site = CallSite::Here());
Tensor var(const Tensor& t, const Shape& dims, bool keepdim = false, int64_t correction = 1,
           CallSite site = CallSite::Here());
Tensor var(const Tensor& t, std::initializer_list<int64_t> dims, bool keepdim = false,
           int64_t correction = 1, CallSite site = CallSite::Here());
Tensor std(const Tensor& t, int64_t correction = 1, CallSite site = CallSite::Here());
Tensor std(const Tensor& t, const Shape& dims, bool keepdim = false, int64_t correction = 1,
           CallSite site = CallSite::Here());
Tensor std(const Tensor& t, std::initializer_list<int64_t> dims, bool keepdim = false,
           int64_t correction = 1, CallSite site = CallSite::Here());

// Smallest / largest element (torch.amin / torch.amax when given dims), keeping t's dtype
// (bool included); compared in the op-math type. NaN propagates: a reduction that meets a
// NaN gives the first NaN in row-major order. Among equal values (0.0 and -0.0) the first
// is kept. Throws when a reduced dim has size 0 (or, without dims, t has no elements).
Tensor min(const Tensor& t, CallSite site = CallSite::Here());
Tensor min(const Tensor& t, const Shape& dims, bool keepdim = false,
           CallSite site = CallSite::Here());
Tensor max(const Tensor& t, CallSite site = CallSite::Here());
Tensor max(const Tensor& t, const Shape& dims, bool keepdim = false,
           CallSite site = CallSite::Here());

// The p-norm over `dims` (all for an empty list), as torch.linalg.vector_norm: (sum |x|^p)
// ^ (1/p); p = 2 is sqrt(sum(x * x)), p = 1 sum(|x|), p = inf max(|x|), p = -inf min(|x|),
// p = 0 the count of nonzeros. Composed of the ops above and elementwise ops (so their
// arithmetic); requires a floating dtype.
Tensor norm(const Tensor& t, double p = 2.0, CallSite site = CallSite::Here());
Tensor norm(const Tensor& t, double p, const Shape& dims, bool keepdim = false,
            CallSite site = CallSite::Here());

// Running sums along `dim`: element i is the sum of elements 0..i of its line, accumulated
// sequentially from 0 as the sums above are (in double for floating inputs, wrapping int64
// for integer and bool inputs, which give int64). A 0-d tensor takes dim 0 or -1 and gives
// itself. Replay computes a region of the output from the input's prefix along `dim` up to
// the region's end (attr "start": the first index the output holds).
Tensor cumsum(const Tensor& t, int64_t dim, CallSite site = CallSite::Here());

// The int64 indices that sort each line of `t` along `dim`, ascending (descending when
// `descending`), as torch.argsort(stable=True): equal values keep their order, NaNs
// sort last (first when descending), values compare in the op-math type. A 0-d tensor
// gives 0. Replay restricts it along the other dims only: a line is sorted whole.
Tensor argsort(const Tensor& t, int64_t dim = -1, bool descending = false,
               CallSite site = CallSite::Here());

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_REDUCTIONS_H_
