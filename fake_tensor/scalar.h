#ifndef DEFERRED_FAKE_TENSOR_SCALAR_H_
#define DEFERRED_FAKE_TENSOR_SCALAR_H_

#include <cstdint>
#include <string>
#include <variant>

#include "fake_tensor/dtype.h"

namespace deferred {

// A number passed to an op (`add(t, 2)`, `full(shape, 0.5)`). It remembers whether it was
// written as a bool, an integer or a floating value, because PyTorch's promotion of
// tensor-scalar ops depends on that category, not on the value.
class Scalar {
 public:
  Scalar() : value_(int64_t{0}) {}
  Scalar(bool v) : value_(v) {}
  Scalar(int v) : value_(int64_t{v}) {}
  Scalar(int64_t v) : value_(v) {}
  Scalar(double v) : value_(v) {}
  Scalar(float v) : value_(static_cast<double>(v)) {}

  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_integral() const { return std::holds_alternative<int64_t>(value_); }
  bool is_floating_point() const { return std::holds_alternative<double>(value_); }

  // The value converted to T as a cast from the scalar's own type would.
  template <typename T>
  T to() const {
    return std::visit([](auto v) { return CastElement<T>(v); }, value_);
  }

  // "2", "0.5", "true": for error messages and trace dumps.
  std::string ToString() const;

  friend bool operator==(const Scalar& a, const Scalar& b) { return a.value_ == b.value_; }

 private:
  std::variant<bool, int64_t, double> value_;
};

// The result dtype of an op between a tensor of `tensor_dtype` and a scalar: the tensor's
// dtype unless the scalar's category is higher (float scalar with an integral tensor gives
// float32; an integer scalar with a bool tensor gives int64).
DType PromoteWithScalar(DType tensor_dtype, const Scalar& scalar);

// Whether `value` can be stored in `dtype` without overflow, by PyTorch's rule for fill
// values and bounds (Scalar::to checks it there): an integral dtype must hold the value,
// except that uint8 also takes integers down to -255 (they wrap); a floating dtype takes
// inf, NaN and any finite value within its range; NaN and inf fit no integral dtype.
// Anything fits bool (non-zero is true).
bool FitsInDType(const Scalar& value, DType dtype);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_SCALAR_H_
