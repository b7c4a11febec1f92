#ifndef DEFERRED_TESTS_RANDOM_PROGRAM_H_
#define DEFERRED_TESTS_RANDOM_PROGRAM_H_

#include <cstdint>

#include "deferred/nn/module.h"

namespace deferred {

// A module whose constructor is a random program drawn from `seed`: factories,
// elementwise ops, in-place writes through views into larger storages, tied and derived
// tensors, registered as parameters and buffers. Every decision depends only on the seed
// and on metadata, so an eager and a recorded run make the same calls: the oracle of the
// eager- and shard-equivalence property tests.
class RandomProgram : public nn::Module {
 public:
  explicit RandomProgram(uint64_t seed);
};

}  // namespace deferred

#endif  // DEFERRED_TESTS_RANDOM_PROGRAM_H_
