#ifndef DEFERRED_FAKE_TENSOR_HOST_BACKED_DEVICE_MEMORY_H_
#define DEFERRED_FAKE_TENSOR_HOST_BACKED_DEVICE_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

#include "fake_tensor/device_memory.h"

namespace deferred {

// For tests: a DeviceMemory whose devices' memory is host memory, so that what uses
// device memory (storage, copies, replay on a device, the CUDA kernels under the grid
// emulator) runs without a GPU. It refuses what a GPU would: a device it does not have,
// more than `capacity` live bytes, a copy to or from memory it did not hand out (Internal);
// freeing such memory aborts. Thread-safe.
class HostBackedDeviceMemory : public DeviceMemory {
 public:
  explicit HostBackedDeviceMemory(int devices) : devices_(devices) {}
  ~HostBackedDeviceMemory() override;

  absl::Status CheckDevice(int index) override;
  absl::StatusOr<std::byte*> Allocate(int index, int64_t nbytes) override;
  void Free(int index, std::byte* data) override;
  absl::Status CopyToHost(int index, const std::byte* device_source, std::byte* host_destination,
                          int64_t nbytes) override;
  absl::Status CopyFromHost(int index, const std::byte* host_source, std::byte* device_destination,
                            int64_t nbytes) override;
  // Null: every call completes before it returns.
  absl::StatusOr<void*> StreamOf(int index) override;

  void set_capacity(int64_t bytes);
  int64_t live_bytes() const;
  int64_t copies_to_host() const;
  int64_t copies_from_host() const;

 private:
  struct Block {
    int index;
    int64_t nbytes;
  };

  // OK when [data, data + nbytes) lies within one block of device `index`. Requires mutex_.
  absl::Status CheckOwned(int index, const std::byte* data, int64_t nbytes) const;

  const int devices_;
  mutable std::mutex mutex_;
  std::map<const std::byte*, Block> blocks_;  // guarded by mutex_
  int64_t capacity_ = int64_t{1} << 40;       // guarded by mutex_
  int64_t live_bytes_ = 0;                    // guarded by mutex_
  int64_t copies_to_host_ = 0;                // guarded by mutex_
  int64_t copies_from_host_ = 0;              // guarded by mutex_
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_HOST_BACKED_DEVICE_MEMORY_H_
