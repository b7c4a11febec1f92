// CPU kernels of the reductions in fake_tensor/ops/reductions.h. Each output element is
// computed by one thread, which visits its reduced elements sequentially in row-major order
// of the reduced indices (the order the header fixes), so neither the thread count nor the
// input's strides can change a result.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "fake_tensor/op_registry.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/strided_loop.h"
#include "replay/math/reduction_walks.h"
#include "replay/math/reductions.h"

namespace deferred {
namespace {

using math::ReductionWalk;

// Calls fn(value) for each reduced element from `base`, in row-major order of the reduced
// indices. `index` is scratch space of the walk's reduced rank.
template <typename T, typename Fn>
void ForEachReduced(const T* base, const ReductionWalk& walk, std::vector<int64_t>& index,
                    Fn&& fn) {
  if (walk.count == 0) return;
  const int64_t ndim = static_cast<int64_t>(walk.reduced_sizes.size());
  if (ndim == 0) {
    fn(base[0]);
    return;
  }
  const int64_t inner = walk.reduced_sizes.back();
  const int64_t inner_stride = walk.reduced_strides.back();
  const int64_t rows = walk.count / inner;
  std::fill(index.begin(), index.end(), 0);
  int64_t offset = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const T* p = base + offset;
    for (int64_t j = 0; j < inner; ++j) fn(p[j * inner_stride]);
    for (int64_t d = ndim - 2; d >= 0; --d) {  // step to the next row: carry outward
      if (++index[d] < walk.reduced_sizes[d]) {
        offset += walk.reduced_strides[d];
        break;
      }
      offset -= walk.reduced_strides[d] * (walk.reduced_sizes[d] - 1);
      index[d] = 0;
    }
  }
}

// For each output element: out = finish(base), with `base` its first input element; each
// element by one thread, in parallel over output elements.
template <typename In, typename Out, typename Finish>
void ReduceEach(const OpCall& call, const Tensor& out, Finish finish) {
  const ReductionWalk walk = math::ReductionWalkOf(call, out);
  const In* in_data = call.inputs[0].data_ptr<In>();
  Out* out_data = out.data_ptr<Out>();
  const int64_t grain =
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(walk.count, 1));
  ParallelFor(out.numel(), grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(walk.reduced_sizes.size());
    for (int64_t o = begin; o < end; ++o) {
      const In* base = in_data + OffsetOf(o, walk.kept_sizes, walk.kept_input_strides);
      out_data[OffsetOf(o, walk.kept_sizes, walk.kept_output_strides)] =
          finish(base, walk, index);
    }
  });
}

template <typename T>
auto SumOf(const T* base, const ReductionWalk& walk, std::vector<int64_t>& index) {
  math::SumAccumulator<T> acc = 0;
  ForEachReduced(base, walk, index, [&acc](T x) { acc = math::AddToSum(acc, x); });
  return acc;
}

void SumKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    ReduceEach<T, math::SumResult<T>>(
        call, outputs[0],
        [](const T* base, const ReductionWalk& walk, std::vector<int64_t>& index) {
          return math::SumResultOf<T>(SumOf(base, walk, index));
        });
  });
}

// The kernels below run on floating inputs only (the shape rules reject the others); for
// other T they are never called, and are instantiated only to keep VisitDType generic.
template <typename T>
double MeanOf(const T* base, const ReductionWalk& walk, std::vector<int64_t>& index) {
  return math::MeanOf(static_cast<double>(SumOf(base, walk, index)), walk.count);
}

void MeanKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    ReduceEach<T, T>(call, outputs[0], [](const T* base, const ReductionWalk& walk,
                                          std::vector<int64_t>& index) {
      return CastElement<T>(MeanOf(base, walk, index));
    });
  });
}

template <bool kSquareRoot>
void VarianceKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const double correction = static_cast<double>(call.attrs.Get<int64_t>("correction"));
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    ReduceEach<T, T>(call, outputs[0], [correction](const T* base, const ReductionWalk& walk,
                                                    std::vector<int64_t>& index) {
      const double mean = MeanOf(base, walk, index);
      double acc = 0.0;
      ForEachReduced(base, walk, index,
                     [&acc, mean](T x) { acc = math::AddSquaredDeviation(acc, x, mean); });
      return CastElement<T>(math::VarianceOf(acc, walk.count, correction, kSquareRoot));
    });
  });
}

