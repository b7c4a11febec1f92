#ifndef DEFERRED_DEFERRED_NN_DROPOUT_H_
#define DEFERRED_DEFERRED_NN_DROPOUT_H_

#include "deferred/nn/module.h"

namespace deferred::nn {

// PyTorch's nn.Dropout: zeroes elements with probability p during training. It holds no
// tensors; only its configuration is kept (there is no forward here).
// What Dropout takes (PyTorch's arguments, with its defaults): `Dropout({.p = 0.1})`.
struct DropoutOptions {
  double p = 0.5;
  bool inplace = false;
};

class Dropout : public Module {
 public:
  // Throws `Error` naming p unless 0 <= p <= 1.
  explicit Dropout(const DropoutOptions& dropout = {});

  double p() const { return p_; }
  bool inplace() const { return inplace_; }

 private:
  double p_;
  bool inplace_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_DROPOUT_H_
