#include "fake_tensor/storage.h"

#include <algorithm>
#include <array>
#include <atomic>

#include "fake_tensor/device_memory.h"
#include "fake_tensor/error.h"
#include "fake_tensor/host_memory.h"

namespace deferred {
namespace {

std::atomic<int64_t> next_storage_id{1};
// The allocation counters of one device.
struct Counters {
  std::atomic<int64_t> live_bytes{0};
  std::atomic<int64_t> peak_bytes{0};
  std::atomic<int64_t> total_bytes{0};
  std::atomic<int64_t> allocation_count{0};
  std::atomic<int64_t> free_count{0};

  // Counts `nbytes` live before they are allocated, so that concurrent allocations cannot
  // pass a limit; returns the new live bytes. Undone by Uncount when the allocation fails.
  int64_t CountLive(int64_t nbytes) { return live_bytes.fetch_add(nbytes) + nbytes; }
  void Uncount(int64_t nbytes) { live_bytes.fetch_sub(nbytes); }
  // Completes the count of an allocation that CountLive counted, `live` its result.
  void CountAllocated(int64_t nbytes, int64_t live) {
    total_bytes.fetch_add(nbytes);
    allocation_count.fetch_add(1);
    int64_t peak = peak_bytes.load();
    while (live > peak && !peak_bytes.compare_exchange_weak(peak, live)) {
    }
  }
  void CountFreed(int64_t nbytes) {
    live_bytes.fetch_sub(nbytes);
    free_count.fetch_add(1);
  }
  AllocationStats Get() const {
    return AllocationStats{live_bytes.load(), peak_bytes.load(), total_bytes.load(),
                           allocation_count.load(), free_count.load()};
  }
};

Counters host_counters;
// Per CUDA device index; a device past the last has no counters and is refused.
constexpr int kMaxCudaDevices = 64;
std::array<Counters, kMaxCudaDevices> cuda_counters;

std::atomic<int64_t> allocation_limit{0};

// No host has 2^62 bytes; refusing more keeps the counters below from overflowing.
constexpr int64_t kMaxHostAllocation = int64_t{1} << 62;

[[noreturn]] void ThrowOutOfHostMemory(int64_t nbytes) {
  ThrowErrorWithCode(absl::StatusCode::kResourceExhausted,
                     "out of host memory allocating %d bytes of tensor data", nbytes);
}

std::byte* AllocateHostBytes(int64_t nbytes) {
  if (nbytes > kMaxHostAllocation) ThrowOutOfHostMemory(nbytes);
  const int64_t live = host_counters.CountLive(nbytes);
  const int64_t limit = allocation_limit.load();
  if (limit > 0 && live > limit) {
    host_counters.Uncount(nbytes);
    ThrowErrorWithCode(absl::StatusCode::kResourceExhausted,
                       "allocating %d bytes of tensor data would pass the allocation limit of "
                       "%d bytes (%d bytes live)",
                       nbytes, limit, live - nbytes);
  }
  std::byte* data = AllocateHostBlock(static_cast<size_t>(nbytes));
  if (data == nullptr) {
    host_counters.Uncount(nbytes);
    ThrowOutOfHostMemory(nbytes);
  }
  host_counters.CountAllocated(nbytes, live);
  return data;
}

// The counters of `device` (CPU or CUDA), or null for a CUDA index past kMaxCudaDevices.
Counters* CountersOf(Device device) {
  if (device.is_cpu()) return &host_counters;
  if (device.is_cuda() && device.index() >= 0 && device.index() < kMaxCudaDevices) {
    return &cuda_counters[device.index()];
  }
  return nullptr;
}

// `nbytes` on accelerator `device` through its registered DeviceMemory. Throws `Error`
// with the memory's status code (Unavailable, ResourceExhausted) when it fails.
std::byte* AllocateDeviceBytes(Device device, int64_t nbytes) {
  if (absl::Status usable = CheckDeviceUsable(device); !usable.ok()) {
    ThrowErrorWithCode(usable.code(), "cannot allocate %d bytes on %s: %s", nbytes,
                       device.ToString(), usable.message());
  }
  Counters* counters = CountersOf(device);
  if (counters == nullptr) {
    ThrowErrorWithCode(absl::StatusCode::kUnavailable,
                       "cannot allocate on %s: deferred counts at most %d CUDA devices",
                       device.ToString(), kMaxCudaDevices);
  }
  const int64_t live = counters->CountLive(nbytes);
  // A storage of no bytes still needs a pointer of its own (no data means fake).
  absl::StatusOr<std::byte*> data =
      DeviceMemoryOf(device.type())->Allocate(device.index(), std::max<int64_t>(nbytes, 1));
  if (!data.ok()) {
    counters->Uncount(nbytes);
    ThrowErrorWithCode(data.status().code(), "cannot allocate %d bytes on %s: %s", nbytes,
                       device.ToString(), data.status().message());
  }
  counters->CountAllocated(nbytes, live);
  return *data;
}

}  // namespace

AllocationStats GetAllocationStats() { return host_counters.Get(); }

AllocationStats GetAllocationStats(Device device) {
  const Counters* counters = CountersOf(device);
  return counters == nullptr ? AllocationStats{} : counters->Get();
}

void ResetPeakBytes() { host_counters.peak_bytes.store(host_counters.live_bytes.load()); }

int64_t SetAllocationLimit(int64_t bytes) { return allocation_limit.exchange(bytes); }

StorageImpl::StorageImpl(int64_t nbytes, Device device, bool allocate)
    : id_(next_storage_id.fetch_add(1)), nbytes_(nbytes), device_(device) {
  if (nbytes < 0) ThrowError("a storage cannot have %d bytes", nbytes);
  if (allocate) AllocateData(device);
}

StorageImpl::~StorageImpl() {
  std::byte* data = data_.load();
  if (data == nullptr) return;
  const Device device = device_.load();
  if (device.is_cpu()) {
    FreeHostBlock(data, static_cast<size_t>(nbytes_));
  } else {
    DeviceMemoryOf(device.type())->Free(device.index(), data);
  }
  CountersOf(device)->CountFreed(nbytes_);
}

void StorageImpl::AllocateData(Device device) {
  if (device.is_meta()) {
    ThrowError("cannot allocate data for a tensor on the meta device");
  }
  data_.store(device.is_cpu() ? AllocateHostBytes(nbytes_)
                              : AllocateDeviceBytes(device, nbytes_));
}

bool StorageImpl::TakeDataFrom(StorageImpl& source) {
  if (source.nbytes_ != nbytes_) {
    ThrowError("TakeDataFrom: size mismatch (%d bytes into %d)", source.nbytes_, nbytes_);
  }
  std::lock_guard<std::mutex> lock(take_data_mutex_);
  if (has_data()) return false;
  device_.store(source.device(), std::memory_order_release);
  data_.store(source.data_.exchange(nullptr), std::memory_order_release);
  return true;
}

const std::shared_ptr<OpRecorder>& StorageImpl::recorder() const {
  static const std::shared_ptr<OpRecorder>* const none = new std::shared_ptr<OpRecorder>;
  return has_data() ? *none : recorder_;
}

Storage AllocateStorage(int64_t nbytes, Device device) {
  return std::make_shared<StorageImpl>(nbytes, device, /*allocate=*/true);
}

Storage FakeStorage(int64_t nbytes, Device device) {
  return std::make_shared<StorageImpl>(nbytes, device, /*allocate=*/false);
}

}  // namespace deferred
