// Property test of shard equivalence: any region of any tensor of a random program,
// materialized on its own, equals the same slice of the fully materialized tensor,
// bitwise; and the parts of a split cover the tensor exactly.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "deferred/nn/linear.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/random_program.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

// A random spec over a tensor of `sizes`: a chunk, an uneven split, an explicit range,
// or two of them on different dims.
ShardSpec RandomSpec(std::mt19937_64& rng, const Shape& sizes) {
  auto pick = [&](int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng); };
  auto one = [&](int dim) {
    const int64_t size = sizes[dim];
    switch (pick(3)) {
      case 0: {
        const int world = static_cast<int>(1 + pick(std::min<int64_t>(size, 8)));
        const int64_t chunk = (size + world - 1) / world;
        const int parts = static_cast<int>((size + chunk - 1) / chunk);  // chunk may give fewer
        return ShardSpec::Chunk(dim, static_cast<int>(pick(parts)), world);
      }
      case 1: {
        const int world = static_cast<int>(1 + pick(std::min<int64_t>(size, 8)));
        return ShardSpec::TensorSplit(dim, static_cast<int>(pick(world)), world);
      }
      default: {
        const int64_t start = pick(size);
        return ShardSpec::Range(dim, start, start + 1 + pick(size - start));
      }
    }
  };
  const int ndim = static_cast<int>(sizes.size());
  const int d0 = static_cast<int>(pick(ndim));
  ShardSpec spec = one(d0);
  if (ndim > 1 && pick(2) == 0) spec = spec.And(one((d0 + 1 + static_cast<int>(pick(ndim - 1))) % ndim));
  return spec;
}

TEST(ShardEquivalenceTest, ShardEqualsSliceOfFullForRandomProgramsAndRegions) {
  constexpr uint64_t kPrograms = 150;
  int64_t cases = 0;
  for (uint64_t seed = TestSeedBase() + 1; seed <= TestSeedBase() + kPrograms; ++seed) {
    SCOPED_TRACE(absl::StrCat("program seed ", seed));
    manual_seed(seed);
    absl::StatusOr<std::shared_ptr<RandomProgram>> module = deferred_init<RandomProgram>(seed);
    ASSERT_TRUE(module.ok()) << module.status();
    std::mt19937_64 rng(seed);
    std::vector<nn::NamedTensor> tensors = (*module)->named_parameters();
    for (const nn::NamedTensor& b : (*module)->named_buffers()) tensors.push_back(b);
    for (const auto& [name, t] : tensors) {
      if (t.dim() == 0 || t.numel() == 0) continue;
      absl::StatusOr<Tensor> full = materialize_tensor(t);
      ASSERT_TRUE(full.ok()) << name << ": " << full.status();
      for (int trial = 0; trial < 8; ++trial) {
        const ShardSpec spec = RandomSpec(rng, t.sizes());
        SCOPED_TRACE(absl::StrCat(name, " ", t.ToString(), " ", spec.ToString()));
        absl::StatusOr<Region> region = spec.Resolve(t.sizes());
        ASSERT_TRUE(region.ok()) << region.status();
        absl::StatusOr<Tensor> shard = materialize_shard(t, spec);
        ASSERT_TRUE(shard.ok()) << shard.status();
        EXPECT_TRUE(shard->is_contiguous());
        ASSERT_TRUE(TensorsBitwiseEqual(SliceOf(*full, *region), *shard));
        ++cases;
      }
      EXPECT_TRUE(is_fake(t)) << name;  // materialize_shard leaves the tensor fake
    }
  }
  EXPECT_GT(cases, 3000);
}

TEST(ShardEquivalenceTest, SplitsCoverTheTensorExactly) {
  for (int64_t size = 1; size <= 17; ++size) {
    for (int world = 1; world <= 8; ++world) {
      int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        absl::StatusOr<Region> r = ShardSpec::TensorSplit(0, rank, world).Resolve({size, 3});
        ASSERT_TRUE(r.ok()) << r.status();
        // Ranks past the end get empty parts, at the end (torch.tensor_split).
        if (rank >= size) {
          EXPECT_EQ(r->start[0], r->stop[0]);
        }
        EXPECT_EQ(r->start[0], next);
        next = r->stop[0];
        EXPECT_EQ(r->start[1], 0);
        EXPECT_EQ(r->stop[1], 3);
      }
      EXPECT_EQ(next, size) << "size " << size << " world " << world;
    }
  }
}

