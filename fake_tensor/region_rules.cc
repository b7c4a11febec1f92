#include "fake_tensor/region_rules.h"

namespace deferred {

Region ProjectBroadcast(const Region& region, const Shape& in_sizes) {
  const int64_t lead = region.rank() - static_cast<int64_t>(in_sizes.size());
  Region out = Region::Full(in_sizes);
  for (size_t d = 0; d < in_sizes.size(); ++d) {
    if (in_sizes[d] == 1) continue;  // broadcast: the one element serves every index
    out.start[d] = region.start[lead + d];
    out.stop[d] = region.stop[lead + d];
  }
  return out;
}

std::optional<RegionPlan> ElementwiseRegionRule(const OpCall& call,
                                                absl::Span<const Region> outputs) {
  RegionPlan plan{{}, call.attrs};
  for (const Tensor& input : call.inputs) {
    plan.inputs.push_back(ProjectBroadcast(outputs[0], input.sizes()));
  }
  return plan;
}

std::optional<RegionPlan> IndexAddressedRegionRule(const OpCall& call,
                                                   absl::Span<const Region> outputs) {
  const Region& region = outputs[0];
  RegionPlan plan{{}, call.attrs};
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    plan.inputs.push_back(i == 0 ? region : Region::Full(call.inputs[i].sizes()));
  }
  Shape full_sizes;
  if (call.def->kind == OpKind::kFactory) {
    full_sizes = call.attrs.Get<Shape>("sizes");
    plan.attrs.Set("sizes", region.sizes());
  } else {
    full_sizes = call.inputs[0].sizes();
  }
  // Regions compose: a restricted call restricted again keeps counting from the whole.
  if (call.attrs.Has("region_start")) {
    Shape start = call.attrs.Get<Shape>("region_start");
    for (size_t d = 0; d < start.size(); ++d) start[d] += region.start[d];
    plan.attrs.Set("region_start", std::move(start));
  } else {
    plan.attrs.Set("region_start", region.start);
    plan.attrs.Set("full_sizes", std::move(full_sizes));
  }
  return plan;
}

GlobalIndexMap GlobalIndexMapOf(const Attrs& attrs, const Shape& sizes) {
  if (!attrs.Has("region_start")) return GlobalIndexMap{0, ContiguousStrides(sizes)};
  const Shape& start = attrs.Get<Shape>("region_start");
  GlobalIndexMap map{0, ContiguousStrides(attrs.Get<Shape>("full_sizes"))};
  for (size_t d = 0; d < start.size(); ++d) map.offset += start[d] * map.strides[d];
  return map;
}

}  // namespace deferred
