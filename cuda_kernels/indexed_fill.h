#ifndef DEFERRED_CUDA_KERNELS_INDEXED_FILL_H_
#define DEFERRED_CUDA_KERNELS_INDEXED_FILL_H_

// The CUDA kernels of arange, linspace and eye: each element a function of its row-major
// index in the whole tensor (replay/math/index_values.h, the CPU kernels' own), compiled
// for both the device (gpu_launch.cu) and the host (the emulator tests).

#include <cstdint>

#include "cuda_kernels/strided_layout.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/math/index_values.h"

namespace deferred::cuda {

// The layout's source index of an element is its row-major index in the whole tensor.
template <typename Values, typename T>
struct IndexedFill {
  StridedLayout layout;
  Values values;
  T* data = nullptr;
};

template <typename Values, typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const IndexedFill<Values, T>& fill) {
  return fill.layout.numel;
}

// Work items: the elements.
template <typename Values, typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const IndexedFill<Values, T>& fill, int64_t first_item,
                                           int64_t item_stride) {
  for (int64_t item = first_item; item < fill.layout.numel; item += item_stride) {
    const StridedPosition p = PositionOf(fill.layout, item);
    fill.data[p.memory] = fill.values.template At<T>(p.source);
  }
}

enum class IndexedOp : uint8_t { kArange, kLinspace, kEye };

struct IndexedFillArgs {
  StridedLayout layout;
  DType dtype = DType::kFloat32;
  IndexedOp op = IndexedOp::kArange;
  math::ArangeValues arange;
  math::LinspaceValues linspace;
  math::EyeValues eye;
  void* data = nullptr;
};

// Calls launch(fill) with the args' IndexedFill.
template <typename Launch>
void RunIndexedFill(const IndexedFillArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    T* const data = static_cast<T*>(args.data);
    switch (args.op) {
      case IndexedOp::kArange:
        return launch(IndexedFill<math::ArangeValues, T>{args.layout, args.arange, data});
      case IndexedOp::kLinspace:
        return launch(IndexedFill<math::LinspaceValues, T>{args.layout, args.linspace, data});
      case IndexedOp::kEye:
        return launch(IndexedFill<math::EyeValues, T>{args.layout, args.eye, data});
    }
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_INDEXED_FILL_H_
