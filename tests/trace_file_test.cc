// Trace files round trip: for random programs, every standard layer and both example
// models, save_trace then load_trace gives a module whose tensors materialize — whole and
// in random shards, in any order — bitwise equal to the original's, and saving the loaded
// module again writes the same bytes.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "deferred/nn/init.h"
#include "deferred/nn/linear.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "fake_tensor/file_io.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/storage.h"
#include "gtest/gtest.h"
#include "replay/trace.h"
#include "tests/equivalence.h"
#include "tests/random_program.h"
#include "tests/standard_layers.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return (std::filesystem::path(dir != nullptr ? dir : "/tmp") / name).string();
}

std::string ReadText(const std::string& path) { return *ReadFileToString(path, int64_t{1} << 30); }

// Every parameter and buffer, unique, in order.
std::vector<nn::NamedTensor> AllTensors(const nn::Module& m) {
  std::vector<nn::NamedTensor> all = m.named_parameters();
  for (const nn::NamedTensor& b : m.named_buffers()) all.push_back(b);
  return all;
}

// A random spec of `sizes`: one or two dims, split, chunk or range.
ShardSpec RandomSpec(const Shape& sizes, std::mt19937_64& rng) {
  const int d = static_cast<int>(rng() % sizes.size());
  const int world = 1 + static_cast<int>(rng() % std::min<int64_t>(sizes[d], 5));
  ShardSpec spec = ShardSpec::TensorSplit(d, static_cast<int>(rng() % world), world);
  if (sizes.size() > 1 && rng() % 2) {
    const int e = (d + 1) % static_cast<int>(sizes.size());
    const int64_t start = static_cast<int64_t>(rng() % sizes[e]);
    spec = spec.And(
        ShardSpec::Range(e, start, start + 1 + static_cast<int64_t>(rng() % (sizes[e] - start))));
  }
  return spec;
}

// Saves `original` (fake), loads it, and checks the loaded module against the original:
// same names, type names, ties and layouts; whole and sharded materialization bitwise
// equal to the original's, with the generator untouched; and save(load(f)) == f.
void ExpectRoundTrip(const std::shared_ptr<nn::Module>& original, const std::string& name,
                     uint64_t seed) {
  const std::string path = TempPath(name + ".dtrace");
  ASSERT_TRUE(save_trace(*original, path).ok());
  absl::StatusOr<std::shared_ptr<nn::Module>> loaded = load_trace(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  // Canonical: saving what was loaded writes the same bytes.
  const std::string again = TempPath(name + ".again.dtrace");
  ASSERT_TRUE(save_trace(**loaded, again).ok());
  EXPECT_EQ(ReadText(path), ReadText(again));

  // The tree: module names and types, every name of every tensor, layouts, flags.
  std::vector<std::pair<std::string, std::string>> modules_a, modules_b;
  std::function<void(const nn::Module&, const std::string&, decltype(modules_a)&)> walk =
      [&](const nn::Module& m, const std::string& prefix, auto& out) {
        out.emplace_back(prefix, m.type_name());
        for (const auto& [n, c] : m.named_children()) walk(*c, absl::StrCat(prefix, ".", n), out);
      };
  walk(*original, "", modules_a);
  walk(**loaded, "", modules_b);
  EXPECT_EQ(modules_a, modules_b);
  const auto entries_a = original->tensor_entries();
  const auto entries_b = (*loaded)->tensor_entries();
  ASSERT_EQ(entries_a.size(), entries_b.size());
  for (size_t i = 0; i < entries_a.size(); ++i) {
    EXPECT_EQ(entries_a[i].name, entries_b[i].name);
    EXPECT_EQ(entries_a[i].buffer, entries_b[i].buffer);
    EXPECT_EQ(entries_a[i].persistent, entries_b[i].persistent);
    EXPECT_EQ(entries_a[i].tensor.ToString(), entries_b[i].tensor.ToString()) << entries_a[i].name;
    EXPECT_EQ(original->names_of(entries_a[i].tensor), (*loaded)->names_of(entries_b[i].tensor));
  }

  // Shards first, in random order, from the loaded module; then everything whole.
  const std::vector<nn::NamedTensor> a = AllTensors(*original), b = AllTensors(**loaded);
  ASSERT_EQ(a.size(), b.size());
  std::vector<Tensor> expected;
  for (const auto& [n, t] : a) {
    absl::StatusOr<Tensor> whole = materialize_tensor(t);
    ASSERT_TRUE(whole.ok()) << n << ": " << whole.status();
    expected.push_back(*whole);
  }
  const RngState rng_before = get_rng_state();
  std::mt19937_64 rng(seed);
  std::vector<size_t> order(b.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) {
    const Tensor& t = b[i].second;
    if (t.dim() == 0 || t.numel() == 0) continue;
    const ShardSpec spec = RandomSpec(t.sizes(), rng);
    absl::StatusOr<Tensor> shard = materialize_shard(t, spec);
    ASSERT_TRUE(shard.ok()) << b[i].first << ": " << shard.status();
    EXPECT_TRUE(TensorsBitwiseEqual(SliceOf(expected[i], *spec.Resolve(t.sizes())), *shard))
        << b[i].first << " " << spec.ToString();
  }
  ASSERT_TRUE(materialize_module(**loaded).ok());
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_TRUE(TensorsBitwiseEqual(expected[i], b[i].second)) << b[i].first;
  }
  EXPECT_EQ(get_rng_state(), rng_before) << "loading and materializing used the generator";
}

