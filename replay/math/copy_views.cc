#include "replay/math/copy_views.h"

#include <cstdint>
#include <utility>

namespace deferred::math {
namespace {

Tensor NarrowView(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  TensorLayout layout = t.layout();
  layout.sizes[dim] = length;
  layout.storage_offset += start * layout.strides[dim];
  return MakeView(t, std::move(layout));
}

}  // namespace

std::vector<ViewCopy> CatCopies(const OpCall& call, const Tensor& out) {
  std::vector<ViewCopy> copies;
  if (out.numel() == 0) return copies;
  const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), out.dim(), "cat");
  int64_t start = 0;
  for (const Tensor& input : call.inputs) {
    // An input without elements adds nothing (and may be a 1-d one the shape rule skipped).
    if (input.numel() == 0) continue;
    const int64_t length = input.size(dim);
    copies.push_back({NarrowView(out, dim, start, length), input});
    start += length;
  }
  return copies;
}

std::vector<ViewCopy> StackCopies(const OpCall& call, const Tensor& out) {
  std::vector<ViewCopy> copies;
  const int64_t dim = WrapDim(call.attrs.Get<int64_t>("dim"), out.dim(), "stack");
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    TensorLayout slot = out.layout();
    slot.storage_offset += static_cast<int64_t>(i) * slot.strides[dim];
    slot.sizes.erase(slot.sizes.begin() + dim);
    slot.strides.erase(slot.strides.begin() + dim);
    copies.push_back({MakeView(out, std::move(slot)), call.inputs[i]});
  }
  return copies;
}

ViewCopy RepeatCopy(const OpCall& call, const Tensor& out) {
  const Tensor& input = call.inputs[0];
  const Shape& repeats = call.attrs.Get<Shape>("repeats");
  const int64_t lead = static_cast<int64_t>(repeats.size()) - input.dim();
  TensorLayout tiles{{}, {}, out.storage_offset()};
  TensorLayout source{{}, {}, input.storage_offset()};
  for (int64_t d = 0; d < out.dim(); ++d) {
    const int64_t size = d < lead ? 1 : input.size(d - lead);
    const int64_t stride = d < lead ? 0 : input.stride(d - lead);
    tiles.sizes.insert(tiles.sizes.end(), {repeats[d], size});
    tiles.strides.insert(tiles.strides.end(), {size * out.stride(d), out.stride(d)});
    source.sizes.insert(source.sizes.end(), {1, size});
    source.strides.insert(source.strides.end(), {0, stride});
  }
  return {MakeView(out, std::move(tiles)), MakeView(input, std::move(source))};
}

Tensor OuterColumn(const Tensor& a) {
  return MakeView(a, TensorLayout{{a.size(0), 1}, {a.stride(0), 0}, a.storage_offset()});
}

}  // namespace deferred::math
