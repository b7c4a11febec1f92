#ifndef DEFERRED_REPLAY_KERNELS_RANDOM_KERNEL_PATH_H_
#define DEFERRED_REPLAY_KERNELS_RANDOM_KERNEL_PATH_H_

namespace deferred {

// The code the CPU random fills (replay/kernels/random_kernels.cc) run. Both paths compute
// identical bits; choosing one only changes speed, which is what tests and benchmarks use
// this for.
enum class RandomKernelPath {
  kBest,      // AVX2 + FMA where the CPU has them, else portable
  kPortable,  // plain C++ for any x86-64
};

// Process-wide; takes effect for fills that start afterwards.
void SetRandomKernelPath(RandomKernelPath path);
RandomKernelPath GetRandomKernelPath();

// Whether fills started now run the AVX2 code.
bool RandomKernelsUseAvx2();

// Forces the portable path for its lifetime, then restores the previous choice.
class ScopedPortableRandomPath {
 public:
  ScopedPortableRandomPath() : previous_(GetRandomKernelPath()) {
    SetRandomKernelPath(RandomKernelPath::kPortable);
  }
  ~ScopedPortableRandomPath() { SetRandomKernelPath(previous_); }
  ScopedPortableRandomPath(const ScopedPortableRandomPath&) = delete;
  ScopedPortableRandomPath& operator=(const ScopedPortableRandomPath&) = delete;

 private:
  RandomKernelPath previous_;
};

}  // namespace deferred

#endif  // DEFERRED_REPLAY_KERNELS_RANDOM_KERNEL_PATH_H_
