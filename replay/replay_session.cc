#include "replay/replay_session.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/host_memory.h"
#include "replay/kernels/parallel.h"

namespace deferred {
namespace {

// The regions a step reports (PlannedOp::regions).
std::vector<Region> StepRegions(const PlanStep& step) {
  if (step.node->def->kind == OpKind::kInPlace) return {step.write_region};
  return step.output_regions;
}

// Operand k of `step`, restricted to the region it reads, over `buffer`.
Tensor RestrictedInput(const PlanStep& step, size_t k, const RegionBuffer& buffer,
                       const Region& view_region) {
  const TraceOperand& operand = step.node->inputs[k];
  return ViewOfRegion(buffer, operand.layout, operand.dtype, step.input_base_sizes[k],
                      view_region);
}

// A new buffer holding `region` of a storage version whose bytes for `source.region`
// are in `source`.
RegionBuffer CopyRegion(const RegionBuffer& source, const Region& region, DType dtype, Device device) {
  const Shape source_strides = ContiguousStrides(source.region.sizes());
  TensorLayout layout{region.sizes(), source_strides, 0};
  for (int64_t k = 0; k < region.rank(); ++k) {
    layout.storage_offset += (region.start[k] - source.region.start[k]) * source_strides[k];
  }
  const Tensor from = MakeTensor(source.storage, layout, dtype);
  const Tensor to = AllocateTensor(region.sizes(), dtype, device);
  OpCall copy{&OpRegistry::Global().Get("copy_"), {to, from}, {}};
  RunEager(copy);
  return RegionBuffer{to.storage(), region};
}

// fn(), whose errors name `node` and where it was recorded ("normal_ at
// examples/models/llama.cc:57 in layers.3.mlp: ...").
template <typename Fn>
auto ForNode(const TraceNode& node, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const Error& e) {
    throw Error(absl::StrCat(DescribeNode(node), ": ", e.what()), e.code());
  }
}

// RunEager of a recorded node's call; an error names the node.
std::vector<Tensor> RunRecorded(const TraceNode& node, OpCall& call) {
  return ForNode(node, [&] { return RunEager(call); });
}

}  // namespace

Tensor ViewOfRegion(const RegionBuffer& buffer, const TensorLayout& layout, DType dtype,
                    const Shape& base_sizes, const Region& view_region) {
  if (!view_region.empty() && IsWholeStorage(layout, base_sizes)) {
    return MakeTensor(buffer.storage, LayoutOfRegionIn(view_region, buffer.region), dtype);
  }
  std::optional<ViewTransform> t = ViewTransform::Decompose(layout, base_sizes);
  TensorLayout restricted;
  if (t) {
    restricted = t->LayoutIn(view_region, buffer.region);
  } else {
    // Undecomposable views are only read from whole buffers.
    restricted = layout;
    for (size_t d = 0; d < restricted.sizes.size(); ++d) {
      restricted.storage_offset += view_region.start[d] * restricted.strides[d];
    }
    restricted.sizes = view_region.sizes();
  }
  return MakeTensor(buffer.storage, std::move(restricted), dtype);
}

// Runs `step` with its inputs from `live`, leaves its outputs there and frees what it was
// the last to read. Counts the op and its elements into `counts`.
void ReplaySession::RunStep(PlanStep& step, std::vector<RegionBuffer>& live, StepCounts& counts) {
  const TraceNode& node = *step.node;
  const bool in_place = node.def->kind == OpKind::kInPlace;
  OpCall call{node.def, {}, std::move(step.attrs)};
  for (size_t k = 0; step.writes && k < node.inputs.size(); ++k) {
    if (k == 0 && in_place) {
      call.inputs.emplace_back();  // the target: a view of the next version, below
      continue;
    }
    const Region& region = step.input_regions[k];
    call.inputs.push_back(step.reads[k]
                              ? RestrictedInput(step, k, live[step.input_values[k]], region)
                              : AllocateTensor(region.sizes(), node.inputs[k].dtype, device_));
  }
  if (node.def->kind == OpKind::kFactory) call.attrs.Set("device", device_);

  if (in_place) {
    const RegionBuffer& old = live[step.input_values[0]];
    const Region& region = step.output_regions[0];
    RegionBuffer next = ForNode(node, [&] {
      switch (step.buffer) {
        case InPlaceBuffer::kReuse: return old;
        case InPlaceBuffer::kCopy: return CopyRegion(old, region, step.base_dtype, device_);
        case InPlaceBuffer::kFresh: break;
      }
      return RegionBuffer{AllocateTensor(region.sizes(), step.base_dtype, device_).storage(),
                          region};
    });
    if (step.writes) {
      call.inputs[0] = RestrictedInput(step, 0, next, step.write_region);
      RunRecorded(node, call);
      ++counts.ops_run;
      counts.elements_computed += call.inputs[0].numel();
      Observe(step, {call.inputs[0]});
    }
    live[step.output_values[0]] = std::move(next);
  } else {
    std::vector<Tensor> outputs = RunRecorded(node, call);
    ++counts.ops_run;
    for (const Tensor& output : outputs) counts.elements_computed += output.numel();
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (outputs[k].sizes() != step.output_regions[k].sizes()) {
        ThrowErrorWithCode(absl::StatusCode::kInternal,
                           "%s: region rule produced %s for the region %s", node.def->name,
                           ShapeToString(outputs[k].sizes()), step.output_regions[k].ToString());
      }
      live[step.output_values[k]] = RegionBuffer{outputs[k].storage(), step.output_regions[k]};
    }
    Observe(step, std::move(outputs));
  }
  call.inputs.clear();
  for (int32_t value : step.frees) live[value] = {};
  step = PlanStep();  // done with: free it now rather than all at the end
}

