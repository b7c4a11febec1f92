#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "examples/models/mamba.h"
#include "examples/models/vit.h"
#include "examples/models/whisper.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/shape_ops.h"
#include "gtest/gtest.h"
#include "replay/trace.h"
#include "tests/equivalence.h"

namespace deferred::examples {
namespace {

int64_t ParameterCount(const nn::Module& m) {
  int64_t n = 0;
  for (const auto& [name, t] : m.named_parameters()) n += t.numel();
  return n;
}

// Eager construction and deferred_init + materialize_module with the same seed agree
// bitwise, and leave the generator in the same state.
template <typename M, typename Config>
void ExpectEagerEquivalence(const Config& config) {
  for (uint64_t seed : {0ull, 1ull, 1234ull}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    manual_seed(seed);
    const auto eager = std::make_shared<M>(config);
    const RngState eager_state = get_rng_state();
    manual_seed(seed);
    absl::StatusOr<std::shared_ptr<M>> deferred = deferred_init<M>(config);
    ASSERT_TRUE(deferred.ok()) << deferred.status();
    EXPECT_EQ(get_rng_state(), eager_state);
    ASSERT_TRUE(materialize_module(**deferred).ok());
    EXPECT_TRUE(ModulesBitwiseEqual(*eager, **deferred));
  }
}

TEST(Gpt2Test, MaterializedEqualsEager) { ExpectEagerEquivalence<Gpt2>(Gpt2Config::Tiny()); }

TEST(LlamaTest, MaterializedEqualsEager) { ExpectEagerEquivalence<Llama>(LlamaConfig::Tiny()); }

TEST(MambaTest, MaterializedEqualsEager) { ExpectEagerEquivalence<Mamba>(MambaConfig::Tiny()); }

TEST(VitTest, MaterializedEqualsEager) { ExpectEagerEquivalence<Vit>(VitConfig::Tiny()); }

TEST(WhisperEncoderTest, MaterializedEqualsEager) {
  ExpectEagerEquivalence<WhisperEncoder>(WhisperEncoderConfig::Tiny());
}

// What a tensor of a materialized deferred model holds, as float32 values.
template <typename M, typename Config>
std::shared_ptr<M> Materialized(const Config& config) {
  absl::StatusOr<std::shared_ptr<M>> model = deferred_init<M>(config);
  EXPECT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(materialize_module(**model).ok());
  return *model;
}

TEST(MambaTest, ConstructorTensorsHoldTheirFormulas) {
  const MambaConfig config = MambaConfig::Tiny();
  const auto model = Materialized<Mamba>(config);
  const nn::Module& mixer =
      *model->child("backbone")->child("layers")->child("0")->child("mixer");
  // A_log[d, n] = log(n + 1); D = 1.
  const Tensor a_log = mixer.parameter("A_log");
  ASSERT_EQ(a_log.sizes(), (Shape{config.d_inner(), config.d_state}));
  for (int64_t d = 0; d < config.d_inner(); ++d) {
    for (int64_t n = 0; n < config.d_state; ++n) {
      EXPECT_FLOAT_EQ(a_log.at<float>({d, n}), std::log(static_cast<float>(n + 1)));
    }
  }
  for (float v : mixer.parameter("D").to_vector<float>()) EXPECT_EQ(v, 1.0f);
  // dt_proj's bias survives _init_weights: softplus(bias) lies in [dt_min, dt_max].
  for (float b : mixer.child("dt_proj")->parameter("bias").to_vector<float>()) {
    const double dt = std::log1p(std::exp(static_cast<double>(b)));
    EXPECT_GE(dt, config.dt_min * 0.999);
    EXPECT_LE(dt, config.dt_max * 1.001);
  }
  // _init_weights zeroes Linear biases only: the conv keeps its uniform bias. The head is
  // the embedding.
  for (float v : mixer.child("conv1d")->parameter("bias").to_vector<float>()) EXPECT_NE(v, 0.0f);
  EXPECT_EQ(model->child("lm_head")->parameter("weight").storage(),
            model->child("backbone")->child("embedding")->parameter("weight").storage());
}

TEST(VitTest, ClassTokenIsTinyAndLinearBiasesAreZero) {
  const auto model = Materialized<Vit>(VitConfig::Tiny());
  for (float v : model->parameter("cls_token").to_vector<float>()) {
    EXPECT_NE(v, 0.0f);
    EXPECT_LT(std::fabs(v), 1e-5f);
  }
  for (float v : model->parameter("pos_embed").to_vector<float>()) {
    EXPECT_LE(std::fabs(v), 2.0f);  // trunc_normal_'s bounds [-2, 2]
  }
  for (const auto& [name, t] : model->named_parameters()) {
    if (name.find("qkv.bias") == std::string::npos && name != "head.bias") continue;
    for (float v : t.to_vector<float>()) EXPECT_EQ(v, 0.0f) << name;
  }
}

TEST(WhisperEncoderTest, PositionalEmbeddingIsTheSinusoidTable) {
  const WhisperEncoderConfig config = WhisperEncoderConfig::Tiny();
  const auto model = Materialized<WhisperEncoder>(config);
  const Tensor table = model->buffer("positional_embedding");
  const int64_t half = config.n_audio_state / 2;
  ASSERT_EQ(table.sizes(), (Shape{config.n_audio_ctx, config.n_audio_state}));
  for (int64_t t = 0; t < config.n_audio_ctx; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const double w = std::exp(-static_cast<double>(i) * std::log(10000.0) / (half - 1));
      EXPECT_NEAR(table.at<float>({t, i}), std::sin(t * w), 2e-5);
      EXPECT_NEAR(table.at<float>({t, half + i}), std::cos(t * w), 2e-5);
    }
  }
  EXPECT_FALSE(
      model->child("blocks")->child("0")->child("attn")->child("key")->parameter("bias").defined());
}

// BLOOM's and Falcon's ALiBi slopes, written as their build_alibi_tensor writes them: powers
// of a base for the nearest power of two of the head count, then every other power of the
// next base for the heads left over.
class AlibiSlopes : public nn::Module {
 public:
  explicit AlibiSlopes(int64_t n_heads) : Module("AlibiSlopes") {
    const int64_t closest = int64_t{1} << static_cast<int>(std::floor(std::log2(n_heads)));
    const double base = std::pow(2.0, -std::pow(2.0, -(std::log2(closest) - 3)));
    Tensor slopes = pow(base, arange(1, 1 + closest, 1, {.dtype = DType::kInt32}));
    if (closest != n_heads) {
      const double extra_base = std::pow(2.0, -std::pow(2.0, -(std::log2(2 * closest) - 3)));
      const int64_t remaining = std::min(closest, n_heads - closest);
      const Tensor extra_powers = arange(1, 1 + 2 * remaining, 2, {.dtype = DType::kInt32});
      slopes = cat({slopes, pow(extra_base, extra_powers)}, 0);
    }
    register_buffer("slopes", slopes);
  }
};

TEST(AlibiTest, SlopesMaterializeAsEagerAndFollowTheirFormula) {
  for (int64_t n_heads : {8, 12, 16}) {
    SCOPED_TRACE(n_heads);
    ExpectEagerEquivalence<AlibiSlopes>(n_heads);
    const auto model = Materialized<AlibiSlopes>(n_heads);
    const std::vector<float> slopes = model->buffer("slopes").to_vector<float>();
    ASSERT_EQ(static_cast<int64_t>(slopes.size()), n_heads);
    // 8 heads: 2^-1, 2^-2, ..., 2^-8; 12 heads: those, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
    const int64_t closest = n_heads == 12 ? 8 : n_heads;
    for (int64_t h = 0; h < n_heads; ++h) {
      const double exponent =
          h < closest ? -8.0 * (h + 1) / closest : -8.0 * (2 * (h - closest) + 1) / (2 * closest);
      // The base is rounded to float32 before its powers are taken, as in PyTorch.
      const double expected = std::pow(2.0, exponent);
      EXPECT_NEAR(slopes[h], expected, expected * 1e-6) << h;
    }
  }
}

TEST(Gpt2Test, TokenEmbeddingAndHeadAreOneTensorMaterializedOnce) {
  absl::StatusOr<std::shared_ptr<Gpt2>> model = deferred_init<Gpt2>(Gpt2Config::Tiny());
  ASSERT_TRUE(model.ok());
  const Tensor head = (*model)->child("lm_head")->parameter("weight");
  EXPECT_EQ((*model)->names_of(head),
            (std::vector<std::string>{"transformer.wte.weight", "lm_head.weight"}));
  ASSERT_TRUE(materialize_module(**model).ok());
  EXPECT_EQ((*model)->child("transformer")->child("wte")->parameter("weight").storage()->data(),
            head.storage()->data());
}

TEST(Gpt2Test, ResidualProjectionsUseTheScaledStd) {
  Gpt2Config config = Gpt2Config::Tiny();
  config.n_embd = 64;
  config.n_layer = 8;
  manual_seed(0);
  const Gpt2 model(config);
  const double expected = 0.02 / std::sqrt(2.0 * config.n_layer);
  for (const auto& [name, t] : model.named_parameters()) {
    if (name.find("weight") == std::string::npos || name.find("ln_") != std::string::npos) continue;
    double sum = 0, sum_sq = 0;
    const std::vector<float> values = t.to_vector<float>();
    for (float v : values) {
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    const double std = std::sqrt(sum_sq / values.size() - std::pow(sum / values.size(), 2));
    const bool residual = name.find("c_proj.weight") != std::string::npos;
    EXPECT_NEAR(std, residual ? expected : 0.02, (residual ? expected : 0.02) * 0.1) << name;
  }
}

TEST(LlamaTest, ConstructorBuffersHoldTheirFormulas) {
  const LlamaConfig config = LlamaConfig::Tiny();
  absl::StatusOr<std::shared_ptr<Llama>> model = deferred_init<Llama>(config);
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE(materialize_module(**model, {.buffers_only = true}).ok());
  const std::vector<float> inv_freq =
      (*model)->child("rotary")->buffer("inv_freq").to_vector<float>();
  ASSERT_EQ(static_cast<int64_t>(inv_freq.size()), config.head_dim() / 2);
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    EXPECT_NEAR(inv_freq[i], 1.0 / std::pow(config.rope_theta, 2.0 * i / config.head_dim()), 1e-6);
  }
  const Tensor mask = (*model)->buffer("causal_mask");
  for (int64_t r = 0; r < config.max_seq_len; ++r) {
    for (int64_t c = 0; c < config.max_seq_len; ++c) EXPECT_EQ(mask.at<bool>({r, c}), c <= r);
  }
  EXPECT_TRUE(is_fake((*model)->child("lm_head")->parameter("weight")));
}

TEST(LlamaTest, Recording70BAllocatesNoTensorDataAndKeepsTheTraceSmall) {
  const AllocationStats before = GetAllocationStats();
  absl::StatusOr<std::shared_ptr<Llama>> model = deferred_init<Llama>(LlamaConfig::Llama70B());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(GetAllocationStats().total_bytes, before.total_bytes);
  EXPECT_EQ(GetAllocationStats().allocation_count, before.allocation_count);
  // 68.98e9 parameters: the published count of Llama 2 70B.
  EXPECT_EQ(ParameterCount(**model), 68976648192);
  const std::shared_ptr<Trace> trace =
      TraceOf((*model)->child("lm_head")->parameter("weight"));
  ASSERT_NE(trace, nullptr);
  EXPECT_LT(trace->ApproximateBytes(), 16 << 20);
}

}  // namespace
}  // namespace deferred::examples
