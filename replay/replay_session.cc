#include "replay/replay_session.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"

namespace deferred {
namespace {

Storage CopyStorage(const Storage& source) {
  Storage copy = AllocateStorage(source->nbytes(), source->device());
  if (source->nbytes() > 0) std::memcpy(copy->data(), source->data(), source->nbytes());
  return copy;
}

}  // namespace

std::vector<Storage> ReplaySession::Run(const std::vector<StorageVersion>& targets) {
  const std::vector<Trace::Vertex> order = trace_->Subgraph(targets);
  std::vector<TraceNode> nodes;
  nodes.reserve(order.size());
  for (Trace::Vertex v : order) nodes.push_back(trace_->Node(v));

  // Remaining reads of each storage version; a target counts as one read that never ends.
  absl::flat_hash_map<StorageVersion, int64_t> reads;
  for (const TraceNode& node : nodes) {
    for (const TraceOperand& input : node.inputs) ++reads[input.value];
  }
  for (const StorageVersion& target : targets) ++reads[target];

  absl::flat_hash_map<StorageVersion, Storage> live;
  for (const TraceNode& node : nodes) {
    OpCall call{node.def, {}, node.attrs};
    for (const TraceOperand& input : node.inputs) {
      call.inputs.push_back(MakeTensor(live.at(input.value), input.layout, input.dtype));
    }
    if (node.def->kind == OpKind::kFactory) call.attrs.Set("device", device_);

    if (node.def->kind == OpKind::kInPlace) {
      // Write the next version into the old one's bytes when no one else reads those.
      const TraceOperand& base = node.inputs[0];
      Storage next = reads.at(base.value) == 1 ? live.at(base.value)
                                               : CopyStorage(live.at(base.value));
      call.inputs[0] = MakeTensor(next, base.layout, base.dtype);
      RunEager(call);
      live[node.outputs[0].value] = std::move(next);
    } else {
      std::vector<Tensor> outputs = RunEager(call);
      for (size_t i = 0; i < outputs.size(); ++i) {
        live[node.outputs[i].value] = outputs[i].storage();
      }
    }
    ++ops_run_;
    call.inputs.clear();
    for (const TraceOperand& input : node.inputs) {
      if (--reads.at(input.value) == 0) live.erase(input.value);
    }
  }

  std::vector<Storage> results;
  results.reserve(targets.size());
  for (const StorageVersion& target : targets) results.push_back(live.at(target));
  return results;
}

}  // namespace deferred
