#include "replay/replay_plan.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "fake_tensor/error.h"
#include "fake_tensor/host_memory.h"

namespace deferred {
namespace {

// The arrays of a run, one or a few entries per node: a run of a million nodes fills
// hundreds of megabytes of them, which WorkingArrayAllocator maps on huge pages.
template <typename T>
using RunArray = std::vector<T, WorkingArrayAllocator<T>>;
template <typename K, typename V>
using RunMap = absl::flat_hash_map<K, V, absl::Hash<K>, std::equal_to<K>,
                                   WorkingArrayAllocator<std::pair<const K, V>>>;

// The nodes of one run and dense numbers for the storage versions they make: output k
// of nodes[i] is value first_value[i] + k. A run keeps its per-value state in vectors
// indexed by these numbers rather than in hash maps keyed by StorageVersion, so that the
// cost of each op does not grow with the length of the trace; so are the storages its
// inputs view, looked up in the trace once each.
class RunGraph {
 public:
  RunGraph(const Trace& trace, const std::vector<Trace::Vertex>& vertices)
      : nodes_(trace.Nodes(vertices)) {
    RunArray<int32_t> position(vertices.empty() ? 0 : vertices.back() + 1, -1);
    size_t num_inputs = 0;
    for (size_t i = 0; i < vertices.size(); ++i) {
      position[vertices[i]] = static_cast<int32_t>(i);
      first_value_.push_back(num_values_);
      num_values_ += static_cast<int32_t>(nodes_[i]->outputs.size());
      num_inputs += nodes_[i]->inputs.size();
      for (const TraceOperand& operand : nodes_[i]->inputs) {
        region_words_bound_ += 1 + 2 * static_cast<int64_t>(operand.layout.sizes.size());
      }
      for (const TraceOperand& operand : nodes_[i]->outputs) {
        region_words_bound_ += 1 + 2 * static_cast<int64_t>(operand.layout.sizes.size());
      }
    }
    // Reserved, not grown: growing would copy them, and touch twice the memory.
    input_values_.reserve(num_inputs);
    input_storages_.reserve(num_inputs);
    storages_.reserve(num_inputs);
    RunMap<int64_t, int32_t> storage_index;  // by storage id
    for (const TraceNode* node : nodes_) {
      first_input_.push_back(static_cast<int32_t>(input_values_.size()));
      for (size_t k = 0; k < node->inputs.size(); ++k) {
        const StorageVersion& value = node->inputs[k].value;
        input_values_.push_back(ValueOf(position[node->input_producers[k]], value));
        const auto [it, added] =
            storage_index.try_emplace(value.storage_id, static_cast<int32_t>(storages_.size()));
        if (added) storages_.push_back(trace.Storage(value.storage_id));
        input_storages_.push_back(it->second);
      }
      if (node->def->kind == OpKind::kInPlace) {
        // Its output region is in its base's index space, beside the write region in its
        // view's, which the count above gave room for.
        const Shape& base_sizes = storages_[input_storages_[first_input_.back()]].sizes;
        region_words_bound_ += 1 + 2 * static_cast<int64_t>(base_sizes.size());
      }
    }
    first_input_.push_back(static_cast<int32_t>(input_values_.size()));
  }

  int32_t num_values() const { return num_values_; }
  const std::vector<const TraceNode*>& nodes() const { return nodes_; }
  // The number of output `k` of node `i`.
  int32_t Output(size_t i, size_t k) const { return first_value_[i] + static_cast<int32_t>(k); }
  // The number of the value input `k` of node `i` reads.
  int32_t Input(size_t i, size_t k) const { return input_values_[InputSlot(i, k)]; }
  // Input `k` of node `i` numbered among the inputs of all nodes, 0 .. num_inputs() - 1.
  int32_t InputSlot(size_t i, size_t k) const { return first_input_[i] + static_cast<int32_t>(k); }
  int32_t num_inputs() const { return static_cast<int32_t>(input_values_.size()); }
  // At least the words of PackedRegions that the plans of all nodes take.
  int64_t region_words_bound() const { return region_words_bound_; }
  // The storage input `k` of node `i` is a view of.
  const TraceStorage& InputStorage(size_t i, size_t k) const {
    return storages_[input_storages_[InputSlot(i, k)]];
  }
  // The number of `value`, made by the node at `position`.
  int32_t ValueOf(int32_t position, const StorageVersion& value) const {
    const TraceOperands& outputs = nodes_[position]->outputs;
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (outputs[k].value == value) return Output(position, k);
    }
    ThrowErrorWithCode(absl::StatusCode::kInternal, "storage %d version %d has no producer",
                       value.storage_id, value.version);
  }

