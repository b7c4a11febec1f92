// Trace files of the Llama-70B configuration: save and load times against recording the
// same model in the same run, and the file's size.
//
//   ./bazelw run -c opt //benchmarks:trace_file_benchmark
//
// After the table it prints the medians and the ratios save / record and load / record
// (targets: each at most 10) and the file size (target: at most 4 MB).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "deferred/deferred.h"
#include "examples/models/llama.h"

namespace deferred {
namespace {

const std::string& TracePath() {
  static const std::string* path =
      new std::string((std::filesystem::temp_directory_path() / "llama70b.dtrace").string());
  return *path;
}

std::shared_ptr<nn::Module> Record() {
  return *deferred_init<examples::Llama>(examples::LlamaConfig::Llama70B());
}

void BM_RecordLlama70B(benchmark::State& state) {
  for (auto _ : state) {
    std::shared_ptr<nn::Module> model = Record();
    state.PauseTiming();
    model.reset();  // freed outside the timed region, as in the save and load benchmarks
    state.ResumeTiming();
  }
}
BENCHMARK(BM_RecordLlama70B)->Unit(benchmark::kMillisecond)->Repetitions(5);

void BM_SaveLlama70B(benchmark::State& state) {
  const std::shared_ptr<nn::Module> model = Record();
  for (auto _ : state) {
    if (absl::Status status = save_trace(*model, TracePath()); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  state.counters["file_bytes"] = static_cast<double>(std::filesystem::file_size(TracePath()));
}
BENCHMARK(BM_SaveLlama70B)->Unit(benchmark::kMillisecond)->Repetitions(5);

void BM_LoadLlama70B(benchmark::State& state) {
  save_trace(*Record(), TracePath()).IgnoreError();
  for (auto _ : state) {
    absl::StatusOr<std::shared_ptr<nn::Module>> loaded = load_trace(TracePath());
    if (!loaded.ok()) {
      state.SkipWithError(loaded.status().ToString().c_str());
      return;
    }
    state.PauseTiming();
    loaded->reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_LoadLlama70B)->Unit(benchmark::kMillisecond)->Repetitions(5);

// The console output, plus the median time of each benchmark and the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      times_[run.run_name.function_name].push_back(run.GetAdjustedRealTime());
      if (auto it = run.counters.find("file_bytes"); it != run.counters.end()) {
        file_bytes_ = it->second.value;
      }
    }
  }

  void PrintRatios() {
    std::map<std::string, double> median;
    for (auto& [name, times] : times_) {
      std::sort(times.begin(), times.end());
      median[name] = times[times.size() / 2];
    }
    const double record = median["BM_RecordLlama70B"];
    std::printf(
        "median ms: record %.2f, save %.2f, load %.2f; save / record = %.2f, "
        "load / record = %.2f; file %.2f MB (%.0f bytes)\n",
        record, median["BM_SaveLlama70B"], median["BM_LoadLlama70B"],
        median["BM_SaveLlama70B"] / record, median["BM_LoadLlama70B"] / record, file_bytes_ / 1e6,
        file_bytes_);
  }

 private:
  std::map<std::string, std::vector<double>> times_;
  double file_bytes_ = 0;
};

}  // namespace
}  // namespace deferred

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  deferred::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
