#ifndef DEFERRED_FAKE_TENSOR_REGION_RULES_H_
#define DEFERRED_FAKE_TENSOR_REGION_RULES_H_

#include <optional>
#include <vector>

#include "fake_tensor/op_registry.h"
#include "fake_tensor/region.h"

namespace deferred {

// Region rules shared by op families (see RegionRule in op_registry.h).

// `region` of a tensor of `out_sizes`, projected onto an input of `in_sizes` that
// broadcasts to it: dims aligned from the right, broadcast dims (size 1) read whole.
Region ProjectBroadcast(const Region& region, const Shape& in_sizes);

// Elementwise ops, functional or in-place, with broadcasting: each input reads the
// projection of the output region; attrs are unchanged.
std::optional<RegionPlan> ElementwiseRegionRule(const OpCall& call,
                                                absl::Span<const Region> outputs);

// Ops whose element values depend on their index in the whole output (random samplers,
// arange, linspace, eye, constants): the kernel computes the sub-rectangle of the whole
// index space given by attrs "region_start" (Shape) and "full_sizes" (Shape) — element j
// of the restricted output is element region_start + j of the full one. Inputs (for
// in-place ops, input 0 only) read the output region; a factory's "sizes" becomes the
// region's sizes.
std::optional<RegionPlan> IndexAddressedRegionRule(const OpCall& call,
                                                   absl::Span<const Region> outputs);

// For kernels of index-addressed ops: the offset and row-major strides that turn element
// j of the (possibly restricted) output into its row-major index in the full index space:
// global = offset + sum_d j_d * strides[d]. Without region attrs: the identity.
struct GlobalIndexMap {
  int64_t offset = 0;
  Shape strides;
};
GlobalIndexMap GlobalIndexMapOf(const Attrs& attrs, const Shape& sizes);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_REGION_RULES_H_
