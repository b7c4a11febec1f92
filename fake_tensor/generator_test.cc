#include "fake_tensor/generator.h"

#include <algorithm>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace deferred {
namespace {

TEST(GeneratorTest, ManualSeedSetsTheSeedAndZeroesTheOffset) {
  set_rng_state(RngState{1, 99});
  manual_seed(0xfedcba9876543210ull);
  EXPECT_EQ(get_rng_state(), (RngState{0xfedcba9876543210ull, 0}));
}

TEST(GeneratorTest, SetRngStateRestoresWhatGetRngStateSaved) {
  manual_seed(3);
  ReserveRngBlocks(17);
  const RngState saved = get_rng_state();
  EXPECT_EQ(saved, (RngState{3, 17}));
  ReserveRngBlocks(5);
  manual_seed(4);
  set_rng_state(saved);
  EXPECT_EQ(get_rng_state(), saved);
  EXPECT_EQ(ReserveRngBlocks(1).offset, 17u);
}

TEST(GeneratorTest, ReservationReturnsTheStateBeforeAndAdvancesTheOffset) {
  manual_seed(11);
  EXPECT_EQ(ReserveRngBlocks(4), (RngState{11, 0}));
  EXPECT_EQ(ReserveRngBlocks(0), (RngState{11, 4}));
  EXPECT_EQ(ReserveRngBlocks(1), (RngState{11, 4}));
  EXPECT_EQ(get_rng_state(), (RngState{11, 5}));
}

TEST(GeneratorTest, OffsetWrapsModulo2To64) {
  set_rng_state(RngState{1, ~uint64_t{0} - 1});
  EXPECT_EQ(ReserveRngBlocks(3).offset, ~uint64_t{0} - 1);
  EXPECT_EQ(get_rng_state().offset, 1u);
}

TEST(GeneratorTest, ConcurrentReservationsAreDisjointAndCoverTheRange) {
  manual_seed(42);
  constexpr int kThreads = 8;
  constexpr int kReservationsPerThread = 2000;
  // Each thread reserves 1, 2, 3, ... blocks in turn and keeps the ranges it was given.
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> ranges(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &ranges] {
      for (int r = 0; r < kReservationsPerThread; ++r) {
        const uint64_t blocks = 1 + (r + t) % 5;
        const RngState before = ReserveRngBlocks(blocks);
        EXPECT_EQ(before.seed, 42u);
        ranges[t].emplace_back(before.offset, before.offset + blocks);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<std::pair<uint64_t, uint64_t>> all;
  uint64_t total = 0;
  for (const auto& per_thread : ranges) {
    for (const auto& range : per_thread) {
      all.push_back(range);
      total += range.second - range.first;
    }
  }
  std::sort(all.begin(), all.end());
  // Sorted by start, the ranges tile [0, total) with neither gaps nor overlaps.
  uint64_t next = 0;
  for (const auto& [begin, end] : all) {
    ASSERT_EQ(begin, next);
    next = end;
  }
  EXPECT_EQ(next, total);
  EXPECT_EQ(get_rng_state(), (RngState{42, total}));
}

}  // namespace
}  // namespace deferred