 private:
  std::vector<const TraceNode*> nodes_;
  RunArray<int32_t> first_value_;
  RunArray<int32_t> first_input_;
  RunArray<int32_t> input_values_;
  RunArray<int32_t> input_storages_;  // indices into storages_, beside input_values_
  RunArray<TraceStorage> storages_;
  int32_t num_values_ = 0;
  int64_t region_words_bound_ = 0;
};

// Whether `region` is all of `sizes`' index space.
bool IsFull(const Region& region, const Shape& sizes) {
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (region.start[d] != 0 || region.stop[d] != sizes[d]) return false;
  }
  return true;
}

// What the backward pass decided for one node. The pass plans every node into the same
// one, whose lists then keep their storage from node to node.
struct NodePlan {
  // A plan of nothing, for the next node.
  void Reset() {
    runs = false;
    writes = true;
    whole = false;
    reads_old = true;
    input_regions.clear();
    output_regions.clear();
    write_region = Region();
    attrs.reset();
  }

  bool runs = false;
  bool writes = true;                // in-place: false when nothing written lies in range
  bool whole = false;                // computes more than asked (no region rule)
  bool reads_old = true;             // in-place: reads the old version of its base
  RegionList input_regions;          // in each input's view index space
  RegionList output_regions;         // buffer region of each output value
  Region write_region;               // in-place: the part of input 0's view written
  std::optional<Attrs> attrs;        // the rule's attrs; none: the node's own
};

// Regions stored end to end as (rank, start..., stop...): a one-dim region takes three
// words instead of the 112 bytes of a Region with its inline shapes. The plans of a
// million nodes are then one allocation, not millions, and about the size of their numbers.
class PackedRegions {
 public:
  // Room for `words` words in all, made once, so that appending is a copy into it.
  void Reserve(int64_t words) { words_.resize(words); }
  void Append(const Region& region) {
    const int64_t length = 1 + 2 * region.rank();
    if (size_ + length > static_cast<int64_t>(words_.size())) {
      ThrowErrorWithCode(absl::StatusCode::kInternal,
                         "the plan's regions outgrew the %d words reserved for them",
                         words_.size());
    }
    int64_t* at = words_.data() + size_;
    *at = region.rank();
    std::copy(region.stop.begin(), region.stop.end(),
              std::copy(region.start.begin(), region.start.end(), at + 1));
    size_ += length;
  }
  // The region at word `*offset`; moves `*offset` past it.
  Region Read(int64_t* offset) const {
    const auto rank = static_cast<size_t>(words_[*offset]);
    const int64_t* start = words_.data() + *offset + 1;
    *offset += 1 + 2 * static_cast<int64_t>(rank);
    return Region{Shape(start, start + rank), Shape(start + rank, start + 2 * rank)};
  }
  int64_t size() const { return size_; }

 private:
  RunArray<int64_t> words_;
  int64_t size_ = 0;  // words appended
};

// A node's plan as a run keeps it until its step.
struct KeptPlan {
  bool runs = false;
  bool writes = true;
  bool whole = false;
  bool reads_old = true;
  int32_t num_input_regions = 0;
  // In KeptPlans::regions: its input regions, its output regions, then (in-place ops) its
  // write region.
  int64_t first_region = 0;
  std::optional<Attrs> attrs;  // the rule's attrs; none: the node's own
};

// The plans of a run's nodes, from the backward pass that makes them to their steps.
struct KeptPlans {
  RunArray<KeptPlan> nodes;  // of each node of the run
  PackedRegions regions;
  // Whether each input of each node is read (RunGraph::InputSlot): an in-place op reads the
  // old version of its base (operand 0) unless it overwrites all of it, and the others only
  // if it writes something needed; no op reads an operand of which its plan needs nothing
  // (a cat part outside the region, say).
  RunArray<bool> reads;
  // The reads of each value (by number) by the nodes that run.
  RunArray<int32_t> value_reads;
  // Whether an in-place op that runs reads each value as the old version it may write over.
  RunArray<bool> read_in_place;
};

