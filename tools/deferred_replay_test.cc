// deferred-replay as its users run it: each subcommand's output on small saved traces
// (tools/testdata, made by make_tool_testdata) equals its golden file; --json output parses
// back and agrees with the traces loaded in this process; every broken trace file of the
// corpus gives exit status 3 and one line; verify catches a planted defect; the debugger
// is driven through a pipe and through a pseudo-terminal.
//
// After a deliberate change of output, regenerate the golden files with
// tools/update_goldens.sh and review their diff.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "checkpoint/safetensors_file.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "deferred/trace_file.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/views.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "replay/trace.h"
#include "tools/inspect.h"
#include "tools/tensor_stats.h"

namespace deferred::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTool[] = "tools/deferred-replay";

struct ToolRun {
  int exit = -1;
  std::string out, err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

// Runs `binary` with `args` (and `input` on its standard input) through the shell.
ToolRun RunTool(const std::string& args, const std::string& input = "",
                const std::string& binary = kTool) {
  const std::string in = TempPath("stdin"), out = TempPath("stdout"), err = TempPath("stderr");
  std::ofstream(in, std::ios::binary) << input;
  const std::string command = absl::StrCat(binary, " ", args, " <", in, " >", out, " 2>", err);
  const int status = std::system(command.c_str());
  return ToolRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadAll(out), ReadAll(err)};
}

struct GoldenCase {
  std::string name;
  std::string args;
  std::string input;  // standard input, for debug
};

const std::vector<GoldenCase>& GoldenCases() {
  static const auto* cases = new std::vector<GoldenCase>{
      {"summary_gpt2", "summary tools/testdata/gpt2_tiny.dtrace"},
      {"summary_llama", "summary tools/testdata/llama_tiny.dtrace"},
      {"summary_odd", "summary tools/testdata/odd.dtrace"},
      {"tree_gpt2", "tree tools/testdata/gpt2_tiny.dtrace"},
      {"tree_llama", "tree tools/testdata/llama_tiny.dtrace"},
      {"tree_odd", "tree tools/testdata/odd.dtrace"},
      {"show_llama", "show tools/testdata/llama_tiny.dtrace rotary.inv_freq"},
      {"show_shard",
       "show tools/testdata/gpt2_tiny.dtrace transformer.h.0.attn.c_attn.weight --shard "
       "'split(0,1,3)+range(1,2,6)'"},
      {"show_view_tie", "show tools/testdata/odd.dtrace rows_tied --shard 'chunk(1,1,2)'"},
      {"show_unknown_name", "show tools/testdata/odd.dtrace rowz"},
      {"graph_odd", "graph tools/testdata/odd.dtrace"},
      {"graph_one_tensor", "graph tools/testdata/gpt2_tiny.dtrace transformer.wte.weight"},
      {"replay_odd", "replay tools/testdata/odd.dtrace"},
      {"replay_shard",
       "replay tools/testdata/llama_tiny.dtrace lm_head.weight embed_tokens.weight "
       "layers.1.mlp.down_proj.weight --shard 'split(0,1,4)'"},
      {"replay_nonfinite", "replay tools/testdata/odd.dtrace --break-on-nonfinite"},
      {"verify_gpt2", "verify tools/testdata/gpt2_tiny.dtrace --samples 3"},
      {"verify_llama", "verify tools/testdata/llama_tiny.dtrace --samples 3"},
      {"diff_changed", "diff tools/testdata/odd.dtrace tools/testdata/odd_v2.dtrace --values"},
      {"diff_same", "diff tools/testdata/gpt2_tiny.dtrace tools/testdata/gpt2_tiny.dtrace"},
      {"debug_pipe", "debug tools/testdata/odd.dtrace log_of_negative",
       "list\nwhere\nnext\nprint\nprint [1:3]\nregion\nbreak "
       "nonfinite\ncontinue\nwhere\nbogus\nquit\n"},
      {"debug_breakpoints", "debug tools/testdata/llama_tiny.dtrace rotary.inv_freq",
       "break pow\ncontinue\nwhere\nprint [0:1]\nbreak rotary\ncontinue\nlist\ncontinue\n"},
      // Only the last init of a re-initialized weight runs: the debugger stops at that one.
      {"debug_overwritten_init",
       "debug tools/testdata/gpt2_tiny.dtrace transformer.h.1.mlp.c_proj.weight",
       "where\nprint [0:2, 0:4]\ncontinue\n"},
      {"usage_no_command", ""},
      {"usage_unknown_command", "frobnicate tools/testdata/odd.dtrace"},
      {"usage_unknown_option", "summary tools/testdata/odd.dtrace --colour"},
      {"usage_bad_spec", "show tools/testdata/odd.dtrace rows --shard 'slice(0,1)'"},
  };
  return *cases;
}

