#include "cuda_kernels/kernel_args.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "fake_tensor/error.h"
#include "fake_tensor/region_rules.h"
#include "fake_tensor/shape.h"
#include "replay/math/index_values_of.h"
#include "replay/math/reduction_walks.h"

namespace deferred::cuda {
namespace {

RandomOpParams ParamsOf(const OpCall& call) {
  const Attrs& attrs = call.attrs;
  const std::string& name = call.def->name;
  RandomOpParams p;
  if (name == "uniform_") {
    p.op = RandomOp::kUniform;
    p.from = attrs.Get<double>("from");
    p.to = attrs.Get<double>("to");
  } else if (name == "normal_") {
    p.op = RandomOp::kNormal;
    p.mean = attrs.Get<double>("mean");
    p.std = attrs.Get<double>("std");
  } else if (name == "trunc_normal_") {
    p.op = RandomOp::kTruncNormal;
    p.mean = attrs.Get<double>("mean");
    p.std = attrs.Get<double>("std");
    p.a = attrs.Get<double>("a");
    p.b = attrs.Get<double>("b");
  } else if (name == "random_") {
    p.op = RandomOp::kInteger;
    p.int_from = attrs.Get<int64_t>("from");
    p.int_to_inclusive = attrs.Get<int64_t>("to_inclusive");
  } else if (name == "bernoulli_") {
    p.op = RandomOp::kBernoulli;
    p.p = attrs.Get<double>("p");
  } else {
    ThrowError("%s has no CUDA random fill", name);
  }
  return p;
}

// The StridedLayout of the elements of `sizes` and `strides` (an output of op `op`) with
// source indices source_offset + sum_d i_d * source_strides[d]: dims of size 1 dropped,
// and neighbours merged where both their strides and their source strides are those of
// one dim.
StridedLayout LayoutOf(const std::string& op, const Shape& sizes, const Shape& strides,
                       const Shape& source_strides, int64_t source_offset) {
  StridedLayout layout;
  layout.numel = NumElements(sizes);
  layout.source_offset = source_offset;
  int n = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    const int64_t size = sizes[d];
    if (size == 1) continue;
    if (n > 0 && layout.strides[n - 1] == strides[d] * size &&
        layout.source_strides[n - 1] == source_strides[d] * size) {
      layout.sizes[n - 1] *= size;
      layout.strides[n - 1] = strides[d];
      layout.source_strides[n - 1] = source_strides[d];
      continue;
    }
    if (n == kMaxLayoutDims) {
      ThrowError("%s: the CUDA fill of shape %s takes at most %d dims after merging", op,
                 ShapeToString(sizes), kMaxLayoutDims);
    }
    layout.sizes[n] = size;
    layout.strides[n] = strides[d];
    layout.source_strides[n] = source_strides[d];
    ++n;
  }
  if (n == 0) {  // one element, or none
    layout.sizes[0] = 1;
    layout.strides[0] = 1;
    layout.source_strides[0] = 1;
    n = 1;
  }
  layout.ndim = n;
  return layout;
}

// The address of `t`'s first element on its device; throws without data.
void* DataOf(const std::string& op, const Tensor& t) {
  std::byte* const data = t.storage()->data();
  if (data == nullptr) ThrowError("%s: %s has no data", op, t.ToString());
  return data + t.storage_offset() * ElementSize(t.dtype());
}

}  // namespace

RandomFillArgs RandomFillArgsOf(const OpCall& call, const Tensor& out) {
  RandomFillArgs fill;
  fill.params = ParamsOf(call);
  const GlobalIndexMap map = GlobalIndexMapOf(call.attrs, out.sizes());
  fill.target.layout =
      LayoutOf(call.def->name, out.sizes(), out.strides(), map.strides, map.offset);
  fill.target.seed = std::bit_cast<uint64_t>(call.attrs.Get<int64_t>("seed"));
  fill.target.offset = std::bit_cast<uint64_t>(call.attrs.Get<int64_t>("offset"));
  fill.target.dtype = out.dtype();
  fill.target.data = DataOf(call.def->name, out);
  const bool floating_only = fill.params.op == RandomOp::kUniform ||
                             fill.params.op == RandomOp::kNormal ||
                             fill.params.op == RandomOp::kTruncNormal;
  if (floating_only && !IsFloatingPoint(out.dtype())) {
    ThrowError("%s: %s is not a floating dtype", call.def->name, DTypeName(out.dtype()));
  }
  return fill;
}

