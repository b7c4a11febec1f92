#ifndef DEFERRED_CUDA_KERNELS_RANDOM_FILL_H_
#define DEFERRED_CUDA_KERNELS_RANDOM_FILL_H_

// The CUDA fills of the random ops (uniform_, normal_, trunc_normal_, random_, bernoulli_)
// as code that nvcc compiles for the device and a C++ compiler for the host: the GPU runs
// RunThread(RandomFill) from a thin __global__ wrapper (gpu_launch.cu), the tests run it
// under the host grid emulator, and both must give the CPU kernels' bits. Element i of a
// fill's stream is rng::SampleAt(sampler, seed, offset, i) (docs/RNG.md), so which thread
// computes an element changes nothing.

#include <cstdint>

#include "cuda_kernels/strided_layout.h"
#include "cuda_kernels/vector_access.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/host_device.h"
#include "replay/rng/philox.h"
#include "replay/rng/samplers.h"

namespace deferred::cuda {

// One random fill: the layout, the sampler made from the op's attrs, the op's Philox
// coordinates and the output of element type T (on the device that runs it).
template <typename Sampler, typename T>
struct RandomFill {
  StridedLayout layout;
  Sampler sampler;
  uint64_t seed = 0;
  uint64_t offset = 0;
  T* data = nullptr;
};

// Elements per Philox counter block: the number of consecutive elements a work item takes.
template <typename Sampler>
inline constexpr int64_t kElementsPerBlock = 4 / Sampler::kWordsPerElement;

// The fill's work items: runs of kElementsPerBlock elements in the written tensor's
// row-major order, the last one possibly shorter.
template <typename Sampler, typename T>
DEFERRED_HOST_DEVICE inline int64_t WorkItemsOf(const RandomFill<Sampler, T>& fill) {
  constexpr int64_t k = kElementsPerBlock<Sampler>;
  return (fill.layout.numel + k - 1) / k;
}

// out[k * stride] = values[k] cast to T, for k < N; four contiguous elements at once
// (StoreFour: one 16-byte store on the device, since fills are bound by stores).
template <int64_t N, typename T, typename Value>
DEFERRED_HOST_DEVICE inline void StoreBlock(T* out, int64_t stride, const Value* values) {
  if constexpr (N == 4) {
    if (stride == 1) {
      T four[4];
      for (int k = 0; k < 4; ++k) four[k] = CastElement<T>(values[k]);
      StoreFour(out, four);
      return;
    }
  }
  for (int64_t k = 0; k < N; ++k) out[k * stride] = CastElement<T>(values[k]);
}

// One GPU thread's share of `fill`: the work items first_item, first_item + item_stride,
// ... An item whose elements are one whole counter block of the stream (the usual case:
// any fill of a contiguous region that starts on a block) takes that block once and runs
// the sampler over it; any other item samples each element by itself (SampleAt), which
// gives the same bits at up to four times the Philox work.
template <typename Sampler, typename T>
DEFERRED_HOST_DEVICE inline void RunThread(const RandomFill<Sampler, T>& fill, int64_t first_item,
                                           int64_t item_stride) {
  constexpr int64_t kPerBlock = kElementsPerBlock<Sampler>;
  constexpr int kGroup = Sampler::kElementsPerGroup;
  const StridedLayout& layout = fill.layout;
  const int last = layout.ndim - 1;
  const int64_t items = WorkItemsOf(fill);
  for (int64_t item = first_item; item < items; item += item_stride) {
    const int64_t begin = item * kPerBlock;
    const StridedPosition first = PositionOf(layout, begin);
    const bool whole_block =
        begin + kPerBlock <= layout.numel && layout.source_strides[last] == 1 &&
        first.inner_index + kPerBlock <= layout.sizes[last] && first.source % kPerBlock == 0;
    if (whole_block) {
      const rng::PhiloxWords block = rng::PhiloxBlock(
          fill.seed, fill.offset + static_cast<uint64_t>(first.source / kPerBlock));
      typename Sampler::Value values[kPerBlock];
      for (int64_t k = 0; k < kPerBlock; k += kGroup) {
        fill.sampler.Group(block.w + k * Sampler::kWordsPerElement, values + k);
      }
      StoreBlock<kPerBlock>(fill.data + first.memory, layout.strides[last], values);
      continue;
    }
    const int64_t end = begin + kPerBlock < layout.numel ? begin + kPerBlock : layout.numel;
    for (int64_t position = begin; position < end; ++position) {
      const StridedPosition p = position == begin ? first : PositionOf(layout, position);
      fill.data[p.memory] = CastElement<T>(
          rng::SampleAt(fill.sampler, fill.seed, fill.offset, static_cast<uint64_t>(p.source)));
    }
  }
}

// A random op's call as the launchers take it: the layout and Philox coordinates, and the
// output's dtype and data (on the device that will run the fill).
struct RandomFillTarget {
  StridedLayout layout;
  uint64_t seed = 0;
  uint64_t offset = 0;
  DType dtype = DType::kFloat32;
  void* data = nullptr;
};

// ---- Host side: from an op's attrs to the RandomFill that `launch` runs ----
// Each calls launch(fill) with the RandomFill of the op's sampler for the target's dtype,
// as the CPU kernels choose it (replay/kernels/random_kernels.cc), and returns true; the
// floating-only ops return false for another dtype. The GPU launchers and the emulator
// tests share them, so both run the same samplers with the same parameters.

// Calls fn.template operator()<P, T>() and returns true for a floating dtype; returns
// false for any other (the random ops' shape rules refuse those before a kernel runs).
template <typename Fn>
bool VisitFloatingPrecision(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32:
      fn.template operator()<rng::Precision::kFloat32, float>();
      break;
    case DType::kFloat64:
      fn.template operator()<rng::Precision::kFloat64, double>();
      break;
    case DType::kFloat16:
      fn.template operator()<rng::Precision::kFloat16, Half>();
      break;
    case DType::kBFloat16:
      fn.template operator()<rng::Precision::kBFloat16, BFloat16>();
      break;
    default:
      return false;
  }
  return true;
}

