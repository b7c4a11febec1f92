#include "deferred/deferred.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/device_memory.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/recorder.h"
#include "replay/replay_session.h"
#include "replay/trace.h"

namespace deferred {
namespace {

// The device `t` (named `name`) materializes on: `requested`, or else its home device,
// which must be usable here (an error that says how to choose another).
absl::StatusOr<Device> TargetDevice(const Tensor& t, const std::string& name,
                                    const std::optional<Device>& requested) {
  if (requested) return *requested;
  const Device home = t.device();
  if (absl::Status usable = check_device(home); !usable.ok()) {
    return absl::Status(usable.code(),
                        absl::StrCat(name, " was created on ", home.ToString(),
                                     ", its home device: ", usable.message(),
                                     "; set MaterializeOptions::device (or pass a device) "
                                     "to materialize it elsewhere"));
  }
  return home;
}

// InvalidArgument naming `api` for an undefined or meta tensor, which have nothing to
// materialize; OK otherwise.
absl::Status CheckMaterializable(const Tensor& t, const char* api) {
  if (!t.defined()) return absl::InvalidArgumentError(absl::StrCat(api, ": undefined tensor"));
  if (t.is_meta()) {
    return absl::InvalidArgumentError(absl::StrCat(
        api, ": ", t.ToString(),
        " is on the meta device: it is only a shape and has no values to materialize; "
        "create it on a real device to record it"));
  }
  return absl::OkStatus();
}

// A new contiguous tensor with `view`'s values, on its device.
Tensor CompactCopy(const Tensor& view) {
  const Tensor out = AllocateTensor(view.sizes(), view.dtype(), view.device());
  OpCall copy{&OpRegistry::Global().Get("copy_"), {out, view}, {}};
  RunEager(copy);
  return out;
}

// `view` itself when it is exactly its whole storage, contiguously (a replay buffer that
// holds just the shard, owned by nobody else); else a new contiguous copy on its device.
Tensor CompactShard(const Tensor& view) {
  if (view.is_contiguous() && view.storage_offset() == 0 &&
      view.storage()->nbytes() == view.numel() * ElementSize(view.dtype())) {
    return view;
  }
  return CompactCopy(view);
}

// Serializes what materialize_module reads and changes of module trees (their tensor
// lists, and the tensors it replaces by shards), so that concurrent calls on one tree, or
// on a parent and its child, see each other's results. Replay runs outside it. A
// std::mutex, as elsewhere, so that ThreadSanitizer sees it.
std::mutex& ModuleTreeMutex() {
  static std::mutex* const mutex = new std::mutex;  // never destroyed: used at exit
  return *mutex;
}

}  // namespace

absl::StatusOr<std::shared_ptr<nn::Module>> deferred_init(const ModuleFactory& factory) {
  if (!factory) return absl::InvalidArgumentError("deferred_init: the module factory is empty");
  std::shared_ptr<OpRecorder> recorder;
  if (RecordingMode* enclosing = CurrentRecordingMode()) {
    recorder = enclosing->recorder();
  } else {
    recorder = std::make_shared<Trace>();
  }
  RecordingMode mode(recorder);
  const RngState rng_before = get_rng_state();
  std::shared_ptr<nn::Module> module;
  absl::Status status = CatchErrors([&] {
    ScopedDispatchMode scope(&mode);
    module = factory();
  });
  if (status.ok() && module == nullptr) {
    status = absl::InvalidArgumentError("deferred_init: the module factory returned null");
  } else if (status.code() == absl::StatusCode::kInternal) {
    status = absl::InternalError(
        absl::StrCat("deferred_init: the module factory threw: ", status.message()));
  }
  if (!status.ok()) {
    set_rng_state(rng_before);
    return status;
  }
  return module;
}

bool is_fake(const Tensor& t) { return t.defined() && t.is_fake(); }

absl::Status check_device(Device device) {
  if (device.is_meta()) {
    return absl::InvalidArgumentError(
        "cannot materialize on the meta device: meta tensors hold no data");
  }
  return CheckDeviceUsable(device);
}

absl::Status materialize_module(nn::Module& module, const MaterializeOptions& options) {
  if (options.device) {
    if (absl::Status status = check_device(*options.device); !status.ok()) return status;
  }
  // Per trace and target device: fake storages to fill whole (one per storage: tied
  // parameters and views share it), and tensors to replace by a shard.
  struct Work {
    Trace* trace = nullptr;
    Device device = Device::CPU();
    std::vector<Storage> whole;
    std::vector<std::pair<nn::NamedTensor, Region>> shards;
  };
  return CatchErrors([&] {
    std::vector<nn::NamedTensor> selected;
    {
      std::lock_guard<std::mutex> lock(ModuleTreeMutex());
      selected = module.named_buffers();
      if (!options.buffers_only) {
        std::vector<nn::NamedTensor> parameters = module.named_parameters();
        selected.insert(selected.begin(), parameters.begin(), parameters.end());
      }
    }
    std::map<std::pair<Trace*, std::string>, Work> work_by_trace;
    absl::flat_hash_set<const StorageImpl*> whole_storages;
    for (const auto& [name, tensor] : selected) {
      if (!is_fake(tensor) || (options.filter && !options.filter(name))) continue;
      std::shared_ptr<Trace> trace = TraceOf(tensor);
      if (trace == nullptr) {
        // Materialized by a concurrent call since it was selected.
        if (tensor.has_data()) continue;
        ThrowErrorWithCode(absl::StatusCode::kFailedPrecondition,
                           "%s is fake but was not recorded by deferred_init", name);
      }
      absl::StatusOr<Device> device = TargetDevice(tensor, name, options.device);
      if (!device.ok()) throw Error(std::string(device.status().message()), device.status().code());
      Work& work = work_by_trace[{trace.get(), device->ToString()}];
      work.trace = trace.get();
      work.device = *device;
      std::optional<ShardSpec> spec;
      if (options.shard) spec = options.shard(name, tensor.sizes());
      if (spec) {
        absl::StatusOr<Region> region = spec->Resolve(tensor.sizes());
        if (!region.ok()) ThrowError("%s: %s", name, region.status().message());
        work.shards.push_back({{name, tensor}, *region});
      } else if (whole_storages.insert(tensor.storage().get()).second) {
        work.whole.push_back(tensor.storage());
      }
    }
    for (auto& [key, work] : work_by_trace) {
      Trace* trace = work.trace;
      std::vector<ReplayTarget> targets;
      for (const Storage& storage : work.whole) {
        const StorageVersion value = trace->Latest(*storage);
        targets.push_back({value, Region::Full(trace->Storage(value.storage_id).sizes)});
      }
      for (const auto& [named, region] : work.shards) {
        const StorageVersion value = trace->Latest(*named.second.storage());
        const Shape& base = trace->Storage(value.storage_id).sizes;
        targets.push_back({value, BaseRegionOf(named.second.layout(), base, region)});
      }
      ReplaySession session(trace->shared_from_this(), work.device);
      std::vector<RegionBuffer> results = session.Run(targets);
      // Shards first: a shard may share its buffer with a storage filled whole below.
      std::vector<Tensor> shards;
      for (size_t i = 0; i < work.shards.size(); ++i) {
        const auto& [named, region] = work.shards[i];
        const Shape& base = trace->Storage(targets[work.whole.size() + i].value.storage_id).sizes;
        // A buffer that a whole storage also receives must not be handed out as well.
        const RegionBuffer& buffer = results[work.whole.size() + i];
        bool shared = false;
        for (size_t w = 0; w < work.whole.size(); ++w) shared |= results[w].storage == buffer.storage;
        const Tensor view =
            ViewOfRegion(buffer, named.second.layout(), named.second.dtype(), base, region);
        shards.push_back(shared ? CompactCopy(view) : CompactShard(view));
      }
      std::lock_guard<std::mutex> lock(ModuleTreeMutex());
      for (size_t i = 0; i < work.shards.size(); ++i) {
        const auto& [named, region] = work.shards[i];
        // A concurrent call may have replaced the tensor already: names_of is then empty.
        for (const std::string& name : module.names_of(named.second)) {
          module.replace_tensor(name, shards[i]);
        }
        if (options.shard_report != nullptr) {
          options.shard_report->push_back(ShardInfo{named.first, named.second.sizes(), region});
        }
      }
      // A storage that a concurrent call filled first keeps that call's bytes (equal ones).
      for (size_t i = 0; i < work.whole.size(); ++i) {
        work.whole[i]->TakeDataFrom(*results[i].storage);
      }
    }
  });
}

absl::StatusOr<Tensor> materialize_shard(const Tensor& t, const ShardSpec& spec,
                                         std::optional<Device> requested) {
  if (requested) {
    if (absl::Status status = check_device(*requested); !status.ok()) return status;
  }
  if (absl::Status status = CheckMaterializable(t, "materialize_shard"); !status.ok()) {
    return status;
  }
  absl::StatusOr<Device> device = TargetDevice(t, t.ToString(), requested);
  if (!device.ok()) return device.status();
  absl::StatusOr<Region> region = spec.Resolve(t.sizes());
  if (!region.ok()) return region.status();
  Tensor result;
  absl::Status status = CatchErrors([&] {
    if (t.has_data()) {
      const Shape base = {t.storage()->nbytes() / ElementSize(t.dtype())};
      result = CompactCopy(ViewOfRegion(RegionBuffer{t.storage(), Region::Full(base)}, t.layout(),
                                        t.dtype(), base, *region));
      return;
    }
    std::shared_ptr<Trace> trace = TraceOf(t);
    if (trace == nullptr) {
      ThrowError("materialize_shard: %s has no data and no recording to replay", t.ToString());
    }
    const StorageVersion value = trace->Latest(*t.storage());
    const Shape& base = trace->Storage(value.storage_id).sizes;
    ReplaySession session(trace, *device);
    const RegionBuffer buffer =
        session.Run({ReplayTarget{value, BaseRegionOf(t.layout(), base, *region)}})[0];
    result = CompactShard(ViewOfRegion(buffer, t.layout(), t.dtype(), base, *region));
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Tensor> materialize_tensor(const Tensor& t, std::optional<Device> requested) {
  if (requested) {
    if (absl::Status status = check_device(*requested); !status.ok()) return status;
  }
  if (absl::Status status = CheckMaterializable(t, "materialize_tensor"); !status.ok()) {
    return status;
  }
  if (t.has_data() && !requested) return t;
  absl::StatusOr<Device> device = TargetDevice(t, t.ToString(), requested);
  if (!device.ok()) return device.status();
  Tensor result;
  absl::Status status = CatchErrors([&] {
    if (t.has_data()) {
      if (t.device() != *device) {
        ThrowErrorWithCode(absl::StatusCode::kUnimplemented,
                           "materialize_tensor: moving a real tensor from %s to %s is not "
                           "supported",
                           t.device().ToString(), device->ToString());
      }
      result = t;
      return;
    }
    std::shared_ptr<Trace> trace = TraceOf(t);
    if (trace == nullptr) {
      ThrowError("materialize_tensor: %s has no data and no recording to replay", t.ToString());
    }
    ReplaySession session(trace, *device);
    result = MakeTensor(session.RunWhole({trace->Latest(*t.storage())})[0], t.layout(), t.dtype());
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace deferred