ConstantFillArgs ConstantFillArgsOf(const OpCall& call, const Tensor& out) {
  Shape sizes = out.sizes();
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (out.strides()[d] == 0) sizes[d] = std::min<int64_t>(sizes[d], 1);
  }
  ConstantFillArgs fill;
  fill.layout = LayoutOf(call.def->name, sizes, out.strides(), Shape(sizes.size(), 0), 0);
  fill.dtype = out.dtype();
  const Scalar& value = call.attrs.Get<Scalar>("value");
  VisitDType(out.dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    std::memcpy(&fill.value_bits, &v, sizeof(T));
  });
  fill.data = DataOf(call.def->name, out);
  return fill;
}

IndexedFillArgs IndexedFillArgsOf(const OpCall& call, const Tensor& out) {
  const std::string& name = call.def->name;
  const GlobalIndexMap map = GlobalIndexMapOf(call.attrs, out.sizes());
  const Shape& full =
      call.attrs.Has("full_sizes") ? call.attrs.Get<Shape>("full_sizes") : out.sizes();
  IndexedFillArgs args;
  args.layout = LayoutOf(name, out.sizes(), out.strides(), map.strides, map.offset);
  args.dtype = out.dtype();
  args.data = DataOf(name, out);
  if (name == "arange") {
    args.op = IndexedOp::kArange;
    args.arange = math::ArangeValuesOf(call.attrs);
  } else if (name == "linspace") {
    args.op = IndexedOp::kLinspace;
    args.linspace = math::LinspaceValuesOf(call.attrs, out.dtype(), NumElements(full));
  } else if (name == "eye") {
    args.op = IndexedOp::kEye;
    args.eye = math::EyeValues{full[1]};
  } else {
    ThrowError("%s has no CUDA indexed fill", name);
  }
  return args;
}

TriangleArgs TriangleArgsOf(const OpCall& call, const Tensor& out) {
  const std::string& name = call.def->name;
  const Tensor& input = call.inputs[0];
  TriangleArgs args;
  args.layout = LayoutOf(name, out.sizes(), out.strides(), input.strides(), 0);
  args.dtype = out.dtype();
  args.rows = out.size(-2);
  args.cols = out.size(-1);
  args.diagonal = call.attrs.Get<int64_t>("diagonal");
  args.lower = name == "tril" || name == "tril_";
  args.input = DataOf(name, input);
  args.out = DataOf(name, out);
  return args;
}

ReductionArgs ReductionArgsOf(const OpCall& call, const Tensor& out) {
  const std::string& name = call.def->name;
  const Tensor& input = call.inputs[0];
  const math::ReductionWalk walk = math::ReductionWalkOf(call, out);
  ReductionArgs args;
  args.kept = LayoutOf(name, walk.kept_sizes, walk.kept_output_strides,
                       walk.kept_input_strides, 0);
  if (static_cast<int64_t>(walk.reduced_sizes.size()) > kMaxLayoutDims) {
    ThrowError("%s: the CUDA kernel reduces at most %d dims after merging, not those of %s",
               name, kMaxLayoutDims, input.ToString());
  }
  args.reduced.ndim = static_cast<int32_t>(walk.reduced_sizes.size());
  for (int d = 0; d < args.reduced.ndim; ++d) {
    args.reduced.sizes[d] = walk.reduced_sizes[d];
    args.reduced.strides[d] = walk.reduced_strides[d];
  }
  args.reduced.count = walk.count;
  if (name == "sum") {
    args.op = ReduceOp::kSum;
  } else if (name == "mean") {
    args.op = ReduceOp::kMean;
  } else if (name == "var" || name == "std") {
    args.op = name == "var" ? ReduceOp::kVar : ReduceOp::kStd;
    args.correction = static_cast<double>(call.attrs.Get<int64_t>("correction"));
  } else if (name == "min") {
    args.op = ReduceOp::kMin;
  } else if (name == "max") {
    args.op = ReduceOp::kMax;
  } else {
    ThrowError("%s has no CUDA reduction", name);
  }
  args.dtype = input.dtype();
  args.input = DataOf(name, input);
  args.out = DataOf(name, out);
  return args;
}

