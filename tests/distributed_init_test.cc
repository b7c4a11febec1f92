// Multi-rank initialization, run on every rank of an MPI job (tests/BUILD runs it on 1 to
// 4 ranks): each rank materializes only its shards, and collectives check them against a
// single-process materialization of the whole model — bitwise for small models, by
// composable checksums for a larger one — and reload a checkpoint that one world size
// wrote at another.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkpoint/checkpoint.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "deferred/shard_plan.h"
#include "deferred/trace_file.h"
#include "distributed/shard_verification.h"
#include "distributed/sharded_checkpoint.h"
#include "distributed/testing/mpi_test.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred {
namespace {

using distributed::Communicator;
using distributed::MpiTest;
using distributed::SaveShardedCheckpoint;
using distributed::ShardVerification;
using distributed::VerifyShards;

using DistributedInitTest = MpiTest;

std::shared_ptr<nn::Module> Deferred(const ModuleFactory& factory, uint64_t seed) {
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<nn::Module>> module = deferred_init(factory);
  EXPECT_TRUE(module.ok()) << module.status();
  return module.ok() ? *module : nullptr;
}

ModuleFactory LlamaFactory(const examples::LlamaConfig& config) {
  return [config] { return std::make_shared<examples::Llama>(config); };
}

ModuleFactory Gpt2Factory() {
  return [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); };
}

// GPT-2 as Megatron-LM splits it: the fused qkv and the MLP's first layer column-wise,
// both c_proj row-wise, the tied embedding over the vocabulary.
std::vector<TensorParallelRule> Gpt2TensorParallelRules() {
  return {{"*.c_attn", TensorParallelStyle::kColumnwise},
          {"*.c_fc", TensorParallelStyle::kColumnwise},
          {"*.c_proj", TensorParallelStyle::kRowwise},
          {"transformer.wte", TensorParallelStyle::kColumnwise}};
}

// Every parameter and buffer, in the module's order (the same on every rank).
std::vector<nn::NamedTensor> TensorsOf(const nn::Module& module) {
  std::vector<nn::NamedTensor> all = module.named_parameters();
  for (nn::NamedTensor& buffer : module.named_buffers()) all.push_back(std::move(buffer));
  return all;
}

// The region of `name` this rank holds: the shard report's, else the whole tensor.
Region RegionOf(const std::vector<ShardInfo>& report, const std::string& name, const Tensor& t) {
  for (const ShardInfo& info : report) {
    if (info.name == name) return info.region;
  }
  return Region::Full(t.sizes());
}

// Materializes `module` under `plan` on this rank and verifies, through collectives, that
// the shards of all ranks are the tensors of `factory`'s single-process model.
absl::Status MaterializeAndVerify(const Communicator& world, const ModuleFactory& factory,
                                  nn::Module& module, const ShardPlan& plan, uint64_t seed,
                                  ShardVerification how) {
  std::vector<ShardInfo> report;
  const absl::Status materialized =
      world.Agree(materialize_module(module, {.shard = plan, .shard_report = &report}));
  if (!materialized.ok()) return materialized;
  const std::shared_ptr<nn::Module> reference =
      world.rank() == 0 ? Deferred(factory, seed) : nullptr;
  return VerifyShards(world, module, report, reference.get(), how);
}

// `name` under the test's temporary folder, made empty by rank 0 before any rank returns.
std::filesystem::path EmptyFolder(const Communicator& world, const std::string& name) {
  const std::filesystem::path folder = std::filesystem::path(std::getenv("TEST_TMPDIR")) / name;
  if (world.rank() == 0) {
    std::filesystem::remove_all(folder);
    std::filesystem::create_directories(folder);
  }
  EXPECT_TRUE(world.Barrier().ok());
  return folder;
}

TEST_F(DistributedInitTest, FsdpShardsOfEveryRankAreSlicesOfTheSingleProcessModel) {
  const int rank = world().rank(), size = world().size();
  for (const ModuleFactory& factory :
       {LlamaFactory(examples::LlamaConfig::Tiny()), Gpt2Factory()}) {
    const std::shared_ptr<nn::Module> module = Deferred(factory, 21);
    EXPECT_TRUE(MaterializeAndVerify(world(), factory, *module, *FsdpPlan(rank, size), 21,
                                     ShardVerification::kBitwise)
                    .ok());
  }
}

