#include "tests/random_program.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/ops/views.h"

namespace deferred {
namespace {

// Draws shapes, views and ops from `rng`; every decision depends only on the seed and on
// metadata, so the eager and the recorded run make the same calls.
class ProgramBuilder {
 public:
  explicit ProgramBuilder(uint64_t seed) : rng_(seed) {}

  int64_t Uniform(int64_t lo, int64_t hi) {  // [lo, hi]
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  Shape RandomShape() {
    Shape sizes(Uniform(1, 3));
    for (int64_t& s : sizes) s = Uniform(1, 5);
    return sizes;
  }

  // A view of `t` over part of its storage: a narrowed dim, a strided dim, a transpose,
  // or t itself. Built from layouts directly, so it is the same view eagerly and fake.
  Tensor RandomView(const Tensor& t) {
    TensorLayout layout = t.layout();
    const int64_t ndim = t.dim();
    if (ndim == 0) return t;
    const int64_t d = Uniform(0, ndim - 1);
    switch (Uniform(0, 3)) {
      case 0: {  // narrow
        const int64_t start = Uniform(0, layout.sizes[d] - 1);
        const int64_t length = Uniform(1, layout.sizes[d] - start);
        layout.storage_offset += start * layout.strides[d];
        layout.sizes[d] = length;
        break;
      }
      case 1: {  // every other element
        layout.sizes[d] = (layout.sizes[d] + 1) / 2;
        layout.strides[d] *= 2;
        break;
      }
      case 2: {  // transpose with another dim
        const int64_t e = Uniform(0, ndim - 1);
        std::swap(layout.sizes[d], layout.sizes[e]);
        std::swap(layout.strides[d], layout.strides[e]);
        break;
      }
      default:
        break;
    }
    return MakeView(t, layout);
  }

  // A shape that broadcasts to `sizes`: trailing dims kept or set to 1, leading ones
  // possibly dropped.
  Shape BroadcastableTo(const Shape& sizes) {
    const int64_t drop = Uniform(0, static_cast<int64_t>(sizes.size()));
    Shape out(sizes.begin() + drop, sizes.end());
    for (int64_t& s : out) {
      if (Uniform(0, 2) == 0) s = 1;
    }
    return out;
  }

  Tensor RandomFactory(const Shape& sizes, DType dtype) {
    switch (Uniform(0, 6)) {
      case 0: return zeros(sizes, {.dtype = dtype});
      case 1: return full(sizes, Uniform(-3, 3), {.dtype = dtype});
      case 2:
        if (sizes.empty()) return full(sizes, 2, {.dtype = dtype});
        return add(full(sizes, 1, {.dtype = dtype}), arange(0, sizes.back(), 1, {.dtype = dtype}));
      case 3:
        if (sizes.size() != 2) return ones(sizes, {.dtype = dtype});
        return mul(eye(sizes[0], sizes[1], {.dtype = dtype}), Uniform(1, 3));
      case 4:
        if (sizes.size() != 1) return full(sizes, -1, {.dtype = dtype});
        return linspace(-Uniform(0, 4), Uniform(0, 4), sizes[0], {.dtype = dtype});
      case 5: {  // a constant with the values -2, -1, 0, 1, 2 in turn
        std::vector<double> values(NumElements(sizes));
        for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 5) - 2;
        return to(from_data<double>(absl::MakeConstSpan(values), sizes), dtype);
      }
      default: return ones(sizes, {.dtype = dtype});
    }
  }

