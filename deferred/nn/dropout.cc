#include "deferred/nn/dropout.h"

#include "fake_tensor/error.h"

namespace deferred::nn {

Dropout::Dropout(const DropoutOptions& dropout)
    : Module("Dropout"), p_(dropout.p), inplace_(dropout.inplace) {
  // Written so that NaN fails too.
  if (!(p_ >= 0.0 && p_ <= 1.0)) {
    ThrowError("Dropout: dropout probability has to be between 0 and 1, but got %g", p_);
  }
}

}  // namespace deferred::nn
