#ifndef DEFERRED_FAKE_TENSOR_CHECKED_ARITHMETIC_H_
#define DEFERRED_FAKE_TENSOR_CHECKED_ARITHMETIC_H_

#include <cstdint>
#include <optional>

namespace deferred {

// Overflow-checked int64 arithmetic for sizes, strides, offsets and byte counts. Sizes
// come from users and from files, so every product or sum of them is computed here (or
// through NumElements / ContiguousStrides, which are built on these): a result that does
// not fit is nullopt, never a wrapped value.

// a * b, or nullopt when the exact product does not fit in int64.
inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// a + b, or nullopt when the exact sum does not fit in int64.
inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// a - b, or nullopt when the exact difference does not fit in int64.
inline std::optional<int64_t> CheckedSub(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out)) return std::nullopt;
  return out;
}

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_CHECKED_ARITHMETIC_H_
