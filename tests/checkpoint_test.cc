// Checkpoints end to end: save_checkpoint then load_checkpoint gives bitwise the same
// tensors for every standard layer, both example models and every dtype; an independent
// reader (a Python script using only its standard library) reads what was written; keys
// the checkpoint lacks come from the trace; every rank's shard reads just its bytes and
// equals the slice of the whole; a checkpoint saved by W ranks loads at another world
// size; and bad files leave the module as it was.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/safetensors_file.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/views.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/standard_layers.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return (std::filesystem::path(dir != nullptr ? dir : "/tmp") / name).string();
}

std::shared_ptr<nn::Module> Deferred(const ModuleFactory& factory, uint64_t seed) {
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<nn::Module>> module = deferred_init(factory);
  EXPECT_TRUE(module.ok()) << module.status();
  return *module;
}

bool AllFake(const nn::Module& m) {
  for (const auto& named : {m.named_parameters(), m.named_buffers()}) {
    for (const auto& [name, t] : named) {
      if (!is_fake(t)) return false;
    }
  }
  return true;
}

std::vector<std::pair<std::string, ModuleFactory>> Models() {
  std::vector<std::pair<std::string, ModuleFactory>> factories = StandardLayerFactories();
  factories.emplace_back(
      "Gpt2", [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); });
  factories.emplace_back(
      "Llama", [] { return std::make_shared<examples::Llama>(examples::LlamaConfig::Tiny()); });
  return factories;
}

// Saves a model recorded with one seed, loads it into one recorded with another: every
// tensor then equals the saved model's, not the trace's.
TEST(CheckpointTest, SaveThenLoadGivesTheSameTensorsForEveryLayerAndModel) {
  for (const auto& [name, factory] : Models()) {
    SCOPED_TRACE(name);
    const auto saved = Deferred(factory, 1);
    const std::string path = TempPath(name + ".safetensors");
    ASSERT_TRUE(save_checkpoint(*saved, path).ok());
    EXPECT_TRUE(AllFake(*saved)) << "saving materializes tensor by tensor, leaving it fake";
    const auto loaded = Deferred(factory, 2);
    ASSERT_TRUE(load_checkpoint(*loaded, path, {.strict = true}).ok());
    ASSERT_TRUE(materialize_module(*saved).ok());
    EXPECT_TRUE(ModulesBitwiseEqual(*saved, *loaded));
  }
}

class EveryDType : public nn::Module {
 public:
  EveryDType() : Module("EveryDType") {
    for (DType dtype : kAllDTypes) {
      register_parameter(DTypeName(dtype),
                         to(sub(arange(0, 30, 1, {.dtype = DType::kFloat32}), 7.5), dtype));
    }
    register_buffer("scalar", full({}, 2.5));
    register_buffer("empty", zeros({0, 3}), /*persistent=*/false);
  }
};

// The Python reader (tests/read_safetensors.py) reads every name, dtype and shape, and
// the bytes of each tensor hash as the module's do.
TEST(CheckpointTest, AnIndependentReaderReadsWhatWasWritten) {
  const auto module = Deferred([] { return std::make_shared<EveryDType>(); }, 0);
  const std::string path = TempPath("every_dtype.safetensors");
  ASSERT_TRUE(save_checkpoint(*module, path).ok());
  ASSERT_TRUE(materialize_module(*module).ok());
  std::set<std::string> expected;
  for (const auto& named : {module->named_parameters(), module->named_persistent_buffers()}) {
    for (const auto& [name, t] : named) {
      std::string shape = absl::StrJoin(t.sizes(), ",");
      expected.insert(absl::StrFormat("%s %s [%s] %s", name, SafetensorsDTypeName(t.dtype()), shape,
                                      TensorSha256(t)));
    }
  }
  FILE* pipe = ::popen(("python3 tests/read_safetensors.py " + path).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::set<std::string> actual;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    actual.insert(s);
  }
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_EQ(actual, expected);
}

