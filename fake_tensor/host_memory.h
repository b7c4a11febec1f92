#ifndef DEFERRED_FAKE_TENSOR_HOST_MEMORY_H_
#define DEFERRED_FAKE_TENSOR_HOST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

namespace deferred {

// Where host tensor data comes from. Blocks of kMappedBlockBytes or more are mapped from
// the system and unmapped when freed, so that freed tensor data leaves the process (from
// malloc, glibc keeps it in a heap it rarely trims). Smaller blocks come from malloc;
// blocks of at most 256 bytes that a thread frees are kept for its next allocations of
// the same size, as a tensor of a few elements is made and freed per op. The choice and
// the alternatives measured are in benchmarks/RESULTS.md ("Fresh memory").
constexpr size_t kMappedBlockBytes = size_t{4} << 20;

// How mapped blocks are laid out.
enum class HugePagePolicy {
  // Aligned to 2 MiB and advised for transparent huge pages (MADV_HUGEPAGE), where the
  // system offers them: first touch then takes one fault per 2 MiB instead of per 4 KiB,
  // which on the VMs measured is what bounds writing into fresh memory. The default.
  kAdvise,
  // Mapped as the system places it, 4 KiB pages (the policy before; kept to measure).
  kNone,
};

// Sets the policy for blocks mapped from now on; returns the previous one.
HugePagePolicy SetHugePagePolicy(HugePagePolicy policy);

// `bytes` uninitialized bytes (at least one: a zero-byte tensor still has an address),
// 64-byte aligned; null when the system has none.
std::byte* AllocateHostBlock(size_t bytes);

// Returns a block from AllocateHostBlock(bytes), with the same `bytes`.
void FreeHostBlock(std::byte* block, size_t bytes);

// Working arrays of at least this many bytes are mapped: glibc's malloc maps them itself
// (32 MiB is its largest mmap threshold), fresh on 4 KiB pages at every allocation, where
// smaller ones come back from its heap already faulted in.
constexpr size_t kMappedWorkingArrayBytes = size_t{32} << 20;
// Memory for a large working array of the runtime itself (a replay plan's numbers, say),
// not tensor data: arrays of kMappedWorkingArrayBytes or more are mapped under the
// huge-page policy, as tensor blocks are, and unmapped when freed (ScopedBlockReuse never
// keeps them, and the allocation counters of tensor data do not count them); smaller ones
// come from operator new. Throws std::bad_alloc when the system has no memory.
void* AllocateWorkingArray(size_t bytes);
// Frees an array from AllocateWorkingArray(bytes), with the same `bytes`.
void FreeWorkingArray(void* array, size_t bytes);

// A standard allocator over AllocateWorkingArray, for the vectors and hash maps that grow
// with the length of a trace. Planning a replay of a million small ops fills about 250 MB
// of them on every run; on 4 KiB pages, first touching them cost more than the replay's
// own work (benchmarks/RESULTS.md, "Replay overhead on one-element ops").
template <typename T>
class WorkingArrayAllocator {
 public:
  using value_type = T;
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

  WorkingArrayAllocator() = default;
  template <typename U>
  WorkingArrayAllocator(const WorkingArrayAllocator<U>&) {}  // NOLINT: allocators convert

  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(AllocateWorkingArray(n * sizeof(T)));
  }
  void deallocate(T* array, size_t n) { FreeWorkingArray(array, n * sizeof(T)); }

  template <typename U>
  friend bool operator==(const WorkingArrayAllocator&, const WorkingArrayAllocator<U>&) {
    return true;
  }
};

// While alive, mapped blocks freed on the thread that created it are kept, still mapped,
// instead of being unmapped, and a later AllocateHostBlock of the same size on that thread
// takes one back: its pages are already faulted in. A replay session holds one, so the
// memory of an intermediate it frees is written again at the speed of mapped memory.
// Scopes nest: frees go to the innermost, an allocation takes a block from the innermost
// scope that has one, and a scope's end hands what it kept to the enclosing scope, or
// unmaps it when there is none. Blocks freed on other threads are unmapped as usual.
class ScopedBlockReuse {
 public:
  ScopedBlockReuse();
  ~ScopedBlockReuse();
  ScopedBlockReuse(const ScopedBlockReuse&) = delete;
  ScopedBlockReuse& operator=(const ScopedBlockReuse&) = delete;

  // Allocations made on its thread while it was alive that took a kept block (from any
  // scope).
  int64_t reused_blocks() const { return reused_blocks_; }

 private:
  friend std::byte* AllocateHostBlock(size_t bytes);
  friend void FreeHostBlock(std::byte* block, size_t bytes);

  struct Block {
    std::byte* data;
    size_t bytes;
  };
  std::vector<Block> kept_;
  int64_t reused_blocks_ = 0;
  ScopedBlockReuse* enclosing_;
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_HOST_MEMORY_H_