TEST(TraceFileTest, RandomProgramsRoundTrip) {
  constexpr uint64_t kPrograms = 100;
  for (uint64_t seed = TestSeedBase() + 1; seed <= TestSeedBase() + kPrograms; ++seed) {
    SCOPED_TRACE(absl::StrCat("program seed ", seed));
    manual_seed(seed);
    absl::StatusOr<std::shared_ptr<RandomProgram>> program = deferred_init<RandomProgram>(seed);
    ASSERT_TRUE(program.ok()) << program.status();
    ExpectRoundTrip(*program, absl::StrCat("program", seed), seed);
  }
}

TEST(TraceFileTest, LayersAndModelsRoundTrip) {
  std::vector<std::pair<std::string, ModuleFactory>> factories = StandardLayerFactories();
  factories.emplace_back(
      "Gpt2", [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); });
  factories.emplace_back(
      "Llama", [] { return std::make_shared<examples::Llama>(examples::LlamaConfig::Tiny()); });

  for (const auto& [name, factory] : factories) {
    SCOPED_TRACE(name);
    manual_seed(17);
    absl::StatusOr<std::shared_ptr<nn::Module>> module = deferred_init(factory);
    ASSERT_TRUE(module.ok()) << module.status();
    ExpectRoundTrip(*module, name, 17);
  }
}

// serialize_trace gives the bytes save_trace writes, and deserialize_trace a model that
// materializes as the recorded one does.
TEST(TraceFileTest, TraceBytesAreTheFileAndLoadWithoutOne) {
  manual_seed(5);
  absl::StatusOr<std::shared_ptr<examples::Llama>> model =
      deferred_init<examples::Llama>(examples::LlamaConfig::Tiny());
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string path = TempPath("bytes.dtrace");
  ASSERT_TRUE(save_trace(**model, path).ok());
  absl::StatusOr<std::string> bytes = serialize_trace(**model);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, ReadText(path));
  absl::StatusOr<std::shared_ptr<nn::Module>> loaded = deserialize_trace(*bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(materialize_module(**loaded).ok());
  ASSERT_TRUE(materialize_module(**model).ok());
  EXPECT_TRUE(ModulesBitwiseEqual(**model, **loaded));
  EXPECT_EQ(deserialize_trace(bytes->substr(0, bytes->size() / 2)).status().code(),
            absl::StatusCode::kDataLoss);
}

// A view parameter, a tie, a non-persistent buffer, and an op recorded after deferred_init
// returned: each survives the file.
class Tricky : public nn::Module {
 public:
  Tricky() : Module("Tricky") {
    const Tensor base = register_buffer("base", arange(0, 24, 1, {.dtype = DType::kFloat32}));
    register_parameter("window", narrow(view(base, {4, 6}), 1, 2, 3));  // a view
    register_parameter("tied", parameter("window"));
    register_buffer("mask", lt(arange(0, 5), 3), /*persistent=*/false);
  }
};

