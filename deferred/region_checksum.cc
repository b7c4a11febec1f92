#include "deferred/region_checksum.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/dtype.h"

namespace deferred {
namespace {

// SplitMix64's finalizer: a bijection of 64-bit values that mixes every input bit into
// every output bit.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

absl::StatusOr<uint64_t> RegionChecksum(const Tensor& values, const Shape& full_shape,
                                        const Region& region) {
  if (!values.defined() || !values.has_data()) {
    return absl::InvalidArgumentError("RegionChecksum: the values are not a real tensor");
  }
  const int64_t ndim = static_cast<int64_t>(full_shape.size());
  bool inside = region.rank() == ndim;
  for (int64_t d = 0; inside && d < ndim; ++d) {
    inside = 0 <= region.start[d] && region.start[d] <= region.stop[d] &&
             region.stop[d] <= full_shape[d];
  }
  if (!inside || values.sizes() != region.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RegionChecksum: values of sizes ", ShapeToString(values.sizes()), " are not region ",
        region.ToString(), " of a tensor of shape ", ShapeToString(full_shape)));
  }
  const std::string bytes = values.to_bytes();
  const int64_t element_size = ElementSize(values.dtype());
  uint64_t sum = 0;
  // Walks the region's elements in row-major order, carrying `index` (the element's
  // flat index in the full tensor) the way an odometer carries its digits.
  Shape position = region.start;
  int64_t index = 0;
  for (int64_t d = 0; d < ndim; ++d) index = index * full_shape[d] + position[d];
  const int64_t count = region.numel();
  for (int64_t e = 0; e < count; ++e) {
    uint64_t bits = 0;  // every dtype is at most 8 bytes
    std::memcpy(&bits, bytes.data() + e * element_size, element_size);
    sum += Mix(Mix(static_cast<uint64_t>(index)) + bits);
    int64_t d = ndim - 1, stride = 1;
    for (; d > 0 && position[d] + 1 == region.stop[d]; --d) {
      index -= (position[d] - region.start[d]) * stride;
      position[d] = region.start[d];
      stride *= full_shape[d];
    }
    if (d >= 0) {  // a 0-dim tensor has no digits
      ++position[d];
      index += stride;
    }
  }
  return sum;
}

}  // namespace deferred
