#ifndef DEFERRED_FAKE_TENSOR_OPS_VIEWS_H_
#define DEFERRED_FAKE_TENSOR_OPS_VIEWS_H_

#include <cstdint>
#include <limits>

#include "fake_tensor/call_site.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// View ops, with PyTorch's semantics. A view shares its input's storage (writes through
// it reach the input) and differs only in sizes, strides and storage offset, so it works
// alike on real, meta and fake tensors. Dims may be negative (counted from the end). Each
// throws `Error` naming the op and the offending values on misuse.

// `t`'s elements, in row-major order, with shape `sizes`; one size may be -1 (inferred).
// Throws when the sizes do not hold t.numel() elements, or when no strides express the
// new shape over t's layout (a dim would span two non-adjacent chunks: use reshape).
Tensor view(const Tensor& t, const Shape& sizes, CallSite site = CallSite::Here());

// Like view, but where no strides express the new shape, a view of a contiguous copy.
Tensor reshape(const Tensor& t, const Shape& sizes, CallSite site = CallSite::Here());

// Elements [start, start + length) of `dim`; a negative start counts from the end.
// Throws for a 0-d tensor, a negative length, or a range outside the dim.
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length,
              CallSite site = CallSite::Here());

// Elements start, start + step, ... below end of `dim`, as Python's t[start:end:step]:
// negative start/end count from the end, and both are clamped to the dim. Throws for a
// 0-d tensor or step < 1.
Tensor slice(const Tensor& t, int64_t dim, int64_t start = 0,
             int64_t end = std::numeric_limits<int64_t>::max(), int64_t step = 1,
             CallSite site = CallSite::Here());

// The slice at `index` of `dim`, which is removed; a negative index counts from the end.
// Throws for a 0-d tensor or an index outside the dim.
Tensor select(const Tensor& t, int64_t dim, int64_t index, CallSite site = CallSite::Here());

// `t` with dims `dim0` and `dim1` swapped.
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1, CallSite site = CallSite::Here());

// Dim i of the result is dim dims[i] of `t`. Throws unless `dims` is a permutation of t's
// dims.
Tensor permute(const Tensor& t, const Shape& dims, CallSite site = CallSite::Here());

// `t` with a new dim of size 1 at `dim` (in [-t.dim() - 1, t.dim()]).
Tensor unsqueeze(const Tensor& t, int64_t dim, CallSite site = CallSite::Here());

// `t` without its dims of size 1.
Tensor squeeze(const Tensor& t, CallSite site = CallSite::Here());
// `t` without `dim` if its size is 1; otherwise a view of `t` with the same shape.
Tensor squeeze(const Tensor& t, int64_t dim, CallSite site = CallSite::Here());

// `t` broadcast to `sizes`: new leading dims and dims of size 1 repeat (stride 0); -1
// keeps an existing dim's size. Throws when a dim of size other than 1 would change.
Tensor expand(const Tensor& t, const Shape& sizes, CallSite site = CallSite::Here());

// The diagonal of the (dim1, dim2) planes, `offset` above the main one (below when
// negative), as a new last dim; dim1 and dim2 are removed. Throws when dim1 == dim2.
Tensor diagonal(const Tensor& t, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1,
                CallSite site = CallSite::Here());

// `t` with dims start_dim..end_dim merged into one: a view where possible, as reshape. A
// 0-d tensor gives shape [1]. Throws when start_dim comes after end_dim.
Tensor flatten(const Tensor& t, int64_t start_dim = 0, int64_t end_dim = -1,
               CallSite site = CallSite::Here());

// The transpose of a matrix; a 0-d or 1-d tensor as is (still a view). Throws for more
// than 2 dims.
Tensor t(const Tensor& self, CallSite site = CallSite::Here());

// `t` itself when it is contiguous, else clone(t).
Tensor contiguous(const Tensor& t, CallSite site = CallSite::Here());

// A new contiguous tensor with t's values, dtype and device (not a view).
Tensor clone(const Tensor& t, CallSite site = CallSite::Here());

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_VIEWS_H_