std::string GoldenText(const GoldenCase& c, const ToolRun& run) {
  return absl::StrCat("$ deferred-replay ", c.args, "\nexit ", run.exit, "\n--- stdout\n", run.out,
                      "--- stderr\n", run.err);
}

TEST(DeferredReplayTest, EverySubcommandPrintsItsGoldenOutput) {
  const char* update = std::getenv("DEFERRED_REPLAY_UPDATE_GOLDENS");
  for (const GoldenCase& c : GoldenCases()) {
    const std::string actual = GoldenText(c, RunTool(c.args, c.input));
    if (update != nullptr) {
      std::ofstream(absl::StrCat(update, "/", c.name, ".txt"), std::ios::binary) << actual;
      continue;
    }
    const std::string expected = ReadAll(absl::StrCat("tools/testdata/golden/", c.name, ".txt"));
    EXPECT_EQ(actual, expected) << c.name
                                << ": regenerate with tools/update_goldens.sh if intended";
  }
}

std::shared_ptr<nn::Module> Load(const std::string& path) {
  absl::StatusOr<std::shared_ptr<nn::Module>> model = load_trace(path);
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

nlohmann::json JsonOf(const std::string& args, int expected_exit = 0) {
  const ToolRun run = RunTool(args);
  EXPECT_EQ(run.exit, expected_exit) << args << "\n" << run.err;
  return nlohmann::json::parse(run.out);
}

TEST(DeferredReplayTest, JsonOutputAgreesWithTheTraceLoadedHere) {
  for (const std::string file : {"tools/testdata/gpt2_tiny.dtrace",
                                 "tools/testdata/llama_tiny.dtrace", "tools/testdata/odd.dtrace"}) {
    SCOPED_TRACE(file);
    const std::shared_ptr<nn::Module> model = Load(file);
    const std::vector<NamedEntry> entries = EntriesOf(*model);

    const nlohmann::json summary = JsonOf(absl::StrCat("summary --json ", file));
    const int64_t num_ops = TraceOf(entries.front().tensor)->num_ops();
    EXPECT_EQ(summary["ops"], num_ops);
    int64_t counted = 0;
    for (const auto& [name, count] : summary["op_counts"].items()) counted += count.get<int64_t>();
    EXPECT_EQ(counted, num_ops);

    const nlohmann::json tree = JsonOf(absl::StrCat("tree --json ", file));
    size_t tensors = 0;
    for (const nlohmann::json& module : tree) tensors += module["tensors"].size();
    EXPECT_EQ(tensors, model->tensor_entries().size());

    const nlohmann::json replayed = JsonOf(absl::StrCat("replay --json ", file));
    ASSERT_EQ(replayed.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(replayed[i]["name"], entries[i].name);
      EXPECT_EQ(replayed[i]["sha256"], StatsOf(*materialize_tensor(entries[i].tensor)).hash)
          << entries[i].name;
    }

    for (const NamedEntry& entry : entries) {
      const nlohmann::json shown = JsonOf(absl::StrCat("show --json ", file, " ", entry.name));
      ASSERT_EQ(shown["ops"].size(), RecipeOf(entry.tensor).ops.size()) << entry.name;
      for (size_t i = 0; i < shown["ops"].size(); ++i) {
        for (const nlohmann::json& input : shown["ops"][i]["inputs"]) {
          // Operands name earlier ops of the recipe.
          const std::string ref = input.get<std::string>();
          ASSERT_EQ(ref[0], '%') << entry.name;
          EXPECT_LT(std::stoul(ref.substr(1)), i) << entry.name;
        }
      }
    }
    EXPECT_TRUE(JsonOf(absl::StrCat("verify --json --samples 2 ", file))["failures"].empty());
  }
  const nlohmann::json diff =
      JsonOf("diff --json --values tools/testdata/odd.dtrace tools/testdata/odd_v2.dtrace", 1);
  EXPECT_EQ(diff["only_b"], nlohmann::json({"scale"}));
  EXPECT_TRUE(diff["only_a"].empty());
  for (const nlohmann::json& d : diff["both"]) {
    const bool changed = d["name"] != "log_of_negative";
    EXPECT_EQ(d["same_recipe"], !changed) << d;
    EXPECT_EQ(d["same_values"], !changed) << d;
  }
}

TEST(DeferredReplayTest, EveryBrokenTraceFileGivesExitStatusThreeAndOneLine) {
  int broken = 0;
  for (const auto& file : std::filesystem::directory_iterator("testdata/traces")) {
    const std::string name = file.path().filename().string();
    if (name.rfind("bad_", 0) != 0) continue;
    ++broken;
    for (const std::string command :
         {"summary", "tree", "replay", "verify", "graph", "export -o /dev/null"}) {
      const ToolRun run = RunTool(absl::StrCat(command, " ", file.path().string()));
      EXPECT_EQ(run.exit, 3) << command << " " << name << ": " << run.err;
      EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1)
          << command << " " << name << ": " << run.err;
      EXPECT_THAT(run.err, HasSubstr(name)) << command;
      EXPECT_TRUE(run.out.empty()) << command << " " << name;
    }
  }
  EXPECT_GE(broken, 15);
}

