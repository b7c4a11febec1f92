#include "replay/replay_session.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"

namespace deferred {
namespace {

// The nodes of one run and dense numbers for the storage versions they make: output k
// of nodes[i] is value first_value[i] + k. A run keeps its per-value state in vectors
// indexed by these numbers rather than in hash maps keyed by StorageVersion, so that the
// cost of each op does not grow with the length of the trace.
class RunGraph {
 public:
  RunGraph(const Trace& trace, const std::vector<Trace::Vertex>& vertices) {
    std::vector<int32_t> position(vertices.empty() ? 0 : vertices.back() + 1, -1);
    for (size_t i = 0; i < vertices.size(); ++i) {
      position[vertices[i]] = static_cast<int32_t>(i);
      nodes_.push_back(&trace.Node(vertices[i]));
      first_value_.push_back(num_values_);
      num_values_ += static_cast<int32_t>(nodes_.back()->outputs.size());
    }
    for (const TraceNode* node : nodes_) {
      first_input_.push_back(static_cast<int32_t>(input_values_.size()));
      for (size_t k = 0; k < node->inputs.size(); ++k) {
        input_values_.push_back(ValueOf(position[node->input_producers[k]], node->inputs[k].value));
      }
    }
    first_input_.push_back(static_cast<int32_t>(input_values_.size()));
  }

  int32_t num_values() const { return num_values_; }
  const std::vector<const TraceNode*>& nodes() const { return nodes_; }
  // The number of output `k` of node `i`.
  int32_t Output(size_t i, size_t k) const { return first_value_[i] + static_cast<int32_t>(k); }
  // The number of the value input `k` of node `i` reads.
  int32_t Input(size_t i, size_t k) const { return input_values_[first_input_[i] + k]; }
  // The number of `value`, made by the node at `position`.
  int32_t ValueOf(int32_t position, const StorageVersion& value) const {
    const std::vector<TraceOperand>& outputs = nodes_[position]->outputs;
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (outputs[k].value == value) return Output(position, k);
    }
    ThrowErrorWithCode(absl::StatusCode::kInternal, "storage %d version %d has no producer",
                       value.storage_id, value.version);
  }

 private:
  std::vector<const TraceNode*> nodes_;
  std::vector<int32_t> first_value_;
  std::vector<int32_t> first_input_;
  std::vector<int32_t> input_values_;
  int32_t num_values_ = 0;
};

// What the backward pass decided for one node.
struct NodePlan {
  bool runs = false;
  bool writes = true;                // in-place: false when nothing written lies in range
  bool whole = false;                // computes more than asked (no region rule)
  bool reads_old = true;             // in-place: reads the old version of its base
  std::vector<Region> input_regions;  // in each input's view index space
  std::vector<Region> output_regions; // buffer region of each output value
  Region write_region;               // in-place: the part of input 0's view written
  Attrs attrs;
};

class Planner {
 public:
  Planner(const Trace& trace, const RunGraph& graph)
      : trace_(trace), graph_(graph), need_(graph.num_values()) {}

  // The trace's storage, looked up once per planner: a node's rules consult it often.
  const TraceStorage& Storage(const StorageVersion& v) {
    auto it = storages_.find(v.storage_id);
    if (it == storages_.end()) it = storages_.emplace(v.storage_id, trace_.Storage(v.storage_id)).first;
    return it->second;
  }

  std::optional<ViewTransform> Transform(const TraceOperand& operand) {
    return ViewTransform::Decompose(operand.layout, Storage(operand.value).sizes);
  }

  // Whether `operand` is its storage itself: contiguous from offset 0, in its shape.
  bool IsWholeStorage(const TraceOperand& operand) {
    const Shape& sizes = Storage(operand.value).sizes;
    return operand.layout.storage_offset == 0 && operand.layout.sizes == sizes &&
           operand.layout.strides == ContiguousStrides(sizes);
  }

  // The base region of `operand`'s storage that `view_region` of the operand touches.
  Region Image(const TraceOperand& operand, const Region& view_region) {
    return BaseRegionOf(operand.layout, Storage(operand.value).sizes, view_region);
  }

  // Adds `region` to what later ops need of value `value`.
  void Need(int32_t value, const Region& region) {
    if (region.empty()) return;
    std::optional<Region>& need = need_[value];
    need = need ? BoundingUnion(*need, region) : region;
  }

