#include "deferred/nn/dropout.h"

#include "fake_tensor/error.h"

namespace deferred::nn {

Dropout::Dropout(double p, bool inplace) : Module("Dropout"), p_(p), inplace_(inplace) {
  // Written so that NaN fails too.
  if (!(p >= 0.0 && p <= 1.0)) {
    ThrowError("Dropout: dropout probability has to be between 0 and 1, but got %g", p);
  }
}

}  // namespace deferred::nn
