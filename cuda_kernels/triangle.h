#ifndef DEFERRED_CUDA_KERNELS_TRIANGLE_H_
#define DEFERRED_CUDA_KERNELS_TRIANGLE_H_

// The CUDA kernel of tril and triu (and their in-place forms): out = input where the
// element's column j and row i in its matrix satisfy j - i <= diagonal (tril) or
// j - i >= diagonal (triu), else 0, as the CPU kernel does. Compiled for both the device
// (gpu_launch.cu) and the host (the emulator tests).

#include <cstdint>

#include "cuda_kernels/strided_layout.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"

namespace deferred::cuda {

// The layout's source index of an element is its offset in the input; its row-major
// position gives its row and column (merging dims does not change positions).
template <typename T>
struct Triangle {
  StridedLayout layout;
  int64_t rows = 1, cols = 1;  // of each matrix: the output's last two sizes
  int64_t diagonal = 0;
  bool lower = true;
  const T* input = nullptr;
  T* out = nullptr;
};

template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const Triangle<T>& triangle) {
  return triangle.layout.numel;
}

// Work items: the elements. out may be input itself: each element is read, then written,
// by one thread.
template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const Triangle<T>& triangle, int64_t first_item,
                                           int64_t item_stride) {
  for (int64_t item = first_item; item < triangle.layout.numel; item += item_stride) {
    const StridedPosition p = PositionOf(triangle.layout, item);
    const int64_t j = item % triangle.cols;
    const int64_t i = item / triangle.cols % triangle.rows;
    const bool keep = triangle.lower ? j - i <= triangle.diagonal : j - i >= triangle.diagonal;
    triangle.out[p.memory] = keep ? triangle.input[p.source] : T{};
  }
}

struct TriangleArgs {
  StridedLayout layout;
  DType dtype = DType::kFloat32;
  int64_t rows = 1, cols = 1;
  int64_t diagonal = 0;
  bool lower = true;
  const void* input = nullptr;
  void* out = nullptr;
};

template <typename Launch>
void RunTriangle(const TriangleArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    launch(Triangle<T>{args.layout, args.rows, args.cols, args.diagonal, args.lower,
                       static_cast<const T*>(args.input), static_cast<T*>(args.out)});
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_TRIANGLE_H_
