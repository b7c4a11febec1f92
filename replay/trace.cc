#include "replay/trace.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "fake_tensor/error.h"
#include "fake_tensor/module_path.h"

namespace deferred {
namespace {

int64_t ShapeBytes(const Shape& s) { return static_cast<int64_t>(s.capacity() * sizeof(int64_t)); }

int64_t AttrBytes(const Attrs& attrs) {
  int64_t bytes = static_cast<int64_t>(attrs.entries().capacity() *
                                       sizeof(std::pair<std::string, AttrValue>));
  for (const auto& [name, value] : attrs.entries()) {
    bytes += static_cast<int64_t>(name.capacity());
    if (const auto* shape = std::get_if<Shape>(&value)) bytes += ShapeBytes(*shape);
    if (const auto* text = std::get_if<std::string>(&value)) {
      bytes += static_cast<int64_t>(text->capacity());
    }
  }
  return bytes;
}

// Bytes of `operands` outside the node: the list's heap block once it outgrows the node.
int64_t OperandBytes(const TraceOperands& operands) {
  int64_t bytes = operands.capacity() > kInlineOperands
                      ? static_cast<int64_t>(operands.capacity() * sizeof(TraceOperand))
                      : 0;
  for (const TraceOperand& op : operands) {
    bytes += ShapeBytes(op.layout.sizes) + ShapeBytes(op.layout.strides);
  }
  return bytes;
}

}  // namespace

std::vector<Tensor> Trace::Record(OpCall& call) {
  const std::string module_path = CurrentModulePath();
  const char* file = call.site.file();
  return RecordWithProvenance(
      call, Provenance{module_path, file == nullptr ? "" : file, call.site.line()});
}

std::vector<Tensor> Trace::RecordWithProvenance(OpCall& call, const Provenance& provenance) {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    return RecordLocked(call, Provenance{Intern(provenance.module_path), Intern(provenance.file),
                                         provenance.line});
  } catch (const Error& e) {
    const std::string suffix = ModulePathSuffix();
    const std::string message = e.what();
    if (suffix.empty() || message.find(suffix) != std::string::npos) throw;
    throw Error(message + suffix, e.code());
  }
}

std::string_view Trace::Intern(std::string_view text) {
  // Looked up first: emplace would build a string node for every call, new text or not.
  auto it = strings_.find(text);
  if (it == strings_.end()) it = strings_.emplace(text).first;
  return *it;
}

std::vector<Tensor> Trace::RecordLocked(OpCall& call, const Provenance& provenance) {
  const OpDef& def = *call.def;
  if (def.kind == OpKind::kView) return {MakeView(call.inputs[0], ViewLayoutOf(call))};

  TraceNode node{&def, call.attrs, provenance, {}, {}, {}};
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    node.inputs.push_back(InputOperand(call, i, provenance));
  }
  const TensorSpecs specs = OutputSpecsOf(call);

  std::vector<Tensor> outputs;
  if (def.kind == OpKind::kInPlace) {
    const Tensor& self = call.inputs[0];
    if (self.storage()->recorder().get() != this) {
      ThrowError("%s: cannot write into real %s from fake inputs; materialize the inputs "
                 "first, or create the target inside deferred_init",
                 def.name, self.ToString());
    }
    const int64_t id = self.storage()->id();
    const int32_t next = RecordOf(id).storage.versions;
    if (next == std::numeric_limits<int32_t>::max()) {
      ThrowError("%s: storage %d already has 2^31 - 1 recorded versions", def.name, id);
    }
    node.outputs.push_back(TraceOperand{{id, next}, self.layout(), self.dtype()});
    outputs.push_back(self);
  } else {
    for (const TensorSpec& spec : specs) {
      Tensor t = NewFakeTensor(spec);
      node.outputs.push_back(TraceOperand{{t.storage()->id(), 0}, t.layout(), t.dtype()});
      outputs.push_back(std::move(t));
    }
  }
  AddNode(std::move(node));
  return outputs;
}

