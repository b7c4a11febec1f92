#include "fake_tensor/generator.h"

#include <mutex>

namespace deferred {
namespace {

struct Generator {
  std::mutex mutex;  // std::mutex for ThreadSanitizer (see OpRegistry)
  RngState state = {kDefaultSeed, 0};  // guarded by mutex
};

Generator& GlobalGenerator() {
  static Generator* generator = new Generator;  // never destroyed: used at exit
  return *generator;
}

}  // namespace

void manual_seed(uint64_t seed) { set_rng_state(RngState{seed, 0}); }

RngState get_rng_state() {
  Generator& g = GlobalGenerator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return g.state;
}

void set_rng_state(RngState state) {
  Generator& g = GlobalGenerator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.state = state;
}

RngState ReserveRngBlocks(uint64_t blocks) {
  Generator& g = GlobalGenerator();
  std::lock_guard<std::mutex> lock(g.mutex);
  const RngState before = g.state;
  g.state.offset += blocks;
  return before;
}

}  // namespace deferred
