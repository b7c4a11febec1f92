#ifndef DEFERRED_CUDA_KERNELS_GRID_EMULATOR_H_
#define DEFERRED_CUDA_KERNELS_GRID_EMULATOR_H_

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "cuda_kernels/launch_config.h"

namespace deferred::cuda {

// Runs a kernel's per-thread body on the host over every thread of `config`, as the GPU
// would run its __global__ wrapper: body(first_item, item_stride) with
// first_item = block * threads_per_block + thread and item_stride = config.threads().
// Threads run one at a time in an order shuffled by `order_seed`, since a GPU promises no
// order: a body whose result depends on it fails the tests that compare against the CPU.
template <typename ThreadBody>
void EmulateGrid(const LaunchConfig& config, uint64_t order_seed, ThreadBody&& body) {
  std::vector<int64_t> threads(static_cast<size_t>(config.threads()));
  std::iota(threads.begin(), threads.end(), int64_t{0});
  std::shuffle(threads.begin(), threads.end(), std::mt19937_64(order_seed));
  for (const int64_t thread : threads) body(thread, config.threads());
}

// Runs `work` as a GPU launch of it would run (gpu_launch.cu): its per-thread body,
// RunThread, over LaunchConfigFor(WorkItemsOf(work)).
template <typename Work>
void EmulateLaunch(const Work& work, uint64_t order_seed) {
  EmulateGrid(
      LaunchConfigFor(WorkItemsOf(work)), order_seed,
      [&](int64_t first_item, int64_t item_stride) { RunThread(work, first_item, item_stride); });
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_GRID_EMULATOR_H_
