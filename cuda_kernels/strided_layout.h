#ifndef DEFERRED_CUDA_KERNELS_STRIDED_LAYOUT_H_
#define DEFERRED_CUDA_KERNELS_STRIDED_LAYOUT_H_

#include <cstdint>

#include "fake_tensor/host_device.h"

namespace deferred::cuda {

// Dimensions a layout may keep after merging (the builders in kernel_args.h refuse more).
inline constexpr int kMaxLayoutDims = 16;

// The elements a kernel writes, each with two positions: where it goes (`strides`, in
// elements from the output's first) and a source index (`source_strides` and
// `source_offset`): for a random fill the element's index in its op's Philox stream, for a
// copy its offset in the source tensor, for a constant fill nothing (0). The element at
// index (i_0, ..., i_{n-1}) goes to sum_d i_d * strides[d] and has source index
// source_offset + sum_d i_d * source_strides[d]. Dims that both kinds of strides allow
// are merged, so a contiguous operation is one dim. ndim >= 1.
struct StridedLayout {
  int32_t ndim = 0;
  int64_t numel = 0;
  int64_t sizes[kMaxLayoutDims] = {};
  int64_t strides[kMaxLayoutDims] = {};
  int64_t source_strides[kMaxLayoutDims] = {};
  int64_t source_offset = 0;
};

// The positions of the element at row-major `position` of a layout.
struct StridedPosition {
  int64_t memory = 0;
  int64_t source = 0;
  int64_t inner_index = 0;  // its index along the last dim
};

DEFERRED_HOST_DEVICE inline StridedPosition PositionOf(const StridedLayout& layout,
                                                       int64_t position) {
  if (layout.ndim == 1) {  // contiguous and most others: no divisions, which GPUs do slowly
    return StridedPosition{position * layout.strides[0],
                           layout.source_offset + position * layout.source_strides[0], position};
  }
  StridedPosition p{0, layout.source_offset, 0};
  for (int d = layout.ndim - 1; d >= 0; --d) {
    const int64_t index = position % layout.sizes[d];
    position /= layout.sizes[d];
    p.memory += index * layout.strides[d];
    p.source += index * layout.source_strides[d];
    if (d == layout.ndim - 1) p.inner_index = index;
  }
  return p;
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_STRIDED_LAYOUT_H_