// Every mesh the world size allows (2 x 2 among them at four ranks), and plain tensor
// parallelism over all ranks.
TEST_F(DistributedInitTest, TensorParallelAndTwoDimensionalShardsAreSlices) {
  const int rank = world().rank(), size = world().size();
  const struct {
    ModuleFactory factory;
    std::vector<TensorParallelRule> rules;
  } models[] = {{LlamaFactory(examples::LlamaConfig::Tiny()), examples::LlamaTensorParallelRules()},
                {Gpt2Factory(), Gpt2TensorParallelRules()}};
  for (const auto& [factory, rules] : models) {
    for (int tp = 1; tp <= size; ++tp) {
      if (size % tp != 0) continue;
      SCOPED_TRACE(absl::StrFormat("mesh %d x %d", size / tp, tp));
      const DeviceMesh mesh = *DeviceMesh::Create(size / tp, tp, size);
      const std::shared_ptr<nn::Module> module = Deferred(factory, 22);
      const absl::Status verified = MaterializeAndVerify(world(), factory, *module,
                                                         *FsdpTensorParallelPlan(rules, mesh, rank),
                                                         22, ShardVerification::kBitwise);
      EXPECT_TRUE(verified.ok()) << verified;
    }
    SCOPED_TRACE("tensor parallel");
    const std::shared_ptr<nn::Module> module = Deferred(factory, 23);
    const absl::Status verified =
        MaterializeAndVerify(world(), factory, *module, *TensorParallelPlan(rules, rank, size), 23,
                             ShardVerification::kBitwise);
    EXPECT_TRUE(verified.ok()) << verified;
  }
}

// Rank 0 records and broadcasts the trace file's bytes; the others never run the model's
// code, yet their shards are slices of the recorded model.
TEST_F(DistributedInitTest, ShardsOfABroadcastTraceAreSlicesOfTheRecordedModel) {
  const ModuleFactory factory = LlamaFactory(examples::LlamaConfig::Tiny());
  std::string trace;
  if (world().rank() == 0) {
    absl::StatusOr<std::string> bytes = serialize_trace(*Deferred(factory, 24));
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    trace = *std::move(bytes);
  }
  ASSERT_TRUE(world().Broadcast(trace, 0).ok());
  absl::StatusOr<std::shared_ptr<nn::Module>> module = deserialize_trace(trace);
  ASSERT_TRUE(world().Agree(module.status()).ok()) << module.status();
  const absl::Status verified =
      MaterializeAndVerify(world(), factory, **module, *FsdpPlan(world().rank(), world().size()),
                           24, ShardVerification::kBitwise);
  EXPECT_TRUE(verified.ok()) << verified;
}

// A larger model (10M parameters), whose shards travel as checksums only: those of the
// distinct regions of each tensor add up to the whole tensor's, which rank 0 materializes
// one tensor at a time.
TEST_F(DistributedInitTest, ShardChecksumsOfALargerModelCombineToTheWholeTensors) {
  const examples::LlamaConfig config{.vocab_size = 4099,
                                     .dim = 512,
                                     .n_layers = 2,
                                     .n_heads = 8,
                                     .n_kv_heads = 4,
                                     .ffn_dim = 1409,
                                     .max_seq_len = 64};
  const int rank = world().rank(), size = world().size();
  const int tp = size % 2 == 0 ? 2 : 1;
  const ShardPlan plan = *FsdpTensorParallelPlan(examples::LlamaTensorParallelRules(),
                                                 *DeviceMesh::Create(size / tp, tp, size), rank);
  const std::shared_ptr<nn::Module> module = Deferred(LlamaFactory(config), 25);
  const absl::Status verified = MaterializeAndVerify(world(), LlamaFactory(config), *module, plan,
                                                     25, ShardVerification::kChecksum);
  EXPECT_TRUE(verified.ok()) << verified;
}

