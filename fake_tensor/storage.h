#ifndef DEFERRED_FAKE_TENSOR_STORAGE_H_
#define DEFERRED_FAKE_TENSOR_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
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

// The host's tensor data.
AllocationStats GetAllocationStats();
// The tensor data on `device`: the host's for the CPU, one GPU's for cuda:N (each device
// counts its own), none for the meta device.
AllocationStats GetAllocationStats(Device device);

// Sets the host's peak_bytes to its current live_bytes.
void ResetPeakBytes();

// Caps the host tensor bytes live at once: an allocation that would take live_bytes past
// `bytes` fails with ResourceExhausted, as when the machine has no more memory (a rank
// that must stay within a budget; tests that need large allocations to fail fast). 0,
// the default, sets no cap. Returns the previous cap.
int64_t SetAllocationLimit(int64_t bytes);

// The bytes of one or more tensors. Real storage owns `nbytes` bytes on its device; fake
// storage (a fake tensor's, or a meta tensor's) has an id and a size and no bytes. Views
// of a tensor share its StorageImpl, so giving fake storage its bytes later (in-place
// materialization) is seen by every handle. Giving a storage its bytes is the one change
// a storage sees after it is shared, and it may race with readers on other threads, so
// the bytes and the device are read and written atomically.
class StorageImpl {
 public:
  StorageImpl(int64_t nbytes, Device device, bool allocate);
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;

  // Unique for the life of the process; never reused.
  int64_t id() const { return id_; }
  int64_t nbytes() const { return nbytes_; }
  Device device() const { return device_.load(std::memory_order_acquire); }
  bool has_data() const { return data() != nullptr; }

  // Null when the storage has no bytes. On a CUDA device, a device address: only device
  // code may dereference it.
  std::byte* data() const { return data_.load(std::memory_order_acquire); }

  // Moves `source`'s bytes (and device) into this storage, which must be of the same size,
  // and returns true; every tensor on it becomes real at once. Returns false, leaving
  // `source` as it was, when this storage already has bytes. Several threads may call it
  // at once: exactly one of them gives the storage its bytes. Throws `Error` on a size
  // mismatch.
  bool TakeDataFrom(StorageImpl& source);

  // The recorder of a fake storage; null for real (also once materialized) and meta
  // storage.
  const std::shared_ptr<OpRecorder>& recorder() const;
  // Set once, by the recorder that creates the storage, before anyone else sees it.
  void set_recorder(std::shared_ptr<OpRecorder> recorder) { recorder_ = std::move(recorder); }

 private:
  // Allocates this storage's bytes (uninitialized) on `device`. Throws `Error` for a
  // device it cannot allocate on.
  void AllocateData(Device device);

  int64_t id_;
  int64_t nbytes_;
  std::atomic<Device> device_;
  std::atomic<std::byte*> data_{nullptr};
  std::mutex take_data_mutex_;  // makes TakeDataFrom's check-and-move one step
  // Kept after materialization (its recorder() is then null): other threads may be
  // reading it, and a trace is small.
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
