// CPU kernels of the random ops in fake_tensor/ops/random.h. Element i of a fill (in the
// row-major order of the written tensor, or of the whole tensor when the call is restricted
// to a region) is rng::SampleAt(sampler, seed, offset, i); the kernels only compute it
// faster: Philox for whole tiles of counter blocks at once (hand-written AVX-512 or AVX2
// where the CPU has it), then the sampler over the tile's words in a loop the compiler
// vectorizes (for trunc_normal_, tiles within ErfInv's central case skip the rest of it).
// Fills larger than the cache write whole tiles with non-temporal stores. Elements of
// partial blocks at the ends of a run use SampleAt itself. Since every element is a
// function of its index, neither the thread count, nor the split into runs, nor the vector
// width, nor the stores used changes a bit.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <immintrin.h>

#include "fake_tensor/op_registry.h"
#include "fake_tensor/region_rules.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/random_kernel_path.h"
#include "replay/rng/philox.h"
#include "replay/rng/samplers.h"

namespace deferred {
namespace {

std::atomic<RandomKernelPath> path_cap{RandomKernelPath::kAvx512};

// The most capable path this CPU (and OS) runs.
RandomKernelPath CpuPath() {
  static const RandomKernelPath path = [] {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
      return RandomKernelPath::kPortable;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
      return RandomKernelPath::kAvx512;
    }
    return RandomKernelPath::kAvx2;
  }();
  return path;
}

// Counter blocks per tile: the tile's words (4 KiB) and values stay in L1. A multiple of
// the blocks the vector Philox functions make per step.
constexpr int64_t kTileBlocks = 256;

// ---- Philox over consecutive counter blocks ----

// words[4k .. 4k+3] = block first_block + k of `seed`, for k in [0, count).
void PhiloxBlocksPortable(uint64_t seed, uint64_t first_block, int64_t count, uint32_t* words) {
  for (int64_t k = 0; k < count; ++k) {
    const rng::PhiloxWords block = rng::PhiloxBlock(seed, first_block + k);
    std::memcpy(words + 4 * k, block.w, sizeof(block.w));
  }
}

// Four Philox counters, one per 64-bit lane; only the low 32 bits of each lane matter, so
// the 32x32->64 multiply (vpmuludq) yields a round's low product in place and its high
// product after one shift, with no shuffles.
struct PhiloxLanes {
  __m256i c0, c1, c2, c3;
};

// Independent sets of four counters that PhiloxBlocksAvx2 runs through the rounds at once,
// interleaved, so that the multiplies of one set hide the latency of another's.
constexpr int kPhiloxSets = 4;
static_assert(kTileBlocks % (4 * kPhiloxSets) == 0, "whole tiles take the vector loop only");

// The high word of each 64-bit lane, in the lane's low word (where the next multiply reads
// it). A shuffle rather than a shift: on recent Intel cores vector shifts share an
// execution port with the multiplies and shuffles do not, and the rounds are bound by that
// port (this alone made the fills about a third faster).
__attribute__((target("avx2"), always_inline)) inline __m256i HighWordsAvx2(__m256i x) {
  return _mm256_shuffle_epi32(x, 0xf5);
}

// The first round on the counters (low, high 32 bits of each block, 0, 0): the product of
// the third word is 0.
__attribute__((target("avx2"), always_inline)) inline PhiloxLanes FirstPhiloxRoundAvx2(
    __m256i blocks, __m256i key0, __m256i key1) {
  const __m256i p = _mm256_mul_epu32(blocks, _mm256_set1_epi64x(rng::kPhiloxM0));
  return PhiloxLanes{_mm256_xor_si256(HighWordsAvx2(blocks), key0), _mm256_setzero_si256(),
                     _mm256_xor_si256(HighWordsAvx2(p), key1), p};
}

__attribute__((target("avx2"), always_inline)) inline PhiloxLanes PhiloxRoundAvx2(
    const PhiloxLanes& s, __m256i key0, __m256i key1) {
  const __m256i p0 = _mm256_mul_epu32(s.c0, _mm256_set1_epi64x(rng::kPhiloxM0));
  const __m256i p1 = _mm256_mul_epu32(s.c2, _mm256_set1_epi64x(rng::kPhiloxM1));
  return PhiloxLanes{_mm256_xor_si256(_mm256_xor_si256(HighWordsAvx2(p1), s.c1), key0), p1,
                     _mm256_xor_si256(_mm256_xor_si256(HighWordsAvx2(p0), s.c3), key1), p0};
}

// Stores the four blocks of `s` as 16 consecutive words, block by block.
__attribute__((target("avx2"), always_inline)) inline void StoreBlocksAvx2(const PhiloxLanes& s,
                                                                           uint32_t* words) {
  const __m256i w01 = _mm256_blend_epi32(s.c0, _mm256_slli_epi64(s.c1, 32), 0xaa);
  const __m256i w23 = _mm256_blend_epi32(s.c2, _mm256_slli_epi64(s.c3, 32), 0xaa);
  const __m256i even = _mm256_unpacklo_epi64(w01, w23);  // blocks 0 and 2
  const __m256i odd = _mm256_unpackhi_epi64(w01, w23);   // blocks 1 and 3
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(words),
                      _mm256_permute2x128_si256(even, odd, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + 8),
                      _mm256_permute2x128_si256(even, odd, 0x31));
}

