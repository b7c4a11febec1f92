#include "deferred/nn/normalization.h"

#include <optional>
#include <string>
#include <vector>

#include "deferred/deferred.h"
#include "deferred/nn/layer_testing.h"
#include "fake_tensor/ops/elementwise.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

TEST(LayerNormTest, WeightIsOnesAndBiasZerosOfTheNormalizedShape) {
  const LayerNorm norm({2, 3});
  EXPECT_THAT(Names(norm), ElementsAre("weight", "bias"));
  EXPECT_EQ(norm.weight().sizes(), (Shape{2, 3}));
  EXPECT_EQ(norm.bias().sizes(), (Shape{2, 3}));
  EXPECT_THAT(norm.weight().to_vector<float>(), Each(1.0f));
  EXPECT_THAT(norm.bias().to_vector<float>(), Each(0.0f));
  EXPECT_EQ(norm.eps(), 1e-5);
  EXPECT_TRUE(norm.elementwise_affine());
}

TEST(LayerNormTest, AffineAndBiasFlagsLeaveTensorsUndefined) {
  const LayerNorm no_bias({4}, {.eps = 1e-6, .bias = false});
  EXPECT_THAT(Names(no_bias), ElementsAre("weight"));
  EXPECT_FALSE(no_bias.bias().defined());
  const LayerNorm plain({4}, {.elementwise_affine = false});
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_FALSE(plain.weight().defined());
}

TEST(LayerNormTest, TensorOptionsChooseTheDtype) {
  const LayerNorm norm({3}, {}, {.dtype = DType::kFloat64});
  EXPECT_EQ(norm.weight().dtype(), DType::kFloat64);
  EXPECT_THAT(norm.weight().to_vector<double>(), Each(1.0));
}

TEST(LayerNormTest, MaterializedEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEager<LayerNorm>(1, Shape{2, 3}, LayerNormOptions{},
                                                 TensorOptions{}));
  EXPECT_TRUE(MaterializedEqualsEager<LayerNorm>(2, Shape{5}, LayerNormOptions{.bias = false},
                                                 TensorOptions{.dtype = DType::kBFloat16}));
  EXPECT_TRUE(MaterializedEqualsEager<LayerNorm>(3, Shape{5},
                                                 LayerNormOptions{.elementwise_affine = false},
                                                 TensorOptions{}));
  EXPECT_TRUE(DeferredInitAllocatesNothing<LayerNorm>(Shape{1 << 20}, LayerNormOptions{},
                                                      TensorOptions{}));
}

TEST(LayerNormTest, ResetParametersAfterDeferredInitIsRecorded) {
  absl::StatusOr<std::shared_ptr<LayerNorm>> norm = deferred_init<LayerNorm>(Shape{3});
  ASSERT_TRUE(norm.ok()) << norm.status();
  fill_((*norm)->weight(), 5);
  fill_((*norm)->bias(), 5);
  (*norm)->reset_parameters();
  ASSERT_TRUE(materialize_module(**norm).ok());
  EXPECT_THAT((*norm)->weight().to_vector<float>(), Each(1.0f));
  EXPECT_THAT((*norm)->bias().to_vector<float>(), Each(0.0f));
}

TEST(LayerNormTest, NegativeSizeIsAnError) {
  EXPECT_THAT(ConstructionError<LayerNorm>(Shape{4, -1}),
              HasSubstr("LayerNorm: normalized_shape [4, -1] has a negative size"));
}

TEST(RMSNormTest, WeightIsOnes) {
  const RMSNorm norm({4});
  EXPECT_THAT(Names(norm), ElementsAre("weight"));
  EXPECT_EQ(norm.weight().sizes(), (Shape{4}));
  EXPECT_THAT(norm.weight().to_vector<float>(), Each(1.0f));
  EXPECT_EQ(norm.eps(), std::nullopt);
  EXPECT_EQ(RMSNorm({4}, {.eps = 1e-6}).eps(), 1e-6);
  EXPECT_TRUE(RMSNorm({4}, {.elementwise_affine = false}).named_parameters().empty());
}

TEST(RMSNormTest, MaterializedEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEager<RMSNorm>(4, Shape{2, 8}, RMSNormOptions{.eps = 1e-6},
                                               TensorOptions{}));
  EXPECT_TRUE(DeferredInitAllocatesNothing<RMSNorm>(Shape{1 << 20}, RMSNormOptions{},
                                                    TensorOptions{}));
}

TEST(RMSNormTest, NegativeSizeIsAnError) {
  EXPECT_THAT(ConstructionError<RMSNorm>(Shape{-3}),
              HasSubstr("RMSNorm: normalized_shape [-3] has a negative size"));
}

TEST(GroupNormTest, PerChannelOnesAndZeros) {
  const GroupNorm norm(2, 6);
  EXPECT_THAT(Names(norm), ElementsAre("weight", "bias"));
  EXPECT_EQ(norm.weight().sizes(), (Shape{6}));
  EXPECT_THAT(norm.weight().to_vector<float>(), Each(1.0f));
  EXPECT_THAT(norm.bias().to_vector<float>(), Each(0.0f));
  EXPECT_EQ(norm.num_groups(), 2);
  EXPECT_EQ(norm.num_channels(), 6);
  EXPECT_TRUE(GroupNorm(3, 6, {.affine = false}).named_parameters().empty());
}

TEST(GroupNormTest, MaterializedEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEager<GroupNorm>(5, 4, 8, GroupNormOptions{}, TensorOptions{}));
  EXPECT_TRUE(
      DeferredInitAllocatesNothing<GroupNorm>(4, 1 << 20, GroupNormOptions{}, TensorOptions{}));
}

TEST(GroupNormTest, GroupsMustBePositiveAndDivideChannels) {
  EXPECT_THAT(ConstructionError<GroupNorm>(4, 6),
              HasSubstr("GroupNorm: num_channels must be divisible by num_groups, got "
                        "num_channels=6 and num_groups=4"));
  EXPECT_THAT(ConstructionError<GroupNorm>(0, 6), HasSubstr("got num_groups=0 and num_channels=6"));
  EXPECT_THAT(ConstructionError<GroupNorm>(2, -2),
              HasSubstr("GroupNorm: num_groups must be positive and num_channels non-negative"));
}

}  // namespace
}  // namespace deferred::nn
