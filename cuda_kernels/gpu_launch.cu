#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_kernels/constant_fill.h"
#include "cuda_kernels/elementwise.h"
#include "cuda_kernels/gpu_launch.h"
#include "cuda_kernels/indexed_fill.h"
#include "cuda_kernels/launch_config.h"
#include "cuda_kernels/matmul.h"
#include "cuda_kernels/random_fill.h"
#include "cuda_kernels/reduction.h"
#include "cuda_kernels/strided_copy.h"
#include "cuda_kernels/triangle.h"

namespace deferred::cuda {
namespace {

// The one __global__ function: each thread runs the work's per-thread body (RunThread,
// found by overload on the work's type) from its index in the grid. The work is passed by
// value: it lands in the kernel's parameter space, which every thread reads from the
// constant cache.
template <typename Work>
__global__ void __launch_bounds__(kThreadsPerBlock) RunGrid(const Work work) {
  RunThread(work, static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x,
            static_cast<int64_t>(gridDim.x) * blockDim.x);
}

// Launches `work` over LaunchConfigFor(WorkItemsOf(work)) on `stream`.
template <typename Work>
cudaError_t Launch(const Work& work, cudaStream_t stream) {
  const LaunchConfig config = LaunchConfigFor(WorkItemsOf(work));
  if (config.blocks == 0) return cudaSuccess;
  RunGrid<<<static_cast<unsigned>(config.blocks), config.threads_per_block, 0, stream>>>(work);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchRandomFill(const RandomFillArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  const bool ran = RunRandomFill(args, [&](const auto& fill) { error = Launch(fill, stream); });
  return ran ? error : cudaErrorInvalidValue;
}

cudaError_t LaunchConstantFill(const ConstantFillArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunConstantFill(args, [&](const auto& fill) { error = Launch(fill, stream); });
  return error;
}

cudaError_t LaunchStridedCopy(const StridedCopyArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunStridedCopy(args, [&](const auto& copy) { error = Launch(copy, stream); });
  return error;
}

cudaError_t LaunchElementwise(const ElementwiseArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunElementwise(args, [&](const auto& map) { error = Launch(map, stream); });
  return error;
}

cudaError_t LaunchIndexedFill(const IndexedFillArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunIndexedFill(args, [&](const auto& fill) { error = Launch(fill, stream); });
  return error;
}

cudaError_t LaunchTriangle(const TriangleArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunTriangle(args, [&](const auto& triangle) { error = Launch(triangle, stream); });
  return error;
}

cudaError_t LaunchReduction(const ReductionArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunReduction(args, [&](const auto& reduction) { error = Launch(reduction, stream); });
  return error;
}

cudaError_t LaunchLines(const LineArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunLines(args, [&](const auto& lines) { error = Launch(lines, stream); });
  return error;
}

cudaError_t LaunchMatmul(const MatmulArgs& args, cudaStream_t stream) {
  cudaError_t error = cudaSuccess;
  RunMatmul(args, [&](const auto& matmul) { error = Launch(matmul, stream); });
  return error;
}

}  // namespace deferred::cuda
