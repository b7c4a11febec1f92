// Threads meeting on the same models, traces and generator: recording in several threads,
// materializing one module from many threads at once, sharding one tensor from many
// threads. Run under ThreadSanitizer by `./bazelw test --config=tsan //tests:concurrency_test`.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "gtest/gtest.h"
#include "replay/trace.h"
#include "tests/equivalence.h"

namespace deferred {
namespace {

constexpr int kThreads = 8;

// Runs fn(0) ... fn(kThreads - 1) on their own threads, released together.
void RunTogether(const std::function<void(int)>& fn) {
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      fn(i);
    });
  }
  for (std::thread& t : threads) t.join();
}

std::shared_ptr<examples::Gpt2> EagerGpt2(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny());
}

std::shared_ptr<examples::Gpt2> DeferredGpt2(uint64_t seed) {
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<examples::Gpt2>> model =
      deferred_init<examples::Gpt2>(examples::Gpt2Config::Tiny());
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

TEST(ConcurrencyTest, MaterializingOneModuleFromManyThreadsIsOneReplay) {
  // Big enough (3.7M parameters) that the threads' replays overlap.
  const examples::Gpt2Config config{
      .vocab_size = 4096, .block_size = 256, .n_layer = 2, .n_head = 4, .n_embd = 256};
  manual_seed(3);
  const auto eager = std::make_shared<examples::Gpt2>(config);
  manual_seed(3);
  absl::StatusOr<std::shared_ptr<examples::Gpt2>> deferred = deferred_init<examples::Gpt2>(config);
  ASSERT_TRUE(deferred.ok()) << deferred.status();
  const auto model = *deferred;
  std::vector<absl::Status> statuses(kThreads);
  RunTogether([&](int i) { statuses[i] = materialize_module(*model); });
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
  EXPECT_TRUE(ModulesBitwiseEqual(*eager, *model));
  // Ties survive: one storage, not one per racing thread.
  EXPECT_EQ(model->child("lm_head")->parameter("weight").storage(),
            model->child("transformer")->child("wte")->parameter("weight").storage());
}

TEST(ConcurrencyTest, ParentAndChildMaterializedAtOnceInitializeEachTensorOnce) {
  const auto eager = EagerGpt2(4);
  const auto model = DeferredGpt2(4);
  const std::shared_ptr<nn::Module> block = model->child("transformer")->child("h")->child("0");
  std::vector<absl::Status> statuses(kThreads);
  RunTogether([&](int i) {
    statuses[i] = i % 2 == 0 ? materialize_module(*model) : materialize_module(*block);
  });
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
  EXPECT_TRUE(ModulesBitwiseEqual(*eager, *model));
}

TEST(ConcurrencyTest, ConcurrentShardOptionsOnOneModuleAgree) {
  const auto eager = EagerGpt2(5);
  const auto model = DeferredGpt2(5);
  const auto plan = [](const std::string&, const Shape& shape) -> std::optional<ShardSpec> {
    if (shape.empty()) return std::nullopt;
    return ShardSpec::TensorSplit(0, 1, 3);
  };
  std::vector<absl::Status> statuses(kThreads);
  RunTogether([&](int i) { statuses[i] = materialize_module(*model, {.shard = plan}); });
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
  const auto expected = eager->named_parameters();
  const auto actual = model->named_parameters();
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Tensor& full = expected[i].second;
    absl::StatusOr<Region> region = ShardSpec::TensorSplit(0, 1, 3).Resolve(full.sizes());
    ASSERT_TRUE(region.ok());
    EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(full, *region), actual[i].second)) << actual[i].first;
  }
}

TEST(ConcurrencyTest, ShardsOfOneTensorFromManyThreadsEqualSlicesOfTheWhole) {
  const auto model = DeferredGpt2(6);
  const Tensor weight = model->child("lm_head")->parameter("weight");
  absl::StatusOr<Tensor> whole = materialize_tensor(weight);
  ASSERT_TRUE(whole.ok()) << whole.status();
  std::vector<absl::StatusOr<Tensor>> shards(kThreads);
  RunTogether([&](int i) {
    shards[i] = materialize_shard(weight, ShardSpec::TensorSplit(i % 2, i, kThreads));
  });
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(shards[i].ok()) << shards[i].status();
    absl::StatusOr<Region> region =
        ShardSpec::TensorSplit(i % 2, i, kThreads).Resolve(weight.sizes());
    ASSERT_TRUE(region.ok());
    EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(*whole, *region), *shards[i])) << "rank " << i;
  }
  EXPECT_TRUE(is_fake(weight));
}

