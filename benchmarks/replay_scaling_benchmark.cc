// Replay time against trace length: one 64-element storage written by N in-place ops,
// then one 16-element shard of it materialized. Each op's cost must not depend on how
// many versions came before it, so the time per op stays flat from 10k to 1M ops.
//
//   ./bazelw run -c opt //benchmarks:replay_scaling_benchmark
//
// Each size runs five times; after the table it prints, per benchmark, the median per-op
// time of each size and the ratio of the largest median to the smallest (target for the
// replay: at most 1.5).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "deferred/deferred.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"

namespace deferred {
namespace {

class Chain : public nn::Module {
 public:
  Chain() : Module("Chain") { register_parameter("w", zeros({64})); }
};

// A fake tensor written by `ops` in-place additions after its factory.
Tensor RecordChain(int64_t ops) {
  absl::StatusOr<std::shared_ptr<Chain>> chain = deferred_init<Chain>();
  const Tensor w = (*chain)->parameter("w");
  for (int64_t i = 0; i < ops; ++i) add_(w, 1.0);
  return w;
}

// Reports the time per op of a benchmark over state.range(0) ops.
void ReportPerOp(benchmark::State& state) {
  state.counters["per_op"] = benchmark::Counter(
      static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// 10k, 100k and 1M ops, five times each.
void ChainLengths(benchmark::internal::Benchmark* b) {
  b->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
  b->UseRealTime()->Repetitions(5);
}

void BM_RecordInPlaceChain(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(RecordChain(state.range(0)));
  ReportPerOp(state);
}
BENCHMARK(BM_RecordInPlaceChain)->Apply(ChainLengths);

void BM_ReplayInPlaceChain(benchmark::State& state) {
  const Tensor w = RecordChain(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<Tensor> shard = materialize_shard(w, ShardSpec::Range(0, 16, 32));
    if (!shard.ok() || shard->to_vector<float>()[0] != static_cast<float>(state.range(0))) {
      state.SkipWithError("wrong result");
      return;
    }
  }
  ReportPerOp(state);
}
BENCHMARK(BM_ReplayInPlaceChain)->Apply(ChainLengths);

class Scalar : public nn::Module {
 public:
  explicit Scalar(int64_t ops) : Module("Scalar") {
    Tensor x = zeros({1});
    for (int64_t i = 0; i < ops; ++i) x = add(x, 1.0);
    register_buffer("x", x);
  }
};

// One-element tensors, each made by one functional op from the one before: every op of the
// replay allocates its output and frees its input, as an init's scalar arithmetic does.
void BM_ReplayOneElementOps(benchmark::State& state) {
  const int64_t ops = state.range(0);
  absl::StatusOr<std::shared_ptr<Scalar>> module = deferred_init<Scalar>(ops);
  const Tensor x = (*module)->buffer("x");
  for (auto _ : state) {
    absl::StatusOr<Tensor> value = materialize_tensor(x);
    if (!value.ok() || value->to_vector<float>()[0] != static_cast<float>(ops)) {
      state.SkipWithError("wrong result");
      return;
    }
  }
  ReportPerOp(state);
}
BENCHMARK(BM_ReplayOneElementOps)->Apply(ChainLengths);

// Recording and freeing the trace of BM_ReplayOneElementOps: every op makes a new storage,
// which the trace keeps.
void BM_RecordOneElementOps(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(deferred_init<Scalar>(state.range(0)));
  ReportPerOp(state);
}
BENCHMARK(BM_RecordOneElementOps)->Apply(ChainLengths);

// The reference: the same ops run eagerly on real one-element tensors.
void BM_EagerOneElementOps(benchmark::State& state) {
  for (auto _ : state) {
    Tensor x = zeros({1});
    for (int64_t i = 0; i < state.range(0); ++i) x = add(x, 1.0);
    benchmark::DoNotOptimize(x);
  }
  ReportPerOp(state);
}
BENCHMARK(BM_EagerOneElementOps)->Apply(ChainLengths);

// The console output, plus the per-op times of each benchmark's repetitions by size.
class PerOpReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      per_op_[run.run_name.function_name][run.run_name.args].push_back(
          run.counters.at("per_op").value);
    }
  }

  void PrintRatios() const {
    for (const auto& [family, by_size] : per_op_) {
      std::printf("%s: median per-op time", family.c_str());
      std::vector<double> medians;
      for (auto [size, times] : by_size) {
        std::sort(times.begin(), times.end());
        medians.push_back(times[times.size() / 2]);
        std::printf("  %s ops: %.0f ns (%.0f-%.0f)", size.c_str(), medians.back() * 1e9,
                    times.front() * 1e9, times.back() * 1e9);
      }
      const auto [lo, hi] = std::minmax_element(medians.begin(), medians.end());
      std::printf("; largest / smallest = %.2f\n", *hi / *lo);
    }
  }

 private:
  std::map<std::string, std::map<std::string, std::vector<double>>> per_op_;
};

}  // namespace
}  // namespace deferred

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  deferred::PerOpReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
