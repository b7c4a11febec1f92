#ifndef DEFERRED_DEFERRED_NN_LAYER_TESTING_H_
#define DEFERRED_DEFERRED_NN_LAYER_TESTING_H_

// Checks shared by the tests of the standard layers: the eager-equivalence invariant,
// "recording allocates no tensor data", construction errors seen eagerly and through
// deferred_init, and value statistics for checking initialization ranges.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "deferred/deferred.h"
#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/storage.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred::nn {

// Runs `make` eagerly and inside deferred_init, both from manual_seed(seed), then `after`
// (when set) on each module, and checks that: the generator ends in the same state after
// both; every parameter and buffer of the deferred module is still fake; and after
// materialize_module every one is bitwise equal, name for name, to the eager module's.
// The failure says which of these broke.
template <typename M>
::testing::AssertionResult MaterializedEqualsEagerWith(
    uint64_t seed, const std::function<std::shared_ptr<M>()>& make,
    const std::function<void(M&)>& after = nullptr) {
  manual_seed(seed);
  const std::shared_ptr<M> eager = make();
  if (after) after(*eager);
  const RngState after_eager = get_rng_state();
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<Module>> recorded = deferred_init([&] {
    return std::static_pointer_cast<Module>(make());
  });
  if (!recorded.ok()) {
    return ::testing::AssertionFailure() << "deferred_init failed: " << recorded.status();
  }
  const std::shared_ptr<M> deferred = std::static_pointer_cast<M>(*recorded);
  if (after) after(*deferred);
  const RngState after_deferred = get_rng_state();
  if (!(after_deferred == after_eager)) {
    return ::testing::AssertionFailure()
           << absl::StrFormat("generator after deferred_init is (seed %d, offset %d), after "
                              "eager construction (seed %d, offset %d)",
                              after_deferred.seed, after_deferred.offset, after_eager.seed,
                              after_eager.offset);
  }
  for (const auto& named : {deferred->named_parameters(), deferred->named_buffers()}) {
    for (const auto& [name, tensor] : named) {
      if (!is_fake(tensor)) {
        return ::testing::AssertionFailure() << name << " is not fake after deferred_init";
      }
    }
  }
  if (absl::Status status = materialize_module(*deferred); !status.ok()) {
    return ::testing::AssertionFailure() << "materialize_module failed: " << status;
  }
  return ModulesBitwiseEqual(*eager, *deferred);
}

// MaterializedEqualsEagerWith for the construction of M(args...).
template <typename M, typename... Args>
::testing::AssertionResult MaterializedEqualsEager(uint64_t seed, const Args&... args) {
  return MaterializedEqualsEagerWith<M>(seed, [&] { return std::make_shared<M>(args...); });
}

// Whether deferred_init of M(args...) succeeds without allocating any tensor data.
template <typename M, typename... Args>
::testing::AssertionResult DeferredInitAllocatesNothing(const Args&... args) {
  const AllocationStats before = GetAllocationStats();
  absl::StatusOr<std::shared_ptr<M>> deferred = deferred_init<M>(args...);
  if (!deferred.ok()) {
    return ::testing::AssertionFailure() << "deferred_init failed: " << deferred.status();
  }
  const AllocationStats after = GetAllocationStats();
  if (after.total_bytes != before.total_bytes ||
      after.allocation_count != before.allocation_count) {
    return ::testing::AssertionFailure()
           << "recording allocated " << after.total_bytes - before.total_bytes << " bytes in "
           << after.allocation_count - before.allocation_count << " allocations";
  }
  return ::testing::AssertionSuccess();
}

// The message of the `Error` that constructing M(args...) eagerly throws, and checks that
// deferred_init of the same arguments returns it as a non-OK Status with the same message.
// Fails the current test (returning "") when either does not fail.
template <typename M, typename... Args>
std::string ConstructionError(const Args&... args) {
  std::string message;
  try {
    std::make_shared<M>(args...);
    ADD_FAILURE() << "constructing the layer did not throw";
  } catch (const Error& e) {
    message = e.what();
  }
  absl::StatusOr<std::shared_ptr<M>> deferred = deferred_init<M>(args...);
  if (deferred.ok()) {
    ADD_FAILURE() << "deferred_init of the layer succeeded";
  } else {
    EXPECT_EQ(deferred.status().code(), absl::StatusCode::kInvalidArgument) << deferred.status();
    EXPECT_EQ(std::string(deferred.status().message()), message);
  }
  return message;
}

// Summary of a real floating tensor's values, for checking an initialization's range and
// moments.
struct ValueStats {
  double min = 0;
  double max = 0;
  double mean = 0;
  double stddev = 0;  // population standard deviation
};

inline ValueStats StatsOf(const Tensor& t) {
  const Tensor values = to(t, DType::kFloat64);
  const std::vector<double> v = values.to_vector<double>();
  ValueStats stats;
  if (v.empty()) return stats;
  stats.min = *std::min_element(v.begin(), v.end());
  stats.max = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  stats.mean = sum / v.size();
  double squares = 0;
  for (double x : v) squares += (x - stats.mean) * (x - stats.mean);
  stats.stddev = std::sqrt(squares / v.size());
  return stats;
}

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_LAYER_TESTING_H_
