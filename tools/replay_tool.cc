#include "tools/replay_tool.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "boost/graph/adjacency_list.hpp"
#include "boost/graph/graphviz.hpp"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "fake_tensor/file_io.h"
#include "replay/replay_session.h"
#include "replay/trace_file.h"
#include "tools/debugger.h"
#include "tools/inspect.h"
#include "tools/line_reader.h"
#include "tools/tensor_stats.h"
#include "tools/trace_diff.h"
#include "tools/verify.h"

namespace deferred::tools {
namespace {

constexpr int kOk = 0, kCheckFailed = 1, kUsage = 2, kUnreadable = 3;

constexpr char kUsageText[] = R"(usage: deferred-replay COMMAND [ARGS]

commands:
  summary FILE [--json]                   versions, op counts, tensors, RNG range
  tree FILE [--json]                      the module tree with every tensor
  show FILE NAME [--shard SPEC] [--json]  one tensor's recipe, op by op
  graph FILE [NAME] [--format dot|svg|png] [-o OUT]
                                          the op graph (or one tensor's slice of it)
  replay FILE [NAME...] [--shard SPEC] [--device D] [--break-on-nonfinite] [--json]
                                          materialize and print statistics
  debug FILE NAME                         step through one tensor's replay
  verify FILE [--samples K] [--json]      check shard, repeat and order invariants
  diff A B [--values] [--json]            compare the recipes of two traces
  export FILE -o OUT.safetensors [--shard SPEC] [--dtype D]
                                          materialize into a safetensors file

SPEC: parts joined by '+', each chunk(DIM,RANK,WORLD), split(DIM,RANK,WORLD) or
range(DIM,START,STOP), e.g. split(0,1,4)+range(1,0,128).
Exit status: 0 ok, 1 a check failed, 2 usage error, 3 unreadable input.
)";

// The command line after the subcommand: positional words and --flags.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "--json" -> "" for switches

  bool Has(const std::string& flag) const { return flags.contains(flag); }
  std::string Get(const std::string& flag, const std::string& otherwise = "") const {
    auto it = flags.find(flag);
    return it == flags.end() ? otherwise : it->second;
  }
};

struct UsageError {
  std::string message;
};

Args ParseArgs(int argc, char** argv, const absl::flat_hash_set<std::string>& switches,
               const absl::flat_hash_set<std::string>& valued) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.size() > 1 && word[0] == '-') {
      if (switches.contains(word)) {
        args.flags[word] = "";
      } else if (valued.contains(word)) {
        if (i + 1 == argc) throw UsageError{absl::StrCat(word, " needs a value")};
        args.flags[word] = argv[++i];
      } else {
        throw UsageError{absl::StrCat("unknown option ", word)};
      }
    } else {
      args.positional.push_back(word);
    }
  }
  return args;
}

// Text decorations, only on a terminal (and never with NO_COLOR set).
struct Style {
  bool on = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  std::string Bold(const std::string& s) const {
    return on ? absl::StrCat("\x1b[1m", s, "\x1b[0m") : s;
  }
  std::string Red(const std::string& s) const {
    return on ? absl::StrCat("\x1b[31m", s, "\x1b[0m") : s;
  }
  std::string Dim(const std::string& s) const {
    return on ? absl::StrCat("\x1b[2m", s, "\x1b[0m") : s;
  }
};

int Unreadable(const absl::Status& status) {
  std::cerr << "deferred-replay: " << status.message() << "\n";
  return kUnreadable;
}

int Failed(const absl::Status& status) {
  std::cerr << "deferred-replay: " << status.message() << "\n";
  return kCheckFailed;
}

void PrintJson(const nlohmann::json& j) { std::cout << j.dump(2) << "\n"; }

int64_t BytesOf(const Tensor& t) { return t.numel() * ElementSize(t.dtype()); }

// The op that wrote `t`'s values last, as a call, or "real" for a real tensor.
std::string LastWriter(const Tensor& t) {
  std::shared_ptr<Trace> trace = TraceOf(t);
  if (trace == nullptr) return "real";
  return CallText(trace->Node(trace->Producer(trace->Latest(*t.storage()))));
}