__attribute__((target("avx2"))) void PhiloxBlocksAvx2(uint64_t seed, uint64_t first_block,
                                                      int64_t count, uint32_t* words) {
  __m256i key0[rng::kPhiloxRounds], key1[rng::kPhiloxRounds];
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < rng::kPhiloxRounds; ++r) {
    key0[r] = _mm256_set1_epi64x(k0);
    key1[r] = _mm256_set1_epi64x(k1);
    k0 += rng::kPhiloxKeyBump0;
    k1 += rng::kPhiloxKeyBump1;
  }
  const __m256i lanes = _mm256_set_epi64x(3, 2, 1, 0);
  constexpr int64_t kStep = 4 * kPhiloxSets;
  int64_t k = 0;
  for (; k + kStep <= count; k += kStep) {
    PhiloxLanes s[kPhiloxSets];
#pragma GCC unroll 4
    for (int g = 0; g < kPhiloxSets; ++g) {
      const uint64_t block = first_block + static_cast<uint64_t>(k + 4 * g);
      s[g] = FirstPhiloxRoundAvx2(
          _mm256_add_epi64(_mm256_set1_epi64x(static_cast<int64_t>(block)), lanes), key0[0],
          key1[0]);
    }
#pragma GCC unroll 16
    for (int r = 1; r < rng::kPhiloxRounds; ++r) {
#pragma GCC unroll 4
      for (int g = 0; g < kPhiloxSets; ++g) s[g] = PhiloxRoundAvx2(s[g], key0[r], key1[r]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < kPhiloxSets; ++g) StoreBlocksAvx2(s[g], words + 4 * (k + 4 * g));
  }
  PhiloxBlocksPortable(seed, first_block + static_cast<uint64_t>(k), count - k, words + 4 * k);
}

// The AVX-512 form of the above: eight counters per register, the three-way XORs as one
// ternary-logic instruction, and a two-source permute for the store.
struct PhiloxLanes512 {
  __m512i c0, c1, c2, c3;
};

constexpr int kPhiloxSets512 = 4;
static_assert(kTileBlocks % (8 * kPhiloxSets512) == 0, "whole tiles take the vector loop only");

// GCC 12's AVX-512 intrinsics fill their unused pass-through operand from a self-initialized
// variable (_mm512_undefined_epi32), which its own -Wmaybe-uninitialized then reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

__attribute__((target("avx512f"), always_inline)) inline __m512i HighWordsAvx512(__m512i x) {
  return _mm512_shuffle_epi32(x, _MM_PERM_DDBB);
}

__attribute__((target("avx512f"), always_inline)) inline PhiloxLanes512
FirstPhiloxRoundAvx512(__m512i blocks, __m512i key0, __m512i key1) {
  const __m512i p = _mm512_mul_epu32(blocks, _mm512_set1_epi64(rng::kPhiloxM0));
  return PhiloxLanes512{_mm512_xor_si512(HighWordsAvx512(blocks), key0),
                        _mm512_setzero_si512(), _mm512_xor_si512(HighWordsAvx512(p), key1), p};
}

