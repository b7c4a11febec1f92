#include "tools/debugger.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/views.h"
#include "replay/replay_session.h"
#include "tools/tensor_stats.h"

namespace deferred::tools {
namespace {

// `t` narrowed by "[a:b, c:d]" (a dim may be "a:b", "a" or ":"); InvalidArgument otherwise.
absl::StatusOr<Tensor> Slice(const Tensor& t, absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&text, "[") || !absl::ConsumeSuffix(&text, "]")) {
    return absl::InvalidArgumentError("a slice is written like [0:4, 0:8]");
  }
  const std::vector<absl::string_view> dims = absl::StrSplit(text, ',');
  if (static_cast<int64_t>(dims.size()) > t.dim()) {
    return absl::InvalidArgumentError(absl::StrFormat("the value has %d dims", t.dim()));
  }
  Tensor slice = t;
  for (size_t d = 0; d < dims.size(); ++d) {
    const std::vector<absl::string_view> bounds =
        absl::StrSplit(absl::StripAsciiWhitespace(dims[d]), ':');
    int64_t start = 0, stop = t.sizes()[d];
    const bool ok =
        bounds.size() <= 2 && (bounds[0].empty() || absl::SimpleAtoi(bounds[0], &start)) &&
        (bounds.size() == 1 ? (stop = start + 1, !bounds[0].empty())
                            : (bounds[1].empty() || absl::SimpleAtoi(bounds[1], &stop)));
    if (!ok || start < 0 || stop > t.sizes()[d] || start >= stop) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "dim %d: '%s' is not a range within [0, %d)", d, std::string(dims[d]), t.sizes()[d]));
    }
    slice = narrow(slice, static_cast<int64_t>(d), start, stop - start);
  }
  return slice;
}

class Debugger {
 public:
  Debugger(const NamedEntry& entry, LineReader& input, std::ostream& out)
      : entry_(entry), recipe_(RecipeOf(entry.tensor)), input_(input), out_(out) {}

  int Run() {
    if (recipe_.trace == nullptr) {
      out_ << entry_.name << " is a real tensor: there is nothing to replay\n";
      return 0;
    }
    ReplaySession session(recipe_.trace, Device::CPU());
    const Region whole = Region::Full(recipe_.trace->Storage(recipe_.value.storage_id).sizes);
    for (const PlannedOp& op : session.Plan({ReplayTarget{recipe_.value, whole}})) {
      runs_.insert(op.vertex);
    }
    out_ << absl::StrFormat(
        "%s %s: %d ops recorded, %d run (the others' values are overwritten); stopped after "
        "each that runs (next, continue, break, print, where, region, list, quit)\n",
        entry_.name, ShapeText(entry_.tensor), recipe_.ops.size(), runs_.size());
    session.set_step_observer([this](const ReplayStep& step) { return Stop(step); });
    const absl::Status status = CatchErrors([&] { session.RunWhole({recipe_.value}); });
    if (quit_) return 0;
    if (!status.ok()) {
      out_ << "error: " << status.message() << "\n";
      return 1;
    }
    out_ << "replay finished\n";
    return 0;
  }

 private:
  size_t IndexOf(Trace::Vertex v) const {
    return std::lower_bound(recipe_.ops.begin(), recipe_.ops.end(), v) - recipe_.ops.begin();
  }

  bool Breaks(const ReplayStep& step) const {
    const TraceNode& node = *step.node;
    for (const std::string& b : breakpoints_) {
      if (b == node.def->name) return true;
      const std::string path(node.provenance.module_path);
      if (!path.empty() && (path == b || absl::StartsWith(path, absl::StrCat(b, ".")))) return true;
      if (b == "nonfinite") {
        for (const Tensor& value : step.values) {
          const TensorStats stats = StatsOf(value, 0);
          if (stats.nan + stats.inf > 0) return true;
        }
      }
    }
    return false;
  }

