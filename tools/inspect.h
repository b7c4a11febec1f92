#ifndef DEFERRED_TOOLS_INSPECT_H_
#define DEFERRED_TOOLS_INSPECT_H_

// What deferred-replay knows of a loaded trace file: its tensors, each tensor's recipe
// (the recorded ops it depends on), and the words and JSON the subcommands print.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deferred/nn/module.h"
#include "deferred/shard_spec.h"
#include "fake_tensor/region.h"
#include "nlohmann/json.hpp"
#include "replay/trace.h"

namespace deferred::tools {

// A trace file as deferred-replay reads it.
struct TraceFile {
  std::string path;
  std::string format;  // "1.0", from the first line
  std::shared_ptr<nn::Module> model;
};

// Loads `path`; errors as load_trace's.
absl::StatusOr<TraceFile> ReadTraceFile(const std::string& path);

// One tensor of a model under its first name, with the other names it has (ties).
struct NamedEntry {
  std::string name;
  std::vector<std::string> aliases;
  Tensor tensor;
  bool buffer = false;
  bool persistent = true;
};

// The model's tensors, each once, in the order of Module::tensor_entries.
std::vector<NamedEntry> EntriesOf(const nn::Module& model);

// The entry named `name` (under any of its names), or NotFound that suggests the closest
// names ("did you mean h.0.attn.c_attn.weight?").
absl::StatusOr<NamedEntry> FindEntry(const std::vector<NamedEntry>& entries,
                                     const std::string& name);

// Where a random op's numbers come from: Philox blocks [offset, offset + blocks) of
// `seed` (docs/RNG.md).
struct RngCoordinates {
  uint64_t seed = 0;
  uint64_t offset = 0;
  uint64_t blocks = 0;
};

// The coordinates of `node`, or nullopt for an op that draws no random numbers.
std::optional<RngCoordinates> RngOf(const Trace& trace, const TraceNode& node);

// `node` in the way a model's code would call it, its operands named by `inputs` first:
// "normal_(%0, mean=0, std=0.02)" (RNG coordinates are not attrs here; RngOf gives them).
std::string CallText(const TraceNode& node, const std::vector<std::string>& inputs = {});

// "layers.0.attn at examples/models/llama.cc:57", the parts that are known, or "".
std::string ProvenanceText(const Provenance& provenance);

// The recorded ops a fake tensor's values depend on, in recording order. A real tensor
// has none.
struct Recipe {
  std::shared_ptr<const Trace> trace;
  std::vector<Trace::Vertex> ops;
  StorageVersion value;  // the storage version the tensor reads
};
Recipe RecipeOf(const Tensor& t);

// For each op of `recipe`, the region it computes when `spec` of `t` is materialized (in
// recipe order; nullopt for ops that do not run), and whether it computes more than that
// because it has no region rule.
struct PlannedRegion {
  std::optional<Region> region;
  bool whole = false;
};
absl::StatusOr<std::vector<PlannedRegion>> PlanShard(const Tensor& t, const Recipe& recipe,
                                                     const ShardSpec& spec);

// One op of a recipe as JSON: index, op, call, attrs, inputs ("%k" for the k-th op of the
// recipe, "const" for a value from outside it), output shapes, RNG coordinates, module,
// file and line.
nlohmann::json OpJson(const Recipe& recipe, size_t index);

// The operands of op `index` of `recipe`, as OpJson writes them.
std::vector<std::string> InputRefs(const Recipe& recipe, size_t index);

// "[768, 2304] float32"
std::string ShapeText(const Tensor& t);

// Bytes as a person reads them: "1.5 KiB", "154.4 MiB".
std::string BytesText(int64_t bytes);

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_INSPECT_H_
