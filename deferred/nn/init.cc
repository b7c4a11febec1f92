#include "deferred/nn/init.h"

#include <algorithm>
#include <cmath>

#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/ops/random.h"

namespace deferred::nn::init {
namespace {

int64_t CorrectFan(const Tensor& tensor, FanMode mode) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == FanMode::kFanIn ? fan_in : fan_out;
}

// std of Kaiming initialization.
double KaimingStd(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  const int64_t fan = CorrectFan(tensor, mode);
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

// std of Xavier initialization; `op` names the caller in errors.
double XavierStd(const char* op, const Tensor& tensor, double gain) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  if (fan_in + fan_out == 0) {
    ThrowError("%s: fan_in + fan_out is 0 for %s; there is no std to give", op,
               tensor.ToString());
  }
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::kLinear:
    case Nonlinearity::kConv1d:
    case Nonlinearity::kConv2d:
    case Nonlinearity::kConv3d:
    case Nonlinearity::kConvTranspose1d:
    case Nonlinearity::kConvTranspose2d:
    case Nonlinearity::kConvTranspose3d:
    case Nonlinearity::kSigmoid:
      return 1.0;
    case Nonlinearity::kTanh: return 5.0 / 3;
    case Nonlinearity::kRelu: return std::sqrt(2.0);
    case Nonlinearity::kLeakyRelu: {
      const double slope = param.value_or(0.01);
      if (!std::isfinite(slope)) ThrowError("calculate_gain: negative_slope %g is not finite", slope);
      return std::sqrt(2.0 / (1 + slope * slope));
    }
    case Nonlinearity::kSelu: return 3.0 / 4;
  }
  ThrowError("calculate_gain: unknown nonlinearity %d", static_cast<int>(nonlinearity));
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  if (tensor.dim() < 2) {
    ThrowError("calculate_fan_in_and_fan_out: fan in and fan out can not be computed for %s, "
               "which has fewer than 2 dimensions",
               tensor.ToString());
  }
  int64_t receptive_field = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.size(d);
  return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

Tensor uniform_(const Tensor& tensor, double a, double b, CallSite site) {
  return deferred::uniform_(tensor, a, b, site);
}

Tensor normal_(const Tensor& tensor, double mean, double std, CallSite site) {
  return deferred::normal_(tensor, mean, std, site);
}

Tensor trunc_normal_(const Tensor& tensor, double mean, double std, double a, double b,
                     CallSite site) {
  return deferred::trunc_normal_(tensor, mean, std, a, b, site);
}

Tensor constant_(const Tensor& tensor, Scalar value, CallSite site) {
  return fill_(tensor, value, site);
}
Tensor zeros_(const Tensor& tensor, CallSite site) { return fill_(tensor, 0, site); }
Tensor ones_(const Tensor& tensor, CallSite site) { return fill_(tensor, 1, site); }

Tensor eye_(const Tensor& tensor, CallSite site) {
  if (tensor.dim() != 2) {
    ThrowError("eye_: expected a 2-d tensor, got %d dims (%s)", tensor.dim(), tensor.ToString());
  }
  return copy_(tensor,
               eye(tensor.size(0), tensor.size(1),
                   {.dtype = tensor.dtype(), .device = tensor.device()}, site),
               site);
}

Tensor dirac_(const Tensor& tensor, int64_t groups, CallSite site) {
  if (tensor.dim() < 3 || tensor.dim() > 5) {
    ThrowError("dirac_: expected a 3-, 4- or 5-d tensor, got %d dims (%s)", tensor.dim(),
               tensor.ToString());
  }
  if (groups <= 0 || tensor.size(0) % groups != 0) {
    ThrowError("dirac_: dim 0 (size %d) is not divisible by groups = %d", tensor.size(0),
               groups);
  }
  zero_(tensor, site);
  // Each group's ones lie on one diagonal of the (out, in) plane at the kernel's centre.
  Tensor centre = tensor;
  for (int64_t d = tensor.dim() - 1; d >= 2; --d) {
    centre = centre.select(d, tensor.size(d) / 2, site);
  }
  const int64_t out_per_group = tensor.size(0) / groups;
  const int64_t ones = std::min(out_per_group, tensor.size(1));
  for (int64_t g = 0; g < groups; ++g) {
    centre.narrow(0, g * out_per_group, ones, site)
        .narrow(1, 0, ones, site)
        .diagonal(0, 0, 1, site)
        .fill_(1, site);
  }
  return tensor;
}

Tensor orthogonal_(const Tensor& tensor, double gain, CallSite site) {
  if (tensor.dim() < 2) {
    ThrowError("orthogonal_: only tensors with 2 or more dims are supported, got %s",
               tensor.ToString());
  }
  if (tensor.numel() == 0) return tensor;
  const int64_t rows = tensor.size(0);
  const int64_t cols = tensor.numel() / rows;
  Tensor flattened = deferred::normal_(
      empty({rows, cols}, {.dtype = tensor.dtype(), .device = tensor.device()}, site), 0.0, 1.0,
      site);
  if (rows < cols) flattened = flattened.t(site);
  Tensor q = qr_q(flattened, site);
  if (rows < cols) q = q.t(site);
  tensor.view({rows, cols}, site).copy_(q, site);
  return tensor.mul_(gain, site);
}

Tensor xavier_uniform_(const Tensor& tensor, double gain, CallSite site) {
  const double bound = std::sqrt(3.0) * XavierStd("xavier_uniform_", tensor, gain);
  return deferred::uniform_(tensor, -bound, bound, site);
}

Tensor xavier_normal_(const Tensor& tensor, double gain, CallSite site) {
  return deferred::normal_(tensor, 0.0, XavierStd("xavier_normal_", tensor, gain), site);
}

Tensor kaiming_uniform_(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity,
                        CallSite site) {
  if (tensor.numel() == 0) return tensor;
  const double bound = std::sqrt(3.0) * KaimingStd(tensor, a, mode, nonlinearity);
  return deferred::uniform_(tensor, -bound, bound, site);
}

Tensor kaiming_normal_(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity,
                       CallSite site) {
  if (tensor.numel() == 0) return tensor;
  return deferred::normal_(tensor, 0.0, KaimingStd(tensor, a, mode, nonlinearity), site);
}

}  // namespace deferred::nn::init
