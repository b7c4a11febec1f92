#ifndef DEFERRED_CUDA_KERNELS_GPU_LAUNCH_H_
#define DEFERRED_CUDA_KERNELS_GPU_LAUNCH_H_

#include <driver_types.h>

#include "cuda_kernels/constant_fill.h"
#include "cuda_kernels/elementwise.h"
#include "cuda_kernels/indexed_fill.h"
#include "cuda_kernels/matmul.h"
#include "cuda_kernels/random_fill.h"
#include "cuda_kernels/reduction.h"
#include "cuda_kernels/strided_copy.h"
#include "cuda_kernels/triangle.h"

namespace deferred::cuda {

// Each enqueues its work on `stream` (of the device that holds the output), one GPU thread
// per work item up to LaunchConfigFor's cap, and returns the launch's error: cudaSuccess
// when there is nothing to do (no launch), cudaErrorInvalidValue for a dtype the op does
// not take. They return before the work is done; later work on the stream sees it done.
cudaError_t LaunchRandomFill(const RandomFillArgs& args, cudaStream_t stream);
cudaError_t LaunchConstantFill(const ConstantFillArgs& args, cudaStream_t stream);
cudaError_t LaunchStridedCopy(const StridedCopyArgs& args, cudaStream_t stream);
cudaError_t LaunchElementwise(const ElementwiseArgs& args, cudaStream_t stream);
cudaError_t LaunchIndexedFill(const IndexedFillArgs& args, cudaStream_t stream);
cudaError_t LaunchTriangle(const TriangleArgs& args, cudaStream_t stream);
cudaError_t LaunchReduction(const ReductionArgs& args, cudaStream_t stream);
cudaError_t LaunchLines(const LineArgs& args, cudaStream_t stream);
cudaError_t LaunchMatmul(const MatmulArgs& args, cudaStream_t stream);

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_GPU_LAUNCH_H_
