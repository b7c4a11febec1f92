#include "fake_tensor/ops/factories.h"

#include <cmath>
#include <cstdint>
#include <string_view>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/region_rules.h"

namespace deferred {
namespace {

Attrs FactoryAttrs(const Shape& sizes, DType dtype, Device device) {
  return Attrs{{"sizes", sizes}, {"dtype", dtype}, {"device", device}};
}

// Throws unless a tensor of `sizes` and `dtype` can exist (CheckedByteSize).
void CheckFactorySizes(const Shape& sizes, DType dtype, std::string_view op) {
  CheckedByteSize(sizes, dtype, op);
}

// The common shape rule of factories: attrs "sizes", "dtype" and "device".
TensorSpecs FactoryShape(const OpCall& call) {
  const Shape& sizes = call.attrs.Get<Shape>("sizes");
  const DType dtype = call.attrs.Get<DType>("dtype");
  CheckFactorySizes(sizes, dtype, call.def->name);
  return {TensorSpec{sizes, dtype, call.attrs.Get<Device>("device")}};
}

// FactoryShape for ops that compute values (not bool, as in PyTorch).
TensorSpecs NumericFactoryShape(const OpCall& call) {
  if (call.attrs.Get<DType>("dtype") == DType::kBool) {
    ThrowError("%s: dtype bool is not supported", call.def->name);
  }
  return FactoryShape(call);
}

// eye's kernel reads rows and columns: its sizes must be a matrix's.
TensorSpecs EyeShape(const OpCall& call) {
  const Shape& sizes = call.attrs.Get<Shape>("sizes");
  if (sizes.size() != 2) {
    ThrowError("eye: expected the sizes of a matrix (2 dims), got %s", ShapeToString(sizes));
  }
  return FactoryShape(call);
}

TensorSpecs FullShape(const OpCall& call) {
  const Scalar& value = call.attrs.Get<Scalar>("value");
  const DType dtype = call.attrs.Get<DType>("dtype");
  if (!FitsInDType(value, dtype)) {
    ThrowError("%s: value %s cannot be converted to %s without overflow", call.def->name,
               value.ToString(), DTypeName(dtype));
  }
  return FactoryShape(call);
}

DType ScalarDefaultDType(const Scalar& value) {
  if (value.is_bool()) return DType::kBool;
  return value.is_integral() ? DType::kInt64 : kDefaultFloatDType;
}

void CheckArangeDirection(const Scalar& start, const Scalar& end, const Scalar& step,
                          bool step_positive, bool end_below_start, bool end_above_start) {
  if ((step_positive && end_below_start) || (!step_positive && end_above_start)) {
    ThrowError("arange: step %s points away from end (start %s, end %s)", step.ToString(),
               start.ToString(), end.ToString());
  }
}

void CheckArangeLength(double length, const Scalar& start, const Scalar& end,
                       const Scalar& step) {
  if (!(length < 0x1p63)) {
    ThrowError("arange: too many elements from %s to %s in steps of %s", start.ToString(),
               end.ToString(), step.ToString());
  }
}

// The number of elements of arange(start, end, step) in `dtype`. For an integral dtype
// start, end and step are truncated to integers first and the count is exact, as PyTorch
// does for int64; otherwise it is ceil((end - start) / step) in double.
int64_t ArangeLength(const Scalar& start, const Scalar& end, const Scalar& step, DType dtype) {
  const double s = start.to<double>(), e = end.to<double>(), d = step.to<double>();
  if (!std::isfinite(s) || !std::isfinite(e) || !std::isfinite(d)) {
    ThrowError("arange: start, end and step must be finite (start %s, end %s, step %s)",
               start.ToString(), end.ToString(), step.ToString());
  }
  if (IsIntegral(dtype)) {
    for (const Scalar* bound : {&start, &end, &step}) {
      if (!FitsInDType(*bound, DType::kInt64)) {
        ThrowError("arange: %s does not fit in int64", bound->ToString());
      }
    }
    const __int128 xs = start.to<int64_t>(), xe = end.to<int64_t>(), xd = step.to<int64_t>();
    if (xd == 0) {
      ThrowError("arange: step must be non-zero (step %s is 0 as %s)", step.ToString(),
                 DTypeName(dtype));
    }
    CheckArangeDirection(start, end, step, xd > 0, xe < xs, xe > xs);
    // Ceiling division, exact: the difference of two int64s fits in __int128.
    const __int128 length = (xe - xs + xd - (xd > 0 ? 1 : -1)) / xd;
    CheckArangeLength(static_cast<double>(length), start, end, step);
    return static_cast<int64_t>(length);
  }
  if (d == 0) ThrowError("arange: step must be non-zero");
  CheckArangeDirection(start, end, step, d > 0, e < s, e > s);
  const double length = std::ceil((e - s) / d);
  CheckArangeLength(length, start, end, step);
  return static_cast<int64_t>(length);
}

// A factory's attrs: its output's sizes, dtype and device, then its own.
std::vector<AttrSpec> FactoryAttrSpecs(std::vector<AttrSpec> own = {}) {
  std::vector<AttrSpec> specs = {{"sizes", AttrType::kShape},
                                 {"dtype", AttrType::kDType},
                                 {"device", AttrType::kDevice}};
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  // Every factory computes any region of its output directly: empty and full need only the
  // region's sizes; the others compute each element from its index in the whole.
  registry.RegisterOp(OpDef{.name = "empty",
                            .kind = OpKind::kFactory,
                            .attrs = FactoryAttrSpecs(),
                            .shape_rule = FactoryShape,
                            .region_rule = IndexAddressedRegionRule});
  registry.RegisterOp(OpDef{.name = "eye",
                            .kind = OpKind::kFactory,
                            .attrs = FactoryAttrSpecs(),
                            .shape_rule = EyeShape,
                            .region_rule = IndexAddressedRegionRule});
  registry.RegisterOp(OpDef{
      .name = "arange",
      .kind = OpKind::kFactory,
      .attrs = FactoryAttrSpecs({{"start", AttrType::kScalar}, {"step", AttrType::kScalar}}),
      .shape_rule = NumericFactoryShape,
      .region_rule = IndexAddressedRegionRule});
  registry.RegisterOp(OpDef{
      .name = "linspace",
      .kind = OpKind::kFactory,
      .attrs = FactoryAttrSpecs({{"start", AttrType::kDouble}, {"end", AttrType::kDouble}}),
      .shape_rule = NumericFactoryShape,
      .region_rule = IndexAddressedRegionRule});
  registry.RegisterOp(OpDef{.name = "full",
                            .kind = OpKind::kFactory,
                            .attrs = FactoryAttrSpecs({{"value", AttrType::kScalar}}),
                            .shape_rule = FullShape,
                            .region_rule = IndexAddressedRegionRule});
  registry.RegisterOp(OpDef{
      .name = "from_bytes",
      .kind = OpKind::kFactory,
      .attrs = FactoryAttrSpecs({{"bytes", AttrType::kBytes}}),
      .shape_rule = [](const OpCall& call) {
        TensorSpecs specs = FactoryShape(call);
        const Shape& whole =
            call.attrs.Has("full_sizes") ? call.attrs.Get<Shape>("full_sizes") : specs[0].sizes;
        const int64_t expected = CheckedByteSize(whole, specs[0].dtype, call.def->name);
        const int64_t given = static_cast<int64_t>(call.attrs.Get<std::string>("bytes").size());
        if (given != expected) {
          ThrowError("from_data: %d bytes given for shape %s of %s (expected %d)", given,
                     ShapeToString(specs[0].sizes), DTypeName(specs[0].dtype), expected);
        }
        return specs;
      },
      .region_rule = IndexAddressedRegionRule});
  return true;
}();

}  // namespace

Tensor empty(const Shape& sizes, TensorOptions options, CallSite site) {
  return DispatchOne(
      "empty", {},
      FactoryAttrs(sizes, options.dtype.value_or(kDefaultFloatDType), options.device), site);
}

Tensor full(const Shape& sizes, Scalar value, TensorOptions options, CallSite site) {
  Attrs attrs =
      FactoryAttrs(sizes, options.dtype.value_or(ScalarDefaultDType(value)), options.device);
  attrs.Set("value", value);
  return DispatchOne("full", {}, std::move(attrs), site);
}

Tensor zeros(const Shape& sizes, TensorOptions options, CallSite site) {
  const DType dtype = options.dtype.value_or(kDefaultFloatDType);
  CheckFactorySizes(sizes, dtype, "zeros");
  return full(sizes, 0, {dtype, options.device}, site);
}

Tensor ones(const Shape& sizes, TensorOptions options, CallSite site) {
  const DType dtype = options.dtype.value_or(kDefaultFloatDType);
  CheckFactorySizes(sizes, dtype, "ones");
  return full(sizes, 1, {dtype, options.device}, site);
}

Tensor arange(Scalar end, TensorOptions options, CallSite site) {
  return arange(0, end, 1, options, site);
}

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options, CallSite site) {
  const bool integral = !start.is_floating_point() && !end.is_floating_point() &&
                        !step.is_floating_point();
  const DType dtype = options.dtype.value_or(integral ? DType::kInt64 : kDefaultFloatDType);
  Attrs attrs = FactoryAttrs({ArangeLength(start, end, step, dtype)}, dtype, options.device);
  attrs.Set("start", start);
  attrs.Set("step", step);
  return DispatchOne("arange", {}, std::move(attrs), site);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options, CallSite site) {
  if (steps < 0) ThrowError("linspace: number of steps must be non-negative, got %d", steps);
  Attrs attrs = FactoryAttrs({steps}, options.dtype.value_or(kDefaultFloatDType), options.device);
  attrs.Set("start", start);
  attrs.Set("end", end);
  return DispatchOne("linspace", {}, std::move(attrs), site);
}

Tensor eye(int64_t n, int64_t m, TensorOptions options, CallSite site) {
  if (m < 0) m = n;
  return DispatchOne(
      "eye", {},
      FactoryAttrs({n, m}, options.dtype.value_or(kDefaultFloatDType), options.device), site);
}

Tensor from_bytes(std::string bytes, const Shape& sizes, DType dtype, Device device,
                  CallSite site) {
  Attrs attrs = FactoryAttrs(sizes, dtype, device);
  attrs.Set("bytes", std::move(bytes));
  return DispatchOne("from_bytes", {}, std::move(attrs), site);
}

}  // namespace deferred
