#include "fake_tensor/ops/elementwise.h"

#include <string>
#include <string_view>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/region_rules.h"

namespace deferred {
namespace {

// How an op's result dtype follows from its promoted input dtype.
enum class ResultDType {
  kPromoted,   // add, sub, mul, pow, clamp
  kFloating,   // div and the transcendental unary ops: integers give float32
  kBool,       // comparisons
};

DType ResultFrom(DType promoted, ResultDType rule) {
  switch (rule) {
    case ResultDType::kPromoted: return promoted;
    case ResultDType::kFloating:
      return IsFloatingPoint(promoted) ? promoted : kDefaultFloatDType;
    case ResultDType::kBool: return DType::kBool;
  }
  return promoted;
}

// PyTorch's canCast: no floating result into an integer tensor, nothing but bool into bool.
void CheckCastableInPlace(const std::string& op, DType result, DType self) {
  const bool float_to_int = IsFloatingPoint(result) && !IsFloatingPoint(self);
  const bool to_bool = self == DType::kBool && result != DType::kBool;
  if (float_to_int || to_bool) {
    ThrowError("%s: result type %s can't be cast to the in-place output's dtype %s", op,
               DTypeName(result), DTypeName(self));
  }
}

void CheckNotBool(const std::string& op, DType dtype) {
  if (dtype == DType::kBool) {
    ThrowError("%s: not supported for bool tensors; use logical ops or convert with to()", op);
  }
}

struct BinaryOp {
  const char* name;
  ResultDType result;
  bool rejects_bool;  // sub on bool, as in PyTorch
};

constexpr BinaryOp kBinaryOps[] = {
    {"add", ResultDType::kPromoted, false}, {"sub", ResultDType::kPromoted, true},
    {"mul", ResultDType::kPromoted, false}, {"div", ResultDType::kFloating, false},
    {"pow", ResultDType::kPromoted, true},  {"eq", ResultDType::kBool, false},
    {"ne", ResultDType::kBool, false},      {"lt", ResultDType::kBool, false},
    {"le", ResultDType::kBool, false},      {"gt", ResultDType::kBool, false},
    {"ge", ResultDType::kBool, false},
};

struct UnaryOp {
  const char* name;
  ResultDType result;
  bool rejects_bool;
};

constexpr UnaryOp kUnaryOps[] = {
    {"neg", ResultDType::kPromoted, true},  {"abs", ResultDType::kPromoted, true},
    {"exp", ResultDType::kFloating, false}, {"log", ResultDType::kFloating, false},
    {"sqrt", ResultDType::kFloating, false}, {"rsqrt", ResultDType::kFloating, false},
    {"sin", ResultDType::kFloating, false}, {"cos", ResultDType::kFloating, false},
};

// Result spec of a binary op between inputs 0 and 1.
TensorSpec BinarySpec(const OpCall& call, const BinaryOp& op) {
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  const DType promoted = PromoteTypes(a.dtype(), b.dtype());
  if (op.rejects_bool && promoted == DType::kBool) CheckNotBool(call.def->name, promoted);
  return TensorSpec{BroadcastShapes(a.sizes(), b.sizes(), call.def->name),
                    ResultFrom(promoted, op.result), a.device()};
}

TensorSpec ScalarSpec(const OpCall& call, const BinaryOp& op) {
  const Tensor& a = call.inputs[0];
  const Scalar& other = call.attrs.Get<Scalar>("other");
  const DType promoted = PromoteWithScalar(a.dtype(), other);
  if (op.rejects_bool && promoted == DType::kBool) CheckNotBool(call.def->name, promoted);
  if (std::string_view(op.name) == "pow" && IsIntegral(promoted) && other.to<int64_t>() < 0) {
    ThrowError("%s: integers to negative integer powers are not allowed (%s tensor to the "
               "power %s)",
               call.def->name, DTypeName(a.dtype()), other.ToString());
  }
  return TensorSpec{a.sizes(), ResultFrom(promoted, op.result), a.device()};
}

// Throws unless each element of the in-place output `self` is its own memory: writing an
// expanded view element by element would race, and the result would depend on the order.
void CheckWritable(const std::string& op, const Tensor& self) {
  if (MayHaveInternalOverlap(self.sizes(), self.strides())) {
    ThrowError("%s: the in-place output %s has elements that share memory (an expanded "
               "view?); write into a copy instead",
               op, self.ToString());
  }
}

// An in-place op's spec is self's; `result` is what the functional form would produce.
std::vector<TensorSpec> InPlaceSpec(const OpCall& call, const TensorSpec& result) {
  const Tensor& self = call.inputs[0];
  CheckWritable(call.def->name, self);
  if (result.sizes != self.sizes()) {
    ThrowError("%s: the result's shape %s does not match self's shape %s (in-place ops do "
               "not broadcast self)",
               call.def->name, ShapeToString(result.sizes), ShapeToString(self.sizes()));
  }
  CheckCastableInPlace(call.def->name, result.dtype, self.dtype());
  return {TensorSpec{self.sizes(), self.dtype(), self.device()}};
}

void CheckInputCount(const OpCall& call, size_t expected) {
  if (call.inputs.size() != expected) {
    ThrowError("%s: expected %d tensor inputs, got %d", call.def->name, expected,
               call.inputs.size());
  }
}

void RegisterBinaryOps(OpRegistry& registry) {
  for (const BinaryOp& op : kBinaryOps) {
    const std::string name = op.name;
    registry.RegisterOp(OpDef{.name = name, .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 2);
                                return std::vector<TensorSpec>{BinarySpec(call, op)};
                              },
                            .region_rule = ElementwiseRegionRule});
    registry.RegisterOp(OpDef{.name = name + "_scalar", .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 1);
                                return std::vector<TensorSpec>{ScalarSpec(call, op)};
                              },
                            .region_rule = ElementwiseRegionRule});
    if (op.result == ResultDType::kBool) continue;
    registry.RegisterOp(OpDef{.name = name + "_",
                              .kind = OpKind::kInPlace,
                              .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 2);
                                return InPlaceSpec(call, BinarySpec(call, op));
                              },
                            .region_rule = ElementwiseRegionRule});
    registry.RegisterOp(OpDef{.name = name + "_scalar_",
                              .kind = OpKind::kInPlace,
                              .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 1);
                                return InPlaceSpec(call, ScalarSpec(call, op));
                              },
                            .region_rule = ElementwiseRegionRule});
  }
}