  // The region of `value` that later ops need, if any. Only its producer asks, once, and
  // takes it, so that the plan holds regions only for the values still to plan.
  std::optional<Region> TakeNeeded(int32_t value) { return std::move(need_[value]); }

  NodePlan PlanInPlace(size_t i, Region written_base) {
    const TraceNode& node = *graph_.nodes()[i];
    NodePlan plan;
    plan.runs = true;
    plan.attrs = node.attrs;
    const TraceOperand& self = node.inputs[0];
    const Shape& view_sizes = self.layout.sizes;
    std::optional<ViewTransform> t = Transform(self);
    Region view_region = Region::Full(view_sizes);
    if (t) {
      // Grow the buffer until it holds the image of everything the op writes in it.
      for (;;) {
        view_region = t->PreimageBounds(written_base);
        if (view_region.empty()) break;
        const Region grown = BoundingUnion(written_base, t->ImageBounds(view_region));
        if (grown == written_base) break;
        written_base = grown;
      }
    } else {
      written_base = Region::Full(Storage(self.value).sizes);
    }
    plan.write_region = view_region;
    plan.writes = !view_region.empty();
    plan.output_regions = {written_base};
    // An op that overwrites its target, when the target is its whole storage, leaves
    // nothing of the old version in its buffer: the ops that made it are dead there.
    plan.reads_old = !(node.def->overwrites && plan.writes && IsWholeStorage(self));
    if (plan.reads_old) Need(graph_.Input(i, 0), written_base);  // bytes not overwritten
    if (!plan.writes) return plan;
    std::optional<RegionPlan> rule;
    if (node.def->region_rule && view_region != Region::Full(view_sizes)) {
      rule = node.def->region_rule(MetaCallOf(trace_, node), {view_region});
    }
    if (!rule) {
      if (view_region != Region::Full(view_sizes)) {
        // No rule: write the whole view, into a buffer that holds all of it.
        plan.whole = true;
        plan.write_region = Region::Full(view_sizes);
        written_base = BoundingUnion(written_base, Image(self, plan.write_region));
        plan.output_regions = {written_base};
        if (plan.reads_old) Need(graph_.Input(i, 0), written_base);
      }
      for (const TraceOperand& input : node.inputs) plan.input_regions.push_back(Region::Full(input.layout.sizes));
    } else {
      plan.input_regions = std::move(rule->inputs);
      plan.attrs = std::move(rule->attrs);
    }
    for (size_t k = 1; k < node.inputs.size(); ++k) {
      Need(graph_.Input(i, k), Image(node.inputs[k], plan.input_regions[k]));
    }
    return plan;
  }

  NodePlan PlanFunctional(size_t i) {
    const TraceNode& node = *graph_.nodes()[i];
    NodePlan plan;
    std::vector<Region> outputs;
    bool whole = true;
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      const std::optional<Region> needed = TakeNeeded(graph_.Output(i, k));
      const Region full = Region::Full(node.outputs[k].layout.sizes);
      outputs.push_back(needed ? *needed : Region{full.start, full.start});
      if (needed) plan.runs = true;
      if (outputs.back() != full) whole = false;
    }
    if (!plan.runs) return plan;
    std::optional<RegionPlan> rule;
    if (!whole && node.def->region_rule) rule = node.def->region_rule(MetaCallOf(trace_, node), outputs);
    if (rule) {
      plan.input_regions = std::move(rule->inputs);
      plan.attrs = std::move(rule->attrs);
      plan.output_regions = std::move(outputs);
    } else {
      plan.whole = !whole;
      plan.attrs = node.attrs;
      for (const TraceOperand& input : node.inputs) plan.input_regions.push_back(Region::Full(input.layout.sizes));
      for (const TraceOperand& output : node.outputs) plan.output_regions.push_back(Region::Full(output.layout.sizes));
    }
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      Need(graph_.Input(i, k), Image(node.inputs[k], plan.input_regions[k]));
    }
    return plan;
  }

  // `targets[t]` is value `target_values[t]`.
  std::vector<NodePlan> Plan(const std::vector<ReplayTarget>& targets,
                             const std::vector<int32_t>& target_values) {
    for (size_t t = 0; t < targets.size(); ++t) Need(target_values[t], targets[t].region);
    const std::vector<const TraceNode*>& nodes = graph_.nodes();
    std::vector<NodePlan> plans(nodes.size());
    for (size_t i = nodes.size(); i-- > 0;) {
      if (nodes[i]->def->kind == OpKind::kInPlace) {
        if (std::optional<Region> needed = TakeNeeded(graph_.Output(i, 0))) {
          plans[i] = PlanInPlace(i, *std::move(needed));
        }
      } else {
        plans[i] = PlanFunctional(i);
      }
    }
    return plans;
  }

 private:
  const Trace& trace_;
  const RunGraph& graph_;
  absl::node_hash_map<int64_t, TraceStorage> storages_;  // references stay valid
  std::vector<std::optional<Region>> need_;  // by value number
};