TEST(ConcurrencyTest, MaterializeTensorRacingMaterializeModuleGivesTheSameValues) {
  const auto eager = EagerGpt2(7);
  const auto model = DeferredGpt2(7);
  const Tensor weight = model->child("transformer")->child("wpe")->parameter("weight");
  std::vector<absl::StatusOr<Tensor>> copies(kThreads);
  absl::Status module_status;
  RunTogether([&](int i) {
    if (i == 0) {
      module_status = materialize_module(*model);
    } else {
      copies[i] = materialize_tensor(weight);
    }
  });
  ASSERT_TRUE(module_status.ok()) << module_status;
  const Tensor expected = eager->child("transformer")->child("wpe")->parameter("weight");
  for (int i = 1; i < kThreads; ++i) {
    ASSERT_TRUE(copies[i].ok()) << copies[i].status();
    EXPECT_TRUE(TensorsBitwiseEqual(expected, *copies[i])) << i;
  }
}

// The [offset, offset + blocks) counter ranges of every random op in the module's trace.
std::vector<std::pair<uint64_t, uint64_t>> RandomRanges(const nn::Module& module) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::shared_ptr<Trace> trace = TraceOf(module.named_parameters().front().second);
  for (Trace::Vertex v = 0; v < static_cast<Trace::Vertex>(trace->num_ops()); ++v) {
    const TraceNode& node = trace->Node(v);
    if (!node.def->is_random()) continue;
    OpCall call{node.def, {}, node.attrs};
    for (const TraceOperand& input : node.inputs) {
      const TraceStorage storage = trace->Storage(input.value.storage_id);
      const int64_t nbytes = CheckedByteSize(storage.sizes, storage.dtype, "test");
      call.inputs.push_back(
          MakeTensor(FakeStorage(nbytes, Device::Meta()), input.layout, input.dtype));
    }
    const int64_t words =
        NumElements(node.outputs[0].layout.sizes) * node.def->rng_words_per_element(call);
    const uint64_t offset = static_cast<uint64_t>(node.attrs.Get<int64_t>("offset"));
    ranges.emplace_back(offset, offset + (words + 3) / 4);
  }
  return ranges;
}

TEST(ConcurrencyTest, RecordingInManyThreadsReservesDisjointRandomStreams) {
  manual_seed(8);
  const RngState start = get_rng_state();
  std::vector<std::shared_ptr<examples::Gpt2>> models(kThreads);
  RunTogether([&](int i) {
    absl::StatusOr<std::shared_ptr<examples::Gpt2>> model =
        deferred_init<examples::Gpt2>(examples::Gpt2Config::Tiny());
    ASSERT_TRUE(model.ok()) << model.status();
    models[i] = *model;
  });
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& model : models) {
    ASSERT_NE(model, nullptr);
    for (const auto& range : RandomRanges(*model)) ranges.push_back(range);
  }
  // Together the recordings reserved exactly [start, now), without overlaps.
  std::sort(ranges.begin(), ranges.end());
  uint64_t next = start.offset;
  for (const auto& [begin, end] : ranges) {
    EXPECT_EQ(begin, next);
    next = end;
  }
  EXPECT_EQ(next, get_rng_state().offset);
  // Each recording materializes, deterministically.
  RunTogether([&](int i) {
    absl::StatusOr<Tensor> first =
        materialize_tensor(models[i]->child("lm_head")->parameter("weight"));
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(materialize_module(*models[i]).ok());
    EXPECT_TRUE(TensorsBitwiseEqual(*first, models[i]->child("lm_head")->parameter("weight")));
  });
}

class Counter : public nn::Module {
 public:
  Counter() : Module("Counter") {
    for (int i = 0; i < kThreads; ++i) register_parameter(absl::StrCat("p", i), zeros({64}));
  }
};

TEST(ConcurrencyTest, ThreadsRecordingIntoOneTraceEachSeeTheirOwnOps) {
  absl::StatusOr<std::shared_ptr<Counter>> model = deferred_init<Counter>();
  ASSERT_TRUE(model.ok());
  RunTogether([&](int i) {
    const Tensor& p = (*model)->parameter(absl::StrCat("p", i));
    for (int k = 0; k < 50; ++k) add_(p, static_cast<double>(i));
  });
  ASSERT_TRUE(materialize_module(**model).ok());
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ((*model)->parameter(absl::StrCat("p", i)).to_vector<float>(),
              std::vector<float>(64, 50.0f * i))
        << i;
  }
}

}  // namespace
}  // namespace deferred
