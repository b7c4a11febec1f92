#include "deferred/checkpoint.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/safetensors_writer.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "nlohmann/json.hpp"

namespace deferred {
namespace {

// One tensor of a module with every name it has, in registration order.
struct NamedGroup {
  std::vector<std::string> names;
  Tensor tensor;
  bool buffer = false;
  bool persistent = true;  // false only for a buffer registered as not persistent
};

// The dtype a tensor of `dtype` is saved in.
DType SavedDType(DType dtype, const SaveCheckpointOptions& options) {
  return options.dtype && IsFloatingPoint(dtype) ? *options.dtype : dtype;
}

// The module's tensors (a tied tensor once), parameters first, as materialize_module
// selects them.
std::vector<NamedGroup> TensorsOf(const nn::Module& module, bool buffers_only) {
  std::vector<NamedGroup> groups;
  absl::flat_hash_map<const TensorImpl*, size_t> position;
  for (bool buffers : {false, true}) {
    if (!buffers && buffers_only) continue;
    for (const nn::Module::TensorEntry& entry : module.tensor_entries()) {
      if (entry.buffer != buffers) continue;
      auto [it, added] = position.try_emplace(entry.tensor.impl(), groups.size());
      if (added) groups.push_back(NamedGroup{{}, entry.tensor, entry.buffer, entry.persistent});
      groups[it->second].names.push_back(entry.name);
    }
  }
  return groups;
}

// Whether `t` is all of its storage, contiguously: its bytes can be the storage's.
bool IsWholeStorage(const Tensor& t) {
  return t.is_contiguous() && t.storage_offset() == 0 &&
         t.storage()->nbytes() == t.numel() * ElementSize(t.dtype());
}

// A tensor to fill from the checkpoint, and the values read for it.
struct Load {
  const NamedGroup* group;
  const CheckpointTensor* stored;
  std::optional<Region> shard;  // the region to replace it by, under a shard plan
  Tensor values;                // what was read (contiguous, the tensor's dtype)
};

absl::Status ReadValues(const Checkpoint& checkpoint, Load& load) {
  const Tensor& t = load.group->tensor;
  const Region region = load.shard ? *load.shard : Region::Full(t.sizes());
  load.values = AllocateTensor(region.sizes(), t.dtype(), Device::CPU());
  return checkpoint.ReadRegion(*load.stored, region, t.dtype(), load.values.storage()->data());
}

std::string JoinNames(const std::vector<std::string>& names) {
  constexpr size_t kShown = 20;
  std::string out = absl::StrJoin(names.begin(), names.begin() + std::min(names.size(), kShown), ", ");
  if (names.size() > kShown) absl::StrAppendFormat(&out, " and %d more", names.size() - kShown);
  return out;
}

}  // namespace

absl::Status load_checkpoint(nn::Module& module, const std::string& path,
                             const LoadCheckpointOptions& options) {
  const MaterializeOptions& materialize = options.materialize;
  if (materialize.device && !materialize.device->is_cpu()) {
    return absl::UnavailableError(absl::StrFormat(
        "load_checkpoint: reading into %s is not available: this build loads into CPU memory",
        materialize.device->ToString()));
  }
  absl::StatusOr<std::unique_ptr<Checkpoint>> opened = Checkpoint::Open(path);
  if (!opened.ok()) return opened.status();
  const Checkpoint& checkpoint = **opened;

  std::vector<Load> loads;
  std::vector<std::string> missing;
  std::set<std::string> used;
  std::vector<std::pair<std::string, Tensor>> unread;  // initialized from the trace
  const std::vector<NamedGroup> groups = TensorsOf(module, materialize.buffers_only);
  absl::Status status = CatchErrors([&] {
    for (const NamedGroup& group : groups) {
      const std::string& name = group.names.front();
      const Tensor& t = group.tensor;
      if (!t.defined() || (materialize.filter && !materialize.filter(name))) continue;
      if (is_fake(t) && !materialize.device && !t.device().is_cpu()) {
        ThrowErrorWithCode(absl::StatusCode::kUnavailable,
                           "load_checkpoint: %s was created on %s, its home device, and this "
                           "build loads into CPU memory only; set materialize.device to "
                           "Device::CPU() to load it there",
                           name, t.device().ToString());
      }
      // As in a state dict, buffers that are not persistent are never in a checkpoint.
      if (!group.persistent) {
        if (is_fake(t)) unread.emplace_back(name, t);
        continue;
      }
      const CheckpointTensor* stored = nullptr;
      for (const std::string& n : group.names) {
        stored = checkpoint.Find(options.key ? options.key(n) : n);
        if (stored != nullptr) break;
      }
      if (stored == nullptr) {
        missing.push_back(name);
        if (is_fake(t)) unread.emplace_back(name, t);
        continue;
      }
      used.insert(stored->name);
      if (t.is_meta()) ThrowError("load_checkpoint: %s is a meta tensor, which holds no values", name);
      if (stored->shape != t.sizes()) {
        ThrowError("load_checkpoint: %s has shape %s, but checkpoint tensor '%s' has shape %s",
                   name, ShapeToString(t.sizes()), stored->name, ShapeToString(stored->shape));
      }
      std::optional<Region> shard;
      if (materialize.shard) {
        if (std::optional<ShardSpec> spec = materialize.shard(name, t.sizes())) {
          absl::StatusOr<Region> region = spec->Resolve(t.sizes());
          if (!region.ok()) ThrowError("%s: %s", name, region.status().message());
          shard = *region;
        }
      }
      loads.push_back(Load{&group, stored, shard, Tensor()});
    }
    if (options.strict) {
      std::vector<std::string> unexpected;
      for (const CheckpointTensor& t : checkpoint.tensors()) {
        if (!used.contains(t.name)) unexpected.push_back(t.name);
      }
      if (!missing.empty() || !unexpected.empty()) {
        ThrowError("load_checkpoint %s (strict): %d tensors have no key [%s]; %d keys have no "
                   "tensor [%s]",
                   path, missing.size(), JoinNames(missing), unexpected.size(),
                   JoinNames(unexpected));
      }
    }
  });
  if (!status.ok()) return status;
  // Every read before any change: a read that fails leaves the module as it was.
  for (Load& load : loads) {
    if (absl::Status s = ReadValues(checkpoint, load); !s.ok()) return s;
  }

  return CatchErrors([&] {
    // Whole fake storages take the bytes read; views of larger storages are first
    // materialized from the trace (with the tensors the checkpoint lacks), then overwritten.
    std::set<std::string> from_trace;
    for (const auto& [name, t] : unread) from_trace.insert(name);
    std::vector<const Load*> overwrites;
    for (const Load& load : loads) {
      const Tensor& t = load.group->tensor;
      if (load.shard) continue;
      if (is_fake(t) && IsWholeStorage(t)) {
        t.storage()->TakeDataFrom(*load.values.storage());
      } else {
        if (is_fake(t)) from_trace.insert(load.group->names.front());
        overwrites.push_back(&load);
      }
    }
    MaterializeOptions rest = materialize;
    rest.filter = [&](const std::string& name) { return from_trace.contains(name); };
    if (absl::Status s = materialize_module(module, rest); !s.ok()) throw Error(std::string(s.message()), s.code());
    for (const Load* load : overwrites) {
      Dispatch("copy_", {load->group->tensor, load->values}, {});
    }
    for (const Load& load : loads) {
      if (!load.shard) continue;
      for (const std::string& name : load.group->names) module.replace_tensor(name, load.values);
      if (materialize.shard_report != nullptr) {
        materialize.shard_report->push_back(
            ShardInfo{load.group->names.front(), load.group->tensor.sizes(), *load.shard});
      }
    }
  });
}

absl::Status save_checkpoint(const nn::Module& module, const std::string& path,
                             const SaveCheckpointOptions& options) {
  const bool split = options.max_shard_bytes > 0;
  if (split && (path.size() < 5 || path.substr(path.size() - 5) != ".json")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "save_checkpoint: with max_shard_bytes, the path is the index and must end in .json, "
        "got %s",
        path));
  }
  if (split && options.shards != nullptr) {
    return absl::InvalidArgumentError(
        "save_checkpoint: a module of shards is saved one file per rank, not split further");
  }
  if (options.dtype && !IsFloatingPoint(*options.dtype)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "save_checkpoint: dtype must be a floating-point dtype, got %s",
        DTypeName(*options.dtype)));
  }
  if (options.max_shard_bytes < 0) {
    return absl::InvalidArgumentError("save_checkpoint: max_shard_bytes must be non-negative");
  }
  std::vector<NamedGroup> groups;
  for (NamedGroup& group : TensorsOf(module, false)) {
    if (group.persistent && (!options.filter || options.filter(group.names.front()))) {
      groups.push_back(std::move(group));
    }
  }
  absl::flat_hash_map<std::string, const ShardInfo*> shard_of;
  if (options.shards != nullptr) {
    for (const ShardInfo& info : *options.shards) shard_of[info.name] = &info;
  }
  std::vector<SafetensorsTensor> tensors;
  nlohmann::json regions = nlohmann::json::object();
  for (const NamedGroup& group : groups) {
    const Tensor& t = group.tensor;
    const std::string& name = group.names.front();
    if (!t.defined() || t.is_meta()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "save_checkpoint: %s is %s and has no values to save", name,
          t.defined() ? "a meta tensor" : "undefined"));
    }
    tensors.push_back(SafetensorsTensor{name, SavedDType(t.dtype(), options), t.sizes()});
    if (options.shards != nullptr) {
      auto it = shard_of.find(name);
      const bool sharded = it != shard_of.end();
      regions[name] = {{"shape", sharded ? it->second->full_shape : t.sizes()},
                       {"start", sharded ? it->second->region.start : Shape(t.dim(), 0)}};
    }
  }
  std::map<std::string, std::string> metadata = options.metadata;
  if (options.shards != nullptr) metadata[kRegionsMetadataKey] = regions.dump();

  // Files: [first, last) of `tensors` each.
  std::vector<std::pair<size_t, size_t>> files;
  int64_t in_file = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const int64_t bytes = groups[i].tensor.numel() * ElementSize(tensors[i].dtype);
    if (files.empty() || (split && in_file > 0 && in_file + bytes > options.max_shard_bytes)) {
      files.emplace_back(i, i);
      in_file = 0;
    }
    files.back().second = i + 1;
    in_file += bytes;
  }
  if (files.empty()) files.emplace_back(0, 0);
  const std::string folder = path.substr(0, path.rfind('/') + 1);
  std::map<std::string, std::string> weight_map;
  int64_t total = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string name = absl::StrFormat("model-%05d-of-%05d.safetensors", f + 1, files.size());
    const std::string file_path = split ? folder + name : path;
    std::vector<SafetensorsTensor> part(tensors.begin() + files[f].first,
                                        tensors.begin() + files[f].second);
    absl::StatusOr<std::unique_ptr<SafetensorsWriter>> writer =
        SafetensorsWriter::Create(file_path, part, metadata);
    if (!writer.ok()) return writer.status();
    for (size_t i = files[f].first; i < files[f].second; ++i) {
      // One tensor's values at a time: materialized, written, freed.
      absl::StatusOr<Tensor> values = materialize_tensor(groups[i].tensor);
      if (!values.ok()) return values.status();
      if (values->dtype() != tensors[i].dtype) {
        absl::Status converted = CatchErrors([&] { values = to(*values, tensors[i].dtype); });
        if (!converted.ok()) return converted;
      }
      absl::Status appended;
      if (values->is_contiguous()) {
        const char* data = reinterpret_cast<const char*>(values->storage()->data()) +
                           values->storage_offset() * ElementSize(values->dtype());
        appended = (*writer)->AppendTensor(
            std::string_view(data, static_cast<size_t>(values->numel() * ElementSize(values->dtype()))));
      } else {
        appended = (*writer)->AppendTensor(values->to_bytes());
      }
      if (!appended.ok()) return appended;
      weight_map[tensors[i].name] = name;
    }
    total += (*writer)->data_bytes();
    if (absl::Status s = (*writer)->Commit(); !s.ok()) return s;
  }
  if (!split) return absl::OkStatus();
  return WriteCheckpointIndex(path, weight_map, {}, total);
}

}  // namespace deferred
