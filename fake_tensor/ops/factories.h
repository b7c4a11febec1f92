#ifndef DEFERRED_FAKE_TENSOR_OPS_FACTORIES_H_
#define DEFERRED_FAKE_TENSOR_OPS_FACTORIES_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "fake_tensor/call_site.h"
#include "fake_tensor/ops/tensor_options.h"
#include "fake_tensor/scalar.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// Factories: ops with no tensor inputs. Each throws `Error` for a negative size. With
// `options.device` meta the result has no data.

// Uninitialized contents.
Tensor empty(const Shape& sizes, TensorOptions options = {}, CallSite site = CallSite::Here());
Tensor zeros(const Shape& sizes, TensorOptions options = {}, CallSite site = CallSite::Here());
Tensor ones(const Shape& sizes, TensorOptions options = {}, CallSite site = CallSite::Here());
// Every element `value`; the dtype defaults to the value's (bool, int64 or float32).
// Throws if the value does not fit the dtype (FitsInDType: 300 as uint8, 1e6 as float16).
Tensor full(const Shape& sizes, Scalar value, TensorOptions options = {},
            CallSite site = CallSite::Here());
// [start, end) in steps of `step` (finite, non-zero, pointing from start toward end); the
// dtype defaults to int64 when all three are integers, else float32. For an integral dtype
// start, end and step are truncated to integers first (as PyTorch does for int64); element
// i is start + i * step, in double for floating dtypes. bool is not supported.
Tensor arange(Scalar end, TensorOptions options = {}, CallSite site = CallSite::Here());
Tensor arange(Scalar start, Scalar end, Scalar step = 1, TensorOptions options = {},
              CallSite site = CallSite::Here());
// `steps` evenly spaced values from start to end inclusive, computed as PyTorch does:
// start + i * step for the first half and end - (steps - 1 - i) * step for the rest, in
// double, with start and end first truncated for an integral dtype; one step gives start.
// bool is not supported.
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {},
                CallSite site = CallSite::Here());
// n x m identity (m = n when negative).
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {}, CallSite site = CallSite::Here());

// A tensor holding a copy of `values` with shape `sizes` (their product must equal the
// number of values). The copy is taken now: later changes to `values` do not reach it.
template <typename T>
Tensor from_data(absl::Span<const T> values, const Shape& sizes, Device device = Device::CPU(),
                 CallSite site = CallSite::Here());
// A 1-d tensor of `values`.
template <typename T>
Tensor from_data(const std::vector<T>& values, CallSite site = CallSite::Here()) {
  return from_data<T>(absl::MakeConstSpan(values), {static_cast<int64_t>(values.size())},
                      Device::CPU(), site);
}

// Type-erased form of from_data: `bytes` holds the elements of `dtype` in row-major order.
Tensor from_bytes(std::string bytes, const Shape& sizes, DType dtype, Device device = Device::CPU(),
                  CallSite site = CallSite::Here());

template <typename T>
Tensor from_data(absl::Span<const T> values, const Shape& sizes, Device device, CallSite site) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return from_bytes(std::move(bytes), sizes, DTypeOf<T>(), device, site);
}

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_FACTORIES_H_
