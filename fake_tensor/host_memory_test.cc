#include "fake_tensor/host_memory.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sanitizer/asan_interface.h>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// What /proc/self/smaps says of the mapping that holds `address`; nullopt when none does.
struct Mapping {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  int64_t rss_bytes = 0;
  std::string flags;  // VmFlags: "hg" marks MADV_HUGEPAGE
};

std::optional<Mapping> MappingOf(const void* address) {
  const uintptr_t target = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  std::optional<Mapping> found;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> begin >> dash >> end && dash == '-' &&
        line.find(':') > line.find(' ')) {
      if (found) return found;  // the next mapping starts: the one found is complete
      if (begin <= target && target < end) found = Mapping{begin, end};
      continue;
    }
    if (!found) continue;
    if (line.rfind("Rss:", 0) == 0) found->rss_bytes = std::stoll(line.substr(4)) * 1024;
    if (line.rfind("VmFlags:", 0) == 0) found->flags = line.substr(8) + " ";
  }
  return found;
}

bool TransparentHugePagesAvailable() {
  std::ifstream enabled("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(enabled, modes);
  return modes.find("[never]") == std::string::npos && !modes.empty();
}

class HostMemoryTest : public ::testing::Test {
 protected:
  void TearDown() override { SetHugePagePolicy(HugePagePolicy::kAdvise); }
};

TEST_F(HostMemoryTest, EveryBlockIsCacheLineAlignedAndWritable) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{256}, size_t{257},
                       kMappedBlockBytes - 1, kMappedBlockBytes, kMappedBlockBytes + 4097,
                       9 * kMiB + 64}) {
    for (HugePagePolicy policy : {HugePagePolicy::kAdvise, HugePagePolicy::kNone}) {
      SetHugePagePolicy(policy);
      std::byte* block = AllocateHostBlock(bytes);
      ASSERT_NE(block, nullptr) << bytes;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 64, 0u) << bytes;
      std::memset(block, 0x5a, bytes);
      FreeHostBlock(block, bytes);
    }
  }
}

TEST_F(HostMemoryTest, MappedBlocksAreHugePageAlignedAndAdvised) {
  const size_t bytes = 6 * kMiB + 12345;
  std::byte* block = AllocateHostBlock(bytes);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % (2 * kMiB), 0u);
  const std::optional<Mapping> mapping = MappingOf(block);
  ASSERT_TRUE(mapping.has_value());
  if (TransparentHugePagesAvailable()) {
    EXPECT_NE(mapping->flags.find(" hg "), std::string::npos) << mapping->flags;
  }
  FreeHostBlock(block, bytes);
  EXPECT_FALSE(MappingOf(block).has_value()) << "a freed mapped block is returned to the system";
}

TEST_F(HostMemoryTest, PolicyNoneMapsWithoutAdvice) {
  SetHugePagePolicy(HugePagePolicy::kNone);
  const size_t bytes = 6 * kMiB;
  std::byte* block = AllocateHostBlock(bytes);
  ASSERT_NE(block, nullptr);
  const std::optional<Mapping> mapping = MappingOf(block);
  ASSERT_TRUE(mapping.has_value());
  EXPECT_EQ(mapping->flags.find(" hg "), std::string::npos) << mapping->flags;
  FreeHostBlock(block, bytes);
}

// Huge pages must not cost resident memory beyond the bytes asked for: the mapping ends
// with the block, so its tail is never backed by a whole 2 MiB page.
TEST_F(HostMemoryTest, ResidentBytesOfAWrittenBlockStayWithinItsPages) {
  for (size_t bytes : {kMappedBlockBytes + 1, 5 * kMiB + 4096 * 3 + 17, 8 * kMiB}) {
    std::byte* block = AllocateHostBlock(bytes);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, bytes);
    const std::optional<Mapping> mapping = MappingOf(block);
    ASSERT_TRUE(mapping.has_value());
    const size_t pages = (bytes + 4095) / 4096 * 4096;
    EXPECT_EQ(mapping->begin, reinterpret_cast<uintptr_t>(block));
    EXPECT_EQ(mapping->end - mapping->begin, pages) << bytes;
    EXPECT_LE(mapping->rss_bytes, static_cast<int64_t>(pages)) << bytes;
    FreeHostBlock(block, bytes);
  }
}

