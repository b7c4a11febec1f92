#include "deferred/nn/linear.h"

#include <cmath>

#include "deferred/nn/init.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/factories.h"

namespace deferred::nn {

Linear::Linear(int64_t in_features, int64_t out_features, const LinearOptions& linear,
               TensorOptions options)
    : Module("Linear"), in_features_(in_features), out_features_(out_features) {
  if (in_features < 0 || out_features < 0) {
    ThrowError("Linear: in_features and out_features must be non-negative, got in_features=%d "
               "and out_features=%d",
               in_features, out_features);
  }
  register_parameter("weight", empty({out_features, in_features}, options));
  register_parameter("bias", linear.bias ? empty({out_features}, options) : Tensor());
  reset_parameters();
}

void Linear::reset_parameters() {
  init::kaiming_uniform_(weight(), std::sqrt(5.0));
  if (bias().defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight()).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias(), -bound, bound);
  }
}

Bilinear::Bilinear(int64_t in1_features, int64_t in2_features, int64_t out_features,
                   const LinearOptions& linear, TensorOptions options)
    : Module("Bilinear"),
      in1_features_(in1_features),
      in2_features_(in2_features),
      out_features_(out_features) {
  if (in1_features <= 0 || in2_features < 0 || out_features < 0) {
    ThrowError("Bilinear: in1_features must be positive and in2_features and out_features "
               "non-negative, got in1_features=%d, in2_features=%d and out_features=%d",
               in1_features, in2_features, out_features);
  }
  register_parameter("weight", empty({out_features, in1_features, in2_features}, options));
  register_parameter("bias", linear.bias ? empty({out_features}, options) : Tensor());
  reset_parameters();
}

void Bilinear::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight().size(1)));
  init::uniform_(weight(), -bound, bound);
  if (bias().defined()) init::uniform_(bias(), -bound, bound);
}

}  // namespace deferred::nn
