#include "fake_tensor/ops/factories.h"

#include <cmath>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"

namespace deferred {
namespace {

Attrs FactoryAttrs(const Shape& sizes, DType dtype, Device device) {
  return Attrs{{"sizes", sizes}, {"dtype", dtype}, {"device", device}};
}

// The common shape rule of factories: attrs "sizes", "dtype" and "device".
std::vector<TensorSpec> FactoryShape(const OpCall& call) {
  const Shape& sizes = call.attrs.Get<Shape>("sizes");
  CheckSizesNonNegative(sizes, call.def->name);
  return {TensorSpec{sizes, call.attrs.Get<DType>("dtype"), call.attrs.Get<Device>("device")}};
}

DType ScalarDefaultDType(const Scalar& value) {
  if (value.is_bool()) return DType::kBool;
  return value.is_integral() ? DType::kInt64 : kDefaultFloatDType;
}

int64_t ArangeLength(const Scalar& start, const Scalar& end, const Scalar& step) {
  const double s = start.to<double>(), e = end.to<double>(), d = step.to<double>();
  if (d == 0) ThrowError("arange: step must be non-zero");
  if (!std::isfinite(s) || !std::isfinite(e)) ThrowError("arange: start and end must be finite");
  if ((d > 0 && e < s) || (d < 0 && e > s)) {
    ThrowError("arange: step %s points away from end (start %s, end %s)", step.ToString(),
               start.ToString(), end.ToString());
  }
  return static_cast<int64_t>(std::ceil((e - s) / d));
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  for (const char* name : {"empty", "full", "arange", "linspace", "eye"}) {
    registry.RegisterOp(OpDef{.name = name, .kind = OpKind::kFactory, .shape_rule = FactoryShape});
  }
  registry.RegisterOp(OpDef{
      .name = "from_bytes",
      .kind = OpKind::kFactory,
      .shape_rule = [](const OpCall& call) {
        std::vector<TensorSpec> specs = FactoryShape(call);
        const int64_t expected = NumElements(specs[0].sizes) * ElementSize(specs[0].dtype);
        const int64_t given = static_cast<int64_t>(call.attrs.Get<std::string>("bytes").size());
        if (given != expected) {
          ThrowError("from_data: %d bytes given for shape %s of %s (expected %d)", given,
                     ShapeToString(specs[0].sizes), DTypeName(specs[0].dtype), expected);
        }
        return specs;
      }});
  return true;
}();

}  // namespace

Tensor empty(const Shape& sizes, TensorOptions options) {
  return DispatchOne("empty", {},
                     FactoryAttrs(sizes, options.dtype.value_or(kDefaultFloatDType),
                                  options.device));
}

Tensor full(const Shape& sizes, Scalar value, TensorOptions options) {
  Attrs attrs =
      FactoryAttrs(sizes, options.dtype.value_or(ScalarDefaultDType(value)), options.device);
  attrs.Set("value", value);
  return DispatchOne("full", {}, std::move(attrs));
}

Tensor zeros(const Shape& sizes, TensorOptions options) {
  return full(sizes, 0, {options.dtype.value_or(kDefaultFloatDType), options.device});
}

Tensor ones(const Shape& sizes, TensorOptions options) {
  return full(sizes, 1, {options.dtype.value_or(kDefaultFloatDType), options.device});
}

Tensor arange(Scalar end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options) {
  const bool integral = !start.is_floating_point() && !end.is_floating_point() &&
                        !step.is_floating_point();
  const DType dtype = options.dtype.value_or(integral ? DType::kInt64 : kDefaultFloatDType);
  Attrs attrs = FactoryAttrs({ArangeLength(start, end, step)}, dtype, options.device);
  attrs.Set("start", start);
  attrs.Set("step", step);
  return DispatchOne("arange", {}, std::move(attrs));
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  if (steps < 0) ThrowError("linspace: number of steps must be non-negative, got %d", steps);
  Attrs attrs = FactoryAttrs({steps}, options.dtype.value_or(kDefaultFloatDType), options.device);
  attrs.Set("start", start);
  attrs.Set("end", end);
  return DispatchOne("linspace", {}, std::move(attrs));
}

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  if (m < 0) m = n;
  return DispatchOne("eye", {},
                     FactoryAttrs({n, m}, options.dtype.value_or(kDefaultFloatDType),
                                  options.device));
}

Tensor from_bytes(std::string bytes, const Shape& sizes, DType dtype, Device device) {
  Attrs attrs = FactoryAttrs(sizes, dtype, device);
  attrs.Set("bytes", std::move(bytes));
  return DispatchOne("from_bytes", {}, std::move(attrs));
}

}  // namespace deferred
