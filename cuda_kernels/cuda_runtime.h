#ifndef DEFERRED_CUDA_KERNELS_CUDA_RUNTIME_H_
#define DEFERRED_CUDA_KERNELS_CUDA_RUNTIME_H_

#include <driver_types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deferred::cuda {

// The CUDA devices this process can use: 0 where there is no GPU or no driver (never an
// error, so that a machine without a GPU runs everything else).
int DeviceCount();

// OK when cuda:`index` exists; Unavailable otherwise: "no CUDA device" with the driver's
// reason, or the count of devices there are.
absl::Status CheckDevice(int index);

// The stream on which deferred orders all its work for device `index` (allocations,
// kernels, copies, frees), created on first use; the device is made current on the
// calling thread. Fails like CheckDevice.
absl::StatusOr<cudaStream_t> StreamFor(int index);

// The status of a CUDA runtime call: OK for cudaSuccess, else ResourceExhausted for
// cudaErrorMemoryAllocation and Internal otherwise, with `what` and CUDA's own message.
absl::Status StatusOf(cudaError_t error, const char* what);

// Registers CUDA's DeviceMemory (fake_tensor/device_memory.h): allocations stream-ordered
// (cudaMallocAsync, from the device's default memory pool, which caches freed blocks) on
// StreamFor(index), copies on the same stream. Done once when this library is linked.
bool RegisterCudaMemory();

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_CUDA_RUNTIME_H_