__attribute__((target("avx512f"), always_inline)) inline PhiloxLanes512 PhiloxRoundAvx512(
    const PhiloxLanes512& s, __m512i key0, __m512i key1) {
  constexpr int kXor3 = 0x96;  // a ^ b ^ c
  const __m512i p0 = _mm512_mul_epu32(s.c0, _mm512_set1_epi64(rng::kPhiloxM0));
  const __m512i p1 = _mm512_mul_epu32(s.c2, _mm512_set1_epi64(rng::kPhiloxM1));
  return PhiloxLanes512{_mm512_ternarylogic_epi64(HighWordsAvx512(p1), s.c1, key0, kXor3), p1,
                        _mm512_ternarylogic_epi64(HighWordsAvx512(p0), s.c3, key1, kXor3), p0};
}

__attribute__((target("avx512f"), always_inline)) inline void StoreBlocksAvx512(
    const PhiloxLanes512& s, uint32_t* words) {
  // Odd words take the low word of their lane from c1 (c3): one in-lane shuffle each.
  const __m512i w01 = _mm512_mask_shuffle_epi32(s.c0, 0xaaaa, s.c1, _MM_PERM_CCAA);
  const __m512i w23 = _mm512_mask_shuffle_epi32(s.c2, 0xaaaa, s.c3, _MM_PERM_CCAA);
  // Block j is the 64-bit lane j of w01 followed by lane j of w23 (index 8 + j).
  _mm512_storeu_si512(words, _mm512_permutex2var_epi64(
                                 w01, _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), w23));
  _mm512_storeu_si512(words + 16, _mm512_permutex2var_epi64(
                                      w01, _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4), w23));
}

__attribute__((target("avx512f"))) void PhiloxBlocksAvx512(uint64_t seed,
                                                                uint64_t first_block,
                                                                int64_t count, uint32_t* words) {
  __m512i key0[rng::kPhiloxRounds], key1[rng::kPhiloxRounds];
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < rng::kPhiloxRounds; ++r) {
    key0[r] = _mm512_set1_epi64(k0);
    key1[r] = _mm512_set1_epi64(k1);
    k0 += rng::kPhiloxKeyBump0;
    k1 += rng::kPhiloxKeyBump1;
  }
  const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  constexpr int64_t kStep = 8 * kPhiloxSets512;
  int64_t k = 0;
  for (; k + kStep <= count; k += kStep) {
    PhiloxLanes512 s[kPhiloxSets512];
#pragma GCC unroll 4
    for (int g = 0; g < kPhiloxSets512; ++g) {
      const uint64_t block = first_block + static_cast<uint64_t>(k + 8 * g);
      s[g] = FirstPhiloxRoundAvx512(
          _mm512_add_epi64(_mm512_set1_epi64(static_cast<int64_t>(block)), lanes), key0[0],
          key1[0]);
    }
#pragma GCC unroll 16
    for (int r = 1; r < rng::kPhiloxRounds; ++r) {
#pragma GCC unroll 4
      for (int g = 0; g < kPhiloxSets512; ++g) s[g] = PhiloxRoundAvx512(s[g], key0[r], key1[r]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < kPhiloxSets512; ++g) StoreBlocksAvx512(s[g], words + 4 * (k + 8 * g));
  }
  PhiloxBlocksPortable(seed, first_block + static_cast<uint64_t>(k), count - k, words + 4 * k);
}

#pragma GCC diagnostic pop

// ---- Non-temporal stores ----

// Copies `bytes` (a multiple of 64) from `from` to `to` (both 64-byte aligned) with
// non-temporal stores: they write whole cache lines to memory without first reading them
// in, so a fill too large to stay in the cache moves half the bytes. Callers fence with
// _mm_sfence before the data is published to other threads.
__attribute__((target("avx512f"))) void StreamAvx512(const void* from, size_t bytes, void* to) {
  for (size_t b = 0; b < bytes; b += 64) {
    _mm512_stream_si512(reinterpret_cast<__m512i*>(static_cast<char*>(to) + b),
                        _mm512_load_si512(static_cast<const char*>(from) + b));
  }
}

