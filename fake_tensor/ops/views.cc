#include "fake_tensor/ops/views.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fake_tensor/checked_arithmetic.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/region_rules.h"

namespace deferred {
namespace {

// PyTorch's infer_size: `sizes` with its one -1 replaced so that it holds `numel`
// elements.
Shape InferSize(const Shape& sizes, int64_t numel, std::string_view op) {
  Shape inferred = sizes;
  std::optional<size_t> infer_dim;
  int64_t known = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == -1) {
      if (infer_dim) {
        ThrowError("%s: only one dim can be inferred (-1) in shape %s", op, ShapeToString(sizes));
      }
      infer_dim = d;
    } else if (sizes[d] >= 0) {
      const std::optional<int64_t> product = CheckedMul(known, sizes[d]);
      if (!product) {
        ThrowError("%s: shape %s has more than 2^63 - 1 elements", op, ShapeToString(sizes));
      }
      known = *product;
    } else {
      ThrowError("%s: invalid size %d in shape %s", op, sizes[d], ShapeToString(sizes));
    }
  }
  if (infer_dim) {
    if (known == 0) {
      ThrowError(
          "%s: cannot reshape a tensor of %d elements into shape %s: the size of the "
          "-1 dim is ambiguous",
          op, numel, ShapeToString(sizes));
    }
    if (numel % known == 0) {
      inferred[*infer_dim] = numel / known;
      return inferred;
    }
  } else if (known == numel) {
    return inferred;
  }
  ThrowError("%s: shape %s is invalid for input of %d elements", op, ShapeToString(sizes), numel);
}

