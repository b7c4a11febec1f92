// Shard equivalence on real models: for every parameter and buffer of every standard layer
// and both example models, along every dim, for world sizes 1 to 8, each rank's shard
// equals the slice of the fully materialized tensor bitwise, and the shards together are
// the whole tensor. And replay computes each value once, only where it survives.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "examples/models/mamba.h"
#include "examples/models/vit.h"
#include "examples/models/whisper.h"
#include "gtest/gtest.h"
#include "replay/replay_session.h"
#include "replay/trace.h"
#include "tests/equivalence.h"
#include "tests/standard_layers.h"

namespace deferred {
namespace {

// Checks every tensor of the module `factory` builds, every dim, world sizes 1..8 (also
// past the dim's size: those ranks get empty shards).
void ExpectShardsEqualSlices(const ModuleFactory& factory) {
  manual_seed(11);
  absl::StatusOr<std::shared_ptr<nn::Module>> full = deferred_init(factory);
  ASSERT_TRUE(full.ok()) << full.status();
  manual_seed(11);
  absl::StatusOr<std::shared_ptr<nn::Module>> sharded = deferred_init(factory);
  ASSERT_TRUE(sharded.ok()) << sharded.status();
  ASSERT_TRUE(materialize_module(**full).ok());

  std::vector<nn::NamedTensor> expected = (*full)->named_parameters();
  std::vector<nn::NamedTensor> fake = (*sharded)->named_parameters();
  for (const nn::NamedTensor& b : (*full)->named_buffers()) expected.push_back(b);
  for (const nn::NamedTensor& b : (*sharded)->named_buffers()) fake.push_back(b);
  ASSERT_EQ(expected.size(), fake.size());
  for (size_t i = 0; i < fake.size(); ++i) {
    const auto& [name, t] = fake[i];
    for (int64_t dim = 0; dim < t.dim(); ++dim) {
      for (int world = 1; world <= 8; ++world) {
        int64_t covered = 0;
        for (int rank = 0; rank < world; ++rank) {
          SCOPED_TRACE(absl::StrCat(name, " ", t.ToString(), " dim ", dim, " rank ", rank, "/", world));
          const ShardSpec spec = ShardSpec::TensorSplit(static_cast<int>(dim), rank, world);
          absl::StatusOr<Tensor> shard = materialize_shard(t, spec);
          ASSERT_TRUE(shard.ok()) << shard.status();
          const Region region = *spec.Resolve(t.sizes());
          ASSERT_EQ(region.start[dim], covered);  // parts are adjacent...
          covered = region.stop[dim];
          ASSERT_TRUE(TensorsBitwiseEqual(SliceOf(expected[i].second, region), *shard));
        }
        EXPECT_EQ(covered, t.size(dim)) << name;  // ...and together make the whole
      }
    }
  }
}

TEST(ModelShardTest, Gpt2) {
  ExpectShardsEqualSlices([] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); });
}

TEST(ModelShardTest, Llama) {
  ExpectShardsEqualSlices([] { return std::make_shared<examples::Llama>(examples::LlamaConfig::Tiny()); });
}

TEST(ModelShardTest, Mamba) {
  ExpectShardsEqualSlices([] { return std::make_shared<examples::Mamba>(examples::MambaConfig::Tiny()); });
}

TEST(ModelShardTest, Vit) {
  ExpectShardsEqualSlices([] { return std::make_shared<examples::Vit>(examples::VitConfig::Tiny()); });
}

TEST(ModelShardTest, WhisperEncoder) {
  ExpectShardsEqualSlices([] {
    return std::make_shared<examples::WhisperEncoder>(examples::WhisperEncoderConfig::Tiny());
  });
}

TEST(ModelShardTest, StandardLayers) {
  const std::vector<std::pair<std::string, ModuleFactory>> layers = StandardLayerFactories();

  for (const auto& [name, factory] : layers) {
    SCOPED_TRACE(name);
    ExpectShardsEqualSlices(factory);
  }
}

// GPT-2 initializes each weight twice (the layer's kaiming init, then the model's
// normal_(0, 0.02)) and each LayerNorm and bias from `empty`; replay runs only the last
// op of every parameter, whole or sharded: 81 ops recorded, 28 run.
TEST(ModelShardTest, ReplayRunsOnlyTheOpsWhoseValuesSurvive) {
  manual_seed(11);
  absl::StatusOr<std::shared_ptr<examples::Gpt2>> model =
      deferred_init<examples::Gpt2>(examples::Gpt2Config::Tiny());
  ASSERT_TRUE(model.ok());
  const std::shared_ptr<Trace> trace = TraceOf((*model)->named_parameters()[0].second);
  std::vector<ReplayTarget> whole, rows;
  int64_t elements = 0, shard_elements = 0;
  for (const auto& [name, t] : (*model)->named_parameters()) {
    const StorageVersion value = trace->Latest(*t.storage());
    whole.push_back(ReplayTarget{value, Region::Full(t.sizes())});
    const Region region = *ShardSpec::TensorSplit(0, 1, 4).Resolve(t.sizes());
    rows.push_back(ReplayTarget{value, region});
    elements += t.numel();
    shard_elements += region.numel();
  }
  EXPECT_GT(trace->num_ops(), static_cast<int64_t>(2 * whole.size()));
  ReplaySession session(trace, Device::CPU());
  session.Run(whole);
  EXPECT_EQ(session.ops_run(), static_cast<int64_t>(whole.size()));
  EXPECT_EQ(session.elements_computed(), elements);
  ReplaySession sharded(trace, Device::CPU());
  sharded.Run(rows);
  EXPECT_EQ(sharded.ops_run(), static_cast<int64_t>(rows.size()));
  EXPECT_EQ(sharded.elements_computed(), shard_elements);
}

}  // namespace
}  // namespace deferred
