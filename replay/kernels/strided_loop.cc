#include "replay/kernels/strided_loop.h"

#include <cstring>
#include <utility>

#include "fake_tensor/error.h"

namespace deferred {

StridedOperand BroadcastOperand(const Tensor& t, absl::Span<const int64_t> sizes) {
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int64_t lead = ndim - t.dim();
  if (lead < 0) ThrowError("cannot broadcast %s to %s", t.ToString(), ShapeToString(sizes));
  const int64_t element = ElementSize(t.dtype());
  StridedOperand operand{FirstElement(t), Shape(ndim, 0)};
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t size = t.sizes()[d];
    if (size == sizes[lead + d]) {
      operand.byte_strides[lead + d] = t.strides()[d] * element;
    } else if (size != 1) {
      ThrowError("cannot broadcast %s to %s", t.ToString(), ShapeToString(sizes));
    }
  }
  return operand;
}

namespace {

// Whether a and b address the same elements in the same order with the same dtype.
bool SameElements(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.storage_offset() != b.storage_offset() ||
      a.sizes() != b.sizes()) {
    return false;
  }
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.sizes()[d] > 1 && a.strides()[d] != b.strides()[d]) return false;
  }
  return true;
}

// The first and last byte of storage that the elements of `t` (non-empty) occupy.
std::pair<int64_t, int64_t> ByteExtent(const Tensor& t) {
  int64_t first = t.storage_offset(), last = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t reach = t.strides()[d] * (t.sizes()[d] - 1);
    (reach < 0 ? first : last) += reach;
  }
  const int64_t element = ElementSize(t.dtype());
  return {first * element, last * element + element - 1};
}

}  // namespace

Tensor SnapshotIfOverlapping(const Tensor& input, const Tensor& out) {
  if (input.storage() != out.storage() || input.numel() == 0 || out.numel() == 0 ||
      SameElements(input, out)) {
    return input;
  }
  const auto [input_first, input_last] = ByteExtent(input);
  const auto [out_first, out_last] = ByteExtent(out);
  if (input_last < out_first || out_last < input_first) return input;
  Tensor copy = AllocateTensor(input.sizes(), input.dtype(), input.device());
  const int64_t element = ElementSize(input.dtype());
  ForEachRun<2>(copy.sizes(),
                {BroadcastOperand(copy, copy.sizes()), BroadcastOperand(input, copy.sizes())},
                [element](const std::array<std::byte*, 2>& ptrs, int64_t length,
                          const std::array<int64_t, 2>& strides) {
                  for (int64_t j = 0; j < length; ++j) {
                    std::memcpy(ptrs[0] + j * strides[0], ptrs[1] + j * strides[1], element);
                  }
                });
  return copy;
}

}  // namespace deferred
