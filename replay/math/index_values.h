#ifndef DEFERRED_REPLAY_MATH_INDEX_VALUES_H_
#define DEFERRED_REPLAY_MATH_INDEX_VALUES_H_

// The factories whose element is a function of its index (arange, linspace, eye), one
// definition for the CPU kernels (replay/kernels/factory_kernels.cc) and CUDA device code
// (cuda_kernels/indexed_fill.h). `i` is the element's row-major index in the whole tensor,
// so a region computes the same values as the whole.

#include <cstdint>
#include <type_traits>

#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"

namespace deferred::math {

// arange(start, step): start + step * i. For integral T, start and step truncated to
// int64 first, as PyTorch does, and the arithmetic in uint64 (step * i may pass int64
// where the element does not); for floating T in double, then rounded to T.
struct ArangeValues {
  uint64_t int_start = 0, int_step = 0;
  double start = 0, step = 0;

  template <typename T>
  DEFERRED_HOST_DEVICE T At(int64_t i) const {
    if constexpr (std::is_integral_v<T>) {
      return CastElement<T>(static_cast<int64_t>(int_start + int_step * static_cast<uint64_t>(i)));
    } else {
      return CastElement<T>(start + step * static_cast<double>(i));
    }
  }
};

// linspace(start, end) over `steps` elements: the first half counts up from start, the
// rest down from end, which keeps both endpoints exact. For integral T the endpoints are
// converted to integers first (PyTorch does so); the caller does that.
struct LinspaceValues {
  double start = 0, end = 0, step = 0;
  int64_t steps = 0, halfway = 0;

  static DEFERRED_HOST_DEVICE LinspaceValues Make(double start, double end, int64_t steps) {
    // With one step the result is start (halfway 1).
    return LinspaceValues{start, end,
                          steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0, steps,
                          steps == 1 ? 1 : steps / 2};
  }

  template <typename T>
  DEFERRED_HOST_DEVICE T At(int64_t i) const {
    const double v = i < halfway ? start + step * static_cast<double>(i)
                                 : end - step * static_cast<double>(steps - 1 - i);
    return CastElement<T>(v);
  }
};

// eye over `columns` columns: 1 on the diagonal, else 0.
struct EyeValues {
  int64_t columns = 1;

  template <typename T>
  DEFERRED_HOST_DEVICE T At(int64_t i) const {
    return CastElement<T>(static_cast<int>(i / columns == i % columns));
  }
};

}  // namespace deferred::math

#endif  // DEFERRED_REPLAY_MATH_INDEX_VALUES_H_
