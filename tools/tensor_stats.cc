#include "tools/tensor_stats.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/views.h"
#include "replay/sha256.h"

namespace deferred::tools {

TensorStats StatsOf(const Tensor& t, int first_count) {
  TensorStats stats;
  stats.numel = t.numel();
  const Tensor dense = t.is_contiguous() ? t : contiguous(t);
  stats.hash = Sha256::HexDigest(dense.to_bytes()).substr(0, 16);
  const std::vector<double> values = to(dense, DType::kFloat64).to_vector<double>();
  // Welford's update: one pass, and stable for a mean far from zero.
  double mean = 0, m2 = 0;
  int64_t finite = 0;
  for (double v : values) {
    if (static_cast<int>(stats.first.size()) < first_count) stats.first.push_back(v);
    if (std::isnan(v)) {
      ++stats.nan;
      continue;
    }
    if (std::isinf(v)) {
      ++stats.inf;
      continue;
    }
    stats.min = finite == 0 ? v : std::min(stats.min, v);
    stats.max = finite == 0 ? v : std::max(stats.max, v);
    ++finite;
    const double delta = v - mean;
    mean += delta / static_cast<double>(finite);
    m2 += delta * (v - mean);
  }
  stats.mean = mean;
  stats.std = finite > 0 ? std::sqrt(m2 / static_cast<double>(finite)) : 0;
  return stats;
}

std::string StatsText(const TensorStats& stats) {
  std::vector<std::string> first;
  for (double v : stats.first) first.push_back(absl::StrFormat("%.6g", v));
  return absl::StrFormat(
      "min %.6g max %.6g mean %.6g std %.6g nan %d inf %d first [%s%s] sha256 %s", stats.min,
      stats.max, stats.mean, stats.std, stats.nan, stats.inf, absl::StrJoin(first, ", "),
      stats.numel > static_cast<int64_t>(stats.first.size()) ? ", ..." : "", stats.hash);
}

nlohmann::json StatsJson(const TensorStats& stats) {
  nlohmann::json first = nlohmann::json::array();
  for (double v : stats.first)
    first.push_back(std::isfinite(v) ? nlohmann::json(v)
                                     : nlohmann::json(absl::StrFormat("%g", v)));
  return {{"numel", stats.numel}, {"min", stats.min}, {"max", stats.max},
          {"mean", stats.mean},   {"std", stats.std}, {"nan", stats.nan},
          {"inf", stats.inf},     {"first", first},   {"sha256", stats.hash}};
}

}  // namespace deferred::tools