LineArgs LineArgsOf(const OpCall& call, const Tensor& out) {
  const std::string& name = call.def->name;
  const math::LineWalk walk = math::LineWalkOf(call, out);
  LineArgs args;
  args.lines = LayoutOf(name, walk.line_sizes, walk.out_strides, walk.in_strides, 0);
  args.length = walk.length;
  args.in_step = walk.in_step;
  args.out_step = walk.out_step;
  if (name == "cumsum") {
    args.op = LineOp::kCumsum;
    args.start = call.attrs.Get<int64_t>("start");
  } else if (name == "argsort") {
    args.op = LineOp::kArgsort;
    args.descending = call.attrs.Get<bool>("descending");
  } else {
    ThrowError("%s has no CUDA kernel over lines", name);
  }
  args.dtype = call.inputs[0].dtype();
  args.input = DataOf(name, call.inputs[0]);
  args.out = DataOf(name, out);
  return args;
}

MatmulArgs MatmulArgsOf(const Tensor& out, const Tensor& a, const Tensor& b,
                        const Tensor& a_packed, const Tensor& b_packed) {
  MatmulArgs args;
  args.dtype = out.dtype();
  args.n = a.dim() >= 2 ? a.size(-2) : 1;
  args.k = a.size(-1);
  args.m = b.dim() >= 2 ? b.size(-1) : 1;
  args.numel = out.numel();
  // a as [a_batch..., n, k] and b as [b_batch..., k, m]: a 1-d a is a row, a 1-d b a column.
  const Shape a_batch(a.sizes().begin(), a.sizes().end() - std::min<int64_t>(a.dim(), 2));
  const Shape b_batch(b.sizes().begin(), b.sizes().end() - std::min<int64_t>(b.dim(), 2));
  const Shape batch = BroadcastShapes(a_batch, b_batch, "matmul");
  const int64_t batch_dims = static_cast<int64_t>(batch.size());
  if (batch_dims > kMaxLayoutDims) {
    ThrowError("matmul: the CUDA kernel takes at most %d batch dims, not those of %s",
               kMaxLayoutDims, out.ToString());
  }
  args.batch_ndim = static_cast<int32_t>(batch_dims);
  args.out_row_stride = a.dim() >= 2 ? out.stride(batch_dims) : 0;
  args.out_col_stride = b.dim() >= 2 ? out.stride(-1) : 0;
  // Packed operands: matrix q of an operand starts at q * (its matrix size), q row-major
  // over its own batch dims, which align with the batch's trailing dims.
  const auto operand_strides = [&](const Shape& own, int64_t matrix_size, int64_t* strides) {
    const int64_t lead = batch_dims - static_cast<int64_t>(own.size());
    int64_t step = matrix_size;
    for (int64_t d = static_cast<int64_t>(own.size()) - 1; d >= 0; --d) {
      strides[lead + d] = own[d] == 1 ? 0 : step;
      step *= own[d];
    }
  };
  operand_strides(a_batch, args.n * args.k, args.a_strides);
  operand_strides(b_batch, args.k * args.m, args.b_strides);
  for (int64_t d = 0; d < batch_dims; ++d) {
    args.batch_sizes[d] = batch[d];
    args.out_strides[d] = out.stride(d);
  }
  // With k = 0 the operands are empty (perhaps without storage) and never read.
  args.a = args.k == 0 ? nullptr : DataOf("matmul", a_packed);
  args.b = args.k == 0 ? nullptr : DataOf("matmul", b_packed);
  args.out = DataOf("matmul", out);
  return args;
}

StridedCopyArgs StridedCopyArgsOf(const std::string& op, const Tensor& dst, const Tensor& src) {
  const int64_t rank = dst.dim();
  const int64_t lead = rank - src.dim();
  if (lead < 0) {
    ThrowError("%s: %s does not broadcast to %s", op, src.ToString(), dst.ToString());
  }
  Shape source_strides(static_cast<size_t>(rank), 0);
  for (int64_t d = lead; d < rank; ++d) {
    const int64_t size = src.sizes()[d - lead];
    if (size != 1 && size != dst.sizes()[d]) {
      ThrowError("%s: %s does not broadcast to %s", op, src.ToString(), dst.ToString());
    }
    source_strides[d] = size == 1 ? 0 : src.strides()[d - lead];
  }
  StridedCopyArgs args;
  args.layout = LayoutOf(op, dst.sizes(), dst.strides(), source_strides, 0);
  args.dst_dtype = dst.dtype();
  args.src_dtype = src.dtype();
  args.dst = DataOf(op, dst);
  args.src = DataOf(op, src);
  return args;
}

}  // namespace deferred::cuda
