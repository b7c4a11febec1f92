#include "fake_tensor/attrs.h"

namespace deferred {

Attrs& Attrs::Set(std::string_view name, AttrValue value) {
  for (auto& [key, existing] : entries_) {
    if (key == name) {
      existing = std::move(value);
      return *this;
    }
  }
  entries_.emplace_back(std::string(name), std::move(value));
  return *this;
}

const AttrValue* Attrs::Find(std::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace deferred
