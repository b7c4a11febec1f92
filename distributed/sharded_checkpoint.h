#ifndef DEFERRED_DISTRIBUTED_SHARDED_CHECKPOINT_H_
#define DEFERRED_DISTRIBUTED_SHARDED_CHECKPOINT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "deferred/nn/module.h"
#include "distributed/communicator.h"

namespace deferred::distributed {

// The index a sharded save writes in its folder.
inline constexpr char kShardedIndexName[] = "model.safetensors.index.json";

// Saves the shards the ranks hold of `module` (as materialize_module's `report` says; the
// tensors it does not name are whole) as one checkpoint in `folder`, which every rank can
// write to: each rank writes rank-RRRRR-of-WWWWW.safetensors with the non-empty regions it is
// the lowest rank to hold — a region that several ranks replicate is written once, a tensor
// of no elements by rank 0 — and
// rank 0 the index kShardedIndexName, from which load_checkpoint reads any shard at any
// world size. `options` apply to every rank's file (their `filter`, `shards` and
// `max_shard_bytes` must be unset). Collective; the verdict is the same on every rank.
absl::Status SaveShardedCheckpoint(const Communicator& world, const nn::Module& module,
                                   const std::vector<ShardInfo>& report, const std::string& folder,
                                   const SaveCheckpointOptions& options = {});

}  // namespace deferred::distributed

#endif  // DEFERRED_DISTRIBUTED_SHARDED_CHECKPOINT_H_
