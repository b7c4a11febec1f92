// CPU kernels of the ops in fake_tensor/ops/shape_ops.h. cat, stack and repeat copy each
// input into a view of the output (CastCopy converts to the output dtype on the way);
// tril/triu and matmul walk the output themselves, each output element computed by exactly
// one thread from nothing but the inputs, so that the thread count cannot change a result.
#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "fake_tensor/op_registry.h"
#include "replay/kernels/cast.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/strided_loop.h"
#include "replay/math/copy_views.h"
#include "replay/math/elementwise_ops.h"
#include "replay/math/reductions.h"

namespace deferred {
namespace {

// `t` restricted to [start, start + length) along `dim`: a kernel-level view (no dispatch).
void CatKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  for (const math::ViewCopy& copy : math::CatCopies(call, outputs[0])) {
    CastCopy(copy.destination, copy.source);
  }
}

void StackKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  for (const math::ViewCopy& copy : math::StackCopies(call, outputs[0])) {
    CastCopy(copy.destination, copy.source);
  }
}

void RepeatKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const math::ViewCopy copy = math::RepeatCopy(call, outputs[0]);
  CastCopy(copy.destination, copy.source);
}

// out = tril(input) (kLower) or triu(input); out may be input itself (the in-place forms).
template <bool kLower>
void TriangleKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Tensor& input = call.inputs[0];
  const int64_t diagonal = call.attrs.Get<int64_t>("diagonal");
  if (out.numel() == 0) return;
  const int64_t cols = out.size(-1);
  // Every row of every matrix, numbered row-major over all dims but the last.
  const absl::Span<const int64_t> row_sizes(out.sizes().data(), out.dim() - 1);
  const absl::Span<const int64_t> out_row_strides(out.strides().data(), out.dim() - 1);
  const absl::Span<const int64_t> in_row_strides(input.strides().data(), input.dim() - 1);
  const int64_t rows = NumElements(row_sizes);
  const int64_t matrix_rows = out.size(-2);
  const int64_t out_col_stride = out.stride(-1);
  const int64_t in_col_stride = input.stride(-1);
  VisitDType(out.dtype(), [&]<typename T>() {
    T* out_data = out.data_ptr<T>();
    const T* in_data = input.data_ptr<T>();
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / cols);
    ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t i = r % matrix_rows;
        T* out_row = out_data + OffsetOf(r, row_sizes, out_row_strides);
        const T* in_row = in_data + OffsetOf(r, row_sizes, in_row_strides);
        for (int64_t j = 0; j < cols; ++j) {
          const bool keep = kLower ? j - i <= diagonal : j - i >= diagonal;
          out_row[j * out_col_stride] = keep ? in_row[j * in_col_stride] : T{};
        }
      }
    });
  });
}

void OuterKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Tensor column = math::OuterColumn(CastIfNeeded(call.inputs[0], out.dtype()));
  const Tensor b = CastIfNeeded(call.inputs[1], out.dtype());
  VisitDType(out.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    MapElements<T, T, T>(out, [](T x, T y) { return math::ApplyBinary<T>(math::Mul(), x, M(y)); },
                         {column, b});
  });
}

// Output columns accumulated together: their accumulators stay in registers/L1 while the
// k loop streams one row of b.
inline constexpr int64_t kMatmulBlock = 64;

// acc[t] = acc[t] + a_value * b_row[t] for t < width, each element on its own: the same
// arithmetic per element as a loop over one output element at a time. A constant width
// lets the compiler vectorize across t without changing any element's operations.
template <typename Acc, typename M, int64_t kWidth>
void AccumulateRow(Acc* acc, M a_value, const M* b_row, int64_t width) {
  const int64_t n = kWidth > 0 ? kWidth : width;
  for (int64_t t = 0; t < n; ++t) {
    acc[t] = math::MultiplyAdd(acc[t], a_value, b_row[t]);
  }
}

// The elements of `t` converted to M, contiguous in t's row-major order: `t` itself when
// it is already so, else a copy.
Tensor ContiguousAs(const Tensor& t, DType math_dtype) {
  if (t.dtype() == math_dtype && t.is_contiguous()) return t;
  Tensor copy = AllocateTensor(t.sizes(), math_dtype, t.device());
  CastCopy(copy, t);
  return copy;
}