TensorSpec UnarySpec(const OpCall& call, ResultDType result, bool rejects_bool) {
  const Tensor& a = call.inputs[0];
  if (rejects_bool) CheckNotBool(call.def->name, a.dtype());
  return TensorSpec{a.sizes(), ResultFrom(a.dtype(), result), a.device()};
}

void RegisterUnaryOps(OpRegistry& registry) {
  for (const UnaryOp& op : kUnaryOps) {
    const std::string name = op.name;
    registry.RegisterOp(OpDef{.name = name, .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 1);
                                return std::vector<TensorSpec>{
                                    UnarySpec(call, op.result, op.rejects_bool)};
                              },
                            .region_rule = ElementwiseRegionRule});
    registry.RegisterOp(OpDef{.name = name + "_",
                              .kind = OpKind::kInPlace,
                              .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 1);
                                return InPlaceSpec(call,
                                                   UnarySpec(call, op.result, op.rejects_bool));
                              },
                            .region_rule = ElementwiseRegionRule});
  }
}

TensorSpec ClampSpec(const OpCall& call) {
  const Tensor& a = call.inputs[0];
  CheckNotBool(call.def->name, a.dtype());
  const Scalar& min = call.attrs.Get<Scalar>("min");
  const Scalar& max = call.attrs.Get<Scalar>("max");
  const DType dtype = PromoteTypes(PromoteWithScalar(a.dtype(), min),
                                   PromoteWithScalar(a.dtype(), max));
  for (const Scalar* bound : {&min, &max}) {
    if (!FitsInDType(*bound, dtype)) {
      ThrowError("%s: bound %s cannot be converted to %s without overflow", call.def->name,
                 bound->ToString(), DTypeName(dtype));
    }
  }
  return TensorSpec{a.sizes(), dtype, a.device()};
}

