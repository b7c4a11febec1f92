// CPU kernels of the factories in fake_tensor/ops/factories.h. Outputs are fresh and
// contiguous, so element i lives at data_ptr()[i]. A call restricted to a region (attrs
// "region_start" and "full_sizes", see region_rules.h) computes each element from its
// index in the whole tensor.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "fake_tensor/op_registry.h"
#include "fake_tensor/region_rules.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/strided_loop.h"
#include "replay/math/index_values.h"
#include "replay/math/index_values_of.h"

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

// out[i] = value_of(g) for every element of a contiguous `out`, where g is the element's
// row-major index in the whole tensor the call computes part of.
template <typename T, typename Fn>
void GenerateIndexed(const OpCall& call, const Tensor& out, Fn value_of) {
  if (!call.attrs.Has("region_start")) {
    GenerateContiguous<T>(out, value_of);
    return;
  }
  const GlobalIndexMap map = GlobalIndexMapOf(call.attrs, out.sizes());
  const Shape& sizes = out.sizes();
  GenerateContiguous<T>(
      out, [&](int64_t i) { return value_of(map.offset + OffsetOf(i, sizes, map.strides)); });
}

// The sizes of the whole tensor a call computes (part of).
Shape FullSizes(const OpCall& call, const Tensor& out) {
  return call.attrs.Has("full_sizes") ? call.attrs.Get<Shape>("full_sizes") : out.sizes();
}

void FullKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const Scalar& value = call.attrs.Get<Scalar>("value");
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    GenerateContiguous<T>(outputs[0], [v](int64_t) { return v; });
  });
}

void ArangeKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const math::ArangeValues values = math::ArangeValuesOf(call.attrs);
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    GenerateIndexed<T>(call, outputs[0], [values](int64_t i) { return values.At<T>(i); });
  });
}

void LinspaceKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const int64_t steps = NumElements(FullSizes(call, outputs[0]));
  const math::LinspaceValues values = math::LinspaceValuesOf(call.attrs, outputs[0].dtype(), steps);
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    GenerateIndexed<T>(call, outputs[0], [values](int64_t i) { return values.At<T>(i); });
  });
}

void EyeKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const math::EyeValues values{FullSizes(call, outputs[0])[1]};
  VisitDType(outputs[0].dtype(), [&]<typename T>() {
    GenerateIndexed<T>(call, outputs[0], [values](int64_t i) { return values.At<T>(i); });
  });
}

void FromBytesKernel(const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
  const std::string& bytes = call.attrs.Get<std::string>("bytes");
  if (outputs[0].dtype() == DType::kBool) {
    // A bool byte other than 0 or 1 is not a valid bool for the kernels that read it.
    GenerateIndexed<bool>(call, outputs[0], [&](int64_t i) { return bytes[i] != 0; });
    return;
  }
  if (call.attrs.Has("region_start")) {
    VisitDType(outputs[0].dtype(), [&]<typename T>() {
      GenerateIndexed<T>(call, outputs[0], [&](int64_t i) {
        T value;
        std::memcpy(&value, bytes.data() + i * sizeof(T), sizeof(T));
        return value;
      });
    });
    return;
  }
  if (!bytes.empty()) std::memcpy(outputs[0].storage()->data(), bytes.data(), bytes.size());
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterKernel("empty", DeviceType::kCPU,
                          [](const KernelContext&, const OpCall&, absl::Span<const Tensor>) {});
  registry.RegisterKernel("full", DeviceType::kCPU, FullKernel);
  registry.RegisterKernel("arange", DeviceType::kCPU, ArangeKernel);
  registry.RegisterKernel("linspace", DeviceType::kCPU, LinspaceKernel);
  registry.RegisterKernel("eye", DeviceType::kCPU, EyeKernel);
  registry.RegisterKernel("from_bytes", DeviceType::kCPU, FromBytesKernel);
  return true;
}();

}  // namespace
}  // namespace deferred
