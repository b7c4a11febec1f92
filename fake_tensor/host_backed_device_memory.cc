#include "fake_tensor/host_backed_device_memory.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace deferred {

HostBackedDeviceMemory::~HostBackedDeviceMemory() {
  for (const auto& [data, block] : blocks_) delete[] data;
}

absl::Status HostBackedDeviceMemory::CheckDevice(int index) {
  if (index >= 0 && index < devices_) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "cuda:", index, " is not available: the host-backed stand-in has ", devices_, " device(s)"));
}

absl::StatusOr<void*> HostBackedDeviceMemory::StreamOf(int index) {
  if (absl::Status status = CheckDevice(index); !status.ok()) return status;
  return nullptr;
}

absl::StatusOr<std::byte*> HostBackedDeviceMemory::Allocate(int index, int64_t nbytes) {
  if (absl::Status status = CheckDevice(index); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  if (nbytes <= 0 || live_bytes_ + nbytes > capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory on the host-backed cuda:", index, " (", live_bytes_, " of ",
                     capacity_, " bytes live, ", nbytes, " asked)"));
  }
  auto* data = new std::byte[static_cast<size_t>(nbytes)];
  blocks_[data] = Block{index, nbytes};
  live_bytes_ += nbytes;
  return data;
}

void HostBackedDeviceMemory::Free(int index, std::byte* data) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = blocks_.find(data);
  if (it == blocks_.end() || it->second.index != index) {
    std::fprintf(stderr, "HostBackedDeviceMemory: freeing %p on device %d, not allocated there\n",
                 static_cast<void*>(data), index);
    std::abort();
  }
  live_bytes_ -= it->second.nbytes;
  blocks_.erase(it);
  delete[] data;
}

absl::Status HostBackedDeviceMemory::CheckOwned(int index, const std::byte* data,
                                                int64_t nbytes) const {
  auto it = blocks_.upper_bound(data);
  if (it != blocks_.begin()) {
    --it;
    if (it->second.index == index && data + nbytes <= it->first + it->second.nbytes) {
      return absl::OkStatus();
    }
  }
  return absl::InternalError(absl::StrFormat(
      "%d bytes at %p are not memory of the host-backed cuda:%d", nbytes, data, index));
}

absl::Status HostBackedDeviceMemory::CopyToHost(int index, const std::byte* device_source,
                                                std::byte* host_destination, int64_t nbytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (absl::Status owned = CheckOwned(index, device_source, nbytes); !owned.ok()) return owned;
  std::memcpy(host_destination, device_source, static_cast<size_t>(nbytes));
  ++copies_to_host_;
  return absl::OkStatus();
}

absl::Status HostBackedDeviceMemory::CopyFromHost(int index, const std::byte* host_source,
                                                  std::byte* device_destination, int64_t nbytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (absl::Status owned = CheckOwned(index, device_destination, nbytes); !owned.ok()) {
    return owned;
  }
  std::memcpy(device_destination, host_source, static_cast<size_t>(nbytes));
  ++copies_from_host_;
  return absl::OkStatus();
}

void HostBackedDeviceMemory::set_capacity(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_ = bytes;
}

int64_t HostBackedDeviceMemory::live_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_bytes_;
}

int64_t HostBackedDeviceMemory::copies_to_host() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return copies_to_host_;
}

int64_t HostBackedDeviceMemory::copies_from_host() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return copies_from_host_;
}

}  // namespace deferred
