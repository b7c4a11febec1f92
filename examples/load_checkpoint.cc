// Checkpoints: save a deferred Llama, load it into a fresh deferred model at 1x memory
// (one key removed: that tensor is initialized from the trace instead), then load just
// rank 1's quarter of every weight, reading only its bytes.
//
//   ./bazelw run //examples:load_checkpoint
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "examples/models/llama.h"

namespace {

using deferred::examples::Llama;
using deferred::examples::LlamaConfig;

std::shared_ptr<Llama> Record(uint64_t seed) {
  deferred::manual_seed(seed);
  return *deferred::deferred_init<Llama>(LlamaConfig::Tiny());
}

int64_t TensorBytes(const deferred::nn::Module& m) {
  int64_t bytes = 0;
  for (const auto& [name, t] : m.named_parameters()) bytes += t.numel() * deferred::ElementSize(t.dtype());
  return bytes;
}

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s failed: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  const std::string path = (std::filesystem::temp_directory_path() / "llama_tiny.safetensors").string();

  // 1. Save: a fake model is materialized tensor by tensor while it is written.
  const std::shared_ptr<Llama> saved = Record(1);
  if (absl::Status s = deferred::save_checkpoint(*saved, path); !s.ok()) return Fail("save_checkpoint", s);
  std::printf("saved %s: %lld bytes of parameters\n", path.c_str(),
              static_cast<long long>(TensorBytes(*saved)));

  // 2. Load into a fresh deferred model whose checkpoint lacks one key: the file's bytes go
  //    straight into each storage, and the missing tensor comes from the trace.
  const std::string removed = "norm.weight";
  const std::shared_ptr<Llama> loaded = Record(2);
  const int64_t live_before = deferred::GetAllocationStats().live_bytes;
  deferred::ResetPeakBytes();
  const deferred::CheckpointReadStats read_before = deferred::GetCheckpointReadStats();
  absl::Status status = deferred::load_checkpoint(
      *loaded, path, {.key = [&](const std::string& name) {
        return name == removed ? std::string("(not in the file)") : name;
      }});
  if (!status.ok()) return Fail("load_checkpoint", status);
  std::printf("loaded: %lld bytes read, tensor memory peak %lld bytes for %lld bytes of model "
              "(%s initialized from the trace)\n",
              static_cast<long long>(deferred::GetCheckpointReadStats().bytes - read_before.bytes),
              static_cast<long long>(deferred::GetAllocationStats().peak_bytes - live_before),
              static_cast<long long>(TensorBytes(*loaded)), removed.c_str());
  if (!(status = deferred::materialize_module(*saved)).ok()) return Fail("materialize_module", status);
  bool same = true;
  for (const auto& [name, t] : loaded->named_parameters()) {
    if (name == removed) continue;
    for (const auto& [other, u] : saved->named_parameters()) {
      if (other == name) same &= t.to_bytes() == u.to_bytes();
    }
  }
  std::printf("  every loaded tensor equals the saved one: %s\n", same ? "yes" : "NO");

  // 3. Rank 1 of 4: each weight's second quarter of rows, read as just those bytes.
  const std::shared_ptr<Llama> rank1 = Record(3);
  const deferred::CheckpointReadStats shard_before = deferred::GetCheckpointReadStats();
  std::vector<deferred::ShardInfo> report;
  status = deferred::load_checkpoint(
      *rank1, path,
      {.materialize = {.shard = [](const std::string&, const deferred::Shape& shape)
                           -> std::optional<deferred::ShardSpec> {
                         if (shape.empty() || shape[0] < 4) return std::nullopt;
                         return deferred::ShardSpec::TensorSplit(0, 1, 4);
                       },
                       .shard_report = &report}});
  if (!status.ok()) return Fail("load_checkpoint (rank 1 of 4)", status);
  std::printf("rank 1 of 4: %zu tensors replaced by their shards, %lld bytes read for %lld "
              "bytes of shards and whole small tensors\n",
              report.size(),
              static_cast<long long>(deferred::GetCheckpointReadStats().bytes - shard_before.bytes),
              static_cast<long long>(TensorBytes(*rank1)));
  return same ? 0 : 1;
}
