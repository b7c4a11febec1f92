#ifndef DEFERRED_DISTRIBUTED_SHARD_VERIFICATION_H_
#define DEFERRED_DISTRIBUTED_SHARD_VERIFICATION_H_

#include <vector>

#include "absl/status/status.h"
#include "deferred/deferred.h"
#include "deferred/nn/module.h"
#include "distributed/communicator.h"

namespace deferred::distributed {

enum class ShardVerification {
  // The shards' bytes travel to rank 0 (one tensor at a time), which compares them with
  // the slices of its own tensors: for models whose largest tensor fits twice on rank 0.
  kBitwise,
  // Only a checksum per shard travels (RegionChecksum): those of each tensor's distinct
  // regions must add up to the whole tensor's. Rank 0 holds one whole tensor at a time.
  kChecksum,
};

// Checks, through `world`, that the shards every rank holds of `module` — the tensors
// `report` names (materialize_module's shard report) are shards, the others whole — are
// exactly the tensors of `reference`, rank 0's single-process copy of the model (fake or
// real; unused and may be null on other ranks), which rank 0 materializes one tensor at a
// time. For each tensor, the distinct regions the ranks hold must tile it, and ranks
// holding the same region must hold the same values. Collective; the verdict is the same on
// every rank: OK, or DataLoss naming the tensor, the region and the rank that differs (or
// the elements no rank holds), or InvalidArgument when the ranks' modules do not have the
// same tensors.
absl::Status VerifyShards(const Communicator& world, const nn::Module& module,
                          const std::vector<ShardInfo>& report, const nn::Module* reference,
                          ShardVerification how);

}  // namespace deferred::distributed

#endif  // DEFERRED_DISTRIBUTED_SHARD_VERIFICATION_H_
