// CPU kernels of the reductions in fake_tensor/ops/reductions.h. Each output element is
// computed by one thread, which visits its reduced elements sequentially in row-major order
// of the reduced indices (the order the header fixes), so neither the thread count nor the
// input's strides can change a result.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "fake_tensor/op_registry.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/strided_loop.h"

namespace deferred {
namespace {

// How one reduction call walks its input: output element o reads the input from
// OffsetOf(o, kept_sizes, kept_input_strides) over the reduced index space.
struct ReductionPlan {
  Shape kept_sizes;  // the output's index space: the kept dims, in order
  Shape kept_input_strides;
  Shape kept_output_strides;
  // The reduced dims in order, without size-1 dims, adjacent ones merged where the input
  // steps through them as one dim (which keeps the row-major visiting order).
  Shape reduced_sizes;
  Shape reduced_strides;
  int64_t count = 1;  // reduced elements per output element
};

ReductionPlan PlanReduction(const OpCall& call, const Tensor& out) {
  const Tensor& input = call.inputs[0];
  const Shape& dims = call.attrs.Get<Shape>("dims");
  const bool keepdim = call.attrs.Get<bool>("keepdim");
  const int64_t ndim = input.dim();
  std::vector<bool> reduced(ndim, dims.empty());
  for (int64_t dim : dims) {
    const int64_t d = WrapDim(dim, ndim, call.def->name);
    if (d < ndim) reduced[d] = true;
  }
  ReductionPlan plan;
  int64_t out_dim = 0;
  for (int64_t d = 0; d < ndim; ++d) {
    const int64_t size = input.size(d);
    const int64_t stride = input.stride(d);
    if (!reduced[d]) {
      plan.kept_sizes.push_back(size);
      plan.kept_input_strides.push_back(stride);
      plan.kept_output_strides.push_back(out.stride(out_dim++));
      continue;
    }
    if (keepdim) ++out_dim;
    plan.count *= size;
    if (size == 1) continue;
    if (!plan.reduced_sizes.empty() && plan.reduced_strides.back() == stride * size) {
      plan.reduced_sizes.back() *= size;
      plan.reduced_strides.back() = stride;
    } else {
      plan.reduced_sizes.push_back(size);
      plan.reduced_strides.push_back(stride);
    }
  }
  return plan;
}

// Calls fn(value) for each reduced element from `base`, in row-major order of the reduced
// indices. `index` is scratch space of the plan's reduced rank.
template <typename T, typename Fn>
void ForEachReduced(const T* base, const ReductionPlan& plan, std::vector<int64_t>& index,
                    Fn&& fn) {
  if (plan.count == 0) return;
  const int64_t ndim = static_cast<int64_t>(plan.reduced_sizes.size());
  if (ndim == 0) {
    fn(base[0]);
    return;
  }
  const int64_t inner = plan.reduced_sizes.back();
  const int64_t inner_stride = plan.reduced_strides.back();
  const int64_t rows = plan.count / inner;
  std::fill(index.begin(), index.end(), 0);
  int64_t offset = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const T* p = base + offset;
    for (int64_t j = 0; j < inner; ++j) fn(p[j * inner_stride]);
    for (int64_t d = ndim - 2; d >= 0; --d) {  // step to the next row: carry outward
      if (++index[d] < plan.reduced_sizes[d]) {
        offset += plan.reduced_strides[d];
        break;
      }
      offset -= plan.reduced_strides[d] * (plan.reduced_sizes[d] - 1);
      index[d] = 0;
    }
  }
}

// For each output element: out = finish(base), with `base` its first input element; each
// element by one thread, in parallel over output elements.
template <typename In, typename Out, typename Finish>
void ReduceEach(const OpCall& call, const Tensor& out, Finish finish) {
  const ReductionPlan plan = PlanReduction(call, out);
  const In* in_data = call.inputs[0].data_ptr<In>();
  Out* out_data = out.data_ptr<Out>();
  const int64_t grain =
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(plan.count, 1));
  ParallelFor(out.numel(), grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(plan.reduced_sizes.size());
    for (int64_t o = begin; o < end; ++o) {
      const In* base = in_data + OffsetOf(o, plan.kept_sizes, plan.kept_input_strides);
      out_data[OffsetOf(o, plan.kept_sizes, plan.kept_output_strides)] =
          finish(base, plan, index);
    }
  });
}

template <typename T>
constexpr bool kIsFloating = !std::is_integral_v<T>;

// The sum of the reduced elements: in double for floating T, else in int64 (wrapping,
// computed in uint64).
template <typename T>
auto SumOf(const T* base, const ReductionPlan& plan, std::vector<int64_t>& index) {
  using M = typename OpMathOf<T>::type;
  if constexpr (kIsFloating<T>) {
    double acc = 0.0;
    ForEachReduced(base, plan, index, [&acc](T x) { acc = acc + static_cast<double>(M(x)); });
    return acc;
  } else {
    uint64_t acc = 0;
    ForEachReduced(base, plan, index, [&acc](T x) {
      acc = acc + static_cast<uint64_t>(static_cast<int64_t>(x));
    });
    return static_cast<int64_t>(acc);
  }
}

void SumKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    using Out = std::conditional_t<kIsFloating<T>, T, int64_t>;
    ReduceEach<T, Out>(call, outputs[0], [](const T* base, const ReductionPlan& plan,
                                            std::vector<int64_t>& index) {
      return CastElement<Out>(SumOf(base, plan, index));
    });
  });
}

