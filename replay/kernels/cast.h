#ifndef DEFERRED_REPLAY_KERNELS_CAST_H_
#define DEFERRED_REPLAY_KERNELS_CAST_H_

#include "fake_tensor/dtype.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// dst[i] = cast(src[i]) over dst's shape, src broadcast to it, any strides and dtypes.
// Kernel-level: runs directly, not through the dispatcher.
void CastCopy(const Tensor& dst, const Tensor& src);

// `t` itself when it has `dtype`, else a new contiguous CPU tensor holding its cast.
Tensor CastIfNeeded(const Tensor& t, DType dtype);

}  // namespace deferred

#endif  // DEFERRED_REPLAY_KERNELS_CAST_H_
