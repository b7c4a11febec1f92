#include "deferred/shard_plan.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deferred {
namespace {

// The region rank `rank`'s part of `shape` under `plan`: the whole tensor for nullopt.
Region PartOf(const ShardPlan& plan, const std::string& name, const Shape& shape) {
  const std::optional<ShardSpec> spec = plan(name, shape);
  if (!spec.has_value()) return Region::Full(shape);
  absl::StatusOr<Region> region = spec->Resolve(shape);
  EXPECT_TRUE(region.ok()) << region.status();
  return region.ok() ? *region : Region::Full(shape);
}

// How many of the parts cover each element of a 2-D `shape`, row-major.
std::vector<int> Coverage(const std::vector<Region>& parts, const Shape& shape) {
  std::vector<int> count(shape[0] * shape[1], 0);
  for (const Region& r : parts) {
    for (int64_t i = r.start[0]; i < r.stop[0]; ++i) {
      for (int64_t j = r.start[1]; j < r.stop[1]; ++j) ++count[i * shape[1] + j];
    }
  }
  return count;
}

const std::vector<TensorParallelRule> kRules = {
    {"layers.*.q_proj", TensorParallelStyle::kColumnwise},
    {"layers.*.o_proj", TensorParallelStyle::kRowwise},
    {"layers.0.*", TensorParallelStyle::kReplicate},
    {"embed", TensorParallelStyle::kColumnwise},
};

TEST(ShardPlanTest, FsdpSplitsDimZeroAsTensorSplitAndKeepsScalarsWhole) {
  const ShardPlan plan = *FsdpPlan(1, 3);
  EXPECT_EQ(PartOf(plan, "w", {7, 5}), (Region{{3, 0}, {5, 5}}));
  EXPECT_EQ(PartOf(plan, "b", {2}), (Region{{1}, {2}}));
  EXPECT_EQ(PartOf(plan, "e", {1}), (Region{{1}, {1}}));  // past the last row: empty
  EXPECT_FALSE(plan("scale", {}).has_value());
}

TEST(ShardPlanTest, TensorParallelStylesSplitTheirDims) {
  const ShardPlan plan = *TensorParallelPlan(kRules, 1, 2);
  EXPECT_EQ(PartOf(plan, "layers.3.q_proj.weight", {6, 4}), (Region{{3, 0}, {6, 4}}));
  EXPECT_EQ(PartOf(plan, "layers.3.q_proj.bias", {6}), (Region{{3}, {6}}));
  EXPECT_EQ(PartOf(plan, "layers.3.o_proj.weight", {4, 6}), (Region{{0, 3}, {4, 6}}));
  EXPECT_FALSE(plan("layers.3.o_proj.bias", {4}).has_value());
  EXPECT_EQ(PartOf(plan, "embed.weight", {9, 4}), (Region{{5, 0}, {9, 4}}));
  EXPECT_FALSE(plan("norm.weight", {4}).has_value());
}

TEST(ShardPlanTest, TheFirstMatchingRuleDecides) {
  const ShardPlan plan = *TensorParallelPlan(kRules, 0, 2);
  // "layers.0.q_proj" matches the column-wise rule before the replicating one.
  EXPECT_TRUE(plan("layers.0.q_proj.weight", {4, 4}).has_value());
  EXPECT_FALSE(plan("layers.0.k_proj.weight", {4, 4}).has_value());
}

TEST(ShardPlanTest, ATwoByTwoMeshSplitsColumnwiseTensorsWithinTheirTensorParallelPart) {
  const DeviceMesh mesh = *DeviceMesh::Create(2, 2, 4);
  const Shape shape{10, 4};
  std::vector<Region> parts;
  for (int rank = 0; rank < 4; ++rank) {
    parts.push_back(
        PartOf(*FsdpTensorParallelPlan(kRules, mesh, rank), "layers.1.q_proj.weight", shape));
  }
  // tp halves [0, 5) and [5, 10); each split over dp: [0, 3), [3, 5), [5, 8), [8, 10).
  EXPECT_EQ(parts[0], (Region{{0, 0}, {3, 4}}));  // dp 0, tp 0
  EXPECT_EQ(parts[1], (Region{{5, 0}, {8, 4}}));  // dp 0, tp 1
  EXPECT_EQ(parts[2], (Region{{3, 0}, {5, 4}}));  // dp 1, tp 0
  EXPECT_EQ(parts[3], (Region{{8, 0}, {10, 4}}));
}

// Property: for every mesh of up to 12 ranks and random shapes, the ranks' parts of every
// tensor a plan splits tile it (each element held by exactly one rank); a tensor that
// tensor parallelism leaves whole is held once per tp rank.
TEST(ShardPlanTest, PartsOfAllRanksTileEveryTensor) {
  std::mt19937_64 rng(3);
  const std::vector<std::string> names = {"layers.2.q_proj.weight", "layers.2.o_proj.weight",
                                          "layers.0.k.weight", "norm.weight", "embed.weight"};
  for (int trial = 0; trial < 300; ++trial) {
    const int world = 1 + static_cast<int>(rng() % 12);
    std::vector<int> tp_sizes;
    for (int tp = 1; tp <= world; ++tp) {
      if (world % tp == 0) tp_sizes.push_back(tp);
    }
    const int tp = tp_sizes[rng() % tp_sizes.size()];
    const DeviceMesh mesh = *DeviceMesh::Create(world / tp, tp, world);
    const Shape shape{static_cast<int64_t>(rng() % 14), static_cast<int64_t>(1 + rng() % 9)};
    for (const std::string& name : names) {
      SCOPED_TRACE(testing::Message() << name << " " << shape[0] << "x" << shape[1] << " mesh "
                                      << world / tp << "x" << tp);
      std::vector<Region> fsdp, tensor_parallel, two_d;
      for (int rank = 0; rank < world; ++rank) {
        fsdp.push_back(PartOf(*FsdpPlan(rank, world), name, shape));
        tensor_parallel.push_back(PartOf(*TensorParallelPlan(kRules, rank % tp, tp), name, shape));
        two_d.push_back(PartOf(*FsdpTensorParallelPlan(kRules, mesh, rank), name, shape));
      }
      const bool split = name.find("_proj") != std::string::npos || name == "embed.weight";
      const std::vector<int> once(shape[0] * shape[1], 1);
      EXPECT_EQ(Coverage(fsdp, shape), once);
      EXPECT_EQ(Coverage(two_d, shape), split ? once : std::vector<int>(once.size(), tp));
      const int copies = world / tp * (split ? 1 : tp);
      EXPECT_EQ(Coverage(tensor_parallel, shape), std::vector<int>(once.size(), copies));
    }
  }
}

TEST(ShardPlanTest, BadRanksMeshesAndPatternsAreErrors) {
  EXPECT_EQ(FsdpPlan(3, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FsdpPlan(0, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TensorParallelPlan(kRules, -1, 2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TensorParallelPlan({{"", TensorParallelStyle::kRowwise}}, 0, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status mesh = DeviceMesh::Create(3, 2, 4).status();
  EXPECT_EQ(mesh.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mesh.message().find("3 x 2"), std::string::npos) << mesh;
  EXPECT_EQ(FsdpTensorParallelPlan(kRules, *DeviceMesh::Create(2, 2, 4), 4).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deferred
