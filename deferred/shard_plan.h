#ifndef DEFERRED_DEFERRED_SHARD_PLAN_H_
#define DEFERRED_DEFERRED_SHARD_PLAN_H_

// Shard plans: which part of every tensor of a model a rank holds, as a function of the
// tensor's dotted name and full shape — the `MaterializeOptions::shard` callback. A plan
// needs no communication: each rank evaluates its own, and the parts of all ranks tile
// every tensor (or repeat it whole, for replicated tensors).
//
//   absl::StatusOr<deferred::ShardPlan> plan = deferred::FsdpPlan(rank, world);
//   deferred::materialize_module(*model, {.shard = *plan});

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deferred/shard_spec.h"
#include "fake_tensor/shape.h"

namespace deferred {

// The part of the tensor `name` (of `full_shape`) this rank holds; nullopt: all of it.
using ShardPlan =
    std::function<std::optional<ShardSpec>(const std::string& name, const Shape& full_shape)>;

// FSDP / ZeRO-3: every tensor with a dim is split along dim 0 with tensor_split over the
// `world` ranks (so uneven sizes give the first ranks one row more, and ranks past the
// last row an empty part); 0-dim tensors stay whole. InvalidArgument for world < 1 or
// rank outside [0, world).
absl::StatusOr<ShardPlan> FsdpPlan(int rank, int world);

// How tensor parallelism splits the tensors of one module (Megatron-LM's and torchtitan's
// plans, named by what they split of a Linear's weight [out, in]).
enum class TensorParallelStyle {
  // Dim 0 of every tensor: a Linear's output features, weight and bias alike; an
  // Embedding's rows (torchtitan's RowwiseParallel on an Embedding splits this dim too).
  kColumnwise,
  // Dim 1 of 2-D tensors (a Linear's input features); 1-D tensors (the bias) stay whole.
  kRowwise,
  // Every tensor whole.
  kReplicate,
};

// `pattern` is matched against the dotted path of the module that owns a tensor (the
// tensor's name without its last component) as fnmatch(3) matches a glob without flags:
// `*` matches any characters, dots included, `?` one, `[qkv]` one of those, e.g.
// "layers.*.self_attn.[qkv]_proj" or "*.c_fc".
struct TensorParallelRule {
  std::string pattern;
  TensorParallelStyle style;
};

// Tensor parallelism over `tp_size` ranks: the first rule whose pattern matches decides
// how a tensor is split (tensor_split along its dim); tensors no rule matches stay whole.
// InvalidArgument for tp_size < 1, tp_rank outside [0, tp_size) or an empty pattern.
absl::StatusOr<ShardPlan> TensorParallelPlan(std::vector<TensorParallelRule> rules, int tp_rank,
                                             int tp_size);

// A 2-D mesh of dp_size x tp_size ranks, tp the fastest-varying: rank = dp_rank * tp_size +
// tp_rank, so the ranks of one tensor-parallel group are consecutive (on one node).
class DeviceMesh {
 public:
  // InvalidArgument unless dp_size, tp_size >= 1 and dp_size * tp_size == world.
  static absl::StatusOr<DeviceMesh> Create(int dp_size, int tp_size, int world);

  int dp_size() const { return dp_size_; }
  int tp_size() const { return tp_size_; }
  int dp_rank(int rank) const { return rank / tp_size_; }
  int tp_rank(int rank) const { return rank % tp_size_; }

 private:
  DeviceMesh(int dp_size, int tp_size) : dp_size_(dp_size), tp_size_(tp_size) {}

  int dp_size_;
  int tp_size_;
};

// FSDP over tensor parallelism (torchtitan's FSDP2 + TP): each tensor is first split as
// TensorParallelPlan splits it over the mesh's tp ranks, then that part's dim 0 is split
// with tensor_split over the dp ranks — for a column-wise tensor, within its tp part of
// dim 0; tensors no rule splits are split along dim 0 over the dp ranks alone.
// InvalidArgument for rank outside the mesh or an empty pattern.
absl::StatusOr<ShardPlan> FsdpTensorParallelPlan(std::vector<TensorParallelRule> rules,
                                                 const DeviceMesh& mesh, int rank);

}  // namespace deferred

#endif  // DEFERRED_DEFERRED_SHARD_PLAN_H_
