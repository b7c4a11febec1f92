#include "replay/kernels/strided_loop.h"

#include "fake_tensor/error.h"

namespace deferred {

StridedOperand BroadcastOperand(const Tensor& t, absl::Span<const int64_t> sizes) {
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int64_t lead = ndim - t.dim();
  if (lead < 0) ThrowError("cannot broadcast %s to %s", t.ToString(), ShapeToString(sizes));
  const int64_t element = ElementSize(t.dtype());
  StridedOperand operand{reinterpret_cast<std::byte*>(t.storage()->data()) +
                             t.storage_offset() * element,
                         Shape(ndim, 0)};
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

}  // namespace deferred
