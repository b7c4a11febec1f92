#include "deferred/nn/init.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "deferred/nn/layer_testing.h"
#include "deferred/nn/module.h"
#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "gtest/gtest.h"

namespace deferred::nn::init {
namespace {

std::vector<std::byte> Bytes(const Tensor& t) {
  const std::byte* data = t.storage()->data();
  return std::vector<std::byte>(data, data + t.storage()->nbytes());
}

TEST(InitTest, CalculateGainFollowsPyTorch) {
  for (Nonlinearity n : {Nonlinearity::kLinear, Nonlinearity::kConv1d, Nonlinearity::kConv2d,
                         Nonlinearity::kConv3d, Nonlinearity::kConvTranspose1d,
                         Nonlinearity::kConvTranspose2d, Nonlinearity::kConvTranspose3d,
                         Nonlinearity::kSigmoid}) {
    EXPECT_EQ(calculate_gain(n), 1.0);
  }
  EXPECT_EQ(calculate_gain(Nonlinearity::kTanh), 5.0 / 3);
  EXPECT_EQ(calculate_gain(Nonlinearity::kRelu), std::sqrt(2.0));
  EXPECT_EQ(calculate_gain(Nonlinearity::kSelu), 0.75);
  EXPECT_EQ(calculate_gain(Nonlinearity::kLeakyRelu), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  EXPECT_EQ(calculate_gain(Nonlinearity::kLeakyRelu, std::sqrt(5.0)),
            std::sqrt(2.0 / (1 + std::sqrt(5.0) * std::sqrt(5.0))));
  EXPECT_EQ(calculate_gain(Nonlinearity::kLeakyRelu, 0.0), std::sqrt(2.0));
  // The parameter matters only for leaky_relu.
  EXPECT_EQ(calculate_gain(Nonlinearity::kTanh, 3.0), 5.0 / 3);
}

TEST(InitTest, FansUseDims0And1TimesTheReceptiveField) {
  const Device meta = Device::Meta();
  EXPECT_EQ(calculate_fan_in_and_fan_out(empty({3, 5}, {.device = meta})),
            (std::pair<int64_t, int64_t>{5, 3}));
  EXPECT_EQ(calculate_fan_in_and_fan_out(empty({16, 8, 3, 3}, {.device = meta})),
            (std::pair<int64_t, int64_t>{8 * 9, 16 * 9}));
  EXPECT_EQ(calculate_fan_in_and_fan_out(empty({4, 6, 5}, {.device = meta})),
            (std::pair<int64_t, int64_t>{30, 20}));
  EXPECT_EQ(calculate_fan_in_and_fan_out(empty({4, 6, 0}, {.device = meta})),
            (std::pair<int64_t, int64_t>{0, 0}));
}

// Expects `fn` to throw an Error whose message contains `part`.
void ExpectError(const std::function<void()>& fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(InitTest, FewerThanTwoDimsIsAnErrorWhereFansAreNeeded) {
  const Tensor bias = empty({7});
  ExpectError([&] { calculate_fan_in_and_fan_out(bias); }, "fewer than 2 dimensions");
  ExpectError([&] { kaiming_uniform_(bias); }, "fewer than 2 dimensions");
  ExpectError([&] { kaiming_normal_(bias); }, "fewer than 2 dimensions");
  ExpectError([&] { xavier_uniform_(bias); }, "fewer than 2 dimensions");
  ExpectError([&] { xavier_normal_(empty({})); }, "fewer than 2 dimensions");
  ExpectError([&] { xavier_uniform_(empty({0, 0})); }, "xavier_uniform_: fan_in + fan_out is 0");
}

// Each initializer equals, bit for bit, the random op it must call with PyTorch's formula
// for its parameters (restated here independently of init.cc).
struct Expectation {
  std::string name;
  std::function<void(const Tensor&)> init;
  std::function<void(const Tensor&)> reference;
};

std::vector<Expectation> Expectations() {
  return {
      {"kaiming_uniform_(a=sqrt 5)",
       [](const Tensor& t) { kaiming_uniform_(t, std::sqrt(5.0)); },
       [](const Tensor& t) {
         const double fan_in = static_cast<double>(t.size(1) * t.size(2) * t.size(3));
         const double gain = std::sqrt(2.0 / (1 + 5.0));
         const double bound = std::sqrt(3.0) * (gain / std::sqrt(fan_in));
         deferred::uniform_(t, -bound, bound);
       }},
      {"kaiming_normal_(fan_out, relu)",
       [](const Tensor& t) { kaiming_normal_(t, 0, FanMode::kFanOut, Nonlinearity::kRelu); },
       [](const Tensor& t) {
         const double fan_out = static_cast<double>(t.size(0) * t.size(2) * t.size(3));
         deferred::normal_(t, 0.0, std::sqrt(2.0) / std::sqrt(fan_out));
       }},
      {"kaiming_uniform_(defaults)", [](const Tensor& t) { kaiming_uniform_(t); },
       [](const Tensor& t) {
         const double fan_in = static_cast<double>(t.size(1) * t.size(2) * t.size(3));
         const double bound = std::sqrt(3.0) * (std::sqrt(2.0 / (1 + 0.0)) / std::sqrt(fan_in));
         deferred::uniform_(t, -bound, bound);
       }},
      {"xavier_uniform_(gain 2)", [](const Tensor& t) { xavier_uniform_(t, 2.0); },
       [](const Tensor& t) {
         const double fans = static_cast<double>((t.size(0) + t.size(1)) * t.size(2) * t.size(3));
         const double a = std::sqrt(3.0) * (2.0 * std::sqrt(2.0 / fans));
         deferred::uniform_(t, -a, a);
       }},
      {"xavier_normal_", [](const Tensor& t) { xavier_normal_(t); },
       [](const Tensor& t) {
         const double fans = static_cast<double>((t.size(0) + t.size(1)) * t.size(2) * t.size(3));
         deferred::normal_(t, 0.0, 1.0 * std::sqrt(2.0 / fans));
       }},
      {"trunc_normal_", [](const Tensor& t) { init::trunc_normal_(t, 0.1, 0.02, -0.04, 0.04); },
       [](const Tensor& t) { deferred::trunc_normal_(t, 0.1, 0.02, -0.04, 0.04); }},
  };
}

TEST(InitTest, InitializersCallTheRandomOpWithPyTorchsParameters) {
  const Shape sizes = {12, 7, 3, 2};
  for (const Expectation& e : Expectations()) {
    SCOPED_TRACE(e.name);
    manual_seed(31);
    const Tensor got = empty(sizes);
    e.init(got);
    const RngState after = get_rng_state();
    manual_seed(31);
    const Tensor expected = empty(sizes);
    e.reference(expected);
    EXPECT_EQ(get_rng_state(), after);
    EXPECT_EQ(Bytes(got), Bytes(expected));
  }
}

TEST(InitTest, KaimingAndXavierHaveTheirStatedSpread) {
  manual_seed(8);
  // fan_in = 256 * 9, fan_out = 64 * 9: bounds and stds follow, checked on the samples.
  const Tensor w = empty({64, 256, 3, 3});
  const double fan_in = 256 * 9, fan_out = 64 * 9;
  const auto moments = [](const Tensor& t) {
    double sum = 0, sum_sq = 0, max_abs = 0;
    for (float v : t.to_vector<float>()) {
      sum += v;
      sum_sq += double{v} * v;
      max_abs = std::max(max_abs, std::fabs(double{v}));
    }
    const double n = static_cast<double>(t.numel());
    return std::tuple<double, double, double>{sum / n, std::sqrt(sum_sq / n), max_abs};
  };
  {
    kaiming_uniform_(w, 0, FanMode::kFanIn, Nonlinearity::kRelu);
    const double bound = std::sqrt(6.0 / fan_in);
    const auto [mean, rms, max_abs] = moments(w);
    EXPECT_LT(max_abs, bound);
    EXPECT_GT(max_abs, 0.999 * bound);
    EXPECT_NEAR(rms, bound / std::sqrt(3.0), 0.01 * bound);
    EXPECT_NEAR(mean, 0.0, 0.01 * bound);
  }
  {
    kaiming_normal_(w, 0, FanMode::kFanOut, Nonlinearity::kRelu);
    const auto [mean, rms, max_abs] = moments(w);
    EXPECT_NEAR(rms, std::sqrt(2.0 / fan_out), 0.01 * std::sqrt(2.0 / fan_out));
  }
  {
    xavier_uniform_(w);
    const double a = std::sqrt(6.0 / (fan_in + fan_out));
    const auto [mean, rms, max_abs] = moments(w);
    EXPECT_LT(max_abs, a);
    EXPECT_NEAR(rms, a / std::sqrt(3.0), 0.01 * a);
  }
  {
    xavier_normal_(w, 0.5);
    const auto [mean, rms, max_abs] = moments(w);
    const double std = 0.5 * std::sqrt(2.0 / (fan_in + fan_out));
    EXPECT_NEAR(rms, std, 0.01 * std);
  }
  {
    init::trunc_normal_(w, 0.0, 0.02, -0.04, 0.04);
    const auto [mean, rms, max_abs] = moments(w);
    EXPECT_LE(max_abs, 0.04);
    EXPECT_NEAR(rms, 0.02 * std::sqrt(0.7737413), 0.0005);  // std of N(0,1) cut at +-2 sigma
  }
}

TEST(InitTest, KaimingOnAnEmptyTensorIsANoOpThatReservesNothing) {
  manual_seed(4);
  const Tensor t = empty({0, 5});
  EXPECT_TRUE(kaiming_uniform_(t).is_same(t));
  EXPECT_TRUE(kaiming_normal_(t).is_same(t));
  EXPECT_EQ(get_rng_state().offset, 0u);
}

TEST(InitTest, ConstantZerosAndOnesFill) {
  const Tensor t = empty({2, 3});
  EXPECT_EQ(constant_(t, 0.25).to_vector<float>(), std::vector<float>(6, 0.25f));
  EXPECT_EQ(zeros_(t).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(ones_(t).to_vector<float>(), std::vector<float>(6, 1.0f));
}

// A module initialized by every initializer, for the eager-equivalence check.
class InitializedModule : public Module {
 public:
  InitializedModule() : Module("InitializedModule") {
    kaiming_uniform_(register_parameter("conv", empty({8, 4, 3, 3})), std::sqrt(5.0));
    kaiming_normal_(register_parameter("fc", empty({16, 32})), 0, FanMode::kFanOut);
    xavier_uniform_(register_parameter("proj", empty({32, 24}, {DType::kFloat64})));
    xavier_normal_(register_parameter("bias_k", empty({1, 1, 24})));
    init::trunc_normal_(register_parameter("pos", empty({1, 10, 24}, {DType::kBFloat16})), 0,
                        0.02);
    init::uniform_(register_parameter("bias", empty({8})), -0.1, 0.1);
    init::normal_(register_parameter("emb", empty({11, 5}, {DType::kFloat16})));
    zeros_(register_parameter("zero", empty({3})));
    eye_(register_parameter("eye", empty({6, 4})));
    dirac_(register_parameter("dirac", empty({6, 3, 3})), 2);
    orthogonal_(register_parameter("orthogonal", empty({3, 2, 4})), 0.5);
  }
};

TEST(InitTest, EyeAndDiracPlaceTheirOnes) {
  const Tensor square = empty({3, 5});
  eye_(square);
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t c = 0; c < 5; ++c) EXPECT_EQ(square.at<float>({r, c}), r == c ? 1.0f : 0.0f);
  }
  // [out 4, in 3, 3, 3] in 2 groups of 2 output channels.
  const Tensor conv = full({4, 3, 3, 3}, 7.0);
  dirac_(conv, 2);
  for (int64_t o = 0; o < 4; ++o) {
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t h = 0; h < 3; ++h) {
        for (int64_t w = 0; w < 3; ++w) {
          const bool one = i == o % 2 && h == 1 && w == 1;
          EXPECT_EQ(conv.at<float>({o, i, h, w}), one ? 1.0f : 0.0f) << o << i << h << w;
        }
      }
    }
  }
  const Tensor wide = empty({2, 5, 4});  // fewer outputs than inputs; an even kernel
  dirac_(wide);
  EXPECT_EQ(wide.at<float>({1, 1, 2}), 1.0f);
  EXPECT_EQ(sum(wide).item<float>(), 2.0f);
  EXPECT_THROW(eye_(empty({2, 2, 2})), Error);
  EXPECT_THROW(dirac_(empty({2, 2})), Error);
  EXPECT_THROW(dirac_(empty({3, 2, 3}), 2), Error);
  EXPECT_THROW(dirac_(empty({4, 2, 3}), 0), Error);
}

// W W^T = gain^2 I for rows <= cols, W^T W = gain^2 I otherwise, over W = [size(0), rest].
TEST(InitTest, OrthogonalGivesOrthonormalRowsOrColumnsTimesTheGain) {
  for (const Shape& sizes : {Shape{6, 4}, Shape{3, 8}, Shape{4, 2, 3}, Shape{5, 5}}) {
    SCOPED_TRACE(ShapeToString(sizes));
    const Tensor w = orthogonal_(empty(sizes, {.dtype = DType::kFloat64}), 2.0);
    const int64_t rows = sizes[0], cols = w.numel() / rows;
    const std::vector<double> v = w.to_vector<double>();
    const bool by_rows = rows <= cols;
    const int64_t count = by_rows ? rows : cols, length = by_rows ? cols : rows;
    for (int64_t i = 0; i < count; ++i) {
      for (int64_t j = 0; j < count; ++j) {
        double dot = 0;
        for (int64_t k = 0; k < length; ++k) {
          dot += by_rows ? v[i * cols + k] * v[j * cols + k] : v[k * cols + i] * v[k * cols + j];
        }
        EXPECT_NEAR(dot, i == j ? 4.0 : 0.0, 1e-12);
      }
    }
  }
  EXPECT_EQ(orthogonal_(empty({0, 3})).numel(), 0);
  EXPECT_THROW(orthogonal_(empty({4})), Error);
}

TEST(InitTest, MaterializedInitializationEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEagerWith<InitializedModule>(
      17, [] { return std::make_shared<InitializedModule>(); }));
}

}  // namespace
}  // namespace deferred::nn::init
