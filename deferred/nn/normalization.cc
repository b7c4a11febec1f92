#include "deferred/nn/normalization.h"

#include <utility>

#include "deferred/nn/init.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/factories.h"

namespace deferred::nn {
namespace {

void CheckNormalizedShape(const Shape& shape, const char* layer) {
  for (int64_t size : shape) {
    if (size < 0) {
      ThrowError("%s: normalized_shape %s has a negative size", layer, ShapeToString(shape));
    }
  }
}

}  // namespace

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine, bool bias,
                     TensorOptions options)
    : Module("LayerNorm"),
      normalized_shape_(std::move(normalized_shape)),
      eps_(eps),
      elementwise_affine_(elementwise_affine) {
  CheckNormalizedShape(normalized_shape_, "LayerNorm");
  const bool has_weight = elementwise_affine;
  const bool has_bias = elementwise_affine && bias;
  register_parameter("weight", has_weight ? empty(normalized_shape_, options) : Tensor());
  register_parameter("bias", has_bias ? empty(normalized_shape_, options) : Tensor());
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (weight().defined()) init::ones_(weight());
  if (bias().defined()) init::zeros_(bias());
}

RMSNorm::RMSNorm(Shape normalized_shape, std::optional<double> eps, bool elementwise_affine,
                 TensorOptions options)
    : Module("RMSNorm"),
      normalized_shape_(std::move(normalized_shape)),
      eps_(eps),
      elementwise_affine_(elementwise_affine) {
  CheckNormalizedShape(normalized_shape_, "RMSNorm");
  register_parameter("weight", elementwise_affine ? empty(normalized_shape_, options) : Tensor());
  reset_parameters();
}

void RMSNorm::reset_parameters() {
  if (weight().defined()) init::ones_(weight());
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, double eps, bool affine,
                     TensorOptions options)
    : Module("GroupNorm"),
      num_groups_(num_groups),
      num_channels_(num_channels),
      eps_(eps),
      affine_(affine) {
  if (num_groups <= 0 || num_channels < 0) {
    ThrowError("GroupNorm: num_groups must be positive and num_channels non-negative, got "
               "num_groups=%d and num_channels=%d",
               num_groups, num_channels);
  }
  if (num_channels % num_groups != 0) {
    ThrowError("GroupNorm: num_channels must be divisible by num_groups, got num_channels=%d "
               "and num_groups=%d",
               num_channels, num_groups);
  }
  register_parameter("weight", affine ? empty({num_channels}, options) : Tensor());
  register_parameter("bias", affine ? empty({num_channels}, options) : Tensor());
  reset_parameters();
}

void GroupNorm::reset_parameters() {
  if (weight().defined()) init::ones_(weight());
  if (bias().defined()) init::zeros_(bias());
}

}  // namespace deferred::nn
