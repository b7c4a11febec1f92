#include "deferred/nn/attention.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deferred/nn/layer_testing.h"
#include "deferred/nn/linear.h"
#include "fake_tensor/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred::nn {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : m.named_parameters()) names.push_back(name);
  return names;
}

// xavier_uniform_'s bound for a [rows, cols] weight.
double XavierBound(int64_t rows, int64_t cols) { return std::sqrt(6.0 / (rows + cols)); }

void ExpectWithin(const Tensor& t, double bound) {
  const ValueStats stats = StatsOf(t);
  EXPECT_GE(stats.min, -bound);
  EXPECT_LE(stats.max, bound);
  EXPECT_LT(stats.min, -0.9 * bound);
  EXPECT_GT(stats.max, 0.9 * bound);
}

TEST(MultiheadAttentionTest, PackedProjectionShapesAndInit) {
  manual_seed(31);
  const MultiheadAttention attention(32, 4);
  EXPECT_THAT(Names(attention),
              ElementsAre("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"));
  EXPECT_EQ(attention.head_dim(), 8);
  EXPECT_TRUE(attention.qkv_same_embed_dim());
  const Tensor& in_proj = attention.parameter("in_proj_weight");
  EXPECT_EQ(in_proj.sizes(), (Shape{96, 32}));
  ExpectWithin(in_proj, XavierBound(96, 32));
  EXPECT_EQ(attention.parameter("in_proj_bias").sizes(), (Shape{96}));
  EXPECT_THAT(attention.parameter("in_proj_bias").to_vector<float>(), Each(0.0f));
  // out_proj keeps Linear's weight init; its bias is zeroed like in_proj_bias.
  ExpectWithin(attention.out_proj()->weight(), 1.0 / std::sqrt(32.0));
  EXPECT_THAT(attention.out_proj()->bias().to_vector<float>(), Each(0.0f));
  EXPECT_FALSE(attention.parameter("q_proj_weight").defined());
  EXPECT_FALSE(attention.parameter("bias_k").defined());
}

TEST(MultiheadAttentionTest, SeparateProjectionsWhenKdimOrVdimDiffer) {
  manual_seed(32);
  const MultiheadAttention attention(16, 2, {.kdim = 24, .vdim = 40});
  EXPECT_FALSE(attention.qkv_same_embed_dim());
  EXPECT_THAT(Names(attention), ElementsAre("q_proj_weight", "k_proj_weight", "v_proj_weight",
                                            "in_proj_bias", "out_proj.weight", "out_proj.bias"));
  EXPECT_FALSE(attention.parameter("in_proj_weight").defined());
  EXPECT_EQ(attention.parameter("q_proj_weight").sizes(), (Shape{16, 16}));
  EXPECT_EQ(attention.parameter("k_proj_weight").sizes(), (Shape{16, 24}));
  EXPECT_EQ(attention.parameter("v_proj_weight").sizes(), (Shape{16, 40}));
  ExpectWithin(attention.parameter("q_proj_weight"), XavierBound(16, 16));
  ExpectWithin(attention.parameter("k_proj_weight"), XavierBound(16, 24));
  ExpectWithin(attention.parameter("v_proj_weight"), XavierBound(16, 40));
}

// bias_k and bias_v are [1, 1, E]: fan_in = fan_out = E, so xavier_normal_'s std is
// sqrt(2 / (2E)) = 1/sqrt(E).
TEST(MultiheadAttentionTest, BiasKvIsXavierNormal) {
  manual_seed(33);
  const MultiheadAttention attention(512, 8, {.bias = false, .add_bias_kv = true});
  EXPECT_THAT(Names(attention), ElementsAre("in_proj_weight", "bias_k", "bias_v",
                                            "out_proj.weight"));
  EXPECT_FALSE(attention.out_proj()->bias().defined());
  for (const char* name : {"bias_k", "bias_v"}) {
    SCOPED_TRACE(name);
    const Tensor& t = attention.parameter(name);
    EXPECT_EQ(t.sizes(), (Shape{1, 1, 512}));
    const ValueStats stats = StatsOf(t);
    EXPECT_NEAR(stats.mean, 0.0, 4.0 / 512);
    EXPECT_NEAR(stats.stddev, 1.0 / std::sqrt(512.0), 0.1 / std::sqrt(512.0));
  }
}

