#include "deferred/deferred.h"

#include <exception>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/recorder.h"
#include "replay/replay_session.h"
#include "replay/trace.h"

namespace deferred {
namespace {

absl::Status CheckTargetDevice(Device device) {
  if (device.is_meta()) {
    return absl::InvalidArgumentError(
        "cannot materialize on the meta device: meta tensors hold no data");
  }
  if (device.is_cuda()) {
    return absl::UnavailableError(absl::StrCat("device ", device.ToString(),
                                               " is not available: this build of deferred "
                                               "materializes on the CPU only"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<nn::Module>> deferred_init(const ModuleFactory& factory) {
  std::shared_ptr<OpRecorder> recorder;
  if (RecordingMode* enclosing = CurrentRecordingMode()) {
    recorder = enclosing->recorder();
  } else {
    recorder = std::make_shared<Trace>();
  }
  RecordingMode mode(recorder);
  const RngState rng_before = get_rng_state();
  try {
    ScopedDispatchMode scope(&mode);
    std::shared_ptr<nn::Module> module = factory();
    if (module == nullptr) {
      return absl::InvalidArgumentError("deferred_init: the module factory returned null");
    }
    return module;
  } catch (const Error& e) {
    set_rng_state(rng_before);
    return e.ToStatus();
  } catch (const std::exception& e) {
    set_rng_state(rng_before);
    return absl::InternalError(absl::StrCat("deferred_init: the module factory threw: ", e.what()));
  }
}

bool is_fake(const Tensor& t) { return t.defined() && t.is_fake(); }

absl::Status materialize_module(nn::Module& module, const MaterializeOptions& options) {
  if (absl::Status status = CheckTargetDevice(options.device); !status.ok()) return status;
  std::vector<nn::NamedTensor> selected = module.named_buffers();
  if (!options.buffers_only) {
    std::vector<nn::NamedTensor> parameters = module.named_parameters();
    selected.insert(selected.begin(), parameters.begin(), parameters.end());
  }
  // One target per fake storage (tied parameters and views share one), grouped by trace.
  absl::flat_hash_map<Trace*, std::vector<Storage>> storages_by_trace;
  absl::flat_hash_map<StorageImpl*, bool> seen;
  for (const auto& [name, tensor] : selected) {
    if (!is_fake(tensor) || (options.filter && !options.filter(name))) continue;
    if (!seen.emplace(tensor.storage().get(), true).second) continue;
    std::shared_ptr<Trace> trace = TraceOf(tensor);
    if (trace == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, " is fake but was not recorded by deferred_init"));
    }
    storages_by_trace[trace.get()].push_back(tensor.storage());
  }
  return CatchErrors([&] {
    for (auto& [trace, storages] : storages_by_trace) {
      std::vector<StorageVersion> targets;
      for (const Storage& storage : storages) targets.push_back(trace->Latest(*storage));
      ReplaySession session(trace->shared_from_this(), options.device);
      std::vector<Storage> results = session.RunWhole(targets);
      for (size_t i = 0; i < storages.size(); ++i) storages[i]->TakeDataFrom(*results[i]);
    }
  });
}

absl::StatusOr<Tensor> materialize_tensor(const Tensor& t, Device device) {
  if (absl::Status status = CheckTargetDevice(device); !status.ok()) return status;
  if (!t.defined()) return absl::InvalidArgumentError("materialize_tensor: undefined tensor");
  if (t.has_data()) {
    if (t.device() == device) return t;
    return absl::UnimplementedError(absl::StrCat("materialize_tensor: moving a real tensor from ",
                                                 t.device().ToString(), " to ",
                                                 device.ToString(), " is not supported"));
  }
  std::shared_ptr<Trace> trace = TraceOf(t);
  if (trace == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("materialize_tensor: ", t.ToString(),
                                                   " has no data and no recording to replay"));
  }
  Tensor result;
  absl::Status status = CatchErrors([&] {
    ReplaySession session(trace, device);
    result = MakeTensor(session.RunWhole({trace->Latest(*t.storage())})[0], t.layout(), t.dtype());
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace deferred
