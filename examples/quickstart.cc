// Quickstart: construct GPT-2 without allocating it, then materialize it with exactly the
// values eager construction gives.
//
//   ./bazelw run //examples:quickstart
#include <cstdio>
#include <memory>
#include <string>

#include "deferred/deferred.h"
#include "examples/models/gpt2.h"

namespace {

int64_t ParameterCount(const deferred::nn::Module& m) {
  int64_t n = 0;
  for (const auto& [name, t] : m.named_parameters()) n += t.numel();
  return n;
}

// True when both modules hold the same names with bitwise equal tensors.
bool SameValues(const deferred::nn::Module& a, const deferred::nn::Module& b) {
  const auto pa = a.named_parameters();
  const auto pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (pa[i].first != pb[i].first) return false;
    if (pa[i].second.to_vector<float>() != pb[i].second.to_vector<float>()) return false;
  }
  return true;
}

}  // namespace

int main() {
  using deferred::examples::Gpt2;
  using deferred::examples::Gpt2Config;
  const Gpt2Config config;  // GPT-2 small: 12 layers, 768 wide, 50257 tokens

  // 1. Record the constructor: every tensor is fake, every op goes into a trace.
  deferred::manual_seed(42);
  const int64_t bytes_before = deferred::GetAllocationStats().total_bytes;
  absl::StatusOr<std::shared_ptr<Gpt2>> model = deferred::deferred_init<Gpt2>(config);
  if (!model.ok()) {
    std::fprintf(stderr, "deferred_init failed: %s\n", model.status().ToString().c_str());
    return 1;
  }
  const deferred::Tensor wte = (*model)->child("transformer")->child("wte")->parameter("weight");
  std::printf("deferred GPT-2: %lld parameters, %lld bytes of tensor data allocated\n",
              static_cast<long long>(ParameterCount(**model)),
              static_cast<long long>(deferred::GetAllocationStats().total_bytes - bytes_before));
  std::printf("  transformer.wte.weight is %s\n", wte.ToString().c_str());

  // 2. Materialize: replay the trace on the CPU, in place.
  if (absl::Status status = deferred::materialize_module(**model); !status.ok()) {
    std::fprintf(stderr, "materialize_module failed: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("materialized: %lld bytes of tensor data now allocated\n",
              static_cast<long long>(deferred::GetAllocationStats().total_bytes - bytes_before));
  const deferred::Tensor proj =
      (*model)->child("transformer")->child("h")->child("0")->child("attn")->child("c_proj")->parameter("weight");
  std::printf("  h.0.attn.c_proj.weight[0, 0:4] = %.6f %.6f %.6f %.6f\n", proj.at<float>({0, 0}),
              proj.at<float>({0, 1}), proj.at<float>({0, 2}), proj.at<float>({0, 3}));

  // 3. The same seed, eagerly: bit-for-bit the same model.
  deferred::manual_seed(42);
  const Gpt2 eager(config);
  const bool same = SameValues(eager, **model);
  std::printf("equal to eager construction with the same seed: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
