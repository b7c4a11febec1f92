#include "deferred/nn/conv.h"

#include <cmath>
#include <utility>

#include "deferred/nn/init.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/factories.h"

namespace deferred::nn {
namespace {

// Throws unless every value of `values` is at least `minimum`.
void CheckAtLeast(const Shape& values, int64_t minimum, const std::string& layer,
                  const std::string& what) {
  for (int64_t value : values) {
    if (value < minimum) {
      ThrowError("%s: %s must be %s, got %s", layer, what,
                 minimum > 0 ? "positive" : "non-negative", ShapeToString(values));
    }
  }
}

}  // namespace

Shape ConvSize::Expand(int64_t spatial_dims, const std::string& layer,
                       const std::string& what) const {
  if (values_.size() == 1) return Shape(spatial_dims, values_[0]);
  if (static_cast<int64_t>(values_.size()) != spatial_dims) {
    ThrowError("%s: %s needs 1 or %d values, got %s", layer, what, spatial_dims,
               ShapeToString(values_));
  }
  return values_;
}

ConvNd::ConvNd(std::string type_name, int64_t spatial_dims, int64_t in_channels,
               int64_t out_channels, const ConvSize& kernel_size, const ConvOptions& conv,
               TensorOptions options)
    : Module(std::move(type_name)),
      in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size.Expand(spatial_dims, this->type_name(), "kernel_size")),
      stride_(conv.stride.Expand(spatial_dims, this->type_name(), "stride")),
      padding_(conv.padding.Expand(spatial_dims, this->type_name(), "padding")),
      dilation_(conv.dilation.Expand(spatial_dims, this->type_name(), "dilation")),
      groups_(conv.groups) {
  const std::string& layer = this->type_name();
  if (in_channels <= 0 || out_channels <= 0) {
    ThrowError("%s: in_channels and out_channels must be positive, got in_channels=%d and "
               "out_channels=%d",
               layer, in_channels, out_channels);
  }
  CheckAtLeast(kernel_size_, 1, layer, "kernel_size");
  CheckAtLeast(stride_, 1, layer, "stride");
  CheckAtLeast(padding_, 0, layer, "padding");
  CheckAtLeast(dilation_, 1, layer, "dilation");
  if (groups_ <= 0) ThrowError("%s: groups must be a positive integer, got %d", layer, groups_);
  if (in_channels % groups_ != 0) {
    ThrowError("%s: in_channels must be divisible by groups, got in_channels=%d and groups=%d",
               layer, in_channels, groups_);
  }
  if (out_channels % groups_ != 0) {
    ThrowError("%s: out_channels must be divisible by groups, got out_channels=%d and "
               "groups=%d",
               layer, out_channels, groups_);
  }
  Shape weight_sizes = {out_channels, in_channels / groups_};
  weight_sizes.insert(weight_sizes.end(), kernel_size_.begin(), kernel_size_.end());
  register_parameter("weight", empty(weight_sizes, options));
  register_parameter("bias", conv.bias ? empty({out_channels}, options) : Tensor());
  reset_parameters();
}

void ConvNd::reset_parameters() {
  init::kaiming_uniform_(weight(), std::sqrt(5.0));
  if (bias().defined()) {
    // fan_in is positive: the constructor requires positive channels and kernel sizes.
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight()).first;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias(), -bound, bound);
  }
}

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, const ConvSize& kernel_size,
               const ConvOptions& conv, TensorOptions options)
    : ConvNd("Conv1d", 1, in_channels, out_channels, kernel_size, conv, options) {}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, const ConvSize& kernel_size,
               const ConvOptions& conv, TensorOptions options)
    : ConvNd("Conv2d", 2, in_channels, out_channels, kernel_size, conv, options) {}

}  // namespace deferred::nn
