#ifndef DEFERRED_REPLAY_REPLAY_SESSION_H_
#define DEFERRED_REPLAY_REPLAY_SESSION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "fake_tensor/device.h"
#include "fake_tensor/storage.h"
#include "replay/trace.h"

namespace deferred {

// Re-runs recorded ops of one trace, eagerly on `device`, to compute storage versions.
// All targets of one Run are planned together: each op runs at most once, and every
// intermediate storage is freed right after its last use (in-place ops reuse their base's
// bytes when nothing else still needs the old version), so peak memory stays near the
// size of what was asked for plus the live intermediates.
class ReplaySession {
 public:
  ReplaySession(std::shared_ptr<const Trace> trace, Device device)
      : trace_(std::move(trace)), device_(device) {}

  // Real storages on the session's device holding each target's bytes, in order. Random
  // ops use their recorded RNG coordinates, so values never depend on what else is asked
  // for or in what order. Throws `Error` when an op fails or has no kernel on the device.
  std::vector<Storage> Run(const std::vector<StorageVersion>& targets);

  // Ops executed by this session so far.
  int64_t ops_run() const { return ops_run_; }

 private:
  std::shared_ptr<const Trace> trace_;
  Device device_;
  int64_t ops_run_ = 0;
};

}  // namespace deferred

#endif  // DEFERRED_REPLAY_REPLAY_SESSION_H_
