#include "replay/kernels/cast.h"

#include "replay/kernels/strided_loop.h"

namespace deferred {

void CastCopy(const Tensor& dst, const Tensor& src) {
  VisitDType(dst.dtype(), [&]<typename To>() {
    VisitDType(src.dtype(), [&]<typename From>() {
      MapElements<To, From>(dst, [](From v) { return CastElement<To>(v); }, {src});
    });
  });
}

Tensor CastIfNeeded(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = AllocateTensor(t.sizes(), dtype, t.device());
  CastCopy(out, t);
  return out;
}

}  // namespace deferred
