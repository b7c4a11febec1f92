#include "fake_tensor/ops/random.h"

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/factories.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

// Everything here runs on meta tensors: shape rules and RNG reservation need no data.
Tensor MetaEmpty(const Shape& sizes, DType dtype) {
  return empty(sizes, {dtype, Device::Meta()});
}

// How far `fn` advances the generator's offset.
uint64_t OffsetAdvance(const std::function<void()>& fn) {
  const uint64_t before = get_rng_state().offset;
  fn();
  return get_rng_state().offset - before;
}

uint64_t CeilBlocks(int64_t numel, int64_t words) { return (numel * words + 3) / 4; }

Shape RandomShape(std::mt19937_64& rng) {
  Shape sizes(rng() % 4);
  for (int64_t& s : sizes) s = static_cast<int64_t>(rng() % 7);
  return sizes;
}

constexpr DType kFloatingDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                     DType::kBFloat16};

TEST(RandomOpsTest, EachOpAdvancesTheOffsetByCeilNumelTimesWordsOverFour) {
  const uint64_t seed = 20240601;
  SCOPED_TRACE(seed);
  std::mt19937_64 rng(seed);
  manual_seed(5);
  for (int trial = 0; trial < 50; ++trial) {
    const Shape sizes = RandomShape(rng);
    const int64_t n = NumElements(sizes);
    SCOPED_TRACE(ShapeToString(sizes));
    for (DType dtype : kFloatingDTypes) {
      SCOPED_TRACE(DTypeName(dtype));
      const int64_t w = dtype == DType::kFloat64 ? 2 : 1;
      const Tensor t = MetaEmpty(sizes, dtype);
      EXPECT_EQ(OffsetAdvance([&] { uniform_(t, -1, 1); }), CeilBlocks(n, w));
      EXPECT_EQ(OffsetAdvance([&] { normal_(t, 0, 2); }), CeilBlocks(n, w));
      EXPECT_EQ(OffsetAdvance([&] { trunc_normal_(t); }), CeilBlocks(n, w));
      EXPECT_EQ(OffsetAdvance([&] { bernoulli_(t, 0.25); }), CeilBlocks(n, 1));
      EXPECT_EQ(OffsetAdvance([&] { random_(t, -5, 100); }), CeilBlocks(n, 1));
    }
    const Tensor i64 = MetaEmpty(sizes, DType::kInt64);
    EXPECT_EQ(OffsetAdvance([&] { random_(i64, 0, int64_t{1} << 32); }), CeilBlocks(n, 2));
    EXPECT_EQ(OffsetAdvance([&] { random_(i64, 0, (int64_t{1} << 32) - 1); }),
              CeilBlocks(n, 1));
    EXPECT_EQ(OffsetAdvance([&] { random_(i64); }), CeilBlocks(n, 2));
    EXPECT_EQ(OffsetAdvance([&] { random_(MetaEmpty(sizes, DType::kInt32)); }),
              CeilBlocks(n, 1));
  }
  EXPECT_EQ(get_rng_state().seed, 5u);
}

TEST(RandomOpsTest, FactoriesReserveExactlyAsTheInPlaceForms) {
  const Shape sizes = {3, 5};
  const Device meta = Device::Meta();
  for (DType dtype : kFloatingDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    const Tensor t = MetaEmpty(sizes, dtype);
    EXPECT_EQ(OffsetAdvance([&] { rand(sizes, {dtype, meta}); }),
              OffsetAdvance([&] { uniform_(t); }));
    EXPECT_EQ(OffsetAdvance([&] { randn(sizes, {dtype, meta}); }),
              OffsetAdvance([&] { normal_(t); }));
    EXPECT_EQ(OffsetAdvance([&] { normal(2, 3, sizes, {dtype, meta}); }),
              OffsetAdvance([&] { normal_(t, 2, 3); }));
  }
  const Tensor i64 = MetaEmpty(sizes, DType::kInt64);
  EXPECT_EQ(OffsetAdvance([&] { randint(-3, 9, sizes, {.device = meta}); }),
            OffsetAdvance([&] { random_(i64, -3, 9); }));
  EXPECT_EQ(OffsetAdvance([&] { randint(0, int64_t{1} << 40, sizes, {.device = meta}); }),
            OffsetAdvance([&] { random_(i64, 0, int64_t{1} << 40); }));
}

