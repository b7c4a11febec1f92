#ifndef DEFERRED_CUDA_KERNELS_REDUCTION_H_
#define DEFERRED_CUDA_KERNELS_REDUCTION_H_

// The CUDA kernels of the reductions (sum, mean, var, std, min, max) and of the ops that
// work on whole lines along a dim (cumsum, argsort). As on the CPU
// (replay/kernels/reduction_kernels.cc), one thread computes one output element, or one
// line, visiting its elements sequentially in the order fake_tensor/ops/reductions.h fixes,
// with the arithmetic of replay/math/reductions.h: the same bits on both. argsort is the
// exception in method, not in result: each thread places one element at its rank in the
// stable order, which is where a stable sort puts it. Compiled for both the device
// (gpu_launch.cu) and the host (the emulator tests).

#include <cstdint>

#include "cuda_kernels/strided_layout.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/math/reductions.h"

namespace deferred::cuda {

enum class ReduceOp : uint8_t { kSum, kMean, kVar, kStd, kMin, kMax };

// The elements one output element reduces, from its first: the element at reduced index
// (i_0, ..., i_{ndim-1}) is at sum_d i_d * strides[d]. Visited in row-major order of the
// index; ndim 0 is one element.
struct ReducedDims {
  int32_t ndim = 0;
  int64_t sizes[kMaxLayoutDims] = {};
  int64_t strides[kMaxLayoutDims] = {};
  int64_t count = 1;  // elements per output element; 0: none
};

template <typename T, typename Fn>
DEFERRED_HOST_DEVICE inline void ForEachReduced(const T* base, const ReducedDims& dims, Fn&& fn) {
  int64_t index[kMaxLayoutDims] = {};
  int64_t offset = 0;
  for (int64_t visited = 0; visited < dims.count; ++visited) {
    fn(base[offset]);
    for (int d = dims.ndim - 1; d >= 0; --d) {  // the next index: carry outward
      if (++index[d] < dims.sizes[d]) {
        offset += dims.strides[d];
        break;
      }
      offset -= dims.strides[d] * (dims.sizes[d] - 1);
      index[d] = 0;
    }
  }
}

// `kept` maps each output element (its row-major position among the kept dims) to its
// address in `out` (memory) and to its first element in `input` (source). Out is
// math::SumResult<T> for kSum, else T; mean, var and std take floating T only.
template <typename T, typename Out>
struct Reduction {
  ReduceOp op = ReduceOp::kSum;
  StridedLayout kept;
  ReducedDims reduced;
  double correction = 0;  // var and std
  const T* input = nullptr;
  Out* out = nullptr;
};

template <typename T, typename Out>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const Reduction<T, Out>& reduction) {
  return reduction.kept.numel;
}

template <typename T, typename Out>
DEFERRED_HOST_DEVICE inline Out ReduceOne(const Reduction<T, Out>& r, const T* base) {
  math::SumAccumulator<T> sum = 0;
  if (r.op == ReduceOp::kMin || r.op == ReduceOp::kMax) {
    const bool max = r.op == ReduceOp::kMax;
    bool first = true;
    T best{};
    ForEachReduced(base, r.reduced, [&](T x) {
      if (first ||
          (max ? math::ReplacesExtremum<true>(best, x) : math::ReplacesExtremum<false>(best, x))) {
        best = x;
      }
      first = false;
    });
    return CastElement<Out>(best);
  }
  ForEachReduced(base, r.reduced, [&sum](T x) { sum = math::AddToSum(sum, x); });
  if (r.op == ReduceOp::kSum) return CastElement<Out>(math::SumResultOf<T>(sum));
  const double mean = math::MeanOf(static_cast<double>(sum), r.reduced.count);
  if (r.op == ReduceOp::kMean) return CastElement<Out>(mean);
  double squared_deviations = 0.0;
  ForEachReduced(base, r.reduced, [&](T x) {
    squared_deviations = math::AddSquaredDeviation(squared_deviations, x, mean);
  });
  return CastElement<Out>(
      math::VarianceOf(squared_deviations, r.reduced.count, r.correction, r.op == ReduceOp::kStd));
}

// Work items: the output elements.
template <typename T, typename Out>
DEFERRED_HOST_DEVICE inline void RunThread(const Reduction<T, Out>& reduction, int64_t first_item,
                                           int64_t item_stride) {
  for (int64_t item = first_item; item < reduction.kept.numel; item += item_stride) {
    const StridedPosition p = PositionOf(reduction.kept, item);
    reduction.out[p.memory] = ReduceOne(reduction, reduction.input + p.source);
  }
}