// PyTorch's computeStride: strides that lay `new_sizes` over the elements of a tensor
// with `old_sizes` and `old_strides` in row-major order, or nullopt when none exist. The
// old dims split into chunks that are contiguous among themselves; each new dim must lie
// within one chunk.
std::optional<Shape> ComputeStride(const Shape& old_sizes, const Shape& old_strides,
                                   const Shape& new_sizes) {
  if (old_sizes.empty()) return Shape(new_sizes.size(), 1);
  const int64_t numel = NumElements(old_sizes);
  if (numel == 0) {
    if (old_sizes == new_sizes) return old_strides;
    return ContiguousStrides(new_sizes);
  }
  Shape new_strides(new_sizes.size());
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (int64_t tensor_d = static_cast<int64_t>(old_sizes.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_sizes[tensor_d];
    // The stride a dim just outside the chunk would need to extend it (none when it
    // overflows: the chunk then ends).
    const std::optional<int64_t> extending = CheckedMul(tensor_numel, chunk_base_stride);
    const bool chunk_ends = tensor_d == 0 || (old_sizes[tensor_d - 1] != 1 &&
                                              old_strides[tensor_d - 1] != extending);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
      // Within the chunk the product fits; only a size-1 dim past its end (whose stride
      // never steps) can overflow, and then any stride serves.
      new_strides[view_d] = CheckedMul(view_numel, chunk_base_stride).value_or(1);
      view_numel *= new_sizes[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (tensor_d > 0) {
      chunk_base_stride = old_strides[tensor_d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// Throws for a 0-d input of an op that indexes into a dim.
void CheckHasDims(const Tensor& self, std::string_view op) {
  if (self.dim() == 0) ThrowError("%s: cannot be applied to a 0-d tensor", op);
}

int64_t IntAttr(const OpCall& call, std::string_view name) { return call.attrs.Get<int64_t>(name); }

TensorLayout ViewLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const Shape sizes = InferSize(call.attrs.Get<Shape>("sizes"), self.numel(), "view");
  std::optional<Shape> strides = ComputeStride(self.sizes(), self.strides(), sizes);
  if (!strides) {
    ThrowError(
        "view: size %s is not compatible with the input's size %s and stride %s (a "
        "dim would span two non-adjacent chunks of memory); use reshape instead",
        ShapeToString(sizes), ShapeToString(self.sizes()), ShapeToString(self.strides()));
  }
  return TensorLayout{sizes, *std::move(strides), self.storage_offset()};
}

TensorLayout NarrowLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  CheckHasDims(self, "narrow");
  const int64_t dim = WrapDim(IntAttr(call, "dim"), self.dim(), "narrow");
  int64_t start = IntAttr(call, "start");
  const int64_t length = IntAttr(call, "length");
  const int64_t size = self.sizes()[dim];
  if (length < 0) ThrowError("narrow: length must be non-negative, got %d", length);
  if (start < -size || start > size) {
    ThrowError("narrow: start %d is out of range for dim %d of size %d (expected in [%d, %d])",
               start, dim, size, -size, size);
  }
  if (start < 0) start += size;
  if (length > size - start) {
    ThrowError("narrow: start %d + length %d exceeds the size %d of dim %d", start, length, size,
               dim);
  }
  TensorLayout layout = self.layout();
  layout.storage_offset += start * layout.strides[dim];
  layout.sizes[dim] = length;
  return layout;
}

TensorLayout SliceLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  CheckHasDims(self, "slice");
  const int64_t dim = WrapDim(IntAttr(call, "dim"), self.dim(), "slice");
  int64_t start = IntAttr(call, "start");
  int64_t end = IntAttr(call, "end");
  const int64_t step = IntAttr(call, "step");
  if (step < 1) ThrowError("slice: step must be positive, got %d", step);
  // Python's slice clamping: negative bounds count from the end, then both are clamped
  // to [0, size] with end >= start.
  const int64_t size = self.sizes()[dim];
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  TensorLayout layout = self.layout();
  layout.storage_offset += start * layout.strides[dim];
  layout.sizes[dim] = (end - start) / step + ((end - start) % step != 0 ? 1 : 0);
  // A step past the end leaves at most one element, whose stride does not matter.
  if (layout.sizes[dim] > 1) layout.strides[dim] *= step;
  return layout;
}

TensorLayout SelectLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  CheckHasDims(self, "select");
  const int64_t dim = WrapDim(IntAttr(call, "dim"), self.dim(), "select");
  int64_t index = IntAttr(call, "index");
  const int64_t size = self.sizes()[dim];
  if (index < -size || index >= size) {
    ThrowError("select: index %d is out of range for dim %d of size %d", index, dim, size);
  }
  if (index < 0) index += size;
  TensorLayout layout = self.layout();
  layout.storage_offset += index * layout.strides[dim];
  layout.sizes.erase(layout.sizes.begin() + dim);
  layout.strides.erase(layout.strides.begin() + dim);
  return layout;
}

TensorLayout TransposeLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const int64_t dim0 = WrapDim(IntAttr(call, "dim0"), self.dim(), "transpose");
  const int64_t dim1 = WrapDim(IntAttr(call, "dim1"), self.dim(), "transpose");
  TensorLayout layout = self.layout();
  if (dim0 == dim1) return layout;  // also the only case of a 0-d tensor
  std::swap(layout.sizes[dim0], layout.sizes[dim1]);
  std::swap(layout.strides[dim0], layout.strides[dim1]);
  return layout;
}

TensorLayout PermuteLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const Shape& dims = call.attrs.Get<Shape>("dims");
  const int64_t ndim = self.dim();
  if (static_cast<int64_t>(dims.size()) != ndim) {
    ThrowError("permute: dims %s name %d dims, but the tensor has %d", ShapeToString(dims),
               dims.size(), ndim);
  }
  TensorLayout layout{Shape(ndim), Shape(ndim), self.storage_offset()};
  std::vector<bool> seen(ndim, false);
  for (int64_t i = 0; i < ndim; ++i) {
    const int64_t d = WrapDim(dims[i], ndim, "permute");
    if (seen[d]) {
      ThrowError(
          "permute: dim %d appears twice in %s, which must be a permutation of the "
          "%d dims",
          d, ShapeToString(dims), ndim);
    }
    seen[d] = true;
    layout.sizes[i] = self.sizes()[d];
    layout.strides[i] = self.strides()[d];
  }
  return layout;
}

TensorLayout UnsqueezeLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const int64_t dim = WrapDim(IntAttr(call, "dim"), self.dim() + 1, "unsqueeze");
  TensorLayout layout = self.layout();
  // PyTorch's stride for the new dim: what stepping past the whole next dim would take.
  const int64_t stride = dim >= self.dim() ? 1 : layout.sizes[dim] * layout.strides[dim];
  layout.sizes.insert(layout.sizes.begin() + dim, 1);
  layout.strides.insert(layout.strides.begin() + dim, stride);
  return layout;
}

TensorLayout SqueezeLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  TensorLayout layout{{}, {}, self.storage_offset()};
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (self.sizes()[d] == 1) continue;
    layout.sizes.push_back(self.sizes()[d]);
    layout.strides.push_back(self.strides()[d]);
  }
  return layout;
}

TensorLayout SqueezeDimLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const int64_t dim = WrapDim(IntAttr(call, "dim"), self.dim(), "squeeze");
  TensorLayout layout = self.layout();
  if (self.dim() > 0 && layout.sizes[dim] == 1) {
    layout.sizes.erase(layout.sizes.begin() + dim);
    layout.strides.erase(layout.strides.begin() + dim);
  }
  return layout;
}

