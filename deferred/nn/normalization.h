#ifndef DEFERRED_DEFERRED_NN_NORMALIZATION_H_
#define DEFERRED_DEFERRED_NN_NORMALIZATION_H_

#include <cstdint>
#include <optional>

#include "deferred/nn/module.h"
#include "fake_tensor/ops/tensor_options.h"
#include "fake_tensor/shape.h"

namespace deferred::nn {

// Normalization layers as PyTorch initializes them: scale ("weight") ones, shift ("bias")
// zeros. A tensor the configuration leaves out is registered undefined, as PyTorch
// registers None, so parameter("bias") answers an undefined tensor instead of throwing.

// What each layer takes besides its shape (PyTorch's keyword arguments, with its defaults):
// `LayerNorm({768}, {.eps = 1e-6, .bias = false})`.
struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;
  bool bias = true;
};
struct RMSNormOptions {
  std::optional<double> eps;
  bool elementwise_affine = true;
};
struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;
};

// nn.LayerNorm: weight and bias of `normalized_shape` when `elementwise_affine` (bias only
// when `bias` too). Throws `Error` for a negative size in `normalized_shape`.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, const LayerNormOptions& norm = {},
                     TensorOptions options = {});

  // weight = 1, bias = 0.
  void reset_parameters() override;

  const Shape& normalized_shape() const { return normalized_shape_; }
  double eps() const { return eps_; }
  bool elementwise_affine() const { return elementwise_affine_; }
  const Tensor& weight() const { return parameter("weight"); }
  const Tensor& bias() const { return parameter("bias"); }

 private:
  Shape normalized_shape_;
  double eps_;
  bool elementwise_affine_;
};

// nn.RMSNorm: weight of `normalized_shape` when `elementwise_affine`. An unset eps means
// the input dtype's machine epsilon at forward time, as in PyTorch. Throws `Error` for a
// negative size in `normalized_shape`.
class RMSNorm : public Module {
 public:
  explicit RMSNorm(Shape normalized_shape, const RMSNormOptions& norm = {},
                   TensorOptions options = {});

  // weight = 1.
  void reset_parameters() override;

  const Shape& normalized_shape() const { return normalized_shape_; }
  std::optional<double> eps() const { return eps_; }
  bool elementwise_affine() const { return elementwise_affine_; }
  const Tensor& weight() const { return parameter("weight"); }

 private:
  Shape normalized_shape_;
  std::optional<double> eps_;
  bool elementwise_affine_;
};

// nn.GroupNorm: weight and bias of [num_channels] when `affine`. Throws `Error` unless
// num_groups is positive and divides num_channels (non-negative).
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, const GroupNormOptions& norm = {},
            TensorOptions options = {});

  // weight = 1, bias = 0.
  void reset_parameters() override;

  int64_t num_groups() const { return num_groups_; }
  int64_t num_channels() const { return num_channels_; }
  double eps() const { return eps_; }
  bool affine() const { return affine_; }
  const Tensor& weight() const { return parameter("weight"); }
  const Tensor& bias() const { return parameter("bias"); }

 private:
  int64_t num_groups_;
  int64_t num_channels_;
  double eps_;
  bool affine_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_NORMALIZATION_H_
