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

cudaStream_t StreamOrThrow(int device) {
  absl::StatusOr<cudaStream_t> stream = StreamFor(device);
  ThrowIfError(stream.status());
  return *stream;
}

const bool registered = RegisterCudaKernels(KernelLaunchers{
    .random_fill =
        [](const RandomFillArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchRandomFill(args, StreamOrThrow(device)), "random fill"));
        },
    .constant_fill =
        [](const ConstantFillArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchConstantFill(args, StreamOrThrow(device)), "constant fill"));
        },
    .strided_copy =
        [](const StridedCopyArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchStridedCopy(args, StreamOrThrow(device)), "strided copy"));
        },
    .elementwise =
        [](const ElementwiseArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchElementwise(args, StreamOrThrow(device)), "elementwise"));
        },
    .indexed_fill =
        [](const IndexedFillArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchIndexedFill(args, StreamOrThrow(device)), "indexed fill"));
        },
    .triangle =
        [](const TriangleArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchTriangle(args, StreamOrThrow(device)), "tril/triu"));
        },
    .reduction =
        [](const ReductionArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchReduction(args, StreamOrThrow(device)), "reduction"));
        },
    .lines =
        [](const LineArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchLines(args, StreamOrThrow(device)), "cumsum/argsort"));
        },
    .matmul =
        [](const MatmulArgs& args, int device) {
          ThrowIfError(StatusOf(LaunchMatmul(args, StreamOrThrow(device)), "matmul"));
        },
});

}  // namespace
}  // namespace deferred::cuda