// The kernels below run on floating inputs only (the shape rules reject the others); for
// other T they are never called, and are instantiated only to keep VisitDType generic.
template <typename T>
double MeanOf(const T* base, const ReductionPlan& plan, std::vector<int64_t>& index) {
  return static_cast<double>(SumOf(base, plan, index)) / static_cast<double>(plan.count);
}

void MeanKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    ReduceEach<T, T>(call, outputs[0], [](const T* base, const ReductionPlan& plan,
                                          std::vector<int64_t>& index) {
      return CastElement<T>(MeanOf(base, plan, index));
    });
  });
}

template <bool kSquareRoot>
void VarianceKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const double correction = static_cast<double>(call.attrs.Get<int64_t>("correction"));
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    ReduceEach<T, T>(call, outputs[0], [correction](const T* base, const ReductionPlan& plan,
                                                    std::vector<int64_t>& index) {
      const double mean = MeanOf(base, plan, index);
      double acc = 0.0;
      ForEachReduced(base, plan, index, [&acc, mean](T x) {
        const double deviation = static_cast<double>(M(x)) - mean;
        acc = acc + deviation * deviation;
      });
      const double divisor = std::max(0.0, static_cast<double>(plan.count) - correction);
      const double variance = acc / divisor;
      return CastElement<T>(kSquareRoot ? std::sqrt(variance) : variance);
    });
  });
}

// min (kMax false) or max of the reduced elements, compared in the op-math type; the
// first NaN met is kept (and so propagates), and among equal values the first.
template <bool kMax>
void ExtremumKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  VisitDType(call.inputs[0].dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    ReduceEach<T, T>(call, outputs[0], [](const T* base, const ReductionPlan& plan,
                                          std::vector<int64_t>& index) {
      bool first = true;
      T best{};
      ForEachReduced(base, plan, index, [&](T x) {
        if (first) {
          best = x;
          first = false;
          return;
        }
        if constexpr (kIsFloating<T>) {
          if (std::isnan(M(best))) return;
          if (std::isnan(M(x))) {
            best = x;
            return;
          }
        }
        if (kMax ? M(best) < M(x) : M(x) < M(best)) best = x;
      });
      return best;
    });
  });
}

// How a kernel that works on whole lines along attr "dim" (cumsum, argsort) walks input 0
// and `out`: line l starts at OffsetOf(l, line_sizes, {in,out}_strides) and steps by
// {in,out}_step along the dim, `length` elements. A 0-d tensor is one line of one element.
struct Lines {
  Shape line_sizes;
  Shape in_strides;
  Shape out_strides;
  int64_t length = 1;
  int64_t in_step = 0;
  int64_t out_step = 0;
  int64_t lines = 1;
};

Lines LinesAlong(const OpCall& call, const Tensor& out) {
  const Tensor& input = call.inputs[0];
  Lines walk{input.sizes(), input.strides(), out.strides()};
  if (input.dim() > 0) {
    const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), input.dim(), call.def->name);
    walk.length = walk.line_sizes[dim];
    walk.in_step = walk.in_strides[dim];
    walk.out_step = walk.out_strides[dim];
    walk.line_sizes.erase(walk.line_sizes.begin() + dim);
    walk.in_strides.erase(walk.in_strides.begin() + dim);
    walk.out_strides.erase(walk.out_strides.begin() + dim);
  }
  walk.lines = NumElements(walk.line_sizes);
  return walk;
}

// Running sums along attr "dim", written from index attr "start" of each line on. One
// thread per line, each summing its line sequentially (as SumOf does).
void CumsumKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& input = call.inputs[0];
  const Tensor& out = outputs[0];
  const int64_t start = call.attrs.Get<int64_t>("start");
  const Lines walk = LinesAlong(call, out);
  VisitDType(input.dtype(), [&]<typename T>() {
    using Out = std::conditional_t<kIsFloating<T>, T, int64_t>;
    using M = typename OpMathOf<T>::type;
    const T* in_data = input.data_ptr<T>();
    Out* out_data = out.data_ptr<Out>();
    const int64_t grain =
        std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(walk.length, 1));
    ParallelFor(walk.lines, grain, [&](int64_t begin, int64_t end) {
      for (int64_t line = begin; line < end; ++line) {
        const T* in = in_data + OffsetOf(line, walk.line_sizes, walk.in_strides);
        Out* o = out_data + OffsetOf(line, walk.line_sizes, walk.out_strides);
        std::conditional_t<kIsFloating<T>, double, uint64_t> acc = 0;
        for (int64_t i = 0; i < walk.length; ++i) {
          if constexpr (kIsFloating<T>) {
            acc = acc + static_cast<double>(M(in[i * walk.in_step]));
            if (i >= start) o[(i - start) * walk.out_step] = CastElement<Out>(acc);
          } else {
            acc = acc + static_cast<uint64_t>(static_cast<int64_t>(in[i * walk.in_step]));
            if (i >= start) o[(i - start) * walk.out_step] = static_cast<int64_t>(acc);
          }
        }
      }
    });
  });
}

// A stable sort of each line's indices by value (NaN last ascending, first descending).
// One thread per line.
void ArgsortKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& input = call.inputs[0];
  const Tensor& out = outputs[0];
  const bool descending = call.attrs.Get<bool>("descending");
  const Lines walk = LinesAlong(call, out);
  VisitDType(input.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    const auto before = [descending](M x, M y) {
      if constexpr (kIsFloating<T>) {
        if (std::isnan(x) || std::isnan(y)) return descending ? !std::isnan(y) : !std::isnan(x);
      }
      return descending ? y < x : x < y;
    };
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
