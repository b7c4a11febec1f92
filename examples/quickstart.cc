// Quickstart: tensors and eager ops on the CPU.
//
//   ./bazelw run //examples:quickstart
//
// Every op below goes through the dispatcher, which runs it eagerly here; the same calls
// made under deferred_init (a later step of this walkthrough) would be recorded instead.
#include <cstdio>
#include <string>
#include <vector>

#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/storage.h"

namespace {

void Print(const char* label, const deferred::Tensor& t) {
  const deferred::Tensor values = deferred::to(t, deferred::DType::kFloat64);
  std::string text;
  for (double v : values.to_vector<double>()) text += std::to_string(v) + " ";
  std::printf("%-22s %s\n  values: %s\n", label, t.ToString().c_str(), text.c_str());
}

}  // namespace

int main() {
  using namespace deferred;
  const Tensor positions = arange(0, 6);
  Print("arange(0, 6)", positions);

  const Tensor scaled = div(positions, 2);  // integer / integer is true division: float32
  Print("arange / 2", scaled);

  const Tensor grid = linspace(-1.0, 1.0, 5);
  Print("linspace(-1, 1, 5)", grid);
  Print("exp(linspace)", exp(grid));

  const Tensor identity = eye(3);
  Print("eye(3) + 0.5", add(identity, 0.5));

  // Misuse is an error that names the op and the shapes involved.
  try {
    add(ones({2, 3}), ones({4}));
  } catch (const Error& e) {
    std::printf("error, as expected:    %s\n", e.what());
  }

  // Meta tensors are shapes only: no bytes are allocated for them.
  const int64_t before = GetAllocationStats().total_bytes;
  const Tensor big = zeros({8192, 28672}, {.device = Device::Meta()});
  std::printf("meta tensor            %s, bytes allocated: %lld\n", big.ToString().c_str(),
              static_cast<long long>(GetAllocationStats().total_bytes - before));
  return 0;
}