// Matrix number (row-major over its own batch dims) of each element of the broadcast
// batch `batch`, for an operand whose batch dims are `own` (trailing-aligned; size-1 dims
// broadcast).
std::vector<int64_t> MatrixIndices(const Shape& batch, absl::Span<const int64_t> own) {
  const int64_t count = NumElements(batch);
  const int64_t lead = static_cast<int64_t>(batch.size() - own.size());
  Shape strides(batch.size(), 0);
  const Shape own_strides = ContiguousStrides(own);
  for (size_t d = 0; d < own.size(); ++d) {
    if (own[d] != 1) strides[lead + d] = own_strides[d];
  }
  std::vector<int64_t> indices(count);
  for (int64_t q = 0; q < count; ++q) indices[q] = OffsetOf(q, batch, strides);
  return indices;
}

// Both operands are packed contiguous in the op-math type; each chunk of output elements is
// then computed a row segment at a time, kMatmulBlock columns at once in i-p-j order, so
// that rows of b stream through the cache while every element still adds its own
// products in increasing p (the order the header fixes).
void MatmulKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& out = outputs[0];
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  // a as [a_batch..., n, k] and b as [b_batch..., k, m]: a 1-d a is a row, a 1-d b a column.
  const int64_t a_batch_dims = std::max<int64_t>(a.dim() - 2, 0);
  const int64_t b_batch_dims = std::max<int64_t>(b.dim() - 2, 0);
  const absl::Span<const int64_t> a_batch(a.sizes().data(), a_batch_dims);
  const absl::Span<const int64_t> b_batch(b.sizes().data(), b_batch_dims);
  const int64_t n = a.dim() >= 2 ? a.size(-2) : 1;
  const int64_t k = a.size(-1);
  const int64_t m = b.dim() >= 2 ? b.size(-1) : 1;
  const Shape batch = BroadcastShapes(a_batch, b_batch, "matmul");
  const int64_t batch_count = NumElements(batch);
  const int64_t total = batch_count * n * m;
  if (total == 0) return;

  // The output's strides per batch dim, and along n and m (0 where the dim was removed).
  const int64_t out_batch_dims = static_cast<int64_t>(batch.size());
  const absl::Span<const int64_t> out_batch_strides(out.strides().data(), out_batch_dims);
  const int64_t out_row_stride = a.dim() >= 2 ? out.stride(out_batch_dims) : 0;
  const int64_t out_col_stride = b.dim() >= 2 ? out.stride(-1) : 0;
  const std::vector<int64_t> a_matrix = MatrixIndices(batch, a_batch);
  const std::vector<int64_t> b_matrix = MatrixIndices(batch, b_batch);

  VisitDType(out.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    using Acc = typename math::MatmulAccumulator<T>::type;
    // Both operands rounded to the result dtype first (promotion), then held in M.
    const Tensor a_math = ContiguousAs(CastIfNeeded(a, out.dtype()), DTypeOf<M>());
    const Tensor b_math = ContiguousAs(CastIfNeeded(b, out.dtype()), DTypeOf<M>());
    const M* a_data = a_math.data_ptr<M>();
    const M* b_data = b_math.data_ptr<M>();
    T* out_data = out.data_ptr<T>();
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(k, 1));
    ParallelFor(total, grain, [&](int64_t begin, int64_t end) {
      std::array<Acc, kMatmulBlock> acc;
      // Each pass takes the chunk's part of one output row, [j_begin, j_end).
      for (int64_t e = begin; e < end;) {
        const int64_t row = e / m;
        const int64_t j_begin = e % m;
        const int64_t j_end = std::min(m, j_begin + (end - e));
        const int64_t q = row / n;
        const int64_t i = row % n;
        const M* a_row = a_data + (a_matrix[q] * n + i) * k;
        const M* b_matrix_data = b_data + b_matrix[q] * k * m;
        T* out_row = out_data + OffsetOf(q, batch, out_batch_strides) + i * out_row_stride;
        for (int64_t j0 = j_begin; j0 < j_end; j0 += kMatmulBlock) {
          const int64_t width = std::min(kMatmulBlock, j_end - j0);
          std::fill_n(acc.begin(), width, Acc{0});
          for (int64_t p = 0; p < k; ++p) {
            const M* b_row = b_matrix_data + p * m + j0;
            if (width == kMatmulBlock) {
              AccumulateRow<Acc, M, kMatmulBlock>(acc.data(), a_row[p], b_row, width);
            } else {
              AccumulateRow<Acc, M, 0>(acc.data(), a_row[p], b_row, width);
            }
          }
          for (int64_t t = 0; t < width; ++t) {
            out_row[(j0 + t) * out_col_stride] = CastElement<T>(static_cast<M>(acc[t]));
          }
        }
        e += j_end - j_begin;
      }
    });
  });
}

