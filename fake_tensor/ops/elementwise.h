#ifndef DEFERRED_FAKE_TENSOR_OPS_ELEMENTWISE_H_
#define DEFERRED_FAKE_TENSOR_OPS_ELEMENTWISE_H_

#include "fake_tensor/call_site.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/scalar.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// Elementwise ops. Tensor operands broadcast (numpy rules); the result dtype follows
// PyTorch's promotion (PromoteTypes, PromoteWithScalar). In-place forms (trailing `_`)
// write into `self` through its strides (a view writes into its base) and return it; they
// throw `Error` when `other` does not broadcast to self's shape, the promoted dtype
// cannot be cast to self's (a float result into an integer tensor), or self has elements
// that share memory (MayHaveInternalOverlap: an expanded view). An input may be self
// itself (each element is read before it is written) or lie elsewhere in self's storage;
// one that partially overlaps self is an error (the dispatcher checks). Scalar operands of
// add, sub, mul, div and pow enter the arithmetic in the op-math type (float for float16
// and bfloat16, as in PyTorch); comparisons convert them to the compared dtype.

Tensor add(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor add(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor sub(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor sub(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor mul(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor mul(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
// True division: integer inputs give float32.
Tensor div(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor div(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor pow(const Tensor& a, const Tensor& exponent, CallSite site = CallSite::Here());
// An integral tensor to a negative integer scalar power throws (as in PyTorch); with a
// tensor exponent, negative powers give 0 unless the base is 1 or -1.
Tensor pow(const Tensor& a, Scalar exponent, CallSite site = CallSite::Here());
// base ** exponent elementwise, in the dtype PyTorch's torch.pow(Scalar, Tensor) gives
// (the exponent's promoted with the base's kind: an integral exponent and a floating base
// give float32); computed as pow of a 0-d tensor holding the base (in float32 for 16-bit
// results, which are then rounded).
Tensor pow(Scalar base, const Tensor& exponent, CallSite site = CallSite::Here());

Tensor add_(const Tensor& self, const Tensor& other, CallSite site = CallSite::Here());
Tensor add_(const Tensor& self, Scalar other, CallSite site = CallSite::Here());
Tensor sub_(const Tensor& self, const Tensor& other, CallSite site = CallSite::Here());
Tensor sub_(const Tensor& self, Scalar other, CallSite site = CallSite::Here());
Tensor mul_(const Tensor& self, const Tensor& other, CallSite site = CallSite::Here());
Tensor mul_(const Tensor& self, Scalar other, CallSite site = CallSite::Here());
Tensor div_(const Tensor& self, const Tensor& other, CallSite site = CallSite::Here());
Tensor div_(const Tensor& self, Scalar other, CallSite site = CallSite::Here());
Tensor pow_(const Tensor& self, const Tensor& exponent, CallSite site = CallSite::Here());
Tensor pow_(const Tensor& self, Scalar exponent, CallSite site = CallSite::Here());

// Keep the input's dtype (bool is rejected by neg).
Tensor neg(const Tensor& a, CallSite site = CallSite::Here());
Tensor abs(const Tensor& a, CallSite site = CallSite::Here());
// Floating results: integer and bool inputs give float32.
Tensor exp(const Tensor& a, CallSite site = CallSite::Here());
Tensor log(const Tensor& a, CallSite site = CallSite::Here());
Tensor sqrt(const Tensor& a, CallSite site = CallSite::Here());
Tensor rsqrt(const Tensor& a, CallSite site = CallSite::Here());
Tensor sin(const Tensor& a, CallSite site = CallSite::Here());
Tensor cos(const Tensor& a, CallSite site = CallSite::Here());
Tensor tanh(const Tensor& a, CallSite site = CallSite::Here());
// 1 / (1 + exp(-a)).
Tensor sigmoid(const Tensor& a, CallSite site = CallSite::Here());
Tensor erf(const Tensor& a, CallSite site = CallSite::Here());
Tensor log2(const Tensor& a, CallSite site = CallSite::Here());
Tensor exp2(const Tensor& a, CallSite site = CallSite::Here());
// exp(a) - 1 and log(1 + a), accurate near 0.
Tensor expm1(const Tensor& a, CallSite site = CallSite::Here());
Tensor log1p(const Tensor& a, CallSite site = CallSite::Here());
// 1 / a; integers give float32, as in PyTorch.
Tensor reciprocal(const Tensor& a, CallSite site = CallSite::Here());
// Keep the input's dtype (integers pass through; bool is rejected); round takes halves to
// even, as torch.round does.
Tensor floor(const Tensor& a, CallSite site = CallSite::Here());
Tensor ceil(const Tensor& a, CallSite site = CallSite::Here());
Tensor round(const Tensor& a, CallSite site = CallSite::Here());
// -1, 0 or 1 in the input's dtype (NaN stays NaN; bool passes through).
Tensor sign(const Tensor& a, CallSite site = CallSite::Here());

Tensor neg_(const Tensor& self, CallSite site = CallSite::Here());
Tensor abs_(const Tensor& self, CallSite site = CallSite::Here());
Tensor exp_(const Tensor& self, CallSite site = CallSite::Here());
Tensor log_(const Tensor& self, CallSite site = CallSite::Here());
Tensor sqrt_(const Tensor& self, CallSite site = CallSite::Here());
Tensor rsqrt_(const Tensor& self, CallSite site = CallSite::Here());
Tensor sin_(const Tensor& self, CallSite site = CallSite::Here());
Tensor cos_(const Tensor& self, CallSite site = CallSite::Here());
Tensor tanh_(const Tensor& self, CallSite site = CallSite::Here());
Tensor sigmoid_(const Tensor& self, CallSite site = CallSite::Here());
Tensor erf_(const Tensor& self, CallSite site = CallSite::Here());
Tensor log2_(const Tensor& self, CallSite site = CallSite::Here());
Tensor exp2_(const Tensor& self, CallSite site = CallSite::Here());
Tensor expm1_(const Tensor& self, CallSite site = CallSite::Here());
Tensor log1p_(const Tensor& self, CallSite site = CallSite::Here());
Tensor reciprocal_(const Tensor& self, CallSite site = CallSite::Here());
Tensor floor_(const Tensor& self, CallSite site = CallSite::Here());
Tensor ceil_(const Tensor& self, CallSite site = CallSite::Here());
Tensor round_(const Tensor& self, CallSite site = CallSite::Here());
Tensor sign_(const Tensor& self, CallSite site = CallSite::Here());

// Limits each element to [min, max] (to max where min > max; NaN stays NaN); keeps a's
// dtype unless a bound promotes it. Throws for bool tensors and for a bound that does not
// fit the result dtype (FitsInDType).
Tensor clamp(const Tensor& a, Scalar min, Scalar max, CallSite site = CallSite::Here());
Tensor clamp_(const Tensor& self, Scalar min, Scalar max, CallSite site = CallSite::Here());

// condition ? a : b elementwise; `condition` must be bool; all three broadcast.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b,
             CallSite site = CallSite::Here());

// Comparisons give bool tensors, comparing in the promoted dtype.
Tensor eq(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor eq(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor ne(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor ne(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor lt(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor lt(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor le(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor le(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor gt(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor gt(const Tensor& a, Scalar b, CallSite site = CallSite::Here());
Tensor ge(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor ge(const Tensor& a, Scalar b, CallSite site = CallSite::Here());

// The larger (smaller) of a and b elementwise, in their promoted dtype; NaN if either is
// NaN, as torch.maximum and torch.minimum give.
Tensor maximum(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());
Tensor minimum(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());

// `self` with `value` where the bool `mask` (which broadcasts to self's shape) is true, as
// torch.masked_fill; composed as where(mask, value, self), so the result keeps self's
// dtype. Throws for a mask that is not bool or does not broadcast to self, and for a value
// that does not fit self's dtype. masked_fill_ writes the result into self.
Tensor masked_fill(const Tensor& self, const Tensor& mask, Scalar value,
                   CallSite site = CallSite::Here());
Tensor masked_fill_(const Tensor& self, const Tensor& mask, Scalar value,
                    CallSite site = CallSite::Here());

// A copy converted to `dtype` (PyTorch's casts: float to int truncates, nonzero to true,
// to 16-bit floats rounds to nearest even). Returns `a` itself when it has that dtype.
Tensor to(const Tensor& a, DType dtype, CallSite site = CallSite::Here());

// In-place fills and copies. copy_ takes any strides and any dtype (cast on the way);
// `src` must broadcast to self's shape. fill_ throws if the value does not fit self's
// dtype (FitsInDType), and may write an expanded view (all its elements get the value).
Tensor fill_(const Tensor& self, Scalar value, CallSite site = CallSite::Here());
Tensor zero_(const Tensor& self, CallSite site = CallSite::Here());
Tensor copy_(const Tensor& self, const Tensor& src, CallSite site = CallSite::Here());

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
// reciprocal(b) * a, as PyTorch computes a / b for a Scalar a.
Tensor operator/(Scalar a, const Tensor& b);
Tensor operator-(const Tensor& a);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_ELEMENTWISE_H_
