#ifndef DEFERRED_TOOLS_TENSOR_STATS_H_
#define DEFERRED_TOOLS_TENSOR_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fake_tensor/tensor.h"
#include "nlohmann/json.hpp"

namespace deferred::tools {

// What deferred-replay prints of a materialized tensor. min, max, mean and std are over the
// finite values (0 when there are none); std is the population's.
struct TensorStats {
  int64_t numel = 0;
  double min = 0, max = 0, mean = 0, std = 0;
  int64_t nan = 0, inf = 0;
  std::vector<double> first;  // the first few values in C order
  // SHA-256 of the C-order bytes, the first 16 hex digits: equal bits, equal hash.
  std::string hash;
};

// The statistics of real CPU tensor `t`, of any dtype (values read as double), keeping
// `first_count` first values.
TensorStats StatsOf(const Tensor& t, int first_count = 6);

// "min -0.0615 max 0.0617 mean 2.1e-05 std 0.0200 nan 0 inf 0 first [...] sha256 1a2b...".
std::string StatsText(const TensorStats& stats);
nlohmann::json StatsJson(const TensorStats& stats);

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_TENSOR_STATS_H_
