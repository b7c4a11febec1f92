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

LayerNorm::LayerNorm(Shape normalized_shape, const LayerNormOptions& norm, TensorOptions options)
    : Module("LayerNorm"),
      normalized_shape_(std::move(normalized_shape)),
      eps_(norm.eps),
      elementwise_affine_(norm.elementwise_affine) {
  CheckNormalizedShape(normalized_shape_, "LayerNorm");
  const bool has_weight = norm.elementwise_affine;
  const bool has_bias = norm.elementwise_affine && norm.bias;
  register_parameter("weight", has_weight ? empty(normalized_shape_, options) : Tensor());
  register_parameter("bias", has_bias ? empty(normalized_shape_, options) : Tensor());
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (weight().defined()) init::ones_(weight());
  if (bias().defined()) init::zeros_(bias());
}

RMSNorm::RMSNorm(Shape normalized_shape, const RMSNormOptions& norm, TensorOptions options)
    : Module("RMSNorm"),
      normalized_shape_(std::move(normalized_shape)),
      eps_(norm.eps),
      elementwise_affine_(norm.elementwise_affine) {
  CheckNormalizedShape(normalized_shape_, "RMSNorm");
  register_parameter("weight",
                     norm.elementwise_affine ? empty(normalized_shape_, options) : Tensor());
  reset_parameters();
}

void RMSNorm::reset_parameters() {
  if (weight().defined()) init::ones_(weight());
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, const GroupNormOptions& norm,
                     TensorOptions options)
    : Module("GroupNorm"),
      num_groups_(num_groups),
      num_channels_(num_channels),
      eps_(norm.eps),
      affine_(norm.affine) {
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
  register_parameter("weight", norm.affine ? empty({num_channels}, options) : Tensor());
  register_parameter("bias", norm.affine ? empty({num_channels}, options) : Tensor());
  reset_parameters();
}

void GroupNorm::reset_parameters() {
  if (weight().defined()) init::ones_(weight());
  if (bias().defined()) init::zeros_(bias());
}

}  // namespace deferred::nn
