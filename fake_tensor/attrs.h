#ifndef DEFERRED_FAKE_TENSOR_ATTRS_H_
#define DEFERRED_FAKE_TENSOR_ATTRS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fake_tensor/device.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/error.h"
#include "fake_tensor/scalar.h"
#include "fake_tensor/shape.h"

namespace deferred {

// One non-tensor argument of an op. `std::string` also carries raw bytes (the host data of
// `from_data`). Integer literals must be spelled `int64_t{n}` to pick the alternative.
using AttrValue =
    std::variant<bool, int64_t, double, Scalar, Shape, DType, Device, std::string>;

// The named non-tensor arguments of one op call, kept in insertion order so that a
// recorded op can be written out and read back identically.
class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> entries)
      : entries_(entries) {}

  // Adds or replaces `name`.
  Attrs& Set(std::string_view name, AttrValue value);
  bool Has(std::string_view name) const { return Find(name) != nullptr; }

  // The value of `name`. Throws `Error` if it is missing or of another type.
  template <typename T>
  const T& Get(std::string_view name) const {
    const AttrValue* value = Find(name);
    if (value == nullptr) ThrowError("missing op attribute '%s'", name);
    const T* typed = std::get_if<T>(value);
    if (typed == nullptr) ThrowError("op attribute '%s' has another type", name);
    return *typed;
  }

  const std::vector<std::pair<std::string, AttrValue>>& entries() const { return entries_; }

 private:
  const AttrValue* Find(std::string_view name) const;

  std::vector<std::pair<std::string, AttrValue>> entries_;
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_ATTRS_H_
