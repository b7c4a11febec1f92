// Every Tensor method against its free function: the same ops reach the dispatcher with
// the same attrs and the caller's line as their site, and give the same bits.
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/reductions.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/ops/views.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

// One call as the dispatcher handed it to the mode.
struct LoggedCall {
  std::string op;
  std::vector<std::pair<std::string, AttrValue>> attrs;
  int line = 0;
  bool operator==(const LoggedCall&) const = default;
  friend void PrintTo(const LoggedCall& call, std::ostream* os) {
    *os << call.op << " (" << call.attrs.size() << " attrs) at line " << call.line;
  }
};

// Runs every call eagerly and logs it.
class LoggingMode : public DispatchMode {
 public:
  std::vector<Tensor> Run(OpCall& call) override {
    log.push_back({call.def->name, call.attrs.entries(), call.site.line()});
    return RunEager(call);
  }
  std::vector<LoggedCall> log;
};

using Op = std::function<Tensor(const Tensor&)>;

struct MethodCase {
  std::string name;
  Op method;
  Op function;
  int line;  // of both calls
};

// What running `op` on a fresh copy of the 3x4 input logs and gives: its result, and the
// input afterwards (in-place ops change it).
struct Outcome {
  std::vector<LoggedCall> log;
  std::string result;
  std::string input_after;
};

Outcome RunOn(const Op& op, bool integral) {
  manual_seed(7);
  const Tensor input =
      integral ? arange(1, 13, 1, {.dtype = DType::kInt64}).view({3, 4})
               : from_data<float>({0.5f, -1.25f, 2.0f, 3.5f, -0.75f, 1.0f, 0.25f, -2.5f, 4.0f,
                                   0.125f, -3.0f, 1.5f},
                                  {3, 4});
  LoggingMode mode;
  Tensor result;
  {
    ScopedDispatchMode scope(&mode);
    result = op(input);
  }
  return {mode.log, result.to_bytes(), input.to_bytes()};
}

// Operands made when first used: ops register during static initialization.
Tensor Other() { return from_data<float>({1.0f, -2.0f, 0.5f, 3.0f}); }
Tensor Square() {
  return from_data<float>({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f}, {4, 2});
}

