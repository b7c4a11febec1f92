#include "cuda_kernels/kernel_args.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "fake_tensor/error.h"
#include "fake_tensor/region_rules.h"
#include "replay/math/index_values_of.h"

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
