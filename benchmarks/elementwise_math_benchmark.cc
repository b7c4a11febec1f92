// What moving the CPU's exp, log, log1p, erf, sigmoid, and float pow, sin, cos, tanh, log2,
// exp2 and expm1 from the C library to the deterministic math (so that CUDA devices compute the
// same bits) costs: each function over the same 1M inputs both ways, in one run. Report detmath's
// time as a ratio of the C library's (benchmarks/RESULTS.md).
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "replay/rng/deterministic_math.h"

namespace deferred {
namespace {

constexpr int kCount = 1 << 20;

// Inputs in [lo, hi), the same for every benchmark of a type.
template <typename T>
const std::vector<T>& Inputs(double lo, double hi) {
  static const std::vector<T>* const inputs = [lo, hi] {
    auto* v = new std::vector<T>(kCount);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> uniform(lo, hi);
    for (T& x : *v) x = static_cast<T>(uniform(rng));
    return v;
  }();
  return *inputs;
}

template <typename T, typename Fn>
void Map(benchmark::State& state, Fn fn) {
  const std::vector<T>& in = Inputs<T>(0.001, 8.0);
  std::vector<T> out(kCount);
  for (auto _ : state) {
    for (int i = 0; i < kCount; ++i) out[i] = fn(in[i]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kCount);
}

template <typename T>
void BM_ExpLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::exp(x); });
}
template <typename T>
void BM_ExpDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Exp(x); });
}
template <typename T>
void BM_LogLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::log(x); });
}
template <typename T>
void BM_LogDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Log(x); });
}
template <typename T>
void BM_Log1pLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::log1p(x); });
}
template <typename T>
void BM_Log1pDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Log1p(x); });
}
template <typename T>
void BM_ErfLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::erf(x); });
}
template <typename T>
void BM_ErfDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Erf(x); });
}
template <typename T>
void BM_SigmoidLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return T(1) / (T(1) + std::exp(-x)); });
}
template <typename T>
void BM_SigmoidDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return T(1) / (T(1) + detmath::Exp(-x)); });
}
template <typename T>
void BM_PowLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::pow(x, T(0.37)); });
}
template <typename T>
void BM_PowDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Pow(x, T(0.37)); });
}
template <typename T>
void BM_SinLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::sin(x); });
}
template <typename T>
void BM_SinDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Sin(x); });
}
template <typename T>
void BM_CosLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::cos(x); });
}
template <typename T>
void BM_CosDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Cos(x); });
}
template <typename T>
void BM_TanhLibm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::tanh(x); });
}
template <typename T>
void BM_TanhDetmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Tanh(x); });
}
template <typename T>
void BM_Log2Libm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::log2(x); });
}
template <typename T>
void BM_Log2Detmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Log2(x); });
}
template <typename T>
void BM_Exp2Libm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::exp2(x); });
}
template <typename T>
void BM_Exp2Detmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Exp2(x); });
}
template <typename T>
void BM_Expm1Libm(benchmark::State& s) {
  Map<T>(s, [](T x) { return std::expm1(x); });
}
template <typename T>
void BM_Expm1Detmath(benchmark::State& s) {
  Map<T>(s, [](T x) { return detmath::Expm1(x); });
}

BENCHMARK_TEMPLATE(BM_ExpLibm, float);
BENCHMARK_TEMPLATE(BM_ExpDetmath, float);
BENCHMARK_TEMPLATE(BM_ExpLibm, double);
BENCHMARK_TEMPLATE(BM_ExpDetmath, double);
BENCHMARK_TEMPLATE(BM_LogLibm, float);
BENCHMARK_TEMPLATE(BM_LogDetmath, float);
BENCHMARK_TEMPLATE(BM_LogLibm, double);
BENCHMARK_TEMPLATE(BM_LogDetmath, double);
BENCHMARK_TEMPLATE(BM_Log1pLibm, float);
BENCHMARK_TEMPLATE(BM_Log1pDetmath, float);
BENCHMARK_TEMPLATE(BM_ErfLibm, float);
BENCHMARK_TEMPLATE(BM_ErfDetmath, float);
BENCHMARK_TEMPLATE(BM_ErfLibm, double);
BENCHMARK_TEMPLATE(BM_ErfDetmath, double);
BENCHMARK_TEMPLATE(BM_SigmoidLibm, float);
BENCHMARK_TEMPLATE(BM_SigmoidDetmath, float);
BENCHMARK_TEMPLATE(BM_PowLibm, float);
BENCHMARK_TEMPLATE(BM_PowDetmath, float);
BENCHMARK_TEMPLATE(BM_PowLibm, double);
BENCHMARK_TEMPLATE(BM_PowDetmath, double);
BENCHMARK_TEMPLATE(BM_SinLibm, float);
BENCHMARK_TEMPLATE(BM_SinDetmath, float);
BENCHMARK_TEMPLATE(BM_SinLibm, double);
BENCHMARK_TEMPLATE(BM_SinDetmath, double);
BENCHMARK_TEMPLATE(BM_CosLibm, float);
BENCHMARK_TEMPLATE(BM_CosDetmath, float);
BENCHMARK_TEMPLATE(BM_CosLibm, double);
BENCHMARK_TEMPLATE(BM_CosDetmath, double);
BENCHMARK_TEMPLATE(BM_TanhLibm, float);
BENCHMARK_TEMPLATE(BM_TanhDetmath, float);
BENCHMARK_TEMPLATE(BM_TanhLibm, double);
BENCHMARK_TEMPLATE(BM_TanhDetmath, double);
BENCHMARK_TEMPLATE(BM_Log2Libm, float);
BENCHMARK_TEMPLATE(BM_Log2Detmath, float);
BENCHMARK_TEMPLATE(BM_Log2Libm, double);
BENCHMARK_TEMPLATE(BM_Log2Detmath, double);
BENCHMARK_TEMPLATE(BM_Exp2Libm, float);
BENCHMARK_TEMPLATE(BM_Exp2Detmath, float);
BENCHMARK_TEMPLATE(BM_Exp2Libm, double);
BENCHMARK_TEMPLATE(BM_Exp2Detmath, double);
BENCHMARK_TEMPLATE(BM_Expm1Libm, float);
BENCHMARK_TEMPLATE(BM_Expm1Detmath, float);
BENCHMARK_TEMPLATE(BM_Expm1Libm, double);
BENCHMARK_TEMPLATE(BM_Expm1Detmath, double);

}  // namespace
}  // namespace deferred
