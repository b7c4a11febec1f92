#include "fake_tensor/host_memory.h"

#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace deferred {
namespace {

// Cache-line alignment lets vectorized kernels use aligned loads on contiguous tensors.
constexpr size_t kAlignment = 64;
constexpr size_t kPageBytes = 4096;
constexpr size_t kHugePageBytes = size_t{2} << 20;

std::atomic<HugePagePolicy> huge_page_policy{HugePagePolicy::kAdvise};

thread_local ScopedBlockReuse* innermost_reuse = nullptr;

size_t RoundUp(size_t bytes, size_t multiple) {
  return (bytes + multiple - 1) / multiple * multiple;
}

// Blocks of at most kLargestBlock bytes that a thread freed, kept by size class (multiples
// of kAlignment) for its next allocations of that class. A tensor of a few elements then
// costs a pop instead of aligned_alloc, which spends hundreds of instructions on a block
// this small (and glibc's per-thread cache does not serve aligned requests). At most
// kBlocksPerClass are kept per class, and a thread frees its blocks when it exits. Under
// AddressSanitizer a kept block is poisoned, so that a read of freed tensor data is still
// reported.
class TinyBlockCache {
 public:
  static constexpr size_t kLargestBlock = 256;
  static constexpr size_t kBlocksPerClass = 256;

  ~TinyBlockCache();

  // A kept block of `rounded` bytes (a multiple of kAlignment, at most kLargestBlock), or
  // null when none is kept.
  std::byte* Take(size_t rounded) {
    std::vector<std::byte*>& kept = kept_[ClassOf(rounded)];
    if (kept.empty()) return nullptr;
    std::byte* block = kept.back();
    kept.pop_back();
    ASAN_UNPOISON_MEMORY_REGION(block, rounded);
    return block;
  }

  // Keeps `block` of `rounded` bytes, or returns false when its class is full.
  bool Keep(std::byte* block, size_t rounded) {
    std::vector<std::byte*>& kept = kept_[ClassOf(rounded)];
    if (kept.size() == kBlocksPerClass) return false;
    ASAN_POISON_MEMORY_REGION(block, rounded);
    kept.push_back(block);
    return true;
  }

 private:
  static size_t ClassOf(size_t rounded) { return rounded / kAlignment - 1; }

  std::array<std::vector<std::byte*>, kLargestBlock / kAlignment> kept_;
};

thread_local TinyBlockCache tiny_blocks;
// Set when this thread's cache is destroyed: tensors freed later in the thread's exit (or,
// on the main thread, by static destructors) go straight back to the system. Trivially
// destructible, so it can be read at any time.
thread_local bool tiny_blocks_gone = false;

TinyBlockCache::~TinyBlockCache() {
  tiny_blocks_gone = true;
  for (std::vector<std::byte*>& kept : kept_) {
    for (std::byte* block : kept) std::free(block);
  }
}

// The bytes malloc serves for a block of `bytes` (under kMappedBlockBytes).
size_t HeapBlockBytes(size_t bytes) { return RoundUp(bytes == 0 ? 1 : bytes, kAlignment); }

// This thread's cache when it keeps blocks of `rounded` bytes and still exists; else null.
TinyBlockCache* TinyBlocksFor(size_t rounded) {
  return rounded <= TinyBlockCache::kLargestBlock && !tiny_blocks_gone ? &tiny_blocks : nullptr;
}

// Maps `length` bytes starting on a 2 MiB boundary: a huge page can only back a 2 MiB
// range aligned in both the virtual and the physical space. The mapping's end is not
// rounded up, so its last partial 2 MiB stays on 4 KiB pages and resident memory never
// exceeds the block's bytes by more than a page.
std::byte* MapHugeAligned(size_t length) {
  const size_t padded = length + kHugePageBytes - kPageBytes;
  void* mapped =
      ::mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = RoundUp(start, kHugePageBytes);
  if (aligned > start) ::munmap(mapped, aligned - start);
  const uintptr_t end = start + padded;
  if (end > aligned + length) {
    ::munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  }
  // Advice only: a kernel without transparent huge pages refuses it, and the block is
  // still good memory on 4 KiB pages.
  ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  return reinterpret_cast<std::byte*>(aligned);
}

std::byte* MapBlock(size_t length) {
  if (huge_page_policy.load(std::memory_order_relaxed) == HugePagePolicy::kAdvise) {
    return MapHugeAligned(length);
  }
  void* mapped =
      ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return mapped == MAP_FAILED ? nullptr : static_cast<std::byte*>(mapped);
}

}  // namespace

HugePagePolicy SetHugePagePolicy(HugePagePolicy policy) {
  return huge_page_policy.exchange(policy);
}

std::byte* AllocateHostBlock(size_t bytes) {
  if (bytes < kMappedBlockBytes) {
    const size_t rounded = HeapBlockBytes(bytes);
    if (TinyBlockCache* tiny = TinyBlocksFor(rounded)) {
      if (std::byte* block = tiny->Take(rounded)) return block;
    }
    return static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded));
  }
  const size_t length = RoundUp(bytes, kPageBytes);
  for (ScopedBlockReuse* reuse = innermost_reuse; reuse != nullptr; reuse = reuse->enclosing_) {
    for (size_t i = 0; i < reuse->kept_.size(); ++i) {
      if (reuse->kept_[i].bytes != length) continue;
      std::byte* block = reuse->kept_[i].data;
      reuse->kept_[i] = reuse->kept_.back();
      reuse->kept_.pop_back();
      for (ScopedBlockReuse* scope = innermost_reuse; scope != nullptr;
           scope = scope->enclosing_) {
        ++scope->reused_blocks_;
      }
      return block;
    }
  }
  return MapBlock(length);
}

void FreeHostBlock(std::byte* block, size_t bytes) {
  if (bytes < kMappedBlockBytes) {
    const size_t rounded = HeapBlockBytes(bytes);
    TinyBlockCache* tiny = TinyBlocksFor(rounded);
    if (tiny == nullptr || !tiny->Keep(block, rounded)) std::free(block);
    return;
  }
  const size_t length = RoundUp(bytes, kPageBytes);
  if (ScopedBlockReuse* reuse = innermost_reuse) {
    reuse->kept_.push_back({block, length});
    return;
  }
  ::munmap(block, length);
}

void* AllocateWorkingArray(size_t bytes) {
  if (bytes < kMappedWorkingArrayBytes) return ::operator new(bytes);
  std::byte* array = MapBlock(RoundUp(bytes, kPageBytes));
  if (array == nullptr) throw std::bad_alloc();
  return array;
}

void FreeWorkingArray(void* array, size_t bytes) {
  if (bytes < kMappedWorkingArrayBytes) {
    ::operator delete(array, bytes);
    return;
  }
  ::munmap(array, RoundUp(bytes, kPageBytes));
}

ScopedBlockReuse::ScopedBlockReuse() : enclosing_(innermost_reuse) { innermost_reuse = this; }

ScopedBlockReuse::~ScopedBlockReuse() {
  innermost_reuse = enclosing_;
  if (enclosing_ != nullptr) {
    enclosing_->kept_.insert(enclosing_->kept_.end(), kept_.begin(), kept_.end());
    return;
  }
  for (const Block& block : kept_) ::munmap(block.data, block.bytes);
}

}  // namespace deferred