void ReplaySession::Observe(const PlanStep& step, std::vector<Tensor> values) {
  if (!observer_) return;
  if (!observer_(ReplayStep{step.vertex, step.node, std::move(values), StepRegions(step)})) {
    ThrowErrorWithCode(absl::StatusCode::kCancelled, "%s: replay stopped",
                       DescribeNode(*step.node));
  }
}

std::vector<RegionBuffer> ReplaySession::Run(const std::vector<ReplayTarget>& targets) {
  // Declared before the buffers, so that the intermediates still live when the run ends
  // or throws are freed into it, and unmapped with it.
  ScopedBlockReuse reuse;
  ReplayPlan plan = PlanReplay(*trace_, targets);
  for (const PlanStep& step : plan.steps) {
    if (step.whole) whole_fallbacks_.push_back(step.node->def->name);
  }
  // The buffer of each version computed and still to be read (null storage: none).
  std::vector<RegionBuffer> live(plan.num_values);
  StepCounts counts;
  if (observer_ || NumThreads() == 1 || plan.groups.size() < 2) {
    // In recording order: an observer sees the ops as they were recorded.
    for (PlanStep& step : plan.steps) RunStep(step, live, counts);
  } else {
    RunGroups(plan, live, counts);
  }
  ops_run_ += counts.ops_run;
  elements_computed_ += counts.elements_computed;

  std::vector<RegionBuffer> results;
  results.reserve(targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    // Nothing runs for a target of no elements (a tensor with a size-0 dim).
    const RegionBuffer& buffer = live[plan.target_values[t]];
    results.push_back(buffer.storage != nullptr
                          ? buffer
                          : RegionBuffer{AllocateStorage(0, device_), targets[t].region});
  }
  blocks_reused_ += reuse.reused_blocks();
  return results;
}

void ReplaySession::RunGroups(ReplayPlan& plan, std::vector<RegionBuffer>& live,
                              StepCounts& counts) {
  // A group too small for its ops to keep every core busy (the kernels split work in units
  // of 64k elements) runs on one thread, beside other such groups. Not a tiny one: below
  // about 16k elements the kernels' work is smaller than what threads sharing the allocator
  // add (benchmarks/RESULTS.md, BM_ManySmallTensors), so tiny groups run in order.
  const int64_t threads = NumThreads();
  const int64_t small_elements = threads * (int64_t{1} << 16);
  constexpr int64_t kTinyElements = int64_t{1} << 14;
  std::vector<const StepGroup*> in_order, side_by_side;
  for (const StepGroup& group : plan.groups) {
    const bool small = group.elements >= kTinyElements && group.elements < small_elements;
    (small ? side_by_side : in_order).push_back(&group);
  }
  // Each group's first error, by the plan index of the step that threw; the run rethrows
  // the earliest, as running the steps in order would have.
  std::vector<std::pair<int32_t, std::exception_ptr>> errors(plan.groups.size());
  std::vector<StepCounts> group_counts(plan.groups.size());
  auto run_group = [&](const StepGroup& group) {
    const size_t g = &group - plan.groups.data();
    for (int32_t s : group.steps) {
      try {
        RunStep(plan.steps[s], live, group_counts[g]);
      } catch (...) {
        errors[g] = {s, std::current_exception()};
        return;
      }
    }
  };
  for (const StepGroup* group : in_order) run_group(*group);
  // Each thread takes the next run of consecutive groups until none is left: a thread the
  // OS slows down takes fewer, and threads seldom write to the same cache lines (the
  // buffers and counts of neighbouring groups lie side by side).
  const size_t run = std::max<size_t>(1, side_by_side.size() / (8 * threads));
  std::atomic<size_t> next{0};
  ParallelFor(std::min<int64_t>(threads, static_cast<int64_t>(side_by_side.size())), 1,
              [&](int64_t, int64_t) {
                for (size_t begin = next.fetch_add(run); begin < side_by_side.size();
                     begin = next.fetch_add(run)) {
                  const size_t end = std::min(side_by_side.size(), begin + run);
                  for (size_t i = begin; i < end; ++i) run_group(*side_by_side[i]);
                }
              });
  const std::pair<int32_t, std::exception_ptr>* first = nullptr;
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    counts.ops_run += group_counts[g].ops_run;
    counts.elements_computed += group_counts[g].elements_computed;
    if (errors[g].second && (first == nullptr || errors[g].first < first->first)) first = &errors[g];
  }
  if (first != nullptr) std::rethrow_exception(first->second);
}

std::vector<PlannedOp> ReplaySession::Plan(const std::vector<ReplayTarget>& targets) const {
  std::vector<PlannedOp> planned;
  for (const PlanStep& step : PlanReplay(*trace_, targets).steps) {
    if (step.writes) planned.push_back(PlannedOp{step.vertex, StepRegions(step), step.whole});
  }
  return planned;
}

std::vector<Storage> ReplaySession::RunWhole(const std::vector<StorageVersion>& targets) {
  std::vector<ReplayTarget> whole;
  for (const StorageVersion& value : targets) {
    whole.push_back(ReplayTarget{value, Region::Full(trace_->Storage(value.storage_id).sizes)});
  }
  std::vector<Storage> storages;
  for (RegionBuffer& buffer : Run(whole)) storages.push_back(std::move(buffer.storage));
  return storages;
}

}  // namespace deferred
