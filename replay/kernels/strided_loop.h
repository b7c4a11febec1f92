#ifndef DEFERRED_REPLAY_KERNELS_STRIDED_LOOP_H_
#define DEFERRED_REPLAY_KERNELS_STRIDED_LOOP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"
#include "replay/kernels/parallel.h"

namespace deferred {

// One operand of an elementwise loop: its first element and its stride per loop dim, in
// bytes (0 along broadcast dims).
struct StridedOperand {
  std::byte* data;
  Shape byte_strides;
};

// The first element of `t`, which must have data on the host.
inline std::byte* FirstElement(const Tensor& t) {
  return reinterpret_cast<std::byte*>(t.storage()->data()) +
         t.storage_offset() * ElementSize(t.dtype());
}

// `t` viewed with the loop's `sizes`: t's sizes must broadcast to them (trailing-aligned).
StridedOperand BroadcastOperand(const Tensor& t, absl::Span<const int64_t> sizes);

// `input` itself, or a contiguous copy of it when it shares memory with `out` in any way
// other than input element i being out element i (same dtype and layout): then writing
// out element by element could change what later elements read, by an amount that
// depends on the order and so on the thread count. With the copy, the loop reads the
// input as it was before the loop.
Tensor SnapshotIfOverlapping(const Tensor& input, const Tensor& out);

// The offset, through `strides`, of the element with row-major number `flat` in `sizes`.
inline int64_t OffsetOf(int64_t flat, absl::Span<const int64_t> sizes,
                        absl::Span<const int64_t> strides) {
  int64_t offset = 0;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    offset += (flat % sizes[d]) * strides[d];
    flat /= sizes[d];
  }
  return offset;
}

// Elements per ParallelFor chunk below which a loop runs on one thread.
inline constexpr int64_t kElementwiseGrain = 32768;

// Visits every index of `sizes` once, in parallel chunks, as runs along the innermost
// (coalesced) dim: fn(std::array<std::byte*, N> run_starts, int64_t run_length,
// std::array<int64_t, N> run_byte_strides). Each element is visited by exactly one call,
// so an elementwise `fn` gives results that do not depend on the thread count.
template <size_t N, typename Fn>
void ForEachRun(absl::Span<const int64_t> sizes, std::array<StridedOperand, N> operands,
                Fn&& fn) {
  // Merge adjacent dims that every operand traverses as one (outer stride = inner stride *
  // inner size), so a contiguous tensor is a single run however many dims it has.
  Shape dims;
  std::array<Shape, N> strides;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    bool merge = !dims.empty();
    for (size_t k = 0; merge && k < N; ++k) {
      merge = strides[k].back() == operands[k].byte_strides[d] * sizes[d];
    }
    if (merge) {
      dims.back() *= sizes[d];
      for (size_t k = 0; k < N; ++k) strides[k].back() = operands[k].byte_strides[d];
    } else {
      dims.push_back(sizes[d]);
      for (size_t k = 0; k < N; ++k) strides[k].push_back(operands[k].byte_strides[d]);
    }
  }
  if (dims.empty()) {  // a single element
    dims.push_back(1);
    for (size_t k = 0; k < N; ++k) strides[k].push_back(0);
  }
  const int64_t ndim = static_cast<int64_t>(dims.size());
  const int64_t inner = dims.back();
  const int64_t numel = NumElements(dims);
  if (numel == 0) return;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = strides[k].back();

  ParallelFor(numel, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    Shape index(ndim);
    std::array<std::byte*, N> ptrs;
    int64_t rest = begin;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      index[d] = rest % dims[d];
      rest /= dims[d];
    }
    for (size_t k = 0; k < N; ++k) {
      ptrs[k] = operands[k].data;
      for (int64_t d = 0; d < ndim; ++d) ptrs[k] += index[d] * strides[k][d];
    }
    int64_t position = begin;
    while (position < end) {
      const int64_t length = std::min(inner - index[ndim - 1], end - position);
      fn(ptrs, length, inner_strides);
      position += length;
      if (position >= end) break;
      // Step to the start of the next run: carry through the outer dims.
      for (size_t k = 0; k < N; ++k) ptrs[k] += (length - 1) * inner_strides[k];
      index[ndim - 1] += length - 1;
      for (int64_t d = ndim - 1; d >= 0; --d) {
        if (++index[d] < dims[d]) {
          for (size_t k = 0; k < N; ++k) ptrs[k] += strides[k][d];
          break;
        }
        for (size_t k = 0; k < N; ++k) ptrs[k] -= strides[k][d] * (dims[d] - 1);
        index[d] = 0;
      }
    }
  });
}

// out[i] = fn(in[i]...) elementwise over out's sizes, inputs broadcast to them.
// In and Out are element types; the inputs must already have dtype In. Inputs that share
// memory with `out` are read as they were before the call (SnapshotIfOverlapping).
template <typename Out, typename... In, typename Fn>
void MapElements(const Tensor& out, Fn&& fn, absl::Span<const Tensor> inputs) {
  constexpr size_t kN = sizeof...(In) + 1;
  std::array<Tensor, kN> tensors;  // kept alive while the loop reads them
  bool flat = out.is_contiguous();
  for (size_t k = 1; k < kN; ++k) {
    tensors[k] = SnapshotIfOverlapping(inputs[k - 1], out);
    flat = flat && tensors[k].sizes() == out.sizes() && tensors[k].is_contiguous();
  }
  if (flat) {
    // Every operand holds its elements one after the other in out's order: one loop over
    // element numbers, without the per-dim setup below, which costs more than the
    // arithmetic of an op on a few elements.
    std::array<std::byte*, kN> data;
    data[0] = FirstElement(out);
    for (size_t k = 1; k < kN; ++k) data[k] = FirstElement(tensors[k]);
    ParallelFor(out.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      [&]<size_t... I>(std::index_sequence<I...>) {
        Out* const result = reinterpret_cast<Out*>(data[0]);
        for (int64_t j = begin; j < end; ++j) {
          result[j] = fn(reinterpret_cast<const In*>(data[I + 1])[j]...);
        }
      }(std::index_sequence_for<In...>{});
    });
    return;
  }
  std::array<StridedOperand, kN> operands;
  operands[0] = BroadcastOperand(out, out.sizes());
  for (size_t k = 1; k < kN; ++k) operands[k] = BroadcastOperand(tensors[k], out.sizes());
  ForEachRun<kN>(out.sizes(), operands,
                 [&](const std::array<std::byte*, kN>& ptrs, int64_t length,
                     const std::array<int64_t, kN>& strides) {
                   [&]<size_t... I>(std::index_sequence<I...>) {
                     for (int64_t j = 0; j < length; ++j) {
                       *reinterpret_cast<Out*>(ptrs[0] + j * strides[0]) =
                           fn(*reinterpret_cast<const In*>(ptrs[I + 1] + j * strides[I + 1])...);
                     }
                   }(std::index_sequence_for<In...>{});
                 });
}

}  // namespace deferred

#endif  // DEFERRED_REPLAY_KERNELS_STRIDED_LOOP_H_
