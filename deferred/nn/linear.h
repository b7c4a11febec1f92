#ifndef DEFERRED_DEFERRED_NN_LINEAR_H_
#define DEFERRED_DEFERRED_NN_LINEAR_H_

#include <cstdint>

#include "deferred/nn/module.h"
#include "fake_tensor/ops/tensor_options.h"

namespace deferred::nn {

// What Linear and Bilinear take besides their sizes (PyTorch's keyword arguments):
// `Linear(64, 32, {.bias = false})`.
struct LinearOptions {
  bool bias = true;
};

// PyTorch's nn.Linear: weight [out_features, in_features] and bias [out_features],
// initialized as PyTorch does: kaiming_uniform_(weight, a = sqrt(5)), which bounds it by
// 1/sqrt(in_features), and bias uniform in +-1/sqrt(in_features) (0 when in_features is
// 0). Without bias, "bias" is registered undefined. Throws `Error` for a negative size.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, const LinearOptions& linear = {},
         TensorOptions options = {});

  void reset_parameters() override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  const Tensor& weight() const { return parameter("weight"); }
  const Tensor& bias() const { return parameter("bias"); }

 private:
  int64_t in_features_;
  int64_t out_features_;
};

// PyTorch's nn.Bilinear: weight [out_features, in1_features, in2_features] and bias
// [out_features], both uniform in +-1/sqrt(in1_features). Without bias, "bias" is
// registered undefined. Throws `Error` unless in1_features is positive and the other
// sizes non-negative.
class Bilinear : public Module {
 public:
  Bilinear(int64_t in1_features, int64_t in2_features, int64_t out_features,
           const LinearOptions& linear = {}, TensorOptions options = {});

  void reset_parameters() override;

  int64_t in1_features() const { return in1_features_; }
  int64_t in2_features() const { return in2_features_; }
  int64_t out_features() const { return out_features_; }
  const Tensor& weight() const { return parameter("weight"); }
  const Tensor& bias() const { return parameter("bias"); }

 private:
  int64_t in1_features_;
  int64_t in2_features_;
  int64_t out_features_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_LINEAR_H_
