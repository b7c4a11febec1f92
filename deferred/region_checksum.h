#ifndef DEFERRED_DEFERRED_REGION_CHECKSUM_H_
#define DEFERRED_DEFERRED_REGION_CHECKSUM_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "fake_tensor/region.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// A checksum of a tensor's values that shards compose: the sum, mod 2^64, over the
// elements of `region` of a hash of (the element's row-major index in a tensor of
// `full_shape`, its bytes), where `values` (a real tensor of the region's sizes) holds the
// region's elements. Checksums of disjoint regions add up to their union's, so the shards
// of all ranks sum to the whole tensor's (Region::Full) without any rank holding it.
// InvalidArgument when `values` is not real, its sizes are not the region's, or the region
// does not lie in `full_shape`.
absl::StatusOr<uint64_t> RegionChecksum(const Tensor& values, const Shape& full_shape,
                                        const Region& region);

}  // namespace deferred

#endif  // DEFERRED_DEFERRED_REGION_CHECKSUM_H_