__attribute__((target("avx2"))) void StreamAvx2(const void* from, size_t bytes, void* to) {
  for (size_t b = 0; b < bytes; b += 32) {
    _mm256_stream_si256(reinterpret_cast<__m256i*>(static_cast<char*>(to) + b),
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(
                            static_cast<const char*>(from) + b)));
  }
}

// ---- Samplers over a tile of words ----

// Whether `Sampler` has IsCentral, GroupCentral and CentralShare: a faster Group for most
// elements (samplers.h).
template <typename Sampler>
constexpr bool kHasCentralGroup = requires(const Sampler& s, const uint32_t* w,
                                           typename Sampler::Value* v) {
  { s.IsCentral(w) } -> std::same_as<bool>;
  s.GroupCentral(w, v);
  { s.CentralShare() } -> std::same_as<double>;
};

// How a fill uses its sampler's central case.
enum class CentralCase {
  kNever,    // Group for every element
  kPerTile,  // GroupCentral for the tiles whose elements are all central, else Group
  kAlways,   // GroupCentral for every element: all are central
};

// The central case for a fill with `sampler`: checking each tile only pays where a tile of
// kTileBlocks * 4 elements is all central often enough.
template <typename Sampler>
CentralCase CentralCaseOf(const Sampler& sampler) {
  if constexpr (kHasCentralGroup<Sampler>) {
    const double share = sampler.CentralShare();
    if (share == 1.0) return CentralCase::kAlways;
    return std::pow(share, kTileBlocks * 4) >= 0.01 ? CentralCase::kPerTile
                                                     : CentralCase::kNever;
  } else {
    return CentralCase::kNever;
  }
}

// out[j] = element j of the groups whose words start at `words`, for `groups` groups. The
// one loop both paths compile: written once, so that they cannot differ.
template <typename Sampler, typename T>
__attribute__((always_inline)) inline void SampleGroups(const Sampler& sampler,
                                                        CentralCase central,
                                                        const uint32_t* __restrict words,
                                                        int64_t groups, T* __restrict out) {
  constexpr int kG = Sampler::kElementsPerGroup;
  constexpr int kGroupWords = kG * Sampler::kWordsPerElement;
  // A local copy: its parameters then live in registers, and the samplers' selects between
  // them are plain vector blends rather than conditional loads.
  const Sampler local = sampler;
  if constexpr (kHasCentralGroup<Sampler>) {
    static_assert(kG == 1);
    int32_t outside = 0;  // an int, not a bool, for GCC to vectorize the reduction
    if (central == CentralCase::kPerTile) {
      for (int64_t g = 0; g < groups; ++g) {
        outside |= local.IsCentral(words + g * kGroupWords) ? 0 : 1;
      }
    }
    if (central == CentralCase::kAlways || (central == CentralCase::kPerTile && outside == 0)) {
      for (int64_t g = 0; g < groups; ++g) {
        typename Sampler::Value value;
        local.GroupCentral(words + g * kGroupWords, &value);
        out[g] = CastElement<T>(value);
      }
      return;
    }
  }
  for (int64_t g = 0; g < groups; ++g) {
    typename Sampler::Value values[kG];
    local.Group(words + g * kGroupWords, values);
    for (int e = 0; e < kG; ++e) out[g * kG + e] = CastElement<T>(values[e]);
  }
}

// ---- Fills ----

// Elements per unit of work that the threads of one fill take in turn.
constexpr int64_t kUnitElements = 1 << 16;

// What every run of one fill shares.
template <typename Sampler>
struct FillSpec {
  Sampler sampler;
  uint64_t seed;
  uint64_t offset;
  RandomKernelPath path;
  bool stream;  // write whole tiles with non-temporal stores (vector paths only)
  CentralCase central;
};

// Fills of at least this many bytes stream their output past the cache: far larger than
// the cores' L2, so it would be evicted before use anyway. Smaller ones stay cached for the
// op that reads them next.
constexpr int64_t kStreamMinBytes = int64_t{32} << 20;

