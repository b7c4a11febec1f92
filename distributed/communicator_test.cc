#include "distributed/communicator.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "distributed/testing/mpi_test.h"
#include "gtest/gtest.h"

namespace deferred::distributed {
namespace {

using CommunicatorTest = MpiTest;

// Bytes that differ by rank and by size: `n` bytes derived from `seed`.
std::string Pattern(int seed, size_t n) {
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((seed * 131 + i * 7) & 0xff);
  return bytes;
}

TEST_F(CommunicatorTest, BroadcastGivesEveryRankTheRootsBytes) {
  for (int root = 0; root < world().size(); ++root) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100000}}) {
      std::string bytes = world().rank() == root ? Pattern(root, n) : Pattern(-1, 5);
      ASSERT_TRUE(world().Broadcast(bytes, root).ok());
      EXPECT_EQ(bytes, Pattern(root, n)) << "root " << root << ", " << n << " bytes";
    }
  }
}

TEST_F(CommunicatorTest, ABroadcastFromARootOutsideTheGroupIsAnErrorOnEveryRank) {
  std::string bytes = "x";
  const absl::Status status = world().Broadcast(bytes, world().size());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bytes, "x");
}

TEST_F(CommunicatorTest, AllGatherCollectsEveryRanksBytesInRankOrder) {
  const int rank = world().rank();
  absl::StatusOr<std::vector<std::string>> all = world().AllGather(Pattern(rank, 10 * rank));
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), static_cast<size_t>(world().size()));
  for (int r = 0; r < world().size(); ++r) EXPECT_EQ((*all)[r], Pattern(r, 10 * r));
  absl::StatusOr<std::vector<int64_t>> values = world().AllGatherValue<int64_t>(rank * 1000 - 7);
  ASSERT_TRUE(values.ok());
  for (int r = 0; r < world().size(); ++r) EXPECT_EQ((*values)[r], r * 1000 - 7);
}

TEST_F(CommunicatorTest, AgreeIsOkOnlyWhenEveryRankIs) {
  EXPECT_TRUE(world().Agree(absl::OkStatus()).ok());
  // The last rank fails alone: every rank gets its error, its code and its rank.
  const int last = world().size() - 1;
  const absl::Status one = world().Agree(
      world().rank() == last ? absl::NotFoundError("/no/such/file.dtrace") : absl::OkStatus());
  EXPECT_EQ(one.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(one.message(),
            absl::StrFormat("rank %d of %d: /no/such/file.dtrace", last, world().size()));
  // Every rank fails: the lowest rank's error, and the others named.
  const absl::Status all =
      world().Agree(absl::InvalidArgumentError(absl::StrCat("bad plan on ", world().rank())));
  EXPECT_EQ(all.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(all.message(),
                               absl::StrCat("rank 0 of ", world().size(), ": bad plan on 0")))
      << all;
  if (world().size() > 1) {
    EXPECT_TRUE(absl::StrContains(all.message(), absl::StrCat("ranks 1")) &&
                absl::StrContains(all.message(), "failed too"))
        << all;
  }
}

TEST_F(CommunicatorTest, SplitMakesGroupsOfTheRanksOfOneColor) {
  const int rank = world().rank();
  absl::StatusOr<Communicator> half = world().Split(rank % 2);
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ(half->size(), (world().size() + 1 - rank % 2) / 2);
  EXPECT_EQ(half->rank(), rank / 2);
  absl::StatusOr<std::vector<int>> members = half->AllGatherValue(rank);
  ASSERT_TRUE(members.ok());
  for (int i = 0; i < half->size(); ++i) EXPECT_EQ((*members)[i], 2 * i + rank % 2);
  // A rank that passes a negative color takes part in the split but gets no group.
  absl::StatusOr<Communicator> some = world().Split(rank == 0 ? -1 : 0);
  EXPECT_EQ(some.ok(), rank != 0);
  if (rank != 0) {
    EXPECT_EQ(some->size(), world().size() - 1);
  }
}

TEST_F(CommunicatorTest, BarrierReturnsOnEveryRank) { EXPECT_TRUE(world().Barrier().ok()); }

}  // namespace
}  // namespace deferred::distributed
