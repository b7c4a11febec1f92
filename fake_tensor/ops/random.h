#ifndef DEFERRED_FAKE_TENSOR_OPS_RANDOM_H_
#define DEFERRED_FAKE_TENSOR_OPS_RANDOM_H_

#include <cstdint>

#include "fake_tensor/call_site.h"
#include "fake_tensor/ops/tensor_options.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// Random ops. Each call reserves ceil(numel * W / 4) Philox counter blocks from the
// process-wide generator (fake_tensor/generator.h), W being the words per element named
// below, and element i (in the row-major order of `self`, also when self is a view) is a
// function of (seed, offset, i) alone: docs/RNG.md. The in-place forms write through self's
// strides and return self; they throw `Error`, naming the op, for a bad parameter or dtype
// and for a self whose elements share memory (an expanded view).

// Uniform values in [from, to): from <= to, both finite in self's floating dtype, and
// to - from finite. W = 2 for float64, else 1.
Tensor uniform_(const Tensor& self, double from = 0.0, double to = 1.0,
                CallSite site = CallSite::Here());

// Normal values (Box–Muller): std >= 0. W = 2 for float64, else 1.
Tensor normal_(const Tensor& self, double mean = 0.0, double std = 1.0,
               CallSite site = CallSite::Here());

// Normal values truncated to [a, b] by PyTorch's nn.init.trunc_normal_ method (inverse
// CDF of a uniform over [cdf(a), cdf(b)]): std > 0, a < b. W = 2 for float64, else 1.
Tensor trunc_normal_(const Tensor& self, double mean = 0.0, double std = 1.0, double a = -2.0,
                     double b = 2.0, CallSite site = CallSite::Here());

// Integers uniform in [from, to) (modulo a draw, as PyTorch): from < to, and from and
// to - 1 must be values of self's dtype (for floating dtypes within +-2^digits, where
// every integer is exact). W = 2 when to - from >= 2^32, else 1.
Tensor random_(const Tensor& self, int64_t from, int64_t to, CallSite site = CallSite::Here());
// [0, to).
Tensor random_(const Tensor& self, int64_t to, CallSite site = CallSite::Here());
// PyTorch's default range: [0, 2^digits] for floating dtypes (digits of the significand,
// e.g. 24 for float32), [0, max] for integral ones, {false, true} for bool.
Tensor random_(const Tensor& self, CallSite site = CallSite::Here());

// 1 with probability p, else 0, in any dtype: 0 <= p <= 1. W = 1.
Tensor bernoulli_(const Tensor& self, double p = 0.5, CallSite site = CallSite::Here());

// Factories: an empty tensor filled by the in-place op, so they reserve exactly what the
// in-place forms reserve. The dtype defaults to float32 (int64 for randint); a bad dtype or
// parameter throws `Error` naming the factory before anything is allocated or recorded.

// uniform_(0, 1).
Tensor rand(const Shape& sizes, TensorOptions options = {}, CallSite site = CallSite::Here());
// normal_(0, 1).
Tensor randn(const Shape& sizes, TensorOptions options = {}, CallSite site = CallSite::Here());
// random_(low, high).
Tensor randint(int64_t low, int64_t high, const Shape& sizes, TensorOptions options = {},
               CallSite site = CallSite::Here());
Tensor randint(int64_t high, const Shape& sizes, TensorOptions options = {},
               CallSite site = CallSite::Here());
// normal_(mean, std).
// A random permutation of 0..n-1 (int64 unless options say otherwise), as torch.randperm:
// the stable argsort of n keys drawn by random_ over int64's default range (2 words per
// element), so element i's key depends only on (seed, offset, i). Throws for a negative n
// or a dtype that cannot hold n - 1.
Tensor randperm(int64_t n, TensorOptions options = {}, CallSite site = CallSite::Here());

Tensor normal(double mean, double std, const Shape& sizes, TensorOptions options = {},
              CallSite site = CallSite::Here());

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OPS_RANDOM_H_
