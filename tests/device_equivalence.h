#ifndef DEFERRED_TESTS_DEVICE_EQUIVALENCE_H_
#define DEFERRED_TESTS_DEVICE_EQUIVALENCE_H_

#include <string>
#include <vector>

#include "deferred/deferred.h"
#include "fake_tensor/device.h"

namespace deferred {

// Device equivalence (DESIGN.md): what a CUDA device computes equals the CPU bitwise. Each
// check runs on `device`, then on the CPU, and records gtest failures naming what differs.
// Run by device_equivalence_emulated_test (cuda_kernels' host grid emulator behind
// host-backed memory) and device_equivalence_gpu_test (a real GPU, where there is one).

// The random ops, full, fill_, copy_ and to called eagerly on tensors of `device` (drawn
// shapes, dtypes, non-contiguous views), against the same calls on the CPU from the same
// generator state.
void ExpectEagerOpsEqualCpu(Device device, uint64_t seed);

// A model's every parameter and buffer materialized on `device` (materialize_module), and
// drawn shards of each (materialize_shard), against the CPU; also that materializing on
// `device` allocates no host tensor data.
void ExpectModuleEqualsCpu(const std::string& name, const ModuleFactory& factory, Device device,
                           uint64_t seed);

// The models every device must materialize bitwise as the CPU does: the standard layers
// and the example models whose ops all have CUDA kernels.
std::vector<std::pair<std::string, ModuleFactory>> DeviceEquivalenceModels();

}  // namespace deferred

#endif  // DEFERRED_TESTS_DEVICE_EQUIVALENCE_H_
