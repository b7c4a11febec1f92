#include "fake_tensor/device_memory.h"

#include <array>
#include <atomic>

#include "absl/strings/str_cat.h"

namespace deferred {
namespace {

std::array<std::atomic<DeviceMemory*>, 3> registered{};

}  // namespace

bool RegisterDeviceMemory(DeviceType type, DeviceMemory* memory) {
  registered[static_cast<int>(type)].store(memory);
  return true;
}

DeviceMemory* DeviceMemoryOf(DeviceType type) { return registered[static_cast<int>(type)].load(); }

absl::Status CheckDeviceUsable(Device device) {
  if (absl::Status valid = device.Validate(); !valid.ok()) return valid;
  if (device.is_cpu()) return absl::OkStatus();
  if (device.is_meta()) {
    return absl::InvalidArgumentError("the meta device holds no data");
  }
  DeviceMemory* memory = DeviceMemoryOf(device.type());
  if (memory == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(device.ToString(),
                     " is not available: this build of deferred has no CUDA support "
                     "(no CUDA toolkit was found when it was built)"));
  }
  return memory->CheckDevice(device.index());
}

}  // namespace deferred
