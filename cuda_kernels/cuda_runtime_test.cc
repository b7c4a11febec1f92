// The CUDA runtime as a machine without a GPU sees it (CI's): every use of cuda:N is an
// Unavailable error that says why, never a crash. On a machine with a GPU the first test
// reports itself skipped and the second checks the device's memory.
#include "cuda_kernels/cuda_runtime.h"

#include <string>

#include "fake_tensor/device_memory.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/storage.h"
#include "fake_tensor/tensor.h"
#include "gtest/gtest.h"

namespace deferred::cuda {
namespace {

TEST(CudaRuntimeTest, WithoutAGpuEveryUseIsUnavailable) {
  if (DeviceCount() > 0) GTEST_SKIP() << "this machine has a CUDA device";
  const absl::Status status = CheckDevice(0);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("cuda:0 is not available: no CUDA device"), std::string::npos)
      << status;
  EXPECT_EQ(CheckDeviceUsable(Device::CUDA(0)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StreamFor(0).status().code(), absl::StatusCode::kUnavailable);
  const AllocationStats before = GetAllocationStats(Device::CUDA(0));
  try {
    ones({4}, {.device = Device::CUDA(0)});
    FAIL() << "allocated on a machine without a GPU";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
  EXPECT_EQ(GetAllocationStats(Device::CUDA(0)).allocation_count, before.allocation_count);
}

TEST(CudaRuntimeTest, DeviceMemoryIsCountedPerDeviceAndCopiesRoundTrip) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device: " << CheckDevice(0).message();
  EXPECT_EQ(CheckDevice(DeviceCount()).code(), absl::StatusCode::kUnavailable);
  const AllocationStats host_before = GetAllocationStats();
  const AllocationStats before = GetAllocationStats(Device::CUDA(0));
  {
    const Tensor host = arange(0, 1000, 1, {.dtype = DType::kInt32});
    const Tensor device = host.to(Device::CUDA(0));
    EXPECT_EQ(device.device(), Device::CUDA(0));
    EXPECT_EQ(GetAllocationStats(Device::CUDA(0)).live_bytes - before.live_bytes, 4000);
    EXPECT_EQ(device.to_vector<int32_t>(), host.to_vector<int32_t>());
    EXPECT_EQ(device.at<int32_t>({999}), 999);
  }
  EXPECT_EQ(GetAllocationStats(Device::CUDA(0)).live_bytes, before.live_bytes);
  EXPECT_EQ(GetAllocationStats(Device::CUDA(0)).total_bytes - before.total_bytes, 4000);
  // The device's tensors never touched the host's counters but for the host tensors above.
  EXPECT_EQ(GetAllocationStats().live_bytes, host_before.live_bytes);
}

}  // namespace
}  // namespace deferred::cuda
