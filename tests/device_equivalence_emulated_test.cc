// Device equivalence without a GPU: cuda:0 is the host grid emulator behind host-backed
// memory (cuda_kernels/emulated_device.h), so everything but the launch itself (the
// kernels' registration, args, per-thread bodies, device storage and copies, replay on a
// device) runs as it does on a GPU.
#include <string>

#include "cuda_kernels/emulated_device.h"
#include "cuda_kernels/kernels.h"
#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/shape_ops.h"
#include "gtest/gtest.h"
#include "tests/device_equivalence.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

class EmulatedDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override { cuda::InstallEmulatedCudaDevice(); }
};

TEST_F(EmulatedDeviceTest, EagerOpsEqualTheCpu) {
  ExpectEagerOpsEqualCpu(Device::CUDA(0), TestSeedBase() + 1);
}

TEST_F(EmulatedDeviceTest, ModelsAndShardsEqualTheCpu) {
  for (const auto& [name, factory] : DeviceEquivalenceModels()) {
    ExpectModuleEqualsCpu(name, factory, Device::CUDA(1), TestSeedBase() + 2);
  }
}

// An op with no CUDA kernel fails on a CUDA device with an error naming it, and never
// runs on the host instead.
TEST_F(EmulatedDeviceTest, AnOpWithoutACudaKernelIsAClearError) {
  const Tensor t = ones({4}, {.device = Device::CUDA(0)});
  try {
    sum(t);
    FAIL() << "sum ran on cuda:0";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kUnimplemented);
    EXPECT_NE(std::string(e.what()).find("sum: no kernel for device cuda:0"), std::string::npos)
        << e.what();
  }
  const Tensor doubles = ones({4}, {.dtype = DType::kFloat64, .device = Device::CUDA(0)});
  try {
    pow(doubles, 2.5);
    FAIL() << "float64 pow ran on cuda:0";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kUnimplemented);
    EXPECT_NE(std::string(e.what()).find("float64 pow has no CUDA kernel"), std::string::npos)
        << e.what();
  }
}

// Constants and QR run on the host and are copied up, and say so in the count.
TEST_F(EmulatedDeviceTest, HostFallbacksAreCounted) {
  const int64_t before = cuda::HostFallbackCount();
  const Tensor q = qr_q(randn({5, 3}, {.device = Device::CUDA(0)}));
  EXPECT_EQ(q.device(), Device::CUDA(0));
  EXPECT_EQ(cuda::HostFallbackCount(), before + 1);
  manual_seed(3);
  const Tensor expected = qr_q(randn({5, 3}));
  manual_seed(3);
  EXPECT_EQ(qr_q(randn({5, 3}, {.device = Device::CUDA(0)})).to_bytes(), expected.to_bytes());
}

}  // namespace
}  // namespace deferred
