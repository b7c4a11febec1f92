#ifndef DEFERRED_FAKE_TENSOR_GENERATOR_H_
#define DEFERRED_FAKE_TENSOR_GENERATOR_H_

#include <cstdint>

namespace deferred {

// The process-wide random generator's state. Random ops do not draw from it directly:
// each reserves a run of Philox counter blocks, and its values are a function of the
// (seed, offset) it was given (docs/RNG.md). So recording and eager execution advance it
// identically, and replay never reads it.
struct RngState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // the next unreserved Philox counter block

  friend bool operator==(const RngState& a, const RngState& b) {
    return a.seed == b.seed && a.offset == b.offset;
  }
};

// PyTorch's default seed, used until manual_seed is called.
inline constexpr uint64_t kDefaultSeed = 67280421310721ull;

// Sets the seed to `seed` and the offset to 0.
void manual_seed(uint64_t seed);

RngState get_rng_state();
void set_rng_state(RngState state);

// Atomically reserves `blocks` counter blocks; returns the state before the reservation,
// whose offset is the first reserved block.
RngState ReserveRngBlocks(uint64_t blocks);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_GENERATOR_H_
