#ifndef DEFERRED_FAKE_TENSOR_OPS_ELEMENTWISE_H_
#define DEFERRED_FAKE_TENSOR_OPS_ELEMENTWISE_H_

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

Tensor add(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, Scalar b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, Scalar b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, Scalar b);
// True division: integer inputs give float32.
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, Scalar b);
Tensor pow(const Tensor& a, const Tensor& exponent);
// An integral tensor to a negative integer scalar power throws (as in PyTorch); with a
// tensor exponent, negative powers give 0 unless the base is 1 or -1.
Tensor pow(const Tensor& a, Scalar exponent);

Tensor add_(const Tensor& self, const Tensor& other);
Tensor add_(const Tensor& self, Scalar other);
Tensor sub_(const Tensor& self, const Tensor& other);
Tensor sub_(const Tensor& self, Scalar other);
Tensor mul_(const Tensor& self, const Tensor& other);
Tensor mul_(const Tensor& self, Scalar other);
Tensor div_(const Tensor& self, const Tensor& other);
Tensor div_(const Tensor& self, Scalar other);
Tensor pow_(const Tensor& self, Scalar exponent);

// Keep the input's dtype (bool is rejected by neg).
Tensor neg(const Tensor& a);
Tensor abs(const Tensor& a);
// Floating results: integer and bool inputs give float32.
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);

Tensor neg_(const Tensor& self);
Tensor abs_(const Tensor& self);
Tensor exp_(const Tensor& self);
Tensor log_(const Tensor& self);
Tensor sqrt_(const Tensor& self);
Tensor rsqrt_(const Tensor& self);
Tensor sin_(const Tensor& self);
Tensor cos_(const Tensor& self);

// Limits each element to [min, max] (to max where min > max; NaN stays NaN); keeps a's
// dtype unless a bound promotes it. Throws for bool tensors and for a bound that does not
// fit the result dtype (FitsInDType).
Tensor clamp(const Tensor& a, Scalar min, Scalar max);
Tensor clamp_(const Tensor& self, Scalar min, Scalar max);

// condition ? a : b elementwise; `condition` must be bool; all three broadcast.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

// Comparisons give bool tensors, comparing in the promoted dtype.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, Scalar b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, Scalar b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, Scalar b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, Scalar b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, Scalar b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, Scalar b);

// A copy converted to `dtype` (PyTorch's casts: float to int truncates, nonzero to true,
// to 16-bit floats rounds to nearest even). Returns `a` itself when it has that dtype.
Tensor to(const Tensor& a, DType dtype);

// In-place fills and copies. copy_ takes any strides and any dtype (cast on the way);
// `src` must broadcast to self's shape. fill_ throws if the value does not fit self's
// dtype (FitsInDType), and may write an expanded view (all its elements get the value).
Tensor fill_(const Tensor& self, Scalar value);
Tensor zero_(const Tensor& self);
Tensor copy_(const Tensor& self, const Tensor& src);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_ELEMENTWISE_H_