int Summary(const TraceFile& file, const Args& args) {
  const std::vector<NamedEntry> entries = EntriesOf(*file.model);
  std::shared_ptr<Trace> trace;
  for (const NamedEntry& entry : entries) {
    if (trace == nullptr) trace = TraceOf(entry.tensor);
  }
  std::map<std::string, int64_t> op_counts, whole_ops;
  absl::flat_hash_set<int64_t> storages;
  std::optional<RngCoordinates> low, high;
  const int64_t num_ops = trace == nullptr ? 0 : trace->num_ops();
  for (int64_t v = 0; v < num_ops; ++v) {
    const TraceNode& node = trace->Node(static_cast<Trace::Vertex>(v));
    ++op_counts[node.def->name];
    if (!node.def->region_rule && node.def->kind != OpKind::kView) ++whole_ops[node.def->name];
    for (const TraceOperand& output : node.outputs) storages.insert(output.value.storage_id);
    if (std::optional<RngCoordinates> rng = RngOf(*trace, node)) {
      if (!low || rng->seed < low->seed || (rng->seed == low->seed && rng->offset < low->offset))
        low = rng;
      if (!high || rng->seed > high->seed ||
          (rng->seed == high->seed && rng->offset + rng->blocks > high->offset + high->blocks))
        high = rng;
    }
  }
  std::map<std::string, std::pair<int64_t, int64_t>> params, buffers;  // dtype -> count, bytes
  for (const NamedEntry& entry : entries) {
    auto& row = (entry.buffer ? buffers : params)[DTypeName(entry.tensor.dtype())];
    ++row.first;
    row.second += BytesOf(entry.tensor);
  }
  if (args.Has("--json")) {
    nlohmann::json j = {{"file", file.path},
                        {"format", file.format},
                        {"op_set", kTraceOpSet},
                        {"rng", kTraceRngScheme},
                        {"ops", num_ops},
                        {"op_counts", op_counts},
                        {"storages", storages.size()},
                        {"whole_tensor_ops", whole_ops}};
    for (const auto& [key, rows] :
         {std::pair{"parameters", &params}, std::pair{"buffers", &buffers}}) {
      nlohmann::json by_dtype = nlohmann::json::object();
      for (const auto& [dtype, row] : *rows)
        by_dtype[dtype] = {{"count", row.first}, {"bytes", row.second}};
      j[key] = by_dtype;
    }
    if (low)
      j["rng_range"] = {{"seed_first", low->seed},
                        {"offset_first", low->offset},
                        {"seed_last", high->seed},
                        {"offset_end", high->offset + high->blocks}};
    PrintJson(j);
    return kOk;
  }
  const Style style;
  std::cout << style.Bold(file.path) << "\n";
  std::cout << absl::StrFormat("format %s, op set %d, rng %s\n", file.format, kTraceOpSet,
                               kTraceRngScheme);
  std::cout << absl::StrFormat("%d ops over %d storages\n", num_ops, storages.size());
  for (const auto& [name, count] : op_counts)
    std::cout << absl::StrFormat("  %-16s %d\n", name, count);
  for (const auto& [label, rows] :
       {std::pair{"parameters", &params}, std::pair{"buffers", &buffers}}) {
    for (const auto& [dtype, row] : *rows) {
      std::cout << absl::StrFormat("%s: %d %s, %s\n", label, row.first, dtype,
                                   BytesText(row.second));
    }
  }
  if (low) {
    std::cout << absl::StrFormat(
        "rng: seed %d offset %d to seed %d offset %d (blocks of 4 words)\n", low->seed, low->offset,
        high->seed, high->offset + high->blocks);
  } else {
    std::cout << "rng: no random ops\n";
  }
  if (whole_ops.empty()) {
    std::cout << "every op computes only its shard's region when sharded\n";
  } else {
    std::vector<std::string> names;
    for (const auto& [name, count] : whole_ops)
      names.push_back(absl::StrCat(name, " (", count, ")"));
    std::cout << "whole-tensor ops when sharded: " << absl::StrJoin(names, ", ") << "\n";
  }
  return kOk;
}

