// Device equivalence without a GPU: cuda:0 is the host grid emulator behind host-backed
// memory (cuda_kernels/emulated_device.h), so everything but the launch itself (the
// kernels' registration, args, per-thread bodies, device storage and copies, replay on a
// device) runs as it does on a GPU.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cuda_kernels/emulated_device.h"
#include "cuda_kernels/kernels.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/recorder.h"
#include "gtest/gtest.h"
#include "replay/replay_session.h"
#include "replay/trace.h"
#include "tests/device_equivalence.h"
#include "tests/equivalence.h"
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

// An op of this test alone, registered without a CUDA kernel (every op of the registry
// has one).
constexpr char kOpWithoutCudaKernel[] = "test_op_without_cuda_kernel";
const bool op_without_cuda_kernel_registered = OpRegistry::Global().RegisterOp(OpDef{
    .name = kOpWithoutCudaKernel,
    .shape_rule = [](const OpCall& call) {
      const Tensor& t = call.inputs[0];
      return TensorSpecs{{t.sizes(), t.dtype(), t.device()}};
    }});

// An op with no CUDA kernel fails on a CUDA device with an error naming it, and never
// runs on the host instead.
TEST_F(EmulatedDeviceTest, AnOpWithoutACudaKernelIsAClearError) {
  ASSERT_TRUE(op_without_cuda_kernel_registered);
  const Tensor t = ones({4}, {.device = Device::CUDA(0)});
  try {
    DispatchOne(kOpWithoutCudaKernel, {t}, {});
    FAIL() << kOpWithoutCudaKernel << " ran on cuda:0";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kUnimplemented);
    EXPECT_NE(std::string(e.what()).find(absl::StrCat(kOpWithoutCudaKernel,
                                                      ": no kernel for device cuda:0")),
              std::string::npos)
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

// A replay session on a device lists the ops it ran with a host fallback, in order; on the
// CPU none. Its values equal the CPU's.
TEST_F(EmulatedDeviceTest, AReplaySessionReportsItsHostFallbacks) {
  auto trace = std::make_shared<Trace>();
  Tensor q;
  {
    RecordingMode mode(trace);
    ScopedDispatchMode scope(&mode);
    const Tensor scale = from_data<float>(std::vector<float>{2.0f, 3.0f, 4.0f});
    q = mul(qr_q(randn({5, 3})), scale);
  }
  const std::vector<StorageVersion> target = {trace->Latest(*q.storage())};
  ReplaySession on_device(trace, Device::CUDA(0));
  const std::vector<Storage> device_values = on_device.RunWhole(target);
  EXPECT_EQ(on_device.host_fallbacks(), (std::vector<std::string>{"from_bytes", "qr_q"}));
  ReplaySession on_cpu(trace, Device::CPU());
  const std::vector<Storage> cpu_values = on_cpu.RunWhole(target);
  EXPECT_TRUE(on_cpu.host_fallbacks().empty());
  const TensorLayout layout{{5, 3}, {3, 1}, 0};
  EXPECT_TRUE(TensorsBitwiseEqual(MakeTensor(cpu_values[0], layout, DType::kFloat32),
                                  MakeTensor(device_values[0], layout, DType::kFloat32)));
}

}  // namespace
}  // namespace deferred
