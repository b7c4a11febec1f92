#ifndef DEFERRED_DEFERRED_NN_INIT_H_
#define DEFERRED_DEFERRED_NN_INIT_H_

#include <cstdint>
#include <optional>
#include <utility>

#include "fake_tensor/call_site.h"
#include "fake_tensor/scalar.h"
#include "fake_tensor/tensor.h"

namespace deferred::nn::init {

// PyTorch's torch.nn.init, with its formulas computed in double as Python does. Each
// initializer fills `tensor` in place through the random ops of fake_tensor/ops/random.h
// (so inside deferred_init it is recorded, and replays bit for bit) and returns it. Errors
// (a tensor of fewer than 2 dims where fans are needed, a bad parameter) throw `Error`.

// The nonlinearities calculate_gain knows (PyTorch's names in comments).
enum class Nonlinearity {
  kLinear,            // "linear"
  kConv1d,            // "conv1d"
  kConv2d,            // "conv2d"
  kConv3d,            // "conv3d"
  kConvTranspose1d,   // "conv_transpose1d"
  kConvTranspose2d,   // "conv_transpose2d"
  kConvTranspose3d,   // "conv_transpose3d"
  kSigmoid,           // "sigmoid"
  kTanh,              // "tanh"
  kRelu,              // "relu"
  kLeakyRelu,         // "leaky_relu"
  kSelu,              // "selu"
};

// Which fan Kaiming initialization preserves the variance of.
enum class FanMode {
  kFanIn,   // the forward pass
  kFanOut,  // the backward pass
};

// The recommended gain: 1 for linear, convolutions and sigmoid; 5/3 for tanh; sqrt(2) for
// relu; sqrt(2 / (1 + slope^2)) for leaky_relu, slope = `param` or 0.01; 3/4 for selu.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);

// (fan_in, fan_out) = (size(1) * r, size(0) * r), r the product of the sizes of dims 2 and
// on (the receptive field). Throws for a tensor of fewer than 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

// U(a, b) and N(mean, std^2).
Tensor uniform_(const Tensor& tensor, double a = 0.0, double b = 1.0,
                CallSite site = CallSite::Here());
Tensor normal_(const Tensor& tensor, double mean = 0.0, double std = 1.0,
               CallSite site = CallSite::Here());
// N(mean, std^2) truncated to [a, b] (PyTorch's method, see trunc_normal_ in random.h).
Tensor trunc_normal_(const Tensor& tensor, double mean = 0.0, double std = 1.0, double a = -2.0,
                     double b = 2.0, CallSite site = CallSite::Here());
// Every element `value`; zeros_ and ones_ are constant_ with 0 and 1.
Tensor constant_(const Tensor& tensor, Scalar value, CallSite site = CallSite::Here());
Tensor zeros_(const Tensor& tensor, CallSite site = CallSite::Here());
Tensor ones_(const Tensor& tensor, CallSite site = CallSite::Here());

// The identity in a 2-d tensor (ones on the main diagonal, zeros elsewhere), as torch.eye.
// Throws unless the tensor has 2 dims.
Tensor eye_(const Tensor& tensor, CallSite site = CallSite::Here());
// The Dirac delta in a 3-, 4- or 5-d convolution weight [out, in, k...]: zeros, and in each
// of `groups` groups of out / groups output channels, channel d of the group keeps input
// channel d (for d < min(out / groups, in)) through a one at the kernel's centre (index
// k / 2 of each kernel dim). Throws for another number of dims, or when out is not a
// multiple of a positive `groups`.
Tensor dirac_(const Tensor& tensor, int64_t groups = 1, CallSite site = CallSite::Here());

// A (semi-)orthogonal matrix, as PyTorch's orthogonal_: the tensor viewed as [rows =
// size(0), cols = numel / rows] receives qr_q of a N(0, 1) draw of that shape (transposed
// when rows < cols), times `gain`. An empty tensor is left as it is. Throws for fewer than
// 2 dims or a tensor whose layout cannot be viewed as [rows, cols].
Tensor orthogonal_(const Tensor& tensor, double gain = 1.0, CallSite site = CallSite::Here());

// U(-bound, bound) with std = gain * sqrt(2 / (fan_in + fan_out)) and bound = sqrt(3) * std.
Tensor xavier_uniform_(const Tensor& tensor, double gain = 1.0, CallSite site = CallSite::Here());
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(const Tensor& tensor, double gain = 1.0, CallSite site = CallSite::Here());

// U(-bound, bound) with std = calculate_gain(nonlinearity, a) / sqrt(fan), fan chosen by
// `mode`, and bound = sqrt(3) * std. A tensor with no elements is returned untouched (and
// reserves no random numbers), as in PyTorch.
Tensor kaiming_uniform_(const Tensor& tensor, double a = 0.0, FanMode mode = FanMode::kFanIn,
                        Nonlinearity nonlinearity = Nonlinearity::kLeakyRelu,
                        CallSite site = CallSite::Here());
// N(0, std^2) with std = calculate_gain(nonlinearity, a) / sqrt(fan); empty tensors as
// kaiming_uniform_.
Tensor kaiming_normal_(const Tensor& tensor, double a = 0.0, FanMode mode = FanMode::kFanIn,
                       Nonlinearity nonlinearity = Nonlinearity::kLeakyRelu,
                       CallSite site = CallSite::Here());

}  // namespace deferred::nn::init

#endif  // DEFERRED_DEFERRED_NN_INIT_H_