int Tree(const TraceFile& file, const Args& args) {
  const std::vector<nn::Module::TensorEntry> all = file.model->tensor_entries();
  absl::flat_hash_map<const TensorImpl*, std::string> first_name;
  for (const nn::Module::TensorEntry& e : all) first_name.try_emplace(e.tensor.impl(), e.name);
  nlohmann::json modules = nlohmann::json::array();
  const Style style;
  for (const auto& [name, module] : file.model->named_modules()) {
    const size_t depth = name.empty() ? 0 : std::count(name.begin(), name.end(), '.') + 1;
    const std::string indent(2 * depth, ' ');
    const std::string prefix = name.empty() ? "" : absl::StrCat(name, ".");
    nlohmann::json tensors = nlohmann::json::array();
    if (!args.Has("--json")) {
      std::cout << indent
                << (name.empty() ? "" : absl::StrCat("(", name.substr(name.rfind('.') + 1), "): "))
                << style.Bold(module->type_name()) << "\n";
    }
    for (const nn::Module::TensorEntry& e : all) {
      if (!absl::StartsWith(e.name, prefix) || e.name.find('.', prefix.size()) != std::string::npos)
        continue;
      const std::string& first = first_name[e.tensor.impl()];
      const std::string local = e.name.substr(prefix.size());
      const std::string kind =
          e.buffer ? (e.persistent ? "buffer" : "buffer, not persistent") : "parameter";
      if (args.Has("--json")) {
        nlohmann::json t = {{"name", local},
                            {"kind", kind},
                            {"shape", e.tensor.sizes()},
                            {"dtype", DTypeName(e.tensor.dtype())},
                            {"bytes", BytesOf(e.tensor)},
                            {"device", e.tensor.device().ToString()},
                            {"last_op", LastWriter(e.tensor)}};
        if (first != e.name) t["tied_to"] = first;
        tensors.push_back(t);
        continue;
      }
      std::cout << indent << "  " << local << ": " << ShapeText(e.tensor) << ", "
                << BytesText(BytesOf(e.tensor)) << ", " << e.tensor.device().ToString() << ", "
                << kind;
      std::cout << (first != e.name ? absl::StrCat(", tied to ", first)
                                    : absl::StrCat(", ", LastWriter(e.tensor)))
                << "\n";
    }
    if (args.Has("--json"))
      modules.push_back({{"name", name}, {"type", module->type_name()}, {"tensors", tensors}});
  }
  if (args.Has("--json")) PrintJson(modules);
  return kOk;
}

absl::StatusOr<ShardSpec> SpecOf(const Args& args) { return ShardSpec::Parse(args.Get("--shard")); }

int Show(const TraceFile& file, const Args& args) {
  if (args.positional.size() != 2) throw UsageError{"show takes FILE NAME"};
  absl::StatusOr<NamedEntry> entry = FindEntry(EntriesOf(*file.model), args.positional[1]);
  if (!entry.ok()) return Failed(entry.status());
  const Recipe recipe = RecipeOf(entry->tensor);
  std::vector<PlannedRegion> regions(recipe.ops.size());
  if (args.Has("--shard")) {
    absl::StatusOr<ShardSpec> spec = SpecOf(args);
    if (!spec.ok()) throw UsageError{std::string(spec.status().message())};
    absl::StatusOr<std::vector<PlannedRegion>> planned = PlanShard(entry->tensor, recipe, *spec);
    if (!planned.ok()) return Failed(planned.status());
    regions = *std::move(planned);
  }
  if (args.Has("--json")) {
    nlohmann::json ops = nlohmann::json::array();
    for (size_t i = 0; i < recipe.ops.size(); ++i) {
      nlohmann::json op = OpJson(recipe, i);
      if (args.Has("--shard")) {
        op["region"] = regions[i].region ? nlohmann::json(regions[i].region->ToString())
                                         : nlohmann::json(nullptr);
        op["whole"] = regions[i].whole;
      }
      ops.push_back(op);
    }
    PrintJson({{"name", entry->name},
               {"aliases", entry->aliases},
               {"shape", entry->tensor.sizes()},
               {"dtype", DTypeName(entry->tensor.dtype())},
               {"ops", ops}});
    return kOk;
  }
  const Style style;
  std::cout << style.Bold(entry->name) << " " << ShapeText(entry->tensor)
            << (entry->aliases.empty()
                    ? ""
                    : absl::StrCat(" (also ", absl::StrJoin(entry->aliases, ", "), ")"))
            << ": " << recipe.ops.size() << " ops\n";
  for (size_t i = 0; i < recipe.ops.size(); ++i) {
    const TraceNode& node = recipe.trace->Node(recipe.ops[i]);
    std::vector<std::string> outputs;
    for (const TraceOperand& output : node.outputs)
      outputs.push_back(ShapeToString(output.layout.sizes));
    std::cout << absl::StrFormat("%%%d = %s -> %s\n", i,
                                 style.Bold(CallText(node, InputRefs(recipe, i))),
                                 absl::StrJoin(outputs, ", "));
    if (std::optional<RngCoordinates> rng = RngOf(*recipe.trace, node)) {
      std::cout << absl::StrFormat("     rng seed %d offset %d blocks %d\n", rng->seed, rng->offset,
                                   rng->blocks);
    }
    if (const std::string where = ProvenanceText(node.provenance); !where.empty()) {
      std::cout << "     " << style.Dim(where) << "\n";
    }
    if (args.Has("--shard")) {
      std::cout << "     region "
                << (regions[i].region ? regions[i].region->ToString() : "(does not run)")
                << (regions[i].whole ? " (whole: no region rule)" : "") << "\n";
    }
  }
  return kOk;
}

