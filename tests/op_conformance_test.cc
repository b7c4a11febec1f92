// The registry proves itself complete: every op declares its attrs (the dispatcher refuses
// any other; no op takes a name replay reserves), has its rules and a CPU kernel, computes
// parts of its output through a region rule or is listed below as whole-output only, is
// called by the random-program generator, and its region rule restricts its real calls
// exactly (the restricted run equals the slice of the full run, bitwise). Adding an op
// without any of these fails here, naming it.
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/op_registry.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/random_program.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

// Ops without a region rule: each computes its whole output whenever any part is needed.
// The one reviewed list of them; an entry says why the op cannot be restricted.
const std::map<std::string, std::string>& WholeOutputOps() {
  static const auto* ops = new std::map<std::string, std::string>{
      {"repeat", "each output block reads the whole input; used on small tables"},
      {"stack", "every input is one slice of the output, which its kernel cannot skip; used "
                "on small tables"},
      {"qr_q", "every element of Q depends on the whole matrix (orthogonal_)"},
  };
  return *ops;
}

// Ops whose values are unspecified (uninitialized memory): only their shapes are compared.
bool ValuesUnspecified(const OpDef& def) { return def.name == "empty"; }

// A contiguous copy of `t`, made without dispatching (so the mode below sees only the
// program's own calls).
Tensor Copy(const Tensor& t) {
  const Tensor out = AllocateTensor(t.sizes(), t.dtype(), t.device());
  OpCall copy{&OpRegistry::Global().Get("copy_"), {out, t}, {}};
  RunEager(copy);
  return out;
}

// Runs every call eagerly, notes its op, and for each op with a region rule also runs the
// call restricted to a random region of its output and compares with the full result.
class ConformanceMode : public DispatchMode {
 public:
  explicit ConformanceMode(uint64_t seed) : rng_(seed) {}

  std::vector<Tensor> Run(OpCall& call) override {
    const OpDef& def = *call.def;
    ops_called.insert(def.name);
    if (def.kind == OpKind::kView || !def.region_rule) return RunEager(call);
    std::vector<Tensor> before;  // the inputs as the op reads them (in place changes input 0)
    for (const Tensor& input : call.inputs) before.push_back(Copy(input));
    std::vector<Tensor> outputs = RunEager(call);
    const bool in_place = def.kind == OpKind::kInPlace;
    const Tensor& full = in_place ? call.inputs[0] : outputs.at(0);
    if (full.numel() == 0) return outputs;

    const Region region = RandomRegion(full.sizes());
    const std::optional<RegionPlan> plan = def.region_rule(call, {region});
    if (!plan) return outputs;  // declined: replay computes the whole output
    OpCall restricted{&def, {}, plan->attrs, call.site};
    for (size_t k = 0; k < before.size(); ++k) {
      restricted.inputs.push_back(Copy(SliceOf(before[k], plan->inputs.at(k))));
    }
    std::vector<Tensor> restricted_outputs = RunEager(restricted);
    const Tensor& part = in_place ? restricted.inputs[0] : restricted_outputs.at(0);
    const ::testing::AssertionResult equal =
        ValuesUnspecified(def) ? (part.sizes() == region.sizes()
                                      ? ::testing::AssertionSuccess()
                                      : ::testing::AssertionFailure() << "its sizes differ")
                               : TensorsBitwiseEqual(SliceOf(full, region), part);
    if (!equal) {
      ADD_FAILURE() << def.name << " restricted to " << region.ToString() << " of "
                    << full.ToString() << " differs from the slice of its full run: "
                    << equal.message();
    }
    ++restricted_runs[def.name];
    return outputs;
  }

  std::set<std::string> ops_called;
  std::map<std::string, int> restricted_runs;

 private:
  Region RandomRegion(const Shape& sizes) {
    Region region = Region::Full(sizes);
    for (size_t d = 0; d < sizes.size(); ++d) {
      region.start[d] = std::uniform_int_distribution<int64_t>(0, sizes[d] - 1)(rng_);
      region.stop[d] = std::uniform_int_distribution<int64_t>(region.start[d] + 1, sizes[d])(rng_);
    }
    return region;
  }

  std::mt19937_64 rng_;
};

TEST(OpConformanceTest, EveryOpHasItsRulesAKernelAndARegionRuleOrAReason) {
  for (const std::string& name : OpRegistry::Global().OpNames()) {
    SCOPED_TRACE(name);
    const OpDef& def = OpRegistry::Global().Get(name);
    std::set<std::string> attr_names;
    for (const AttrSpec& attr : def.attrs) {
      EXPECT_TRUE(attr_names.insert(attr.name).second) << "declares " << attr.name << " twice";
      for (const char* reserved : {"seed", "offset", "region_start", "full_sizes"}) {
        EXPECT_NE(attr.name, reserved) << "declares the reserved attr " << reserved;
      }
    }
    const bool listed_whole = WholeOutputOps().contains(name);
    if (def.kind == OpKind::kView) {
      EXPECT_TRUE(def.view_rule) << name << " is a view op without a view rule";
      EXPECT_FALSE(listed_whole) << name << " is a view: it computes nothing";
      continue;
    }
    EXPECT_TRUE(def.shape_rule) << name << " has no shape rule";
    EXPECT_TRUE(def.kernel(DeviceType::kCPU)) << name << " has no CPU kernel";
    EXPECT_NE(static_cast<bool>(def.region_rule), listed_whole)
        << name << (listed_whole ? " has a region rule but is listed in WholeOutputOps"
                                 : " has no region rule and is not listed in WholeOutputOps");
  }
  for (const auto& [name, reason] : WholeOutputOps()) {
    EXPECT_TRUE(OpRegistry::Global().Contains(name)) << "WholeOutputOps lists unknown " << name;
  }
}

TEST(OpConformanceTest, RandomProgramsCallEveryOpAndItsRegionRuleRestrictsExactly) {
  constexpr int kPrograms = 400;
  std::set<std::string> called;
  std::map<std::string, int> restricted;
  for (int i = 0; i < kPrograms; ++i) {
    const uint64_t seed = TestSeedBase() + i;
    SCOPED_TRACE(::testing::Message() << "program seed " << seed);
    ConformanceMode mode(seed);
    {
      ScopedDispatchMode scope(&mode);
      RandomProgram program(seed);
    }
    called.insert(mode.ops_called.begin(), mode.ops_called.end());
    for (const auto& [name, runs] : mode.restricted_runs) restricted[name] += runs;
  }
  for (const std::string& name : OpRegistry::Global().OpNames()) {
    EXPECT_TRUE(called.contains(name))
        << name << " is never called by the random-program generator (tests/random_program.cc)";
    const OpDef& def = OpRegistry::Global().Get(name);
    if (def.kind != OpKind::kView && def.region_rule) {
      EXPECT_GT(restricted[name], 0) << name << "'s region rule was never exercised";
    }
  }
}

}  // namespace
}  // namespace deferred
