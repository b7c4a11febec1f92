#ifndef DEFERRED_FAKE_TENSOR_DEVICE_H_
#define DEFERRED_FAKE_TENSOR_DEVICE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace deferred {

enum class DeviceType : uint8_t {
  kCPU = 0,
  kCUDA = 1,
  // PyTorch's "meta": tensors that are only shapes, never data.
  kMeta = 2,
};

// Where a tensor's data lives (or, for a fake tensor, is meant to live).
// 8-byte aligned, so that std::atomic<Device> (a storage's device) is lock-free everywhere.
class alignas(8) Device {
 public:
  static Device CPU() { return Device(DeviceType::kCPU, 0); }
  static Device CUDA(int index = 0) { return Device(DeviceType::kCUDA, index); }
  static Device Meta() { return Device(DeviceType::kMeta, 0); }

  // Parses "cpu", "cuda", "cuda:N" or "meta".
  static absl::StatusOr<Device> Parse(std::string_view text);

  DeviceType type() const { return type_; }
  int index() const { return index_; }
  bool is_cpu() const { return type_ == DeviceType::kCPU; }
  bool is_cuda() const { return type_ == DeviceType::kCUDA; }
  bool is_meta() const { return type_ == DeviceType::kMeta; }

  // "cpu", "cuda:1", "meta".
  std::string ToString() const;

  // OK, or InvalidArgument for a device no machine can have: a CUDA device with a
  // negative index (Device::CUDA(-1)). Whether a valid device exists here is another
  // question (Unavailable), answered where memory is allocated.
  absl::Status Validate() const;

  friend bool operator==(const Device& a, const Device& b) {
    return a.type_ == b.type_ && a.index_ == b.index_;
  }
  friend bool operator!=(const Device& a, const Device& b) { return !(a == b); }

 private:
  Device(DeviceType type, int index) : type_(type), index_(index) {}

  DeviceType type_;
  int index_;
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_DEVICE_H_
