#include "replay/replay_plan.h"

#include <memory>
#include <string>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/recorder.h"
#include "gtest/gtest.h"
#include "replay/trace.h"

namespace deferred {
namespace {

// A trace of what `build` records, and the tensors it returns.
struct Recorded {
  std::shared_ptr<Trace> trace = std::make_shared<Trace>();
  std::vector<Tensor> tensors;

  template <typename Build>
  explicit Recorded(Build&& build) {
    RecordingMode mode(trace);
    ScopedDispatchMode scope(&mode);
    tensors = build();
  }

  ReplayTarget Latest(size_t t, Region region) const {
    return ReplayTarget{trace->Latest(*tensors[t].storage()), std::move(region)};
  }
  ReplayTarget LatestWhole(size_t t) const {
    return Latest(t, Region::Full(tensors[t].sizes()));
  }
};

std::vector<std::string> OpNames(const ReplayPlan& plan) {
  std::vector<std::string> names;
  for (const PlanStep& step : plan.steps) names.push_back(step.node->def->name);
  return names;
}

TEST(ReplayPlanTest, EachVersionIsPlannedOverTheRegionItsReadersNeed) {
  const Recorded r([] {
    Tensor w = zeros({16});
    add_(w, 1.0);
    add_(w, 2.0);
    return std::vector<Tensor>{w};
  });
  const ReplayPlan plan = PlanReplay(*r.trace, {r.Latest(0, Region{{4}, {8}})});
  ASSERT_EQ(OpNames(plan), (std::vector<std::string>{"full", "add_scalar_", "add_scalar_"}));
  for (const PlanStep& step : plan.steps) {
    EXPECT_EQ(step.output_regions, (RegionList{Region{{4}, {8}}}));
    EXPECT_FALSE(step.whole);
  }
  // Each add_ is the only reader of the version before it: it writes in that buffer, and
  // that version is gone once it has run (its bytes are the next version's).
  EXPECT_EQ(plan.steps[1].buffer, InPlaceBuffer::kReuse);
  EXPECT_EQ(plan.steps[2].buffer, InPlaceBuffer::kReuse);
  EXPECT_EQ(plan.steps[0].frees, OperandList<int32_t>{});
  EXPECT_EQ(plan.steps[1].frees, OperandList<int32_t>{plan.steps[0].output_values[0]});
  EXPECT_EQ(plan.steps[2].frees, OperandList<int32_t>{plan.steps[1].output_values[0]});
  EXPECT_EQ(plan.target_values, std::vector<int32_t>{plan.steps[2].output_values[0]});
}

TEST(ReplayPlanTest, AnOverwrittenVersionIsNotPlannedAndItsOverwriterWritesFreshBytes) {
  const Recorded r([] {
    Tensor t = empty({8});
    uniform_(t, 0.0, 1.0);
    Tensor doubled = mul(t, 2.0);
    fill_(t, 5.0);
    return std::vector<Tensor>{t, doubled};
  });
  const ReplayPlan both = PlanReplay(*r.trace, {r.LatestWhole(0), r.LatestWhole(1)});
  // empty is dead (uniform_ overwrites it); uniform_'s version lives until mul reads it.
  ASSERT_EQ(OpNames(both), (std::vector<std::string>{"uniform_", "mul_scalar", "fill_"}));
  EXPECT_EQ(both.steps[0].buffer, InPlaceBuffer::kFresh);
  EXPECT_FALSE(both.steps[0].reads[0]);
  EXPECT_EQ(both.steps[1].frees, OperandList<int32_t>{both.steps[0].output_values[0]});
  EXPECT_EQ(both.steps[2].buffer, InPlaceBuffer::kFresh);
  EXPECT_FALSE(both.steps[2].reads[0]);
  // Targets are never freed.
  for (const PlanStep& step : both.steps) {
    for (int32_t value : step.frees) {
      EXPECT_NE(value, both.target_values[0]);
      EXPECT_NE(value, both.target_values[1]);
    }
  }
  EXPECT_EQ(OpNames(PlanReplay(*r.trace, {r.LatestWhole(0)})),
            std::vector<std::string>{"fill_"});
}

TEST(ReplayPlanTest, AnInPlaceOpThatAlsoReadsItsOldVersionElsewhereWritesACopy) {
  const Recorded r([] {
    Tensor t = arange(8.0);
    mul_(t, t);  // operand 1 reads the version operand 0 writes over
    return std::vector<Tensor>{t};
  });
  const ReplayPlan plan = PlanReplay(*r.trace, {r.LatestWhole(0)});
  ASSERT_EQ(OpNames(plan), (std::vector<std::string>{"arange", "mul_"}));
  EXPECT_EQ(plan.steps[1].buffer, InPlaceBuffer::kCopy);
  EXPECT_EQ(plan.steps[1].frees, (OperandList<int32_t>{plan.steps[0].output_values[0]}));
}

TEST(ReplayPlanTest, AWriteThroughAViewKeepsTheRestOfTheOldVersion) {
  const Recorded r([] {
    Tensor t = zeros({4, 4});
    normal_(narrow(t, 0, 1, 2), 0.0, 1.0);
    return std::vector<Tensor>{t};
  });
  // Rows 2..3 are asked for: normal_ writes its view's rows 1..1 (base row 2) there, and
  // base row 3 comes from zeros.
  const ReplayPlan plan = PlanReplay(*r.trace, {r.Latest(0, Region{{2, 0}, {4, 4}})});
  ASSERT_EQ(OpNames(plan), (std::vector<std::string>{"full", "normal_"}));
  EXPECT_EQ(plan.steps[0].output_regions[0], (Region{{2, 0}, {4, 4}}));
  EXPECT_EQ(plan.steps[1].write_region, (Region{{1, 0}, {2, 4}}));
  EXPECT_EQ(plan.steps[1].output_regions[0], (Region{{2, 0}, {4, 4}}));
  EXPECT_TRUE(plan.steps[1].reads[0]);
  EXPECT_EQ(plan.steps[1].buffer, InPlaceBuffer::kReuse);
}

TEST(ReplayPlanTest, AnOpWithoutARegionRuleComputesItsWholeOutput) {
  const Recorded r([] {
    Tensor t = repeat(arange(3.0), {2});
    return std::vector<Tensor>{t};
  });
  const ReplayPlan plan = PlanReplay(*r.trace, {r.Latest(0, Region{{1}, {2}})});
  ASSERT_EQ(OpNames(plan), (std::vector<std::string>{"arange", "repeat"}));
  EXPECT_TRUE(plan.steps[1].whole);
  EXPECT_EQ(plan.steps[1].output_regions[0], (Region{{0}, {6}}));
  EXPECT_EQ(plan.steps[0].output_regions[0], (Region{{0}, {3}}));
}

}  // namespace
}  // namespace deferred