// A run's graph and its plan for `targets`.
struct RunPlan {
  RunPlan(const Trace& trace, const std::vector<ReplayTarget>& targets) {
    std::vector<StorageVersion> values;
    for (const ReplayTarget& target : targets) values.push_back(target.value);
    vertices = trace.Subgraph(values);
    graph = std::make_unique<RunGraph>(trace, vertices);
    for (const StorageVersion& value : values) {
      const auto position =
          std::lower_bound(vertices.begin(), vertices.end(), trace.Producer(value));
      target_values.push_back(
          graph->ValueOf(static_cast<int32_t>(position - vertices.begin()), value));
    }
    planner = std::make_unique<Planner>(trace, *graph);
    plans = planner->Plan(targets, target_values);
  }

  std::vector<Trace::Vertex> vertices;
  std::unique_ptr<RunGraph> graph;  // pointers: the planner holds a reference to it
  std::unique_ptr<Planner> planner;
  std::vector<int32_t> target_values;  // of each target
  std::vector<NodePlan> plans;         // of each node of the graph
};

// The regions a step reports for node `node` planned as `plan` (PlannedOp::regions).
std::vector<Region> StepRegions(const TraceNode& node, const NodePlan& plan) {
  if (node.def->kind == OpKind::kInPlace) return {plan.write_region};
  return plan.output_regions;
}