  Tensor RandomFunctional(const Tensor& a) {
    const Tensor b = RandomFactory(BroadcastableTo(a.sizes()), a.dtype());
    // Floating results return to a's dtype from domains where the casts are defined.
    const auto back = [&](const Tensor& t) { return to(t, a.dtype()); };
    const auto positive = [&] { return add(abs(a), 1); };
    switch (Uniform(0, 41)) {
      case 0: return add(a, b);
      case 1: return sub(a, b);
      case 2: return mul(a, b);
      case 3: return div(a, add(b, 7));
      case 4: return where(lt(a, b), a, b);
      case 5: return back(exp(div(a, 8)));
      case 6: return clamp(a, -2, 2);
      case 7: return abs(neg(a));
      case 8: return back(ge(a, b));
      case 9: return back(mul(tanh(a), 3));
      case 10: return back(mul(sigmoid(a), 4));
      case 11: return back(mul(erf(div(a, 2)), 3));
      case 12: return back(log2(positive()));
      case 13: return back(exp2(clamp(a, -6, 6)));
      case 14: return back(expm1(clamp(a, -4, 4)));
      case 15: return back(log1p(abs(a)));
      case 16: return back(mul(reciprocal(positive()), 5));
      case 17: return back(floor(div(a, 3)));
      case 18: return back(ceil(div(a, 3)));
      case 19: return back(round(div(a, 2)));
      case 20: return sign(a);
      case 21: return maximum(a, b);
      case 22: return minimum(a, b);
      case 23: return Uniform(0, 1) == 0 ? 2 - a : 3 + a;
      case 24: return back(mul(log(positive()), 3));
      case 25: return back(mul(sqrt(abs(a)), 2));
      case 26: return back(mul(rsqrt(positive()), 4));
      case 27: return back(mul(sin(a), 3));
      case 28: return back(mul(cos(a), 3));
      case 29: return pow(clamp(a, -3, 3), clamp(abs(b), 0, 3));
      case 30: return pow(clamp(a, -4, 4), Uniform(0, 3));
      case 31: return back(eq(a, b));
      case 32: return back(ne(a, b));
      case 33: return back(gt(a, b));
      case 34: return back(le(a, b));
      case 35: return back(eq(a, Uniform(-2, 2)));
      case 36: return back(ne(a, Uniform(-2, 2)));
      case 37: return back(lt(a, Uniform(-2, 2)));
      case 38: return back(gt(a, Uniform(-2, 2)));
      case 39: return mul(back(le(a, 0)), sub(a, Uniform(-3, 3)));
      case 40: return back(ge(a, Uniform(-2, 2)));
      default: return back(1.5 / positive());
    }
  }

  // A view of `t` made by the view ops themselves.
  Tensor RandomOpView(const Tensor& t) {
    if (t.dim() == 0) return t;
    const int64_t d = Uniform(0, t.dim() - 1);
    const int64_t size = t.size(d);
    switch (Uniform(0, 6)) {
      case 0: {
        const int64_t start = Uniform(0, size - 1);
        return narrow(t, d, start, Uniform(1, size - start));
      }
      case 1: return slice(t, d, Uniform(0, size - 1), size, Uniform(1, 2));
      case 2: return transpose(t, d, Uniform(0, t.dim() - 1));
      case 3: return t.dim() > 1 ? select(t, d, Uniform(0, size - 1)) : t;
      case 4: return t.dim() > 1 ? diagonal(t, 0, 0, 1) : t;
      case 5: return unsqueeze(t, Uniform(0, t.dim()));
      default: {
        Shape dims(t.dim());
        for (int64_t i = 0; i < t.dim(); ++i) dims[i] = t.dim() - 1 - i;
        return permute(t, dims);
      }
    }
  }

