// Random fills of a 256 MiB float32 tensor on all cores, beside a plain parallel memset of
// the same bytes, so that the ratios to memory bandwidth come out of one run:
//   bazel run -c opt //benchmarks:fill_benchmark
// Each benchmark reports bytes per second of tensor written (Google Benchmark prints them
// in units of 2^30 as "G/s") and, as its label, the kernel path that ran.
// benchmarks/RESULTS.md holds measured figures; benchmarks/compare_pytorch.sh runs
// PyTorch's fills beside these.
#include <cstdint>
#include <cstring>

#include "benchmark/benchmark.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/random_kernel_path.h"

namespace deferred {
namespace {

constexpr int64_t kBytes = int64_t{256} << 20;
constexpr int64_t kElements = kBytes / sizeof(float);

// A float32 tensor of kBytes, written once so that its pages exist before timing.
Tensor Target() {
  const Tensor t = empty({kElements});
  std::memset(t.storage()->data(), 0, kBytes);
  return t;
}

template <typename Fill>
void RunFill(benchmark::State& state, Fill fill) {
  const Tensor t = Target();
  for (auto _ : state) {
    fill(t);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
  state.counters["threads"] = NumThreads();
  state.SetLabel(RandomKernelPathName(ActiveRandomKernelPath()));
}

// The reference: memset split across the same threads as the fills.
void BM_Memset(benchmark::State& state) {
  RunFill(state, [](const Tensor& t) {
    std::byte* data = t.storage()->data();
    ParallelFor(kBytes, int64_t{1} << 20, [data](int64_t begin, int64_t end) {
      std::memset(data + begin, 0, end - begin);
    });
  });
}

void BM_Uniform(benchmark::State& state) {
  RunFill(state, [](const Tensor& t) { uniform_(t, -1.0, 1.0); });
}

void BM_Normal(benchmark::State& state) {
  RunFill(state, [](const Tensor& t) { normal_(t, 0.0, 1.0); });
}

void BM_TruncNormal(benchmark::State& state) {
  RunFill(state, [](const Tensor& t) { trunc_normal_(t, 0.0, 1.0, -2.0, 2.0); });
}

// trunc_normal_ as vision transformers initialize their weights (std 0.02, bounds at
// ±2 absolute, that is ±100 standard deviations): about 4% of the elements fall outside
// ErfInv's central case, where BM_TruncNormal's ±2 standard deviations keep all of them.
void BM_TruncNormalStd002(benchmark::State& state) {
  RunFill(state, [](const Tensor& t) { trunc_normal_(t, 0.0, 0.02, -2.0, 2.0); });
}

// The same fills with the kernels capped at AVX2 (on a CPU with AVX-512 the fills above
// use it).
void BM_UniformAvx2(benchmark::State& state) {
  ScopedRandomKernelPath path(RandomKernelPath::kAvx2);
  BM_Uniform(state);
}

void BM_NormalAvx2(benchmark::State& state) {
  ScopedRandomKernelPath path(RandomKernelPath::kAvx2);
  BM_Normal(state);
}

void BM_TruncNormalAvx2(benchmark::State& state) {
  ScopedRandomKernelPath path(RandomKernelPath::kAvx2);
  BM_TruncNormal(state);
}

BENCHMARK(BM_Memset)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Uniform)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Normal)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TruncNormal)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TruncNormalStd002)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UniformAvx2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NormalAvx2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TruncNormalAvx2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace deferred

BENCHMARK_MAIN();
