#include "replay/replay_plan.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/node_hash_map.h"
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

// Whether `region` is all of `sizes`' index space.
bool IsFull(const Region& region, const Shape& sizes) {
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (region.start[d] != 0 || region.stop[d] != sizes[d]) return false;
  }
  return true;
}

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
    return deferred::IsWholeStorage(operand.layout, Storage(operand.value).sizes);
  }

  // The base region of `operand`'s storage that `view_region` of the operand touches.
  Region Image(const TraceOperand& operand, const Region& view_region) {
    return BaseRegionOf(operand.layout, Storage(operand.value).sizes, view_region);
  }

  // Adds `region` to what later ops need of value `value`.
  void Need(int32_t value, Region region) {
    if (region.empty()) return;
    std::optional<Region>& need = need_[value];
    need = need ? BoundingUnion(*need, region) : std::move(region);
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
    const bool whole_storage = IsWholeStorage(self);
    std::optional<ViewTransform> t;
    if (!whole_storage) t = Transform(self);
    Region view_region = Region::Full(view_sizes);
    if (whole_storage) {
      view_region = written_base;  // the view's index space is the base's
    } else if (t) {
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
    plan.reads_old = !(node.def->overwrites && plan.writes && whole_storage);
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
      std::optional<Region> needed = TakeNeeded(graph_.Output(i, k));
      const Shape& sizes = node.outputs[k].layout.sizes;
      if (needed) {
        plan.runs = true;
        if (!IsFull(*needed, sizes)) whole = false;
        outputs.push_back(*std::move(needed));
      } else {
        const Shape origin(sizes.size(), 0);
        outputs.push_back(Region{origin, origin});
        if (!IsFull(outputs.back(), sizes)) whole = false;
      }
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

}  // namespace

Region BaseRegionOf(const TensorLayout& layout, const Shape& base_sizes, const Region& view_region) {
  if (view_region.empty()) return Region{Shape(base_sizes.size(), 0), Shape(base_sizes.size(), 0)};
  if (IsWholeStorage(layout, base_sizes)) return view_region;
  std::optional<ViewTransform> t = ViewTransform::Decompose(layout, base_sizes);
  return t ? t->ImageBounds(view_region) : Region::Full(base_sizes);
}

ReplayPlan PlanReplay(const Trace& trace, const std::vector<ReplayTarget>& targets) {
  RunPlan run(trace, targets);
  const RunGraph& graph = *run.graph;
  Planner& planner = *run.planner;
  const std::vector<const TraceNode*>& nodes = graph.nodes();
  ReplayPlan plan;
  plan.target_values = run.target_values;
  plan.num_values = graph.num_values();

  // Whether node i reads operand k: an in-place op reads the old version of its base
  // (operand 0) unless it overwrites all of it, and the others only if it writes something
  // needed; no op reads an operand of which its plan needs nothing (a cat part outside the
  // region, say).
  auto reads_operand = [&](size_t i, size_t k) {
    const NodePlan& p = run.plans[i];
    if (nodes[i]->def->kind == OpKind::kInPlace && k == 0) return p.reads_old;
    return p.writes && !p.input_regions[k].empty();
  };
  // Remaining reads of each version, counted down as the ops would run; a target counts
  // as one read that never ends.
  std::vector<int64_t> reads(graph.num_values(), 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!run.plans[i].runs) continue;
    for (size_t k = 0; k < nodes[i]->inputs.size(); ++k) {
      if (reads_operand(i, k)) ++reads[graph.Input(i, k)];
    }
  }
  for (int32_t value : plan.target_values) ++reads[value];
  // The region of each version's buffer, once its producer is planned.
  std::vector<Region> buffer_regions(graph.num_values());

  plan.steps.reserve(std::count_if(run.plans.begin(), run.plans.end(),
                                   [](const NodePlan& p) { return p.runs; }));

  for (size_t i = 0; i < nodes.size(); ++i) {
    NodePlan& node_plan = run.plans[i];
    if (!node_plan.runs) continue;
    const TraceNode& node = *nodes[i];
    PlanStep step;
    step.vertex = run.vertices[i];
    step.node = &node;
    for (size_t k = 0; k < node.inputs.size(); ++k) step.reads.push_back(reads_operand(i, k));
    step.writes = node_plan.writes;
    step.whole = node_plan.whole;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      step.input_values.push_back(graph.Input(i, k));
      step.input_base_sizes.push_back(planner.Storage(node.inputs[k].value).sizes);
    }
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      step.output_values.push_back(graph.Output(i, k));
      buffer_regions[graph.Output(i, k)] = node_plan.output_regions[k];
    }
    if (node.def->kind == OpKind::kInPlace) {
      const int32_t old_value = graph.Input(i, 0);
      step.base_dtype = planner.Storage(node.inputs[0].value).dtype;
      if (!node_plan.reads_old) {
        step.buffer = InPlaceBuffer::kFresh;
      } else if (reads[old_value] == 1 &&
                 buffer_regions[old_value] == node_plan.output_regions[0]) {
        step.buffer = InPlaceBuffer::kReuse;
      } else {
        step.buffer = InPlaceBuffer::kCopy;
      }
    }
    // Moved, not copied: each node's plan is read for the last time here.
    step.attrs = std::move(node_plan.attrs);
    step.input_regions = std::move(node_plan.input_regions);
    step.output_regions = std::move(node_plan.output_regions);
    step.write_region = std::move(node_plan.write_region);
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (step.reads[k] && --reads[graph.Input(i, k)] == 0) {
        step.frees.push_back(graph.Input(i, k));
      }
    }
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

}  // namespace deferred