TEST(RandomOpsTest, FactoriesDefaultToFloat32AndRandintToInt64) {
  const Device meta = Device::Meta();
  EXPECT_EQ(rand({2}, {.device = meta}).dtype(), DType::kFloat32);
  EXPECT_EQ(randn({2}, {.device = meta}).dtype(), DType::kFloat32);
  EXPECT_EQ(normal(0, 1, {2}, {.device = meta}).dtype(), DType::kFloat32);
  EXPECT_EQ(randint(7, {2, 3}, {.device = meta}).dtype(), DType::kInt64);
  EXPECT_EQ(randint(7, {2, 3}, {.device = meta}).sizes(), (Shape{2, 3}));
}

// Expects `fn` to throw an Error whose message contains each of `parts`.
void ExpectError(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning " << parts[0];
  } catch (const Error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << part << "\"";
    }
  }
}

TEST(RandomOpsTest, MisuseIsAnErrorNamingTheOpAndTheValues) {
  const Tensor f32 = MetaEmpty({4}, DType::kFloat32);
  const Tensor f16 = MetaEmpty({4}, DType::kFloat16);
  const Tensor i64 = MetaEmpty({4}, DType::kInt64);
  const Tensor u8 = MetaEmpty({4}, DType::kUInt8);
  const Tensor b = MetaEmpty({4}, DType::kBool);
  ExpectError([&] { uniform_(i64); }, {"uniform_", "floating-point", "int64"});
  ExpectError([&] { uniform_(f32, 2, 1); }, {"uniform_", "from <= to", "from=2", "to=1"});
  ExpectError([&] { uniform_(f16, 0, 1e5); }, {"uniform_", "float16", "to=100000"});
  ExpectError([&] { uniform_(f32, -3e38, 3e38); }, {"uniform_", "overflows"});
  ExpectError([&] { normal_(i64); }, {"normal_", "floating-point", "int64"});
  ExpectError([&] { normal_(f32, 0, -1); }, {"normal_", "std >= 0", "std=-1"});
  ExpectError([&] { trunc_normal_(b); }, {"trunc_normal_", "floating-point", "bool"});
  ExpectError([&] { trunc_normal_(f32, 0, 0); }, {"trunc_normal_", "std > 0", "std=0"});
  ExpectError([&] { trunc_normal_(f32, 0, 1, 2, -2); }, {"trunc_normal_", "a < b", "a=2"});
  ExpectError([&] { random_(f32, 3, 3); }, {"random_", "from < to", "from=3", "to=3"});
  ExpectError([&] { random_(u8, -1, 10); }, {"random_", "uint8", "[-1, 9]"});
  ExpectError([&] { random_(u8, 0, 257); }, {"random_", "uint8", "[0, 256]"});
  ExpectError([&] { random_(b, 0, 3); }, {"random_", "bool"});
  ExpectError([&] { random_(f16, 0, 5000); }, {"random_", "float16", "[-2048, 2048]"});
  ExpectError([&] { bernoulli_(f32, 1.5); }, {"bernoulli_", "0 <= p <= 1", "p=1.5"});
  ExpectError([&] { bernoulli_(f32, -0.1); }, {"bernoulli_", "p=-0.1"});
  ExpectError([&] { rand({2}, {DType::kInt32, Device::Meta()}); }, {"rand", "int32"});
  ExpectError([&] { randn({2}, {DType::kUInt8, Device::Meta()}); }, {"randn", "uint8"});
  ExpectError([&] { normal(0, -2, {2}, {.device = Device::Meta()}); }, {"normal", "std=-2"});
  ExpectError([&] { randint(5, 5, {2}, {.device = Device::Meta()}); }, {"randint", "from < to"});
  ExpectError([&] { randint(0, 300, {2}, {DType::kUInt8, Device::Meta()}); },
              {"randint", "uint8", "[0, 299]"});
  const Tensor expanded = MakeView(MetaEmpty({3}, DType::kFloat32), TensorLayout{{4, 3}, {0, 1}, 0});
  ExpectError([&] { uniform_(expanded); }, {"uniform_", "share memory"});
}

TEST(RandomOpsTest, MisuseReservesNothing) {
  const Tensor i64 = MetaEmpty({4}, DType::kInt64);
  EXPECT_EQ(OffsetAdvance([&] { EXPECT_THROW(uniform_(i64), Error); }), 0u);
  EXPECT_EQ(OffsetAdvance([&] { EXPECT_THROW(rand({8}, {DType::kInt64, Device::Meta()}), Error); }),
            0u);
}

}  // namespace
}  // namespace deferred
