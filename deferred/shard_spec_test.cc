#include "deferred/shard_spec.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace deferred {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// torch.chunk's part `rank` of `size` elements over `world`, in wide arithmetic:
// parts of ceil(size / world) elements, the last shorter, later ones empty.
std::pair<__int128, __int128> ChunkReference(__int128 size, __int128 rank, __int128 world) {
  const __int128 chunk = (size + world - 1) / world;
  const __int128 start = std::min(rank * chunk, size);
  return {start, std::min(start + chunk, size)};
}

TEST(ShardSpecTest, ChunkOfTheLargestDimResolves) {
  absl::StatusOr<Region> region = ShardSpec::Chunk(0, 1, 2).Resolve({kMax});
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->start, (Shape{int64_t{1} << 62}));
  EXPECT_EQ(region->stop, (Shape{kMax}));
}

TEST(ShardSpecTest, ChunkAndTensorSplitMatchWideArithmeticNearTheLimits) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 20000; ++trial) {
    const int64_t size = trial % 2 == 0 ? kMax - static_cast<int64_t>(rng() % 1000)
                                        : static_cast<int64_t>(rng() >> (1 + rng() % 63));
    const int world = 1 + static_cast<int>(rng() % 9);
    int64_t covered = 0;
    for (int rank = 0; rank < world; ++rank) {
      const auto [start, stop] = ChunkReference(size, rank, world);
      absl::StatusOr<Region> chunk = ShardSpec::Chunk(0, rank, world).Resolve({size});
      // Ranks past the last part get an empty one at the end.
      ASSERT_TRUE(chunk.ok()) << size << " " << rank << "/" << world << ": " << chunk.status();
      EXPECT_EQ(chunk->start[0], static_cast<int64_t>(start));
      EXPECT_EQ(chunk->stop[0], static_cast<int64_t>(stop));
      absl::StatusOr<Region> split = ShardSpec::TensorSplit(0, rank, world).Resolve({size});
      ASSERT_TRUE(split.ok()) << split.status();
      EXPECT_EQ(split->start[0], covered) << "tensor_split parts tile the dim in order";
      covered = split->stop[0];
    }
    EXPECT_EQ(covered, size);
  }
}

TEST(ShardSpecTest, BadSpecsAreInvalidArgument) {
  for (const ShardSpec& bad :
       {ShardSpec::Range(0, 2, 1), ShardSpec::Range(0, -1, 2), ShardSpec::Range(0, 0, kMax),
        ShardSpec::Chunk(0, 2, 2), ShardSpec::Chunk(0, -1, 2), ShardSpec::Chunk(0, 0, 0),
        ShardSpec::TensorSplit(2, 0, 2),
        ShardSpec::Chunk(0, 0, 2).And(ShardSpec::Range(-2, 0, 1))}) {
    EXPECT_EQ(bad.Resolve({8, 4}).status().code(), absl::StatusCode::kInvalidArgument)
        << bad.ToString();
  }
}

TEST(ShardSpecTest, PartsPastTheEndAreEmptyNotErrors) {
  // torch.tensor_split(torch.empty(4, 3), 8)[5] and torch.chunk's missing parts: 0 rows.
  EXPECT_EQ(*ShardSpec::TensorSplit(0, 5, 8).Resolve({4, 3}), (Region{{4, 0}, {4, 3}}));
  EXPECT_EQ(*ShardSpec::Chunk(0, 3, 4).Resolve({5, 3}), (Region{{5, 0}, {5, 3}}));
  EXPECT_EQ(*ShardSpec::Range(1, 2, 2).Resolve({5, 3}), (Region{{0, 2}, {5, 2}}));
  EXPECT_EQ(*ShardSpec::TensorSplit(0, 1, 2).Resolve({0}), (Region{{0}, {0}}));
}

TEST(ShardSpecTest, ParseReadsWhatTheConstructorsMake) {
  const Shape sizes{10, 256, 3};
  const std::vector<std::pair<std::string, ShardSpec>> cases = {
      {"", ShardSpec()},
      {"chunk(0,1,4)", ShardSpec::Chunk(0, 1, 4)},
      {"split(-1,2,3)", ShardSpec::TensorSplit(-1, 2, 3)},
      {"split(0,3,4)+range(1,0,128)",
       ShardSpec::TensorSplit(0, 3, 4).And(ShardSpec::Range(1, 0, 128))},
  };
  for (const auto& [text, expected] : cases) {
    absl::StatusOr<ShardSpec> parsed = ShardSpec::Parse(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(parsed->ToString(), expected.ToString()) << text;
    EXPECT_EQ(*parsed->Resolve(sizes), *expected.Resolve(sizes)) << text;
  }
}

TEST(ShardSpecTest, ParseRefusesWhatItCannotRead) {
  for (const std::string text :
       {"chunk(0,1)", "chunk(0,1,4", "slice(0,1,2)", "split(0,a,4)", "split(0,1,4)+",
        "range(4294967296,0,1)", "split(0,1,99999999999)"}) {
    absl::StatusOr<ShardSpec> parsed = ShardSpec::Parse(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace deferred
