#include "deferred/nn/conv.h"

#include <cmath>
#include <cstdint>
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

TEST(ConvTest, WeightShapeIsOutByInOverGroupsByKernel) {
  const Conv1d conv1d(3, 8, 5);
  EXPECT_EQ(conv1d.weight().sizes(), (Shape{8, 3, 5}));
  EXPECT_EQ(conv1d.bias().sizes(), (Shape{8}));
  EXPECT_EQ(conv1d.type_name(), "Conv1d");

  const Conv2d conv2d(4, 6, {3, 5}, {.stride = 2, .padding = {1, 2}, .groups = 2});
  EXPECT_EQ(conv2d.weight().sizes(), (Shape{6, 2, 3, 5}));
  EXPECT_EQ(conv2d.kernel_size(), (Shape{3, 5}));
  EXPECT_EQ(conv2d.stride(), (Shape{2, 2}));
  EXPECT_EQ(conv2d.padding(), (Shape{1, 2}));
  EXPECT_EQ(conv2d.dilation(), (Shape{1, 1}));
  EXPECT_EQ(conv2d.groups(), 2);
  EXPECT_THAT(Names(conv2d), ElementsAre("weight", "bias"));

  const Conv2d no_bias(2, 2, 1, {.bias = false});
  EXPECT_THAT(Names(no_bias), ElementsAre("weight"));
  EXPECT_FALSE(no_bias.bias().defined());
}

// Both tensors are bounded by 1/sqrt(fan_in), fan_in = in_channels / groups * prod(kernel).
TEST(ConvTest, WeightAndBiasLieWithinOneOverSqrtFanIn) {
  manual_seed(23);
  const Conv2d conv(16, 32, 3, {.groups = 2});  // fan_in = 8 * 9 = 72
  const double bound = 1.0 / std::sqrt(72.0);
  const ValueStats weight = StatsOf(conv.weight());
  EXPECT_GE(weight.min, -bound);
  EXPECT_LE(weight.max, bound);
  EXPECT_LT(weight.min, -0.98 * bound);
  EXPECT_GT(weight.max, 0.98 * bound);
  EXPECT_NEAR(weight.stddev, bound / std::sqrt(3.0), 0.01 * bound * 3);
  const ValueStats bias = StatsOf(conv.bias());
  EXPECT_GE(bias.min, -bound);
  EXPECT_LE(bias.max, bound);
  EXPECT_GT(bias.max - bias.min, bound);
}

TEST(ConvTest, MaterializedEqualsEagerForRandomConfigurations) {
  std::mt19937_64 rng(424242);
  for (int trial = 0; trial < 10; ++trial) {
    const uint64_t seed = rng();
    const int64_t groups = 1 + rng() % 3;
    const int64_t in = groups * (1 + rng() % 4);
    const int64_t out = groups * (1 + rng() % 4);
    const ConvSize kernel = {static_cast<int64_t>(1 + rng() % 4),
                             static_cast<int64_t>(1 + rng() % 4)};
    const ConvOptions options{.stride = static_cast<int64_t>(1 + rng() % 2),
                              .groups = groups,
                              .bias = rng() % 2 == 0};
    SCOPED_TRACE(testing::Message() << "seed " << seed << " in " << in << " out " << out
                                    << " groups " << groups << " bias " << options.bias);
    EXPECT_TRUE(MaterializedEqualsEager<Conv2d>(seed, in, out, kernel, options, TensorOptions{}));
    EXPECT_TRUE(MaterializedEqualsEager<Conv1d>(seed, in, out, ConvSize(3), options,
                                                TensorOptions{.dtype = DType::kFloat64}));
  }
}

TEST(ConvTest, RecordingAllocatesNoTensorData) {
  EXPECT_TRUE(DeferredInitAllocatesNothing<Conv2d>(512, 512, ConvSize(7), ConvOptions{},
                                                   TensorOptions{}));
}

TEST(ConvTest, GroupsMustDivideBothChannelCounts) {
  EXPECT_THAT(ConstructionError<Conv2d>(6, 8, ConvSize(3), ConvOptions{.groups = 4}),
              HasSubstr("Conv2d: in_channels must be divisible by groups, got in_channels=6 "
                        "and groups=4"));
  EXPECT_THAT(ConstructionError<Conv1d>(8, 6, ConvSize(3), ConvOptions{.groups = 4}),
              HasSubstr("Conv1d: out_channels must be divisible by groups, got out_channels=6 "
                        "and groups=4"));
  EXPECT_THAT(ConstructionError<Conv2d>(8, 8, ConvSize(3), ConvOptions{.groups = 0}),
              HasSubstr("Conv2d: groups must be a positive integer, got 0"));
}

TEST(ConvTest, BadSizesAreErrorsNamingTheArgument) {
  EXPECT_THAT(ConstructionError<Conv2d>(0, 4, ConvSize(3)),
              HasSubstr("Conv2d: in_channels and out_channels must be positive, got "
                        "in_channels=0 and out_channels=4"));
  EXPECT_THAT(ConstructionError<Conv2d>(2, 4, ConvSize{3, 3, 3}),
              HasSubstr("Conv2d: kernel_size needs 1 or 2 values, got [3, 3, 3]"));
  EXPECT_THAT(ConstructionError<Conv2d>(2, 4, ConvSize{3, 0}),
              HasSubstr("Conv2d: kernel_size must be positive, got [3, 0]"));
  EXPECT_THAT(ConstructionError<Conv1d>(2, 4, ConvSize(3), ConvOptions{.stride = 0}),
              HasSubstr("Conv1d: stride must be positive, got [0]"));
  EXPECT_THAT(ConstructionError<Conv2d>(2, 4, ConvSize(3), ConvOptions{.padding = {1, -1}}),
              HasSubstr("Conv2d: padding must be non-negative, got [1, -1]"));
  EXPECT_THAT(ConstructionError<Conv2d>(2, 4, ConvSize(3), ConvOptions{.dilation = {1, 2, 3}}),
              HasSubstr("Conv2d: dilation needs 1 or 2 values, got [1, 2, 3]"));
}

}  // namespace
}  // namespace deferred::nn