  // A new tensor from `a` through views, shape ops and reductions.
  Tensor RandomStructural(const Tensor& a) {
    const bool floating = a.dtype() != DType::kInt64;
    const int64_t d = Uniform(0, a.dim() - 1);
    switch (Uniform(0, 23)) {
      case 0: return clone(RandomOpView(a));
      case 1: return a.dim() >= 2 ? tril(a, Uniform(-2, 2)) : clone(a);
      case 2: return a.dim() >= 2 ? triu(a, Uniform(-2, 2)) : clone(a);
      case 3: {
        const Tensor b = RandomFactory({a.size(-1), Uniform(1, 4)}, a.dtype());
        return a.dim() >= 2 ? matmul(a, b) : matmul(unsqueeze(a, 0), b);
      }
      case 4: return a.dim() == 1 ? outer(a, a) : sum(a, {d}, Uniform(0, 1) == 1);
      case 5: return cat({a, mul(a, 2)}, d);
      case 6: return floating ? mean(a, {d}, Uniform(0, 1) == 1) : clone(a);
      case 7: return contiguous(expand(unsqueeze(a, 0), [&] {
        Shape s = a.sizes();
        s.insert(s.begin(), Uniform(1, 3));
        return s;
      }()));
      case 8: return floating ? add(a, rand(a.sizes(), {.dtype = a.dtype()})) : clone(a);
      case 9: return min(a, {d}, Uniform(0, 1) == 1);
      case 10: return floating ? var(a, {d}, Uniform(0, 1) == 1, Uniform(0, 1)) : clone(a);
      case 11: return floating ? std(a, {d}, Uniform(0, 1) == 1, Uniform(0, 1)) : clone(a);
      case 12: return repeat(a, [&] {
        Shape repeats(a.dim() + Uniform(0, 1));
        for (int64_t& r : repeats) r = Uniform(1, 2);
        return repeats;
      }());
      case 13: return stack({a, add(a, 1)}, Uniform(0, a.dim()));
      case 14: return clone(Uniform(0, 1) == 0 ? squeeze(unsqueeze(a, d))
                                               : squeeze(unsqueeze(a, d), d));
      case 15: return a.dim() == 2 ? clone(t(a)) : clone(transpose(a, 0, d));
      case 16: return mul(view(contiguous(a), {a.numel()}), 2);
      case 17: return cumsum(a, d - (Uniform(0, 1) == 0 ? 0 : a.dim()));
      case 18: return floating ? norm(a, static_cast<double>(Uniform(1, 3)), {d}) : clone(a);
      case 19: return masked_fill(a, gt(a, 1), Uniform(-3, 3));
      case 20: return to(argsort(a, d - (Uniform(0, 1) == 0 ? 0 : a.dim()), Uniform(0, 1) == 1),
                         a.dtype());
      case 21: return mul(to(randperm(a.numel()), a.dtype()), view(contiguous(a), {a.numel()}));
      case 22:  // a full-rank matrix (identity plus a draw), so Q is well defined
        if (!floating || a.dim() != 2 || a.size(0) < a.size(1)) return clone(a);
        return qr_q(add(rand(a.sizes(), {.dtype = a.dtype()}),
                        eye(a.size(0), a.size(1), {.dtype = a.dtype()})));
      default: return max(a, {d}, false);
    }
  }

  // An in-place op on a view of `t` (possibly t itself).
  void RandomInPlace(const Tensor& t) {
    const Tensor view = Uniform(0, 1) == 0 ? RandomView(t) : RandomOpView(t);
    const bool floating = view.dtype() != DType::kInt64;
    if (Uniform(0, 3) == 0) {
      switch (Uniform(0, floating ? 4 : 1)) {
        case 0: random_(view, -5, Uniform(-4, 6)); break;
        case 1: bernoulli_(view, 0.3); break;
        case 2: uniform_(view, -1, 1); break;
        case 3: normal_(view, 0.5, 2); break;
        default: trunc_normal_(view, 0, 1, -1.5, 1.5); break;
      }
      return;
    }
    if (floating && Uniform(0, 2) == 0) {
      RandomFloatingInPlace(view);
      return;
    }
    const Tensor other = RandomFactory(BroadcastableTo(view.sizes()), view.dtype());
    switch (Uniform(0, 14)) {
      case 0: fill_(view, Uniform(-5, 5)); break;
      case 5: mul_(view, view); break;  // reads what it writes, element for element
      case 6: {  // copies one half of a storage into the other
        const Tensor flat = MakeView(t, TensorLayout{{t.numel()}, {1}, t.storage_offset()});
        if (!t.is_contiguous() || t.numel() < 2) break;
        const int64_t half = t.numel() / 2;
        copy_(MakeView(flat, TensorLayout{{half}, {1}, t.storage_offset()}),
              MakeView(flat, TensorLayout{{half}, {1}, t.storage_offset() + t.numel() - half}));
        break;
      }
      case 1: add_(view, other); break;
      case 2: mul_(view, Uniform(-3, 3)); break;
      case 3: copy_(view, to(other, DType::kFloat64)); break;
      case 7: add_(view, Uniform(-3, 3)); break;
      case 8: sub_(view, Uniform(-3, 3)); break;
      case 9: abs_(neg_(view)); break;
      case 10: sign_(view); break;
      case 11: clamp_(view, -3, Uniform(-2, 3)); break;
      case 12: pow_(clamp_(view, -3, 3), Uniform(0, 2)); break;
      case 13:
        if (view.dim() >= 2) {
          Uniform(0, 1) == 0 ? tril_(view, Uniform(-1, 1)) : triu_(view, Uniform(-1, 1));
        }
        break;
      default: sub_(view, other); break;
    }
  }

