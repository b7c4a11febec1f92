#include "deferred/nn/linear.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "deferred/nn/layer_testing.h"
#include "fake_tensor/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : m.named_parameters()) names.push_back(name);
  return names;
}

TEST(LinearTest, ShapesAndNames) {
  const Linear linear(5, 3);
  EXPECT_THAT(Names(linear), ElementsAre("weight", "bias"));
  EXPECT_EQ(linear.weight().sizes(), (Shape{3, 5}));
  EXPECT_EQ(linear.bias().sizes(), (Shape{3}));
  EXPECT_EQ(linear.in_features(), 5);
  EXPECT_EQ(linear.out_features(), 3);
  EXPECT_EQ(linear.weight().dtype(), DType::kFloat32);

  const Linear no_bias(5, 3, {.bias = false});
  EXPECT_THAT(Names(no_bias), ElementsAre("weight"));
  EXPECT_FALSE(no_bias.bias().defined());
}

// kaiming_uniform_(a = sqrt(5)) has bound sqrt(3) * sqrt(2 / (1 + 5)) / sqrt(fan_in),
// which is exactly 1/sqrt(in_features): the same bound as the bias.
TEST(LinearTest, WeightAndBiasLieWithinOneOverSqrtInFeatures) {
  manual_seed(11);
  const Linear linear(64, 48);
  const double bound = 1.0 / 8.0;
  const ValueStats weight = StatsOf(linear.weight());
  EXPECT_GE(weight.min, -bound);
  EXPECT_LE(weight.max, bound);
  // 3072 draws fill the interval: uniform, so near both ends, mean ~0, std bound/sqrt(3).
  EXPECT_LT(weight.min, -0.98 * bound);
  EXPECT_GT(weight.max, 0.98 * bound);
  EXPECT_NEAR(weight.mean, 0.0, 0.01);
  EXPECT_NEAR(weight.stddev, bound / std::sqrt(3.0), 0.005);
  const ValueStats bias = StatsOf(linear.bias());
  EXPECT_GE(bias.min, -bound);
  EXPECT_LE(bias.max, bound);
  EXPECT_GT(bias.max - bias.min, bound);  // 48 draws spread over the interval
}

TEST(LinearTest, MaterializedEqualsEagerForRandomConfigurations) {
  std::mt19937_64 rng(20240601);
  for (int trial = 0; trial < 12; ++trial) {
    const uint64_t seed = rng();
    const int64_t in = 1 + rng() % 40;
    const int64_t out = 1 + rng() % 40;
    const bool bias = rng() % 2 == 0;
    const DType dtype = trial % 3 == 0 ? DType::kFloat64
                        : trial % 3 == 1 ? DType::kBFloat16
                                         : DType::kFloat32;
    SCOPED_TRACE(testing::Message() << "seed " << seed << " in " << in << " out " << out
                                    << " bias " << bias << " dtype " << DTypeName(dtype));
    EXPECT_TRUE(MaterializedEqualsEager<Linear>(seed, in, out, LinearOptions{.bias = bias},
                                                TensorOptions{.dtype = dtype}));
  }
}

TEST(LinearTest, ResetParametersAfterDeferredInitMatchesEager) {
  EXPECT_TRUE(MaterializedEqualsEagerWith<Linear>(
      3, [] { return std::make_shared<Linear>(7, 4); },
      [](Linear& linear) { linear.reset_parameters(); }));
}

TEST(LinearTest, ReinitializationAdvancesTheGeneratorAndChangesValues) {
  manual_seed(5);
  Linear linear(6, 6);
  const std::vector<float> first = linear.weight().to_vector<float>();
  linear.reset_parameters();
  EXPECT_NE(linear.weight().to_vector<float>(), first);
  manual_seed(5);
  EXPECT_EQ(Linear(6, 6).weight().to_vector<float>(), first);
}

TEST(LinearTest, ZeroInFeaturesGivesAZeroBias) {
  const Linear linear(0, 3);
  EXPECT_EQ(linear.weight().numel(), 0);
  EXPECT_EQ(linear.bias().to_vector<float>(), std::vector<float>(3, 0.0f));
  EXPECT_TRUE(MaterializedEqualsEager<Linear>(3, 0, 3, LinearOptions{}, TensorOptions{}));
}

TEST(LinearTest, RecordingAllocatesNoTensorData) {
  EXPECT_TRUE(
      DeferredInitAllocatesNothing<Linear>(1 << 12, 1 << 12, LinearOptions{}, TensorOptions{}));
}

TEST(LinearTest, NegativeSizesAreErrors) {
  EXPECT_THAT(ConstructionError<Linear>(-1, 3),
              HasSubstr("Linear: in_features and out_features must be non-negative, got "
                        "in_features=-1 and out_features=3"));
}

TEST(BilinearTest, ShapesAndBounds) {
  manual_seed(2);
  const Bilinear bilinear(16, 5, 24);
  EXPECT_EQ(bilinear.weight().sizes(), (Shape{24, 16, 5}));
  EXPECT_EQ(bilinear.bias().sizes(), (Shape{24}));
  const double bound = 1.0 / 4.0;  // 1/sqrt(in1_features)
  for (const Tensor& t : {bilinear.weight(), bilinear.bias()}) {
    const ValueStats stats = StatsOf(t);
    EXPECT_GE(stats.min, -bound);
    EXPECT_LE(stats.max, bound);
  }
  const ValueStats weight = StatsOf(bilinear.weight());
  EXPECT_LT(weight.min, -0.95 * bound);
  EXPECT_GT(weight.max, 0.95 * bound);
  EXPECT_THAT(Names(Bilinear(2, 3, 4, {.bias = false})), ElementsAre("weight"));
}

TEST(BilinearTest, MaterializedEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEager<Bilinear>(9, 3, 4, 5, LinearOptions{}, TensorOptions{}));
  EXPECT_TRUE(MaterializedEqualsEager<Bilinear>(10, 3, 4, 5, LinearOptions{.bias = false},
                                                TensorOptions{.dtype = DType::kFloat64}));
  EXPECT_TRUE(
      DeferredInitAllocatesNothing<Bilinear>(256, 256, 256, LinearOptions{}, TensorOptions{}));
}

TEST(BilinearTest, BadSizesAreErrors) {
  EXPECT_THAT(ConstructionError<Bilinear>(0, 2, 3),
              HasSubstr("Bilinear: in1_features must be positive and in2_features and "
                        "out_features non-negative, got in1_features=0, in2_features=2 and "
                        "out_features=3"));
  EXPECT_THAT(ConstructionError<Bilinear>(2, 2, -3), HasSubstr("out_features=-3"));
}

}  // namespace
}  // namespace deferred::nn
