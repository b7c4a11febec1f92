// The registry's CUDA checklist (op_conformance_test is the CPU's): every op has a CUDA
// kernel or is listed below with the reason it has none yet, and every call the random
// programs make of an op with a CUDA kernel gives, on cuda:0, the CPU's bits. cuda:0 here
// is cuda_kernels' host grid emulator behind host-backed memory, so this runs without a
// GPU; only the launch itself is not exercised.
#include <map>
#include <set>
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

// Ops that have no CUDA kernel yet, each with what it needs: the one reviewed list. An op
// here fails on a CUDA device with Unimplemented, naming it.
const std::map<std::string, std::string>& OpsWithoutCudaKernel() {
  static const auto* ops = new std::map<std::string, std::string>{
      {"sum", "a reduction kernel accumulating in the CPU kernel's order"},
      {"mean", "as sum"},
      {"var", "as sum"},
      {"std", "as sum"},
      {"min", "a reduction kernel"},
      {"max", "a reduction kernel"},
      {"cumsum", "a scan kernel in the CPU's order"},
      {"argsort", "a stable sort kernel"},
      {"matmul", "a kernel accumulating in the CPU kernel's order"},
  };
  return *ops;
}

// Ops whose CUDA kernel refuses some dtypes (Unimplemented), with which and why.
const std::map<std::string, std::string>& PartialCudaKernels() {
  static const auto* ops = new std::map<std::string, std::string>{
      {"pow", "float64: needs a deterministic double pow (float pow is detmath::Pow)"},
      {"pow_", "as pow"},
      {"pow_scalar", "as pow"},
      {"pow_scalar_", "as pow"},
      {"sin", "float64: calls the C library (float is detmath::Sin)"},
      {"sin_", "as sin"},
      {"cos", "as sin"},
      {"cos_", "as sin"},
      {"tanh", "as sin"},
      {"tanh_", "as sin"},
      {"log2", "as sin"},
      {"log2_", "as sin"},
      {"exp2", "as sin"},
      {"exp2_", "as sin"},
      {"expm1", "as sin"},
      {"expm1_", "as sin"},
  };
  return *ops;
}

TEST(CudaConformanceTest, EveryOpHasACudaKernelOrAReason) {
  cuda::InstallEmulatedCudaDevice();
  std::vector<std::string> missing;
  for (const std::string& name : OpRegistry::Global().OpNames()) {
    const OpDef& def = OpRegistry::Global().Get(name);
    if (def.kind == OpKind::kView) continue;  // views compute nothing on any device
    const bool has_kernel = static_cast<bool>(def.kernel(DeviceType::kCUDA));
    const bool listed = OpsWithoutCudaKernel().contains(name);
    if (!has_kernel && !listed) missing.push_back(name);
    EXPECT_FALSE(has_kernel && listed)
        << name << " has a CUDA kernel: take it off OpsWithoutCudaKernel";
  }
  EXPECT_TRUE(missing.empty()) << "no CUDA kernel and not in OpsWithoutCudaKernel: "
                               << ::testing::PrintToString(missing);
  for (const auto& [name, reason] : OpsWithoutCudaKernel()) {
    EXPECT_TRUE(OpRegistry::Global().Contains(name)) << "lists unknown op " << name;
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
    std::vector<Tensor> device_outputs;
    try {
      device_outputs = RunEager(on_device);
    } catch (const Error& e) {
      if (e.code() != absl::StatusCode::kUnimplemented ||
          !PartialCudaKernels().contains(def.name)) {
        throw;
      }
      ++refused[def.name];
      return outputs;
    }
    const bool in_place = def.kind == OpKind::kInPlace;
    const std::vector<Tensor> expected = in_place ? std::vector<Tensor>{call.inputs[0]} : outputs;
    const std::vector<Tensor> actual =
        in_place ? std::vector<Tensor>{on_device.inputs[0]} : device_outputs;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(actual[i].device(), Device::CUDA(0)) << def.name;
      if (def.name == "empty") continue;  // uninitialized: only the shape is specified
      const ::testing::AssertionResult equal = TensorsBitwiseEqual(expected[i], actual[i]);
      if (!equal)
        ADD_FAILURE() << def.name << " on cuda:0 differs from the CPU: " << equal.message();
    }
    ++compared[def.name];
    return outputs;
  }

  std::map<std::string, int> compared;
  std::map<std::string, int> refused;  // calls a partial kernel refused, by op
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
