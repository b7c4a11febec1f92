// Random fills of 1 GiB of float32 on cuda:0 (uniform_, normal_, trunc_normal_) beside a
// cudaMemsetAsync of the same bytes, in one run: bytes per second for each, so that
// tools/gpu_check.sh can report each fill as a ratio of the memset's bandwidth (targets:
// uniform_ >= 0.85, normal_ >= 0.70). Every benchmark reports an error where there is no
// CUDA device.
#include <cstdint>
#include <functional>

#include <cuda_runtime_api.h>

#include "benchmark/benchmark.h"
#include "cuda_kernels/cuda_runtime.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"

namespace deferred {
namespace {

constexpr int64_t kBytes = int64_t{1} << 30;
constexpr int64_t kElements = kBytes / 4;

// Times `enqueue` (work on cuda:0's stream) per iteration, waiting for the stream inside
// the timed region, so that each iteration counts the whole fill.
void RunOnGpu(benchmark::State& state, const std::function<void(const Tensor&)>& enqueue) {
  absl::StatusOr<cudaStream_t> stream = cuda::StreamFor(0);
  if (!stream.ok()) {
    state.SkipWithError(std::string(stream.status().message()).c_str());
    return;
  }
  const Tensor t = empty({kElements}, {.device = Device::CUDA(0)});
  enqueue(t);  // warm-up: first launch, pool growth
  cudaStreamSynchronize(*stream);
  for (auto _ : state) {
    enqueue(t);
    cudaStreamSynchronize(*stream);
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}

void BM_CudaMemset(benchmark::State& state) {
  RunOnGpu(state, [](const Tensor& t) {
    cudaMemsetAsync(t.storage()->data(), 0, kBytes, *cuda::StreamFor(0));
  });
}

void BM_Uniform(benchmark::State& state) {
  RunOnGpu(state, [](const Tensor& t) { uniform_(t, -1.0, 1.0); });
}

void BM_Normal(benchmark::State& state) {
  RunOnGpu(state, [](const Tensor& t) { normal_(t, 0.0, 0.02); });
}

void BM_TruncNormal(benchmark::State& state) {
  RunOnGpu(state, [](const Tensor& t) { trunc_normal_(t, 0.0, 0.02, -0.04, 0.04); });
}

BENCHMARK(BM_CudaMemset)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Uniform)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Normal)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TruncNormal)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace deferred
