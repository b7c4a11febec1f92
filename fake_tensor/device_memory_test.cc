// Tensor data on an accelerator, through HostBackedDeviceMemory: what Storage and Tensor
// do with device memory (allocation, the per-device counters, copies down and up,
// refusals, errors), proven without a GPU.
#include "fake_tensor/device_memory.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/host_backed_device_memory.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/tensor.h"
#include "fake_tensor/error_testing.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

// Registers two host-backed CUDA devices for the test's lifetime.
class DeviceMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterDeviceMemory(DeviceType::kCUDA, &memory_); }
  void TearDown() override {
    RegisterDeviceMemory(DeviceType::kCUDA, nullptr);
    EXPECT_EQ(memory_.live_bytes(), 0) << "device memory leaked";
  }

  HostBackedDeviceMemory memory_{2};
};

Tensor Iota(const Shape& sizes) {
  Tensor t = AllocateTensor(sizes, DType::kInt32, Device::CPU());
  int32_t* data = t.data_ptr<int32_t>();
  for (int64_t i = 0; i < t.numel(); ++i) data[i] = static_cast<int32_t>(i * 7 - 3);
  return t;
}

TEST_F(DeviceMemoryTest, TensorsRoundTripThroughTheDevice) {
  const Tensor host = Iota({3, 5});
  const Tensor device = host.to(Device::CUDA(1));
  EXPECT_EQ(device.device(), Device::CUDA(1));
  EXPECT_EQ(device.sizes(), host.sizes());
  EXPECT_EQ(memory_.copies_from_host(), 1);
  EXPECT_EQ(memory_.live_bytes(), 15 * 4);
  // Reads copy down; the values are the host's.
  EXPECT_EQ(device.to_vector<int32_t>(), host.to_vector<int32_t>());
  EXPECT_EQ(device.at<int32_t>({2, 4}), host.at<int32_t>({2, 4}));
  EXPECT_EQ(device.to_bytes(), host.to_bytes());
  const Tensor back = device.to(Device::CPU());
  EXPECT_TRUE(back.device().is_cpu());
  EXPECT_EQ(back.to_vector<int32_t>(), host.to_vector<int32_t>());
  EXPECT_TRUE(device.to(Device::CUDA(1)).is_same(device));
  // Between devices, through the host.
  const Tensor other = device.to(Device::CUDA(0));
  EXPECT_EQ(other.device(), Device::CUDA(0));
  EXPECT_EQ(other.to_vector<int32_t>(), host.to_vector<int32_t>());
}

TEST_F(DeviceMemoryTest, AViewKeepsItsLayoutOnTheDevice) {
  const Tensor host = Iota({4, 6});
  const Tensor view = MakeView(host, TensorLayout{{3, 2}, {1, 6}, 7});  // a transposed window
  const Tensor device = view.to(Device::CUDA(0));
  EXPECT_EQ(device.strides(), view.strides());
  EXPECT_EQ(device.storage_offset(), 7);
  EXPECT_EQ(device.to_vector<int32_t>(), view.to_vector<int32_t>());
  const Tensor one = MakeView(device, TensorLayout{{}, {}, 11});
  EXPECT_EQ(one.item<int32_t>(), host.at<int32_t>({1, 5}));
}

TEST_F(DeviceMemoryTest, EachDeviceCountsItsOwnBytes) {
  const AllocationStats host_before = GetAllocationStats();
  const AllocationStats cuda0_before = GetAllocationStats(Device::CUDA(0));
  const AllocationStats cuda1_before = GetAllocationStats(Device::CUDA(1));
  {
    const Tensor a = AllocateTensor({100}, DType::kFloat32, Device::CUDA(1));
    const Tensor b = AllocateTensor({10}, DType::kFloat64, Device::CUDA(1));
    const Tensor empty = AllocateTensor({0, 3}, DType::kFloat32, Device::CUDA(1));
    EXPECT_TRUE(empty.has_data()) << "a tensor of no elements on a device is real";
    const AllocationStats cuda1 = GetAllocationStats(Device::CUDA(1));
    EXPECT_EQ(cuda1.live_bytes - cuda1_before.live_bytes, 480);
    EXPECT_EQ(cuda1.allocation_count - cuda1_before.allocation_count, 3);
    EXPECT_GE(cuda1.peak_bytes, cuda1.live_bytes);
  }
  const AllocationStats cuda1 = GetAllocationStats(Device::CUDA(1));
  EXPECT_EQ(cuda1.live_bytes, cuda1_before.live_bytes);
  EXPECT_EQ(cuda1.total_bytes - cuda1_before.total_bytes, 480);
  EXPECT_EQ(cuda1.free_count - cuda1_before.free_count, 3);
  // Neither the host nor the other device saw any of it.
  EXPECT_EQ(GetAllocationStats().allocation_count, host_before.allocation_count);
  EXPECT_EQ(GetAllocationStats(Device::CUDA(0)).allocation_count, cuda0_before.allocation_count);
  EXPECT_EQ(GetAllocationStats(Device::Meta()).allocation_count, 0);
}

