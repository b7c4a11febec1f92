// deferred-replay with a planted defect, for tools/deferred_replay_test.cc: normal_'s
// region rule forgets where its region starts, as a wrong rule would, so a shard of a
// normal_-initialized tensor gets the values of the tensor's first elements. `verify`
// must report it.
#include <optional>
#include <vector>

#include "fake_tensor/op_registry.h"
#include "tools/replay_tool.h"

int main(int argc, char** argv) {
  // The registry's definitions are not const objects; tests may change them before use.
  deferred::OpDef& def =
      const_cast<deferred::OpDef&>(deferred::OpRegistry::Global().Get("normal_"));
  def.region_rule = [rule = def.region_rule](const deferred::OpCall& call,
                                             absl::Span<const deferred::Region> outputs) {
    std::optional<deferred::RegionPlan> plan = rule(call, outputs);
    if (plan && plan->attrs.Has("region_start")) {
      plan->attrs.Set("region_start", deferred::Shape(outputs[0].rank(), 0));
    }
    return plan;
  };
  return deferred::tools::ReplayToolMain(argc, argv);
}
