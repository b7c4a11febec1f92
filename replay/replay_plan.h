#ifndef DEFERRED_REPLAY_REPLAY_PLAN_H_
#define DEFERRED_REPLAY_REPLAY_PLAN_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "fake_tensor/attrs.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/region.h"
#include "fake_tensor/shape.h"
#include "replay/trace.h"

namespace deferred {

// Part of one storage version: `region` of the storage's natural index space
// (TraceStorage::sizes).
struct ReplayTarget {
  StorageVersion value;
  Region region;
};

// The base region of a storage of natural shape `base_sizes` that `view_region` of a view
// with `layout` touches (the whole base when the view does not decompose).
Region BaseRegionOf(const TensorLayout& layout, const Shape& base_sizes, const Region& view_region);

// One entry per operand of a step. Ops have few operands, so the entries live in the step
// itself: planning a trace of a million small ops would otherwise spend much of its time
// in malloc and free.
template <typename T>
using OperandList = absl::InlinedVector<T, 4>;
// Regions are large (two inline shapes), and most ops have one or two of each kind.
using RegionList = absl::InlinedVector<Region, 2>;

// Where an in-place op's new version gets its bytes.
enum class InPlaceBuffer {
  kReuse,  // the old version's buffer: nothing else reads it and it has the right region
  kCopy,   // a copy of the old version's buffer, which another read still needs
  kFresh,  // new bytes: the op overwrites everything of the old version in its region
};

// What a run does for one op it executes. The storage versions of a run are numbered
// densely (0 .. ReplayPlan::num_values - 1), so that an executor keeps one buffer per
// number.
struct PlanStep {
  Trace::Vertex vertex = 0;
  const TraceNode* node = nullptr;
  // The call's attrs: the node's, or those its region rule gives for the regions below.
  Attrs attrs;
  // The region of each input operand the op reads, in that operand's view index space.
  RegionList input_regions;
  // Whether the op reads operand k at all (an in-place op does not read the old version
  // it overwrites; no op reads an operand of which its regions need nothing).
  OperandList<bool> reads;
  // The number of the storage version operand k reads.
  OperandList<int32_t> input_values;
  // The natural shape of operand k's storage (the index space of its buffer's region).
  OperandList<Shape> input_base_sizes;
  // The number of each output version, and the region of it the op leaves in a buffer:
  // for an in-place op, the region of its base storage (the next version's buffer).
  OperandList<int32_t> output_values;
  RegionList output_regions;
  // In-place ops only: the part of the target view written (empty when nothing written
  // lies in range: the next version is then the old one's bytes), the base storage's
  // dtype, and where the next version's bytes come from.
  Region write_region;
  bool writes = true;
  DType base_dtype = DType::kFloat32;
  InPlaceBuffer buffer = InPlaceBuffer::kFresh;
  // It computes more than asked of it: no region rule, or its rule declined.
  bool whole = false;
  // Versions whose last read this op is: their buffers can go once it has run.
  OperandList<int32_t> frees;
};

// Plans the computation of `targets` from `trace` and hands out its steps in execution
// (recording) order. The constructor propagates each target's region backwards through the
// region rules of the ops it depends on (ops without one need their whole inputs; values an
// overwriting in-place op replaces in a whole storage are not needed) and keeps the ops
// something needs; Next() decides, as a run goes, which buffer each in-place op writes and
// after which op each version's buffer is freed. Every op appears at most once. A run holds
// one step at a time: the steps of a long trace, all built at once, would be fresh memory
// bigger than the trace on every run. Runs nothing; throws `Error` for a target the trace
// lacks.
class ReplayPlanner {
 public:
  ReplayPlanner(const Trace& trace, const std::vector<ReplayTarget>& targets);
  ~ReplayPlanner();

  int32_t num_values() const;
  // The version number of each target.
  const std::vector<int32_t>& target_values() const;
  // Makes `*step` the next step and returns true, or returns false after the last. A run
  // passes the same step every time: its operand lists keep their storage from one step to
  // the next, which a step returned by value would build and destroy for every op.
  bool Next(PlanStep* step);

 private:
  struct Run;
  std::unique_ptr<Run> run_;
};

// All the steps of a run at once.
struct ReplayPlan {
  std::vector<PlanStep> steps;         // in execution (recording) order
  std::vector<int32_t> target_values;  // the version number of each target
  int32_t num_values = 0;
};

// Every step ReplayPlanner(trace, targets) hands out.
ReplayPlan PlanReplay(const Trace& trace, const std::vector<ReplayTarget>& targets);

}  // namespace deferred

#endif  // DEFERRED_REPLAY_REPLAY_PLAN_H_
