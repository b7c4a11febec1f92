// Registers the CUDA kernels to run on the GPU: each launcher enqueues its work on the
// device's stream (cuda_runtime.h) through gpu_launch.cu.
#include "absl/status/status.h"
#include "cuda_kernels/cuda_runtime.h"
#include "cuda_kernels/gpu_launch.h"
#include "cuda_kernels/kernels.h"
#include "fake_tensor/error.h"

namespace deferred::cuda {
namespace {

void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw Error(std::string(status.message()), status.code());
}

// The kernel's stream: the device's, from its memory (DeviceMemory::StreamOf).
cudaStream_t StreamOf(const KernelContext& context) {
  return static_cast<cudaStream_t>(context.stream);
}

const bool registered = RegisterCudaKernels(KernelLaunchers{
    .random_fill =
        [](const RandomFillArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchRandomFill(args, StreamOf(context)), "random fill"));
        },
    .constant_fill =
        [](const ConstantFillArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchConstantFill(args, StreamOf(context)), "constant fill"));
        },
    .strided_copy =
        [](const StridedCopyArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchStridedCopy(args, StreamOf(context)), "strided copy"));
        },
    .elementwise =
        [](const ElementwiseArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchElementwise(args, StreamOf(context)), "elementwise"));
        },
    .indexed_fill =
        [](const IndexedFillArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchIndexedFill(args, StreamOf(context)), "indexed fill"));
        },
    .triangle =
        [](const TriangleArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchTriangle(args, StreamOf(context)), "tril/triu"));
        },
    .reduction =
        [](const ReductionArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchReduction(args, StreamOf(context)), "reduction"));
        },
    .lines =
        [](const LineArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchLines(args, StreamOf(context)), "cumsum/argsort"));
        },
    .matmul =
        [](const MatmulArgs& args, const KernelContext& context) {
          ThrowIfError(StatusOf(LaunchMatmul(args, StreamOf(context)), "matmul"));
        },
});

}  // namespace
}  // namespace deferred::cuda
