#include "fake_tensor/scalar.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"

namespace deferred {

std::string Scalar::ToString() const {
  if (is_bool()) return std::get<bool>(value_) ? "true" : "false";
  if (is_integral()) return absl::StrCat(std::get<int64_t>(value_));
  return absl::StrCat(std::get<double>(value_));
}

DType PromoteWithScalar(DType tensor_dtype, const Scalar& scalar) {
  if (scalar.is_floating_point() && !IsFloatingPoint(tensor_dtype)) return kDefaultFloatDType;
  if (scalar.is_integral() && tensor_dtype == DType::kBool) return DType::kInt64;
  return tensor_dtype;
}

bool FitsInDType(const Scalar& value, DType dtype) {
  if (dtype == DType::kBool || value.is_bool()) return true;
  // The largest finite value of each floating dtype, and the integral ranges, as doubles.
  double lowest = 0, highest = 0;
  switch (dtype) {
    case DType::kFloat64: return true;
    case DType::kFloat32: highest = std::numeric_limits<float>::max(); break;
    case DType::kFloat16: highest = 65504.0; break;
    case DType::kBFloat16: highest = 0x1.fep127; break;
    case DType::kInt64:
      if (value.is_integral()) return true;
      lowest = -0x1p63;
      break;
    case DType::kInt32:
      if (value.is_integral()) {
        const int64_t v = value.to<int64_t>();
        return v >= std::numeric_limits<int32_t>::min() &&
               v <= std::numeric_limits<int32_t>::max();
      }
      lowest = -0x1p31;
      break;
    case DType::kUInt8:
      if (value.is_integral()) {
        const int64_t v = value.to<int64_t>();
        return v >= -255 && v <= 255;
      }
      lowest = 0;
      highest = 255;
      break;
    case DType::kBool: return true;
  }
  const double v = value.to<double>();
  if (IsFloatingPoint(dtype)) return !std::isfinite(v) || std::fabs(v) <= highest;
  if (dtype == DType::kUInt8) return v >= lowest && v <= highest;
  // int32 and int64: the range is [lowest, -lowest), and NaN compares false.
  return v >= lowest && v < -lowest;
}

}  // namespace deferred