// PyTorch's inferExpandGeometry.
TensorLayout ExpandLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const Shape& sizes = call.attrs.Get<Shape>("sizes");
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int64_t self_ndim = self.dim();
  if (ndim < self_ndim) {
    ThrowError("expand: %d sizes given (%s) for a %d-d tensor; expected at least %d", ndim,
               ShapeToString(sizes), self_ndim, self_ndim);
  }
  TensorLayout layout{Shape(ndim), Shape(ndim), self.storage_offset()};
  for (int64_t i = ndim - 1; i >= 0; --i) {
    const int64_t d = i - (ndim - self_ndim);  // the matching dim of self, if any
    int64_t size = d >= 0 ? self.sizes()[d] : 1;
    int64_t stride = 1;  // a new leading dim steps over the whole next dim
    if (d >= 0) {
      stride = self.strides()[d];
    } else if (i + 1 < ndim) {
      stride = layout.sizes[i + 1] * layout.strides[i + 1];
    }
    int64_t target = sizes[i];
    if (target < -1) {
      ThrowError("expand: negative size %d at dim %d of %s", target, i, ShapeToString(sizes));
    }
    if (target == -1) {
      if (d < 0) {
        ThrowError(
            "expand: size -1 at dim %d of %s names a new leading dim, whose size must "
            "be given",
            i, ShapeToString(sizes));
      }
      target = size;
    }
    if (size != target) {
      if (size != 1) {
        ThrowError(
            "expand: the size %d of dim %d (tensor shape %s) must match the target "
            "size %d (target shape %s): only dims of size 1 expand",
            size, d, ShapeToString(self.sizes()), target, ShapeToString(sizes));
      }
      size = target;
      stride = 0;
    }
    layout.sizes[i] = size;
    layout.strides[i] = stride;
  }
  // A 0-d tensor repeats along every dim, as in PyTorch.
  if (self_ndim == 0) std::fill(layout.strides.begin(), layout.strides.end(), 0);
  return layout;
}

TensorLayout DiagonalLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  const int64_t offset = IntAttr(call, "diagonal_offset");
  const int64_t dim1 = WrapDim(IntAttr(call, "dim1"), self.dim(), "diagonal");
  const int64_t dim2 = WrapDim(IntAttr(call, "dim2"), self.dim(), "diagonal");
  if (dim1 == dim2) {
    ThrowError("diagonal: dim1 and dim2 must be different dims, both are %d", dim1);
  }
  const int64_t size1 = self.sizes()[dim1];
  const int64_t size2 = self.sizes()[dim2];
  const int64_t diag_size = std::max<int64_t>(
      offset >= 0 ? std::min(size1, size2 - offset) : std::min(size1 + offset, size2), 0);
  TensorLayout layout = self.layout();
  if (diag_size > 0) {
    layout.storage_offset +=
        offset >= 0 ? offset * self.strides()[dim2] : -offset * self.strides()[dim1];
  }
  for (int64_t d : {std::max(dim1, dim2), std::min(dim1, dim2)}) {
    layout.sizes.erase(layout.sizes.begin() + d);
    layout.strides.erase(layout.strides.begin() + d);
  }
  layout.sizes.push_back(diag_size);
  layout.strides.push_back(self.strides()[dim1] + self.strides()[dim2]);
  return layout;
}

TensorLayout MatrixTransposeLayout(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  if (self.dim() > 2) {
    ThrowError("t: expects a tensor with at most 2 dims, got a %d-d tensor of shape %s", self.dim(),
               ShapeToString(self.sizes()));
  }
  TensorLayout layout = self.layout();
  if (self.dim() == 2) {
    std::swap(layout.sizes[0], layout.sizes[1]);
    std::swap(layout.strides[0], layout.strides[1]);
  }
  return layout;
}

void CheckOneInput(const OpCall& call) {
  if (call.inputs.size() != 1) {
    ThrowError("%s: expected 1 tensor input, got %d", call.def->name, call.inputs.size());
  }
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  constexpr AttrType kInt = AttrType::kInt;
  const struct {
    const char* name;
    std::vector<AttrSpec> attrs;
    TensorLayout (*layout_of)(const OpCall&);
  } kViews[] = {
      {"view", {{"sizes", AttrType::kShape}}, ViewLayout},
      {"narrow", {{"dim", kInt}, {"start", kInt}, {"length", kInt}}, NarrowLayout},
      {"slice", {{"dim", kInt}, {"start", kInt}, {"end", kInt}, {"step", kInt}}, SliceLayout},
      {"select", {{"dim", kInt}, {"index", kInt}}, SelectLayout},
      {"transpose", {{"dim0", kInt}, {"dim1", kInt}}, TransposeLayout},
      {"permute", {{"dims", AttrType::kShape}}, PermuteLayout},
      {"unsqueeze", {{"dim", kInt}}, UnsqueezeLayout},
      {"squeeze", {}, SqueezeLayout},
      {"squeeze_dim", {{"dim", kInt}}, SqueezeDimLayout},
      {"expand", {{"sizes", AttrType::kShape}}, ExpandLayout},
      {"diagonal", {{"diagonal_offset", kInt}, {"dim1", kInt}, {"dim2", kInt}}, DiagonalLayout},
      {"t", {}, MatrixTransposeLayout},
  };
  for (const auto& [name, attrs, layout_of] : kViews) {
    registry.RegisterOp(OpDef{.name = name,
                              .kind = OpKind::kView,
                              .attrs = attrs,
                              .view_rule = [layout_of = layout_of](const OpCall& call) {
                                CheckOneInput(call);
                                return layout_of(call);
                              }});
  }
  // Each element of a clone is its input's element at the same index, so a region of it
  // is the clone of that region of the input.
  registry.RegisterOp(OpDef{
      .name = "clone",
      .shape_rule =
          [](const OpCall& call) {
            CheckOneInput(call);
            const Tensor& self = call.inputs[0];
            return TensorSpecs{TensorSpec{self.sizes(), self.dtype(), self.device()}};
          },
      .region_rule = ElementwiseRegionRule});
  return true;
}();

