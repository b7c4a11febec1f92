#include "tests/device_equivalence.h"

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deferred/shard_spec.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "examples/models/mamba.h"
#include "examples/models/vit.h"
#include "examples/models/whisper.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/ops/views.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/standard_layers.h"

namespace deferred {
namespace {

// One eager program: tensors made on `device`, ops run on them; returns what it made.
using EagerProgram = std::function<std::vector<Tensor>(Device device)>;

// The tensors a drawn program works on: a floating tensor, a transposed window of it, a
// tensor of another dtype holding 0 and 1, and what the steps made.
struct ProgramState {
  Tensor whole;
  Tensor view;
  Tensor other;
  std::vector<Tensor> made;
};

// One step of a drawn program; `a` is a drawn real number.
using ProgramStep = void (*)(ProgramState& state, double a);

// The steps programs draw from: every op with a CUDA kernel, in its forms (tensor and
// scalar operands, in place and not, broadcast, aliasing its own output).
constexpr ProgramStep kSteps[] = {
    [](ProgramState& s, double a) { uniform_(s.view, a, a + 1.5); },
    [](ProgramState& s, double a) { normal_(s.whole, a, 0.5); },
    [](ProgramState& s, double a) { trunc_normal_(s.view, a, 1.0, a - 1, a + 2); },
    [](ProgramState& s, double) { random_(s.view, -3, 40); },
    [](ProgramState& s, double) { bernoulli_(s.view, 0.3); },
    [](ProgramState& s, double a) { fill_(s.view, a); },
    [](ProgramState& s, double) { copy_(s.view, clone(narrow(s.view, 0, 0, 1))); },
    [](ProgramState& s, double) { s.made.push_back(to(s.whole, s.other.dtype())); },
    [](ProgramState& s, double) { copy_(s.whole, s.other); },
    [](ProgramState& s, double a) { add_(s.view, a); },
    [](ProgramState& s, double) { mul_(s.whole, clone(narrow(s.whole, 0, 0, 1))); },
    [](ProgramState& s, double) { sub_(s.view, s.view); },
    [](ProgramState& s, double) { s.made.push_back(div(s.whole, s.other)); },
    [](ProgramState& s, double a) { s.made.push_back(div(s.other, a)); },
    [](ProgramState& s, double) { s.made.push_back(lt(s.whole, s.other)); },
    [](ProgramState& s, double a) { s.made.push_back(ge(s.view, a)); },
    [](ProgramState& s, double) { s.made.push_back(eq(s.other, s.other)); },
    [](ProgramState& s, double) { s.made.push_back(maximum(s.whole, s.other)); },
    [](ProgramState& s, double) { s.made.push_back(minimum(s.view, s.view)); },
    [](ProgramState& s, double) { exp_(s.view); },
    [](ProgramState& s, double) { s.made.push_back(log(s.whole)); },
    [](ProgramState& s, double) { s.made.push_back(log1p(abs(s.whole))); },
    [](ProgramState& s, double) { erf_(s.view); },
    [](ProgramState& s, double) { s.made.push_back(sqrt(s.whole)); },
    [](ProgramState& s, double) { rsqrt_(s.view); },
    [](ProgramState& s, double) { s.made.push_back(reciprocal(s.view)); },
    [](ProgramState& s, double) { sigmoid_(s.whole); },
    [](ProgramState& s, double) { s.made.push_back(floor(s.whole)); },
    [](ProgramState& s, double) { ceil_(s.view); },
    [](ProgramState& s, double) { s.made.push_back(round(s.view)); },
    [](ProgramState& s, double) { s.made.push_back(sign(s.other)); },
    [](ProgramState& s, double) { neg_(s.view); },
    [](ProgramState& s, double a) { clamp_(s.view, a - 0.5, a + 0.5); },
    [](ProgramState& s, double a) { s.made.push_back(where(gt(s.whole, a), s.whole, s.other)); },
    [](ProgramState& s, double) { s.made.push_back(pow(abs(s.whole), s.other)); },
    [](ProgramState& s, double a) { pow_(s.view, a); },
    [](ProgramState& s, double a) { s.made.push_back(pow(a, s.view)); },
    [](ProgramState& s, double) { sin_(s.view); },
    [](ProgramState& s, double) { s.made.push_back(cos(s.whole)); },
    [](ProgramState& s, double) { s.made.push_back(tanh(s.view)); },
    [](ProgramState& s, double) { s.made.push_back(log2(abs(s.whole))); },
    [](ProgramState& s, double) { exp2_(s.view); },
    [](ProgramState& s, double) { s.made.push_back(expm1(s.whole)); },
    [](ProgramState& s, double) {
      s.made.push_back(arange(0, 7, 2, {.device = s.whole.device()}));
    },
    [](ProgramState& s, double a) {
      const DType dtype = s.other.dtype() == DType::kBool ? DType::kInt32 : s.other.dtype();
      s.made.push_back(linspace(a, a + 3, 9, {.dtype = dtype, .device = s.whole.device()}));
    },
    [](ProgramState& s, double) {
      s.made.push_back(eye(3, 5, {.dtype = s.whole.dtype(), .device = s.whole.device()}));
    },
    [](ProgramState& s, double a) {
      if (s.view.dim() >= 2) tril_(s.view, static_cast<int64_t>(a));
    },
    [](ProgramState& s, double a) {
      if (s.whole.dim() >= 2) s.made.push_back(triu(s.whole, static_cast<int64_t>(a)));
    },
    [](ProgramState& s, double) { s.made.push_back(sum(s.view, {0}, true)); },
    [](ProgramState& s, double) { s.made.push_back(sum(s.other)); },
    [](ProgramState& s, double) { s.made.push_back(mean(s.view, {-1})); },
    [](ProgramState& s, double) { s.made.push_back(var(s.whole, {0}, false, 0)); },
    [](ProgramState& s, double) { s.made.push_back(std(s.view)); },
    [](ProgramState& s, double) { s.made.push_back(min(s.view, {0})); },
    [](ProgramState& s, double) { s.made.push_back(max(s.other, {-1}, true)); },
    [](ProgramState& s, double) { s.made.push_back(cumsum(s.view, 0)); },
    [](ProgramState& s, double) { s.made.push_back(cumsum(s.other, -1)); },
    [](ProgramState& s, double a) { s.made.push_back(argsort(s.view, 0, a > 0)); },
    [](ProgramState& s, double a) { s.made.push_back(argsort(s.other, -1, a < 0)); },
    [](ProgramState& s, double) {
      const Tensor& v = s.view;
      s.made.push_back(v.dim() >= 2 ? matmul(v, transpose(v, -2, -1)) : matmul(v, v));
    },
    [](ProgramState& s, double) {
      if (s.whole.dim() < 2 || s.other.dtype() == DType::kBool) return;
      s.made.push_back(matmul(s.other, transpose(s.whole, -2, -1)));
    },
};

// A program drawn from `rng`: its tensors' shape and dtypes, and its steps.
EagerProgram DrawProgram(std::mt19937_64& rng) {
  const DType floating[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
  const DType dtype = floating[rng() % std::size(floating)];
  const DType other = kAllDTypes[rng() % std::size(kAllDTypes)];
  Shape sizes(rng() % 4 + 1);
  for (int64_t& size : sizes) size = static_cast<int64_t>(rng() % 7) + 1;
  const int64_t dim = static_cast<int64_t>(rng() % sizes.size());
  const int64_t start = static_cast<int64_t>(rng() % sizes[dim]);
  const int64_t length = static_cast<int64_t>(rng() % (sizes[dim] - start)) + 1;
  std::vector<size_t> steps(rng() % 8 + 1);
  for (size_t& step : steps) step = rng() % std::size(kSteps);
  const double a = std::uniform_real_distribution<double>(-2, 2)(rng);
  return [=](Device device) {
    ProgramState state;
    state.whole = normal_(empty(sizes, {.dtype = dtype, .device = device}), 0.0, 2.0);
    state.view = transpose(narrow(state.whole, dim, start, length), 0, -1);
    state.other = random_(empty(sizes, {.dtype = other, .device = device}), 0, 2);
    for (const size_t step : steps) kSteps[step](state, a);
    state.made.insert(state.made.begin(), {state.whole, state.other});
    return state.made;
  };
}

// Element values of every tensor `program` makes on `device`, and on the CPU, after the
// same seed.
void ExpectProgramEqualsCpu(const EagerProgram& program, Device device, uint64_t seed,
                            const std::string& what) {
  manual_seed(seed);
  const std::vector<Tensor> on_device = program(device);
  manual_seed(seed);
  const std::vector<Tensor> on_cpu = program(Device::CPU());
  ASSERT_EQ(on_device.size(), on_cpu.size());
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    ASSERT_EQ(on_device[i].device(), device) << what;
    EXPECT_TRUE(TensorsEqualUpToNanBits(on_cpu[i], on_device[i])) << what << ", tensor " << i;
  }
}

// Shards of `sizes` to draw: dim-0 and last-dim chunks of a drawn world, and a range.
std::vector<ShardSpec> DrawShards(const Shape& sizes, std::mt19937_64& rng) {
  std::vector<ShardSpec> shards;
  if (sizes.empty()) return shards;
  const int world = static_cast<int>(rng() % 4) + 2;
  shards.push_back(ShardSpec::Chunk(0, static_cast<int>(rng() % world), world));
  shards.push_back(ShardSpec::TensorSplit(static_cast<int>(sizes.size()) - 1,
                                          static_cast<int>(rng() % world), world));
  const int64_t start = sizes[0] == 0 ? 0 : static_cast<int64_t>(rng() % sizes[0]);
  shards.push_back(ShardSpec::Range(0, start, start + (sizes[0] - start + 1) / 2));
  return shards;
}

}  // namespace

void ExpectEagerOpsEqualCpu(Device device, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    ExpectProgramEqualsCpu(DrawProgram(rng), device, seed + trial,
                           absl::StrCat("eager program ", trial, " of seed ", seed));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void ExpectModuleEqualsCpu(const std::string& name, const ModuleFactory& factory, Device device,
                           uint64_t seed) {
  SCOPED_TRACE(absl::StrCat(name, " on ", device.ToString(), ", seed ", seed));
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<nn::Module>> cpu = deferred_init(factory);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  manual_seed(seed);
  absl::StatusOr<std::shared_ptr<nn::Module>> on_device = deferred_init(factory);
  ASSERT_TRUE(on_device.ok()) << on_device.status();

  // Shards first, from the still fake tensors.
  std::mt19937_64 rng(seed);
  const std::vector<nn::NamedTensor> cpu_parameters = (*cpu)->named_parameters();
  const std::vector<nn::NamedTensor> device_parameters = (*on_device)->named_parameters();
  ASSERT_EQ(cpu_parameters.size(), device_parameters.size());
  for (size_t i = 0; i < cpu_parameters.size(); ++i) {
    const auto& [tensor_name, tensor] = cpu_parameters[i];
    const Tensor& fake_on_device = device_parameters[i].second;
    for (const ShardSpec& spec : DrawShards(tensor.sizes(), rng)) {
      absl::StatusOr<Tensor> expected = materialize_shard(tensor, spec, Device::CPU());
      absl::StatusOr<Tensor> actual = materialize_shard(fake_on_device, spec, device);
      ASSERT_TRUE(expected.ok()) << tensor_name << ": " << expected.status();
      ASSERT_TRUE(actual.ok()) << tensor_name << ": " << actual.status();
      EXPECT_EQ(actual->device(), device) << tensor_name;
      EXPECT_TRUE(TensorsEqualUpToNanBits(*expected, *actual))
          << tensor_name << ", shard " << spec.ToString();
    }
  }

  ASSERT_TRUE(materialize_module(**cpu, {.device = Device::CPU()}).ok());
  const AllocationStats host_before = GetAllocationStats();
  const AllocationStats device_before = GetAllocationStats(device);
  const absl::Status status = materialize_module(**on_device, {.device = device});
  const AllocationStats host_after = GetAllocationStats();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(host_after.total_bytes, host_before.total_bytes)
      << "materializing on " << device.ToString() << " allocated host tensor data";
  EXPECT_GT(GetAllocationStats(device).total_bytes, device_before.total_bytes);
  for (const auto& [tensor_name, tensor] : (*on_device)->named_parameters()) {
    EXPECT_EQ(tensor.device(), device) << tensor_name;
  }
  EXPECT_TRUE(ModulesBitwiseEqual(**cpu, **on_device));
}

std::vector<std::pair<std::string, ModuleFactory>> DeviceEquivalenceModels() {
  std::vector<std::pair<std::string, ModuleFactory>> models = StandardLayerFactories();
  models.push_back({"GPT-2 tiny",
                    [] { return std::make_shared<examples::Gpt2>(examples::Gpt2Config::Tiny()); }});
  models.push_back({"Llama tiny", [] {
                      return std::make_shared<examples::Llama>(examples::LlamaConfig::Tiny());
                    }});
  models.push_back(
      {"ViT tiny", [] { return std::make_shared<examples::Vit>(examples::VitConfig::Tiny()); }});
  models.push_back({"Mamba tiny", [] {
                      return std::make_shared<examples::Mamba>(examples::MambaConfig::Tiny());
                    }});
  models.push_back({"Whisper tiny", [] {
                      return std::make_shared<examples::WhisperEncoder>(
                          examples::WhisperEncoderConfig::Tiny());
                    }});
  return models;
}

}  // namespace deferred
