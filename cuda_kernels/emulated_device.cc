#include "cuda_kernels/emulated_device.h"

#include <atomic>
#include <cstdint>

#include "cuda_kernels/grid_emulator.h"
#include "cuda_kernels/kernels.h"
#include "fake_tensor/device_memory.h"
#include "fake_tensor/error.h"

namespace deferred::cuda {
namespace {

// Each launch runs its threads in another order.
uint64_t NextOrderSeed() {
  static std::atomic<uint64_t> launches{0};
  return launches.fetch_add(1);
}

}  // namespace

HostBackedDeviceMemory& InstallEmulatedCudaDevice() {
  static HostBackedDeviceMemory* const memory = [] {
    auto* m = new HostBackedDeviceMemory(2);
    RegisterDeviceMemory(DeviceType::kCUDA, m);
    RegisterCudaKernels(KernelLaunchers{
        .random_fill =
            [](const RandomFillArgs& args, const KernelContext&) {
              const bool ran = RunRandomFill(
                  args, [](const auto& fill) { EmulateLaunch(fill, NextOrderSeed()); });
              if (!ran) {
                ThrowError("random fill: %s is not a floating dtype", DTypeName(args.target.dtype));
              }
            },
        .constant_fill =
            [](const ConstantFillArgs& args, const KernelContext&) {
              RunConstantFill(args, [](const auto& fill) { EmulateLaunch(fill, NextOrderSeed()); });
            },
        .strided_copy =
            [](const StridedCopyArgs& args, const KernelContext&) {
              RunStridedCopy(args, [](const auto& copy) { EmulateLaunch(copy, NextOrderSeed()); });
            },
        .elementwise =
            [](const ElementwiseArgs& args, const KernelContext&) {
              RunElementwise(args, [](const auto& map) { EmulateLaunch(map, NextOrderSeed()); });
            },
        .indexed_fill =
            [](const IndexedFillArgs& args, const KernelContext&) {
              RunIndexedFill(args, [](const auto& fill) { EmulateLaunch(fill, NextOrderSeed()); });
            },
        .triangle =
            [](const TriangleArgs& args, const KernelContext&) {
              RunTriangle(args,
                          [](const auto& triangle) { EmulateLaunch(triangle, NextOrderSeed()); });
            },
        .reduction =
            [](const ReductionArgs& args, const KernelContext&) {
              RunReduction(args, [](const auto& work) { EmulateLaunch(work, NextOrderSeed()); });
            },
        .lines =
            [](const LineArgs& args, const KernelContext&) {
              RunLines(args, [](const auto& work) { EmulateLaunch(work, NextOrderSeed()); });
            },
        .matmul =
            [](const MatmulArgs& args, const KernelContext&) {
              RunMatmul(args, [](const auto& work) { EmulateLaunch(work, NextOrderSeed()); });
            },
    });
    return m;
  }();
  return *memory;
}

}  // namespace deferred::cuda
