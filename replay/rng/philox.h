#ifndef DEFERRED_REPLAY_RNG_PHILOX_H_
#define DEFERRED_REPLAY_RNG_PHILOX_H_

// Philox4x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), as in
// Random123, and the counter layout of random ops' streams (docs/RNG.md). Plain integer
// arithmetic, so host and CUDA device code compute the same bits.

#include <cstdint>

#include "fake_tensor/host_device.h"

namespace deferred::rng {

// Random123's constants: the round multipliers and the Weyl-sequence key increments.
inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
inline constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxKeyBump0 = 0x9E3779B9u;
inline constexpr uint32_t kPhiloxKeyBump1 = 0xBB67AE85u;

// Rounds of the generator random ops use.
inline constexpr int kPhiloxRounds = 10;

// Four 32-bit words: a counter, or the output block it maps to. Word 0 is the lowest-order.
struct PhiloxWords {
  uint32_t w[4];
};

// One Philox round on `c` under key (k0, k1).
DEFERRED_HOST_DEVICE inline PhiloxWords PhiloxRound(const PhiloxWords& c, uint32_t k0,
                                                    uint32_t k1) {
  const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c.w[0];
  const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c.w[2];
  return PhiloxWords{{static_cast<uint32_t>(p1 >> 32) ^ c.w[1] ^ k0, static_cast<uint32_t>(p1),
                      static_cast<uint32_t>(p0 >> 32) ^ c.w[3] ^ k1, static_cast<uint32_t>(p0)}};
}

// Philox4x32 with `Rounds` rounds: the block `counter` maps to under the 64-bit key
// (key0, key1); the key is bumped between rounds.
template <int Rounds = kPhiloxRounds>
DEFERRED_HOST_DEVICE inline PhiloxWords Philox4x32(PhiloxWords counter, uint32_t key0,
                                                   uint32_t key1) {
  static_assert(Rounds >= 1, "Philox needs at least one round");
  counter = PhiloxRound(counter, key0, key1);
  for (int r = 1; r < Rounds; ++r) {
    key0 += kPhiloxKeyBump0;
    key1 += kPhiloxKeyBump1;
    counter = PhiloxRound(counter, key0, key1);
  }
  return counter;
}

// Block number `block` of the stream of `seed`: Philox4x32-10 of the counter
// (low, high 32 bits of block, 0, 0) under the key (low, high 32 bits of seed).
DEFERRED_HOST_DEVICE inline PhiloxWords PhiloxBlock(uint64_t seed, uint64_t block) {
  return Philox4x32<kPhiloxRounds>(
      PhiloxWords{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u}},
      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Word `j` of a random op's stream, which starts at counter block `offset`: word j % 4 of
// block offset + j / 4 (block numbers wrap modulo 2^64).
DEFERRED_HOST_DEVICE inline uint32_t StreamWord(uint64_t seed, uint64_t offset, uint64_t j) {
  return PhiloxBlock(seed, offset + j / 4).w[j % 4];
}

}  // namespace deferred::rng

#endif  // DEFERRED_REPLAY_RNG_PHILOX_H_
