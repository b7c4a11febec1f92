#ifndef DEFERRED_REPLAY_MATH_INDEX_VALUES_OF_H_
#define DEFERRED_REPLAY_MATH_INDEX_VALUES_OF_H_

// The index_values.h functors of a factory call, read from its attrs on the host (for the
// CPU kernels and the CUDA kernels' host side alike).

#include <cstdint>

#include "fake_tensor/attrs.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/scalar.h"
#include "replay/math/index_values.h"

namespace deferred::math {

// arange: attrs "start" and "step".
inline ArangeValues ArangeValuesOf(const Attrs& attrs) {
  const Scalar& start = attrs.Get<Scalar>("start");
  const Scalar& step = attrs.Get<Scalar>("step");
  return ArangeValues{static_cast<uint64_t>(start.to<int64_t>()),
                      static_cast<uint64_t>(step.to<int64_t>()), start.to<double>(),
                      step.to<double>()};
}

// linspace: attrs "start" and "end" over `steps` elements of `dtype`; for an integral
// dtype the endpoints are converted to integers first, as PyTorch does.
inline LinspaceValues LinspaceValuesOf(const Attrs& attrs, DType dtype, int64_t steps) {
  double start = attrs.Get<double>("start");
  double end = attrs.Get<double>("end");
  if (IsIntegral(dtype) || dtype == DType::kBool) {
    start = static_cast<double>(CastElement<int64_t>(start));
    end = static_cast<double>(CastElement<int64_t>(end));
  }
  return LinspaceValues::Make(start, end, steps);
}

}  // namespace deferred::math

#endif  // DEFERRED_REPLAY_MATH_INDEX_VALUES_OF_H_