// Graphviz of the ops of `vertices` (all of `trace`'s when empty).
std::string GraphDot(const Trace& trace, std::vector<Trace::Vertex> vertices) {
  if (vertices.empty()) {
    for (int64_t v = 0; v < trace.num_ops(); ++v) vertices.push_back(static_cast<Trace::Vertex>(v));
  }
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  Graph graph(vertices.size());
  std::vector<std::string> labels;
  for (size_t i = 0; i < vertices.size(); ++i) {
    const TraceNode& node = trace.Node(vertices[i]);
    std::string label = absl::StrCat("%", i, " = ", CallText(node));
    if (!node.provenance.module_path.empty())
      absl::StrAppend(&label, "\\n", std::string(node.provenance.module_path));
    labels.push_back(label);
    for (size_t producer : node.input_producers) {
      const auto it = std::lower_bound(vertices.begin(), vertices.end(), producer);
      if (it != vertices.end() && *it == producer) boost::add_edge(it - vertices.begin(), i, graph);
    }
  }
  std::ostringstream dot;
  boost::write_graphviz(dot, graph, [&](std::ostream& out, size_t v) {
    std::string escaped;
    for (char c : labels[v]) {
      if (c == '"') escaped += '\\';
      escaped += c;
    }
    out << "[label=\"" << escaped << "\", shape=box]";
  });
  return dot.str();
}

int GraphCommand(const TraceFile& file, const Args& args) {
  if (args.positional.empty() || args.positional.size() > 2)
    throw UsageError{"graph takes FILE [NAME]"};
  const std::string format = args.Get("--format", "dot");
  if (format != "dot" && format != "svg" && format != "png") {
    throw UsageError{absl::StrCat("--format is dot, svg or png, not ", format)};
  }
  const std::vector<NamedEntry> entries = EntriesOf(*file.model);
  std::shared_ptr<Trace> trace;
  std::vector<Trace::Vertex> vertices;
  if (args.positional.size() == 2) {
    absl::StatusOr<NamedEntry> entry = FindEntry(entries, args.positional[1]);
    if (!entry.ok()) return Failed(entry.status());
    Recipe recipe = RecipeOf(entry->tensor);
    trace = std::const_pointer_cast<Trace>(recipe.trace);
    vertices = std::move(recipe.ops);
  } else {
    for (const NamedEntry& entry : entries) {
      if (trace == nullptr) trace = TraceOf(entry.tensor);
    }
  }
  const std::string dot = trace == nullptr ? "digraph G {\n}\n" : GraphDot(*trace, vertices);
  const std::string out = args.Get("-o");
  if (format == "dot") {
    if (out.empty()) {
      std::cout << dot;
      return kOk;
    }
    absl::Status written = WriteFileAtomically(out, dot);
    return written.ok() ? kOk : Failed(written);
  }
  if (out.empty()) throw UsageError{absl::StrCat("--format ", format, " needs -o OUT")};
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    std::cerr << "deferred-replay: --format " << format
              << " needs Graphviz's dot program; install the package graphviz (apt-get install "
                 "graphviz), or use --format dot\n";
    return kCheckFailed;
  }
  const std::string dot_path = absl::StrCat(out, ".dot.tmp");
  if (absl::Status s = WriteFileAtomically(dot_path, dot); !s.ok()) return Failed(s);
  const std::string command = absl::StrFormat("dot -T%s -o '%s' '%s'", format, out, dot_path);
  const int rc = std::system(command.c_str());
  std::remove(dot_path.c_str());
  if (rc != 0) {
    std::cerr << "deferred-replay: dot failed: " << command << "\n";
    return kCheckFailed;
  }
  return kOk;
}