const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  RegisterBinaryOps(registry);
  RegisterUnaryOps(registry);
  registry.RegisterOp(OpDef{.name = "clamp", .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              return std::vector<TensorSpec>{ClampSpec(call)};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "clamp_",
                            .kind = OpKind::kInPlace,
                            .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              return InPlaceSpec(call, ClampSpec(call));
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "where", .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 3);
                              const Tensor& condition = call.inputs[0];
                              if (condition.dtype() != DType::kBool) {
                                ThrowError("where: condition must be bool, got %s",
                                           DTypeName(condition.dtype()));
                              }
                              const Tensor& a = call.inputs[1];
                              const Tensor& b = call.inputs[2];
                              const Shape sizes = BroadcastShapes(
                                  condition.sizes(),
                                  BroadcastShapes(a.sizes(), b.sizes(), "where"), "where");
                              return std::vector<TensorSpec>{TensorSpec{
                                  sizes, PromoteTypes(a.dtype(), b.dtype()), a.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "to", .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              const Tensor& a = call.inputs[0];
                              return std::vector<TensorSpec>{TensorSpec{
                                  a.sizes(), call.attrs.Get<DType>("dtype"), a.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "fill_",
                            .kind = OpKind::kInPlace,
                            .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              const Tensor& self = call.inputs[0];
                              const Scalar& value = call.attrs.Get<Scalar>("value");
                              if (!FitsInDType(value, self.dtype())) {
                                ThrowError("fill_: value %s cannot be converted to %s without "
                                           "overflow",
                                           value.ToString(), DTypeName(self.dtype()));
                              }
                              return std::vector<TensorSpec>{
                                  TensorSpec{self.sizes(), self.dtype(), self.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "copy_",
                            .kind = OpKind::kInPlace,
                            .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 2);
                              const Tensor& self = call.inputs[0];
                              const Tensor& src = call.inputs[1];
                              CheckWritable("copy_", self);
                              if (BroadcastShapes(self.sizes(), src.sizes(), "copy_") !=
                                  self.sizes()) {
                                ThrowError("copy_: source of shape %s does not broadcast to "
                                           "destination shape %s",
                                           ShapeToString(src.sizes()),
                                           ShapeToString(self.sizes()));
                              }
                              return std::vector<TensorSpec>{
                                  TensorSpec{self.sizes(), self.dtype(), self.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  return true;
}();

Tensor Binary(const char* name, const Tensor& a, const Tensor& b) {
  return DispatchOne(name, {a, b}, {});
}

Tensor BinaryScalar(const std::string& name, const Tensor& a, Scalar b) {
  return DispatchOne(name + "_scalar", {a}, Attrs{{"other", b}});
}

Tensor InPlaceScalar(const std::string& name, const Tensor& self, Scalar other) {
  return DispatchOne(name + "_scalar_", {self}, Attrs{{"other", other}});
}

Tensor Unary(const char* name, const Tensor& a) { return DispatchOne(name, {a}, {}); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return Binary("add", a, b); }
Tensor add(const Tensor& a, Scalar b) { return BinaryScalar("add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return Binary("sub", a, b); }
Tensor sub(const Tensor& a, Scalar b) { return BinaryScalar("sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return Binary("mul", a, b); }
Tensor mul(const Tensor& a, Scalar b) { return BinaryScalar("mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return Binary("div", a, b); }
Tensor div(const Tensor& a, Scalar b) { return BinaryScalar("div", a, b); }
Tensor pow(const Tensor& a, const Tensor& exponent) { return Binary("pow", a, exponent); }
Tensor pow(const Tensor& a, Scalar exponent) { return BinaryScalar("pow", a, exponent); }

Tensor add_(const Tensor& self, const Tensor& other) { return Binary("add_", self, other); }
Tensor add_(const Tensor& self, Scalar other) { return InPlaceScalar("add", self, other); }
Tensor sub_(const Tensor& self, const Tensor& other) { return Binary("sub_", self, other); }
Tensor sub_(const Tensor& self, Scalar other) { return InPlaceScalar("sub", self, other); }
Tensor mul_(const Tensor& self, const Tensor& other) { return Binary("mul_", self, other); }
Tensor mul_(const Tensor& self, Scalar other) { return InPlaceScalar("mul", self, other); }
Tensor div_(const Tensor& self, const Tensor& other) { return Binary("div_", self, other); }
Tensor div_(const Tensor& self, Scalar other) { return InPlaceScalar("div", self, other); }
Tensor pow_(const Tensor& self, Scalar exponent) { return InPlaceScalar("pow", self, exponent); }

Tensor neg(const Tensor& a) { return Unary("neg", a); }
Tensor abs(const Tensor& a) { return Unary("abs", a); }
Tensor exp(const Tensor& a) { return Unary("exp", a); }
Tensor log(const Tensor& a) { return Unary("log", a); }
Tensor sqrt(const Tensor& a) { return Unary("sqrt", a); }
Tensor rsqrt(const Tensor& a) { return Unary("rsqrt", a); }
Tensor sin(const Tensor& a) { return Unary("sin", a); }
Tensor cos(const Tensor& a) { return Unary("cos", a); }
Tensor neg_(const Tensor& self) { return Unary("neg_", self); }
Tensor abs_(const Tensor& self) { return Unary("abs_", self); }
Tensor exp_(const Tensor& self) { return Unary("exp_", self); }
Tensor log_(const Tensor& self) { return Unary("log_", self); }
Tensor sqrt_(const Tensor& self) { return Unary("sqrt_", self); }
Tensor rsqrt_(const Tensor& self) { return Unary("rsqrt_", self); }
Tensor sin_(const Tensor& self) { return Unary("sin_", self); }
Tensor cos_(const Tensor& self) { return Unary("cos_", self); }

Tensor clamp(const Tensor& a, Scalar min, Scalar max) {
  return DispatchOne("clamp", {a}, Attrs{{"min", min}, {"max", max}});
}
Tensor clamp_(const Tensor& self, Scalar min, Scalar max) {
  return DispatchOne("clamp_", {self}, Attrs{{"min", min}, {"max", max}});
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  return DispatchOne("where", {condition, a, b}, {});
}

Tensor eq(const Tensor& a, const Tensor& b) { return Binary("eq", a, b); }
Tensor eq(const Tensor& a, Scalar b) { return BinaryScalar("eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return Binary("ne", a, b); }
Tensor ne(const Tensor& a, Scalar b) { return BinaryScalar("ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return Binary("lt", a, b); }
Tensor lt(const Tensor& a, Scalar b) { return BinaryScalar("lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return Binary("le", a, b); }
Tensor le(const Tensor& a, Scalar b) { return BinaryScalar("le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return Binary("gt", a, b); }
Tensor gt(const Tensor& a, Scalar b) { return BinaryScalar("gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return Binary("ge", a, b); }
Tensor ge(const Tensor& a, Scalar b) { return BinaryScalar("ge", a, b); }

Tensor to(const Tensor& a, DType dtype) {
  if (a.dtype() == dtype) return a;
  return DispatchOne("to", {a}, Attrs{{"dtype", dtype}});
}

Tensor fill_(const Tensor& self, Scalar value) {
  return DispatchOne("fill_", {self}, Attrs{{"value", value}});
}
Tensor zero_(const Tensor& self) { return fill_(self, 0); }
Tensor copy_(const Tensor& self, const Tensor& src) { return Binary("copy_", self, src); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace deferred