TEST(DeferredReplayTest, VerifyCatchesAPlantedRegionRuleDefect) {
  const std::string args = "verify tools/testdata/gpt2_tiny.dtrace --samples 4";
  EXPECT_EQ(RunTool(args).exit, 0);
  const ToolRun broken = RunTool(args, "", "tools/deferred-replay-planted-defect");
  EXPECT_EQ(broken.exit, 1) << broken.out;
  // Every failure is a shard of a tensor that normal_ initialized.
  const std::shared_ptr<nn::Module> model = Load("tools/testdata/gpt2_tiny.dtrace");
  int failures = 0;
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(broken.out, '\n'))) {
    if (line.rfind("FAIL ", 0) != 0) continue;
    ++failures;
    const std::vector<std::string> words = absl::StrSplit(line, ' ');
    ASSERT_GE(words.size(), 3u);
    EXPECT_EQ(words[2], "shard:") << line;
    const absl::StatusOr<NamedEntry> entry = FindEntry(EntriesOf(*model), words[1]);
    ASSERT_TRUE(entry.ok()) << line;
    const Recipe recipe = RecipeOf(entry->tensor);
    bool normal = false;
    for (Trace::Vertex v : recipe.ops)
      normal = normal || recipe.trace->Node(v).def->name == "normal_";
    EXPECT_TRUE(normal) << line;
  }
  EXPECT_GT(failures, 0);
}

TEST(DeferredReplayTest, ExportWritesACheckpointThatLoadsBackBitwise) {
  const std::string file = "tools/testdata/llama_tiny.dtrace";
  const std::string whole = TempPath("whole.safetensors"), half = TempPath("half.safetensors"),
                    shard = TempPath("shard.safetensors");
  ASSERT_EQ(RunTool(absl::StrCat("export ", file, " -o ", whole)).exit, 0);
  ASSERT_EQ(RunTool(absl::StrCat("export ", file, " -o ", half, " --dtype bfloat16")).exit, 0);
  ASSERT_EQ(RunTool(absl::StrCat("export ", file, " -o ", shard, " --shard 'split(0,1,2)'")).exit,
            0);
  EXPECT_EQ(RunTool(absl::StrCat("export ", file, " -o ", whole, " --dtype int8")).exit, 2);

  const std::shared_ptr<nn::Module> expected = Load(file);
  ASSERT_TRUE(materialize_module(*expected).ok());
  const std::shared_ptr<nn::Module> loaded = Load(file), loaded_half = Load(file);
  ASSERT_TRUE(load_checkpoint(*loaded, whole, {.strict = true}).ok());
  ASSERT_TRUE(load_checkpoint(*loaded_half, half, {.strict = true}).ok());
  // The shard's file is a region file (one rank's part), read here tensor by tensor.
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> shard_file = SafetensorsFile::Open(shard);
  ASSERT_TRUE(shard_file.ok()) << shard_file.status();
  for (const NamedEntry& entry : EntriesOf(*expected)) {
    if (!entry.persistent) continue;
    SCOPED_TRACE(entry.name);
    const Tensor& want = entry.tensor;
    const Tensor got = FindEntry(EntriesOf(*loaded), entry.name)->tensor;
    EXPECT_EQ(contiguous(got).to_bytes(), contiguous(want).to_bytes());
    const Tensor got_half = FindEntry(EntriesOf(*loaded_half), entry.name)->tensor;
    const Tensor want_half =
        IsFloatingPoint(want.dtype()) ? to(to(want, DType::kBFloat16), want.dtype()) : want;
    EXPECT_EQ(contiguous(got_half).to_bytes(), contiguous(want_half).to_bytes());
    const Region region = *ShardSpec::TensorSplit(0, 1, 2).Resolve(want.sizes());
    const SafetensorsTensor* stored = (*shard_file)->header().Find(entry.name);
    ASSERT_NE(stored, nullptr);
    ASSERT_EQ(stored->shape, region.sizes());
    std::string bytes(stored->end - stored->begin, '\0');
    ASSERT_TRUE((*shard_file)
                    ->ReadRegion(*stored, Region::Full(stored->shape), want.dtype(), bytes.data())
                    .ok());
    EXPECT_EQ(
        bytes,
        contiguous(narrow(want, 0, region.start[0], region.stop[0] - region.start[0])).to_bytes());
  }
}