// A progress line with bytes/s and the time left, on a terminal's stderr only.
class Progress {
 public:
  explicit Progress(int64_t total) : total_(total), on_(isatty(STDERR_FILENO)) {}
  ~Progress() {
    if (on_ && shown_) std::fprintf(stderr, "\r\x1b[K");
  }
  void Add(int64_t bytes) {
    done_ += bytes;
    if (!on_ || total_ == 0) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = seconds > 0 ? done_ / seconds : 0;
    const int width = 30, filled = static_cast<int>(width * done_ / total_);
    std::fprintf(stderr, "\r[%s%s] %s of %s, %s/s, %.0f s left", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), BytesText(done_).c_str(),
                 BytesText(total_).c_str(), BytesText(static_cast<int64_t>(rate)).c_str(),
                 rate > 0 ? (total_ - done_) / rate : 0.0);
    shown_ = true;
  }

 private:
  int64_t total_, done_ = 0;
  bool on_, shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Replays `entry` with an observer that stops at the first op whose output holds a NaN
// or an Inf; prints that op and returns true when there is one.
bool BreakOnNonfinite(const NamedEntry& entry) {
  const Recipe recipe = RecipeOf(entry.tensor);
  if (recipe.trace == nullptr) return false;
  ReplaySession session(recipe.trace, Device::CPU());
  bool found = false;
  session.set_step_observer([&](const ReplayStep& step) {
    for (const Tensor& value : step.values) {
      const TensorStats stats = StatsOf(value);
      if (stats.nan + stats.inf == 0) continue;
      const size_t index =
          std::lower_bound(recipe.ops.begin(), recipe.ops.end(), step.vertex) - recipe.ops.begin();
      std::cout << absl::StrFormat("%s: op %%%d %s makes %d NaN and %d Inf  %s\n", entry.name,
                                   index, CallText(*step.node), stats.nan, stats.inf,
                                   ProvenanceText(step.node->provenance));
      found = true;
      return false;
    }
    return true;
  });
  CatchErrors([&] { session.RunWhole({recipe.value}); }).IgnoreError();
  return found;
}

