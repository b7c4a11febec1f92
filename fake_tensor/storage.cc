#include "fake_tensor/storage.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "fake_tensor/error.h"

namespace deferred {
namespace {

// Cache-line alignment lets vectorized kernels use aligned loads on contiguous tensors.
constexpr size_t kAlignment = 64;

std::atomic<int64_t> next_storage_id{1};
std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> peak_bytes{0};
std::atomic<int64_t> total_bytes{0};
std::atomic<int64_t> allocation_count{0};
std::atomic<int64_t> free_count{0};

void RecordAllocation(int64_t nbytes) {
  const int64_t live = live_bytes.fetch_add(nbytes) + nbytes;
  total_bytes.fetch_add(nbytes);
  allocation_count.fetch_add(1);
  int64_t peak = peak_bytes.load();
  while (live > peak && !peak_bytes.compare_exchange_weak(peak, live)) {
  }
}

std::byte* AllocateHostBytes(int64_t nbytes) {
  const size_t rounded = (static_cast<size_t>(nbytes) + kAlignment - 1) / kAlignment * kAlignment;
  void* data = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data == nullptr) {
    ThrowErrorWithCode(absl::StatusCode::kResourceExhausted,
                       "out of host memory allocating %d bytes of tensor data", nbytes);
  }
  RecordAllocation(nbytes);
  return static_cast<std::byte*>(data);
}

}  // namespace

AllocationStats GetAllocationStats() {
  return AllocationStats{live_bytes.load(), peak_bytes.load(), total_bytes.load(),
                         allocation_count.load(), free_count.load()};
}

void ResetPeakBytes() { peak_bytes.store(live_bytes.load()); }

StorageImpl::StorageImpl(int64_t nbytes, Device device, bool allocate)
    : id_(next_storage_id.fetch_add(1)), nbytes_(nbytes), device_(device) {
  if (allocate) AllocateData(device);
}

StorageImpl::~StorageImpl() {
  if (data_ != nullptr) {
    std::free(data_);
    live_bytes.fetch_sub(nbytes_);
    free_count.fetch_add(1);
  }
}

void StorageImpl::AllocateData(Device device) {
  if (data_ != nullptr) ThrowError("AllocateData: the storage already has data");
  if (device.is_meta()) {
    ThrowError("cannot allocate data for a tensor on the meta device");
  }
  if (device.is_cuda()) {
    ThrowErrorWithCode(absl::StatusCode::kUnavailable,
                       "cannot allocate %d bytes on %s: this build has no CUDA allocator",
                       nbytes_, device.ToString());
  }
  data_ = AllocateHostBytes(nbytes_);
  device_ = device;
}

void StorageImpl::TakeDataFrom(StorageImpl& source) {
  if (data_ != nullptr) ThrowError("TakeDataFrom: the storage already has data");
  if (source.nbytes_ != nbytes_) {
    ThrowError("TakeDataFrom: size mismatch (%d bytes into %d)", source.nbytes_, nbytes_);
  }
  data_ = source.data_;
  device_ = source.device_;
  source.data_ = nullptr;
  recorder_.reset();
}

Storage AllocateStorage(int64_t nbytes, Device device) {
  return std::make_shared<StorageImpl>(nbytes, device, /*allocate=*/true);
}

Storage FakeStorage(int64_t nbytes, Device device) {
  return std::make_shared<StorageImpl>(nbytes, device, /*allocate=*/false);
}

}  // namespace deferred
