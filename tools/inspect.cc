#include "tools/inspect.h"

#include <algorithm>
#include <bit>
#include <fstream>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "deferred/trace_file.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "replay/replay_session.h"

namespace deferred::tools {
namespace {

// The number of single-character edits that turn `a` into `b`.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string AttrText(const AttrValue& value) {
  struct Visitor {
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(int64_t v) const { return absl::StrCat(v); }
    std::string operator()(double v) const { return absl::StrFormat("%.9g", v); }
    std::string operator()(const Scalar& v) const { return v.ToString(); }
    std::string operator()(const Shape& v) const { return ShapeToString(v); }
    std::string operator()(DType v) const { return DTypeName(v); }
    std::string operator()(const Device& v) const { return v.ToString(); }
    std::string operator()(const std::string& v) const {
      return absl::StrFormat("<%d bytes>", v.size());
    }
  };
  return std::visit(Visitor{}, value);
}

nlohmann::json AttrJson(const AttrValue& value) {
  struct Visitor {
    nlohmann::json operator()(bool v) const { return v; }
    nlohmann::json operator()(int64_t v) const { return v; }
    nlohmann::json operator()(double v) const { return v; }
    nlohmann::json operator()(const Scalar& v) const { return v.ToString(); }
    nlohmann::json operator()(const Shape& v) const { return v; }
    nlohmann::json operator()(DType v) const { return DTypeName(v); }
    nlohmann::json operator()(const Device& v) const { return v.ToString(); }
    nlohmann::json operator()(const std::string& v) const {
      return absl::StrFormat("<%d bytes>", v.size());
    }
  };
  return std::visit(Visitor{}, value);
}

bool IsRngAttr(const TraceNode& node, const std::string& name) {
  return node.def->is_random() && (name == "seed" || name == "offset");
}

}  // namespace

absl::StatusOr<TraceFile> ReadTraceFile(const std::string& path) {
  absl::StatusOr<std::shared_ptr<nn::Module>> model = load_trace(path);
  if (!model.ok()) return model.status();
  TraceFile file{path, "", *std::move(model)};
  // load_trace has checked the file; its first line is "deferred-trace MAJOR.MINOR".
  std::ifstream in(path);
  std::string first;
  if (std::getline(in, first)) file.format = first.substr(first.find(' ') + 1);
  return file;
}

std::vector<NamedEntry> EntriesOf(const nn::Module& model) {
  std::vector<NamedEntry> entries;
  absl::flat_hash_map<const TensorImpl*, size_t> position;
  for (const nn::Module::TensorEntry& entry : model.tensor_entries()) {
    auto [it, added] = position.try_emplace(entry.tensor.impl(), entries.size());
    if (added) {
      entries.push_back(NamedEntry{entry.name, {}, entry.tensor, entry.buffer, entry.persistent});
    } else {
      entries[it->second].aliases.push_back(entry.name);
    }
  }
  return entries;
}

absl::StatusOr<NamedEntry> FindEntry(const std::vector<NamedEntry>& entries,
                                     const std::string& name) {
  for (const NamedEntry& entry : entries) {
    if (entry.name == name || absl::c_linear_search(entry.aliases, name)) return entry;
  }
  std::vector<std::pair<size_t, std::string>> nearest;
  for (const NamedEntry& entry : entries)
    nearest.emplace_back(EditDistance(name, entry.name), entry.name);
  std::sort(nearest.begin(), nearest.end());
  std::vector<std::string> suggestions;
  for (size_t i = 0; i < std::min<size_t>(3, nearest.size()); ++i)
    suggestions.push_back(nearest[i].second);
  return absl::NotFoundError(absl::StrFormat(
      "no tensor named '%s'%s", name,
      suggestions.empty()
          ? std::string(" (the model has none)")
          : absl::StrCat("; did you mean ", absl::StrJoin(suggestions, ", "), "?")));
}

std::optional<RngCoordinates> RngOf(const Trace& trace, const TraceNode& node) {
  if (!node.def->is_random()) return std::nullopt;
  return RngCoordinates{std::bit_cast<uint64_t>(node.attrs.Get<int64_t>("seed")),
                        std::bit_cast<uint64_t>(node.attrs.Get<int64_t>("offset")),
                        RngBlocksOf(MetaCallOf(trace, node))};
}