TEST_F(HostMemoryTest, ScopedBlockReuseHandsBackAFreedBlockOfTheSameSize) {
  const size_t bytes = 5 * kMiB;
  ScopedBlockReuse reuse;
  std::byte* first = AllocateHostBlock(bytes);
  ASSERT_NE(first, nullptr);
  std::memset(first, 7, bytes);
  FreeHostBlock(first, bytes);
  EXPECT_TRUE(MappingOf(first).has_value()) << "kept while the scope lives";

  std::byte* other_size = AllocateHostBlock(bytes + 8192);
  EXPECT_NE(other_size, first);
  EXPECT_EQ(reuse.reused_blocks(), 0);

  std::byte* second = AllocateHostBlock(bytes);
  EXPECT_EQ(second, first);
  EXPECT_EQ(reuse.reused_blocks(), 1);
  FreeHostBlock(second, bytes);
  FreeHostBlock(other_size, bytes + 8192);
}

TEST_F(HostMemoryTest, ScopeEndReturnsKeptBlocksToTheSystem) {
  const size_t bytes = 5 * kMiB;
  std::byte* block;
  {
    ScopedBlockReuse reuse;
    block = AllocateHostBlock(bytes);
    ASSERT_NE(block, nullptr);
    FreeHostBlock(block, bytes);
    ASSERT_TRUE(MappingOf(block).has_value());
  }
  EXPECT_FALSE(MappingOf(block).has_value());
}

TEST_F(HostMemoryTest, NestedScopesShareWhatTheyKeep) {
  const size_t bytes = 5 * kMiB;
  ScopedBlockReuse outer;
  std::byte* kept_by_outer = AllocateHostBlock(bytes);
  FreeHostBlock(kept_by_outer, bytes);
  std::byte* kept_by_inner;
  {
    ScopedBlockReuse inner;
    std::byte* taken = AllocateHostBlock(bytes);
    EXPECT_EQ(taken, kept_by_outer) << "an inner scope takes what an outer one kept";
    EXPECT_EQ(inner.reused_blocks(), 1);
    kept_by_inner = AllocateHostBlock(bytes);
    FreeHostBlock(kept_by_inner, bytes);
    FreeHostBlock(taken, bytes);
  }
  EXPECT_TRUE(MappingOf(kept_by_inner).has_value()) << "handed to the outer scope";
  std::byte* first = AllocateHostBlock(bytes);
  std::byte* second = AllocateHostBlock(bytes);
  EXPECT_EQ(outer.reused_blocks(), 3) << "the inner scope's reuse, and these two";
  EXPECT_TRUE((first == kept_by_outer && second == kept_by_inner) ||
              (first == kept_by_inner && second == kept_by_outer));
  FreeHostBlock(first, bytes);
  FreeHostBlock(second, bytes);
}

TEST_F(HostMemoryTest, BlocksFreedOnAnotherThreadAreUnmapped) {
  const size_t bytes = 5 * kMiB;
  ScopedBlockReuse reuse;
  std::byte* block = AllocateHostBlock(bytes);
  ASSERT_NE(block, nullptr);
  std::thread([&] { FreeHostBlock(block, bytes); }).join();
  EXPECT_FALSE(MappingOf(block).has_value());
  std::byte* again = AllocateHostBlock(bytes);
  EXPECT_EQ(reuse.reused_blocks(), 0);
  FreeHostBlock(again, bytes);
}

TEST_F(HostMemoryTest, ScopesKeepOnlyMappedBlocks) {
  ScopedBlockReuse reuse;
  for (int i = 0; i < 100; ++i) {
    std::byte* block = AllocateHostBlock(1000);
    ASSERT_NE(block, nullptr);
    FreeHostBlock(block, 1000);
  }
  EXPECT_EQ(reuse.reused_blocks(), 0);
}

TEST_F(HostMemoryTest, AFreedTinyBlockServesTheNextAllocationOfItsSizeClass) {
  std::byte* block = AllocateHostBlock(4);
  FreeHostBlock(block, 4);
  std::byte* larger_class = AllocateHostBlock(65);
  EXPECT_NE(larger_class, block) << "65 bytes take a 128-byte block";
  std::byte* same_class = AllocateHostBlock(64);
  EXPECT_EQ(same_class, block);
  std::memset(same_class, 0x5a, 64);
  FreeHostBlock(same_class, 64);
  FreeHostBlock(larger_class, 65);
}

TEST_F(HostMemoryTest, AThreadKeepsAtMost256TinyBlocksOfAClass) {
  std::thread([] {
    std::vector<std::byte*> blocks;
    for (int i = 0; i < 300; ++i) blocks.push_back(AllocateHostBlock(200));
    for (std::byte* block : blocks) FreeHostBlock(block, 200);
    // The first 256 freed were kept, and are taken back last freed first; the 44 freed
    // after them went back to the system.
    std::vector<std::byte*> taken;
    for (int i = 0; i < 256; ++i) taken.push_back(AllocateHostBlock(256));
    for (int i = 0; i < 256; ++i) EXPECT_EQ(taken[i], blocks[255 - i]) << i;
    for (std::byte* block : taken) FreeHostBlock(block, 256);
  }).join();
}