struct ReductionArgs {
  ReduceOp op = ReduceOp::kSum;
  DType dtype = DType::kFloat32;  // the input's
  StridedLayout kept;
  ReducedDims reduced;
  double correction = 0;
  const void* input = nullptr;
  void* out = nullptr;
};

template <typename Launch>
void RunReduction(const ReductionArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    const T* input = static_cast<const T*>(args.input);
    if (args.op == ReduceOp::kSum) {
      using Out = math::SumResult<T>;
      launch(Reduction<T, Out>{args.op, args.kept, args.reduced, args.correction, input,
                               static_cast<Out*>(args.out)});
    } else {
      launch(Reduction<T, T>{args.op, args.kept, args.reduced, args.correction, input,
                             static_cast<T*>(args.out)});
    }
  });
}

// ---- Lines along a dim: cumsum and argsort ----

enum class LineOp : uint8_t { kCumsum, kArgsort };

// `lines` maps each line (its row-major position among the other dims) to its first
// element in `out` (memory) and in `input` (source); a line has `length` input elements,
// `in_step` apart, and writes `out_step` apart.
struct LineArgs {
  LineOp op = LineOp::kCumsum;
  DType dtype = DType::kFloat32;  // the input's
  StridedLayout lines;
  int64_t length = 1;
  int64_t in_step = 0;
  int64_t out_step = 0;
  int64_t start = 0;        // cumsum: the first index of each line written (to out's 0)
  bool descending = false;  // argsort
  const void* input = nullptr;
  void* out = nullptr;  // cumsum: math::SumResult<T>; argsort: int64
};

// Running sums along each line, written from index `start` on. Work items: the lines.
template <typename T>
struct Cumsum {
  LineArgs line;
  const T* input = nullptr;
  math::SumResult<T>* out = nullptr;
};

template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const Cumsum<T>& cumsum) {
  return cumsum.line.lines.numel;
}

template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const Cumsum<T>& cumsum, int64_t first_item,
                                           int64_t item_stride) {
  const LineArgs& line = cumsum.line;
  for (int64_t item = first_item; item < line.lines.numel; item += item_stride) {
    const StridedPosition p = PositionOf(line.lines, item);
    const T* in = cumsum.input + p.source;
    math::SumResult<T>* out = cumsum.out + p.memory;
    math::SumAccumulator<T> acc = 0;
    for (int64_t i = 0; i < line.length; ++i) {
      acc = math::AddToSum(acc, in[i * line.in_step]);
      if (i >= line.start) out[(i - line.start) * line.out_step] = math::SumResultOf<T>(acc);
    }
  }
}

// The indices of each line in the stable order of math::SortsBefore. Work items: the
// elements; element i goes to its rank, the number of elements sorting before it plus the
// equivalent ones before it in the line, in O(length) reads.
template <typename T>
struct Argsort {
  LineArgs line;
  const T* input = nullptr;
  int64_t* out = nullptr;
};

template <typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const Argsort<T>& argsort) {
  return argsort.line.lines.numel * argsort.line.length;
}

template <typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const Argsort<T>& argsort, int64_t first_item,
                                           int64_t item_stride) {
  const LineArgs& line = argsort.line;
  const int64_t items = line.lines.numel * line.length;
  for (int64_t item = first_item; item < items; item += item_stride) {
    const int64_t i = item % line.length;
    const StridedPosition p = PositionOf(line.lines, item / line.length);
    const T* in = argsort.input + p.source;
    const MathOf<T> key = MathOf<T>(in[i * line.in_step]);
    int64_t rank = 0;
    for (int64_t j = 0; j < line.length; ++j) {
      const MathOf<T> other = MathOf<T>(in[j * line.in_step]);
      if (math::SortsBefore(other, key, line.descending) ||
          (j < i && !math::SortsBefore(key, other, line.descending))) {
        ++rank;
      }
    }
    argsort.out[p.memory + rank * line.out_step] = i;
  }
}

template <typename Launch>
void RunLines(const LineArgs& args, Launch&& launch) {
  VisitDType(args.dtype, [&]<typename T>() {
    const T* input = static_cast<const T*>(args.input);
    if (args.op == LineOp::kCumsum) {
      launch(Cumsum<T>{args, input, static_cast<math::SumResult<T>*>(args.out)});
    } else {
      launch(Argsort<T>{args, input, static_cast<int64_t*>(args.out)});
    }
  });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_REDUCTION_H_
