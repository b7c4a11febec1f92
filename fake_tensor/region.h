#ifndef DEFERRED_FAKE_TENSOR_REGION_H_
#define DEFERRED_FAKE_TENSOR_REGION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// A rectangular region of a tensor's index space: [start[d], stop[d]) along each dim.
// Regions are values; every function below is pure.
struct Region {
  Shape start;
  Shape stop;

  // The whole index space of `sizes`.
  static Region Full(absl::Span<const int64_t> sizes);

  int64_t rank() const { return static_cast<int64_t>(start.size()); }
  Shape sizes() const;
  // Without building sizes(): the replay asks these of every region it plans.
  int64_t numel() const;
  bool empty() const;
  // "[0:4, 2:3]".
  std::string ToString() const;

  friend bool operator==(const Region& a, const Region& b) {
    return a.start == b.start && a.stop == b.stop;
  }
};

// The smallest region holding both (same rank).
Region BoundingUnion(const Region& a, const Region& b);

// Whether `inner` lies within `outer` (same rank).
bool Contains(const Region& outer, const Region& inner);

// Whether `layout` is its whole storage of natural shape `base_sizes`: offset 0, the same
// sizes, contiguous strides (any stride on a dim of size 1). Its view index space then is
// the base's, and ViewTransform's mappings are the identity.
bool IsWholeStorage(const TensorLayout& layout, absl::Span<const int64_t> base_sizes);

// The layout of `view_region` of a storage's natural index space over a buffer that holds
// only `base_region` of it, contiguously: ViewTransform::LayoutIn of the identity.
TensorLayout LayoutOfRegionIn(const Region& view_region, const Region& base_region);

// How a view's index space maps into its base storage's natural index space (the
// contiguous shape the storage was created with): base index k = origin[k] +
// sum over view dims d of multiplier * i_d for each (d, k, multiplier) term, with no
// carries between base dims. Views made by narrow, slice, select, permute, transpose,
// (un)squeeze, expand, diagonal, and reshapes that split dims all decompose this way.
struct ViewTransform {
  struct Term {
    int64_t view_dim;
    int64_t base_dim;
    int64_t multiplier;  // > 0
  };
  Shape base_sizes;
  Shape view_sizes;
  Shape origin;  // base index of view element (0, ..., 0)
  std::vector<Term> terms;

  // Decomposes `layout` (strides in elements over a contiguous storage of `base_sizes`).
  // Empty when the layout does not decompose without carries (e.g. a flatten of a
  // transposed tensor); callers then treat the whole base as touched.
  static std::optional<ViewTransform> Decompose(const TensorLayout& layout,
                                                absl::Span<const int64_t> base_sizes);

  // The smallest base region covering the image of `view_region`.
  Region ImageBounds(const Region& view_region) const;

  // The smallest view region covering every view index whose base index lies in
  // `base_region`; empty if none does. A view dim mapped to several base dims, or sharing
  // a base dim with another view dim, is bounded conservatively (it may cover more).
  Region PreimageBounds(const Region& base_region) const;

  // The layout of the view restricted to `view_region`, over a buffer that holds only
  // `base_region` of the base, contiguously. Precondition: ImageBounds(view_region) lies
  // within base_region.
  TensorLayout LayoutIn(const Region& view_region, const Region& base_region) const;
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_REGION_H_
