#include "fake_tensor/device.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace deferred {

absl::StatusOr<Device> Device::Parse(std::string_view text) {
  if (text == "cpu") return CPU();
  if (text == "meta") return Meta();
  if (text == "cuda") return CUDA(0);
  int index = 0;
  if (text.starts_with("cuda:") &&
      absl::SimpleAtoi(absl::string_view(text.data() + 5, text.size() - 5), &index) &&
      index >= 0) {
    return CUDA(index);
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown device '%s'; expected cpu, cuda, cuda:N or meta", text));
}

absl::Status Device::Validate() const {
  if (index_ < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device ", ToString(), " is invalid: a device index must be non-negative"));
  }
  return absl::OkStatus();
}

std::string Device::ToString() const {
  switch (type_) {
    case DeviceType::kCPU: return "cpu";
    case DeviceType::kCUDA: return absl::StrCat("cuda:", index_);
    case DeviceType::kMeta: return "meta";
  }
  return "unknown";
}

}  // namespace deferred
