// Tensor's methods (declared in fake_tensor/tensor.h): each calls its free function, so a
// method call records and runs exactly as the function does, with the caller's site.
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/tensor.h"

namespace deferred {

Tensor Tensor::add(const Tensor& other, CallSite site) const {
  return deferred::add(*this, other, site);
}
Tensor Tensor::add(Scalar other, CallSite site) const { return deferred::add(*this, other, site); }
Tensor Tensor::sub(const Tensor& other, CallSite site) const {
  return deferred::sub(*this, other, site);
}
Tensor Tensor::sub(Scalar other, CallSite site) const { return deferred::sub(*this, other, site); }
Tensor Tensor::mul(const Tensor& other, CallSite site) const {
  return deferred::mul(*this, other, site);
}
Tensor Tensor::mul(Scalar other, CallSite site) const { return deferred::mul(*this, other, site); }
Tensor Tensor::div(const Tensor& other, CallSite site) const {
  return deferred::div(*this, other, site);
}
Tensor Tensor::div(Scalar other, CallSite site) const { return deferred::div(*this, other, site); }
Tensor Tensor::pow(const Tensor& exponent, CallSite site) const {
  return deferred::pow(*this, exponent, site);
}
Tensor Tensor::pow(Scalar exponent, CallSite site) const {
  return deferred::pow(*this, exponent, site);
}
Tensor Tensor::maximum(const Tensor& other, CallSite site) const {
  return deferred::maximum(*this, other, site);
}
Tensor Tensor::minimum(const Tensor& other, CallSite site) const {
  return deferred::minimum(*this, other, site);
}
Tensor Tensor::add_(const Tensor& other, CallSite site) const {
  return deferred::add_(*this, other, site);
}
Tensor Tensor::add_(Scalar other, CallSite site) const {
  return deferred::add_(*this, other, site);
}
Tensor Tensor::sub_(const Tensor& other, CallSite site) const {
  return deferred::sub_(*this, other, site);
}
Tensor Tensor::sub_(Scalar other, CallSite site) const {
  return deferred::sub_(*this, other, site);
}
Tensor Tensor::mul_(const Tensor& other, CallSite site) const {
  return deferred::mul_(*this, other, site);
}
Tensor Tensor::mul_(Scalar other, CallSite site) const {
  return deferred::mul_(*this, other, site);
}
Tensor Tensor::div_(const Tensor& other, CallSite site) const {
  return deferred::div_(*this, other, site);
}
Tensor Tensor::div_(Scalar other, CallSite site) const {
  return deferred::div_(*this, other, site);
}
Tensor Tensor::pow_(const Tensor& exponent, CallSite site) const {
  return deferred::pow_(*this, exponent, site);
}
Tensor Tensor::pow_(Scalar exponent, CallSite site) const {
  return deferred::pow_(*this, exponent, site);
}
Tensor Tensor::neg(CallSite site) const { return deferred::neg(*this, site); }
Tensor Tensor::abs(CallSite site) const { return deferred::abs(*this, site); }
Tensor Tensor::exp(CallSite site) const { return deferred::exp(*this, site); }
Tensor Tensor::log(CallSite site) const { return deferred::log(*this, site); }
Tensor Tensor::sqrt(CallSite site) const { return deferred::sqrt(*this, site); }
Tensor Tensor::rsqrt(CallSite site) const { return deferred::rsqrt(*this, site); }
Tensor Tensor::sin(CallSite site) const { return deferred::sin(*this, site); }
Tensor Tensor::cos(CallSite site) const { return deferred::cos(*this, site); }
Tensor Tensor::tanh(CallSite site) const { return deferred::tanh(*this, site); }
Tensor Tensor::sigmoid(CallSite site) const { return deferred::sigmoid(*this, site); }
Tensor Tensor::erf(CallSite site) const { return deferred::erf(*this, site); }
Tensor Tensor::log2(CallSite site) const { return deferred::log2(*this, site); }
Tensor Tensor::exp2(CallSite site) const { return deferred::exp2(*this, site); }
Tensor Tensor::expm1(CallSite site) const { return deferred::expm1(*this, site); }
Tensor Tensor::log1p(CallSite site) const { return deferred::log1p(*this, site); }
Tensor Tensor::reciprocal(CallSite site) const { return deferred::reciprocal(*this, site); }
Tensor Tensor::floor(CallSite site) const { return deferred::floor(*this, site); }
Tensor Tensor::ceil(CallSite site) const { return deferred::ceil(*this, site); }
Tensor Tensor::round(CallSite site) const { return deferred::round(*this, site); }
Tensor Tensor::sign(CallSite site) const { return deferred::sign(*this, site); }
Tensor Tensor::neg_(CallSite site) const { return deferred::neg_(*this, site); }
Tensor Tensor::abs_(CallSite site) const { return deferred::abs_(*this, site); }
Tensor Tensor::exp_(CallSite site) const { return deferred::exp_(*this, site); }
Tensor Tensor::log_(CallSite site) const { return deferred::log_(*this, site); }
Tensor Tensor::sqrt_(CallSite site) const { return deferred::sqrt_(*this, site); }
Tensor Tensor::rsqrt_(CallSite site) const { return deferred::rsqrt_(*this, site); }
Tensor Tensor::sin_(CallSite site) const { return deferred::sin_(*this, site); }
Tensor Tensor::cos_(CallSite site) const { return deferred::cos_(*this, site); }
Tensor Tensor::tanh_(CallSite site) const { return deferred::tanh_(*this, site); }
Tensor Tensor::sigmoid_(CallSite site) const { return deferred::sigmoid_(*this, site); }
Tensor Tensor::erf_(CallSite site) const { return deferred::erf_(*this, site); }
Tensor Tensor::log2_(CallSite site) const { return deferred::log2_(*this, site); }
Tensor Tensor::exp2_(CallSite site) const { return deferred::exp2_(*this, site); }
Tensor Tensor::expm1_(CallSite site) const { return deferred::expm1_(*this, site); }
Tensor Tensor::log1p_(CallSite site) const { return deferred::log1p_(*this, site); }
Tensor Tensor::reciprocal_(CallSite site) const { return deferred::reciprocal_(*this, site); }
Tensor Tensor::floor_(CallSite site) const { return deferred::floor_(*this, site); }
Tensor Tensor::ceil_(CallSite site) const { return deferred::ceil_(*this, site); }
Tensor Tensor::round_(CallSite site) const { return deferred::round_(*this, site); }
Tensor Tensor::sign_(CallSite site) const { return deferred::sign_(*this, site); }
Tensor Tensor::clamp(Scalar min, Scalar max, CallSite site) const {
  return deferred::clamp(*this, min, max, site);
}
Tensor Tensor::clamp_(Scalar min, Scalar max, CallSite site) const {
  return deferred::clamp_(*this, min, max, site);
}
Tensor Tensor::eq(const Tensor& other, CallSite site) const {
  return deferred::eq(*this, other, site);
}
Tensor Tensor::eq(Scalar other, CallSite site) const { return deferred::eq(*this, other, site); }
Tensor Tensor::ne(const Tensor& other, CallSite site) const {
  return deferred::ne(*this, other, site);
}
Tensor Tensor::ne(Scalar other, CallSite site) const { return deferred::ne(*this, other, site); }
Tensor Tensor::lt(const Tensor& other, CallSite site) const {
  return deferred::lt(*this, other, site);
}
Tensor Tensor::lt(Scalar other, CallSite site) const { return deferred::lt(*this, other, site); }
Tensor Tensor::le(const Tensor& other, CallSite site) const {
  return deferred::le(*this, other, site);
}
Tensor Tensor::le(Scalar other, CallSite site) const { return deferred::le(*this, other, site); }
Tensor Tensor::gt(const Tensor& other, CallSite site) const {
  return deferred::gt(*this, other, site);
}
Tensor Tensor::gt(Scalar other, CallSite site) const { return deferred::gt(*this, other, site); }
Tensor Tensor::ge(const Tensor& other, CallSite site) const {
  return deferred::ge(*this, other, site);
}
Tensor Tensor::ge(Scalar other, CallSite site) const { return deferred::ge(*this, other, site); }
Tensor Tensor::to(DType dtype, CallSite site) const { return deferred::to(*this, dtype, site); }
Tensor Tensor::fill_(Scalar value, CallSite site) const {
  return deferred::fill_(*this, value, site);
}
Tensor Tensor::zero_(CallSite site) const { return deferred::zero_(*this, site); }
Tensor Tensor::copy_(const Tensor& src, CallSite site) const {
  return deferred::copy_(*this, src, site);
}
Tensor Tensor::uniform_(double from, double to, CallSite site) const {
  return deferred::uniform_(*this, from, to, site);
}
Tensor Tensor::normal_(double mean, double std, CallSite site) const {
  return deferred::normal_(*this, mean, std, site);
}
Tensor Tensor::random_(int64_t from, int64_t to, CallSite site) const {
  return deferred::random_(*this, from, to, site);
}
Tensor Tensor::random_(int64_t to, CallSite site) const {
  return deferred::random_(*this, to, site);
}
Tensor Tensor::random_(CallSite site) const { return deferred::random_(*this, site); }
Tensor Tensor::bernoulli_(double p, CallSite site) const {
  return deferred::bernoulli_(*this, p, site);
}
Tensor Tensor::view(const Shape& sizes, CallSite site) const {
  return deferred::view(*this, sizes, site);
}
Tensor Tensor::reshape(const Shape& sizes, CallSite site) const {
  return deferred::reshape(*this, sizes, site);
}
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length, CallSite site) const {
  return deferred::narrow(*this, dim, start, length, site);
}
Tensor Tensor::select(int64_t dim, int64_t index, CallSite site) const {
  return deferred::select(*this, dim, index, site);
}
Tensor Tensor::transpose(int64_t dim0, int64_t dim1, CallSite site) const {
  return deferred::transpose(*this, dim0, dim1, site);
}
Tensor Tensor::permute(const Shape& dims, CallSite site) const {
  return deferred::permute(*this, dims, site);
}
Tensor Tensor::unsqueeze(int64_t dim, CallSite site) const {
  return deferred::unsqueeze(*this, dim, site);
}
Tensor Tensor::squeeze(CallSite site) const { return deferred::squeeze(*this, site); }
Tensor Tensor::squeeze(int64_t dim, CallSite site) const {
  return deferred::squeeze(*this, dim, site);
}
Tensor Tensor::expand(const Shape& sizes, CallSite site) const {
  return deferred::expand(*this, sizes, site);
}
Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2, CallSite site) const {
  return deferred::diagonal(*this, offset, dim1, dim2, site);
}
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim, CallSite site) const {
  return deferred::flatten(*this, start_dim, end_dim, site);
}
Tensor Tensor::t(CallSite site) const { return deferred::t(*this, site); }
Tensor Tensor::contiguous(CallSite site) const { return deferred::contiguous(*this, site); }
Tensor Tensor::clone(CallSite site) const { return deferred::clone(*this, site); }
Tensor Tensor::repeat(const Shape& repeats, CallSite site) const {
  return deferred::repeat(*this, repeats, site);
}
Tensor Tensor::tril(int64_t diagonal, CallSite site) const {
  return deferred::tril(*this, diagonal, site);
}
Tensor Tensor::triu(int64_t diagonal, CallSite site) const {
  return deferred::triu(*this, diagonal, site);
}
Tensor Tensor::tril_(int64_t diagonal, CallSite site) const {
  return deferred::tril_(*this, diagonal, site);
}
Tensor Tensor::triu_(int64_t diagonal, CallSite site) const {
  return deferred::triu_(*this, diagonal, site);
}
Tensor Tensor::outer(const Tensor& other, CallSite site) const {
  return deferred::outer(*this, other, site);
}
Tensor Tensor::matmul(const Tensor& other, CallSite site) const {
  return deferred::matmul(*this, other, site);
}
Tensor Tensor::sum(CallSite site) const { return deferred::sum(*this, site); }
Tensor Tensor::sum(const Shape& dims, bool keepdim, CallSite site) const {
  return deferred::sum(*this, dims, keepdim, site);
}
Tensor Tensor::mean(CallSite site) const { return deferred::mean(*this, site); }
Tensor Tensor::mean(const Shape& dims, bool keepdim, CallSite site) const {
  return deferred::mean(*this, dims, keepdim, site);
}
Tensor Tensor::var(int64_t correction, CallSite site) const {
  return deferred::var(*this, correction, site);
}
Tensor Tensor::var(const Shape& dims, bool keepdim, int64_t correction, CallSite site) const {
  return deferred::var(*this, dims, keepdim, correction, site);
}
Tensor Tensor::var(std::initializer_list<int64_t> dims, bool keepdim, int64_t correction,
                   CallSite site) const {
  return deferred::var(*this, Shape(dims), keepdim, correction, site);
}
Tensor Tensor::std(int64_t correction, CallSite site) const {
  return deferred::std(*this, correction, site);
}
Tensor Tensor::std(const Shape& dims, bool keepdim, int64_t correction, CallSite site) const {
  return deferred::std(*this, dims, keepdim, correction, site);
}
Tensor Tensor::std(std::initializer_list<int64_t> dims, bool keepdim, int64_t correction,
                   CallSite site) const {
  return deferred::std(*this, Shape(dims), keepdim, correction, site);
}
Tensor Tensor::min(CallSite site) const { return deferred::min(*this, site); }
Tensor Tensor::min(const Shape& dims, bool keepdim, CallSite site) const {
  return deferred::min(*this, dims, keepdim, site);
}
Tensor Tensor::max(CallSite site) const { return deferred::max(*this, site); }
Tensor Tensor::max(const Shape& dims, bool keepdim, CallSite site) const {
  return deferred::max(*this, dims, keepdim, site);
}
Tensor Tensor::masked_fill(const Tensor& mask, Scalar value, CallSite site) const {
  return deferred::masked_fill(*this, mask, value, site);
}
Tensor Tensor::masked_fill_(const Tensor& mask, Scalar value, CallSite site) const {
  return deferred::masked_fill_(*this, mask, value, site);
}
Tensor Tensor::norm(double p, CallSite site) const { return deferred::norm(*this, p, site); }
Tensor Tensor::norm(double p, const Shape& dims, bool keepdim, CallSite site) const {
  return deferred::norm(*this, p, dims, keepdim, site);
}
Tensor Tensor::argsort(int64_t dim, bool descending, CallSite site) const {
  return deferred::argsort(*this, dim, descending, site);
}
Tensor Tensor::cumsum(int64_t dim, CallSite site) const {
  return deferred::cumsum(*this, dim, site);
}

}  // namespace deferred