TEST(CheckpointTest, KeysTheCheckpointLacksComeFromTheTraceAndStrictListsThem) {
  const auto factory = [] { return std::make_shared<nn::Linear>(6, 4); };
  const auto saved = Deferred(factory, 1);
  const std::string path = TempPath("weight_only.safetensors");
  ASSERT_TRUE(save_checkpoint(*saved, path, {.filter = [](const std::string& n) {
                                               return n == "weight";
                                             }}).ok());
  const auto strict = Deferred(factory, 2);
  const absl::Status refused = load_checkpoint(*strict, path, {.strict = true});
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("1 tensors have no key [bias]"));
  EXPECT_TRUE(AllFake(*strict));

  const auto loaded = Deferred(factory, 2);
  ASSERT_TRUE(load_checkpoint(*loaded, path).ok());
  const auto fresh = Deferred(factory, 2);
  ASSERT_TRUE(materialize_module(*fresh).ok());
  ASSERT_TRUE(materialize_module(*saved).ok());
  EXPECT_TRUE(TensorsBitwiseEqual(saved->parameter("weight"), loaded->parameter("weight")));
  EXPECT_TRUE(TensorsBitwiseEqual(fresh->parameter("bias"), loaded->parameter("bias")));

  const auto renamed = Deferred(factory, 2);
  const absl::Status unexpected = load_checkpoint(
      *renamed, path, {.strict = true, .key = [](const std::string& n) { return "x." + n; }});
  EXPECT_THAT(std::string(unexpected.message()), HasSubstr("1 keys have no tensor [weight]"));
}

TEST(CheckpointTest, RenamedKeysConversionsAndShapeMismatches) {
  const auto saved = Deferred([] { return std::make_shared<nn::Linear>(6, 4); }, 1);
  const std::string path = TempPath("linear.safetensors");
  ASSERT_TRUE(save_checkpoint(*saved, path, {.metadata = {{"format", "pt"}}}).ok());
  ASSERT_TRUE(materialize_module(*saved).ok());
  // Into a bfloat16 model under other names: converted as a cast converts.
  class Renamed : public nn::Module {
   public:
    Renamed() : Module("Renamed") {
      register_parameter("w", empty({4, 6}, {.dtype = DType::kBFloat16}));
      register_parameter("b", empty({4}, {.dtype = DType::kBFloat16}));
    }
  };
  const auto renamed = Deferred([] { return std::make_shared<Renamed>(); }, 0);
  ASSERT_TRUE(load_checkpoint(*renamed, path,
                              {.strict = true,
                               .key = [](const std::string& n) {
                                 return n == "w" ? std::string("weight") : std::string("bias");
                               }})
                  .ok());
  EXPECT_TRUE(TensorsBitwiseEqual(to(saved->parameter("weight"), DType::kBFloat16),
                                  renamed->parameter("w")));
  // A shape that differs: refused naming both shapes, and nothing changes.
  const auto other = Deferred([] { return std::make_shared<nn::Linear>(6, 5); }, 0);
  const absl::Status status = load_checkpoint(*other, path);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("weight has shape [5, 6], but checkpoint tensor 'weight' has shape [4, 6]"));
  EXPECT_TRUE(AllFake(*other));
}

TEST(CheckpointTest, SavingInAnotherDTypeConvertsFloatingTensorsOnly) {
  class Mixed : public nn::Module {
   public:
    Mixed() : Module("Mixed") {
      register_parameter("w", randn({5, 7}));
      register_buffer("steps", arange(0, 4));  // int64: kept as it is
    }
  };
  const auto saved = Deferred([] { return std::make_shared<Mixed>(); }, 3);
  const std::string path = TempPath("mixed_bf16.safetensors");
  ASSERT_TRUE(save_checkpoint(*saved, path, {.dtype = DType::kBFloat16}).ok());
  absl::StatusOr<std::unique_ptr<Checkpoint>> file = Checkpoint::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->Find("w")->dtype, DType::kBFloat16);
  EXPECT_EQ((*file)->Find("steps")->dtype, DType::kInt64);
  const auto loaded = Deferred([] { return std::make_shared<Mixed>(); }, 4);
  ASSERT_TRUE(load_checkpoint(*loaded, path).ok());
  ASSERT_TRUE(materialize_module(*saved).ok());
  EXPECT_TRUE(TensorsBitwiseEqual(to(to(saved->parameter("w"), DType::kBFloat16), DType::kFloat32),
                                  loaded->parameter("w")));
  EXPECT_TRUE(TensorsBitwiseEqual(saved->buffer("steps"), loaded->buffer("steps")));
  EXPECT_EQ(save_checkpoint(*saved, path, {.dtype = DType::kInt32}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckpointTest, EveryBadFileLeavesTheModuleAsItWas) {
  const auto module = Deferred([] { return std::make_shared<nn::Linear>(2, 2); }, 0);
  for (const auto& entry : std::filesystem::directory_iterator("testdata/safetensors")) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("bad_", 0) != 0) continue;
    const absl::Status status = load_checkpoint(*module, entry.path().string());
    EXPECT_TRUE(status.code() == absl::StatusCode::kDataLoss ||
                status.code() == absl::StatusCode::kInvalidArgument)
        << file << ": " << status;
    EXPECT_TRUE(AllFake(*module)) << file;
  }
}

