#ifndef DEFERRED_DEFERRED_NN_CONV_H_
#define DEFERRED_DEFERRED_NN_CONV_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "deferred/nn/module.h"
#include "fake_tensor/ops/tensor_options.h"
#include "fake_tensor/shape.h"

namespace deferred::nn {

// A per-spatial-dim argument of a convolution (kernel size, stride, padding, dilation),
// as PyTorch's int-or-tuple: one value for every spatial dim, or one value per dim.
//   Conv2d(3, 8, 3)            // 3x3
//   Conv2d(3, 8, {3, 5})       // 3x5
class ConvSize {
 public:
  ConvSize(int64_t value) : values_{value} {}
  ConvSize(std::initializer_list<int64_t> values) : values_(values) {}

  // One value per each of `spatial_dims` dims. Throws `Error` naming `layer` and `what`
  // unless there is one value or `spatial_dims` of them.
  Shape Expand(int64_t spatial_dims, const std::string& layer, const std::string& what) const;

 private:
  Shape values_;
};

// What a convolution takes besides its channels and kernel size (PyTorch's defaults).
struct ConvOptions {
  ConvSize stride = 1;
  ConvSize padding = 0;
  ConvSize dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

// PyTorch's _ConvNd for a non-transposed convolution: weight [out_channels,
// in_channels / groups, kernel...] and bias [out_channels], initialized as PyTorch does:
// kaiming_uniform_(weight, a = sqrt(5)) and bias uniform in +-1/sqrt(fan_in), fan_in =
// in_channels / groups * prod(kernel). Without bias, "bias" is registered undefined.
class ConvNd : public Module {
 public:
  void reset_parameters() override;

  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  const Shape& kernel_size() const { return kernel_size_; }
  const Shape& stride() const { return stride_; }
  const Shape& padding() const { return padding_; }
  const Shape& dilation() const { return dilation_; }
  int64_t groups() const { return groups_; }
  const Tensor& weight() const { return parameter("weight"); }
  const Tensor& bias() const { return parameter("bias"); }

 protected:
  // Validates the configuration for `spatial_dims` dims and registers and initializes the
  // tensors. Throws `Error` naming the layer and the values unless the channels and
  // kernel sizes, strides and dilations are positive, paddings non-negative, and groups
  // positive and dividing both channel counts.
  ConvNd(std::string type_name, int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
         const ConvSize& kernel_size, const ConvOptions& conv, TensorOptions options);

 private:
  int64_t in_channels_;
  int64_t out_channels_;
  Shape kernel_size_;
  Shape stride_;
  Shape padding_;
  Shape dilation_;
  int64_t groups_;
};

// nn.Conv1d: weight [out_channels, in_channels / groups, k].
class Conv1d : public ConvNd {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, const ConvSize& kernel_size,
         const ConvOptions& conv = {}, TensorOptions options = {});
};

// nn.Conv2d: weight [out_channels, in_channels / groups, kh, kw].
class Conv2d : public ConvNd {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, const ConvSize& kernel_size,
         const ConvOptions& conv = {}, TensorOptions options = {});
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_CONV_H_