std::vector<MethodCase> FloatCases() {
  using T = const Tensor&;
  const Tensor kOther = Other();
  const Tensor kSquare = Square();
  const Tensor& o = kOther;
  return {
      {"add", [kOther](T x) { return x.add(kOther); }, [kOther](T x) { return add(x, kOther); }, __LINE__},
      {"add scalar", [](T x) { return x.add(2.5); }, [](T x) { return add(x, 2.5); }, __LINE__},
      {"sub", [kOther](T x) { return x.sub(kOther); }, [kOther](T x) { return sub(x, kOther); }, __LINE__},
      {"sub scalar", [](T x) { return x.sub(1); }, [](T x) { return sub(x, 1); }, __LINE__},
      {"mul", [kOther](T x) { return x.mul(kOther); }, [kOther](T x) { return mul(x, kOther); }, __LINE__},
      {"mul scalar", [](T x) { return x.mul(3); }, [](T x) { return mul(x, 3); }, __LINE__},
      {"div", [kOther](T x) { return x.div(kOther); }, [kOther](T x) { return div(x, kOther); }, __LINE__},
      {"div scalar", [](T x) { return x.div(4.0); }, [](T x) { return div(x, 4.0); }, __LINE__},
      {"pow", [kOther](T x) { return x.pow(kOther); }, [kOther](T x) { return pow(x, kOther); }, __LINE__},
      {"pow scalar", [](T x) { return x.pow(2); }, [](T x) { return pow(x, 2); }, __LINE__},
      {"maximum", [kOther](T x) { return x.maximum(kOther); }, [kOther](T x) { return maximum(x, kOther); }, __LINE__},
      {"minimum", [kOther](T x) { return x.minimum(kOther); }, [kOther](T x) { return minimum(x, kOther); }, __LINE__},
      {"add_", [kOther](T x) { return x.add_(kOther); }, [kOther](T x) { return add_(x, kOther); }, __LINE__},
      {"add_ scalar", [](T x) { return x.add_(2); }, [](T x) { return add_(x, 2); }, __LINE__},
      {"sub_", [kOther](T x) { return x.sub_(kOther); }, [kOther](T x) { return sub_(x, kOther); }, __LINE__},
      {"sub_ scalar", [](T x) { return x.sub_(2); }, [](T x) { return sub_(x, 2); }, __LINE__},
      {"mul_", [kOther](T x) { return x.mul_(kOther); }, [kOther](T x) { return mul_(x, kOther); }, __LINE__},
      {"mul_ scalar", [](T x) { return x.mul_(2); }, [](T x) { return mul_(x, 2); }, __LINE__},
      {"div_", [kOther](T x) { return x.div_(kOther); }, [kOther](T x) { return div_(x, kOther); }, __LINE__},
      {"div_ scalar", [](T x) { return x.div_(2); }, [](T x) { return div_(x, 2); }, __LINE__},
      {"pow_", [kOther](T x) { return x.pow_(kOther); }, [kOther](T x) { return pow_(x, kOther); }, __LINE__},
      {"pow_ scalar", [](T x) { return x.pow_(3); }, [](T x) { return pow_(x, 3); }, __LINE__},
      {"neg", [](T x) { return x.neg(); }, [](T x) { return neg(x); }, __LINE__},
      {"abs", [](T x) { return x.abs(); }, [](T x) { return abs(x); }, __LINE__},
      {"exp", [](T x) { return x.exp(); }, [](T x) { return exp(x); }, __LINE__},
      {"log", [](T x) { return x.log(); }, [](T x) { return log(x); }, __LINE__},
      {"sqrt", [](T x) { return x.sqrt(); }, [](T x) { return sqrt(x); }, __LINE__},
      {"rsqrt", [](T x) { return x.rsqrt(); }, [](T x) { return rsqrt(x); }, __LINE__},
      {"sin", [](T x) { return x.sin(); }, [](T x) { return sin(x); }, __LINE__},
      {"cos", [](T x) { return x.cos(); }, [](T x) { return cos(x); }, __LINE__},
      {"tanh", [](T x) { return x.tanh(); }, [](T x) { return tanh(x); }, __LINE__},
      {"sigmoid", [](T x) { return x.sigmoid(); }, [](T x) { return sigmoid(x); }, __LINE__},
      {"erf", [](T x) { return x.erf(); }, [](T x) { return erf(x); }, __LINE__},
      {"log2", [](T x) { return x.log2(); }, [](T x) { return log2(x); }, __LINE__},
      {"exp2", [](T x) { return x.exp2(); }, [](T x) { return exp2(x); }, __LINE__},
      {"expm1", [](T x) { return x.expm1(); }, [](T x) { return expm1(x); }, __LINE__},
      {"log1p", [](T x) { return x.log1p(); }, [](T x) { return log1p(x); }, __LINE__},
      {"reciprocal", [](T x) { return x.reciprocal(); }, [](T x) { return reciprocal(x); }, __LINE__},
      {"floor", [](T x) { return x.floor(); }, [](T x) { return floor(x); }, __LINE__},
      {"ceil", [](T x) { return x.ceil(); }, [](T x) { return ceil(x); }, __LINE__},
      {"round", [](T x) { return x.round(); }, [](T x) { return round(x); }, __LINE__},
      {"sign", [](T x) { return x.sign(); }, [](T x) { return sign(x); }, __LINE__},
      {"neg_", [](T x) { return x.neg_(); }, [](T x) { return neg_(x); }, __LINE__},
      {"abs_", [](T x) { return x.abs_(); }, [](T x) { return abs_(x); }, __LINE__},
      {"exp_", [](T x) { return x.exp_(); }, [](T x) { return exp_(x); }, __LINE__},
      {"log_", [](T x) { return x.log_(); }, [](T x) { return log_(x); }, __LINE__},
      {"sqrt_", [](T x) { return x.sqrt_(); }, [](T x) { return sqrt_(x); }, __LINE__},
      {"rsqrt_", [](T x) { return x.rsqrt_(); }, [](T x) { return rsqrt_(x); }, __LINE__},
      {"sin_", [](T x) { return x.sin_(); }, [](T x) { return sin_(x); }, __LINE__},
      {"cos_", [](T x) { return x.cos_(); }, [](T x) { return cos_(x); }, __LINE__},
      {"tanh_", [](T x) { return x.tanh_(); }, [](T x) { return tanh_(x); }, __LINE__},
      {"sigmoid_", [](T x) { return x.sigmoid_(); }, [](T x) { return sigmoid_(x); }, __LINE__},
      {"erf_", [](T x) { return x.erf_(); }, [](T x) { return erf_(x); }, __LINE__},
      {"log2_", [](T x) { return x.log2_(); }, [](T x) { return log2_(x); }, __LINE__},
      {"exp2_", [](T x) { return x.exp2_(); }, [](T x) { return exp2_(x); }, __LINE__},
      {"expm1_", [](T x) { return x.expm1_(); }, [](T x) { return expm1_(x); }, __LINE__},
      {"log1p_", [](T x) { return x.log1p_(); }, [](T x) { return log1p_(x); }, __LINE__},
      {"reciprocal_", [](T x) { return x.reciprocal_(); }, [](T x) { return reciprocal_(x); }, __LINE__},
      {"floor_", [](T x) { return x.floor_(); }, [](T x) { return floor_(x); }, __LINE__},
      {"ceil_", [](T x) { return x.ceil_(); }, [](T x) { return ceil_(x); }, __LINE__},
      {"round_", [](T x) { return x.round_(); }, [](T x) { return round_(x); }, __LINE__},
      {"sign_", [](T x) { return x.sign_(); }, [](T x) { return sign_(x); }, __LINE__},
      {"clamp", [](T x) { return x.clamp(-1, 2.5); }, [](T x) { return clamp(x, -1, 2.5); }, __LINE__},
      {"clamp_", [](T x) { return x.clamp_(0, 1); }, [](T x) { return clamp_(x, 0, 1); }, __LINE__},
      {"eq", [kOther](T x) { return x.eq(kOther); }, [kOther](T x) { return eq(x, kOther); }, __LINE__},
      {"eq scalar", [](T x) { return x.eq(1.0); }, [](T x) { return eq(x, 1.0); }, __LINE__},
      {"ne", [kOther](T x) { return x.ne(kOther); }, [kOther](T x) { return ne(x, kOther); }, __LINE__},
      {"ne scalar", [](T x) { return x.ne(1.0); }, [](T x) { return ne(x, 1.0); }, __LINE__},
      {"lt", [kOther](T x) { return x.lt(kOther); }, [kOther](T x) { return lt(x, kOther); }, __LINE__},
      {"lt scalar", [](T x) { return x.lt(1.0); }, [](T x) { return lt(x, 1.0); }, __LINE__},
      {"le", [kOther](T x) { return x.le(kOther); }, [kOther](T x) { return le(x, kOther); }, __LINE__},
      {"le scalar", [](T x) { return x.le(1.0); }, [](T x) { return le(x, 1.0); }, __LINE__},
      {"gt", [kOther](T x) { return x.gt(kOther); }, [kOther](T x) { return gt(x, kOther); }, __LINE__},
      {"gt scalar", [](T x) { return x.gt(1.0); }, [](T x) { return gt(x, 1.0); }, __LINE__},
      {"ge", [kOther](T x) { return x.ge(kOther); }, [kOther](T x) { return ge(x, kOther); }, __LINE__},
      {"ge scalar", [](T x) { return x.ge(1.0); }, [](T x) { return ge(x, 1.0); }, __LINE__},
      {"masked_fill", [kOther](T x) { return x.masked_fill(x.gt(kOther), -1.5); }, [kOther](T x) { return masked_fill(x, gt(x, kOther), -1.5); }, __LINE__},
      {"masked_fill_", [kOther](T x) { return x.masked_fill_(x.lt(kOther), 9); }, [kOther](T x) { return masked_fill_(x, lt(x, kOther), 9); }, __LINE__},
      {"norm", [](T x) { return x.norm(); }, [](T x) { return norm(x); }, __LINE__},
      {"norm p", [](T x) { return x.norm(3); }, [](T x) { return norm(x, 3); }, __LINE__},
      {"norm dims", [](T x) { return x.norm(1, {1}, true); }, [](T x) { return norm(x, 1, {1}, true); }, __LINE__},
      {"argsort", [](T x) { return x.argsort(0, true); }, [](T x) { return argsort(x, 0, true); }, __LINE__},
      {"cumsum", [](T x) { return x.cumsum(1); }, [](T x) { return cumsum(x, 1); }, __LINE__},
      {"to", [](T x) { return x.to(DType::kBFloat16); }, [](T x) { return to(x, DType::kBFloat16); }, __LINE__},
      {"fill_", [](T x) { return x.fill_(1.5); }, [](T x) { return fill_(x, 1.5); }, __LINE__},
      {"zero_", [](T x) { return x.zero_(); }, [](T x) { return zero_(x); }, __LINE__},
      {"copy_", [kOther](T x) { return x.copy_(kOther); }, [kOther](T x) { return copy_(x, kOther); }, __LINE__},
      {"uniform_", [](T x) { return x.uniform_(-2, 2); }, [](T x) { return uniform_(x, -2, 2); }, __LINE__},
      {"normal_", [](T x) { return x.normal_(1, 0.5); }, [](T x) { return normal_(x, 1, 0.5); }, __LINE__},
      {"random_ from to", [](T x) { return x.random_(-3, 9); }, [](T x) { return random_(x, -3, 9); }, __LINE__},
      {"random_ to", [](T x) { return x.random_(5); }, [](T x) { return random_(x, 5); }, __LINE__},
      {"random_", [](T x) { return x.random_(); }, [](T x) { return random_(x); }, __LINE__},
      {"bernoulli_", [](T x) { return x.bernoulli_(0.25); }, [](T x) { return bernoulli_(x, 0.25); }, __LINE__},
      {"view", [](T x) { return x.view({4, 3}); }, [](T x) { return view(x, {4, 3}); }, __LINE__},
      {"reshape", [](T x) { return x.t().reshape({12}); }, [](T x) { return reshape(t(x), {12}); }, __LINE__},
      {"narrow", [](T x) { return x.narrow(1, 1, 2); }, [](T x) { return narrow(x, 1, 1, 2); }, __LINE__},
      {"select", [](T x) { return x.select(0, 2); }, [](T x) { return select(x, 0, 2); }, __LINE__},
      {"transpose", [](T x) { return x.transpose(0, 1); }, [](T x) { return transpose(x, 0, 1); }, __LINE__},
      {"permute", [](T x) { return x.permute({1, 0}); }, [](T x) { return permute(x, {1, 0}); }, __LINE__},
      {"unsqueeze", [](T x) { return x.unsqueeze(1); }, [](T x) { return unsqueeze(x, 1); }, __LINE__},
      {"squeeze", [](T x) { return x.view({3, 1, 4}).squeeze(); }, [](T x) { return squeeze(view(x, {3, 1, 4})); }, __LINE__},
      {"squeeze dim", [](T x) { return x.view({1, 12}).squeeze(0); }, [](T x) { return squeeze(view(x, {1, 12}), 0); }, __LINE__},
      {"expand", [](T x) { return x.unsqueeze(0).expand({2, 3, 4}); }, [](T x) { return expand(unsqueeze(x, 0), {2, 3, 4}); }, __LINE__},
      {"diagonal", [](T x) { return x.diagonal(1); }, [](T x) { return diagonal(x, 1); }, __LINE__},
      {"flatten", [](T x) { return x.flatten(); }, [](T x) { return flatten(x); }, __LINE__},
      {"t", [](T x) { return x.t(); }, [](T x) { return t(x); }, __LINE__},
      {"contiguous", [](T x) { return x.t().contiguous(); }, [](T x) { return contiguous(t(x)); }, __LINE__},
      {"clone", [](T x) { return x.clone(); }, [](T x) { return clone(x); }, __LINE__},
      {"repeat", [](T x) { return x.repeat({2, 1}); }, [](T x) { return repeat(x, {2, 1}); }, __LINE__},
      {"tril", [](T x) { return x.tril(1); }, [](T x) { return tril(x, 1); }, __LINE__},
      {"triu", [](T x) { return x.triu(-1); }, [](T x) { return triu(x, -1); }, __LINE__},
      {"tril_", [](T x) { return x.tril_(); }, [](T x) { return tril_(x); }, __LINE__},
      {"triu_", [](T x) { return x.triu_(); }, [](T x) { return triu_(x); }, __LINE__},
      {"outer", [kOther](T x) { return x.flatten().outer(kOther); }, [kOther](T x) { return outer(flatten(x), kOther); }, __LINE__},
      {"matmul", [kSquare](T x) { return x.matmul(kSquare); }, [kSquare](T x) { return matmul(x, kSquare); }, __LINE__},
      {"sum", [](T x) { return x.sum(); }, [](T x) { return sum(x); }, __LINE__},
      {"sum dims", [](T x) { return x.sum({1}, true); }, [](T x) { return sum(x, {1}, true); }, __LINE__},
      {"mean", [](T x) { return x.mean(); }, [](T x) { return mean(x); }, __LINE__},
      {"mean dims", [](T x) { return x.mean({0}); }, [](T x) { return mean(x, {0}); }, __LINE__},
      {"var", [](T x) { return x.var(0); }, [](T x) { return var(x, 0); }, __LINE__},
      {"var dims", [](T x) { return x.var({1}); }, [](T x) { return var(x, {1}); }, __LINE__},
      {"var shape", [](T x) { return x.var(Shape{0}, true, 2); }, [](T x) { return var(x, Shape{0}, true, 2); }, __LINE__},
      {"std", [](T x) { return x.std(); }, [](T x) { return std(x); }, __LINE__},
      {"std dims", [](T x) { return x.std({0}, true); }, [](T x) { return std(x, {0}, true); }, __LINE__},
      {"std shape", [](T x) { return x.std(Shape{1}); }, [](T x) { return std(x, Shape{1}); }, __LINE__},
      {"min", [](T x) { return x.min(); }, [](T x) { return min(x); }, __LINE__},
      {"min dims", [](T x) { return x.min({1}); }, [](T x) { return min(x, {1}); }, __LINE__},
      {"max", [](T x) { return x.max(); }, [](T x) { return max(x); }, __LINE__},
      {"max dims", [](T x) { return x.max({0}, true); }, [](T x) { return max(x, {0}, true); }, __LINE__},
      {"chain", [o](T x) { return x.narrow(0, 1, 2).normal_(0, 0.5).add_(o).t(); }, [o](T x) { return t(add_(normal_(narrow(x, 0, 1, 2), 0, 0.5), o)); }, __LINE__},
  };
}