int Replay(const TraceFile& file, const Args& args) {
  const std::vector<NamedEntry> entries = EntriesOf(*file.model);
  std::vector<NamedEntry> chosen;
  for (size_t i = 1; i < args.positional.size(); ++i) {
    absl::StatusOr<NamedEntry> entry = FindEntry(entries, args.positional[i]);
    if (!entry.ok()) return Failed(entry.status());
    chosen.push_back(*std::move(entry));
  }
  if (args.positional.size() == 1) chosen = entries;
  absl::StatusOr<ShardSpec> spec = SpecOf(args);
  if (!spec.ok()) throw UsageError{std::string(spec.status().message())};
  std::optional<Device> device;  // unset: each tensor's home device
  if (args.Has("--device")) {
    absl::StatusOr<Device> parsed = Device::Parse(args.Get("--device"));
    if (!parsed.ok()) throw UsageError{std::string(parsed.status().message())};
    device = *parsed;
  }
  if (args.Has("--break-on-nonfinite")) {
    for (const NamedEntry& entry : chosen) {
      if (BreakOnNonfinite(entry)) return kCheckFailed;
    }
    std::cout << "no op made a NaN or an Inf\n";
    return kOk;
  }
  int64_t total = 0;
  for (const NamedEntry& entry : chosen) total += BytesOf(entry.tensor);
  nlohmann::json results = nlohmann::json::array();
  int status = kOk;
  {
    Progress progress(total);
    for (const NamedEntry& entry : chosen) {
      absl::StatusOr<Tensor> value = args.Has("--shard")
                                         ? materialize_shard(entry.tensor, *spec, device)
                                         : materialize_tensor(entry.tensor, device);
      progress.Add(BytesOf(entry.tensor));
      if (!value.ok()) {
        std::cerr << "deferred-replay: " << entry.name << ": " << value.status().message() << "\n";
        status = kCheckFailed;
        continue;
      }
      const TensorStats stats = StatsOf(*value);
      if (args.Has("--json")) {
        nlohmann::json j = StatsJson(stats);
        j["name"] = entry.name;
        j["shape"] = value->sizes();
        j["dtype"] = DTypeName(value->dtype());
        results.push_back(j);
      } else {
        std::cout << entry.name << " " << ShapeText(*value) << " " << StatsText(stats) << "\n";
      }
    }
  }
  if (args.Has("--json")) PrintJson(results);
  return status;
}

int Verify(const TraceFile& file, const Args& args) {
  VerifyOptions options;
  int samples = 4;
  if (args.Has("--samples") &&
      (!absl::SimpleAtoi(args.Get("--samples"), &samples) || samples < 0)) {
    throw UsageError{"--samples takes a count"};
  }
  options.samples = samples;
  const bool terminal = isatty(STDERR_FILENO);
  if (terminal) {
    options.progress = [](size_t done, size_t total) {
      std::fprintf(stderr, "\rverified %zu of %zu", done, total);
    };
  }
  const std::vector<VerifyFailure> failures = VerifyModel(*file.model, options);
  if (terminal) std::fprintf(stderr, "\r\x1b[K");
  size_t fake = 0;
  for (const NamedEntry& entry : EntriesOf(*file.model)) fake += is_fake(entry.tensor);
  if (args.Has("--json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const VerifyFailure& f : failures)
      j.push_back({{"tensor", f.tensor}, {"check", f.check}, {"detail", f.detail}});
    PrintJson({{"tensors", fake}, {"samples", samples}, {"failures", j}});
  } else {
    const Style style;
    for (const VerifyFailure& f : failures) {
      std::cout << style.Red("FAIL") << " " << f.tensor << " " << f.check << ": " << f.detail
                << "\n";
    }
    std::cout << absl::StrFormat(
        "%d tensors, %d random shards each: %s\n", fake, samples,
        failures.empty() ? "every check held" : absl::StrCat(failures.size(), " failed"));
  }
  return failures.empty() ? kOk : kCheckFailed;
}

int Diff(const TraceFile& a, const TraceFile& b, const Args& args) {
  const ModelDiff diff = DiffModels(*a.model, *b.model, args.Has("--values"));
  bool differs = !diff.only_a.empty() || !diff.only_b.empty();
  for (const TensorDiff& d : diff.both)
    differs = differs || !d.same_recipe || (d.same_values && !*d.same_values);
  if (args.Has("--json")) {
    PrintJson(DiffJson(diff));
    return differs ? kCheckFailed : kOk;
  }
  for (const std::string& name : diff.only_a)
    std::cout << "only in " << a.path << ": " << name << "\n";
  for (const std::string& name : diff.only_b)
    std::cout << "only in " << b.path << ": " << name << "\n";
  size_t same = 0;
  for (const TensorDiff& d : diff.both) {
    std::string values;
    if (d.same_values) {
      values = *d.same_values
                   ? "; values identical"
                   : absl::StrFormat("; values differ, max |a - b| %.6g", d.max_abs_diff);
    }
    if (d.same_recipe) {
      ++same;
      if (!values.empty()) std::cout << d.name << ": same recipe" << values << "\n";
      continue;
    }
    std::cout << d.name << ": recipes differ at op %" << d.index << " (" << d.reason << ")"
              << values << "\n"
              << "  a: " << d.a_op << "\n  b: " << d.b_op << "\n";
  }
  std::cout << absl::StrFormat("%d tensors in both, %d with identical recipes\n", diff.both.size(),
                               same);
  return differs ? kCheckFailed : kOk;
}

int Export(const TraceFile& file, const Args& args) {
  const std::string out = args.Get("-o");
  if (out.empty()) throw UsageError{"export needs -o OUT.safetensors"};
  absl::StatusOr<ShardSpec> spec = SpecOf(args);
  if (!spec.ok()) throw UsageError{std::string(spec.status().message())};
  SaveCheckpointOptions save;
  if (args.Has("--dtype")) {
    DType dtype;
    if (!ParseDType(args.Get("--dtype"), &dtype))
      throw UsageError{absl::StrCat("unknown dtype ", args.Get("--dtype"))};
    save.dtype = dtype;
  }
  std::vector<ShardInfo> shards;
  if (args.Has("--shard")) {
    // Every tensor the spec fits is replaced by its shard; the file is a region file.
    MaterializeOptions options;
    options.shard = [&](const std::string&, const Shape& shape) -> std::optional<ShardSpec> {
      return spec->Resolve(shape).ok() ? std::optional<ShardSpec>(*spec) : std::nullopt;
    };
    options.shard_report = &shards;
    if (absl::Status s = materialize_module(*file.model, options); !s.ok()) return Failed(s);
    save.shards = &shards;
  }
  const absl::Status saved = save_checkpoint(*file.model, out, save);
  if (!saved.ok()) return Failed(saved);
  std::cout << "wrote " << out << "\n";
  return kOk;
}

}  // namespace