// Philox for `count` consecutive counter blocks (see PhiloxBlocksPortable) on `Path`.
template <RandomKernelPath Path>
__attribute__((always_inline)) inline void PhiloxBlocks(uint64_t seed, uint64_t first_block,
                                                        int64_t count, uint32_t* words) {
  if constexpr (Path == RandomKernelPath::kAvx512) {
    PhiloxBlocksAvx512(seed, first_block, count, words);
  } else if constexpr (Path == RandomKernelPath::kAvx2) {
    PhiloxBlocksAvx2(seed, first_block, count, words);
  } else {
    PhiloxBlocksPortable(seed, first_block, count, words);
  }
}

// Writes the elements of counter blocks [first_block, first_block + blocks) of the op's
// stream to out[0], out[stride], ..., a tile at a time. Written once for every path; each
// path's wrapper below compiles it, with everything it calls inlined, for its instruction
// set: a fill runs one vector function from its first tile to its last.
template <RandomKernelPath Path, typename Sampler, typename T>
__attribute__((always_inline)) inline void FillBlocks(const FillSpec<Sampler>& spec,
                                                      uint64_t first_block, int64_t blocks,
                                                      T* out, int64_t stride) {
  constexpr int64_t kPerBlock = 4 / Sampler::kWordsPerElement;  // elements per block
  alignas(64) uint32_t words[kTileBlocks * 4];
  alignas(64) T tile[kTileBlocks * kPerBlock];  // values to be streamed or scattered
  for (int64_t done = 0; done < blocks;) {
    const int64_t count = std::min<int64_t>(kTileBlocks, blocks - done);
    T* const target = out + done * kPerBlock;
    const bool stream = Path != RandomKernelPath::kPortable && spec.stream && stride == 1 &&
                        count == kTileBlocks && reinterpret_cast<uintptr_t>(target) % 64 == 0;
    PhiloxBlocks<Path>(spec.seed, first_block + static_cast<uint64_t>(done), count, words);
    SampleGroups(spec.sampler, spec.central, words,
                 count * kPerBlock / Sampler::kElementsPerGroup,
                 stride == 1 && !stream ? target : tile);
    if (stream) {
      if constexpr (Path == RandomKernelPath::kAvx512) StreamAvx512(tile, sizeof(tile), target);
      if constexpr (Path == RandomKernelPath::kAvx2) StreamAvx2(tile, sizeof(tile), target);
    } else if (stride != 1) {
      for (int64_t k = 0; k < count * kPerBlock; ++k) {
        out[(done * kPerBlock + k) * stride] = tile[k];
      }
    }
    done += count;
  }
}

template <typename Sampler, typename T>
void FillBlocksPortable(const FillSpec<Sampler>& spec, uint64_t first_block, int64_t blocks,
                        T* out, int64_t stride) {
  FillBlocks<RandomKernelPath::kPortable>(spec, first_block, blocks, out, stride);
}

// With AVX2 and FMA enabled; `flatten` (with the inlining limits in BUILD) inlines the
// samplers' math so that it vectorizes. FMA only where the math calls Fma explicitly
// (-ffp-contract=off).
template <typename Sampler, typename T>
__attribute__((target("avx2,fma"), flatten)) void FillBlocksAvx2(const FillSpec<Sampler>& spec,
                                                                uint64_t first_block,
                                                                int64_t blocks, T* out,
                                                                int64_t stride) {
  FillBlocks<RandomKernelPath::kAvx2>(spec, first_block, blocks, out, stride);
  _mm_sfence();
  _mm256_zeroupper();
}

// And with AVX-512, preferring 512-bit vectors (a GCC target option; clang, which only
// the fuzzing build uses, does not know it).
template <typename Sampler, typename T>
#if defined(__clang__)
__attribute__((target("avx,avx2,avx512f,avx512dq,avx512vl,avx512bw,fma"), flatten)) void
#else
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma,prefer-vector-width=512"),
               flatten)) void
#endif
FillBlocksAvx512(const FillSpec<Sampler>& spec, uint64_t first_block, int64_t blocks, T* out,
                 int64_t stride) {
  FillBlocks<RandomKernelPath::kAvx512>(spec, first_block, blocks, out, stride);
  _mm_sfence();
  _mm256_zeroupper();
}

