#ifndef DEFERRED_FAKE_TENSOR_OPS_SHAPE_OPS_H_
#define DEFERRED_FAKE_TENSOR_OPS_SHAPE_OPS_H_

#include <cstdint>
#include <vector>

#include "fake_tensor/call_site.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// Ops that build a new tensor from the elements of others (not views: results own their
// storage), with PyTorch's semantics. Dims may be negative (counted from the end). Each
// throws `Error` naming the op and the offending values on misuse; shapes and dtypes are
// checked without data, so the ops also run on meta and fake tensors.

// The tensors joined along `dim`, in the promoted dtype of all of them. All must have the
// same number of dims (at least 1) and equal sizes except along `dim`; errors name the
// offending input's index and shape. As in PyTorch, 1-d tensors with no elements are
// skipped in the shape checks (they contribute nothing). Throws for an empty list.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0, CallSite site = CallSite::Here());

// The tensors, all of one shape, joined along a new dim `dim` (in [-ndim - 1, ndim]), in
// their promoted dtype. Throws for an empty list or differing shapes.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0, CallSite site = CallSite::Here());

// `t` tiled `repeats[d]` times along each dim d. `repeats` may be longer than t.dim(): t
// then gains leading dims of size 1 first, as in PyTorch. Throws when it is shorter, or
// when a repeat count is negative.
Tensor repeat(const Tensor& t, const Shape& repeats, CallSite site = CallSite::Here());

// The lower (tril) or upper (triu) triangle of the matrices in t's last two dims: element
// (..., i, j) is kept when j - i <= diagonal (tril) or j - i >= diagonal (triu), and is 0
// (false) otherwise. Same shape and dtype as `t`. Throws for fewer than 2 dims.
Tensor tril(const Tensor& t, int64_t diagonal = 0, CallSite site = CallSite::Here());
Tensor triu(const Tensor& t, int64_t diagonal = 0, CallSite site = CallSite::Here());
// In place: zeroes the elements of `self` outside the triangle (through its strides; a
// view writes into its base) and returns `self`. Also throws when elements of `self` share
// memory (an expanded view).
Tensor tril_(const Tensor& self, int64_t diagonal = 0, CallSite site = CallSite::Here());
Tensor triu_(const Tensor& self, int64_t diagonal = 0, CallSite site = CallSite::Here());

// result[i][j] = a[i] * b[j] for 1-d `a` and `b`, in their promoted dtype (the product in
// its op-math type, wrapping for integers, logical and for bool).
Tensor outer(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());

// Matrix product with torch.matmul's semantics: 1-d x 1-d is the dot product (0-d result);
// 2-d x 2-d the matrix product; a 1-d left operand is a row vector [1, k] and a 1-d right
// operand a column vector [k, 1], whose added dim is removed from the result; with more
// dims, the leading (batch) dims broadcast and each matrix pair is multiplied. Inputs are
// promoted to one dtype (bool is rejected). Throws for 0-d inputs, inner sizes that differ
// (naming both shapes) and batch dims that do not broadcast.
//
// Arithmetic, fixed so that every device reproduces it bit for bit: each output element
// is acc = acc + a[i][p] * b[p][j] for p = 0, 1, ..., k - 1 in increasing order, starting
// from acc = +0, as separate multiply and add (no fused multiply-add) in the op-math type
// (float for float32, float16 and bfloat16; double for float64; for integer dtypes the
// dtype itself, wrapping on overflow), then rounded once to the result dtype. Elements are
// independent of each other, so the result does not depend on the thread count.
Tensor matmul(const Tensor& a, const Tensor& b, CallSite site = CallSite::Here());

// The Q of the reduced QR decomposition of a 2-d floating `a` [m, n] with m >= n, its
// columns multiplied by the signs of R's diagonal (so that R's diagonal is non-negative,
// the unique Q of a full-rank `a`): what nn.init.orthogonal_ takes from torch.linalg.qr.
// Householder reflections in double, in a fixed order; the result keeps a's dtype. Always
// computed whole. Throws for another rank, m < n or a non-floating dtype.
Tensor qr_q(const Tensor& a, CallSite site = CallSite::Here());

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_SHAPE_OPS_H_