std::string CallText(const TraceNode& node, const std::vector<std::string>& inputs) {
  std::vector<std::string> attrs = inputs;
  for (const auto& [name, value] : node.attrs.entries()) {
    if (!IsRngAttr(node, name)) attrs.push_back(absl::StrCat(name, "=", AttrText(value)));
  }
  return absl::StrCat(node.def->name, "(", absl::StrJoin(attrs, ", "), ")");
}

std::string ProvenanceText(const Provenance& provenance) {
  std::string text(provenance.module_path);
  if (!provenance.file.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", "at ", std::string(provenance.file), ":",
                    provenance.line);
  }
  return text;
}

Recipe RecipeOf(const Tensor& t) {
  Recipe recipe;
  std::shared_ptr<Trace> trace = TraceOf(t);
  if (trace == nullptr) return recipe;
  recipe.value = trace->Latest(*t.storage());
  recipe.ops = trace->Subgraph({recipe.value});
  recipe.trace = std::move(trace);
  return recipe;
}

absl::StatusOr<std::vector<PlannedRegion>> PlanShard(const Tensor& t, const Recipe& recipe,
                                                     const ShardSpec& spec) {
  absl::StatusOr<Region> view_region = spec.Resolve(t.sizes());
  if (!view_region.ok()) return view_region.status();
  std::vector<PlannedRegion> regions(recipe.ops.size());
  if (recipe.trace == nullptr) return regions;
  const absl::Status planned = CatchErrors([&] {
    const TraceStorage storage = recipe.trace->Storage(recipe.value.storage_id);
    const ReplaySession session(recipe.trace, Device::CPU());
    const Region base = BaseRegionOf(t.layout(), storage.sizes, *view_region);
    for (const PlannedOp& op : session.Plan({ReplayTarget{recipe.value, base}})) {
      const size_t index =
          std::lower_bound(recipe.ops.begin(), recipe.ops.end(), op.vertex) - recipe.ops.begin();
      regions[index] = PlannedRegion{op.regions.front(), op.whole};
    }
  });
  if (!planned.ok()) return planned;
  return regions;
}

std::vector<std::string> InputRefs(const Recipe& recipe, size_t index) {
  const TraceNode& node = recipe.trace->Node(recipe.ops[index]);
  std::vector<std::string> refs;
  for (size_t producer : node.input_producers) {
    const auto it = std::lower_bound(recipe.ops.begin(), recipe.ops.end(), producer);
    refs.push_back(it != recipe.ops.end() && *it == producer
                       ? absl::StrCat("%", it - recipe.ops.begin())
                       : "const");
  }
  return refs;
}

nlohmann::json OpJson(const Recipe& recipe, size_t index) {
  const TraceNode& node = recipe.trace->Node(recipe.ops[index]);
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [name, value] : node.attrs.entries()) {
    if (!IsRngAttr(node, name)) attrs[name] = AttrJson(value);
  }
  nlohmann::json outputs = nlohmann::json::array();
  for (const TraceOperand& output : node.outputs) {
    outputs.push_back({{"shape", output.layout.sizes}, {"dtype", DTypeName(output.dtype)}});
  }
  nlohmann::json op = {{"index", index},
                       {"op", node.def->name},
                       {"call", CallText(node)},
                       {"attrs", attrs},
                       {"inputs", InputRefs(recipe, index)},
                       {"outputs", outputs},
                       {"module", std::string(node.provenance.module_path)},
                       {"file", std::string(node.provenance.file)},
                       {"line", node.provenance.line}};
  if (std::optional<RngCoordinates> rng = RngOf(*recipe.trace, node)) {
    op["rng"] = {{"seed", rng->seed}, {"offset", rng->offset}, {"blocks", rng->blocks}};
  }
  return op;
}

std::string ShapeText(const Tensor& t) {
  return absl::StrCat(ShapeToString(t.sizes()), " ", DTypeName(t.dtype()));
}

std::string BytesText(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

}  // namespace deferred::tools
