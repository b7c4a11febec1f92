// The registry's CUDA checklist (op_conformance_test is the CPU's): every op has a CUDA
// kernel, and every call the random programs make gives, on cuda:0, the CPU's bits (NaNs
// up to their bits: TensorsEqualUpToNanBits). cuda:0 here is cuda_kernels' host grid emulator behind host-backed memory, so this runs without a
// GPU; only the launch itself is not exercised.
#include <map>
#include <string>
#include <vector>

#include "cuda_kernels/emulated_device.h"
#include "cuda_kernels/kernels.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/random_program.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

// Every op that computes has a CUDA kernel (cuda_kernels/kernels.cc), a host fallback among
// them (cuda::HostFallbackOps), so that no op of a trace is left to fail on a device.
TEST(CudaConformanceTest, EveryOpHasACudaKernel) {
  cuda::InstallEmulatedCudaDevice();
  std::vector<std::string> missing;
  for (const std::string& name : OpRegistry::Global().OpNames()) {
    const OpDef& def = OpRegistry::Global().Get(name);
    if (def.kind == OpKind::kView) continue;  // views compute nothing on any device
    if (!def.kernel(DeviceType::kCUDA)) missing.push_back(name);
  }
  EXPECT_TRUE(missing.empty()) << "no CUDA kernel: " << ::testing::PrintToString(missing);
  for (const std::string& name : cuda::HostFallbackOps()) {
    EXPECT_TRUE(OpRegistry::Global().Get(name).is_host_fallback(DeviceType::kCUDA)) << name;
  }
}

// Runs every call eagerly on the CPU and, for ops with a CUDA kernel, again on cuda:0 from
// device copies of the same inputs, and compares the results bitwise.
class CudaConformanceMode : public DispatchMode {
 public:
  std::vector<Tensor> Run(OpCall& call) override {
    const OpDef& def = *call.def;
    if (def.kind == OpKind::kView || !def.kernel(DeviceType::kCUDA)) return RunEager(call);
    OpCall on_device{&def, {}, call.attrs, call.site};
    for (const Tensor& input : call.inputs) on_device.inputs.push_back(input.to(Device::CUDA(0)));
    if (on_device.attrs.Has("device")) on_device.attrs.Set("device", Device::CUDA(0));
    std::vector<Tensor> outputs = RunEager(call);
    const std::vector<Tensor> device_outputs = RunEager(on_device);
    const bool in_place = def.kind == OpKind::kInPlace;
    const std::vector<Tensor> expected = in_place ? std::vector<Tensor>{call.inputs[0]} : outputs;
    const std::vector<Tensor> actual =
        in_place ? std::vector<Tensor>{on_device.inputs[0]} : device_outputs;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(actual[i].device(), Device::CUDA(0)) << def.name;
      if (def.name == "empty") continue;  // uninitialized: only the shape is specified
      const ::testing::AssertionResult equal = TensorsEqualUpToNanBits(expected[i], actual[i]);
      if (!equal)
        ADD_FAILURE() << def.name << " on cuda:0 differs from the CPU: " << equal.message();
    }
    ++compared[def.name];
    return outputs;
  }

  std::map<std::string, int> compared;
};

TEST(CudaConformanceTest, RandomProgramsGiveTheCpusBitsOnCuda) {
  cuda::InstallEmulatedCudaDevice();
  constexpr int kPrograms = 400;
  std::map<std::string, int> compared;
  for (int i = 0; i < kPrograms; ++i) {
    const uint64_t seed = TestSeedBase() + i;
    SCOPED_TRACE(::testing::Message() << "program seed " << seed);
    CudaConformanceMode mode;
    {
      ScopedDispatchMode scope(&mode);
      RandomProgram program(seed);
    }
    for (const auto& [name, runs] : mode.compared) compared[name] += runs;
    if (::testing::Test::HasFailure()) break;
  }
  for (const std::string& name : OpRegistry::Global().OpNames()) {
    const OpDef& def = OpRegistry::Global().Get(name);
    if (def.kind == OpKind::kView || !def.kernel(DeviceType::kCUDA)) continue;
    EXPECT_GT(compared[name], 0) << name << " has a CUDA kernel the random programs never ran";
  }
}

}  // namespace
}  // namespace deferred