Tensor Trace::NewFakeTensor(const TensorSpec& spec) {
  Tensor t = AllocateTensor(spec.sizes, spec.dtype, spec.device, /*fake=*/true);
  t.storage()->set_recorder(shared_from_this());
  storages_[t.storage()->id()] = StorageRecord{{spec.sizes, spec.dtype, spec.device, 0}, {}};
  return t;
}

TraceOperand Trace::InputOperand(const OpCall& call, size_t index,
                                 const Provenance& provenance) {
  const Tensor& t = call.inputs[index];
  if (t.storage()->recorder().get() == this) {
    const int32_t latest = RecordOf(t.storage()->id()).storage.versions - 1;
    return TraceOperand{{t.storage()->id(), latest}, t.layout(), t.dtype()};
  }
  if (!t.has_data()) {
    ThrowError("%s: input %d is %s, which has no data and was not recorded by this "
               "deferred_init",
               call.def->name, index, t.ToString());
  }
  const int64_t bytes = t.numel() * ElementSize(t.dtype());
  if (bytes > kMaxConstantBytes) {
    ThrowError("%s: input %d is a real tensor of %d bytes (%s); real tensors used by "
               "recorded ops are copied into the trace as constants, at most %d bytes. "
               "Create it inside deferred_init so that it is recorded instead",
               call.def->name, index, bytes, t.ToString(), kMaxConstantBytes);
  }
  // A copy taken now: later changes to the real tensor cannot alter what replay produces.
  Attrs attrs{{"sizes", t.sizes()},
              {"dtype", t.dtype()},
              {"device", t.device()},
              {"bytes", t.to_bytes()}};
  const Tensor constant = NewFakeTensor(TensorSpec{t.sizes(), t.dtype(), t.device()});
  TraceOperand operand{{constant.storage()->id(), 0}, constant.layout(), constant.dtype()};
  AddNode(TraceNode{&OpRegistry::Global().Get("from_bytes"), std::move(attrs), provenance, {},
                    {operand}, {}});
  return operand;
}

Trace::Vertex Trace::AddNode(TraceNode node) {
  node.input_producers.clear();
  for (const TraceOperand& input : node.inputs) {
    node.input_producers.push_back(ProducerLocked(input.value));
  }
  const Vertex v = boost::add_vertex(graph_);
  if (v % kNodesPerChunk == 0) {
    node_chunks_.push_back(std::make_unique<TraceNode[]>(kNodesPerChunk));
  }
  TraceNode& added = node_chunks_.back()[v % kNodesPerChunk];
  added = std::move(node);
  // One edge per producer however many inputs it made. Sorted, not hashed: a node has few
  // inputs, and the edges then come in a fixed order.
  absl::InlinedVector<Vertex, 4> producers(added.input_producers.begin(),
                                           added.input_producers.end());
  std::sort(producers.begin(), producers.end());
  producers.erase(std::unique(producers.begin(), producers.end()), producers.end());
  for (Vertex p : producers) boost::add_edge(p, v, graph_);
  for (const TraceOperand& output : added.outputs) {
    StorageRecord& record = storages_.at(output.value.storage_id);
    record.producers.push_back(v);
    ++record.storage.versions;
  }
  return v;
}

const Trace::StorageRecord& Trace::RecordOf(int64_t storage_id) const {
  auto it = storages_.find(storage_id);
  if (it == storages_.end()) ThrowError("storage %d was not recorded by this trace", storage_id);
  return it->second;
}

StorageVersion Trace::Latest(const StorageImpl& storage) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return StorageVersion{storage.id(), RecordOf(storage.id()).storage.versions - 1};
}

Trace::Vertex Trace::ProducerLocked(const StorageVersion& value) const {
  const auto& producers = RecordOf(value.storage_id).producers;
  if (value.version < 0 || value.version >= static_cast<int32_t>(producers.size())) {
    ThrowError("storage %d has no version %d", value.storage_id, value.version);
  }
  return producers[value.version];
}

