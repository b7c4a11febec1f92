#ifndef DEFERRED_REPLAY_KERNELS_RANDOM_KERNEL_PATH_H_
#define DEFERRED_REPLAY_KERNELS_RANDOM_KERNEL_PATH_H_

namespace deferred {

// The code the CPU random fills (replay/kernels/random_kernels.cc) can run, from the least
// to the most capable. Every path computes identical bits; choosing one only changes
// speed, which is what tests and benchmarks use this for.
enum class RandomKernelPath {
  kPortable,  // plain C++ for any x86-64
  kAvx2,      // AVX2 + FMA
  kAvx512,    // AVX-512 (F, DQ, VL, BW) + FMA
};

// "portable", "avx2" or "avx512".
const char* RandomKernelPathName(RandomKernelPath path);

// Caps the path fills use at `path`; they run the most capable path up to it that the CPU
// supports. Process-wide, for fills that start afterwards. The cap starts at kAvx512.
void SetRandomKernelPath(RandomKernelPath path);
RandomKernelPath GetRandomKernelPath();

// The path fills started now run: the cap, lowered to what the CPU supports.
RandomKernelPath ActiveRandomKernelPath();

// Sets the cap for its lifetime, then restores the previous one.
class ScopedRandomKernelPath {
 public:
  explicit ScopedRandomKernelPath(RandomKernelPath path) : previous_(GetRandomKernelPath()) {
    SetRandomKernelPath(path);
  }
  ~ScopedRandomKernelPath() { SetRandomKernelPath(previous_); }
  ScopedRandomKernelPath(const ScopedRandomKernelPath&) = delete;
  ScopedRandomKernelPath& operator=(const ScopedRandomKernelPath&) = delete;

 private:
  RandomKernelPath previous_;
};

}  // namespace deferred

#endif  // DEFERRED_REPLAY_KERNELS_RANDOM_KERNEL_PATH_H_