TEST_F(DeviceMemoryTest, TheHostNeverAddressesDeviceData) {
  const Tensor device = Iota({4}).to(Device::CUDA(0));
  const std::string message =
      ErrorMessage([&] { device.data_ptr<int32_t>(); }, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(message.find("is on cuda:0"), std::string::npos) << message;
  EXPECT_NE(message.find("to(Device::CPU())"), std::string::npos) << message;
  ErrorMessage([&] { device.set<int32_t>({0}, 1); }, absl::StatusCode::kFailedPrecondition);
  ErrorMessage([&] { Tensor().to(Device::CUDA(0)); }, absl::StatusCode::kInvalidArgument);
  ErrorMessage([&] { AllocateTensor({4}, DType::kInt32, Device::CUDA(0), true).to(Device::CPU()); },
               absl::StatusCode::kFailedPrecondition);
  ErrorMessage([&] { device.to(Device::Meta()); }, absl::StatusCode::kInvalidArgument);
}

TEST_F(DeviceMemoryTest, DeviceErrorsKeepTheirCodeAndCountNothing) {
  const AllocationStats before = GetAllocationStats(Device::CUDA(0));
  memory_.set_capacity(64);
  const std::string full =
      ErrorMessage([] { AllocateTensor({100}, DType::kFloat32, Device::CUDA(0)); },
                   absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.find("cannot allocate 400 bytes on cuda:0: out of memory"), std::string::npos)
      << full;
  const std::string missing =
      ErrorMessage([] { AllocateTensor({1}, DType::kFloat32, Device::CUDA(2)); },
                   absl::StatusCode::kUnavailable);
  EXPECT_NE(missing.find("the host-backed stand-in has 2 device(s)"), std::string::npos) << missing;
  EXPECT_EQ(CheckDeviceUsable(Device::CUDA(2)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(CheckDeviceUsable(Device::CUDA(1)).ok());
  const AllocationStats after = GetAllocationStats(Device::CUDA(0));
  EXPECT_EQ(after.allocation_count, before.allocation_count);
  EXPECT_EQ(after.live_bytes, before.live_bytes);
}

TEST(DeviceMemoryWithoutRuntimeTest, ABuildWithoutCudaSaysSo) {
  ASSERT_EQ(DeviceMemoryOf(DeviceType::kCUDA), nullptr) << "this test links no CUDA runtime";
  const absl::Status status = CheckDeviceUsable(Device::CUDA(0));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("no CUDA support"), std::string::npos) << status;
  const std::string message =
      ErrorMessage([] { AllocateTensor({4}, DType::kFloat32, Device::CUDA(0)); },
                   absl::StatusCode::kUnavailable);
  EXPECT_NE(message.find("no CUDA support"), std::string::npos) << message;
  EXPECT_TRUE(CheckDeviceUsable(Device::CPU()).ok());
  EXPECT_EQ(CheckDeviceUsable(Device::Meta()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDeviceUsable(Device::CUDA(-1)).code(), absl::StatusCode::kInvalidArgument);
}

// Host-backed devices whose stream handles are distinct tags, one per device.
class TaggedStreamMemory : public HostBackedDeviceMemory {
 public:
  using HostBackedDeviceMemory::HostBackedDeviceMemory;
  absl::StatusOr<void*> StreamOf(int index) override {
    if (absl::Status status = CheckDevice(index); !status.ok()) return status;
    return &tags_[index];
  }

 private:
  int tags_[2] = {};
};

// A kernel runs with the context of the device that holds its outputs: that device and
// its stream, from the device's memory.
TEST(KernelContextTest, AKernelGetsItsDevicesStream) {
  TaggedStreamMemory memory(2);
  RegisterDeviceMemory(DeviceType::kCUDA, &memory);
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterOp(OpDef{.name = "test_context_probe", .shape_rule = [](const OpCall& call) {
                              const Tensor& t = call.inputs[0];
                              return TensorSpecs{{t.sizes(), t.dtype(), t.device()}};
                            }});
  std::vector<KernelContext> seen;
  const Kernel probe = [&seen](const KernelContext& context, const OpCall&,
                               absl::Span<const Tensor>) { seen.push_back(context); };
  registry.RegisterKernel("test_context_probe", DeviceType::kCUDA, probe);
  registry.RegisterKernel("test_context_probe", DeviceType::kCPU, probe);
  for (const Device device : {Device::CUDA(1), Device::CUDA(0), Device::CPU()}) {
    DispatchOne("test_context_probe", {AllocateTensor({3}, DType::kFloat32, device)}, {});
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].device, Device::CUDA(1));
  EXPECT_EQ(seen[0].stream, *memory.StreamOf(1));
  EXPECT_EQ(seen[1].device, Device::CUDA(0));
  EXPECT_EQ(seen[1].stream, *memory.StreamOf(0));
  EXPECT_NE(seen[0].stream, seen[1].stream);
  EXPECT_EQ(seen[2].device, Device::CPU());
  EXPECT_EQ(seen[2].stream, nullptr);
  RegisterDeviceMemory(DeviceType::kCUDA, nullptr);
  EXPECT_EQ(memory.live_bytes(), 0);
}

}  // namespace
}  // namespace deferred
