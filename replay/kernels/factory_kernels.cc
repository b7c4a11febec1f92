// CPU kernels of the factories in fake_tensor/ops/factories.h. Outputs are fresh and
// contiguous, so element i lives at data_ptr()[i].
#include <cstring>

#include "fake_tensor/op_registry.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/strided_loop.h"

namespace deferred {
namespace {

// out[i] = value_of(i) for every element of a contiguous `out`, in parallel.
template <typename T, typename Fn>
void GenerateContiguous(const Tensor& out, Fn value_of) {
  T* data = out.data_ptr<T>();
  ParallelFor(out.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) data[i] = value_of(i);
  });
}

void FullKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Scalar& value = call.attrs.Get<Scalar>("value");
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    GenerateContiguous<T>(outputs[0], [v](int64_t) { return v; });
  });
}

void ArangeKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const Scalar& start = call.attrs.Get<Scalar>("start");
  const Scalar& step = call.attrs.Get<Scalar>("step");
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    if (start.is_floating_point() || step.is_floating_point() || IsFloatingPoint(DTypeOf<T>())) {
      // In double, as PyTorch's CPU kernel accumulates floating ranges.
      const double s = start.to<double>(), d = step.to<double>();
      GenerateContiguous<T>(outputs[0],
                            [=](int64_t i) { return CastElement<T>(s + d * static_cast<double>(i)); });
    } else {
      const int64_t s = start.to<int64_t>(), d = step.to<int64_t>();
      GenerateContiguous<T>(outputs[0], [=](int64_t i) { return CastElement<T>(s + d * i); });
    }
  });
}

void LinspaceKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const double start = call.attrs.Get<double>("start");
  const double end = call.attrs.Get<double>("end");
  const int64_t steps = outputs[0].numel();
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  const int64_t halfway = steps / 2;
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    GenerateContiguous<T>(outputs[0], [=](int64_t i) {
      // Counting from the nearer end keeps both endpoints exact.
      const double v = i < halfway ? start + step * static_cast<double>(i)
                                   : end - step * static_cast<double>(steps - 1 - i);
      return CastElement<T>(v);
    });
  });
}

void EyeKernel(const OpCall&, absl::Span<const Tensor> outputs) {
  const int64_t columns = outputs[0].size(1);
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    GenerateContiguous<T>(outputs[0], [=](int64_t i) {
      return CastElement<T>(static_cast<int>(i / columns == i % columns));
    });
  });
}

void FromBytesKernel(const OpCall& call, absl::Span<const Tensor> outputs) {
  const std::string& bytes = call.attrs.Get<std::string>("bytes");
  if (!bytes.empty()) std::memcpy(outputs[0].storage()->data(), bytes.data(), bytes.size());
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterKernel("empty", DeviceType::kCPU, [](const OpCall&, absl::Span<const Tensor>) {});
  registry.RegisterKernel("full", DeviceType::kCPU, FullKernel);
  registry.RegisterKernel("arange", DeviceType::kCPU, ArangeKernel);
  registry.RegisterKernel("linspace", DeviceType::kCPU, LinspaceKernel);
  registry.RegisterKernel("eye", DeviceType::kCPU, EyeKernel);
  registry.RegisterKernel("from_bytes", DeviceType::kCPU, FromBytesKernel);
  return true;
}();

}  // namespace
}  // namespace deferred