// A view parameter gets the file's values; the rest of its storage comes from the trace.
class ViewModel : public nn::Module {
 public:
  ViewModel() : Module("ViewModel") {
    const Tensor base = register_buffer("base", arange(0, 12, 1, {.dtype = DType::kFloat32}));
    register_parameter("window", narrow(view(base, {3, 4}), 1, 1, 2));
  }
};

TEST(CheckpointTest, ViewsAndRealTensorsAreOverwrittenInPlace) {
  const auto source = Deferred([] { return std::make_shared<ViewModel>(); }, 0);
  ASSERT_TRUE(materialize_module(*source).ok());
  fill_(source->parameter("window"), -1.0);  // base becomes 0 -1 -1 3 4 -1 -1 7 ...
  const std::string path = TempPath("view.safetensors");
  ASSERT_TRUE(save_checkpoint(*source, path, {.filter = [](const std::string& n) {
                                                return n == "window";
                                              }}).ok());
  const auto loaded = Deferred([] { return std::make_shared<ViewModel>(); }, 0);
  ASSERT_TRUE(load_checkpoint(*loaded, path).ok());
  EXPECT_EQ(loaded->buffer("base").to_vector<float>(),
            (std::vector<float>{0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11}));
  // Loading into it again, now real, overwrites the window in place.
  const std::byte* data = loaded->buffer("base").storage()->data();
  fill_(loaded->parameter("window"), 5.0);
  ASSERT_TRUE(load_checkpoint(*loaded, path).ok());
  EXPECT_EQ(loaded->buffer("base").storage()->data(), data);
  EXPECT_EQ(loaded->parameter("window").to_vector<float>(), std::vector<float>(6, -1.0f));
}

TEST(CheckpointTest, FilesOfAtMostMaxShardBytesWithAnIndexLoadAsOne) {
  const auto factory = [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); };
  const auto saved = Deferred(factory, 4);
  const std::filesystem::path folder = TempPath("split");
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const std::string index = (folder / "model.safetensors.index.json").string();
  ASSERT_TRUE(save_checkpoint(*saved, index, {.max_shard_bytes = 2048}).ok());
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    if (e.path().extension() == ".safetensors") {
      ++files;
      auto file = SafetensorsFile::Open(e.path().string());
      ASSERT_TRUE(file.ok());
      int64_t bytes = 0;
      for (const SafetensorsTensor& t : (*file)->header().tensors) bytes += t.end - t.begin;
      EXPECT_TRUE(bytes <= 2048 || (*file)->header().tensors.size() == 1) << e.path();
    }
  }
  EXPECT_GT(files, 2);
  const auto loaded = Deferred(factory, 5);
  ASSERT_TRUE(load_checkpoint(*loaded, index, {.strict = true}).ok());
  ASSERT_TRUE(materialize_module(*saved).ok());
  EXPECT_TRUE(ModulesBitwiseEqual(*saved, *loaded));
}

// The header bytes of a file (read when it is opened, whatever is loaded).
int64_t HeaderBytes(const std::string& path) {
  return (*SafetensorsFile::Open(path))->header().data_offset;
}