class Planner {
 public:
  Planner(const Trace& trace, const RunGraph& graph)
      : trace_(trace), graph_(graph), need_slot_(graph.num_values(), -1) {}

  // The base region of the storage of input `k` of node `i` that `view_region` of the
  // input touches.
  Region InputImage(size_t i, size_t k, const Region& view_region) {
    return BaseRegionOf(graph_.nodes()[i]->inputs[k].layout, graph_.InputStorage(i, k).sizes,
                        view_region);
  }

  // Adds `region` to what later ops need of value `value`.
  void Need(int32_t value, Region region) {
    if (region.empty()) return;
    int32_t& slot = need_slot_[value];
    if (slot >= 0) {
      needed_[slot] = BoundingUnion(needed_[slot], region);
    } else if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
      needed_[slot] = std::move(region);
    } else {
      slot = static_cast<int32_t>(needed_.size());
      needed_.push_back(std::move(region));
    }
  }

  // The region of `value` that later ops need, if any. Only its producer asks, once, and
  // takes it, so that the planner holds regions only for the values still to plan.
  std::optional<Region> TakeNeeded(int32_t value) {
    const int32_t slot = need_slot_[value];
    if (slot < 0) return std::nullopt;
    need_slot_[value] = -1;
    free_slots_.push_back(slot);
    return std::move(needed_[slot]);
  }

  // Makes `*out` the plan of in-place node `i`.
  void PlanInPlace(size_t i, NodePlan* out) {
    NodePlan& plan = *out;
    plan.Reset();
    std::optional<Region> needed = TakeNeeded(graph_.Output(i, 0));
    if (!needed) return;
    Region written_base = *std::move(needed);
    const TraceNode& node = *graph_.nodes()[i];
    plan.runs = true;
    const TraceOperand& self = node.inputs[0];
    const Shape& view_sizes = self.layout.sizes;
    const Shape& base_sizes = graph_.InputStorage(i, 0).sizes;
    const bool whole_storage = IsWholeStorage(self.layout, base_sizes);
    std::optional<ViewTransform> t;
    if (!whole_storage) t = ViewTransform::Decompose(self.layout, base_sizes);
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
      written_base = Region::Full(base_sizes);
    }
    plan.write_region = view_region;
    plan.writes = !view_region.empty();
    plan.output_regions.assign(1, written_base);
    // An op that overwrites its target, when the target is its whole storage, leaves
    // nothing of the old version in its buffer: the ops that made it are dead there.
    plan.reads_old = !(node.def->overwrites && plan.writes && whole_storage);
    if (plan.reads_old) Need(graph_.Input(i, 0), written_base);  // bytes not overwritten
    if (!plan.writes) return;
    std::optional<RegionPlan> rule;
    if (node.def->region_rule && view_region != Region::Full(view_sizes)) {
      rule = node.def->region_rule(MetaCallOf(trace_, node), {view_region});
    }
    if (!rule) {
      if (view_region != Region::Full(view_sizes)) {
        // No rule: write the whole view, into a buffer that holds all of it.
        plan.whole = true;
        plan.write_region = Region::Full(view_sizes);
        written_base = BoundingUnion(written_base, InputImage(i, 0, plan.write_region));
        plan.output_regions.assign(1, written_base);
        if (plan.reads_old) Need(graph_.Input(i, 0), written_base);
      }
      for (const TraceOperand& input : node.inputs) {
        plan.input_regions.push_back(Region::Full(input.layout.sizes));
      }
    } else {
      plan.input_regions.assign(std::make_move_iterator(rule->inputs.begin()),
                                std::make_move_iterator(rule->inputs.end()));
      plan.attrs = std::move(rule->attrs);
    }
    for (size_t k = 1; k < node.inputs.size(); ++k) {
      Need(graph_.Input(i, k), InputImage(i, k, plan.input_regions[k]));
    }
  }

  // Makes `*out` the plan of functional or factory node `i`.
  void PlanFunctional(size_t i, NodePlan* out) {
    const TraceNode& node = *graph_.nodes()[i];
    NodePlan& plan = *out;
    plan.Reset();
    RegionList& outputs = plan.output_regions;
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
    if (!plan.runs) return;
    std::optional<RegionPlan> rule;
    if (!whole && node.def->region_rule) rule = node.def->region_rule(MetaCallOf(trace_, node), outputs);
    if (rule) {
      plan.input_regions.assign(std::make_move_iterator(rule->inputs.begin()),
                                std::make_move_iterator(rule->inputs.end()));
      plan.attrs = std::move(rule->attrs);
    } else {
      plan.whole = !whole;
      for (const TraceOperand& input : node.inputs) {
        plan.input_regions.push_back(Region::Full(input.layout.sizes));
      }
      for (size_t k = 0; k < node.outputs.size(); ++k) {
        outputs[k] = Region::Full(node.outputs[k].layout.sizes);
      }
    }
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      Need(graph_.Input(i, k), InputImage(i, k, plan.input_regions[k]));
    }
  }

  // `targets[t]` is value `target_values[t]`.
  KeptPlans Plan(const std::vector<ReplayTarget>& targets,
                 const std::vector<int32_t>& target_values) {
    for (size_t t = 0; t < targets.size(); ++t) Need(target_values[t], targets[t].region);
    const std::vector<const TraceNode*>& nodes = graph_.nodes();
    KeptPlans kept;
    kept.nodes.resize(nodes.size());
    kept.reads.resize(graph_.num_inputs());
    kept.value_reads.resize(graph_.num_values());
    kept.read_in_place.resize(graph_.num_values());
    kept.regions.Reserve(graph_.region_words_bound());
    NodePlan plan;
    for (size_t i = nodes.size(); i-- > 0;) {
      if (nodes[i]->def->kind == OpKind::kInPlace) {
        PlanInPlace(i, &plan);
      } else {
        PlanFunctional(i, &plan);
      }
      if (!plan.runs) continue;
      KeptPlan& node = kept.nodes[i];
      node.writes = plan.writes;
      node.whole = plan.whole;
      node.reads_old = plan.reads_old;
      node.runs = true;
      node.first_region = kept.regions.size();
      node.num_input_regions = static_cast<int32_t>(plan.input_regions.size());
      node.attrs = std::move(plan.attrs);
      for (const Region& region : plan.input_regions) kept.regions.Append(region);
      for (const Region& region : plan.output_regions) kept.regions.Append(region);
      const bool in_place = nodes[i]->def->kind == OpKind::kInPlace;
      if (in_place) kept.regions.Append(plan.write_region);
      for (size_t k = 0; k < nodes[i]->inputs.size(); ++k) {
        const bool reads = in_place && k == 0 ? plan.reads_old
                                              : plan.writes && !plan.input_regions[k].empty();
        kept.reads[graph_.InputSlot(i, k)] = reads;
        if (reads) ++kept.value_reads[graph_.Input(i, k)];
      }
      if (in_place && plan.reads_old) kept.read_in_place[graph_.Input(i, 0)] = true;
    }
    return kept;
  }

 private:
  const Trace& trace_;
  const RunGraph& graph_;
  // What later ops need of the values whose readers are planned and producer is not: a
  // slot of needed_ for each, by value number (-1: none). Those values are few at any time,
  // so the regions are kept in a small pool that reuses the slots taken back, rather than
  // one for every value of the run.
  RunArray<int32_t> need_slot_;
  std::vector<Region> needed_;
  std::vector<int32_t> free_slots_;
};

}  // namespace

