#ifndef DEFERRED_CUDA_KERNELS_STRIDED_COPY_H_
#define DEFERRED_CUDA_KERNELS_STRIDED_COPY_H_

// The CUDA kernel of copy_ and to: dst[i] = cast(src[i]) over dst's elements, src
// broadcast to them, any strides and dtypes, as code compiled for both the device
// (gpu_launch.cu) and the host (the emulator tests).

#include <cstdint>

#include "cuda_kernels/strided_layout.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"

namespace deferred::cuda {

// The layout's source index of an element is its offset from src, in elements.
template <typename To, typename From>
struct StridedCopy {
  StridedLayout layout;
  To* dst = nullptr;
  const From* src = nullptr;
};

template <typename To, typename From>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const StridedCopy<To, From>& copy) {
  return copy.layout.numel;
}

// Work items: the elements. One GPU thread's share: elements first_item,
// first_item + item_stride, ... Casts as the CPU does (CastElement). dst has no two
// elements at one address and does not overlap src (the CUDA kernels of copy_ and to copy
// an overlapping src aside first).
template <typename To, typename From>
DEFERRED_HOST_DEVICE inline void RunThread(const StridedCopy<To, From>& copy, int64_t first_item,
                                           int64_t item_stride) {
  for (int64_t item = first_item; item < copy.layout.numel; item += item_stride) {
    const StridedPosition p = PositionOf(copy.layout, item);
    copy.dst[p.memory] = CastElement<To>(copy.src[p.source]);
  }
}

struct StridedCopyArgs {
  StridedLayout layout;
  DType dst_dtype = DType::kFloat32;
  DType src_dtype = DType::kFloat32;
  void* dst = nullptr;
  const void* src = nullptr;
};

// Calls launch(copy) with the StridedCopy of the args' dtypes.
template <typename Launch>
void RunStridedCopy(const StridedCopyArgs& args, Launch&& launch) {
  VisitDType(args.dst_dtype, [&]<typename To>() {
    VisitDType(args.src_dtype, [&]<typename From>() {
      launch(StridedCopy<To, From>{args.layout, static_cast<To*>(args.dst),
                                   static_cast<const From*>(args.src)});
    });
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_STRIDED_COPY_H_
