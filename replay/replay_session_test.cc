#include "replay/replay_session.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/recorder.h"
#include "gtest/gtest.h"
#include "replay/trace.h"

// Every heap allocation of this test binary is counted, so that a test can measure the
// work a replay does in bytes allocated: deterministic, unlike time.
namespace {
std::atomic<int64_t> heap_bytes_allocated{0};
}  // namespace

void* operator new(size_t size) {
  heap_bytes_allocated.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace deferred {
namespace {

template <typename Fn>
int64_t HeapBytesAllocatedDuring(Fn&& fn) {
  const int64_t before = heap_bytes_allocated.load();
  fn();
  return heap_bytes_allocated.load() - before;
}

// Heap bytes allocated to replay a 4-element region of a storage that `versions` in-place
// ops wrote after its factory.
int64_t ReplayBytesForVersions(int versions) {
  auto trace = std::make_shared<Trace>();
  Tensor w;
  {
    RecordingMode mode(trace);
    ScopedDispatchMode scope(&mode);
    w = zeros({16});
    for (int i = 0; i < versions; ++i) add_(w, 1.0);
  }
  const StorageVersion latest = trace->Latest(*w.storage());
  EXPECT_EQ(latest.version, versions);
  RegionBuffer result;
  const int64_t bytes = HeapBytesAllocatedDuring([&] {
    ReplaySession session(trace, Device::CPU());
    result = session.Run({ReplayTarget{latest, Region{{4}, {8}}}})[0];
  });
  const Tensor values = MakeTensor(result.storage, TensorLayout{{4}, {1}, 0}, DType::kFloat32);
  EXPECT_EQ(values.to_vector<float>(), std::vector<float>(4, static_cast<float>(versions)));
  return bytes;
}

// Replaying a chain of versions costs the same per version however long the chain is:
// 8x the versions, at most 8x (plus slack) the bytes. Looking a storage up used to copy
// the list of its versions, which made the cost grow with the square of their number.
TEST(ReplaySessionTest, ReplayWorkIsLinearInTheNumberOfVersions) {
  const int64_t short_chain = ReplayBytesForVersions(2000);
  const int64_t long_chain = ReplayBytesForVersions(16000);
  EXPECT_LE(long_chain, 10 * short_chain)
      << "2000 versions: " << short_chain << " bytes; 16000 versions: " << long_chain;
}

// y = exp(arange(16)) + 1, then z = y written in place by mul_: a functional op with a
// region rule, an in-place op, and a factory.
struct SmallTrace {
  SmallTrace() {
    RecordingMode mode(trace);
    ScopedDispatchMode scope(&mode);
    Tensor x = arange(0, 16, 1, {.dtype = DType::kFloat32});
    y = add(exp(x), 1.0);
    mul_(y, 2.0);
  }
  std::shared_ptr<Trace> trace = std::make_shared<Trace>();
  Tensor y;
};

std::vector<std::string> OpNames(const Trace& trace, const std::vector<PlannedOp>& planned) {
  std::vector<std::string> names;
  for (const PlannedOp& op : planned) names.push_back(trace.Node(op.vertex).def->name);
  return names;
}

TEST(ReplaySessionTest, PlanListsTheOpsARunExecutesWithTheirRegions) {
  SmallTrace small;
  const ReplaySession session(small.trace, Device::CPU());
  const StorageVersion latest = small.trace->Latest(*small.y.storage());
  const std::vector<PlannedOp> planned = session.Plan({ReplayTarget{latest, Region{{4}, {8}}}});
  EXPECT_EQ(OpNames(*small.trace, planned),
            (std::vector<std::string>{"arange", "exp", "add_scalar", "mul_scalar_"}));
  for (const PlannedOp& op : planned) {
    ASSERT_EQ(op.regions.size(), 1u);
    EXPECT_EQ(op.regions[0], (Region{{4}, {8}})) << small.trace->Node(op.vertex).def->name;
    EXPECT_FALSE(op.whole);
  }
  EXPECT_EQ(session.ops_run(), 0);  // planning runs nothing
}

TEST(ReplaySessionTest, TheObserverSeesEveryOpsValuesAndCanStopTheRun) {
  SmallTrace small;
  ReplaySession session(small.trace, Device::CPU());
  std::vector<std::string> seen;
  std::vector<float> exp_values;
  session.set_step_observer([&](const ReplayStep& step) {
    seen.push_back(step.node->def->name);
    if (step.node->def->name == "exp") exp_values = step.values[0].to_vector<float>();
    EXPECT_EQ(step.regions[0], (Region{{2}, {4}}));
    return true;
  });
  const StorageVersion latest = small.trace->Latest(*small.y.storage());
  session.Run({ReplayTarget{latest, Region{{2}, {4}}}});
  EXPECT_EQ(seen, (std::vector<std::string>{"arange", "exp", "add_scalar", "mul_scalar_"}));
  EXPECT_EQ(exp_values, exp(arange(2, 4, 1, {.dtype = DType::kFloat32})).to_vector<float>());

  int steps = 0;
  session.set_step_observer([&](const ReplayStep&) { return ++steps < 2; });
  try {
    session.Run({ReplayTarget{latest, Region{{0}, {16}}}});
    ADD_FAILURE() << "the run did not stop";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kCancelled);
  }
  EXPECT_EQ(steps, 2);
}

// Records `build` into a trace with the generator at seed 3 and returns the tensor it
// makes; `eager` gets the same ops run eagerly from the same seed.
Tensor RecordAndRunEagerly(const std::function<Tensor()>& build, std::shared_ptr<Trace>& trace,
                           Tensor& eager) {
  manual_seed(3);
  eager = build();
  manual_seed(3);
  trace = std::make_shared<Trace>();
  RecordingMode mode(trace);
  ScopedDispatchMode scope(&mode);
  return build();
}

TEST(ReplaySessionTest, AnInitOverwrittenByAReInitIsNeverComputed) {
  std::shared_ptr<Trace> trace;
  Tensor eager;
  const Tensor w = RecordAndRunEagerly(
      [] {
        Tensor t = empty({16, 4});
        uniform_(t, -1.0, 1.0);  // the layer's init...
        normal_(t, 0.0, 0.02);   // ...overwritten by the model's
        return t;
      },
      trace, eager);
  ReplaySession session(trace, Device::CPU());
  const StorageVersion latest = trace->Latest(*w.storage());
  const Storage whole = session.RunWhole({latest})[0];
  EXPECT_EQ(session.ops_run(), 1);  // normal_ only: not empty, not uniform_
  EXPECT_EQ(session.elements_computed(), 64);
  EXPECT_EQ(MakeTensor(whole, w.layout(), w.dtype()).to_vector<float>(), eager.to_vector<float>());

  ReplaySession shard(trace, Device::CPU());
  const RegionBuffer rows = shard.Run({ReplayTarget{latest, Region{{4, 0}, {8, 4}}}})[0];
  EXPECT_EQ(shard.ops_run(), 1);
  EXPECT_EQ(shard.elements_computed(), 16);
  const Tensor values = MakeTensor(rows.storage, TensorLayout{{4, 4}, {4, 1}, 0}, DType::kFloat32);
  const std::vector<float> all = eager.to_vector<float>();
  EXPECT_EQ(values.to_vector<float>(), std::vector<float>(all.begin() + 16, all.begin() + 32));
}

TEST(ReplaySessionTest, OldValuesStillReadAreComputed) {
  // Through a view that covers part of the storage, the rest of the old version survives.
  std::shared_ptr<Trace> trace;
  Tensor eager;
  const Tensor w = RecordAndRunEagerly(
      [] {
        Tensor t = zeros({4, 4});
        normal_(narrow(t, 0, 1, 2), 0.0, 1.0);
        return t;
      },
      trace, eager);
  ReplaySession session(trace, Device::CPU());
  const Storage whole = session.RunWhole({trace->Latest(*w.storage())})[0];
  EXPECT_EQ(session.ops_run(), 2);
  EXPECT_EQ(MakeTensor(whole, w.layout(), w.dtype()).to_vector<float>(), eager.to_vector<float>());

  // Another op that read the old version before the overwrite still gets it.
  std::vector<Tensor> doubled;  // the eager run's, then the recorded one
  const Tensor v = RecordAndRunEagerly(
      [&] {
        Tensor t = empty({8});
        uniform_(t, 0.0, 1.0);
        doubled.push_back(mul(t, 2.0));
        fill_(t, 5.0);
        return t;
      },
      trace, eager);
  ReplaySession both(trace, Device::CPU());
  const std::vector<Storage> results =
      both.RunWhole({trace->Latest(*v.storage()), trace->Latest(*doubled[1].storage())});
  EXPECT_EQ(both.ops_run(), 3);  // uniform_ (which overwrites empty), mul_scalar, fill_
  EXPECT_EQ(MakeTensor(results[0], v.layout(), v.dtype()).to_vector<float>(),
            std::vector<float>(8, 5.0f));
  EXPECT_EQ(MakeTensor(results[1], doubled[1].layout(), DType::kFloat32).to_vector<float>(),
            doubled[0].to_vector<float>());
  ReplaySession latest_only(trace, Device::CPU());
  latest_only.RunWhole({trace->Latest(*v.storage())});
  EXPECT_EQ(latest_only.ops_run(), 1);  // fill_
}

// `randn * 0.02 + 1` as a ViT writes it: the draw is freed once the product exists, and
// the sum's buffer, of the same size, takes the draw's pages instead of fresh ones.
TEST(ReplaySessionTest, AFreedIntermediatesBlockIsReusedWithinARun) {
  const int64_t rows = 1024, cols = 2048;  // 8 MiB of float32: a mapped block
  std::shared_ptr<Trace> trace;
  Tensor eager;
  const Tensor w = RecordAndRunEagerly(
      [&] { return add(mul(randn({rows, cols}), 0.02), 1.0); }, trace, eager);
  const AllocationStats before = GetAllocationStats();
  ReplaySession session(trace, Device::CPU());
  const Storage whole = session.RunWhole({trace->Latest(*w.storage())})[0];
  const AllocationStats after = GetAllocationStats();
  EXPECT_EQ(session.blocks_reused(), 1);
  // The counters count tensor data as before: three tensors allocated, two freed.
  EXPECT_EQ(after.allocation_count - before.allocation_count, 3);
  EXPECT_EQ(after.free_count - before.free_count, 2);
  EXPECT_EQ(after.live_bytes - before.live_bytes, rows * cols * 4);
  EXPECT_EQ(MakeTensor(whole, w.layout(), w.dtype()).to_vector<float>(), eager.to_vector<float>());
}

}  // namespace
}  // namespace deferred