// Writes elements [first, first + count) of the op's stream to out[0], out[stride], ...
template <typename Sampler, typename T>
void FillRun(const FillSpec<Sampler>& spec, int64_t first, int64_t count, T* out,
             int64_t stride) {
  constexpr int64_t kPerBlock = 4 / Sampler::kWordsPerElement;  // elements per block
  const auto sample_one = [&](int64_t k) {
    out[k * stride] = CastElement<T>(
        rng::SampleAt(spec.sampler, spec.seed, spec.offset, static_cast<uint64_t>(first + k)));
  };
  int64_t done = 0;
  for (; done < count && (first + done) % kPerBlock != 0; ++done) sample_one(done);
  const int64_t blocks = (count - done) / kPerBlock;
  if (blocks > 0) {
    const uint64_t first_block = spec.offset + static_cast<uint64_t>((first + done) / kPerBlock);
    T* const dst = out + done * stride;
    switch (spec.path) {
      case RandomKernelPath::kAvx512:
        FillBlocksAvx512(spec, first_block, blocks, dst, stride);
        break;
      case RandomKernelPath::kAvx2:
        FillBlocksAvx2(spec, first_block, blocks, dst, stride);
        break;
      case RandomKernelPath::kPortable:
        FillBlocksPortable(spec, first_block, blocks, dst, stride);
        break;
    }
    done += blocks * kPerBlock;
  }
  for (; done < count; ++done) sample_one(done);
}

// Fills `out` (any strides) with `sampler`: element j of out is element
// GlobalIndexMapOf(attrs) (j) of the op's stream at attrs "seed" and "offset".
template <typename T, typename Sampler>
void Fill(const OpCall& call, const Tensor& out, const Sampler& sampler) {
  if (out.numel() == 0) return;
  const FillSpec<Sampler> spec{
      sampler, std::bit_cast<uint64_t>(call.attrs.Get<int64_t>("seed")),
      std::bit_cast<uint64_t>(call.attrs.Get<int64_t>("offset")), ActiveRandomKernelPath(),
      out.numel() * static_cast<int64_t>(sizeof(T)) >= kStreamMinBytes,
      CentralCaseOf(sampler)};
  const GlobalIndexMap map = GlobalIndexMapOf(call.attrs, out.sizes());

  // Dims of size > 1, with neighbours merged where both the memory strides and the stream
  // index strides nest, so a contiguous fill is a single run.
  Shape sizes, strides, index_strides;
  for (size_t d = 0; d < out.sizes().size(); ++d) {
    if (out.sizes()[d] == 1) continue;
    if (!sizes.empty() && strides.back() == out.strides()[d] * out.sizes()[d] &&
        index_strides.back() == map.strides[d] * out.sizes()[d]) {
      sizes.back() *= out.sizes()[d];
      strides.back() = out.strides()[d];
      index_strides.back() = map.strides[d];
    } else {
      sizes.push_back(out.sizes()[d]);
      strides.push_back(out.strides()[d]);
      index_strides.push_back(map.strides[d]);
    }
  }
  // Runs follow consecutive stream indices; if the innermost dim skips some (a region
  // narrower than the whole), every element is its own run.
  if (sizes.empty() || index_strides.back() != 1) {
    sizes.push_back(1);
    strides.push_back(1);
    index_strides.push_back(1);
  }
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int64_t inner = sizes.back();
  T* const base = out.data_ptr<T>();

  // Fills elements [begin, end) of out's row-major order, run by run.
  const auto fill_range = [&](int64_t begin, int64_t end) {
    Shape index(ndim);
    int64_t rest = begin;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      index[d] = rest % sizes[d];
      rest /= sizes[d];
    }
    for (int64_t position = begin; position < end;) {
      const int64_t length = std::min(inner - index[ndim - 1], end - position);
      int64_t memory = 0, stream = map.offset;
      for (int64_t d = 0; d < ndim; ++d) {
        memory += index[d] * strides[d];
        stream += index[d] * index_strides[d];
      }
      FillRun(spec, stream, length, base + memory, strides.back());
      position += length;
      index[ndim - 1] += length - 1;
      for (int64_t d = ndim - 1; d >= 0; --d) {  // carry to the next run's index
        if (++index[d] < sizes[d]) break;
        index[d] = 0;
      }
    }
  };
  // Each thread takes the next unit until none is left, so a thread that the OS slows down
  // takes fewer units instead of holding the others up. Which thread fills a unit changes
  // no value.
  const int64_t numel = out.numel();
  const int64_t units = (numel + kUnitElements - 1) / kUnitElements;
  std::atomic<int64_t> next_unit{0};
  ParallelFor(std::min<int64_t>(NumThreads(), units), 1, [&](int64_t, int64_t) {
    for (int64_t unit = next_unit++; unit < units; unit = next_unit++) {
      fill_range(unit * kUnitElements, std::min(numel, (unit + 1) * kUnitElements));
    }
  });
}

