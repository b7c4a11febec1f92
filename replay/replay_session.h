#ifndef DEFERRED_REPLAY_REPLAY_SESSION_H_
#define DEFERRED_REPLAY_REPLAY_SESSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fake_tensor/device.h"
#include "fake_tensor/region.h"
#include "fake_tensor/storage.h"
#include "replay/replay_plan.h"
#include "replay/trace.h"

namespace deferred {

// The elements of `region` of a storage version, contiguous (row-major) in `storage`.
struct RegionBuffer {
  Storage storage;
  Region region;
};

// `view_region` of a view (with `layout` and `dtype`) of a storage whose natural shape is
// `base_sizes`, read from `buffer`, which must hold every element the region touches.
// The result shares the buffer's bytes (it may be non-contiguous).
Tensor ViewOfRegion(const RegionBuffer& buffer, const TensorLayout& layout, DType dtype,
                    const Shape& base_sizes, const Region& view_region);

// What a run does for one op it executes (ReplaySession::Plan).
struct PlannedOp {
  Trace::Vertex vertex = 0;
  // The part of each output the op computes: for a factory or functional op, a region of
  // each output; for an in-place op, the region of its target view that it writes.
  std::vector<Region> regions;
  // It computes more than the region asked of it, because it has no region rule or its rule
  // declined (ReplaySession::whole_fallbacks).
  bool whole = false;
};

// One op a run has just executed, with the values it computed: a factory's or functional
// op's outputs, or the written region of an in-place op's target (`regions` as in
// PlannedOp). The tensors are valid during the observer's call only.
struct ReplayStep {
  Trace::Vertex vertex = 0;
  const TraceNode* node = nullptr;
  std::vector<Tensor> values;
  std::vector<Region> regions;
};

// Called after every op a run executes; returning false stops the run.
using StepObserver = std::function<bool(const ReplayStep&)>;

// Re-runs recorded ops of one trace, eagerly on `device`, to compute parts of storage
// versions: the executor of a ReplayPlanner's steps (replay_plan.h). A run first plans —
// propagates the requested regions backwards through each op's region rule (ops without
// one need their whole inputs) — then executes forward, each op over only the region it
// must produce. Values that an overwriting in-place op (OpDef::overwrites) replaces in a
// whole storage are never computed: an init followed by a re-init costs one fill. All
// targets of one run are planned together: each op runs at most once, and every intermediate is freed right after its last read
// (in-place ops reuse their base's bytes when nothing else reads the old version, and a
// later allocation of the same size reuses a freed intermediate's pages: ScopedBlockReuse).
class ReplaySession {
 public:
  ReplaySession(std::shared_ptr<const Trace> trace, Device device)
      : trace_(std::move(trace)), device_(device) {}

  // Buffers holding at least each target's region (a buffer may cover more when an op
  // could not be restricted further). Random ops use their recorded RNG coordinates, so
  // values never depend on what else is asked for or in what order. Throws `Error` when
  // an op fails or has no kernel on the device.
  std::vector<RegionBuffer> Run(const std::vector<ReplayTarget>& targets);

  // Whole storage versions.
  std::vector<Storage> RunWhole(const std::vector<StorageVersion>& targets);

  // The ops Run(targets) would execute, in execution order, with the region each computes;
  // runs nothing.
  std::vector<PlannedOp> Plan(const std::vector<ReplayTarget>& targets) const;

  // Makes every later run call `observer` after each op it executes (a debugger steps
  // through a replay this way). When it returns false, Run throws `Error` (Cancelled).
  void set_step_observer(StepObserver observer) { observer_ = std::move(observer); }

  // Ops executed by this session so far, and the output elements they computed (for an
  // in-place op, the elements it wrote).
  int64_t ops_run() const { return ops_run_; }
  int64_t elements_computed() const { return elements_computed_; }
  // Allocations served with the already-mapped block of an intermediate freed earlier in
  // the same run.
  int64_t blocks_reused() const { return blocks_reused_; }
  // Names of ops that computed more than was asked of them because they have no region
  // rule (or their rule declined), in execution order.
  const std::vector<std::string>& whole_fallbacks() const { return whole_fallbacks_; }
  // Names of ops this session ran with a host fallback on its device (computed on the host,
  // the result copied up: OpDef::is_host_fallback), in execution order. Empty on the CPU.
  const std::vector<std::string>& host_fallbacks() const { return host_fallbacks_; }

 private:
  std::shared_ptr<const Trace> trace_;
  Device device_;
  int64_t ops_run_ = 0;
  int64_t elements_computed_ = 0;
  int64_t blocks_reused_ = 0;
  std::vector<std::string> whole_fallbacks_;
  std::vector<std::string> host_fallbacks_;
  StepObserver observer_;
};

}  // namespace deferred

#endif  // DEFERRED_REPLAY_REPLAY_SESSION_H_
