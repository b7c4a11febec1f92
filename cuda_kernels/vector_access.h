#ifndef DEFERRED_CUDA_KERNELS_VECTOR_ACCESS_H_
#define DEFERRED_CUDA_KERNELS_VECTOR_ACCESS_H_

// Four contiguous elements moved at once: on the device, four 4-byte elements at a 16-byte
// boundary are one 16-byte load or store (memory-bound kernels are bound by how many
// accesses they issue); anywhere else, and on the host, one element at a time. Both give
// the same values.

#include <cstdint>

#include "fake_tensor/host_device.h"

namespace deferred::cuda {

template <typename T>
struct alignas(16) FourElements {
  T v[4];
};

// values[k] = in[k] for k < 4.
template <typename T>
DEFERRED_HOST_DEVICE inline void LoadFour(const T* in, T* values) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) {
    if (reinterpret_cast<uintptr_t>(in) % 16 == 0) {
      const FourElements<T> four = *reinterpret_cast<const FourElements<T>*>(in);
      for (int k = 0; k < 4; ++k) values[k] = four.v[k];
      return;
    }
  }
#endif
  for (int k = 0; k < 4; ++k) values[k] = in[k];
}

// out[k] = values[k] for k < 4.
template <typename T>
DEFERRED_HOST_DEVICE inline void StoreFour(T* out, const T* values) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) {
    if (reinterpret_cast<uintptr_t>(out) % 16 == 0) {
      FourElements<T> four;
      for (int k = 0; k < 4; ++k) four.v[k] = values[k];
      *reinterpret_cast<FourElements<T>*>(out) = four;
      return;
    }
  }
#endif
  for (int k = 0; k < 4; ++k) out[k] = values[k];
}

}  // namespace deferred::cuda

#endif  // DEFERRED_CUDA_KERNELS_VECTOR_ACCESS_H_