// W ranks save a sharded checkpoint (a region file each, rank 0 the index); then it loads
// under FSDP at W - 1 and W + 1 ranks (each rank of this job playing ranks r, r + W, ... of the new
// world), each reading exactly the bytes of its new regions.
TEST_F(DistributedInitTest, ACheckpointOfWRanksLoadsAtOtherWorldSizesReadingOnlyItsRegions) {
  const ModuleFactory factory = LlamaFactory(examples::LlamaConfig::Tiny());
  const int rank = world().rank(), size = world().size();
  const std::filesystem::path folder = EmptyFolder(world(), absl::StrCat("reshard-", size));
  {
    // Written under FSDP over a (size / 2) x 2 mesh where the size is even (norms replicated
    // over the tensor-parallel pairs, written once), plain FSDP otherwise.
    const int tp = size % 2 == 0 ? 2 : 1;
    const std::shared_ptr<nn::Module> module = Deferred(factory, 26);
    std::vector<ShardInfo> report;
    absl::Status saved = world().Agree(materialize_module(
        *module, {.shard = *FsdpTensorParallelPlan(examples::LlamaTensorParallelRules(),
                                                   *DeviceMesh::Create(size / tp, tp, size), rank),
                  .shard_report = &report}));
    if (saved.ok()) saved = SaveShardedCheckpoint(world(), *module, report, folder.string());
    ASSERT_TRUE(saved.ok()) << saved;
  }
  const std::string index = (folder / distributed::kShardedIndexName).string();

  const std::shared_ptr<nn::Module> whole = Deferred(factory, 26);
  ASSERT_TRUE(materialize_module(*whole).ok());
  for (const int new_size : {size - 1, size + 1}) {
    for (int new_rank = rank; new_size >= 1 && new_rank < new_size; new_rank += size) {
      SCOPED_TRACE(
          absl::StrFormat("rank %d of %d, reading what %d ranks wrote", new_rank, new_size, size));
      const CheckpointReadStats before_open = GetCheckpointReadStats();
      absl::StatusOr<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::Open(index);
      ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
      const int64_t header_bytes = GetCheckpointReadStats().bytes - before_open.bytes;

      const std::shared_ptr<nn::Module> module = Deferred(factory, 99);  // values from the file
      std::vector<ShardInfo> report;
      const CheckpointReadStats before = GetCheckpointReadStats();
      const absl::Status loaded = load_checkpoint(
          *module, index,
          {.materialize = {.shard = *FsdpPlan(new_rank, new_size), .shard_report = &report}});
      ASSERT_TRUE(loaded.ok()) << loaded;
      const int64_t data_bytes = GetCheckpointReadStats().bytes - before.bytes - header_bytes;

      int64_t expected_bytes = 0;
      const std::vector<nn::NamedTensor> expected = TensorsOf(*whole), actual = TensorsOf(*module);
      ASSERT_EQ(expected.size(), actual.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        const Region region = RegionOf(report, actual[i].first, actual[i].second);
        EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(expected[i].second, region), actual[i].second))
            << actual[i].first;
        if ((*checkpoint)->Find(actual[i].first) != nullptr) {
          expected_bytes += region.numel() * ElementSize(actual[i].second.dtype());
        }
      }
      EXPECT_EQ(data_bytes, expected_bytes);
    }
  }
}

// The verification is an oracle only if it rejects what is wrong: the last rank built from
// another seed, a plan that leaves rows on no rank, and replicated copies that differ.
TEST_F(DistributedInitTest, VerificationRejectsWrongValuesGapsAndDifferingCopies) {
  const ModuleFactory factory = LlamaFactory(examples::LlamaConfig::Tiny());
  const int rank = world().rank(), size = world().size(), last = size - 1;
  for (const ShardVerification how : {ShardVerification::kBitwise, ShardVerification::kChecksum}) {
    const std::shared_ptr<nn::Module> module = Deferred(factory, rank == last ? 31 : 30);
    const absl::Status wrong =
        MaterializeAndVerify(world(), factory, *module, *FsdpPlan(rank, size), 30, how);
    EXPECT_EQ(wrong.code(), absl::StatusCode::kDataLoss) << wrong;
    // Bytes show which rank differs; a sum of checksums only that the tensor does.
    EXPECT_TRUE(
        absl::StrContains(wrong.message(), how == ShardVerification::kBitwise
                                               ? absl::StrFormat("rank %d's shard", last)
                                               : std::string("checksums of the ranks' shards")))
        << wrong;
  }
  // The last rank drops the last row of every tensor it holds.
  const ShardPlan fsdp = *FsdpPlan(rank, size);
  const ShardPlan gap = [&](const std::string& name,
                            const Shape& shape) -> std::optional<ShardSpec> {
    if (rank != last || shape.empty()) return fsdp(name, shape);
    const Region part = *fsdp(name, shape)->Resolve(shape);
    return ShardSpec::Range(0, part.start[0], std::max(part.start[0], part.stop[0] - 1));
  };
  const absl::Status gaps = MaterializeAndVerify(world(), factory, *Deferred(factory, 30), gap, 30,
                                                 ShardVerification::kChecksum);
  EXPECT_EQ(gaps.code(), absl::StatusCode::kDataLoss) << gaps;
  EXPECT_TRUE(absl::StrContains(gaps.message(), "elements")) << gaps;
  if (size > 1) {  // every rank holds all of every tensor, the last rank other values
    const ShardPlan whole = [](const std::string&, const Shape&) {
      return std::optional<ShardSpec>();
    };
    const absl::Status copies =
        MaterializeAndVerify(world(), factory, *Deferred(factory, rank == last ? 31 : 30), whole,
                             30, ShardVerification::kChecksum);
    EXPECT_EQ(copies.code(), absl::StatusCode::kDataLoss) << copies;
    EXPECT_TRUE(absl::StrContains(copies.message(), "different values")) << copies;
  }
}

