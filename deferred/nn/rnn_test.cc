#include "deferred/nn/rnn.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "deferred/nn/layer_testing.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::vector<std::string> Names(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : m.named_parameters()) names.push_back(name);
  return names;
}

TEST(LSTMTest, NamesAndShapesPerLayerAndDirection) {
  const LSTM lstm(3, 5, {.num_layers = 2, .bidirectional = true});
  EXPECT_THAT(Names(lstm),
              ElementsAre("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                          "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                          "bias_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1",
                          "bias_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
                          "bias_ih_l1_reverse", "bias_hh_l1_reverse"));
  EXPECT_THAT(lstm.flat_weight_names(), ElementsAreArray(Names(lstm)));
  EXPECT_EQ(lstm.parameter("weight_ih_l0").sizes(), (Shape{20, 3}));
  EXPECT_EQ(lstm.parameter("weight_hh_l0").sizes(), (Shape{20, 5}));
  EXPECT_EQ(lstm.parameter("bias_ih_l0_reverse").sizes(), (Shape{20}));
  EXPECT_EQ(lstm.parameter("weight_ih_l1").sizes(), (Shape{20, 10}));
  EXPECT_EQ(lstm.type_name(), "LSTM");
}

TEST(LSTMTest, ProjectionChangesRecurrentAndNextLayerInputSizes) {
  const LSTM lstm(3, 6, {.num_layers = 2, .bias = false, .bidirectional = true, .proj_size = 2});
  EXPECT_THAT(Names(lstm), ElementsAre("weight_ih_l0", "weight_hh_l0", "weight_hr_l0",
                                       "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                                       "weight_hr_l0_reverse", "weight_ih_l1", "weight_hh_l1",
                                       "weight_hr_l1", "weight_ih_l1_reverse",
                                       "weight_hh_l1_reverse", "weight_hr_l1_reverse"));
  EXPECT_EQ(lstm.parameter("weight_hh_l0").sizes(), (Shape{24, 2}));
  EXPECT_EQ(lstm.parameter("weight_hr_l0").sizes(), (Shape{2, 6}));
  EXPECT_EQ(lstm.parameter("weight_ih_l1").sizes(), (Shape{24, 4}));
}

TEST(GRUTest, ThreeGates) {
  const GRU gru(4, 7, {.num_layers = 2});
  EXPECT_THAT(Names(gru), ElementsAre("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"));
  EXPECT_EQ(gru.parameter("weight_ih_l0").sizes(), (Shape{21, 4}));
  EXPECT_EQ(gru.parameter("weight_hh_l0").sizes(), (Shape{21, 7}));
  EXPECT_EQ(gru.parameter("weight_ih_l1").sizes(), (Shape{21, 7}));
  EXPECT_EQ(gru.type_name(), "GRU");
}

TEST(RNNTest, EveryWeightIsUniformWithinOneOverSqrtHidden) {
  manual_seed(41);
  const LSTM lstm(16, 25, {.num_layers = 2});
  const double bound = 1.0 / 5.0;
  for (const auto& [name, t] : lstm.named_parameters()) {
    SCOPED_TRACE(name);
    const ValueStats stats = StatsOf(t);
    EXPECT_GE(stats.min, -bound);
    EXPECT_LE(stats.max, bound);
    EXPECT_LT(stats.min, -0.9 * bound);
    EXPECT_GT(stats.max, 0.9 * bound);
  }
}

// reset_parameters draws the weights one after another in registration order.
TEST(RNNTest, WeightsAreDrawnInRegistrationOrder) {
  manual_seed(42);
  const GRU gru(3, 4, {.num_layers = 2, .bidirectional = true});
  manual_seed(42);
  for (const auto& [name, t] : gru.named_parameters()) {
    SCOPED_TRACE(name);
    const Tensor expected = uniform_(empty(t.sizes()), -0.5, 0.5);
    EXPECT_TRUE(TensorsBitwiseEqual(expected, t));
  }
}

TEST(RNNTest, MaterializedEqualsEagerForRandomConfigurations) {
  std::mt19937_64 rng(9001);
  for (int trial = 0; trial < 8; ++trial) {
    const uint64_t seed = rng();
    const int64_t input = 1 + rng() % 6;
    const int64_t hidden = 2 + rng() % 6;
    const RNNOptions options{.num_layers = static_cast<int64_t>(1 + rng() % 3),
                             .bias = rng() % 2 == 0,
                             .bidirectional = rng() % 2 == 0};
    SCOPED_TRACE(testing::Message() << "seed " << seed << " input " << input << " hidden "
                                    << hidden << " layers " << options.num_layers << " bias "
                                    << options.bias << " bidirectional "
                                    << options.bidirectional);
    EXPECT_TRUE(MaterializedEqualsEager<LSTM>(seed, input, hidden, options, TensorOptions{}));
    EXPECT_TRUE(MaterializedEqualsEager<GRU>(seed, input, hidden, options,
                                             TensorOptions{.dtype = DType::kFloat64}));
  }
  EXPECT_TRUE(MaterializedEqualsEager<LSTM>(1, 3, 5, RNNOptions{.proj_size = 3}, TensorOptions{}));
}

TEST(RNNTest, RecordingAllocatesNoTensorData) {
  EXPECT_TRUE(DeferredInitAllocatesNothing<LSTM>(
      1024, 1024, RNNOptions{.num_layers = 4, .bidirectional = true}, TensorOptions{}));
}

TEST(RNNTest, MisuseIsAnErrorNamingTheLayerAndValues) {
  EXPECT_THAT(ConstructionError<LSTM>(3, 0),
              HasSubstr("LSTM: input_size, hidden_size and num_layers must be greater than "
                        "zero, got input_size=3, hidden_size=0 and num_layers=1"));
  EXPECT_THAT(ConstructionError<GRU>(3, 4, RNNOptions{.num_layers = 0}),
              HasSubstr("GRU: input_size, hidden_size and num_layers must be greater than zero"));
  EXPECT_THAT(ConstructionError<LSTM>(3, 4, RNNOptions{.dropout = 2.0}),
              HasSubstr("LSTM: dropout should be a number in range [0, 1]"));
  EXPECT_THAT(ConstructionError<LSTM>(3, 4, RNNOptions{.proj_size = 4}),
              HasSubstr("LSTM: proj_size must be 0 (no projection) or in [1, hidden_size), got "
                        "proj_size=4 and hidden_size=4"));
  EXPECT_THAT(ConstructionError<GRU>(3, 4, RNNOptions{.proj_size = 2}),
              HasSubstr("GRU: proj_size is only supported for LSTM, got proj_size=2"));
}

}  // namespace
}  // namespace deferred::nn
