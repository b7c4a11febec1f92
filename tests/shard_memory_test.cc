// Memory of shard materialization: a rank that builds 1/W of a weight whose init is
// elementwise allocates about 1/W of it, counted by the tensor allocator.
#include <memory>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "deferred/nn/linear.h"
#include "examples/models/llama.h"
#include "gtest/gtest.h"
#include "replay/replay_session.h"
#include "replay/trace.h"

namespace deferred {
namespace {

// Peak bytes allocated while materializing `spec` of `t`, above what was live before.
int64_t PeakBytesOfShard(const Tensor& t, const ShardSpec& spec) {
  const int64_t live_before = GetAllocationStats().live_bytes;
  ResetPeakBytes();
  absl::StatusOr<Tensor> shard = materialize_shard(t, spec);
  EXPECT_TRUE(shard.ok()) << shard.status();
  return GetAllocationStats().peak_bytes - live_before;
}

TEST(ShardMemoryTest, ShardOfAnElementwiseInitAllocatesItsShare) {
  absl::StatusOr<std::shared_ptr<nn::Linear>> linear = deferred_init<nn::Linear>(1024, 4096);
  ASSERT_TRUE(linear.ok());
  const Tensor& weight = (*linear)->weight();  // [4096, 1024] float32: 16 MiB
  const int64_t full_bytes = weight.numel() * 4;
  for (int dim = 0; dim < 2; ++dim) {
    for (int world : {2, 4, 8}) {
      SCOPED_TRACE(absl::StrCat("dim ", dim, " world ", world));
      const int64_t shard_bytes = full_bytes / world;
      // The replay buffer holds just the shard and becomes the result: nothing else.
      EXPECT_LE(PeakBytesOfShard(weight, ShardSpec::Chunk(dim, world - 1, world)),
                shard_bytes + 4096);
    }
  }
}

TEST(ShardMemoryTest, ElementwiseChainsRunOnlyOverTheRegion) {
  absl::StatusOr<std::shared_ptr<nn::Linear>> linear = deferred_init<nn::Linear>(256, 512);
  ASSERT_TRUE(linear.ok());
  const Tensor& weight = (*linear)->weight();
  const std::shared_ptr<Trace> trace = TraceOf(weight);
  const StorageVersion value = trace->Latest(*weight.storage());
  ReplaySession session(trace, Device::CPU());
  const Region region{{64, 0}, {128, 256}};
  const std::vector<RegionBuffer> result = session.Run({ReplayTarget{value, region}});
  EXPECT_EQ(result[0].region, region);
  EXPECT_TRUE(session.whole_fallbacks().empty());
}

TEST(ShardMemoryTest, DecoderLayerShardOfLlama70BStaysNearItsShare) {
  // One decoder layer of the 70B configuration: 855.6M parameters, 3.4 GB in float32;
  // rank 0 of 8 of its largest weight (up_proj, 940 MB) needs an eighth of that.
  examples::LlamaConfig config = examples::LlamaConfig::Llama70B();
  absl::StatusOr<std::shared_ptr<examples::LlamaDecoderLayer>> layer =
      deferred_init<examples::LlamaDecoderLayer>(config);
  ASSERT_TRUE(layer.ok());
  const Tensor& up = (*layer)->child("mlp")->child("up_proj")->parameter("weight");
  const int64_t shard_bytes = up.numel() * 4 / 8;  // 117 MB of 940 MB
  EXPECT_LE(PeakBytesOfShard(up, ShardSpec::Chunk(0, 0, 8)), shard_bytes + 4096);
}

}  // namespace
}  // namespace deferred
