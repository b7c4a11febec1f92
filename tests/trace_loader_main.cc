// Loads a trace file, materializes it, and prints "<name> <sha256 of its values>" for
// every parameter and buffer: the second process of trace_cross_process_test, linked with
// //deferred only, never with the code of the model that wrote the file.
#include <cstdio>
#include <memory>

#include "deferred/deferred.h"
#include "tests/equivalence.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: trace_loader FILE\n");
    return 2;
  }
  absl::StatusOr<std::shared_ptr<deferred::nn::Module>> module = deferred::load_trace(argv[1]);
  if (!module.ok()) {
    std::fprintf(stderr, "%s\n", module.status().ToString().c_str());
    return 1;
  }
  if (absl::Status status = deferred::materialize_module(**module); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  for (const auto& named : {(*module)->named_parameters(), (*module)->named_buffers()}) {
    for (const auto& [name, tensor] : named) {
      std::printf("%s %s\n", name.c_str(), deferred::TensorSha256(tensor).c_str());
    }
  }
  return 0;
}