Trace::Vertex Trace::Producer(const StorageVersion& value) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ProducerLocked(value);
}

std::vector<Trace::Vertex> Trace::Subgraph(const std::vector<StorageVersion>& targets) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<bool> needed(boost::num_vertices(graph_), false);
  std::vector<Vertex> stack;
  for (const StorageVersion& target : targets) {
    const Vertex v = ProducerLocked(target);
    if (!needed[v]) {
      needed[v] = true;
      stack.push_back(v);
    }
  }
  while (!stack.empty()) {
    const Vertex v = stack.back();
    stack.pop_back();
    for (auto [it, end] = boost::in_edges(v, graph_); it != end; ++it) {
      const Vertex u = boost::source(*it, graph_);
      if (!needed[u]) {
        needed[u] = true;
        stack.push_back(u);
      }
    }
  }
  std::vector<Vertex> order;
  for (Vertex v = 0; v < needed.size(); ++v) {
    if (needed[v]) order.push_back(v);
  }
  return order;
}

const TraceNode& Trace::NodeLocked(Vertex v) const {
  if (v >= boost::num_vertices(graph_)) ThrowError("the trace has no node %d", v);
  return node_chunks_[v / kNodesPerChunk][v % kNodesPerChunk];
}

const TraceNode& Trace::Node(Vertex v) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return NodeLocked(v);
}

std::vector<const TraceNode*> Trace::Nodes(const std::vector<Vertex>& vertices) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const TraceNode*> nodes;
  nodes.reserve(vertices.size());
  for (Vertex v : vertices) nodes.push_back(&NodeLocked(v));
  return nodes;
}

TraceStorage Trace::Storage(int64_t storage_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return RecordOf(storage_id).storage;
}

int64_t Trace::num_ops() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(boost::num_vertices(graph_));
}

int64_t Trace::ApproximateBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  // Whole chunks, the slots not yet used included.
  int64_t bytes = static_cast<int64_t>(node_chunks_.size() * kNodesPerChunk * sizeof(TraceNode));
  for (auto [it, end] = boost::vertices(graph_); it != end; ++it) {
    const TraceNode& node = NodeLocked(*it);
    // A vertex of a bidirectional adjacency list: two edge lists.
    bytes += static_cast<int64_t>(2 * sizeof(std::vector<int>));
    bytes += AttrBytes(node.attrs) + OperandBytes(node.inputs) + OperandBytes(node.outputs);
  }
  bytes += static_cast<int64_t>(boost::num_edges(graph_)) * 4 * static_cast<int64_t>(sizeof(void*));
  for (const auto& [id, record] : storages_) {
    const size_t producer_bytes =
        record.producers.capacity() > 1 ? record.producers.capacity() * sizeof(Vertex) : 0;
    bytes += static_cast<int64_t>(sizeof(id) + sizeof(StorageRecord) + producer_bytes) +
             ShapeBytes(record.storage.sizes);
  }
  return bytes;
}

std::string DescribeNode(const TraceNode& node) {
  std::string out = node.def->name;
  if (!node.provenance.file.empty()) {
    absl::StrAppendFormat(&out, " at %s:%d", node.provenance.file, node.provenance.line);
  }
  if (!node.provenance.module_path.empty()) {
    absl::StrAppendFormat(&out, " in %s", node.provenance.module_path);
  }
  return out;
}

OpCall MetaCallOf(const Trace& trace, const TraceNode& node) {
  OpCall call{node.def, {}, node.attrs};
  for (const TraceOperand& input : node.inputs) {
    const TraceStorage storage = trace.Storage(input.value.storage_id);
    const int64_t nbytes = CheckedByteSize(storage.sizes, storage.dtype, node.def->name);
    call.inputs.push_back(
        MakeTensor(FakeStorage(nbytes, Device::Meta()), input.layout, input.dtype));
  }
  return call;
}

std::shared_ptr<Trace> TraceOf(const Tensor& t) {
  return std::dynamic_pointer_cast<Trace>(t.storage()->recorder());
}

}  // namespace deferred
