#ifndef DEFERRED_FAKE_TENSOR_SHAPE_H_
#define DEFERRED_FAKE_TENSOR_SHAPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"

namespace deferred {

// Sizes, strides or indices, one per dim. Up to six dims live inline: every op makes
// several shapes, and on the heap they were most of the replay's per-op cost.
using Shape = absl::InlinedVector<int64_t, 6>;

// Product of `sizes` (1 for a 0-d shape, 0 when any size is 0). Throws `Error`
// (InvalidArgument) when the product does not fit in int64; every tensor's shape is
// checked when it is made, so this never throws for the sizes of an existing tensor.
int64_t NumElements(absl::Span<const int64_t> sizes);

// Row-major strides, in elements, of a contiguous tensor of `sizes` (dims of size 0 count
// as 1, as in PyTorch), or nullopt when a stride does not fit in int64 — possible only
// with a size-0 dim, e.g. [0, 2^40, 2^40].
std::optional<Shape> CheckedContiguousStrides(absl::Span<const int64_t> sizes);

// CheckedContiguousStrides, throwing `Error` (InvalidArgument) where that is nullopt.
Shape ContiguousStrides(absl::Span<const int64_t> sizes);

// "[2, 3]".
std::string ShapeToString(absl::Span<const int64_t> sizes);

// Maps a possibly negative `dim` of an `ndim`-d tensor to [0, ndim). Throws `Error`
// naming `op` when it is out of range. `ndim` of a 0-d tensor counts as 1, as in PyTorch.
int64_t WrapDim(int64_t dim, int64_t ndim, std::string_view op);

// The shape both shapes broadcast to (numpy rules). Throws `Error` naming `op` if they
// do not broadcast.
Shape BroadcastShapes(absl::Span<const int64_t> a, absl::Span<const int64_t> b,
                      std::string_view op);

// Throws `Error` naming `op` if any size is negative.
void CheckSizesNonNegative(absl::Span<const int64_t> sizes, std::string_view op);

// Whether two different indices of a layout with `sizes` and `strides` may address the same
// element. True for a stride-0 dim of size > 1 (an expanded view) and for any layout whose
// dims, ordered by |stride|, do not nest (each |stride| above the extent of the smaller
// ones); so false for every layout that slicing, transposing or permuting a contiguous
// tensor gives. Writing such a layout element by element would race, so in-place ops
// reject it.
bool MayHaveInternalOverlap(absl::Span<const int64_t> sizes, absl::Span<const int64_t> strides);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_SHAPE_H_
