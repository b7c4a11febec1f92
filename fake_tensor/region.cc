#include "fake_tensor/region.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_tensor/checked_arithmetic.h"
#include "fake_tensor/error.h"

namespace deferred {

Region Region::Full(absl::Span<const int64_t> sizes) {
  return Region{Shape(sizes.size(), 0), Shape(sizes.begin(), sizes.end())};
}

Shape Region::sizes() const {
  Shape out(start.size());
  for (size_t d = 0; d < start.size(); ++d) out[d] = std::max<int64_t>(stop[d] - start[d], 0);
  return out;
}

int64_t Region::numel() const {
  if (empty()) return 0;
  std::optional<int64_t> n = 1;
  for (size_t d = 0; d < start.size() && n; ++d) n = CheckedMul(*n, stop[d] - start[d]);
  if (!n) ThrowError("region %s has more than 2^63 - 1 elements", ToString());
  return *n;
}

bool Region::empty() const {
  for (size_t d = 0; d < start.size(); ++d) {
    if (stop[d] <= start[d]) return true;
  }
  return false;
}

bool IsWholeStorage(const TensorLayout& layout, absl::Span<const int64_t> base_sizes) {
  if (layout.storage_offset != 0 || layout.sizes.size() != base_sizes.size()) return false;
  int64_t stride = 1;
  for (size_t d = base_sizes.size(); d-- > 0;) {
    if (layout.sizes[d] != base_sizes[d]) return false;
    if (base_sizes[d] != 1 && layout.strides[d] != stride) return false;
    stride *= base_sizes[d];
  }
  return true;
}

TensorLayout LayoutOfRegionIn(const Region& view_region, const Region& base_region) {
  TensorLayout layout{view_region.sizes(), Shape(view_region.rank()), 0};
  int64_t stride = 1;
  for (int64_t d = view_region.rank(); d-- > 0;) {
    layout.strides[d] = stride;
    layout.storage_offset += (view_region.start[d] - base_region.start[d]) * stride;
    stride *= std::max<int64_t>(base_region.stop[d] - base_region.start[d], 0);
  }
  return layout;
}

std::string Region::ToString() const {
  std::vector<std::string> dims;
  for (size_t d = 0; d < start.size(); ++d) dims.push_back(absl::StrCat(start[d], ":", stop[d]));
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

Region BoundingUnion(const Region& a, const Region& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  Region out = a;
  for (int64_t d = 0; d < a.rank(); ++d) {
    out.start[d] = std::min(a.start[d], b.start[d]);
    out.stop[d] = std::max(a.stop[d], b.stop[d]);
  }
  return out;
}

bool Contains(const Region& outer, const Region& inner) {
  if (inner.empty()) return true;
  for (int64_t d = 0; d < outer.rank(); ++d) {
    if (inner.start[d] < outer.start[d] || inner.stop[d] > outer.stop[d]) return false;
  }
  return true;
}

std::optional<ViewTransform> ViewTransform::Decompose(const TensorLayout& layout,
                                                      absl::Span<const int64_t> base_sizes) {
  ViewTransform t;
  t.base_sizes.assign(base_sizes.begin(), base_sizes.end());
  t.view_sizes = layout.sizes;
  const int64_t base_rank = static_cast<int64_t>(base_sizes.size());
  const Shape base_strides = ContiguousStrides(base_sizes);
  if (NumElements(layout.sizes) == 0) return std::nullopt;

  // The origin: the storage offset written in base coordinates.
  t.origin.assign(base_rank, 0);
  int64_t rest = layout.storage_offset;
  for (int64_t k = 0; k < base_rank; ++k) {
    if (base_sizes[k] <= 1) continue;
    t.origin[k] = rest / base_strides[k];
    rest -= t.origin[k] * base_strides[k];
  }
  if (rest != 0) return std::nullopt;

  // Each view stride as a sum of base strides, largest first; size-1 base dims take none.
  for (size_t d = 0; d < layout.sizes.size(); ++d) {
    int64_t stride = layout.strides[d];
    if (layout.sizes[d] == 1 || stride == 0) continue;
    if (stride < 0) return std::nullopt;
    for (int64_t k = 0; k < base_rank && stride > 0; ++k) {
      if (base_sizes[k] <= 1 || base_strides[k] > stride) continue;
      const int64_t multiplier = stride / base_strides[k];
      t.terms.push_back(Term{static_cast<int64_t>(d), k, multiplier});
      stride -= multiplier * base_strides[k];
    }
    if (stride != 0) return std::nullopt;
  }
  // No carries: along every base dim, the largest index reached stays inside the dim.
  Shape reach = t.origin;
  for (const Term& term : t.terms) {
    const std::optional<int64_t> step = CheckedMul(term.multiplier, layout.sizes[term.view_dim] - 1);
    const std::optional<int64_t> sum = step ? CheckedAdd(reach[term.base_dim], *step) : std::nullopt;
    if (!sum) return std::nullopt;
    reach[term.base_dim] = *sum;
  }
  for (int64_t k = 0; k < base_rank; ++k) {
    if (reach[k] >= std::max<int64_t>(base_sizes[k], 1)) return std::nullopt;
  }
  return t;
}

Region ViewTransform::ImageBounds(const Region& view_region) const {
  Region out{origin, origin};
  for (int64_t& s : out.stop) ++s;
  if (view_region.empty()) return Region{origin, origin};
  for (const Term& term : terms) {
    out.start[term.base_dim] += term.multiplier * view_region.start[term.view_dim];
    out.stop[term.base_dim] += term.multiplier * (view_region.stop[term.view_dim] - 1);
  }
  return out;
}

Region ViewTransform::PreimageBounds(const Region& base_region) const {
  Region out = Region::Full(view_sizes);
  const int64_t base_rank = static_cast<int64_t>(base_sizes.size());
  // Terms per base dim and per view dim, to tell one-to-one maps from shared ones.
  std::vector<int> terms_of_base(base_rank, 0);
  for (const Term& term : terms) ++terms_of_base[term.base_dim];
  for (int64_t k = 0; k < base_rank; ++k) {
    // A base dim no view dim moves along holds only the origin.
    if (terms_of_base[k] == 0 &&
        (origin[k] < base_region.start[k] || origin[k] >= base_region.stop[k])) {
      return Region{Shape(view_sizes.size(), 0), Shape(view_sizes.size(), 0)};
    }
  }
  for (const Term& term : terms) {
    if (terms_of_base[term.base_dim] != 1) continue;  // shared base dim: keep it whole
    const int64_t lo = base_region.start[term.base_dim] - origin[term.base_dim];
    const int64_t hi = base_region.stop[term.base_dim] - 1 - origin[term.base_dim];
    const int64_t m = term.multiplier;
    // Indices i with lo <= m * i <= hi.
    const int64_t first = lo <= 0 ? 0 : (lo + m - 1) / m;
    const int64_t last = hi < 0 ? -1 : hi / m;
    int64_t& start = out.start[term.view_dim];
    int64_t& stop = out.stop[term.view_dim];
    start = std::max(start, first);
    stop = std::min(stop, last + 1);
    if (stop <= start) return Region{Shape(view_sizes.size(), 0), Shape(view_sizes.size(), 0)};
  }
  return out;
}

TensorLayout ViewTransform::LayoutIn(const Region& view_region, const Region& base_region) const {
  const Shape buffer_strides = ContiguousStrides(base_region.sizes());
  TensorLayout layout{view_region.sizes(), Shape(view_sizes.size(), 0), 0};
  const Region image = ImageBounds(view_region);
  for (size_t k = 0; k < base_sizes.size(); ++k) {
    layout.storage_offset += (image.start[k] - base_region.start[k]) * buffer_strides[k];
  }
  for (const Term& term : terms) {
    layout.strides[term.view_dim] += term.multiplier * buffer_strides[term.base_dim];
  }
  return layout;
}

}  // namespace deferred
