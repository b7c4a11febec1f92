// Compiled (not run) by device_compile_test with nvcc: every sampler at every precision and
// every deterministic math function, called from device code, so that a host-only construct
// in replay/rng fails the build here rather than in a later CUDA kernel.
#include <cstdint>

#include "replay/rng/deterministic_math.h"
#include "replay/rng/philox.h"
#include "replay/rng/samplers.h"

namespace deferred::rng {

template <typename T>
__device__ void MathOf(T x, T* out) {
  T s, c;
  detmath::SinCos2Pi(x, &s, &c);
  out[0] = detmath::Log(x) + detmath::Log1p(x) + detmath::Exp(x) + s + c + detmath::Erf(x) +
           detmath::ErfInv(x);
}

template <Precision P>
__device__ void SamplersOf(const UniformSampler<P>& u, const NormalSampler<P>& n,
                           const TruncNormalSampler<P>& t, uint64_t seed, uint64_t offset,
                           uint64_t i, ValueOf<P>* out) {
  out[0] = SampleAt(u, seed, offset, i) + SampleAt(n, seed, offset, i) +
           SampleAt(t, seed, offset, i);
}

__global__ void EveryFunction(uint64_t seed, uint64_t offset, float* f32, double* f64,
                              int64_t* i64) {
  const uint64_t i = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x;
  MathOf(f32[i], f32 + i);
  MathOf(f64[i], f64 + i);
  f32[i] += detmath::ErfInvCentral(f32[i]);
  SamplersOf<Precision::kFloat32>({}, {}, {}, seed, offset, i, f32 + i);
  SamplersOf<Precision::kFloat64>({}, {}, {}, seed, offset, i, f64 + i);
  SamplersOf<Precision::kFloat16>({}, {}, {}, seed, offset, i, f32 + i);
  SamplersOf<Precision::kBFloat16>({}, {}, {}, seed, offset, i, f32 + i);
  i64[i] = SampleAt(RandomSampler<1>{}, seed, offset, i) +
           SampleAt(RandomSampler<2>{}, seed, offset, i) +
           static_cast<int64_t>(SampleAt(BernoulliSampler{}, seed, offset, i)) +
           StreamWord(seed, offset, i);
}

}  // namespace deferred::rng
