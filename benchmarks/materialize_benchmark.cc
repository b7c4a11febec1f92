// materialize_module into fresh memory, end to end, beside the references the same run
// measures: the same materialization into memory that is already mapped, and a 2-thread
// memset of the model's bytes into fresh memory (the memory side's limit). Each under the
// huge-page policy (the default) and without it (the policy before).
//
//   benchmarks/materialize_compare.sh            # this, beside PyTorch 1.13, several runs
//   ./bazelw run -c opt //benchmarks:materialize_benchmark
//   ./bazelw run -c opt //benchmarks:materialize_benchmark -- --peak_rss=gpt2-small
//
// With --peak_rss=<model> the program records and materializes that model once, in this
// fresh process, and prints its peak resident memory beside the parameter and trace bytes.
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "benchmark/benchmark.h"
#include "benchmarks/peak_rss.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "fake_tensor/host_memory.h"
#include "replay/kernels/parallel.h"
#include "replay/trace.h"

namespace deferred {
namespace {

struct Model {
  const char* name;
  std::function<absl::StatusOr<std::shared_ptr<nn::Module>>()> record;
};

examples::LlamaConfig Llama1600MB() {
  // 402M float32 parameters: 1.61 GB.
  return examples::LlamaConfig{.vocab_size = 32000, .dim = 2048, .n_layers = 6, .n_heads = 16,
                               .n_kv_heads = 4, .ffn_dim = 5632};
}

const std::vector<Model>& Models() {
  static const auto* models = new std::vector<Model>{
      {"gpt2-small", [] { return deferred_init<examples::Gpt2>(examples::Gpt2Config()); }},
      {"gpt2-medium",
       [] {
         return deferred_init<examples::Gpt2>(
             examples::Gpt2Config{.n_layer = 24, .n_head = 16, .n_embd = 1024});
       }},
      {"gpt2-large",
       [] {
         return deferred_init<examples::Gpt2>(
             examples::Gpt2Config{.n_layer = 36, .n_head = 20, .n_embd = 1280});
       }},
      {"llama-1.6gb", [] { return deferred_init<examples::Llama>(Llama1600MB()); }},
  };
  return *models;
}

std::shared_ptr<nn::Module> Record(const Model& model) {
  absl::StatusOr<std::shared_ptr<nn::Module>> module = model.record();
  if (!module.ok()) {
    std::fprintf(stderr, "%s: %s\n", model.name, module.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(module);
}

// Bytes of the module's tensors, a tied tensor once.
int64_t TensorBytes(nn::Module& module) {
  int64_t bytes = 0;
  absl::flat_hash_set<const StorageImpl*> seen;
  std::vector<nn::NamedTensor> tensors = module.named_parameters();
  for (nn::NamedTensor& buffer : module.named_buffers()) tensors.push_back(std::move(buffer));
  for (const auto& [name, t] : tensors) {
    if (seen.insert(t.storage().get()).second) bytes += t.storage()->nbytes();
  }
  return bytes;
}

class ScopedPolicy {
 public:
  explicit ScopedPolicy(int64_t arg)
      : previous_(SetHugePagePolicy(arg == 0 ? HugePagePolicy::kAdvise : HugePagePolicy::kNone)) {}
  ~ScopedPolicy() { SetHugePagePolicy(previous_); }

 private:
  HugePagePolicy previous_;
};

// Times materialize_module of a freshly recorded model, the recording and the freeing
// untimed. Under `reuse`, memory freed by one iteration is taken by the next.
void TimeMaterialize(benchmark::State& state, const Model& model) {
  int64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::shared_ptr<nn::Module> module = Record(model);
    bytes = TensorBytes(*module);
    state.ResumeTiming();
    if (absl::Status status = materialize_module(*module); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    state.PauseTiming();
    module.reset();
    state.ResumeTiming();
  }
  state.SetLabel(model.name);
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(state.iterations() * bytes);
}

// Args: model, policy (0: huge pages advised, 1: none).
void BM_Materialize(benchmark::State& state) {
  ScopedPolicy policy(state.range(1));
  TimeMaterialize(state, Models()[state.range(0)]);
}

// The reference: the same materialization into blocks already mapped and written, which a
// first, untimed materialization leaves behind (ScopedBlockReuse keeps its freed blocks).
void BM_MaterializeMapped(benchmark::State& state) {
  const Model& model = Models()[state.range(0)];
  ScopedBlockReuse reuse;
  {
    std::shared_ptr<nn::Module> warm = Record(model);
    if (absl::Status status = materialize_module(*warm); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  const int64_t reused_before = reuse.reused_blocks();
  TimeMaterialize(state, model);
  state.counters["blocks_reused_per_iteration"] =
      static_cast<double>(reuse.reused_blocks() - reused_before) / state.iterations();
}

// Writing the model's bytes into one fresh block on all threads: the most any
// materialization into fresh memory can reach. Args: model, policy.
void BM_MemsetFresh(benchmark::State& state) {
  ScopedPolicy policy(state.range(1));
  const Model& model = Models()[state.range(0)];
  const int64_t bytes = TensorBytes(*Record(model));
  for (auto _ : state) {
    std::byte* block = AllocateHostBlock(static_cast<size_t>(bytes));
    ParallelFor(bytes, int64_t{1} << 20, [&](int64_t begin, int64_t end) {
      std::memset(block + begin, 0, static_cast<size_t>(end - begin));
    });
    benchmark::DoNotOptimize(block);
    state.PauseTiming();
    FreeHostBlock(block, static_cast<size_t>(bytes));
    state.ResumeTiming();
  }
  state.SetLabel(model.name);
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(state.iterations() * bytes);
}

void ModelsAndPolicies(benchmark::internal::Benchmark* b) {
  for (int64_t model = 0; model < static_cast<int64_t>(Models().size()); ++model) {
    for (int64_t policy : {0, 1}) b->Args({model, policy});
  }
}
BENCHMARK(BM_MemsetFresh)->Apply(ModelsAndPolicies)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Materialize)->Apply(ModelsAndPolicies)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MaterializeMapped)
    ->DenseRange(0, 3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One Llama-70B decoder layer into fresh memory: whole (arg 1) or rank 0's dim-0 chunk of
// every tensor (arg 8).
void BM_Llama70BLayer(benchmark::State& state) {
  const int64_t world = state.range(0);
  int64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto layer = deferred_init<examples::LlamaDecoderLayer>(examples::LlamaConfig::Llama70B());
    const int64_t total_before = GetAllocationStats().total_bytes;
    state.ResumeTiming();
    MaterializeOptions options;
    if (world > 1) {
      options.shard = [world](const std::string&, const Shape&) -> std::optional<ShardSpec> {
        return ShardSpec::Chunk(0, 0, world);
      };
    }
    if (absl::Status status = materialize_module(**layer, options); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    state.PauseTiming();
    bytes = GetAllocationStats().total_bytes - total_before;
    layer->reset();
    state.ResumeTiming();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_Llama70BLayer)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

int PrintPeakResidentMemory(const std::string& name) {
  for (const Model& model : Models()) {
    if (name != model.name) continue;
    std::shared_ptr<nn::Module> module = Record(model);
    const int64_t bytes = TensorBytes(*module);
    const int64_t trace_bytes =
        TraceOf(module->named_parameters().front().second)->ApproximateBytes();
    const int64_t before = PeakRssBytes();
    if (absl::Status status = materialize_module(*module); !status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
    const int64_t peak = PeakRssBytes();
    std::printf("model=%s tensor_bytes=%lld trace_bytes=%lld rss_before=%lld peak_rss=%lld "
                "peak_rss/(tensor+trace)=%.4f\n",
                model.name, static_cast<long long>(bytes), static_cast<long long>(trace_bytes),
                static_cast<long long>(before), static_cast<long long>(peak),
                static_cast<double>(peak) / static_cast<double>(bytes + trace_bytes));
    return 0;
  }
  std::fprintf(stderr, "--peak_rss: no model named '%s'\n", name.c_str());
  return 2;
}

}  // namespace
}  // namespace deferred

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], "--peak_rss=")) {
      return deferred::PrintPeakResidentMemory(argv[i] + std::strlen("--peak_rss="));
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