// For every parameter of GPT-2, world sizes 1 to 8, dims 0 and 1: the shard loaded from
// the checkpoint equals the slice of the whole, and a dim-0 shard reads at most 1.05x its
// bytes (counted by the reader, headers aside).
TEST(CheckpointTest, EveryShardReadsItsBytesAndEqualsTheSliceOfTheWhole) {
  const auto factory = [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); };
  const auto saved = Deferred(factory, 6);
  const std::string path = TempPath("gpt2.safetensors");
  ASSERT_TRUE(save_checkpoint(*saved, path).ok());
  ASSERT_TRUE(materialize_module(*saved).ok());
  const int64_t header = HeaderBytes(path);
  for (const auto& [name, full] : saved->named_parameters()) {
    for (int dim = 0; dim < std::min<int64_t>(full.dim(), 2); ++dim) {
      for (int world = 1; world <= 8 && world <= full.size(dim); ++world) {
        for (int rank = 0; rank < world; ++rank) {
          SCOPED_TRACE(absl::StrCat(name, " dim ", dim, " rank ", rank, "/", world));
          const ShardSpec spec = ShardSpec::TensorSplit(dim, rank, world);
          const auto module = Deferred(factory, 7);
          const CheckpointReadStats before = GetCheckpointReadStats();
          ASSERT_TRUE(load_checkpoint(*module, path,
                                      {.materialize = {.filter = [&](const std::string& n) { return n == name; },
                                                       .shard = [&](const std::string&, const Shape&) {
                                                         return std::optional<ShardSpec>(spec);
                                                       }}})
                          .ok());
          const int64_t read = GetCheckpointReadStats().bytes - before.bytes - header;
          Tensor loaded;
          for (const auto& [n, t] : module->named_parameters()) {
            if (n == name) loaded = t;
          }
          const Region region = *spec.Resolve(full.sizes());
          ASSERT_TRUE(TensorsBitwiseEqual(SliceOf(full, region), loaded));
          if (dim == 0) {
            EXPECT_LE(read, region.numel() * ElementSize(full.dtype()) * 105 / 100);
          }
        }
      }
    }
  }
}

// Four ranks each save the shards a 2 x 2 plan gives them (dim 0 split in two, dim 1 in
// two); rank 0 writes the index; three ranks with another plan load their shards from it.
TEST(CheckpointTest, ACheckpointOfFourRanksLoadsAtWorldSizeThree) {
  const auto factory = [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); };
  const std::filesystem::path folder = TempPath("ranks");
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  std::vector<std::string> files;
  for (int rank = 0; rank < 4; ++rank) {
    const auto module = Deferred(factory, 8);
    std::vector<ShardInfo> report;
    MaterializeOptions plan{.shard = [rank](const std::string&, const Shape& shape) -> std::optional<ShardSpec> {
                              if (shape.size() < 2) return std::nullopt;  // kept whole, by rank 0
                              return ShardSpec::TensorSplit(0, rank / 2, 2).And(
                                  ShardSpec::TensorSplit(1, rank % 2, 2));
                            },
                            .shard_report = &report};
    ASSERT_TRUE(materialize_module(*module, plan).ok());
    std::set<std::string> sharded;
    for (const ShardInfo& info : report) sharded.insert(info.name);
    const std::string file = absl::StrFormat("rank-%05d-of-00004.safetensors", rank);
    ASSERT_TRUE(save_checkpoint(*module, (folder / file).string(),
                                {.filter = [&](const std::string& n) {
                                   return rank == 0 || sharded.contains(n);
                                 },
                                 .shards = &report})
                    .ok());
    files.push_back(file);
  }
  const std::string index = (folder / "index.json").string();
  ASSERT_TRUE(WriteCheckpointIndex(index, {}, files, 0).ok());
  const auto whole = Deferred(factory, 8);
  ASSERT_TRUE(materialize_module(*whole).ok());
  for (int rank = 0; rank < 3; ++rank) {
    SCOPED_TRACE(rank);
    const auto module = Deferred(factory, 9);
    std::vector<ShardInfo> report;
    ASSERT_TRUE(load_checkpoint(*module, index,
                                {.strict = true,
                                 .materialize = {.shard = [rank](const std::string&, const Shape&) {
                                                   return std::optional<ShardSpec>(
                                                       ShardSpec::TensorSplit(0, rank, 3));
                                                 },
                                                 .shard_report = &report}})
                    .ok());
    const auto expected = whole->named_parameters();
    const auto actual = module->named_parameters();
    ASSERT_EQ(expected.size(), actual.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const Region region = *ShardSpec::TensorSplit(0, rank, 3).Resolve(expected[i].second.sizes());
      EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(expected[i].second, region), actual[i].second))
          << actual[i].first;
    }
  }
}

}  // namespace
}  // namespace deferred