// One rank with a bad trace path, or a bad plan: every rank returns that rank's error
// instead of waiting for it.
// A tensor of no elements has an empty region on every rank, yet the checkpoint must hold
// it: rank 0 writes it, and a loader at another world size finds it.
class WithAnEmptyTensor : public nn::Module {
 public:
  WithAnEmptyTensor() : Module("WithAnEmptyTensor") {
    register_parameter("weight", normal_(empty({6, 4}), 0.0, 1.0));
    register_parameter("nothing", zeros({0, 4}));
    register_buffer("no_rows", zeros({0}));
  }
};

TEST_F(DistributedInitTest, ACheckpointHoldsTensorsOfNoElements) {
  const ModuleFactory factory = [] { return std::make_shared<WithAnEmptyTensor>(); };
  const int rank = world().rank(), size = world().size();
  const std::filesystem::path folder = EmptyFolder(world(), absl::StrCat("empty-", size));
  const std::shared_ptr<nn::Module> module = Deferred(factory, 5);
  std::vector<ShardInfo> report;
  absl::Status saved = world().Agree(
      materialize_module(*module, {.shard = *FsdpPlan(rank, size), .shard_report = &report}));
  if (saved.ok()) saved = SaveShardedCheckpoint(world(), *module, report, folder.string());
  ASSERT_TRUE(saved.ok()) << saved;

  const std::string index = (folder / distributed::kShardedIndexName).string();
  absl::StatusOr<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::Open(index);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_NE((*checkpoint)->Find("nothing"), nullptr);
  EXPECT_NE((*checkpoint)->Find("no_rows"), nullptr);
  const std::shared_ptr<nn::Module> loaded = Deferred(factory, 99);
  ASSERT_TRUE(load_checkpoint(*loaded, index).ok());
  const std::shared_ptr<nn::Module> whole = Deferred(factory, 5);
  ASSERT_TRUE(materialize_module(*whole).ok());
  const std::vector<nn::NamedTensor> expected = TensorsOf(*whole), actual = TensorsOf(*loaded);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].second.sizes(), expected[i].second.sizes()) << actual[i].first;
    EXPECT_TRUE(TensorsBitwiseEqual(expected[i].second, actual[i].second)) << actual[i].first;
  }
}

TEST_F(DistributedInitTest, ARankThatFailsStopsEveryRankWithItsError) {
  const int rank = world().rank(), size = world().size();
  const int last = size - 1;
  const std::string missing = absl::StrCat(std::getenv("TEST_TMPDIR"), "/no-such.dtrace");
  const absl::Status trace = world().Agree(
      rank == last ? load_trace(missing).status()
                   : deserialize_trace(*serialize_trace(*Deferred(Gpt2Factory(), 1))).status());
  EXPECT_EQ(trace.code(), absl::StatusCode::kNotFound) << trace;
  EXPECT_TRUE(absl::StrContains(trace.message(), absl::StrFormat("rank %d of %d", last, size)))
      << trace;
  EXPECT_TRUE(absl::StrContains(trace.message(), missing)) << trace;

  const absl::Status plan = world().Agree(FsdpPlan(rank == last ? size : rank, size).status());
  EXPECT_EQ(plan.code(), absl::StatusCode::kInvalidArgument) << plan;
  EXPECT_TRUE(
      absl::StrContains(plan.message(), absl::StrFormat("rank %d is not in [0, %d)", size, size)))
      << plan;
}

}  // namespace
}  // namespace deferred
