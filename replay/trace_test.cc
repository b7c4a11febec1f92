#include "replay/trace.h"

#include <memory>
#include <string>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/recorder.h"
#include "gtest/gtest.h"
#include "replay/replay_session.h"

namespace deferred {
namespace {

// Records what `fn` does into a new trace and returns the trace.
template <typename Fn>
std::shared_ptr<Trace> RecordInto(Fn fn) {
  auto trace = std::make_shared<Trace>();
  RecordingMode mode(trace);
  ScopedDispatchMode scope(&mode);
  fn();
  return trace;
}

Tensor Replay(const std::shared_ptr<Trace>& trace, const Tensor& t) {
  ReplaySession session(trace, Device::CPU());
  return MakeTensor(session.RunWhole({trace->Latest(*t.storage())})[0], t.layout(), t.dtype());
}

TEST(TraceTest, InPlaceWriteThroughAViewMakesTheNextVersionOfTheBase) {
  Tensor base, view;
  auto trace = RecordInto([&] {
    base = zeros({4, 4});
    view = MakeView(base, TensorLayout{{4}, {4}, 1});  // column 1
    fill_(view, 2.0);
  });
  EXPECT_TRUE(base.is_fake());
  EXPECT_EQ(trace->Latest(*base.storage()).version, 1);
  EXPECT_EQ(trace->num_ops(), 2);
  const std::vector<float> values = Replay(trace, base).to_vector<float>();
  for (int64_t i = 0; i < 16; ++i) EXPECT_EQ(values[i], i % 4 == 1 ? 2.0f : 0.0f) << i;
}

TEST(TraceTest, SubgraphHoldsOnlyAncestorsInRecordingOrder) {
  Tensor a, b, c;
  auto trace = RecordInto([&] {
    a = ones({3});
    b = full({3}, 5.0);        // nothing below depends on b
    c = add(a, 1);
    mul_(c, a);
  });
  const std::vector<Trace::Vertex> order = trace->Subgraph({trace->Latest(*c.storage())});
  ASSERT_EQ(order.size(), 3u);  // ones, add, mul_
  for (size_t i = 1; i < order.size(); ++i) EXPECT_LT(order[i - 1], order[i]);
  EXPECT_EQ(trace->Node(order[0]).def->name, "full");
  EXPECT_EQ(trace->Node(order[2]).def->name, "mul_");
  EXPECT_EQ(trace->num_ops(), 4);  // the dead op stays recorded
}

TEST(TraceTest, NodesAreTheNodesAtTheirVerticesWithTheirInputsProducers) {
  Tensor a, b, product;
  auto trace = RecordInto([&] {
    a = ones({3});
    b = full({3}, 2.0);
    product = mul(add(a, b), a);  // two inputs each, more than a node keeps inline
  });
  const std::vector<Trace::Vertex> order = trace->Subgraph({trace->Latest(*product.storage())});
  const std::vector<const TraceNode*> nodes = trace->Nodes(order);
  ASSERT_EQ(nodes.size(), 4u);  // ones, full, add, mul
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(nodes[i], &trace->Node(order[i]));
  ASSERT_EQ(nodes[3]->def->name, "mul");
  ASSERT_EQ(nodes[3]->inputs.size(), 2u);
  EXPECT_EQ(nodes[3]->input_producers[0], order[2]);
  EXPECT_EQ(nodes[3]->input_producers[1], order[0]);
  EXPECT_EQ(nodes[3]->inputs[1].value, trace->Latest(*a.storage()));
  EXPECT_EQ(Replay(trace, product).to_vector<float>(), std::vector<float>(3, 3.0f));
  EXPECT_THROW(trace->Nodes({order[0], 99}), Error);
}

TEST(TraceTest, RealInputIsCopiedAtRecordTime) {
  const Tensor real = full({3}, 1.5);
  Tensor sum;
  auto trace = RecordInto([&] { sum = add(zeros({3}), real); });
  fill_(real, 9.0);  // later changes to the real tensor cannot reach the trace
  EXPECT_EQ(Replay(trace, sum).to_vector<float>(), std::vector<float>(3, 1.5f));
}

TEST(TraceTest, WritingARealTensorFromFakeInputsIsAnError) {
  const Tensor real = zeros({3});
  Tensor fake;
  auto trace = RecordInto([&] { fake = ones({3}); });
  try {
    add_(real, fake);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("add_: cannot write into real"), std::string::npos)
        << e.what();
  }
}

TEST(TraceTest, FakeTensorsOfDifferentTracesCannotBeCombined) {
  Tensor a, b;
  auto first = RecordInto([&] { a = ones({2}); });
  auto second = RecordInto([&] { b = ones({2}); });
  EXPECT_THROW(add(a, b), Error);
}

TEST(TraceTest, MemoryGrowsWithOpsNotElements) {
  auto small = RecordInto([] {
    for (int i = 0; i < 100; ++i) add_(zeros({4, 4}), 1);
  });
  auto large = RecordInto([] {
    for (int i = 0; i < 100; ++i) add_(zeros({1 << 14, 1 << 14}), 1);
  });
  auto longer = RecordInto([] {
    for (int i = 0; i < 200; ++i) add_(zeros({4, 4}), 1);
  });
  EXPECT_EQ(small->num_ops(), 200);
  EXPECT_EQ(large->ApproximateBytes(), small->ApproximateBytes());
  // What each further op costs; a trace also holds a fixed part (nodes are kept in chunks).
  const int64_t bytes_per_op = (longer->ApproximateBytes() - small->ApproximateBytes()) /
                               (longer->num_ops() - small->num_ops());
  EXPECT_GT(bytes_per_op, 0);
  EXPECT_LT(bytes_per_op, 1024);
}

TEST(ReplaySessionTest, OlderVersionsAndTheLatestCanBeAskedForTogether) {
  Tensor t;
  auto trace = RecordInto([&] {
    t = full({2}, 1.0);
    add_(t, 1);
  });
  ReplaySession session(trace, Device::CPU());
  const int64_t id = t.storage()->id();
  std::vector<Storage> results = session.RunWhole({{id, 0}, {id, 1}});
  EXPECT_EQ(MakeTensor(results[0], t.layout(), t.dtype()).to_vector<float>(),
            std::vector<float>(2, 1.0f));
  EXPECT_EQ(MakeTensor(results[1], t.layout(), t.dtype()).to_vector<float>(),
            std::vector<float>(2, 2.0f));
}

TEST(ReplaySessionTest, SharedIntermediatesRunOnce) {
  Tensor x, y;
  auto trace = RecordInto([&] {
    const Tensor shared = mul(ones({8}), 3);
    x = add(shared, 1);
    y = sub(shared, 1);
  });
  ReplaySession session(trace, Device::CPU());
  session.RunWhole({trace->Latest(*x.storage()), trace->Latest(*y.storage())});
  EXPECT_EQ(session.ops_run(), 4);  // full, mul, add, sub
}

TEST(ReplaySessionTest, IntermediatesAreFreedAfterTheirLastRead) {
  constexpr int64_t kElements = 1 << 20;  // 4 MiB per float32 tensor
  Tensor out;
  auto trace = RecordInto([&] {
    Tensor t = ones({kElements});
    for (int i = 0; i < 10; ++i) t = add(t, 1);
    out = t;
  });
  ResetPeakBytes();
  const int64_t live_before = GetAllocationStats().live_bytes;
  ReplaySession session(trace, Device::CPU());
  std::vector<Storage> result = session.RunWhole({trace->Latest(*out.storage())});
  // A chain needs its input and its output alive at once, never the whole chain.
  EXPECT_LE(GetAllocationStats().peak_bytes - live_before, 2 * kElements * 4 + 4096);
}

}  // namespace
}  // namespace deferred
