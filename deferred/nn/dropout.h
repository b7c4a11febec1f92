#ifndef DEFERRED_DEFERRED_NN_DROPOUT_H_
#define DEFERRED_DEFERRED_NN_DROPOUT_H_

#include "deferred/nn/module.h"

namespace deferred::nn {

// PyTorch's nn.Dropout: zeroes elements with probability p during training. It holds no
// tensors; only its configuration is kept (there is no forward here).
class Dropout : public Module {
 public:
  // Throws `Error` naming p unless 0 <= p <= 1.
  explicit Dropout(double p = 0.5, bool inplace = false);

  double p() const { return p_; }
  bool inplace() const { return inplace_; }

 private:
  double p_;
  bool inplace_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_DROPOUT_H_
