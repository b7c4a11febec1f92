#include "distributed/sharded_checkpoint.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "checkpoint/checkpoint.h"

namespace deferred::distributed {
namespace {

// "name region" of each non-empty part of a persistent tensor this rank holds, and of each
// tensor of no elements, one per line: what the ranks compare to choose who writes each
// region.
std::vector<std::string> PartsHeld(const nn::Module& module, const std::vector<ShardInfo>& report) {
  std::map<std::string, Region> region_of;
  for (const ShardInfo& info : report) region_of.emplace(info.name, info.region);
  std::vector<std::string> parts;
  std::vector<nn::NamedTensor> tensors = module.named_parameters();
  for (nn::NamedTensor& buffer : module.named_persistent_buffers())
    tensors.push_back(std::move(buffer));
  for (const auto& [name, t] : tensors) {
    auto it = region_of.find(name);
    const Region region = it == region_of.end() ? Region::Full(t.sizes()) : it->second;
    // A tensor of no elements is held, empty, by every rank: rank 0 writes it.
    if (!region.empty() || t.numel() == 0) {
      parts.push_back(absl::StrCat(name, " ", region.ToString()));
    }
  }
  return parts;
}

}  // namespace

absl::Status SaveShardedCheckpoint(const Communicator& world, const nn::Module& module,
                                   const std::vector<ShardInfo>& report, const std::string& folder,
                                   const SaveCheckpointOptions& options) {
  absl::Status status;
  if (options.filter || options.shards != nullptr || options.max_shard_bytes != 0) {
    status = absl::InvalidArgumentError(
        "SaveShardedCheckpoint: options.filter, options.shards and options.max_shard_bytes are "
        "its own to set");
  }
  if (status = world.Agree(status); !status.ok()) return status;

  absl::StatusOr<std::vector<std::string>> held =
      world.AllGather(absl::StrJoin(PartsHeld(module, report), "\n"));
  if (!held.ok()) return held.status();
  std::set<std::string> earlier;  // parts held by a lower rank
  for (int r = 0; r < world.rank(); ++r) {
    for (absl::string_view part : absl::StrSplit((*held)[r], '\n', absl::SkipEmpty())) {
      earlier.emplace(part);
    }
  }
  std::set<std::string> mine;  // the names of the tensors this rank writes
  for (absl::string_view part : absl::StrSplit((*held)[world.rank()], '\n', absl::SkipEmpty())) {
    if (!earlier.contains(std::string(part))) mine.emplace(part.substr(0, part.find(' ')));
  }

  const std::string file =
      mine.empty() ? ""
                   : absl::StrFormat("rank-%05d-of-%05d.safetensors", world.rank(), world.size());
  if (!mine.empty()) {
    SaveCheckpointOptions rank_options = options;
    rank_options.filter = [&](const std::string& name) { return mine.contains(name); };
    rank_options.shards = &report;
    status = save_checkpoint(module, absl::StrCat(folder, "/", file), rank_options);
  }
  if (status = world.Agree(status); !status.ok()) return status;
  absl::StatusOr<std::vector<std::string>> files = world.AllGather(file);
  if (!files.ok()) return files.status();
  if (world.rank() == 0) {
    std::vector<std::string> written;
    for (const std::string& f : *files) {
      if (!f.empty()) written.push_back(f);
    }
    status = WriteCheckpointIndex(absl::StrCat(folder, "/", kShardedIndexName), {}, written, 0);
  }
  return world.Agree(status);
}

}  // namespace deferred::distributed