Region BaseRegionOf(const TensorLayout& layout, const Shape& base_sizes, const Region& view_region) {
  if (view_region.empty()) return Region{Shape(base_sizes.size(), 0), Shape(base_sizes.size(), 0)};
  if (IsWholeStorage(layout, base_sizes)) return view_region;
  std::optional<ViewTransform> t = ViewTransform::Decompose(layout, base_sizes);
  return t ? t->ImageBounds(view_region) : Region::Full(base_sizes);
}

struct ReplayPlanner::Run {
  Run(const Trace& trace, const std::vector<ReplayTarget>& targets) {
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
    plans = Planner(trace, *graph).Plan(targets, target_values);
  }

  // Whether node i reads operand k.
  bool ReadsOperand(size_t i, size_t k) const { return plans.reads[graph->InputSlot(i, k)]; }

  std::vector<Trace::Vertex> vertices;
  std::unique_ptr<RunGraph> graph;
  std::vector<int32_t> target_values;  // of each target
  KeptPlans plans;
  // The buffer region of each version an in-place op may write over (plans.read_in_place),
  // kept from its producer's step until that op's.
  absl::flat_hash_map<int32_t, Region> buffer_regions;
  size_t next = 0;  // the node whose step comes next, or after
};

ReplayPlanner::ReplayPlanner(const Trace& trace, const std::vector<ReplayTarget>& targets)
    : run_(std::make_unique<Run>(trace, targets)) {
  // From here on plans.value_reads counts the reads still to come, down as steps are handed
  // out; a target counts as one read that never ends.
  for (int32_t value : run_->target_values) ++run_->plans.value_reads[value];
}