// PyTorch constructs out_proj before any other draw: its weight is what a Linear built from
// the same seed gets.
TEST(MultiheadAttentionTest, OutProjIsDrawnFirst) {
  manual_seed(34);
  const MultiheadAttention attention(12, 3);
  manual_seed(34);
  const Linear linear(12, 12);
  EXPECT_TRUE(TensorsBitwiseEqual(linear.weight(), attention.out_proj()->weight()));
}

TEST(MultiheadAttentionTest, MaterializedEqualsEager) {
  const TensorOptions f32, f64{.dtype = DType::kFloat64};
  EXPECT_TRUE(MaterializedEqualsEager<MultiheadAttention>(
      1, 8, 2, MultiheadAttentionOptions{}, f32));
  EXPECT_TRUE(MaterializedEqualsEager<MultiheadAttention>(
      2, 8, 4, MultiheadAttentionOptions{.kdim = 6, .vdim = 5}, f32));
  EXPECT_TRUE(MaterializedEqualsEager<MultiheadAttention>(
      3, 6, 3, MultiheadAttentionOptions{.add_bias_kv = true}, f64));
  EXPECT_TRUE(MaterializedEqualsEager<MultiheadAttention>(
      4, 6, 1, MultiheadAttentionOptions{.bias = false, .add_bias_kv = true, .vdim = 3}, f32));
}

TEST(MultiheadAttentionTest, ApplyResetParametersMatchesEager) {
  EXPECT_TRUE(MaterializedEqualsEagerWith<MultiheadAttention>(
      5,
      [] {
        return std::make_shared<MultiheadAttention>(8, 2,
                                                    MultiheadAttentionOptions{.add_bias_kv = true});
      },
      [](MultiheadAttention& attention) {
        attention.apply([](Module& m) { m.reset_parameters(); });
      }));
}

// Re-initializing with apply (children first) draws exactly what construction drew.
TEST(MultiheadAttentionTest, ApplyResetParametersReproducesConstruction) {
  manual_seed(6);
  MultiheadAttention attention(8, 2, {.add_bias_kv = true});
  const RngState after_construction = get_rng_state();
  manual_seed(6);
  MultiheadAttention fresh(8, 2, {.add_bias_kv = true});
  manual_seed(6);
  fresh.apply([](Module& m) { m.reset_parameters(); });
  EXPECT_EQ(get_rng_state(), after_construction);
  EXPECT_TRUE(ModulesBitwiseEqual(attention, fresh));
}

TEST(MultiheadAttentionTest, RecordingAllocatesNoTensorData) {
  EXPECT_TRUE(DeferredInitAllocatesNothing<MultiheadAttention>(
      1024, 16, MultiheadAttentionOptions{.add_bias_kv = true}, TensorOptions{}));
}

TEST(MultiheadAttentionTest, MisuseIsAnErrorNamingTheValues) {
  EXPECT_THAT(ConstructionError<MultiheadAttention>(10, 4),
              HasSubstr("MultiheadAttention: embed_dim must be divisible by num_heads, got "
                        "embed_dim=10 and num_heads=4"));
  EXPECT_THAT(ConstructionError<MultiheadAttention>(8, 0),
              HasSubstr("MultiheadAttention: embed_dim and num_heads must be greater than 0, "
                        "got embed_dim=8 and num_heads=0"));
  EXPECT_THAT(ConstructionError<MultiheadAttention>(8, 2, MultiheadAttentionOptions{.kdim = 0}),
              HasSubstr("MultiheadAttention: kdim and vdim must be greater than 0, got kdim=0 "
                        "and vdim=8"));
  EXPECT_THAT(
      ConstructionError<MultiheadAttention>(8, 2, MultiheadAttentionOptions{.dropout = 1.5}),
      HasSubstr("MultiheadAttention: dropout probability has to be between 0 and 1, but got 1.5"));
}

}  // namespace
}  // namespace deferred::nn