// Calls fn.template operator()<P, T>() with the sampler precision and element type of a
// floating dtype (the shape rules admit only those).
template <typename Fn>
void VisitFloating(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn.template operator()<rng::Precision::kFloat32, float>();
    case DType::kFloat64: return fn.template operator()<rng::Precision::kFloat64, double>();
    case DType::kFloat16: return fn.template operator()<rng::Precision::kFloat16, Half>();
    case DType::kBFloat16: return fn.template operator()<rng::Precision::kBFloat16, BFloat16>();
    default: ThrowError("random kernel: %s is not a floating dtype", DTypeName(dtype));
  }
}

void UniformKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const double from = call.attrs.Get<double>("from"), to = call.attrs.Get<double>("to");
  VisitFloating(outputs[0].dtype(), [&]<rng::Precision P, typename T>() {
    Fill<T>(call, outputs[0], rng::MakeUniformSampler<P>(from, to));
  });
}

void NormalKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const double mean = call.attrs.Get<double>("mean"), std = call.attrs.Get<double>("std");
  VisitFloating(outputs[0].dtype(), [&]<rng::Precision P, typename T>() {
    Fill<T>(call, outputs[0], rng::MakeNormalSampler<P>(mean, std));
  });
}

void TruncNormalKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const double mean = call.attrs.Get<double>("mean"), std = call.attrs.Get<double>("std");
  const double a = call.attrs.Get<double>("a"), b = call.attrs.Get<double>("b");
  VisitFloating(outputs[0].dtype(), [&]<rng::Precision P, typename T>() {
    Fill<T>(call, outputs[0], rng::MakeTruncNormalSampler<P>(mean, std, a, b));
  });
}

void RandomKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const int64_t from = call.attrs.Get<int64_t>("from");
  const int64_t to_inclusive = call.attrs.Get<int64_t>("to_inclusive");
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    if (rng::RandomWordsPerElement(from, to_inclusive) == 1) {
      Fill<T>(call, outputs[0], rng::MakeRandomSampler<1>(from, to_inclusive));
    } else {
      Fill<T>(call, outputs[0], rng::MakeRandomSampler<2>(from, to_inclusive));
    }
  });
}

void BernoulliKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const rng::BernoulliSampler sampler = rng::MakeBernoulliSampler(call.attrs.Get<double>("p"));
  VisitDType(outputs[0].dtype(), [&]<typename T>() { Fill<T>(call, outputs[0], sampler); });
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterKernel("uniform_", DeviceType::kCPU, UniformKernel);
  registry.RegisterKernel("normal_", DeviceType::kCPU, NormalKernel);
  registry.RegisterKernel("trunc_normal_", DeviceType::kCPU, TruncNormalKernel);
  registry.RegisterKernel("random_", DeviceType::kCPU, RandomKernel);
  registry.RegisterKernel("bernoulli_", DeviceType::kCPU, BernoulliKernel);
  return true;
}();

}  // namespace

const char* RandomKernelPathName(RandomKernelPath path) {
  switch (path) {
    case RandomKernelPath::kPortable: return "portable";
    case RandomKernelPath::kAvx2: return "avx2";
    case RandomKernelPath::kAvx512: return "avx512";
  }
  return "unknown";
}

void SetRandomKernelPath(RandomKernelPath path) { path_cap.store(path); }

RandomKernelPath GetRandomKernelPath() { return path_cap.load(); }

RandomKernelPath ActiveRandomKernelPath() { return std::min(GetRandomKernelPath(), CpuPath()); }

}  // namespace deferred
