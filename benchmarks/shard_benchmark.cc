// Shard materialization against full materialization, measured in the same run.
//
//   ./bazelw run -c opt //benchmarks:shard_benchmark
//
// The ratio time(BM_ShardKaimingWeight/8) / time(BM_FullKaimingWeight) is the figure of
// merit: a rank that builds 1/8 of a weight should pay about 1/8 of the time.
#include <memory>
#include <optional>
#include <string>

#include "benchmark/benchmark.h"
#include "deferred/deferred.h"
#include "deferred/nn/linear.h"
#include "examples/models/llama.h"

namespace deferred {
namespace {

// A kaiming-initialized 11008 x 4096 weight (a Llama-7B MLP projection), recorded once.
const Tensor& KaimingWeight() {
  static const Tensor* weight = [] {
    auto linear = deferred_init<nn::Linear>(4096, 11008, nn::LinearOptions{.bias = false});
    return new Tensor((*linear)->weight());
  }();
  return *weight;
}

void BM_FullKaimingWeight(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Tensor> full = materialize_tensor(KaimingWeight());
    benchmark::DoNotOptimize(full);
  }
  state.SetBytesProcessed(state.iterations() * KaimingWeight().numel() * 4);
}
BENCHMARK(BM_FullKaimingWeight)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ShardKaimingWeight(benchmark::State& state) {
  const int world = static_cast<int>(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<Tensor> shard = materialize_shard(KaimingWeight(), ShardSpec::Chunk(0, 0, world));
    benchmark::DoNotOptimize(shard);
  }
  state.SetBytesProcessed(state.iterations() * KaimingWeight().numel() * 4 / world);
}
BENCHMARK(BM_ShardKaimingWeight)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

// Rank 0 of 8 of one decoder layer of the 70B configuration: every weight split along
// dim 0, each tensor replaced by its shard. Reports the allocator's peak above the start.
void BM_Llama70BDecoderLayerRank0Of8(benchmark::State& state) {
  int64_t peak = 0, shard_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto layer = deferred_init<examples::LlamaDecoderLayer>(examples::LlamaConfig::Llama70B());
    const int64_t live_before = GetAllocationStats().live_bytes;
    ResetPeakBytes();
    state.ResumeTiming();
    MaterializeOptions options;
    options.shard = [](const std::string&, const Shape&) -> std::optional<ShardSpec> {
      return ShardSpec::Chunk(0, 0, 8);
    };
    const absl::Status status = materialize_module(**layer, options);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    state.PauseTiming();
    peak = GetAllocationStats().peak_bytes - live_before;
    shard_bytes = 0;
    for (const auto& [name, t] : (*layer)->named_parameters()) shard_bytes += t.numel() * 4;
    layer->reset();
    state.ResumeTiming();
  }
  state.counters["peak_bytes"] = static_cast<double>(peak);
  state.counters["shard_bytes"] = static_cast<double>(shard_bytes);
}
BENCHMARK(BM_Llama70BDecoderLayerRank0Of8)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace deferred
