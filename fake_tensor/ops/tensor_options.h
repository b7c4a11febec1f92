#ifndef DEFERRED_FAKE_TENSOR_OPS_TENSOR_OPTIONS_H_
#define DEFERRED_FAKE_TENSOR_OPS_TENSOR_OPTIONS_H_

#include <optional>

#include "fake_tensor/device.h"
#include "fake_tensor/dtype.h"

namespace deferred {

// dtype and device of a factory's result: `zeros({2, 3}, {.dtype = DType::kInt64})`.
// An unset dtype means the factory's default (float32, or the fill value's type for full).
struct TensorOptions {
  std::optional<DType> dtype;
  Device device = Device::CPU();
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_TENSOR_OPTIONS_H_
