#ifndef DEFERRED_FAKE_TENSOR_DEVICE_MEMORY_H_
#define DEFERRED_FAKE_TENSOR_DEVICE_MEMORY_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fake_tensor/device.h"

namespace deferred {

// The memory of an accelerator (CUDA), provided by the library that drives it
// (cuda_kernels/ registers CUDA's). Storage allocates tensor data through it, so that
// fake_tensor/ depends on no device runtime and a build without one still builds.
// Implementations are thread-safe and live as long as the process.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;

  // OK when device `index` can hold tensor data; Unavailable, saying why, otherwise.
  virtual absl::Status CheckDevice(int index) = 0;

  // `nbytes` (> 0) uninitialized bytes on device `index`, ordered after the work already
  // enqueued for it. Unavailable for a device that cannot be used, ResourceExhausted
  // when its memory is full.
  virtual absl::StatusOr<std::byte*> Allocate(int index, int64_t nbytes) = 0;
  // Returns `data` (from Allocate on `index`) once the work enqueued for it is done.
  virtual void Free(int index, std::byte* data) = 0;

  // Copies between host memory and device `index`, after the work enqueued for it; they
  // return once the bytes have arrived.
  virtual absl::Status CopyToHost(int index, const std::byte* device_source,
                                  std::byte* host_destination, int64_t nbytes) = 0;
  virtual absl::Status CopyFromHost(int index, const std::byte* host_source,
                                    std::byte* device_destination, int64_t nbytes) = 0;

  // The queue on which device `index`'s allocations, copies and kernels are ordered (the
  // runtime's stream handle, as KernelContext::stream carries it), or null where the device
  // orders work otherwise. Unavailable for a device that cannot be used.
  virtual absl::StatusOr<void*> StreamOf(int index) = 0;
};

// Makes `memory` the memory of every device of `type` (not kCPU or kMeta). Called once,
// during static initialization; returns true.
bool RegisterDeviceMemory(DeviceType type, DeviceMemory* memory);

// The memory registered for `type`, or null when this build has none.
DeviceMemory* DeviceMemoryOf(DeviceType type);

// OK when `device` can hold tensor data in this process: the CPU always, the meta device
// never (InvalidArgument), a CUDA device when this build drives CUDA and the device exists
// (Unavailable otherwise, saying which of the two is missing).
absl::Status CheckDeviceUsable(Device device);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_DEVICE_MEMORY_H_