TEST(DeferredReplayTest, GraphDrawsThroughGraphvizOrNamesThePackage) {
  const std::string svg = TempPath("graph.svg");
  const ToolRun run =
      RunTool(absl::StrCat("graph tools/testdata/odd.dtrace rows --format svg -o ", svg));
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    EXPECT_EQ(run.exit, 0) << run.err;
    EXPECT_THAT(ReadAll(svg), HasSubstr("<svg"));
  } else {
    EXPECT_EQ(run.exit, 1);
    EXPECT_THAT(run.err, HasSubstr("install the package graphviz"));
  }
  EXPECT_EQ(RunTool("graph tools/testdata/odd.dtrace --format svg").exit, 2);  // no -o
}

// Runs the debugger on a pseudo-terminal, types `keys` (one string per prompt), and returns
// the screen's bytes.
std::string TypeIntoTerminal(const std::vector<std::string>& keys) {
  int terminal = -1;
  const pid_t child = forkpty(&terminal, nullptr, nullptr, nullptr);
  if (child == 0) {
    ::execl(kTool, kTool, "debug", "tools/testdata/odd.dtrace", "log_of_negative", nullptr);
    std::_Exit(127);
  }
  std::string screen;
  size_t typed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{terminal, POLLIN, 0};
    if (::poll(&fd, 1, 100) > 0) {
      char buffer[4096];
      const ssize_t n = ::read(terminal, buffer, sizeof(buffer));
      if (n <= 0) break;  // the child has exited
      screen.append(buffer, n);
    }
    // Type the next keys once a new, empty prompt is drawn (the line editor draws the
    // prompt, then moves the cursor to its end).
    const std::string empty_prompt = "(deferred-replay) \r\x1b[18C";
    size_t prompts = 0;
    for (size_t at = 0; (at = screen.find(empty_prompt, at)) != std::string::npos; ++at) ++prompts;
    if (typed < keys.size() && prompts > typed && screen.ends_with(empty_prompt)) {
      EXPECT_EQ(::write(terminal, keys[typed].data(), keys[typed].size()),
                static_cast<ssize_t>(keys[typed].size()));
      ++typed;
    }
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    ADD_FAILURE() << "the debugger did not finish; screen:\n" << screen;
    ::kill(child, SIGKILL);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(terminal);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << screen;
  return screen;
}

TEST(DeferredReplayTest, TheDebuggerEditsLinesAndRecallsHistoryOnATerminal) {
  const std::string screen = TypeIntoTerminal({
      "next\r",
      "\x1b[A\r",                   // up arrow: `next` again
      "were\x1b[D\x1b[D\x1b[Dh\r",  // left three times, insert h: `where`
      "xprint\x01\x1b[C\x08\r",     // Ctrl-A, right, backspace: `print`
      "quit\r",
  });
  EXPECT_THAT(screen, HasSubstr("%1 = sub_scalar(%0, other=2)"));
  EXPECT_THAT(screen, HasSubstr("%2 = log(%1)"));
  EXPECT_THAT(screen, HasSubstr("source tools/make_tool_testdata.cc:"));
  EXPECT_THAT(screen, HasSubstr("nan 2 inf 1"));
  EXPECT_THAT(screen, Not(HasSubstr("unknown command")));
}

}  // namespace
}  // namespace deferred::tools