  // An in-place op of a floating result on a floating view, in domains where it is finite.
  void RandomFloatingInPlace(const Tensor& view) {
    const Tensor other = RandomFactory(BroadcastableTo(view.sizes()), view.dtype());
    switch (Uniform(0, 19)) {
      case 0: div_(view, add(abs(other), 1)); break;
      case 1: div_(view, Uniform(1, 4)); break;
      case 2: exp_(clamp_(view, -4, 4)); break;
      case 3: exp2_(clamp_(view, -4, 4)); break;
      case 4: expm1_(clamp_(view, -4, 4)); break;
      case 5: log_(add_(abs_(view), 1)); break;
      case 6: log2_(add_(abs_(view), 1)); break;
      case 7: log1p_(abs_(view)); break;
      case 8: sqrt_(abs_(view)); break;
      case 9: rsqrt_(add_(abs_(view), 1)); break;
      case 10: reciprocal_(add_(abs_(view), 1)); break;
      case 11: sin_(view); break;
      case 12: cos_(view); break;
      case 13: tanh_(view); break;
      case 14: sigmoid_(view); break;
      case 15: erf_(view); break;
      case 16: floor_(mul_(view, 2.5)); break;
      case 17: ceil_(mul_(view, 2.5)); break;
      case 18: round_(mul_(view, 2.5)); break;
      default: pow_(clamp_(view, 0.5, 2), clamp(other, -1, 2)); break;
    }
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

RandomProgram::RandomProgram(uint64_t seed) : Module("RandomProgram") {
  ProgramBuilder b(seed);
  std::vector<Tensor> pool;
  const DType dtypes[] = {DType::kFloat32, DType::kFloat64, DType::kInt64};
  const int64_t steps = b.Uniform(4, 24);
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t action = pool.empty() ? 0 : b.Uniform(0, 5);
    if (action == 0) {
      pool.push_back(b.RandomFactory(b.RandomShape(), dtypes[b.Uniform(0, 2)]));
    } else if (action == 1 || action == 2) {
      pool.push_back(b.RandomFunctional(pool[b.Uniform(0, pool.size() - 1)]));
    } else if (action == 3) {
      const Tensor& source = pool[b.Uniform(0, pool.size() - 1)];
      if (source.dim() > 0 && source.dim() < 4 && source.numel() < 512) {
        pool.push_back(b.RandomStructural(source));
      }
    } else {
      b.RandomInPlace(pool[b.Uniform(0, pool.size() - 1)]);
    }
  }
  for (size_t i = 0; i < pool.size(); ++i) {
    if (b.Uniform(0, 1) == 0) {
      register_parameter(absl::StrCat("p", i), pool[i]);
    } else {
      register_buffer(absl::StrCat("b", i), pool[i], /*persistent=*/b.Uniform(0, 1) == 0);
    }
  }
  // A tie and a view kept by the module.
  register_parameter("tied", pool[0]);
  register_buffer("view", b.RandomView(pool.back()));
}

}  // namespace deferred