// The public functions below that inspect `t` before dispatching need it defined; the
// dispatcher checks only what it is handed.
void CheckDefined(const Tensor& t, std::string_view op) {
  if (!t.defined()) ThrowError("%s: input 0 is an undefined tensor", op);
}

}  // namespace

Tensor view(const Tensor& t, const Shape& sizes, CallSite site) {
  return DispatchOne("view", {t}, Attrs{{"sizes", sizes}}, site);
}

Tensor reshape(const Tensor& t, const Shape& sizes, CallSite site) {
  CheckDefined(t, "reshape");
  const Shape inferred = InferSize(sizes, t.numel(), "reshape");
  if (ComputeStride(t.sizes(), t.strides(), inferred)) return view(t, inferred, site);
  return view(clone(t, site), inferred, site);
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length, CallSite site) {
  return DispatchOne("narrow", {t}, Attrs{{"dim", dim}, {"start", start}, {"length", length}},
                     site);
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step,
             CallSite site) {
  return DispatchOne("slice", {t},
                     Attrs{{"dim", dim}, {"start", start}, {"end", end}, {"step", step}}, site);
}

Tensor select(const Tensor& t, int64_t dim, int64_t index, CallSite site) {
  return DispatchOne("select", {t}, Attrs{{"dim", dim}, {"index", index}}, site);
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1, CallSite site) {
  return DispatchOne("transpose", {t}, Attrs{{"dim0", dim0}, {"dim1", dim1}}, site);
}

Tensor permute(const Tensor& t, const Shape& dims, CallSite site) {
  return DispatchOne("permute", {t}, Attrs{{"dims", dims}}, site);
}

Tensor unsqueeze(const Tensor& t, int64_t dim, CallSite site) {
  return DispatchOne("unsqueeze", {t}, Attrs{{"dim", dim}}, site);
}

Tensor squeeze(const Tensor& t, CallSite site) { return DispatchOne("squeeze", {t}, {}, site); }

Tensor squeeze(const Tensor& t, int64_t dim, CallSite site) {
  return DispatchOne("squeeze_dim", {t}, Attrs{{"dim", dim}}, site);
}

Tensor expand(const Tensor& t, const Shape& sizes, CallSite site) {
  return DispatchOne("expand", {t}, Attrs{{"sizes", sizes}}, site);
}

Tensor diagonal(const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2, CallSite site) {
  return DispatchOne("diagonal", {t},
                     Attrs{{"diagonal_offset", offset}, {"dim1", dim1}, {"dim2", dim2}}, site);
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim, CallSite site) {
  CheckDefined(t, "flatten");
  const int64_t start = WrapDim(start_dim, t.dim(), "flatten");
  const int64_t end = WrapDim(end_dim, t.dim(), "flatten");
  if (start > end) {
    ThrowError("flatten: start_dim %d comes after end_dim %d (of a %d-d tensor)", start_dim,
               end_dim, t.dim());
  }
  if (t.dim() == 0) return reshape(t, {1}, site);
  if (start == end) return t;
  Shape sizes(t.sizes().begin(), t.sizes().begin() + start);
  sizes.push_back(NumElements(absl::MakeConstSpan(t.sizes()).subspan(start, end - start + 1)));
  sizes.insert(sizes.end(), t.sizes().begin() + end + 1, t.sizes().end());
  return reshape(t, sizes, site);
}

Tensor t(const Tensor& self, CallSite site) { return DispatchOne("t", {self}, {}, site); }

Tensor contiguous(const Tensor& t, CallSite site) {
  CheckDefined(t, "contiguous");
  return t.is_contiguous() ? t : clone(t, site);
}

Tensor clone(const Tensor& t, CallSite site) { return DispatchOne("clone", {t}, {}, site); }

}  // namespace deferred
