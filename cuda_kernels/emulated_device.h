#ifndef DEFERRED_CUDA_KERNELS_EMULATED_DEVICE_H_
#define DEFERRED_CUDA_KERNELS_EMULATED_DEVICE_H_

#include "fake_tensor/host_backed_device_memory.h"

namespace deferred::cuda {

// For tests: makes cuda:0 and cuda:1 host-backed devices (HostBackedDeviceMemory) whose
// CUDA kernels run on the host under the grid emulator, with the kernel registration
// (kernels.h), the args (kernel_args.h) and the per-thread bodies a GPU runs; only the
// launch differs. So replay on a CUDA device is proven end to end without a GPU. Replaces
// the GPU's memory and kernels for the rest of the process; returns the memory, for its
// counters. Idempotent.
HostBackedDeviceMemory& InstallEmulatedCudaDevice();

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_EMULATED_DEVICE_H_
