#include "fake_tensor/ops/random.h"

#include <cmath>
#include <limits>
#include <string>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/region_rules.h"

namespace deferred {
namespace {

// The largest finite value of a floating dtype.
double MaxFinite(DType dtype) {
  switch (dtype) {
    case DType::kFloat16: return 65504.0;
    case DType::kBFloat16: return 0x1.fep127;
    case DType::kFloat32: return std::numeric_limits<float>::max();
    default: return std::numeric_limits<double>::max();
  }
}

// The closed range of integers random_ may produce in `dtype`: all its values for integral
// dtypes; for floating ones the integers up to 2^digits in magnitude, which are all exact.
struct IntegerRange {
  int64_t lowest;
  int64_t highest;
};

IntegerRange IntegerRangeOf(DType dtype) {
  switch (dtype) {
    case DType::kBool: return {0, 1};
    case DType::kUInt8: return {0, 255};
    case DType::kInt32:
      return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    case DType::kInt64:
      return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
    case DType::kFloat16: return {-(int64_t{1} << 11), int64_t{1} << 11};
    case DType::kBFloat16: return {-(int64_t{1} << 8), int64_t{1} << 8};
    case DType::kFloat32: return {-(int64_t{1} << 24), int64_t{1} << 24};
    case DType::kFloat64: return {-(int64_t{1} << 53), int64_t{1} << 53};
  }
  return {0, 0};
}

void CheckFloating(const std::string& op, DType dtype) {
  if (!IsFloatingPoint(dtype)) {
    ThrowError("%s: expects a floating-point dtype, got %s", op, DTypeName(dtype));
  }
}

void CheckUniform(const std::string& op, DType dtype, double from, double to) {
  CheckFloating(op, dtype);
  const double max = MaxFinite(dtype);
  if (!(std::fabs(from) <= max && std::fabs(to) <= max)) {
    ThrowError("%s: from=%g and to=%g must be finite values of %s", op, from, to,
               DTypeName(dtype));
  }
  if (!(from <= to)) ThrowError("%s: expects from <= to, got from=%g > to=%g", op, from, to);
  // The samplers compute to - from in float for all but float64.
  const bool range_finite =
      dtype == DType::kFloat64
          ? std::isfinite(to - from)
          : std::isfinite(static_cast<float>(to) - static_cast<float>(from));
  if (!range_finite) {
    ThrowError("%s: to - from overflows %s (from=%g, to=%g)", op,
               dtype == DType::kFloat64 ? "float64" : "float32", from, to);
  }
}

void CheckNormal(const std::string& op, DType dtype, double mean, double std) {
  CheckFloating(op, dtype);
  if (!(std >= 0.0)) ThrowError("%s: expects std >= 0, got std=%g", op, std);
  if (!std::isfinite(mean) || !std::isfinite(std)) {
    ThrowError("%s: expects a finite mean and std, got mean=%g, std=%g", op, mean, std);
  }
}

void CheckTruncNormal(const std::string& op, DType dtype, double mean, double std, double a,
                      double b) {
  CheckFloating(op, dtype);
  if (!(std > 0.0) || !std::isfinite(std) || !std::isfinite(mean)) {
    ThrowError("%s: expects a finite mean and std > 0, got mean=%g, std=%g", op, mean, std);
  }
  if (!(a < b)) ThrowError("%s: expects a < b, got a=%g, b=%g", op, a, b);
}

void CheckRandom(const std::string& op, DType dtype, int64_t from, int64_t to_inclusive) {
  const IntegerRange range = IntegerRangeOf(dtype);
  if (from < range.lowest || to_inclusive > range.highest) {
    ThrowError("%s: the range [%d, %d] does not fit %s, whose values span [%d, %d]", op, from,
               to_inclusive, DTypeName(dtype), range.lowest, range.highest);
  }
}

void CheckFrom(const std::string& op, int64_t from, int64_t to) {
  if (from >= to) ThrowError("%s: expects from < to, got from=%d >= to=%d", op, from, to);
}

void CheckBernoulli(const std::string& op, double p) {
  if (!(p >= 0.0 && p <= 1.0)) ThrowError("%s: expects 0 <= p <= 1, got p=%g", op, p);
}

// Words per element of the samplers whose precision follows the dtype: float64 takes 53
// bits from two words, the others 24 bits from one (replay/rng/samplers.h).
int64_t FloatingWords(const OpCall& call) {
  return call.inputs[0].dtype() == DType::kFloat64 ? 2 : 1;
}

// random_'s words per element: 64-bit draws for ranges of 2^32 and more
// (rng::RandomWordsPerElement, which fake_tensor cannot include).
int64_t RandomWords(const OpCall& call) {
  const uint64_t span = static_cast<uint64_t>(call.attrs.Get<int64_t>("to_inclusive")) -
                        static_cast<uint64_t>(call.attrs.Get<int64_t>("from"));
  return span >= 0xffffffffull ? 2 : 1;
}

// Registers an in-place random op whose attrs `check` validates against self.
template <typename Check>
void RegisterRandomOp(const char* name, std::vector<AttrSpec> attrs,
                      std::function<int64_t(const OpCall&)> words, Check check) {
  OpRegistry::Global().RegisterOp(OpDef{
      .name = name,
      .kind = OpKind::kInPlace,
      .overwrites = true,
      .attrs = std::move(attrs),
      .shape_rule =
          [check](const OpCall& call) {
            const std::string& op = call.def->name;
            if (call.inputs.size() != 1) {
              ThrowError("%s: expected 1 tensor input, got %d", op, call.inputs.size());
            }
            const Tensor& self = call.inputs[0];
            if (MayHaveInternalOverlap(self.sizes(), self.strides())) {
              ThrowError("%s: %s has elements that share memory (an expanded view?); fill a "
                         "copy instead",
                         op, self.ToString());
            }
            check(op, self.dtype(), call.attrs);
            return TensorSpecs{TensorSpec{self.sizes(), self.dtype(), self.device()}};
          },
      .rng_words_per_element = std::move(words),
      .region_rule = IndexAddressedRegionRule,
  });
}

double AttrDouble(const Attrs& attrs, const char* name) { return attrs.Get<double>(name); }

const bool registered = [] {
  RegisterRandomOp("uniform_", {{"from", AttrType::kDouble}, {"to", AttrType::kDouble}},
                   FloatingWords,
                   [](const std::string& op, DType dtype, const Attrs& attrs) {
                     CheckUniform(op, dtype, AttrDouble(attrs, "from"), AttrDouble(attrs, "to"));
                   });
  RegisterRandomOp("normal_", {{"mean", AttrType::kDouble}, {"std", AttrType::kDouble}},
                   FloatingWords,
                   [](const std::string& op, DType dtype, const Attrs& attrs) {
                     CheckNormal(op, dtype, AttrDouble(attrs, "mean"), AttrDouble(attrs, "std"));
                   });
  RegisterRandomOp("trunc_normal_",
                   {{"mean", AttrType::kDouble},
                    {"std", AttrType::kDouble},
                    {"a", AttrType::kDouble},
                    {"b", AttrType::kDouble}},
                   FloatingWords,
                   [](const std::string& op, DType dtype, const Attrs& attrs) {
                     CheckTruncNormal(op, dtype, AttrDouble(attrs, "mean"),
                                      AttrDouble(attrs, "std"), AttrDouble(attrs, "a"),
                                      AttrDouble(attrs, "b"));
                   });
  RegisterRandomOp("random_", {{"from", AttrType::kInt}, {"to_inclusive", AttrType::kInt}},
                   RandomWords,
                   [](const std::string& op, DType dtype, const Attrs& attrs) {
                     const int64_t from = attrs.Get<int64_t>("from");
                     const int64_t to_inclusive = attrs.Get<int64_t>("to_inclusive");
                     if (from > to_inclusive) {
                       ThrowError("%s: expects from <= to_inclusive, got %d > %d", op, from,
                                  to_inclusive);
                     }
                     CheckRandom(op, dtype, from, to_inclusive);
                   });
  RegisterRandomOp("bernoulli_", {{"p", AttrType::kDouble}},
                   [](const OpCall&) { return int64_t{1}; },
                   [](const std::string& op, DType, const Attrs& attrs) {
                     CheckBernoulli(op, AttrDouble(attrs, "p"));
                   });
  return true;
}();

Tensor RandomInclusive(const Tensor& self, int64_t from, int64_t to_inclusive, CallSite site) {
  return DispatchOne("random_", {self}, Attrs{{"from", from}, {"to_inclusive", to_inclusive}},
                     site);
}

}  // namespace

Tensor uniform_(const Tensor& self, double from, double to, CallSite site) {
  return DispatchOne("uniform_", {self}, Attrs{{"from", from}, {"to", to}}, site);
}

Tensor normal_(const Tensor& self, double mean, double std, CallSite site) {
  return DispatchOne("normal_", {self}, Attrs{{"mean", mean}, {"std", std}}, site);
}

Tensor trunc_normal_(const Tensor& self, double mean, double std, double a, double b,
                     CallSite site) {
  return DispatchOne("trunc_normal_", {self},
                     Attrs{{"mean", mean}, {"std", std}, {"a", a}, {"b", b}}, site);
}

Tensor random_(const Tensor& self, int64_t from, int64_t to, CallSite site) {
  CheckFrom("random_", from, to);
  return RandomInclusive(self, from, to - 1, site);
}

Tensor random_(const Tensor& self, int64_t to, CallSite site) { return random_(self, 0, to, site); }

Tensor random_(const Tensor& self, CallSite site) {
  return RandomInclusive(self, 0, IntegerRangeOf(self.dtype()).highest, site);
}

Tensor bernoulli_(const Tensor& self, double p, CallSite site) {
  return DispatchOne("bernoulli_", {self}, Attrs{{"p", p}}, site);
}

Tensor rand(const Shape& sizes, TensorOptions options, CallSite site) {
  const DType dtype = options.dtype.value_or(kDefaultFloatDType);
  CheckUniform("rand", dtype, 0.0, 1.0);
  return uniform_(empty(sizes, {dtype, options.device}, site), 0.0, 1.0, site);
}

Tensor randn(const Shape& sizes, TensorOptions options, CallSite site) {
  const DType dtype = options.dtype.value_or(kDefaultFloatDType);
  CheckNormal("randn", dtype, 0.0, 1.0);
  return normal_(empty(sizes, {dtype, options.device}, site), 0.0, 1.0, site);
}

Tensor randint(int64_t low, int64_t high, const Shape& sizes, TensorOptions options,
               CallSite site) {
  const DType dtype = options.dtype.value_or(DType::kInt64);
  CheckFrom("randint", low, high);
  CheckRandom("randint", dtype, low, high - 1);
  return random_(empty(sizes, {dtype, options.device}, site), low, high, site);
}

Tensor randperm(int64_t n, TensorOptions options, CallSite site) {
  const DType dtype = options.dtype.value_or(DType::kInt64);
  if (n < 0) ThrowError("randperm: n must be non-negative, got %d", n);
  if (n > 0 && !FitsInDType(Scalar(n - 1), dtype)) {
    ThrowError("randperm: %s cannot hold %d", DTypeName(dtype), n - 1);
  }
  const Tensor keys = random_(empty({n}, {DType::kInt64, options.device}, site), site);
  return to(argsort(keys, 0, false, site), dtype, site);
}

Tensor randint(int64_t high, const Shape& sizes, TensorOptions options, CallSite site) {
  return randint(0, high, sizes, options, site);
}

Tensor normal(double mean, double std, const Shape& sizes, TensorOptions options, CallSite site) {
  const DType dtype = options.dtype.value_or(kDefaultFloatDType);
  CheckNormal("normal", dtype, mean, std);
  return normal_(empty(sizes, {dtype, options.device}, site), mean, std, site);
}

}  // namespace deferred