int ReplayToolMain(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsageText;
    return argc < 2 ? kUsage : kOk;
  }
  const std::string command = argv[1];
  const absl::flat_hash_map<
      std::string, std::pair<absl::flat_hash_set<std::string>, absl::flat_hash_set<std::string>>>
      options = {
          {"summary", {{"--json"}, {}}},
          {"tree", {{"--json"}, {}}},
          {"show", {{"--json"}, {"--shard"}}},
          {"graph", {{}, {"--format", "-o"}}},
          {"replay", {{"--json", "--break-on-nonfinite"}, {"--shard", "--device"}}},
          {"debug", {{}, {}}},
          {"verify", {{"--json"}, {"--samples"}}},
          {"diff", {{"--json", "--values"}, {}}},
          {"export", {{}, {"-o", "--shard", "--dtype"}}},
      };
  auto it = options.find(command);
  if (it == options.end()) {
    std::cerr << "deferred-replay: unknown command '" << command << "'\n" << kUsageText;
    return kUsage;
  }
  try {
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) == "--help") {
        std::cout << kUsageText;
        return kOk;
      }
    }
    const Args args = ParseArgs(argc, argv, it->second.first, it->second.second);
    if (args.positional.empty()) throw UsageError{absl::StrCat(command, " needs a trace file")};
    absl::StatusOr<TraceFile> file = ReadTraceFile(args.positional[0]);
    if (!file.ok()) return Unreadable(file.status());
    if (command == "summary") return Summary(*file, args);
    if (command == "tree") return Tree(*file, args);
    if (command == "show") return Show(*file, args);
    if (command == "graph") return GraphCommand(*file, args);
    if (command == "replay") return Replay(*file, args);
    if (command == "verify") return Verify(*file, args);
    if (command == "export") return Export(*file, args);
    if (command == "diff") {
      if (args.positional.size() != 2) throw UsageError{"diff takes two trace files"};
      absl::StatusOr<TraceFile> other = ReadTraceFile(args.positional[1]);
      if (!other.ok()) return Unreadable(other.status());
      return Diff(*file, *other, args);
    }
    if (args.positional.size() != 2) throw UsageError{"debug takes FILE NAME"};
    absl::StatusOr<NamedEntry> entry = FindEntry(EntriesOf(*file->model), args.positional[1]);
    if (!entry.ok()) return Failed(entry.status());
    LineReader input;
    return RunDebugger(*entry, input, std::cout);
  } catch (const UsageError& e) {
    std::cerr << "deferred-replay " << command << ": " << e.message << " (see --help)\n";
    return kUsage;
  }
}

}  // namespace deferred::tools