Tensor RestrictedInput(Planner& planner, const TraceOperand& operand, const RegionBuffer& buffer,
                       const Region& view_region) {
  return ViewOfRegion(buffer, operand.layout, operand.dtype, planner.Storage(operand.value).sizes,
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

Region BaseRegionOf(const TensorLayout& layout, const Shape& base_sizes, const Region& view_region) {
  if (view_region.empty()) return Region{Shape(base_sizes.size(), 0), Shape(base_sizes.size(), 0)};
  std::optional<ViewTransform> t = ViewTransform::Decompose(layout, base_sizes);
  return t ? t->ImageBounds(view_region) : Region::Full(base_sizes);
}

std::vector<RegionBuffer> ReplaySession::Run(const std::vector<ReplayTarget>& targets) {
  RunPlan run(*trace_, targets);
  const RunGraph& graph = *run.graph;
  Planner& planner = *run.planner;
  const std::vector<const TraceNode*>& nodes = graph.nodes();
  const std::vector<int32_t>& target_values = run.target_values;
  std::vector<NodePlan>& plans = run.plans;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (plans[i].runs && plans[i].whole) whole_fallbacks_.push_back(nodes[i]->def->name);
  }
  auto observe = [&](size_t i, std::vector<Tensor> values) {
    if (!observer_) return;
    const TraceNode& node = *nodes[i];
    const ReplayStep step{run.vertices[i], &node, std::move(values), StepRegions(node, plans[i])};
    if (!observer_(step)) {
      ThrowErrorWithCode(absl::StatusCode::kCancelled, "%s: replay stopped", DescribeNode(node));
    }
  };

  // Remaining reads of each value; a target counts as one read that never ends.
  std::vector<int64_t> reads(graph.num_values(), 0);
  // Whether running node i reads operand k: an in-place op reads the old version of its
  // base (operand 0) unless it overwrites all of it, and the others only if it writes
  // something needed; no
  // op reads an operand of which its plan needs nothing (e.g. a cat part outside the region).
  auto reads_operand = [&](size_t i, size_t k) {
    const bool in_place = nodes[i]->def->kind == OpKind::kInPlace;
    if (in_place && k == 0) return plans[i].reads_old;
    return plans[i].writes && !plans[i].input_regions[k].empty();
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!plans[i].runs) continue;
    for (size_t k = 0; k < nodes[i]->inputs.size(); ++k) {
      if (reads_operand(i, k)) ++reads[graph.Input(i, k)];
    }
  }
  for (int32_t value : target_values) ++reads[value];

  // The buffer of each value computed and still to be read (null storage: none).
  std::vector<RegionBuffer> live(graph.num_values());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const TraceNode& node = *nodes[i];
    const NodePlan& plan = plans[i];
    if (!plan.runs) continue;
    OpCall call{node.def, {}, plan.attrs};
    for (size_t k = 0; plan.writes && k < node.inputs.size(); ++k) {
      if (k == 0 && node.def->kind == OpKind::kInPlace) {
        call.inputs.emplace_back();  // the target: a view of the next version, below
        continue;
      }
      const TraceOperand& input = node.inputs[k];
      const Region& region = plan.input_regions[k];
      call.inputs.push_back(reads_operand(i, k)
                                ? RestrictedInput(planner, input, live[graph.Input(i, k)], region)
                                : AllocateTensor(region.sizes(), input.dtype, device_));
    }
    if (node.def->kind == OpKind::kFactory) call.attrs.Set("device", device_);

    if (node.def->kind == OpKind::kInPlace) {
      const TraceOperand& self = node.inputs[0];
      const int32_t old_value = graph.Input(i, 0);
      const RegionBuffer& old = live[old_value];
      const Region& region = plan.output_regions[0];
      const DType dtype = planner.Storage(self.value).dtype;
      // Write the next version into the old one's bytes when no one else reads those, and
      // into new bytes when the op overwrites them all.
      RegionBuffer next = ForNode(node, [&] {
        if (!plan.reads_old) {
          return RegionBuffer{AllocateTensor(region.sizes(), dtype, device_).storage(), region};
        }
        return reads[old_value] == 1 && old.region == region
                   ? old
                   : CopyRegion(old, region, dtype, device_);
      });
      if (plan.writes) {
        call.inputs[0] = RestrictedInput(planner, self, next, plan.write_region);
        RunRecorded(node, call);
        ++ops_run_;
        elements_computed_ += call.inputs[0].numel();
        observe(i, {call.inputs[0]});
      }
      live[graph.Output(i, 0)] = std::move(next);
    } else {
      std::vector<Tensor> outputs = RunRecorded(node, call);
      ++ops_run_;
      for (const Tensor& output : outputs) elements_computed_ += output.numel();
      for (size_t k = 0; k < outputs.size(); ++k) {
        if (outputs[k].sizes() != plan.output_regions[k].sizes()) {
          ThrowErrorWithCode(absl::StatusCode::kInternal,
                             "%s: region rule produced %s for the region %s", node.def->name,
                             ShapeToString(outputs[k].sizes()), plan.output_regions[k].ToString());
        }
        live[graph.Output(i, k)] = RegionBuffer{outputs[k].storage(), plan.output_regions[k]};
      }
      observe(i, std::move(outputs));
    }
    call.inputs.clear();
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (reads_operand(i, k) && --reads[graph.Input(i, k)] == 0) live[graph.Input(i, k)] = {};
    }
    plans[i] = NodePlan();  // done with: free it now rather than all at the end
  }

  std::vector<RegionBuffer> results;
  results.reserve(targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    // Nothing runs for a target of no elements (a tensor with a size-0 dim).
    const RegionBuffer& buffer = live[target_values[t]];
    results.push_back(buffer.storage != nullptr
                          ? buffer
                          : RegionBuffer{AllocateStorage(0, device_), targets[t].region});
  }
  return results;
}

std::vector<PlannedOp> ReplaySession::Plan(const std::vector<ReplayTarget>& targets) const {
  const RunPlan run(*trace_, targets);
  std::vector<PlannedOp> planned;
  for (size_t i = 0; i < run.plans.size(); ++i) {
    const NodePlan& plan = run.plans[i];
    if (!plan.runs || !plan.writes) continue;
    planned.push_back(
        PlannedOp{run.vertices[i], StepRegions(*run.graph->nodes()[i], plan), plan.whole});
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
