#ifndef DEFERRED_CUDA_KERNELS_KERNELS_H_
#define DEFERRED_CUDA_KERNELS_KERNELS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cuda_kernels/elementwise.h"
#include "cuda_kernels/kernel_args.h"

namespace deferred::cuda {

// How the CUDA kernels run the work they read from a call: on the GPU (gpu_kernels.cc,
// linked where the CUDA toolkit is) or on the host under the grid emulator
// (emulated_device.h, for tests). Each takes the args and the kernel's context (the device
// that holds their tensors and its stream), and throws `Error` when the work cannot be
// started.
struct KernelLaunchers {
  std::function<void(const RandomFillArgs&, const KernelContext&)> random_fill;
  std::function<void(const ConstantFillArgs&, const KernelContext&)> constant_fill;
  std::function<void(const StridedCopyArgs&, const KernelContext&)> strided_copy;
  std::function<void(const ElementwiseArgs&, const KernelContext&)> elementwise;
  std::function<void(const IndexedFillArgs&, const KernelContext&)> indexed_fill;
  std::function<void(const TriangleArgs&, const KernelContext&)> triangle;
  std::function<void(const ReductionArgs&, const KernelContext&)> reduction;
  std::function<void(const LineArgs&, const KernelContext&)> lines;
  std::function<void(const MatmulArgs&, const KernelContext&)> matmul;
};

// Registers the CUDA kernel of every op (tests/cuda_conformance_test checks that none is
// missing): each reads its call into args (kernel_args.h) and runs them through
// `launchers`. Registering again replaces them. Returns true. An op without a CUDA kernel,
// run on a CUDA device, would fail with Unimplemented, never silently on the host.
bool RegisterCudaKernels(KernelLaunchers launchers);

// The one reviewed list of ops whose CUDA kernel runs the CPU kernel on host copies of the
// inputs and copies the result up: from_bytes (a trace's constants, whose bytes are on the
// host already) and qr_q (orthogonal_'s QR, whole-tensor by nature and rare in init).
// They are registered with OpRegistry::RegisterHostFallbackKernel, so that a replay session
// reports those it ran (ReplaySession::host_fallbacks).
const std::vector<std::string>& HostFallbackOps();

// How many times a host fallback ran in this process, whatever ran it (for tests).
int64_t HostFallbackCount();

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_KERNELS_H_