TEST(TraceFileTest, ViewsTiesFlagsAndLaterOpsSurvive) {
  absl::StatusOr<std::shared_ptr<Tricky>> tricky = deferred_init<Tricky>();
  ASSERT_TRUE(tricky.ok());
  mul_((*tricky)->parameter("window"), 10.0);  // recorded after deferred_init returned
  ExpectRoundTrip(*tricky, "tricky", 3);
  absl::StatusOr<std::shared_ptr<nn::Module>> loaded = load_trace(TempPath("tricky.dtrace"));
  ASSERT_TRUE(loaded.ok());
  const Tensor& window = (*loaded)->parameter("window");
  EXPECT_EQ(window.storage(), (*loaded)->buffer("base").storage()) << "the view stays a view";
  EXPECT_TRUE(window.is_same((*loaded)->parameter("tied")));
  EXPECT_EQ((*loaded)->named_persistent_buffers().size(), 1u);
  EXPECT_EQ((*loaded)->type_name(), "Tricky");
  ASSERT_TRUE(materialize_module(**loaded).ok());
  EXPECT_EQ(window.to_vector<float>()[0], 20.0f);  // base[0][2] = 2, times 10
}

TEST(TraceFileTest, RealTensorsAreSavedOnlyWhenAsked) {
  absl::StatusOr<std::shared_ptr<nn::Linear>> linear = deferred_init<nn::Linear>(4, 3);
  ASSERT_TRUE(linear.ok());
  ASSERT_TRUE(materialize_module(**linear, {.filter = [](const std::string& n) {
                return n == "bias";
              }}).ok());
  const std::string path = TempPath("real.dtrace");
  const absl::Status refused = save_trace(**linear, path);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("bias is real"), std::string::npos) << refused;
  EXPECT_FALSE(std::filesystem::exists(path));

  ASSERT_TRUE(save_trace(**linear, path, {.include_real_tensors = true}).ok());
  absl::StatusOr<std::shared_ptr<nn::Module>> loaded = load_trace(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(is_fake((*loaded)->parameter("bias")));
  EXPECT_TRUE(TensorsBitwiseEqual((*linear)->parameter("bias"), (*loaded)->parameter("bias")));
  EXPECT_TRUE(is_fake((*loaded)->parameter("weight")));
  ASSERT_TRUE(materialize_module(**loaded).ok());
  ASSERT_TRUE(materialize_module(**linear).ok());
  EXPECT_TRUE(TensorsBitwiseEqual((*linear)->parameter("weight"), (*loaded)->parameter("weight")));
}

// Which files recorded ops name: the model's and the layers', never the library's own
// op definitions (public functions hand their caller's site on).
TEST(TraceFileTest, EveryOpNamesTheModelOrLayerLineThatCalledIt) {
  absl::StatusOr<std::shared_ptr<examples::Llama>> llama =
      deferred_init<examples::Llama>(examples::LlamaConfig::Tiny());
  ASSERT_TRUE(llama.ok());
  std::shared_ptr<Trace> trace = TraceOf((*llama)->named_parameters().front().second);
  int with_module = 0;
  for (Trace::Vertex v = 0; v < static_cast<Trace::Vertex>(trace->num_ops()); ++v) {
    const TraceNode& node = trace->Node(v);
    const std::string file(node.provenance.file);
    SCOPED_TRACE(DescribeNode(node));
    EXPECT_TRUE(file.starts_with("examples/models/") || file.starts_with("deferred/nn/")) << file;
    EXPECT_GT(node.provenance.line, 0);
    with_module += !node.provenance.module_path.empty();
  }
  EXPECT_GT(with_module, trace->num_ops() / 2);
}

TEST(TraceFileTest, ReplayErrorsNameTheOpItsLineAndModule) {
  absl::StatusOr<std::shared_ptr<examples::Gpt2>> gpt =
      deferred_init<examples::Gpt2>(examples::Gpt2Config::Tiny());
  ASSERT_TRUE(gpt.ok());
  const std::string path = TempPath("gpt_errors.dtrace");
  ASSERT_TRUE(save_trace(**gpt, path).ok());
  absl::StatusOr<std::shared_ptr<nn::Module>> loaded = load_trace(path);
  ASSERT_TRUE(loaded.ok());
  // A budget too small for any weight: the first op to allocate fails.
  SetAllocationLimit(GetAllocationStats().live_bytes + 64);
  const absl::Status status = materialize_module(**loaded);
  SetAllocationLimit(0);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  // "fill_ at deferred/nn/normalization.cc:37 in transformer.h.0.ln_2: allocating ..."
  const std::string message(status.message());
  EXPECT_TRUE(message.find(" at deferred/nn/") != std::string::npos ||
              message.find(" at examples/models/") != std::string::npos)
      << message;
  EXPECT_NE(message.find(".cc:"), std::string::npos) << message;
  EXPECT_NE(message.find(" in transformer."), std::string::npos) << message;
}

}  // namespace
}  // namespace deferred
