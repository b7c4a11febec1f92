#ifndef DEFERRED_DEFERRED_CHECKPOINT_H_
#define DEFERRED_DEFERRED_CHECKPOINT_H_

// Checkpoints in safetensors (docs/CHECKPOINTS.md). A deferred model loads a checkpoint
// at 1x memory: each fake tensor's storage receives the file's bytes directly — only its
// shard's bytes when a shard plan is given — and tensors the checkpoint lacks are
// initialized from the trace. Saving a fake model materializes it tensor by tensor.
//
//   deferred::load_checkpoint(**model, "model.safetensors.index.json");

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "checkpoint/safetensors_file.h"  // GetCheckpointReadStats: what loads read
#include "deferred/deferred.h"
#include "deferred/nn/module.h"

namespace deferred {

struct LoadCheckpointOptions {
  // Every selected tensor must have a key and every key a tensor; otherwise an error
  // listing the missing and the unexpected keys, before anything is read.
  bool strict = false;
  // The checkpoint key of a tensor's name (for renamed keys); the name itself when unset.
  // A tied tensor is looked up under each of its names, in order.
  std::function<std::string(const std::string& name)> key;
  // As for materialize_module: the device; buffers only; a filter; a shard plan, under
  // which each tensor is replaced by its shard, read from the file as just the shard's
  // bytes; a shard report. They apply alike to tensors read and to those initialized from
  // the trace.
  MaterializeOptions materialize;
};

// Fills `module`'s tensors from the checkpoint at `path`: a safetensors file, or an index
// (Hugging Face's model.safetensors.index.json, or a sharded save's). A tensor with a key
// receives the file's values, converted to its dtype (casts; floats round to nearest
// even): a fake tensor that is its whole storage gets the bytes straight into new storage;
// a fake view is materialized from the trace and then overwritten; a real tensor is
// overwritten in place. Tied tensors are read once. Tensors without a key are
// materialized from the trace. Every file is checked, and every read made, before the
// module changes, so a bad file leaves it as it was. Errors: the checkpoint's (DataLoss,
// InvalidArgument naming the file and tensor); InvalidArgument for a shape that differs
// (naming the tensor and both shapes) and, when strict, for missing or unexpected keys;
// materialize_module's.
absl::Status load_checkpoint(nn::Module& module, const std::string& path,
                             const LoadCheckpointOptions& options = {});

struct SaveCheckpointOptions {
  // Split the data into files of at most this many bytes (a larger tensor gets a file of
  // its own), written as model-00001-of-0000N.safetensors beside `path`, which is then the
  // index (a ".json" path); 0: one file at `path`.
  int64_t max_shard_bytes = 0;
  // The file's "__metadata__".
  std::map<std::string, std::string> metadata;
  // Only tensors whose (first) name it accepts are saved (in a sharded save, one rank
  // saves the tensors no rank shards).
  std::function<bool(const std::string& name)> filter;
  // A module that holds shards (materialize_module with a shard plan) saves each tensor the
  // report names as its region of the whole tensor: the file is a region file, which an
  // index listing every rank's file ("deferred_region_files", WriteCheckpointIndex)
  // reassembles for a loader of any world size.
  const std::vector<ShardInfo>* shards = nullptr;
  // When set, floating-point tensors are written in this floating-point dtype, converted
  // while writing (rounding to nearest even); other tensors keep theirs.
  std::optional<DType> dtype;
};

// Writes `module`'s state — its parameters and persistent buffers, a tied tensor once
// under its first name (Hugging Face's convention) — to `path`, each file atomically. Fake
// tensors are materialized one at a time while writing, so the memory held stays near the
// largest tensor. Errors:
// InvalidArgument for a meta tensor, an undefined one, or options that do not fit;
// materialize_tensor's; the file system's.
absl::Status save_checkpoint(const nn::Module& module, const std::string& path,
                             const SaveCheckpointOptions& options = {});

}  // namespace deferred

#endif  // DEFERRED_DEFERRED_CHECKPOINT_H_