ReplayPlanner::~ReplayPlanner() = default;

int32_t ReplayPlanner::num_values() const { return run_->graph->num_values(); }

const std::vector<int32_t>& ReplayPlanner::target_values() const { return run_->target_values; }

bool ReplayPlanner::Next(PlanStep* out) {
  Run& run = *run_;
  const RunGraph& graph = *run.graph;
  const std::vector<const TraceNode*>& nodes = graph.nodes();
  while (run.next < nodes.size() && !run.plans.nodes[run.next].runs) ++run.next;
  if (run.next == nodes.size()) return false;
  const size_t i = run.next++;
  const TraceNode& node = *nodes[i];
  KeptPlan& node_plan = run.plans.nodes[i];
  PlanStep& step = *out;
  step.input_regions.clear();
  step.output_regions.clear();
  step.reads.clear();
  step.input_values.clear();
  step.input_base_sizes.clear();
  step.output_values.clear();
  step.frees.clear();
  step.base_dtype = DType::kFloat32;
  step.buffer = InPlaceBuffer::kFresh;
  int64_t region_offset = node_plan.first_region;
  for (int32_t k = 0; k < node_plan.num_input_regions; ++k) {
    step.input_regions.push_back(run.plans.regions.Read(&region_offset));
  }
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    step.output_regions.push_back(run.plans.regions.Read(&region_offset));
  }
  step.write_region = node.def->kind == OpKind::kInPlace
                          ? run.plans.regions.Read(&region_offset)
                          : Region();
  step.vertex = run.vertices[i];
  step.node = &node;
  for (size_t k = 0; k < node.inputs.size(); ++k) step.reads.push_back(run.ReadsOperand(i, k));
  step.writes = node_plan.writes;
  step.whole = node_plan.whole;
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    step.input_values.push_back(graph.Input(i, k));
    step.input_base_sizes.push_back(graph.InputStorage(i, k).sizes);
  }
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    step.output_values.push_back(graph.Output(i, k));
    if (run.plans.read_in_place[graph.Output(i, k)]) {
      run.buffer_regions[graph.Output(i, k)] = step.output_regions[k];
    }
  }
  if (node.def->kind == OpKind::kInPlace) {
    const int32_t old_value = graph.Input(i, 0);
    step.base_dtype = graph.InputStorage(i, 0).dtype;
    if (node_plan.reads_old) {
      const auto old_region = run.buffer_regions.find(old_value);
      const bool reuse = run.plans.value_reads[old_value] == 1 &&
                         old_region != run.buffer_regions.end() &&
                         old_region->second == step.output_regions[0];
      step.buffer = reuse ? InPlaceBuffer::kReuse : InPlaceBuffer::kCopy;
    }
  }
  // Assigned, not built: a copy into the step's own attrs reuses their storage.
  if (node_plan.attrs) {
    step.attrs = *std::move(node_plan.attrs);
  } else {
    step.attrs = node.attrs;
  }
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    if (step.reads[k] && --run.plans.value_reads[graph.Input(i, k)] == 0) {
      step.frees.push_back(graph.Input(i, k));
      if (run.plans.read_in_place[graph.Input(i, k)]) {
        run.buffer_regions.erase(graph.Input(i, k));
      }
    }
  }
  return true;
}

ReplayPlan PlanReplay(const Trace& trace, const std::vector<ReplayTarget>& targets) {
  ReplayPlanner planner(trace, targets);
  ReplayPlan plan;
  plan.target_values = planner.target_values();
  plan.num_values = planner.num_values();
  PlanStep step;
  while (planner.Next(&step)) plan.steps.push_back(step);
  return plan;
}

}  // namespace deferred
