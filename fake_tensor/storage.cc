#include "fake_tensor/storage.h"

#include <atomic>

#include "fake_tensor/error.h"
#include "fake_tensor/host_memory.h"

namespace deferred {
namespace {

std::atomic<int64_t> next_storage_id{1};
std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> peak_bytes{0};
std::atomic<int64_t> total_bytes{0};
std::atomic<int64_t> allocation_count{0};
std::atomic<int64_t> free_count{0};

std::atomic<int64_t> allocation_limit{0};

// No host has 2^62 bytes; refusing more keeps the counters below from overflowing.
constexpr int64_t kMaxHostAllocation = int64_t{1} << 62;

[[noreturn]] void ThrowOutOfHostMemory(int64_t nbytes) {
  ThrowErrorWithCode(absl::StatusCode::kResourceExhausted,
                     "out of host memory allocating %d bytes of tensor data", nbytes);
}

std::byte* AllocateHostBytes(int64_t nbytes) {
  if (nbytes > kMaxHostAllocation) ThrowOutOfHostMemory(nbytes);
  // Counted before allocating, so that concurrent allocations cannot pass the limit.
  const int64_t live = live_bytes.fetch_add(nbytes) + nbytes;
  const int64_t limit = allocation_limit.load();
  if (limit > 0 && live > limit) {
    live_bytes.fetch_sub(nbytes);
    ThrowErrorWithCode(absl::StatusCode::kResourceExhausted,
                       "allocating %d bytes of tensor data would pass the allocation limit of "
                       "%d bytes (%d bytes live)",
                       nbytes, limit, live - nbytes);
  }
  std::byte* data = AllocateHostBlock(static_cast<size_t>(nbytes));
  if (data == nullptr) {
    live_bytes.fetch_sub(nbytes);
    ThrowOutOfHostMemory(nbytes);
  }
  total_bytes.fetch_add(nbytes);
  allocation_count.fetch_add(1);
  int64_t peak = peak_bytes.load();
  while (live > peak && !peak_bytes.compare_exchange_weak(peak, live)) {
  }
  return data;
}

}  // namespace

AllocationStats GetAllocationStats() {
  return AllocationStats{live_bytes.load(), peak_bytes.load(), total_bytes.load(),
                         allocation_count.load(), free_count.load()};
}

void ResetPeakBytes() { peak_bytes.store(live_bytes.load()); }

int64_t SetAllocationLimit(int64_t bytes) { return allocation_limit.exchange(bytes); }

StorageImpl::StorageImpl(int64_t nbytes, Device device, bool allocate)
    : id_(next_storage_id.fetch_add(1)), nbytes_(nbytes), device_(device) {
  if (nbytes < 0) ThrowError("a storage cannot have %d bytes", nbytes);
  if (allocate) AllocateData(device);
}

StorageImpl::~StorageImpl() {
  if (std::byte* data = data_.load(); data != nullptr) {
    FreeHostBlock(data, static_cast<size_t>(nbytes_));
    live_bytes.fetch_sub(nbytes_);
    free_count.fetch_add(1);
  }
}

void StorageImpl::AllocateData(Device device) {
  if (device.is_meta()) {
    ThrowError("cannot allocate data for a tensor on the meta device");
  }
  if (device.is_cuda()) {
    ThrowErrorWithCode(absl::StatusCode::kUnavailable,
                       "cannot allocate %d bytes on %s: this build has no CUDA allocator",
                       nbytes_, device.ToString());
  }
  data_.store(AllocateHostBytes(nbytes_));
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
