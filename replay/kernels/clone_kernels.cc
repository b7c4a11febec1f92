// CPU kernel of clone (fake_tensor/ops/views.h): a strided copy of the input, whatever its
// layout, into the fresh contiguous output.
#include "fake_tensor/op_registry.h"
#include "replay/kernels/cast.h"

namespace deferred {
namespace {

const bool registered = [] {
  OpRegistry::Global().RegisterKernel(
      "clone", DeviceType::kCPU,
      [](const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
        CastCopy(outputs[0], call.inputs[0]);
      });
  return true;
}();

}  // namespace
}  // namespace deferred
