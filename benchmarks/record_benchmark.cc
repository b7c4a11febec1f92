// Recording cost: deferred_init of large models, against eager construction of a small one
// in the same run.
//
//   ./bazelw run -c opt //benchmarks:record_benchmark
#include <memory>

#include "benchmark/benchmark.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "replay/trace.h"

namespace deferred::examples {
namespace {

// Records a model of type M and reports the trace's size and the tensor bytes allocated.
template <typename M, typename Config>
void RecordModel(benchmark::State& state, const Config& config) {
  int64_t trace_bytes = 0, ops = 0, tensor_bytes = 0;
  for (auto _ : state) {
    const int64_t before = GetAllocationStats().total_bytes;
    absl::StatusOr<std::shared_ptr<M>> model = deferred_init<M>(config);
    tensor_bytes = GetAllocationStats().total_bytes - before;
    if (!model.ok()) {
      state.SkipWithError(model.status().ToString().c_str());
      return;
    }
    state.PauseTiming();
    const std::shared_ptr<Trace> trace =
        TraceOf((*model)->named_parameters().front().second);
    trace_bytes = trace->ApproximateBytes();
    ops = trace->num_ops();
    model->reset();  // the model and its trace are freed outside the timed region
    state.ResumeTiming();
  }
  state.counters["trace_bytes"] = static_cast<double>(trace_bytes);
  state.counters["ops"] = static_cast<double>(ops);
  state.counters["bytes_per_op"] = static_cast<double>(trace_bytes) / static_cast<double>(ops);
  state.counters["tensor_bytes_allocated"] = static_cast<double>(tensor_bytes);
}

void BM_RecordLlama70B(benchmark::State& state) {
  RecordModel<Llama>(state, LlamaConfig::Llama70B());
}
BENCHMARK(BM_RecordLlama70B)->Unit(benchmark::kMillisecond);

void BM_RecordGpt2Small(benchmark::State& state) { RecordModel<Gpt2>(state, Gpt2Config()); }
BENCHMARK(BM_RecordGpt2Small)->Unit(benchmark::kMillisecond);

// The reference: eager construction of the same GPT-2 small (124M parameters).
void BM_EagerGpt2Small(benchmark::State& state) {
  for (auto _ : state) {
    auto model = std::make_shared<Gpt2>(Gpt2Config());
    benchmark::DoNotOptimize(model);
  }
}
BENCHMARK(BM_EagerGpt2Small)->Unit(benchmark::kMillisecond);

// materialize_module of a deferred GPT-2 small, into fresh memory each time (recording and
// freeing are outside the timed region).
void BM_MaterializeGpt2Small(benchmark::State& state) {
  int64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    absl::StatusOr<std::shared_ptr<Gpt2>> model = deferred_init<Gpt2>(Gpt2Config());
    if (!model.ok()) {
      state.SkipWithError(model.status().ToString().c_str());
      return;
    }
    const int64_t before = GetAllocationStats().total_bytes;
    state.ResumeTiming();
    const absl::Status status = materialize_module(**model);
    state.PauseTiming();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    bytes = GetAllocationStats().total_bytes - before;
    model->reset();
    state.ResumeTiming();
  }
  state.counters["bytes_allocated"] = static_cast<double>(bytes);
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_MaterializeGpt2Small)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace deferred::examples
