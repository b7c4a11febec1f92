#ifndef DEFERRED_CUDA_KERNELS_CONSTANT_FILL_H_
#define DEFERRED_CUDA_KERNELS_CONSTANT_FILL_H_

// The CUDA kernel of full and fill_: one value into every element of a strided tensor, as
// code compiled for both the device (gpu_launch.cu) and the host (the emulator tests).

#include <cstdint>
#include <cstring>

#include "cuda_kernels/strided_layout.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"

namespace deferred::cuda {

template <typename T>
struct ConstantFill {
  StridedLayout layout;
  T value;
  T* data = nullptr;
};

// Work items: the elements. One GPU thread's share: elements first_item, first_item + item_stride,
// ... in the layout's row-major order. The layout has no two elements at one address (a fill_ on an
// expanded tensor writes each address once), so threads never write the same memory.
template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const ConstantFill<T>& fill) {
  return fill.layout.numel;
}

template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const ConstantFill<T>& fill, int64_t first_item,
                                           int64_t item_stride) {
  for (int64_t item = first_item; item < fill.layout.numel; item += item_stride) {
    fill.data[PositionOf(fill.layout, item).memory] = fill.value;
  }
}

// A constant fill as the launchers take it: the value as the bytes of the output's dtype.
struct ConstantFillArgs {
  StridedLayout layout;
  DType dtype = DType::kFloat32;
  uint64_t value_bits = 0;  // the value's element bytes, in the low bytes
  void* data = nullptr;
};

// Calls launch(fill) with the args' ConstantFill for their dtype.
template <typename Launch>
void RunConstantFill(const ConstantFillArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    ConstantFill<T> fill{args.layout, T{}, static_cast<T*>(args.data)};
    std::memcpy(static_cast<void*>(&fill.value), &args.value_bits, sizeof(T));
    launch(fill);
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_CONSTANT_FILL_H_
