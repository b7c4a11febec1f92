#ifndef DEFERRED_REPLAY_TRACE_H_
#define DEFERRED_REPLAY_TRACE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "boost/graph/adjacency_list.hpp"
#include "fake_tensor/attrs.h"
#include "fake_tensor/host_memory.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/recorder.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// One version of one storage: the SSA value of the trace. A factory or functional op makes
// version 0 of a new storage; an in-place op, also through a view, makes the next version
// of its base storage.
struct StorageVersion {
  int64_t storage_id = 0;
  int32_t version = 0;

  friend bool operator==(const StorageVersion& a, const StorageVersion& b) {
    return a.storage_id == b.storage_id && a.version == b.version;
  }
  template <typename H>
  friend H AbslHashValue(H h, const StorageVersion& v) {
    return H::combine(std::move(h), v.storage_id, v.version);
  }
};

// A tensor operand of a recorded op: the storage version it reads or writes, seen
// through a layout (views carry their metadata here rather than as ops).
struct TraceOperand {
  StorageVersion value;
  TensorLayout layout;
  DType dtype;
};

// Where a recorded op came from. The strings belong to the trace.
struct Provenance {
  std::string_view module_path;  // the module being constructed ("layers.3.mlp"), or ""
  std::string_view file;         // the file of the model code that called the op, or ""
  int32_t line = 0;              // its line, or 0
};

// The operands of a node. Most ops have at most one tensor input and one output, kept in
// the node itself: a replay reads every node it runs several times, and a trace of a
// million small ops would otherwise send each of those reads to separate heap blocks.
inline constexpr size_t kInlineOperands = 1;
using TraceOperands = absl::InlinedVector<TraceOperand, kInlineOperands>;

// A recorded op: the graph's vertex.
struct TraceNode {
  const OpDef* def = nullptr;
  Attrs attrs;
  Provenance provenance;
  TraceOperands inputs;
  // New storages of factories and functional ops; for an in-place op, the written view at
  // the base storage's next version.
  TraceOperands outputs;
  // Set by the trace when it records the node: the vertex of the node that made each
  // input's version.
  absl::InlinedVector<size_t, 1> input_producers;
};

// What the trace knows of each storage it made. Every storage is created contiguous, so
// `sizes` (the shape it was created with) is the index space its regions are taken in.
struct TraceStorage {
  Shape sizes;
  DType dtype = DType::kFloat32;
  Device device = Device::CPU();  // the home device
  int32_t versions = 0;           // versions recorded so far
};

// The op graph of one deferred_init: every op on its fake tensors, in recording order,
// as a Boost.Graph bidirectional adjacency list whose edges run from the op that produced
// a storage version to each op that reads it (vertex v is the v-th recorded node).
// Recording order is a topological order. Thread-safe.
class Trace : public OpRecorder, public std::enable_shared_from_this<Trace> {
 public:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  using Vertex = Graph::vertex_descriptor;

  // Real tensors captured as constants may hold at most this many bytes.
  static constexpr int64_t kMaxConstantBytes = int64_t{1} << 20;

  // OpRecorder: appends `call` (capturing real inputs as constants) and returns fake
  // outputs, with the thread's module path and the call's site as its provenance. Throws
  // `Error` for a real input over kMaxConstantBytes, or an in-place op whose target is a
  // real tensor.
  std::vector<Tensor> Record(OpCall& call) override;
  // Record with the given provenance (a loaded trace's); the trace keeps copies of its
  // strings.
  std::vector<Tensor> RecordWithProvenance(OpCall& call, const Provenance& provenance);

  // The latest version of `storage`, which must have been made by this trace.
  StorageVersion Latest(const StorageImpl& storage) const;

  // The ops that `targets` transitively depend on, in recording (topological) order.
  std::vector<Vertex> Subgraph(const std::vector<StorageVersion>& targets) const;
  // The vertex of the op that made `value`; throws `Error` for a value the trace lacks.
  Vertex Producer(const StorageVersion& value) const;

  // The node at `v`. Nodes never change or move once recorded, so the reference stays
  // valid, while other threads record, for as long as the trace lives.
  const TraceNode& Node(Vertex v) const;
  // The node at each of `vertices`, as Node gives it, looked up under one lock.
  std::vector<const TraceNode*> Nodes(const std::vector<Vertex>& vertices) const;
  // The storage `storage_id` of this trace; throws `Error` for another id. O(rank), however
  // many versions it has.
  TraceStorage Storage(int64_t storage_id) const;

  int64_t num_ops() const;
  // Bytes held by the trace's own structures (graph, attrs, operands, constants): what
  // recording costs in memory. Grows with ops, not with tensor elements.
  int64_t ApproximateBytes() const;

 private:
  struct StorageRecord {
    TraceStorage storage;
    absl::InlinedVector<Vertex, 1> producers;  // the vertex of each version
  };

  // The methods below require mutex_.
  // A fake tensor of `spec` on a new storage of this trace.
  Tensor NewFakeTensor(const TensorSpec& spec);
  // The operand for input `index` of `call`, capturing a real tensor as a constant.
  TraceOperand InputOperand(const OpCall& call, size_t index, const Provenance& provenance);
  Vertex AddNode(TraceNode node);
  std::vector<Tensor> RecordLocked(OpCall& call, const Provenance& provenance);
  // A copy of `text` owned by the trace.
  std::string_view Intern(std::string_view text);
  const StorageRecord& RecordOf(int64_t storage_id) const;
  Vertex ProducerLocked(const StorageVersion& value) const;
  const TraceNode& NodeLocked(Vertex v) const;

  // Nodes are kept in chunks of kNodesPerChunk, side by side: a replay reads the nodes of
  // a run in order several times, and nodes each in their own heap block (as a deque of
  // nodes this size keeps them) scatter those reads among everything else recording
  // allocated. Appending never moves a node, so the references Node() hands out stay valid.
  static constexpr size_t kNodesPerChunk = 64;

  // std::mutex for ThreadSanitizer (see OpRegistry).
  mutable std::mutex mutex_;
  // Guarded by mutex_. Node v is in node_chunks_[v / kNodesPerChunk].
  Graph graph_;
  std::vector<std::unique_ptr<TraceNode[]>> node_chunks_;
  std::set<std::string, std::less<>> strings_;  // of provenances
  // On huge pages once large: a trace of a million ops has a million storages.
  absl::flat_hash_map<int64_t, StorageRecord, absl::Hash<int64_t>, std::equal_to<int64_t>,
                      WorkingArrayAllocator<std::pair<const int64_t, StorageRecord>>>
      storages_;
};

// "normal_ at examples/models/llama.cc:57 in layers.3.mlp" (the parts that are known):
// what errors raised while replaying the node say first.
std::string DescribeNode(const TraceNode& node);

// A call of `node`'s op over meta tensors with its operands' metadata (their storages are
// `trace`'s), for the op's shape, region and RNG rules.
OpCall MetaCallOf(const Trace& trace, const TraceNode& node);

// The trace that recorded `t`'s storage, or null for a real or meta tensor.
std::shared_ptr<Trace> TraceOf(const Tensor& t);

}  // namespace deferred

#endif  // DEFERRED_REPLAY_TRACE_H_
