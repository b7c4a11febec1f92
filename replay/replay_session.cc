#include "replay/replay_session.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/host_memory.h"

namespace deferred {
namespace {

// The regions a step reports (PlannedOp::regions).
std::vector<Region> StepRegions(const PlanStep& step) {
  if (step.node->def->kind == OpKind::kInPlace) return {step.write_region};
  return {step.output_regions.begin(), step.output_regions.end()};
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

std::vector<RegionBuffer> ReplaySession::Run(const std::vector<ReplayTarget>& targets) {
  // Declared before the buffers, so that the intermediates still live when the run ends
  // or throws are freed into it, and unmapped with it.
  ScopedBlockReuse reuse;
  ReplayPlanner planner(*trace_, targets);
  auto observe = [&](const PlanStep& step, std::vector<Tensor> values) {
    if (!observer_) return;
    if (!observer_(ReplayStep{step.vertex, step.node, std::move(values), StepRegions(step)})) {
      ThrowErrorWithCode(absl::StatusCode::kCancelled, "%s: replay stopped",
                         DescribeNode(*step.node));
    }
  };

  const auto run = [&](const TraceNode& node, OpCall& call) {
    if (node.def->is_host_fallback(device_.type())) host_fallbacks_.push_back(node.def->name);
    return RunRecorded(node, call);
  };

  // The buffer of each version computed and still to be read, by number: a map, since
  // those are few at any time while a vector would span every value of the run.
  absl::flat_hash_map<int32_t, RegionBuffer> live;
  const auto live_buffer = [&](int32_t value) -> const RegionBuffer& {
    static const RegionBuffer* const kNone = new RegionBuffer();
    const auto it = live.find(value);
    return it == live.end() ? *kNone : it->second;
  };
  // One step and one input list for every step: their storage outlives the step, so a
  // step of a few inputs and attrs does not allocate them.
  std::vector<Tensor> inputs;
  PlanStep step;
  while (planner.Next(&step)) {
    const TraceNode& node = *step.node;
    if (step.whole) whole_fallbacks_.push_back(node.def->name);
    const bool in_place = node.def->kind == OpKind::kInPlace;
    OpCall call{node.def, std::move(inputs), std::move(step.attrs)};
    for (size_t k = 0; step.writes && k < node.inputs.size(); ++k) {
      if (k == 0 && in_place) {
        call.inputs.emplace_back();  // the target: a view of the next version, below
        continue;
      }
      const Region& region = step.input_regions[k];
      call.inputs.push_back(
          step.reads[k] ? RestrictedInput(step, k, live_buffer(step.input_values[k]), region)
                        : AllocateTensor(region.sizes(), node.inputs[k].dtype, device_));
    }
    if (node.def->kind == OpKind::kFactory) call.attrs.Set("device", device_);

    if (in_place) {
      const RegionBuffer& old = live_buffer(step.input_values[0]);
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
        run(node, call);
        ++ops_run_;
        elements_computed_ += call.inputs[0].numel();
        observe(step, {call.inputs[0]});
      }
      live[step.output_values[0]] = std::move(next);
    } else {
      std::vector<Tensor> outputs = run(node, call);
      ++ops_run_;
      for (const Tensor& output : outputs) elements_computed_ += output.numel();
      for (size_t k = 0; k < outputs.size(); ++k) {
        if (outputs[k].sizes() != step.output_regions[k].sizes()) {
          ThrowErrorWithCode(absl::StatusCode::kInternal,
                             "%s: region rule produced %s for the region %s", node.def->name,
                             ShapeToString(outputs[k].sizes()), step.output_regions[k].ToString());
        }
        live[step.output_values[k]] = RegionBuffer{outputs[k].storage(), step.output_regions[k]};
      }
      observe(step, std::move(outputs));
    }
    // Given back, so that the next step's inputs and attrs reuse their storage.
    inputs = std::move(call.inputs);
    inputs.clear();
    step.attrs = std::move(call.attrs);
    for (int32_t value : step.frees) live.erase(value);
  }

  std::vector<RegionBuffer> results;
  results.reserve(targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    // Nothing runs for a target of no elements (a tensor with a size-0 dim).
    const RegionBuffer& buffer = live_buffer(planner.target_values()[t]);
    results.push_back(buffer.storage != nullptr
                          ? buffer
                          : RegionBuffer{AllocateStorage(0, device_), targets[t].region});
  }
  blocks_reused_ += reuse.reused_blocks();
  return results;
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
