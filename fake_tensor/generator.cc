#include "fake_tensor/generator.h"

#include "absl/synchronization/mutex.h"

namespace deferred {
namespace {

struct Generator {
  absl::Mutex mutex;
  RngState state ABSL_GUARDED_BY(mutex) = {kDefaultSeed, 0};
};

Generator& GlobalGenerator() {
  static Generator* generator = new Generator;  // never destroyed: used at exit
  return *generator;
}

}  // namespace

void manual_seed(uint64_t seed) { set_rng_state(RngState{seed, 0}); }

RngState get_rng_state() {
  Generator& g = GlobalGenerator();
  absl::MutexLock lock(&g.mutex);
  return g.state;
}

void set_rng_state(RngState state) {
  Generator& g = GlobalGenerator();
  absl::MutexLock lock(&g.mutex);
  g.state = state;
}

RngState ReserveRngBlocks(uint64_t blocks) {
  Generator& g = GlobalGenerator();
  absl::MutexLock lock(&g.mutex);
  const RngState before = g.state;
  g.state.offset += blocks;
  return before;
}

}  // namespace deferred
