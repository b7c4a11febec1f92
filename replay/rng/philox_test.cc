#include "replay/rng/philox.h"

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deferred::rng {
namespace {

// One line of Random123's known-answer file.
struct KatVector {
  std::string line;
  int rounds;
  PhiloxWords counter;
  uint32_t key[2];
  PhiloxWords expected;
};

// The philox4x32 lines of testdata/philox_kat_vectors.txt (runfiles path).
std::vector<KatVector> ReadKatVectors() {
  std::ifstream file("testdata/philox_kat_vectors.txt");
  EXPECT_TRUE(file.is_open()) << "testdata/philox_kat_vectors.txt not in the runfiles";
  std::vector<KatVector> vectors;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string generator;
    KatVector v{.line = line};
    in >> generator >> v.rounds >> std::hex;
    for (uint32_t& w : v.counter.w) in >> w;
    for (uint32_t& k : v.key) in >> k;
    for (uint32_t& w : v.expected.w) in >> w;
    EXPECT_FALSE(in.fail()) << "unparsable line: " << line;
    if (generator == "philox4x32") vectors.push_back(v);
  }
  return vectors;
}

PhiloxWords PhiloxWithRounds(int rounds, const PhiloxWords& counter, const uint32_t key[2]) {
  switch (rounds) {
    case 7: return Philox4x32<7>(counter, key[0], key[1]);
    case 10: return Philox4x32<10>(counter, key[0], key[1]);
  }
  ADD_FAILURE() << "no instantiation for " << rounds << " rounds";
  return {};
}

TEST(PhiloxTest, MatchesEveryRandom123KnownAnswer) {
  const std::vector<KatVector> vectors = ReadKatVectors();
  int seven = 0, ten = 0;
  for (const KatVector& v : vectors) {
    SCOPED_TRACE(v.line);
    const PhiloxWords got = PhiloxWithRounds(v.rounds, v.counter, v.key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got.w[i], v.expected.w[i]) << "word " << i;
    (v.rounds == 7 ? seven : ten) += 1;
  }
  // The file holds three vectors for each round count; all of them must have been read.
  EXPECT_EQ(seven, 3);
  EXPECT_EQ(ten, 3);
}

TEST(PhiloxTest, BlockUsesBlockNumberAsCounterAndSeedAsKey) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 100; ++trial) {
    const uint64_t seed = rng(), block = rng();
    const PhiloxWords expected = Philox4x32<10>(
        PhiloxWords{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0}},
        static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    const PhiloxWords got = PhiloxBlock(seed, block);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got.w[i], expected.w[i]);
  }
}

TEST(PhiloxTest, StreamWordJIsWordJMod4OfBlockOffsetPlusJDiv4) {
  const uint64_t seed = 0x0123456789abcdefull;
  for (uint64_t offset : {uint64_t{0}, uint64_t{5}, ~uint64_t{0}}) {
    for (uint64_t j = 0; j < 32; ++j) {
      EXPECT_EQ(StreamWord(seed, offset, j), PhiloxBlock(seed, offset + j / 4).w[j % 4])
          << "offset " << offset << " word " << j;
    }
  }
  // Block numbers wrap: the last block is followed by block 0.
  EXPECT_EQ(StreamWord(seed, ~uint64_t{0}, 4), PhiloxBlock(seed, 0).w[0]);
}

}  // namespace
}  // namespace deferred::rng
