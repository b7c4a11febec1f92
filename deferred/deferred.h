#ifndef DEFERRED_DEFERRED_DEFERRED_H_
#define DEFERRED_DEFERRED_DEFERRED_H_

// The public API of deferred: construct a model without allocating it, then materialize
// its tensors with the values eager construction would have given them.
//
//   deferred::manual_seed(0);
//   absl::StatusOr<std::shared_ptr<Gpt>> model = deferred::deferred_init<Gpt>(config);
//   absl::Status status = deferred::materialize_module(**model);

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "deferred/nn/module.h"
#include "deferred/shard_spec.h"
#include "deferred/trace_file.h"
#include "fake_tensor/device.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/region.h"
#include "fake_tensor/tensor.h"

namespace deferred {

using ModuleFactory = std::function<std::shared_ptr<nn::Module>()>;

// Runs `factory` in recording mode: every tensor it creates is fake (shape, dtype and home
// device — an explicit device argument included — but no bytes), every op on fake tensors
// is recorded, and random ops reserve the generator's blocks exactly as eagerly, so the
// generator ends where eager construction would leave it. Ops on the returned module's
// fake tensors keep being recorded after this returns (custom init, re-initialization).
// Factories on the meta device make meta tensors (shapes only), as eagerly. A nested call
// records into the enclosing call's trace. Errors: the factory's `Error` (InvalidArgument
// / FailedPrecondition, naming the op and module path); Internal for any other exception
// it throws; InvalidArgument for an empty factory or one that returns null. On error the
// recording mode and the generator state are restored.
absl::StatusOr<std::shared_ptr<nn::Module>> deferred_init(const ModuleFactory& factory);

// deferred_init of `std::make_shared<M>(args...)`.
template <typename M, typename... Args>
absl::StatusOr<std::shared_ptr<M>> deferred_init(Args&&... args) {
  std::shared_ptr<M> module;
  absl::StatusOr<std::shared_ptr<nn::Module>> result = deferred_init([&]() {
    module = std::make_shared<M>(std::forward<Args>(args)...);
    return std::static_pointer_cast<nn::Module>(module);
  });
  if (!result.ok()) return result.status();
  return module;
}

// True for a tensor recorded by deferred_init and not yet materialized.
bool is_fake(const Tensor& t);

// OK when this process can materialize tensors on `device`; otherwise the error
// materialize_module returns for it (Unavailable for a GPU this build cannot use,
// InvalidArgument for the meta device or an invalid one). Programs use it to choose a
// device: the rank's GPU when it has one, else the CPU.
absl::Status check_device(Device device);

// One tensor that materialize_module replaced by a shard.
struct ShardInfo {
  std::string name;
  Shape full_shape;
  Region region;
};

struct MaterializeOptions {
  // Where the tensors' bytes go; unset: each tensor's home device, the one it was created
  // on while recording.
  std::optional<Device> device;
  // Materialize buffers only, leaving parameters fake.
  bool buffers_only = false;
  // When set, only tensors whose dotted name it accepts are materialized.
  std::function<bool(const std::string& name)> filter;
  // When set, a selected tensor for which it returns a spec is replaced in the module (under
  // every name it has) by a new real tensor holding just that shard; nullopt materializes
  // the tensor whole, in place.
  std::function<std::optional<ShardSpec>(const std::string& name, const Shape& full_shape)> shard;
  // When set, receives (name, full shape, region) of every tensor replaced by a shard.
  std::vector<ShardInfo>* shard_report = nullptr;
};

// Materializes the module's fake parameters and buffers in place: each tensor's storage
// receives its bytes, so every handle to it (tied parameters, views the module keeps)
// sees them. Tensors that are already real are not touched, so materializing a child and
// then its parent initializes each tensor exactly once; meta tensors stay meta. Storages
// shared by several tensors are computed once, and intermediates are shared and freed
// after their last use. Thread-safe: concurrent calls on one module tree (or on a parent
// and its child) all succeed, and each tensor ends with the values of exactly one replay.
// Errors: Unavailable for a device this process cannot use (naming the tensor when it is
// its home device); InvalidArgument for the meta device or an invalid one (cuda:-1);
// whatever the `filter` and `shard` callbacks throw, as a Status; the error of a failing
// op otherwise.
absl::Status materialize_module(nn::Module& module, const MaterializeOptions& options = {});

// A new contiguous real tensor on `device` (unset: `t`'s home device) holding the part of
// `t` that `spec` selects,
// bitwise equal to that slice of the fully materialized tensor. Only the recorded ops the
// part depends on run, each over only the region it needs (ops without a region rule
// compute their whole output). `t` is not changed. InvalidArgument for a bad spec, an
// undefined tensor or a meta tensor (which has no values); other errors as for
// materialize_module.
absl::StatusOr<Tensor> materialize_shard(const Tensor& t, const ShardSpec& spec,
                                         std::optional<Device> device = std::nullopt);

// A real tensor with `t`'s values on `device` (unset: `t`'s home device): computed from
// the trace for a fake `t` (which stays fake), `t` itself when it is already real there.
// Errors as for materialize_module, and InvalidArgument for an undefined or meta tensor.
absl::StatusOr<Tensor> materialize_tensor(const Tensor& t,
                                          std::optional<Device> device = std::nullopt);

}  // namespace deferred

#endif  // DEFERRED_DEFERRED_DEFERRED_H_
