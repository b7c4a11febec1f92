#include "fake_tensor/shape.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_tensor/checked_arithmetic.h"
#include "fake_tensor/error.h"

namespace deferred {

int64_t NumElements(absl::Span<const int64_t> sizes) {
  if (std::find(sizes.begin(), sizes.end(), 0) != sizes.end()) return 0;
  std::optional<int64_t> n = 1;
  for (int64_t s : sizes) {
    n = CheckedMul(*n, s);
    if (!n) ThrowError("shape %s has more than 2^63 - 1 elements", ShapeToString(sizes));
  }
  return *n;
}

std::optional<Shape> CheckedContiguousStrides(absl::Span<const int64_t> sizes) {
  Shape strides(sizes.size());
  std::optional<int64_t> stride = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    if (!stride) return std::nullopt;
    strides[d] = *stride;
    stride = CheckedMul(*stride, std::max<int64_t>(sizes[d], 1));
  }
  return strides;
}

Shape ContiguousStrides(absl::Span<const int64_t> sizes) {
  std::optional<Shape> strides = CheckedContiguousStrides(sizes);
  if (!strides) ThrowError("the strides of shape %s overflow int64", ShapeToString(sizes));
  return *std::move(strides);
}

std::string ShapeToString(absl::Span<const int64_t> sizes) {
  return absl::StrCat("[", absl::StrJoin(sizes, ", "), "]");
}

int64_t WrapDim(int64_t dim, int64_t ndim, std::string_view op) {
  const int64_t effective = std::max<int64_t>(ndim, 1);
  if (dim < -effective || dim >= effective) {
    ThrowError("%s: dim %d is out of range for a %d-d tensor (expected in [%d, %d])", op, dim,
               ndim, -effective, effective - 1);
  }
  return dim < 0 ? dim + effective : dim;
}

Shape BroadcastShapes(absl::Span<const int64_t> a, absl::Span<const int64_t> b,
                      std::string_view op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t sa = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t sb = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (sa != sb && sa != 1 && sb != 1) {
      ThrowError("%s: shapes %s and %s do not broadcast (size %d vs %d at dim %d)", op,
                 ShapeToString(a), ShapeToString(b), sa, sb, i);
    }
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

void CheckSizesNonNegative(absl::Span<const int64_t> sizes, std::string_view op) {
  for (int64_t s : sizes) {
    if (s < 0) ThrowError("%s: negative size %d in shape %s", op, s, ShapeToString(sizes));
  }
}

bool MayHaveInternalOverlap(absl::Span<const int64_t> sizes,
                            absl::Span<const int64_t> strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (|stride|, size) of dims of size > 1
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) return false;  // no elements at all
    if (sizes[d] > 1) dims.emplace_back(strides[d] < 0 ? -strides[d] : strides[d], sizes[d]);
  }
  std::sort(dims.begin(), dims.end());
  int64_t extent = 0;  // the largest offset the dims visited so far reach
  for (const auto& [stride, size] : dims) {
    if (stride <= extent) return true;
    extent += stride * (size - 1);
  }
  return false;
}

}  // namespace deferred
