#include "fake_tensor/ops/elementwise.h"

#include <string>
#include <string_view>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/factories.h"
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
  bool rejects_bool;           // sub on bool, as in PyTorch
  bool tensors_only = false;   // no Scalar or in-place forms: maximum, minimum
};

constexpr BinaryOp kBinaryOps[] = {
    {"add", ResultDType::kPromoted, false}, {"sub", ResultDType::kPromoted, true},
    {"mul", ResultDType::kPromoted, false}, {"div", ResultDType::kFloating, false},
    {"pow", ResultDType::kPromoted, true},  {"eq", ResultDType::kBool, false},
    {"ne", ResultDType::kBool, false},      {"lt", ResultDType::kBool, false},
    {"le", ResultDType::kBool, false},      {"gt", ResultDType::kBool, false},
    {"ge", ResultDType::kBool, false},
    {"maximum", ResultDType::kPromoted, false, /*tensors_only=*/true},
    {"minimum", ResultDType::kPromoted, false, /*tensors_only=*/true},
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
    {"tanh", ResultDType::kFloating, false}, {"sigmoid", ResultDType::kFloating, false},
    {"erf", ResultDType::kFloating, false}, {"log2", ResultDType::kFloating, false},
    {"exp2", ResultDType::kFloating, false}, {"expm1", ResultDType::kFloating, false},
    {"log1p", ResultDType::kFloating, false}, {"reciprocal", ResultDType::kFloating, false},
    {"floor", ResultDType::kPromoted, true}, {"ceil", ResultDType::kPromoted, true},
    {"round", ResultDType::kPromoted, true}, {"sign", ResultDType::kPromoted, false},
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
TensorSpecs InPlaceSpec(const OpCall& call, const TensorSpec& result) {
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
                                return TensorSpecs{BinarySpec(call, op)};
                              },
                            .region_rule = ElementwiseRegionRule});
    if (op.tensors_only) continue;
    registry.RegisterOp(OpDef{.name = name + "_scalar",
                              .attrs = {{"other", AttrType::kScalar}},
                              .shape_rule = [op](const OpCall& call) {
                                CheckInputCount(call, 1);
                                return TensorSpecs{ScalarSpec(call, op)};
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
                              .attrs = {{"other", AttrType::kScalar}},
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
                                return TensorSpecs{UnarySpec(call, op.result, op.rejects_bool)};
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
  registry.RegisterOp(OpDef{.name = "clamp",
                            .attrs = {{"min", AttrType::kScalar}, {"max", AttrType::kScalar}},
                            .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              return TensorSpecs{ClampSpec(call)};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "clamp_",
                            .kind = OpKind::kInPlace,
                            .attrs = {{"min", AttrType::kScalar}, {"max", AttrType::kScalar}},
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
                              return TensorSpecs{TensorSpec{
                                  sizes, PromoteTypes(a.dtype(), b.dtype()), a.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "to",
                            .attrs = {{"dtype", AttrType::kDType}},
                            .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              const Tensor& a = call.inputs[0];
                              return TensorSpecs{TensorSpec{
                                  a.sizes(), call.attrs.Get<DType>("dtype"), a.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "fill_",
                            .kind = OpKind::kInPlace,
                            .overwrites = true,
                            .attrs = {{"value", AttrType::kScalar}},
                            .shape_rule = [](const OpCall& call) {
                              CheckInputCount(call, 1);
                              const Tensor& self = call.inputs[0];
                              const Scalar& value = call.attrs.Get<Scalar>("value");
                              if (!FitsInDType(value, self.dtype())) {
                                ThrowError("fill_: value %s cannot be converted to %s without "
                                           "overflow",
                                           value.ToString(), DTypeName(self.dtype()));
                              }
                              return TensorSpecs{
                                  TensorSpec{self.sizes(), self.dtype(), self.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  registry.RegisterOp(OpDef{.name = "copy_",
                            .kind = OpKind::kInPlace,
                            .overwrites = true,
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
                              return TensorSpecs{
                                  TensorSpec{self.sizes(), self.dtype(), self.device()}};
                            },
                          .region_rule = ElementwiseRegionRule});
  return true;
}();

Tensor Binary(const char* name, const Tensor& a, const Tensor& b, CallSite site) {
  return DispatchOne(name, {a, b}, {}, site);
}

Tensor BinaryScalar(const std::string& name, const Tensor& a, Scalar b, CallSite site) {
  return DispatchOne(name + "_scalar", {a}, Attrs{{"other", b}}, site);
}

Tensor InPlaceScalar(const std::string& name, const Tensor& self, Scalar other, CallSite site) {
  return DispatchOne(name + "_scalar_", {self}, Attrs{{"other", other}}, site);
}

Tensor Unary(const char* name, const Tensor& a, CallSite site) {
  return DispatchOne(name, {a}, {}, site);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, CallSite site) { return Binary("add", a, b, site); }
Tensor add(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("add", a, b, site); }
Tensor sub(const Tensor& a, const Tensor& b, CallSite site) { return Binary("sub", a, b, site); }
Tensor sub(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("sub", a, b, site); }
Tensor mul(const Tensor& a, const Tensor& b, CallSite site) { return Binary("mul", a, b, site); }
Tensor mul(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("mul", a, b, site); }
Tensor div(const Tensor& a, const Tensor& b, CallSite site) { return Binary("div", a, b, site); }
Tensor div(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("div", a, b, site); }
Tensor pow(const Tensor& a, const Tensor& exponent, CallSite site) {
  return Binary("pow", a, exponent, site);
}
Tensor pow(const Tensor& a, Scalar exponent, CallSite site) {
  return BinaryScalar("pow", a, exponent, site);
}
Tensor pow(Scalar base, const Tensor& exponent, CallSite site) {
  const DType result = PromoteWithScalar(exponent.dtype(), base);
  // The base enters in the op-math type, as a Scalar operand does elsewhere.
  const DType math =
      result == DType::kFloat16 || result == DType::kBFloat16 ? DType::kFloat32 : result;
  const Tensor powers =
      pow(full({}, base, {.dtype = math, .device = exponent.device()}, site), exponent, site);
  return to(powers, result, site);
}

Tensor add_(const Tensor& self, const Tensor& other, CallSite site) {
  return Binary("add_", self, other, site);
}
Tensor add_(const Tensor& self, Scalar other, CallSite site) {
  return InPlaceScalar("add", self, other, site);
}
Tensor sub_(const Tensor& self, const Tensor& other, CallSite site) {
  return Binary("sub_", self, other, site);
}
Tensor sub_(const Tensor& self, Scalar other, CallSite site) {
  return InPlaceScalar("sub", self, other, site);
}
Tensor mul_(const Tensor& self, const Tensor& other, CallSite site) {
  return Binary("mul_", self, other, site);
}
Tensor mul_(const Tensor& self, Scalar other, CallSite site) {
  return InPlaceScalar("mul", self, other, site);
}
Tensor div_(const Tensor& self, const Tensor& other, CallSite site) {
  return Binary("div_", self, other, site);
}
Tensor div_(const Tensor& self, Scalar other, CallSite site) {
  return InPlaceScalar("div", self, other, site);
}
Tensor pow_(const Tensor& self, const Tensor& exponent, CallSite site) {
  return Binary("pow_", self, exponent, site);
}
Tensor pow_(const Tensor& self, Scalar exponent, CallSite site) {
  return InPlaceScalar("pow", self, exponent, site);
}

Tensor masked_fill(const Tensor& self, const Tensor& mask, Scalar value, CallSite site) {
  if (mask.dtype() != DType::kBool) {
    ThrowError("masked_fill: the mask must be bool, got %s", DTypeName(mask.dtype()));
  }
  if (BroadcastShapes(self.sizes(), mask.sizes(), "masked_fill") != self.sizes()) {
    ThrowError("masked_fill: a mask of shape %s does not broadcast to self's shape %s",
               ShapeToString(mask.sizes()), ShapeToString(self.sizes()));
  }
  if (!FitsInDType(value, self.dtype())) {
    ThrowError("masked_fill: value %s does not fit %s", value.ToString(),
               DTypeName(self.dtype()));
  }
  return where(mask, full({}, value, {.dtype = self.dtype(), .device = self.device()}, site),
               self, site);
}
Tensor masked_fill_(const Tensor& self, const Tensor& mask, Scalar value, CallSite site) {
  return copy_(self, masked_fill(self, mask, value, site), site);
}

Tensor neg(const Tensor& a, CallSite site) { return Unary("neg", a, site); }
Tensor abs(const Tensor& a, CallSite site) { return Unary("abs", a, site); }
Tensor exp(const Tensor& a, CallSite site) { return Unary("exp", a, site); }
Tensor log(const Tensor& a, CallSite site) { return Unary("log", a, site); }
Tensor sqrt(const Tensor& a, CallSite site) { return Unary("sqrt", a, site); }
Tensor rsqrt(const Tensor& a, CallSite site) { return Unary("rsqrt", a, site); }
Tensor sin(const Tensor& a, CallSite site) { return Unary("sin", a, site); }
Tensor cos(const Tensor& a, CallSite site) { return Unary("cos", a, site); }
Tensor neg_(const Tensor& self, CallSite site) { return Unary("neg_", self, site); }
Tensor abs_(const Tensor& self, CallSite site) { return Unary("abs_", self, site); }
Tensor exp_(const Tensor& self, CallSite site) { return Unary("exp_", self, site); }
Tensor log_(const Tensor& self, CallSite site) { return Unary("log_", self, site); }
Tensor sqrt_(const Tensor& self, CallSite site) { return Unary("sqrt_", self, site); }
Tensor rsqrt_(const Tensor& self, CallSite site) { return Unary("rsqrt_", self, site); }
Tensor sin_(const Tensor& self, CallSite site) { return Unary("sin_", self, site); }
Tensor cos_(const Tensor& self, CallSite site) { return Unary("cos_", self, site); }
Tensor tanh(const Tensor& a, CallSite site) { return Unary("tanh", a, site); }
Tensor sigmoid(const Tensor& a, CallSite site) { return Unary("sigmoid", a, site); }
Tensor erf(const Tensor& a, CallSite site) { return Unary("erf", a, site); }
Tensor log2(const Tensor& a, CallSite site) { return Unary("log2", a, site); }
Tensor exp2(const Tensor& a, CallSite site) { return Unary("exp2", a, site); }
Tensor expm1(const Tensor& a, CallSite site) { return Unary("expm1", a, site); }
Tensor log1p(const Tensor& a, CallSite site) { return Unary("log1p", a, site); }
Tensor reciprocal(const Tensor& a, CallSite site) { return Unary("reciprocal", a, site); }
Tensor floor(const Tensor& a, CallSite site) { return Unary("floor", a, site); }
Tensor ceil(const Tensor& a, CallSite site) { return Unary("ceil", a, site); }
Tensor round(const Tensor& a, CallSite site) { return Unary("round", a, site); }
Tensor sign(const Tensor& a, CallSite site) { return Unary("sign", a, site); }
Tensor tanh_(const Tensor& self, CallSite site) { return Unary("tanh_", self, site); }
Tensor sigmoid_(const Tensor& self, CallSite site) { return Unary("sigmoid_", self, site); }
Tensor erf_(const Tensor& self, CallSite site) { return Unary("erf_", self, site); }
Tensor log2_(const Tensor& self, CallSite site) { return Unary("log2_", self, site); }
Tensor exp2_(const Tensor& self, CallSite site) { return Unary("exp2_", self, site); }
Tensor expm1_(const Tensor& self, CallSite site) { return Unary("expm1_", self, site); }
Tensor log1p_(const Tensor& self, CallSite site) { return Unary("log1p_", self, site); }
Tensor reciprocal_(const Tensor& self, CallSite site) { return Unary("reciprocal_", self, site); }
Tensor floor_(const Tensor& self, CallSite site) { return Unary("floor_", self, site); }
Tensor ceil_(const Tensor& self, CallSite site) { return Unary("ceil_", self, site); }
Tensor round_(const Tensor& self, CallSite site) { return Unary("round_", self, site); }
Tensor sign_(const Tensor& self, CallSite site) { return Unary("sign_", self, site); }

Tensor clamp(const Tensor& a, Scalar min, Scalar max, CallSite site) {
  return DispatchOne("clamp", {a}, Attrs{{"min", min}, {"max", max}}, site);
}
Tensor clamp_(const Tensor& self, Scalar min, Scalar max, CallSite site) {
  return DispatchOne("clamp_", {self}, Attrs{{"min", min}, {"max", max}}, site);
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b, CallSite site) {
  return DispatchOne("where", {condition, a, b}, {}, site);
}

Tensor eq(const Tensor& a, const Tensor& b, CallSite site) { return Binary("eq", a, b, site); }
Tensor eq(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("eq", a, b, site); }
Tensor ne(const Tensor& a, const Tensor& b, CallSite site) { return Binary("ne", a, b, site); }
Tensor ne(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("ne", a, b, site); }
Tensor lt(const Tensor& a, const Tensor& b, CallSite site) { return Binary("lt", a, b, site); }
Tensor lt(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("lt", a, b, site); }
Tensor le(const Tensor& a, const Tensor& b, CallSite site) { return Binary("le", a, b, site); }
Tensor le(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("le", a, b, site); }
Tensor gt(const Tensor& a, const Tensor& b, CallSite site) { return Binary("gt", a, b, site); }
Tensor gt(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("gt", a, b, site); }
Tensor ge(const Tensor& a, const Tensor& b, CallSite site) { return Binary("ge", a, b, site); }
Tensor ge(const Tensor& a, Scalar b, CallSite site) { return BinaryScalar("ge", a, b, site); }
Tensor maximum(const Tensor& a, const Tensor& b, CallSite site) {
  return Binary("maximum", a, b, site);
}
Tensor minimum(const Tensor& a, const Tensor& b, CallSite site) {
  return Binary("minimum", a, b, site);
}

Tensor to(const Tensor& a, DType dtype, CallSite site) {
  if (a.dtype() == dtype) return a;
  return DispatchOne("to", {a}, Attrs{{"dtype", dtype}}, site);
}

Tensor fill_(const Tensor& self, Scalar value, CallSite site) {
  return DispatchOne("fill_", {self}, Attrs{{"value", value}}, site);
}
Tensor zero_(const Tensor& self, CallSite site) { return fill_(self, 0, site); }
Tensor copy_(const Tensor& self, const Tensor& src, CallSite site) {
  return Binary("copy_", self, src, site);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b, CallSite::Unknown()); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, b, CallSite::Unknown()); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b, CallSite::Unknown()); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b, CallSite::Unknown()); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b, CallSite::Unknown()); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b, CallSite::Unknown()); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a, CallSite::Unknown()); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b, CallSite::Unknown()); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, b, CallSite::Unknown()); }
Tensor operator+(Scalar a, const Tensor& b) { return add(b, a, CallSite::Unknown()); }
// a - b is a + (-b) in IEEE and in wrapping integer arithmetic alike.
Tensor operator-(Scalar a, const Tensor& b) {
  return add(neg(b, CallSite::Unknown()), a, CallSite::Unknown());
}
// As PyTorch's Tensor.__rtruediv__ computes it: reciprocal(b) * a.
Tensor operator/(Scalar a, const Tensor& b) {
  return mul(reciprocal(b, CallSite::Unknown()), a, CallSite::Unknown());
}
Tensor operator-(const Tensor& a) { return neg(a, CallSite::Unknown()); }

}  // namespace deferred
