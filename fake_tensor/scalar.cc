#include "fake_tensor/scalar.h"

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

}  // namespace deferred
