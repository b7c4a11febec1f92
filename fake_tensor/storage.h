#ifndef DEFERRED_FAKE_TENSOR_STORAGE_H_
#define DEFERRED_FAKE_TENSOR_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "fake_tensor/device.h"

namespace deferred {

class OpRecorder;

// Counters of the tensor-data allocator, process-wide. Every byte of tensor data goes
// through it, so tests can prove that recording allocates none and that replay's peak
// stays near what was requested.
struct AllocationStats {
  int64_t live_bytes = 0;       // allocated and not yet freed
  int64_t peak_bytes = 0;       // highest live_bytes since the last ResetPeakBytes()
  int64_t total_bytes = 0;      // sum of all allocations ever made
  int64_t allocation_count = 0; // number of allocations ever made
  int64_t free_count = 0;       // number of those freed since
};

AllocationStats GetAllocationStats();

// Sets peak_bytes to the current live_bytes.
void ResetPeakBytes();

// The bytes of one or more tensors. Real storage owns `nbytes` bytes on its device; fake
// storage (a fake tensor's, or a meta tensor's) has an id and a size and no bytes. Views
// of a tensor share its StorageImpl, so giving fake storage its bytes later (in-place
// materialization) is seen by every handle.
class StorageImpl {
 public:
  StorageImpl(int64_t nbytes, Device device, bool allocate);
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;

  // Unique for the life of the process; never reused.
  int64_t id() const { return id_; }
  int64_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool has_data() const { return data_ != nullptr; }

  // Null when the storage has no bytes.
  std::byte* data() const { return data_; }

  // Allocates this storage's bytes (uninitialized) on `device`, which becomes its device.
  // Throws `Error` if it already has bytes, or for a device it cannot allocate on.
  void AllocateData(Device device);

  // Moves `source`'s bytes (and device) into this storage, which must be fake and of the
  // same size, and detaches it from its recorder: every tensor on it becomes real at once.
  // `source` is left without bytes.
  void TakeDataFrom(StorageImpl& source);

  // The recorder of a fake storage (null for real and meta storage).
  const std::shared_ptr<OpRecorder>& recorder() const { return recorder_; }
  void set_recorder(std::shared_ptr<OpRecorder> recorder) { recorder_ = std::move(recorder); }

 private:
  int64_t id_;
  int64_t nbytes_;
  Device device_;
  std::byte* data_ = nullptr;
  std::shared_ptr<OpRecorder> recorder_;
};

using Storage = std::shared_ptr<StorageImpl>;

// Real storage with `nbytes` uninitialized bytes on `device`. Throws `Error` (Unavailable)
// for a device whose memory this build cannot allocate.
Storage AllocateStorage(int64_t nbytes, Device device);

// Storage with no bytes that reports `device`.
Storage FakeStorage(int64_t nbytes, Device device);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_STORAGE_H_