template <typename Sampler, typename T>
RandomFill<Sampler, T> MakeRandomFill(const RandomFillTarget& target, const Sampler& sampler) {
  return RandomFill<Sampler, T>{target.layout, sampler, target.seed, target.offset,
                                static_cast<T*>(target.data)};
}

template <typename Launch>
bool UniformFill(const RandomFillTarget& target, double from, double to, Launch&& launch) {
  return VisitFloatingPrecision(target.dtype, [&]<rng::Precision P, typename T>() {
    launch(MakeRandomFill<rng::UniformSampler<P>, T>(target, rng::MakeUniformSampler<P>(from, to)));
  });
}

template <typename Launch>
bool NormalFill(const RandomFillTarget& target, double mean, double std, Launch&& launch) {
  return VisitFloatingPrecision(target.dtype, [&]<rng::Precision P, typename T>() {
    launch(MakeRandomFill<rng::NormalSampler<P>, T>(target, rng::MakeNormalSampler<P>(mean, std)));
  });
}

template <typename Launch>
bool TruncNormalFill(const RandomFillTarget& target, double mean, double std, double a, double b,
                     Launch&& launch) {
  return VisitFloatingPrecision(target.dtype, [&]<rng::Precision P, typename T>() {
    launch(MakeRandomFill<rng::TruncNormalSampler<P>, T>(
        target, rng::MakeTruncNormalSampler<P>(mean, std, a, b)));
  });
}

template <typename Launch>
bool IntegerFill(const RandomFillTarget& target, int64_t from, int64_t to_inclusive,
                 Launch&& launch) {
  VisitDType(target.dtype, [&]<typename T>() {
    if (rng::RandomWordsPerElement(from, to_inclusive) == 1) {
      launch(MakeRandomFill<rng::RandomSampler<1>, T>(
          target, rng::MakeRandomSampler<1>(from, to_inclusive)));
    } else {
      launch(MakeRandomFill<rng::RandomSampler<2>, T>(
          target, rng::MakeRandomSampler<2>(from, to_inclusive)));
    }
  });
  return true;
}

template <typename Launch>
bool BernoulliFill(const RandomFillTarget& target, double p, Launch&& launch) {
  const rng::BernoulliSampler sampler = rng::MakeBernoulliSampler(p);
  VisitDType(target.dtype, [&]<typename T>() {
    launch(MakeRandomFill<rng::BernoulliSampler, T>(target, sampler));
  });
  return true;
}

// Which random op a fill runs, with its parameters (the op's attrs).
enum class RandomOp { kUniform, kNormal, kTruncNormal, kInteger, kBernoulli };
struct RandomOpParams {
  RandomOp op = RandomOp::kUniform;
  double from = 0, to = 0;                     // uniform_
  double mean = 0, std = 0;                    // normal_, trunc_normal_
  double a = 0, b = 0;                         // trunc_normal_'s bounds
  int64_t int_from = 0, int_to_inclusive = 0;  // random_
  double p = 0;                                // bernoulli_
};

// A random op's call as the launchers take it.
struct RandomFillArgs {
  RandomFillTarget target;
  RandomOpParams params;
};

// Calls launch(fill) with the args' RandomFill; false where the op does not take the
// target's dtype.
template <typename Launch>
bool RunRandomFill(const RandomFillArgs& args, Launch&& launch) {
  const RandomOpParams& p = args.params;
  switch (p.op) {
    case RandomOp::kUniform:
      return UniformFill(args.target, p.from, p.to, launch);
    case RandomOp::kNormal:
      return NormalFill(args.target, p.mean, p.std, launch);
    case RandomOp::kTruncNormal:
      return TruncNormalFill(args.target, p.mean, p.std, p.a, p.b, launch);
    case RandomOp::kInteger:
      return IntegerFill(args.target, p.int_from, p.int_to_inclusive, launch);
    case RandomOp::kBernoulli:
      return BernoulliFill(args.target, p.p, launch);
  }
  return false;
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_RANDOM_FILL_H_
