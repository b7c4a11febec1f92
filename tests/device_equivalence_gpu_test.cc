// Device equivalence on a real GPU: the properties of device_equivalence_emulated_test on
// cuda:0, and GPT-2 small and one Llama-70B decoder layer's rank-0-of-8 shard
// materialized directly on the GPU. Every test reports itself skipped where there is no
// CUDA device (CI); tools/gpu_check.sh runs it on a lent GPU.
#include <memory>

#include "cuda_kernels/cuda_runtime.h"
#include "cuda_kernels/kernels.h"
#include "deferred/deferred.h"
#include "deferred/shard_spec.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/storage.h"
#include "gtest/gtest.h"
#include "tests/device_equivalence.h"
#include "tests/equivalence.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::DeviceCount() == 0) {
      GTEST_SKIP() << "no CUDA device: " << cuda::CheckDevice(0).message();
    }
  }
};

TEST_F(GpuTest, EagerOpsEqualTheCpu) {
  ExpectEagerOpsEqualCpu(Device::CUDA(0), TestSeedBase() + 1);
}

TEST_F(GpuTest, EveryLayerAndModelAndShardEqualsTheCpu) {
  for (const auto& [name, factory] : DeviceEquivalenceModels()) {
    ExpectModuleEqualsCpu(name, factory, Device::CUDA(0), TestSeedBase() + 2);
  }
}

TEST_F(GpuTest, Gpt2SmallMaterializesOnTheGpuWithoutHostTensorData) {
  const ModuleFactory factory = [] {
    return std::make_shared<examples::Gpt2>(examples::Gpt2Config{});
  };
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<nn::Module>> on_gpu = deferred_init(factory);
  ASSERT_TRUE(on_gpu.ok()) << on_gpu.status();
  const AllocationStats host_before = GetAllocationStats();
  const int64_t fallbacks_before = cuda::HostFallbackCount();
  ASSERT_TRUE(materialize_module(**on_gpu, {.device = Device::CUDA(0)}).ok());
  EXPECT_EQ(GetAllocationStats().total_bytes, host_before.total_bytes)
      << "materialize_module on cuda:0 allocated host tensor data";
  EXPECT_EQ(cuda::HostFallbackCount(), fallbacks_before) << "a host fallback ran";
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<nn::Module>> on_cpu = deferred_init(factory);
  ASSERT_TRUE(on_cpu.ok());
  ASSERT_TRUE(materialize_module(**on_cpu, {.device = Device::CPU()}).ok());
  EXPECT_TRUE(ModulesBitwiseEqual(**on_cpu, **on_gpu));
}

TEST_F(GpuTest, Llama70BDecoderLayerShardOnTheGpuEqualsTheCpu) {
  const ModuleFactory layer = [] {
    return std::make_shared<examples::LlamaDecoderLayer>(examples::LlamaConfig::Llama70B());
  };
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<nn::Module>> on_gpu = deferred_init(layer);
  ASSERT_TRUE(on_gpu.ok()) << on_gpu.status();
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<nn::Module>> on_cpu = deferred_init(layer);
  ASSERT_TRUE(on_cpu.ok());
  const auto rank0 = [](const std::string&, const Shape& sizes) -> std::optional<ShardSpec> {
    if (sizes.empty()) return std::nullopt;
    return ShardSpec::Chunk(0, 0, 8);
  };
  const AllocationStats host_before = GetAllocationStats();
  ASSERT_TRUE(materialize_module(**on_gpu, {.device = Device::CUDA(0), .shard = rank0}).ok());
  EXPECT_EQ(GetAllocationStats().total_bytes, host_before.total_bytes)
      << "the shard on cuda:0 allocated host tensor data";
  ASSERT_TRUE(materialize_module(**on_cpu, {.device = Device::CPU(), .shard = rank0}).ok());
  EXPECT_TRUE(ModulesBitwiseEqual(**on_cpu, **on_gpu));
}

}  // namespace
}  // namespace deferred
