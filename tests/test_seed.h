#ifndef DEFERRED_TESTS_TEST_SEED_H_
#define DEFERRED_TESTS_TEST_SEED_H_

#include <cstdint>
#include <cstdlib>

namespace deferred {

// Where the seeds of a property test start: 0, or the value of $DEFERRED_TEST_SEED, so
// that tests/soak.sh can run the same properties over other draws than CI's.
inline uint64_t TestSeedBase() {
  const char* seed = std::getenv("DEFERRED_TEST_SEED");
  return seed == nullptr ? 0 : std::strtoull(seed, nullptr, 10);
}

}  // namespace deferred

#endif  // DEFERRED_TESTS_TEST_SEED_H_
