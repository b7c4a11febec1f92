#include "cuda_kernels/cuda_runtime.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fake_tensor/device_memory.h"

namespace deferred::cuda {
namespace {

// What the driver said when asked for the devices, once per process.
struct Devices {
  int count = 0;
  std::string reason;  // why there are none, when count is 0
};

const Devices& GetDevices() {
  static const Devices* const devices = [] {
    auto* d = new Devices;
    const cudaError_t error = cudaGetDeviceCount(&d->count);
    if (error != cudaSuccess) {
      d->count = 0;
      d->reason = absl::StrCat(cudaGetErrorName(error), ": ", cudaGetErrorString(error));
      cudaGetLastError();  // clears the error, so later calls do not report it again
    } else if (d->count == 0) {
      d->reason = "the driver reports none";
    }
    return d;
  }();
  return *devices;
}

// One stream per device, made on first use and never destroyed (the runtime tears down
// its streams at exit).
class Streams {
 public:
  absl::StatusOr<cudaStream_t> For(int index) {
    if (absl::Status status = CheckDevice(index); !status.ok()) return status;
    if (absl::Status status = StatusOf(cudaSetDevice(index), "cudaSetDevice"); !status.ok()) {
      return status;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (streams_.empty()) streams_.resize(static_cast<size_t>(DeviceCount()), nullptr);
    cudaStream_t& stream = streams_[static_cast<size_t>(index)];
    if (stream == nullptr) {
      absl::Status status = StatusOf(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking),
                                     "cudaStreamCreateWithFlags");
      if (!status.ok()) {
        stream = nullptr;
        return status;
      }
    }
    return stream;
  }

 private:
  std::mutex mutex_;
  std::vector<cudaStream_t> streams_;  // guarded by mutex_
};

Streams& GlobalStreams() {
  static Streams* const streams = new Streams;
  return *streams;
}

class CudaMemory : public DeviceMemory {
 public:
  absl::Status CheckDevice(int index) override { return cuda::CheckDevice(index); }

  absl::StatusOr<void*> StreamOf(int index) override {
    absl::StatusOr<cudaStream_t> stream = StreamFor(index);
    if (!stream.ok()) return stream.status();
    return static_cast<void*>(*stream);
  }

  absl::StatusOr<std::byte*> Allocate(int index, int64_t nbytes) override {
    absl::StatusOr<cudaStream_t> stream = StreamFor(index);
    if (!stream.ok()) return stream.status();
    void* data = nullptr;
    absl::Status status =
        StatusOf(cudaMallocAsync(&data, static_cast<size_t>(nbytes), *stream), "cudaMallocAsync");
    if (!status.ok()) return status;
    return static_cast<std::byte*>(data);
  }

  void Free(int index, std::byte* data) override {
    // A storage is freed from a destructor, where an error has nowhere to go; the pool
    // reports a broken device at the next allocation.
    if (absl::StatusOr<cudaStream_t> stream = StreamFor(index); stream.ok()) {
      cudaFreeAsync(data, *stream);
    }
  }

  absl::Status CopyToHost(int index, const std::byte* device_source, std::byte* host_destination,
                          int64_t nbytes) override {
    return Copy(index, device_source, host_destination, nbytes, cudaMemcpyDeviceToHost);
  }

  absl::Status CopyFromHost(int index, const std::byte* host_source, std::byte* device_destination,
                            int64_t nbytes) override {
    return Copy(index, host_source, device_destination, nbytes, cudaMemcpyHostToDevice);
  }

 private:
  static absl::Status Copy(int index, const std::byte* from, std::byte* to, int64_t nbytes,
                           cudaMemcpyKind kind) {
    absl::StatusOr<cudaStream_t> stream = StreamFor(index);
    if (!stream.ok()) return stream.status();
    absl::Status status = StatusOf(
        cudaMemcpyAsync(to, from, static_cast<size_t>(nbytes), kind, *stream), "cudaMemcpyAsync");
    if (!status.ok()) return status;
    return StatusOf(cudaStreamSynchronize(*stream), "cudaStreamSynchronize");
  }
};

}  // namespace

int DeviceCount() { return GetDevices().count; }

absl::Status CheckDevice(int index) {
  const Devices& devices = GetDevices();
  if (devices.count == 0) {
    return absl::UnavailableError(
        absl::StrCat("cuda:", index, " is not available: no CUDA device (", devices.reason, ")"));
  }
  if (index < 0 || index >= devices.count) {
    return absl::UnavailableError(
        absl::StrCat("cuda:", index, " is not available: this ", "machine has ", devices.count,
                     " CUDA device(s), cuda:0 to cuda:", devices.count - 1));
  }
  return absl::OkStatus();
}

absl::StatusOr<cudaStream_t> StreamFor(int index) { return GlobalStreams().For(index); }

absl::Status StatusOf(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return absl::OkStatus();
  cudaGetLastError();
  const std::string message =
      absl::StrCat(what, ": ", cudaGetErrorName(error), ": ", cudaGetErrorString(error));
  return error == cudaErrorMemoryAllocation ? absl::ResourceExhaustedError(message)
                                            : absl::InternalError(message);
}

bool RegisterCudaMemory() {
  static CudaMemory* const memory = new CudaMemory;
  return RegisterDeviceMemory(DeviceType::kCUDA, memory);
}

namespace {
const bool registered = RegisterCudaMemory();
}  // namespace

}  // namespace deferred::cuda
