#include "deferred/nn/dropout.h"

#include <limits>
#include <string>

#include "deferred/nn/layer_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred::nn {
namespace {

using ::testing::HasSubstr;

TEST(DropoutTest, KeepsItsConfigurationAndHoldsNoTensors) {
  const Dropout dropout({.p = 0.25, .inplace = true});
  EXPECT_EQ(dropout.p(), 0.25);
  EXPECT_TRUE(dropout.inplace());
  EXPECT_EQ(Dropout().p(), 0.5);
  EXPECT_TRUE(dropout.named_parameters().empty());
  EXPECT_TRUE(dropout.named_buffers().empty());
  EXPECT_EQ(dropout.type_name(), "Dropout");
}

TEST(DropoutTest, BoundaryProbabilitiesAreAccepted) {
  EXPECT_EQ(Dropout({.p = 0.0}).p(), 0.0);
  EXPECT_EQ(Dropout({.p = 1.0}).p(), 1.0);
}

TEST(DropoutTest, MaterializedEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEager<Dropout>(1, DropoutOptions{.p = 0.1}));
  EXPECT_TRUE(DeferredInitAllocatesNothing<Dropout>(DropoutOptions{.p = 0.1}));
}

TEST(DropoutTest, ProbabilityOutsideZeroOneIsAnErrorNamingIt) {
  EXPECT_THAT(ConstructionError<Dropout>(DropoutOptions{.p = 1.5}),
              HasSubstr("Dropout: dropout probability has to be between 0 and 1, but got 1.5"));
  EXPECT_THAT(ConstructionError<Dropout>(DropoutOptions{.p = -0.1}), HasSubstr("but got -0.1"));
  EXPECT_THAT(ConstructionError<Dropout>(
                  DropoutOptions{.p = std::numeric_limits<double>::quiet_NaN()}),
              HasSubstr("but got nan"));
}

}  // namespace
}  // namespace deferred::nn
