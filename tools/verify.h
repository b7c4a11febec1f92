#ifndef DEFERRED_TOOLS_VERIFY_H_
#define DEFERRED_TOOLS_VERIFY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "deferred/nn/module.h"

namespace deferred::tools {

struct VerifyOptions {
  int samples = 4;    // random shards per tensor
  uint64_t seed = 0;  // of the shards drawn
  // Called after each tensor is checked, with its index and the number of tensors.
  std::function<void(size_t done, size_t total)> progress;
};

// One property that did not hold.
struct VerifyFailure {
  std::string tensor;
  std::string check;   // "replay", "shard", "repeat" or "order"
  std::string detail;  // the spec, or what differed
};

// Checks the invariants of every fake tensor of `model` (real ones are skipped): `samples`
// random shards (1-D, 2-D, uneven tensor_split and chunk) equal the slices of the full
// tensor; two replays give identical bits; replaying all tensors together, in reverse
// order, gives each the bits it has alone. The model is not changed. Returns the failures, empty
// when every check held; an error (an op that fails to replay) is a failure too.
std::vector<VerifyFailure> VerifyModel(const nn::Module& model, const VerifyOptions& options = {});

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_VERIFY_H_