// The method and the function of `c` log the same calls, from c's line, and give the same
// bits.
void ExpectMethodIsItsFunction(const MethodCase& c, bool integral) {
  SCOPED_TRACE(c.name);
  const Outcome method = RunOn(c.method, integral);
  const Outcome function = RunOn(c.function, integral);
  ASSERT_FALSE(method.log.empty());
  EXPECT_EQ(method.log, function.log);
  EXPECT_EQ(method.result, function.result);
  EXPECT_EQ(method.input_after, function.input_after);
  for (const LoggedCall& call : method.log) EXPECT_EQ(call.line, c.line) << call.op;
}

TEST(TensorMethodsTest, EachMethodDispatchesAsItsFunctionFromTheCallersLine) {
  for (const MethodCase& c : FloatCases()) ExpectMethodIsItsFunction(c, /*integral=*/false);
}

TEST(TensorMethodsTest, IntegerMethodsMatchTheirFunctions) {
  using T = const Tensor&;
  const std::vector<MethodCase> cases = {
      {"random_", [](T x) { return x.random_(0, 100); }, [](T x) { return random_(x, 0, 100); }, __LINE__},
      {"sum", [](T x) { return x.sum({0}); }, [](T x) { return sum(x, {0}); }, __LINE__},
      {"div", [](T x) { return x.div(3); }, [](T x) { return div(x, 3); }, __LINE__},
      {"abs_", [](T x) { return x.neg_().abs_(); }, [](T x) { return abs_(neg_(x)); }, __LINE__},
  };
  for (const MethodCase& c : cases) ExpectMethodIsItsFunction(c, /*integral=*/true);
}

}  // namespace
}  // namespace deferred