  std::string Line(size_t index) const {
    const TraceNode& node = recipe_.trace->Node(recipe_.ops[index]);
    return absl::StrFormat("%%%d = %s  %s", index, CallText(node, InputRefs(recipe_, index)),
                           ProvenanceText(node.provenance));
  }

  // Called after each op; returns false to stop the replay.
  bool Stop(const ReplayStep& step) {
    if (!stepping_ && !Breaks(step)) return true;
    const size_t index = IndexOf(step.vertex);
    out_ << (stepping_ ? "" : "breakpoint: ") << Line(index) << "\n";
    for (;;) {
      const std::optional<std::string> line = input_.ReadLine("(deferred-replay) ");
      if (!line) {
        quit_ = true;
        return false;
      }
      const std::vector<std::string> words = absl::StrSplit(*line, ' ', absl::SkipWhitespace());
      if (words.empty()) continue;
      const std::string& command = words[0];
      if (command == "next" || command == "n") {
        stepping_ = true;
        return true;
      } else if (command == "continue" || command == "c") {
        stepping_ = false;
        return true;
      } else if (command == "quit" || command == "q") {
        quit_ = true;
        return false;
      } else if (command == "break" || command == "b") {
        if (words.size() != 2) {
          out_ << "break takes an op name, a module path or 'nonfinite'\n";
          continue;
        }
        breakpoints_.insert(words[1]);
        out_ << "breakpoint at " << words[1] << "\n";
      } else if (command == "print" || command == "p") {
        Print(step, line->substr(line->find(command) + command.size()));
      } else if (command == "where") {
        const TraceNode& node = *step.node;
        out_ << "module "
             << (node.provenance.module_path.empty() ? "(root)"
                                                     : std::string(node.provenance.module_path))
             << "\nsource "
             << (node.provenance.file.empty()
                     ? "(unknown)"
                     : absl::StrCat(std::string(node.provenance.file), ":", node.provenance.line))
             << "\n";
        if (std::optional<RngCoordinates> rng = RngOf(*recipe_.trace, node)) {
          out_ << absl::StrFormat("rng seed %d offset %d blocks %d\n", rng->seed, rng->offset,
                                  rng->blocks);
        } else {
          out_ << "rng none\n";
        }
      } else if (command == "region") {
        for (const Region& region : step.regions) out_ << region.ToString() << "\n";
      } else if (command == "list") {
        for (size_t i = 0; i < recipe_.ops.size(); ++i) {
          out_ << (i == index ? "=> " : "   ") << Line(i)
               << (runs_.contains(recipe_.ops[i]) ? "" : "  (does not run)") << "\n";
        }
      } else {
        out_ << "unknown command '" << command
             << "' (next, continue, break, print, where, region, list, quit)\n";
      }
    }
  }

  void Print(const ReplayStep& step, absl::string_view slice) {
    if (step.values.empty()) {
      out_ << "the op computed nothing\n";
      return;
    }
    const Tensor& value = step.values[0];
    if (absl::StripAsciiWhitespace(slice).empty()) {
      out_ << ShapeText(value) << " " << StatsText(StatsOf(value)) << "\n";
      return;
    }
    absl::StatusOr<Tensor> part = Slice(value, slice);
    if (!part.ok()) {
      out_ << part.status().message() << "\n";
      return;
    }
    const TensorStats stats =
        StatsOf(*part, static_cast<int>(std::min<int64_t>(part->numel(), 64)));
    out_ << ShapeText(*part) << " " << StatsText(stats) << "\n";
  }

  const NamedEntry& entry_;
  const Recipe recipe_;
  LineReader& input_;
  std::ostream& out_;
  std::set<std::string> breakpoints_;
  std::set<Trace::Vertex> runs_;  // the ops the replay executes
  bool stepping_ = true;
  bool quit_ = false;
};

}  // namespace

int RunDebugger(const NamedEntry& entry, LineReader& input, std::ostream& out) {
  return Debugger(entry, input, out).Run();
}

}  // namespace deferred::tools
