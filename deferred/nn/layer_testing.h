#ifndef DEFERRED_DEFERRED_NN_LAYER_TESTING_H_
#define DEFERRED_DEFERRED_NN_LAYER_TESTING_H_

// Checks shared by the tests of the standard layers: the eager-equivalence invariant and
// "recording allocates no tensor data", for any module constructible from `args`.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "deferred/deferred.h"
#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/storage.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred::nn {

// Constructs M(args...) eagerly and under deferred_init, both from manual_seed(seed), and
// checks that: the generator ends in the same state after both; every parameter and buffer
// of the deferred module is fake; and after materialize_module every one is bitwise equal,
// name for name, to the eager module's. The failure says which of these broke.
template <typename M, typename... Args>
::testing::AssertionResult MaterializedEqualsEager(uint64_t seed, const Args&... args) {
  manual_seed(seed);
  const auto eager = std::make_shared<M>(args...);
  const RngState after_eager = get_rng_state();
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<M>> deferred = deferred_init<M>(args...);
  if (!deferred.ok()) {
    return ::testing::AssertionFailure() << "deferred_init failed: " << deferred.status();
  }
  const RngState after_deferred = get_rng_state();
  if (!(after_deferred == after_eager)) {
    return ::testing::AssertionFailure()
           << absl::StrFormat("generator after deferred_init is (seed %d, offset %d), after "
                              "eager construction (seed %d, offset %d)",
                              after_deferred.seed, after_deferred.offset, after_eager.seed,
                              after_eager.offset);
  }
  for (const auto& named : {(*deferred)->named_parameters(), (*deferred)->named_buffers()}) {
    for (const auto& [name, tensor] : named) {
      if (!is_fake(tensor)) {
        return ::testing::AssertionFailure() << name << " is not fake after deferred_init";
      }
    }
  }
  if (absl::Status status = materialize_module(**deferred); !status.ok()) {
    return ::testing::AssertionFailure() << "materialize_module failed: " << status;
  }
  return ModulesBitwiseEqual(*eager, **deferred);
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

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_LAYER_TESTING_H_
