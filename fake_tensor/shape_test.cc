#include "fake_tensor/shape.h"

#include <cstdint>
#include <limits>
#include <random>

#include "fake_tensor/error.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Whether `fn` throws an InvalidArgument `Error`.
template <typename Fn>
bool ThrowsInvalidArgument(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code() == absl::StatusCode::kInvalidArgument;
  }
  return false;
}

TEST(ShapeTest, NumElementsIsExactOrAnError) {
  EXPECT_EQ(NumElements({}), 1);
  EXPECT_EQ(NumElements({3, 4}), 12);
  EXPECT_EQ(NumElements({kMax}), kMax);
  EXPECT_EQ(NumElements({int64_t{1} << 31, int64_t{1} << 31}), int64_t{1} << 62);
  // A zero anywhere gives zero, even after factors whose product would overflow.
  EXPECT_EQ(NumElements({int64_t{1} << 40, int64_t{1} << 40, 0}), 0);
  // 2^32 * 2^32 wraps to 0 in int64 arithmetic.
  EXPECT_TRUE(ThrowsInvalidArgument([] { NumElements({int64_t{1} << 32, int64_t{1} << 32}); }));
  EXPECT_TRUE(ThrowsInvalidArgument([] { NumElements({kMax, 2}); }));
}

TEST(ShapeTest, NumElementsAgreesWithWideArithmetic) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20000; ++trial) {
    Shape sizes(1 + rng() % 4);
    for (int64_t& s : sizes) s = static_cast<int64_t>(rng() >> (1 + rng() % 63));
    __int128 product = 1;
    bool overflow = false;
    for (int64_t s : sizes) {
      if (overflow) break;
      product *= s;
      overflow = product > kMax;
    }
    bool zero = false;
    for (int64_t s : sizes) zero |= s == 0;
    if (zero || !overflow) {
      EXPECT_EQ(NumElements(sizes), zero ? 0 : static_cast<int64_t>(product))
          << ShapeToString(sizes);
    } else {
      EXPECT_TRUE(ThrowsInvalidArgument([&] { NumElements(sizes); })) << ShapeToString(sizes);
    }
  }
}

TEST(ShapeTest, ContiguousStridesThatOverflowAreAnError) {
  EXPECT_EQ(ContiguousStrides({2, 0, 3}), (Shape{3, 3, 1}));
  EXPECT_EQ(ContiguousStrides({kMax}), (Shape{1}));
  // No elements, but the leading stride would be 2^80.
  const Shape huge = {0, int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_FALSE(CheckedContiguousStrides(huge).has_value());
  EXPECT_TRUE(ThrowsInvalidArgument([&] { ContiguousStrides(huge); }));
  EXPECT_EQ(ContiguousStrides({0, int64_t{1} << 31, int64_t{1} << 31}),
            (Shape{int64_t{1} << 62, int64_t{1} << 31, 1}));
}

}  // namespace
}  // namespace deferred
