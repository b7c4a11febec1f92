#include "deferred/region_checksum.h"

#include <cstdint>
#include <random>
#include <vector>

#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/views.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

// `t` restricted to `region`, as a view.
Tensor Slice(const Tensor& t, const Region& region) {
  Tensor view = t;
  for (int64_t d = 0; d < region.rank(); ++d) {
    view = narrow(view, d, region.start[d], region.stop[d] - region.start[d]);
  }
  return view;
}

// Property: cut each dim of a random tensor at random points; the checksums of the blocks
// sum to the whole tensor's.
TEST(RegionChecksumTest, ChecksumsOfATilingSumToTheWholeTensors) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t ndim = static_cast<int64_t>(rng() % 4);
    Shape shape;
    std::vector<std::vector<int64_t>> cuts(ndim);
    for (int64_t d = 0; d < ndim; ++d) {
      shape.push_back(static_cast<int64_t>(rng() % 7));
      cuts[d] = {0};
      for (int64_t at = 0; at < shape[d]; ++at) {
        if (rng() % 3 == 0) cuts[d].push_back(at);
      }
      cuts[d].push_back(shape[d]);
    }
    const Tensor full =
        randn(shape, {.dtype = trial % 2 == 0 ? DType::kFloat32 : DType::kBFloat16});
    const uint64_t whole = *RegionChecksum(full, shape, Region::Full(shape));
    // Every block of the grid the cuts make, by an odometer over the cut indices.
    uint64_t sum = 0;
    std::vector<size_t> block(ndim, 0);
    bool done = false;
    while (!done) {
      Region region{Shape(ndim), Shape(ndim)};
      for (int64_t d = 0; d < ndim; ++d) {
        region.start[d] = cuts[d][block[d]];
        region.stop[d] = cuts[d][block[d] + 1];
      }
      absl::StatusOr<uint64_t> part = RegionChecksum(Slice(full, region), shape, region);
      ASSERT_TRUE(part.ok()) << part.status();
      sum += *part;
      done = true;
      for (int64_t d = ndim - 1; d >= 0 && done; --d) {
        if (++block[d] + 1 < cuts[d].size()) {
          done = false;
        } else {
          block[d] = 0;
        }
      }
    }
    EXPECT_EQ(sum, whole) << "trial " << trial;
  }
}

TEST(RegionChecksumTest, AChangedOrMovedValueChangesTheChecksum) {
  const Shape shape{4, 5};
  const Tensor t = randn(shape);
  const uint64_t before = *RegionChecksum(t, shape, Region::Full(shape));
  Tensor changed = clone(t);
  changed.data_ptr<float>()[7] = std::nextafter(changed.data_ptr<float>()[7], 10.0f);
  EXPECT_NE(*RegionChecksum(changed, shape, Region::Full(shape)), before);
  Tensor swapped = clone(t);
  std::swap(swapped.data_ptr<float>()[3], swapped.data_ptr<float>()[11]);
  EXPECT_NE(*RegionChecksum(swapped, shape, Region::Full(shape)), before);
  // The same values placed at another region of the full tensor.
  const Region top{{0, 0}, {2, 5}}, bottom{{2, 0}, {4, 5}};
  EXPECT_NE(*RegionChecksum(Slice(t, top), shape, top),
            *RegionChecksum(Slice(t, top), shape, bottom));
}

TEST(RegionChecksumTest, ValuesThatAreNotTheRegionAreErrors) {
  const Tensor t = randn({2, 3});
  EXPECT_EQ(RegionChecksum(t, {4, 3}, Region{{0, 0}, {3, 3}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegionChecksum(t, {2, 3}, Region{{1, 0}, {3, 3}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegionChecksum(empty({2, 3}, {.device = Device::Meta()}), {2, 3}, Region::Full({2, 3}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deferred