TEST(ShardEquivalenceTest, ModuleShardOptionReplacesTensorsAndReports) {
  manual_seed(5);
  absl::StatusOr<std::shared_ptr<RandomProgram>> module = deferred_init<RandomProgram>(7);
  ASSERT_TRUE(module.ok());
  manual_seed(5);
  absl::StatusOr<std::shared_ptr<RandomProgram>> reference = deferred_init<RandomProgram>(7);
  ASSERT_TRUE(reference.ok());
  ASSERT_TRUE(materialize_module(**reference).ok());

  std::vector<ShardInfo> report;
  MaterializeOptions options;
  options.shard = [](const std::string&, const Shape& shape) -> std::optional<ShardSpec> {
    if (shape.empty() || shape[0] < 2) return std::nullopt;
    return ShardSpec::TensorSplit(0, 1, 2);
  };
  options.shard_report = &report;
  ASSERT_TRUE(materialize_module(**module, options).ok());
  EXPECT_FALSE(report.empty());
  for (const ShardInfo& info : report) {
    SCOPED_TRACE(info.name);
    const Tensor shard = [&] {
      for (const auto& [name, t] : (*module)->named_parameters()) if (name == info.name) return t;
      for (const auto& [name, t] : (*module)->named_buffers()) if (name == info.name) return t;
      return Tensor();
    }();
    ASSERT_TRUE(shard.defined());
    EXPECT_EQ(shard.sizes(), info.region.sizes());
    const Tensor full = [&] {
      for (const auto& [name, t] : (*reference)->named_parameters()) if (name == info.name) return t;
      for (const auto& [name, t] : (*reference)->named_buffers()) if (name == info.name) return t;
      return Tensor();
    }();
    EXPECT_EQ(full.sizes(), info.full_shape);
    EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(full, info.region), shard));
  }
}

TEST(ShardEquivalenceTest, EmptyShardsHaveAZeroSizeDimEverywhere) {
  manual_seed(5);
  absl::StatusOr<std::shared_ptr<nn::Linear>> linear = deferred_init<nn::Linear>(3, 4);
  ASSERT_TRUE(linear.ok());
  const Tensor weight = (*linear)->parameter("weight");  // [4, 3]
  absl::StatusOr<Tensor> shard = materialize_shard(weight, ShardSpec::TensorSplit(0, 5, 8));
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ(shard->sizes(), (Shape{0, 3}));
  EXPECT_TRUE(shard->to_vector<float>().empty());

  // A shard plan over more ranks than rows: the last ranks' tensors are empty, the others
  // are the slices of the whole.
  for (int rank = 0; rank < 8; ++rank) {
    manual_seed(5);
    absl::StatusOr<std::shared_ptr<nn::Linear>> part = deferred_init<nn::Linear>(3, 4);
    ASSERT_TRUE(part.ok());
    MaterializeOptions options;
    options.shard = [rank](const std::string&, const Shape&) {
      return std::optional(ShardSpec::TensorSplit(0, rank, 8));
    };
    ASSERT_TRUE(materialize_module(**part, options).ok());
    const Region region = *ShardSpec::TensorSplit(0, rank, 8).Resolve({4, 3});
    EXPECT_EQ((*part)->parameter("weight").size(0), rank < 4 ? 1 : 0);
    absl::StatusOr<Tensor> whole = materialize_tensor(weight);
    ASSERT_TRUE(whole.ok());
    EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(*whole, region), (*part)->parameter("weight")));
  }
}

TEST(ShardEquivalenceTest, BadSpecsAreClearErrors) {
  absl::StatusOr<std::shared_ptr<RandomProgram>> module = deferred_init<RandomProgram>(3);
  ASSERT_TRUE(module.ok());
  const Tensor t = (*module)->named_parameters()[0].second;
  const int ndim = static_cast<int>(t.dim());
  struct Case {
    ShardSpec spec;
    const char* message;
  };
  const Case cases[] = {
      {ShardSpec::Chunk(ndim, 0, 2), "out of range"},
      {ShardSpec::Chunk(0, 2, 2), "rank 2 is not in [0, world)"},
      {ShardSpec::TensorSplit(0, 0, 0), "world 0"},
      {ShardSpec::Range(0, 2, 1), "out of bounds"},
      {ShardSpec::Range(0, -1, 1), "out of bounds"},
      {ShardSpec::Range(0, 0, t.size(0) + 1), "out of bounds"},
      {ShardSpec::Range(0, 0, 1).And(ShardSpec::Range(0, 0, 1)), "more than once"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Tensor> shard = materialize_shard(t, c.spec);
    ASSERT_FALSE(shard.ok()) << c.spec.ToString();
    EXPECT_EQ(shard.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(shard.status().message().find(c.message), std::string::npos) << shard.status();
  }
}

}  // namespace
}  // namespace deferred