TEST_F(HostMemoryTest, TinyBlocksFreedOnAnotherThreadServeThatThread) {
  std::byte* block = AllocateHostBlock(32);
  std::byte* taken_there = nullptr;
  std::thread([&] {
    FreeHostBlock(block, 32);
    taken_there = AllocateHostBlock(48);
    FreeHostBlock(taken_there, 48);
  }).join();  // the thread's exit frees what it kept
  EXPECT_EQ(taken_there, block);
}

TEST_F(HostMemoryTest, AKeptTinyBlockIsPoisonedForAddressSanitizer) {
#if defined(__SANITIZE_ADDRESS__)
  std::byte* block = AllocateHostBlock(8);
  FreeHostBlock(block, 8);
  EXPECT_TRUE(__asan_address_is_poisoned(block));
  std::byte* again = AllocateHostBlock(8);
  ASSERT_EQ(again, block);
  EXPECT_FALSE(__asan_address_is_poisoned(again));
  FreeHostBlock(again, 8);
#else
  GTEST_SKIP() << "only AddressSanitizer builds poison memory";
#endif
}

TEST_F(HostMemoryTest, SmallWorkingArraysComeFromTheHeap) {
  std::vector<int64_t, WorkingArrayAllocator<int64_t>> numbers(1000);
  for (size_t i = 0; i < numbers.size(); ++i) numbers[i] = static_cast<int64_t>(i) * 3;
  const std::optional<Mapping> mapping = MappingOf(numbers.data());
  ASSERT_TRUE(mapping.has_value());
  EXPECT_EQ(mapping->flags.find(" hg "), std::string::npos) << mapping->flags;
  EXPECT_EQ(numbers[999], 2997);
}

TEST_F(HostMemoryTest, LargeWorkingArraysAreMappedOnHugePagesAndUnmappedWhenFreed) {
  const size_t count = kMappedWorkingArrayBytes / sizeof(int32_t) + 1000;
  const int32_t* data;
  {
    std::vector<int32_t, WorkingArrayAllocator<int32_t>> numbers(count, 7);
    data = numbers.data();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % (2 * kMiB), 0u);
    const std::optional<Mapping> mapping = MappingOf(data);
    ASSERT_TRUE(mapping.has_value());
    EXPECT_EQ(mapping->end - mapping->begin, (count * sizeof(int32_t) + 4095) / 4096 * 4096);
    if (TransparentHugePagesAvailable()) {
      EXPECT_NE(mapping->flags.find(" hg "), std::string::npos) << mapping->flags;
    }
    EXPECT_EQ(numbers.front(), 7);
    EXPECT_EQ(numbers.back(), 7);
  }
  EXPECT_FALSE(MappingOf(data).has_value());
}

TEST_F(HostMemoryTest, ScopesNeverKeepWorkingArrays) {
  const size_t bytes = kMappedWorkingArrayBytes;
  ScopedBlockReuse reuse;
  void* array = AllocateWorkingArray(bytes);
  FreeWorkingArray(array, bytes);
  EXPECT_FALSE(MappingOf(array).has_value());
  std::byte* block = AllocateHostBlock(bytes);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(reuse.reused_blocks(), 0);
  FreeHostBlock(block, bytes);
}

TEST_F(HostMemoryTest, AWorkingArrayTooLargeToCountIsRefused) {
  WorkingArrayAllocator<int64_t> allocator;
  EXPECT_THROW(allocator.allocate(std::numeric_limits<size_t>::max() / 4),
               std::bad_array_new_length);
}

TEST_F(HostMemoryTest, WorkingArrayAllocatorsWorkInHashMaps) {
  absl::flat_hash_map<int64_t, int32_t, absl::Hash<int64_t>, std::equal_to<int64_t>,
                      WorkingArrayAllocator<std::pair<const int64_t, int32_t>>>
      map;
  // Enough entries that the table outgrows kMappedWorkingArrayBytes: its growth frees
  // heap arrays, then mapped ones.
  constexpr int32_t kEntries = 2'200'000;
  for (int32_t i = 0; i < kEntries; ++i) map[int64_t{i} * 7919] = i;
  ASSERT_EQ(map.size(), static_cast<size_t>(kEntries));
  for (int32_t i = 0; i < kEntries; i += 997) EXPECT_EQ(map.at(int64_t{i} * 7919), i);
}

}  // namespace
}  // namespace deferred
