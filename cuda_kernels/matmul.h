#ifndef DEFERRED_CUDA_KERNELS_MATMUL_H_
#define DEFERRED_CUDA_KERNELS_MATMUL_H_

// The CUDA kernel of matmul: one thread per output element, adding its k products in
// increasing k with replay/math/reductions.h's arithmetic, as the CPU kernel adds them
// (replay/kernels/shape_kernels.cc), so both give the same bits. Correct before fast: init
// rarely multiplies matrices. Compiled for both the device (gpu_launch.cu) and the host
// (the emulator tests).

#include <cstdint>

#include "cuda_kernels/strided_layout.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/math/reductions.h"

namespace deferred::cuda {

// out[batch..., i, j] = sum_p a[batch..., i, p] * b[batch..., p, j], with a and b packed
// contiguous ([n, k] and [k, m] matrices) in the op-math type. The output's elements are
// numbered row-major over [batch..., n, m]; batch dim d steps the output by
// out_strides[d] and the operands by a_strides[d] and b_strides[d] (0 where an operand
// broadcasts).
struct MatmulArgs {
  DType dtype = DType::kFloat32;  // the output's
  int32_t batch_ndim = 0;
  int64_t batch_sizes[kMaxLayoutDims] = {};
  int64_t out_strides[kMaxLayoutDims] = {};
  int64_t a_strides[kMaxLayoutDims] = {};
  int64_t b_strides[kMaxLayoutDims] = {};
  int64_t n = 1, k = 1, m = 1;
  int64_t out_row_stride = 0, out_col_stride = 0;
  int64_t numel = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  void* out = nullptr;
};

template <typename T>
struct Matmul {
  MatmulArgs args;
  const MathOf<T>* a = nullptr;
  const MathOf<T>* b = nullptr;
  T* out = nullptr;
};

template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const Matmul<T>& matmul) {
  return matmul.args.numel;
}

// Work items: the output elements.
template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const Matmul<T>& matmul, int64_t first_item,
                                           int64_t item_stride) {
  using Acc = typename math::MatmulAccumulator<T>::type;
  const MatmulArgs& args = matmul.args;
  for (int64_t item = first_item; item < args.numel; item += item_stride) {
    const int64_t j = item % args.m;
    const int64_t row = item / args.m;
    const int64_t i = row % args.n;
    int64_t matrix = row / args.n;
    int64_t out_offset = i * args.out_row_stride + j * args.out_col_stride;
    const MathOf<T>* a_row = matmul.a + i * args.k;
    const MathOf<T>* b_column = matmul.b + j;
    for (int d = args.batch_ndim - 1; d >= 0; --d) {
      const int64_t index = matrix % args.batch_sizes[d];
      matrix /= args.batch_sizes[d];
      out_offset += index * args.out_strides[d];
      a_row += index * args.a_strides[d];
      b_column += index * args.b_strides[d];
    }
    Acc acc{0};
    for (int64_t p = 0; p < args.k; ++p) {
      acc = math::MultiplyAdd(acc, a_row[p], b_column[p * args.m]);
    }
    matmul.out[out_offset] = CastElement<T>(static_cast<MathOf<T>>(acc));
  }
}

template <typename Launch>
void RunMatmul(const MatmulArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    launch(Matmul<T>{args, static_cast<const MathOf<T>*>(args.a),
                     static_cast<const MathOf<T>*>(args.b), static_cast<T*>(args.out)});
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_MATMUL_H_
