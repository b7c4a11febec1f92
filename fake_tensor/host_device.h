#ifndef DEFERRED_FAKE_TENSOR_HOST_DEVICE_H_
#define DEFERRED_FAKE_TENSOR_HOST_DEVICE_H_

// Marks a function as compiled for both the host and CUDA devices. It is a macro because the
// language leaves no other way: nvcc needs `__host__ __device__` on the declaration, and a
// plain C++ compiler must not see those words.
#ifdef __CUDACC__
#define DEFERRED_HOST_DEVICE __host__ __device__
#else
#define DEFERRED_HOST_DEVICE
#endif

#endif  // DEFERRED_FAKE_TENSOR_HOST_DEVICE_H_
