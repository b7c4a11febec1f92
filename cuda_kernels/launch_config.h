#ifndef DEFERRED_CUDA_KERNELS_LAUNCH_CONFIG_H_
#define DEFERRED_CUDA_KERNELS_LAUNCH_CONFIG_H_

#include <cstdint>

namespace deferred::cuda {

// A one-dimensional launch: `blocks` blocks of `threads_per_block` threads. Every kernel
// here walks its work items with a grid-stride loop (thread t takes items t, t + threads(),
// ...), so any launch covers any number of items and no item depends on which thread
// computes it; the host grid emulator (grid_emulator.h) relies on both.
struct LaunchConfig {
  int64_t blocks = 0;
  int32_t threads_per_block = 0;

  constexpr int64_t threads() const { return blocks * threads_per_block; }
};

inline constexpr int32_t kThreadsPerBlock = 256;
// Enough blocks to fill any current GPU several times over (an H100 runs 132 SMs x 8
// blocks of 256 threads at once); larger fills loop instead of launching more.
inline constexpr int64_t kMaxBlocks = 4096;

// The launch of a kernel over `items` work items: one thread per item up to kMaxBlocks
// blocks. No blocks for no items (the launcher then launches nothing).
constexpr LaunchConfig LaunchConfigFor(int64_t items) {
  const int64_t blocks = (items + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return LaunchConfig{blocks < kMaxBlocks ? blocks : kMaxBlocks, kThreadsPerBlock};
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_LAUNCH_CONFIG_H_