// Householder QR of a [m, n] (m >= n) in double: reflection k zeroes column k below the
// diagonal; Q's first n columns are the reflections applied, last to first, to the first n
// columns of the identity; column k is then multiplied by the sign of R[k][k]. Sequential,
// so the result is the same on every run and thread count.
void QrQKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Tensor& a = call.inputs[0];
  const Tensor& out = outputs[0];
  const int64_t m = a.size(0), n = a.size(1);
  std::vector<double> r(m * n);  // row-major
  VisitDType(a.dtype(), [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    const T* data = a.data_ptr<T>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        r[i * n + j] = static_cast<double>(M(data[i * a.stride(0) + j * a.stride(1)]));
      }
    }
  });
  std::vector<std::vector<double>> reflections(n);  // v_k over rows k..m-1
  std::vector<double> scales(n, 0.0);               // 2 / |v_k|^2, or 0: no reflection
  for (int64_t k = 0; k < n; ++k) {
    double norm2 = 0.0;
    for (int64_t i = k; i < m; ++i) norm2 = norm2 + r[i * n + k] * r[i * n + k];
    const double norm = std::sqrt(norm2);
    std::vector<double>& v = reflections[k];
    v.assign(m - k, 0.0);
    for (int64_t i = k; i < m; ++i) v[i - k] = r[i * n + k];
    v[0] = v[0] + (v[0] < 0 ? -norm : norm);  // x + sign(x0) |x| e0: no cancellation
    double v_norm2 = 0.0;
    for (double x : v) v_norm2 = v_norm2 + x * x;
    if (v_norm2 == 0.0) continue;
    scales[k] = 2.0 / v_norm2;
    for (int64_t j = k; j < n; ++j) {
      double dot = 0.0;
      for (int64_t i = k; i < m; ++i) dot = dot + v[i - k] * r[i * n + j];
      const double f = scales[k] * dot;
      for (int64_t i = k; i < m; ++i) r[i * n + j] = r[i * n + j] - f * v[i - k];
    }
  }
  std::vector<double> q(m * n, 0.0);
  for (int64_t j = 0; j < n; ++j) q[j * n + j] = 1.0;
  for (int64_t k = n - 1; k >= 0; --k) {
    if (scales[k] == 0.0) continue;
    const std::vector<double>& v = reflections[k];
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (int64_t i = k; i < m; ++i) dot = dot + v[i - k] * q[i * n + j];
      const double f = scales[k] * dot;
      for (int64_t i = k; i < m; ++i) q[i * n + j] = q[i * n + j] - f * v[i - k];
    }
  }
  VisitDType(out.dtype(), [&]<typename T>() {
    T* data = out.data_ptr<T>();
    for (int64_t j = 0; j < n; ++j) {
      const double d = r[j * n + j];
      const double sign = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
      for (int64_t i = 0; i < m; ++i) {
        data[i * out.stride(0) + j * out.stride(1)] = CastElement<T>(q[i * n + j] * sign);
      }
    }
  });
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterKernel("qr_q", DeviceType::kCPU, QrQKernel);
  registry.RegisterKernel("cat", DeviceType::kCPU, CatKernel);
  registry.RegisterKernel("stack", DeviceType::kCPU, StackKernel);
  registry.RegisterKernel("repeat", DeviceType::kCPU, RepeatKernel);
  registry.RegisterKernel("tril", DeviceType::kCPU, TriangleKernel<true>);
  registry.RegisterKernel("tril_", DeviceType::kCPU, TriangleKernel<true>);
  registry.RegisterKernel("triu", DeviceType::kCPU, TriangleKernel<false>);
  registry.RegisterKernel("triu_", DeviceType::kCPU, TriangleKernel<false>);
  registry.RegisterKernel("outer", DeviceType::kCPU, OuterKernel);
  registry.RegisterKernel("matmul", DeviceType::kCPU, MatmulKernel);
  return true;
}();

}  // namespace
}  // namespace deferred