// min (kMax false) or max of the reduced elements (math::ReplacesExtremum).
template <bool kMax>
void ExtremumKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    ReduceEach<T, T>(call, outputs[0], [](const T* base, const ReductionWalk& walk,
                                          std::vector<int64_t>& index) {
      bool first = true;
      T best{};
      ForEachReduced(base, walk, index, [&](T x) {
        if (first || math::ReplacesExtremum<kMax>(best, x)) best = x;
        first = false;
      });
      return best;
    });
  });
}

// Running sums along attr "dim", written from index attr "start" of each line on. One
// thread per line, each summing its line sequentially (as SumOf does).
void CumsumKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& input = call.inputs[0];
  const Tensor& out = outputs[0];
  const int64_t start = call.attrs.Get<int64_t>("start");
  const math::LineWalk walk = math::LineWalkOf(call, out);
  VisitDType(input.dtype(), [&]<typename T>() {
    using Out = math::SumResult<T>;
    const T* in_data = input.data_ptr<T>();
    Out* out_data = out.data_ptr<Out>();
    const int64_t grain =
        std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(walk.length, 1));
    ParallelFor(walk.lines, grain, [&](int64_t begin, int64_t end) {
      for (int64_t line = begin; line < end; ++line) {
        const T* in = in_data + OffsetOf(line, walk.line_sizes, walk.in_strides);
        Out* o = out_data + OffsetOf(line, walk.line_sizes, walk.out_strides);
        math::SumAccumulator<T> acc = 0;
        for (int64_t i = 0; i < walk.length; ++i) {
          acc = math::AddToSum(acc, in[i * walk.in_step]);
          if (i >= start) o[(i - start) * walk.out_step] = math::SumResultOf<T>(acc);
        }
      }
    });
  });
}

// A stable sort of each line's indices by value (math::SortsBefore).
// One thread per line.
void ArgsortKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& input = call.inputs[0];
  const Tensor& out = outputs[0];
  const bool descending = call.attrs.Get<bool>("descending");
  const math::LineWalk walk = math::LineWalkOf(call, out);
  VisitDType(input.dtype(), [&]<typename T>() {
    using M = MathOf<T>;
    const auto before = [descending](M x, M y) { return math::SortsBefore(x, y, descending); };
    const T* in_data = input.data_ptr<T>();
    int64_t* out_data = out.data_ptr<int64_t>();
    const int64_t grain =
        std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(walk.length, 1));
    ParallelFor(walk.lines, grain, [&](int64_t begin, int64_t end) {
      std::vector<M> keys(walk.length);
      std::vector<int64_t> order(walk.length);
      for (int64_t line = begin; line < end; ++line) {
        const T* in = in_data + OffsetOf(line, walk.line_sizes, walk.in_strides);
        for (int64_t i = 0; i < walk.length; ++i) keys[i] = M(in[i * walk.in_step]);
        for (int64_t i = 0; i < walk.length; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return before(keys[a], keys[b]); });
        int64_t* o = out_data + OffsetOf(line, walk.line_sizes, walk.out_strides);
        for (int64_t i = 0; i < walk.length; ++i) o[i * walk.out_step] = order[i];
      }
    });
  });
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterKernel("argsort", DeviceType::kCPU, ArgsortKernel);
  registry.RegisterKernel("cumsum", DeviceType::kCPU, CumsumKernel);
  registry.RegisterKernel("sum", DeviceType::kCPU, SumKernel);
  registry.RegisterKernel("mean", DeviceType::kCPU, MeanKernel);
  registry.RegisterKernel("var", DeviceType::kCPU, VarianceKernel<false>);
  registry.RegisterKernel("std", DeviceType::kCPU, VarianceKernel<true>);
  registry.RegisterKernel("min", DeviceType::kCPU, ExtremumKernel<false>);
  registry.RegisterKernel("max", DeviceType::kCPU, ExtremumKernel<true>);
  return true;
}();

}  // namespace
}  // namespace deferred
