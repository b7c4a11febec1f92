#include "deferred/shard_plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_format.h"

namespace deferred {
namespace {

absl::Status CheckRank(const char* what, int rank, int world) {
  if (world < 1 || rank < 0 || rank >= world) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: rank %d is not in [0, %d) (world size %d)", what, rank, world, world));
  }
  return absl::OkStatus();
}

absl::Status CheckRules(const char* what, const std::vector<TensorParallelRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].pattern.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: rule %d has an empty pattern", what, i));
    }
  }
  return absl::OkStatus();
}

// The dim that tensor parallelism splits of a tensor of `ndim` dims named `name`, or -1.
int TensorParallelDim(const std::vector<TensorParallelRule>& rules, const std::string& name,
                      int64_t ndim) {
  const size_t dot = name.rfind('.');
  const std::string owner = dot == std::string::npos ? "" : name.substr(0, dot);
  for (const TensorParallelRule& rule : rules) {
    if (fnmatch(rule.pattern.c_str(), owner.c_str(), 0) != 0) continue;
    switch (rule.style) {
      case TensorParallelStyle::kColumnwise:
        return ndim >= 1 ? 0 : -1;
      case TensorParallelStyle::kRowwise:
        return ndim >= 2 ? 1 : -1;
      case TensorParallelStyle::kReplicate:
        return -1;
    }
  }
  return -1;
}

// [start, stop) of part `rank` of `size` elements split over `world` as torch.tensor_split.
std::pair<int64_t, int64_t> TensorSplitBounds(int64_t size, int rank, int world) {
  const int64_t base = size / world, extra = size % world;
  const int64_t start = rank * base + std::min<int64_t>(rank, extra);
  return {start, start + base + (rank < extra ? 1 : 0)};
}

}  // namespace

absl::StatusOr<ShardPlan> FsdpPlan(int rank, int world) {
  if (absl::Status s = CheckRank("FsdpPlan", rank, world); !s.ok()) return s;
  return ShardPlan(
      [rank, world](const std::string&, const Shape& shape) -> std::optional<ShardSpec> {
        if (shape.empty()) return std::nullopt;
        return ShardSpec::TensorSplit(0, rank, world);
      });
}

absl::StatusOr<ShardPlan> TensorParallelPlan(std::vector<TensorParallelRule> rules, int tp_rank,
                                             int tp_size) {
  if (absl::Status s = CheckRank("TensorParallelPlan", tp_rank, tp_size); !s.ok()) return s;
  if (absl::Status s = CheckRules("TensorParallelPlan", rules); !s.ok()) return s;
  return ShardPlan([rules = std::move(rules), tp_rank, tp_size](
                       const std::string& name, const Shape& shape) -> std::optional<ShardSpec> {
    const int dim = TensorParallelDim(rules, name, static_cast<int64_t>(shape.size()));
    if (dim < 0) return std::nullopt;
    return ShardSpec::TensorSplit(dim, tp_rank, tp_size);
  });
}

absl::StatusOr<DeviceMesh> DeviceMesh::Create(int dp_size, int tp_size, int world) {
  if (dp_size < 1 || tp_size < 1 || int64_t{dp_size} * tp_size != world) {
    return absl::InvalidArgumentError(
        absl::StrFormat("device mesh: %d x %d (dp x tp) does not cover a world of %d ranks",
                        dp_size, tp_size, world));
  }
  return DeviceMesh(dp_size, tp_size);
}

absl::StatusOr<ShardPlan> FsdpTensorParallelPlan(std::vector<TensorParallelRule> rules,
                                                 const DeviceMesh& mesh, int rank) {
  if (absl::Status s = CheckRank("FsdpTensorParallelPlan", rank, mesh.dp_size() * mesh.tp_size());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRules("FsdpTensorParallelPlan", rules); !s.ok()) return s;
  const int dp = mesh.dp_size(), tp = mesh.tp_size();
  const int dp_rank = mesh.dp_rank(rank), tp_rank = mesh.tp_rank(rank);
  return ShardPlan([rules = std::move(rules), dp, tp, dp_rank, tp_rank](
                       const std::string& name, const Shape& shape) -> std::optional<ShardSpec> {
    if (shape.empty()) return std::nullopt;
    const ShardSpec dp_split = ShardSpec::TensorSplit(0, dp_rank, dp);
    switch (TensorParallelDim(rules, name, static_cast<int64_t>(shape.size()))) {
      case 0: {
        const auto [tp_start, tp_stop] = TensorSplitBounds(shape[0], tp_rank, tp);
        const auto [start, stop] = TensorSplitBounds(tp_stop - tp_start, dp_rank, dp);
        return ShardSpec::Range(0, tp_start + start, tp_start + stop);
      }
      case 1:
        return ShardSpec::TensorSplit(1, tp_rank, tp).And(dp_split);
      default:
        return dp_split;
    }
  });
}

}  // namespace deferred
