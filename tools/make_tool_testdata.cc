// Writes tools/testdata/: the traces deferred-replay's golden tests read. The committed
// files are this program's output:
//
//   ./bazelw run //tools:make_tool_testdata -- "$PWD/tools/testdata"
//
// then tools/update_goldens.sh regenerates the expected outputs (review their diff).
#include <cstdio>
#include <memory>
#include <string>

#include "deferred/deferred.h"
#include "deferred/trace_file.h"
#include "examples/models/gpt2.h"
#include "examples/models/llama.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/views.h"

namespace deferred {
namespace {

// A parameter that is a view of a buffer, a tie, a non-finite value (log of a negative
// constant), and a normal_ init of standard deviation `std`; `extra` adds a tensor.
class Odd : public nn::Module {
 public:
  Odd(double std, bool extra) : Module("Odd") {
    const Tensor table = register_buffer("table", empty({4, 6}));
    normal_(table, 0.0, std);
    register_parameter("rows", narrow(table, 0, 1, 2));
    register_parameter("rows_tied", parameter("rows"));
    register_buffer("log_of_negative", log(sub(arange(0, 4, 1, {.dtype = DType::kFloat32}), 2.0)));
    if (extra) register_parameter("scale", ones({6}));
  }
};

template <typename M, typename... Args>
bool Save(const std::string& path, Args... args) {
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<M>> model = deferred_init<M>(args...);
  if (!model.ok()) return false;
  const absl::Status saved = save_trace(**model, path);
  if (!saved.ok()) std::fprintf(stderr, "%s: %s\n", path.c_str(), saved.ToString().c_str());
  return saved.ok();
}

int Main(const std::string& folder) {
  const bool ok =
      Save<examples::Gpt2>(folder + "/gpt2_tiny.dtrace", examples::Gpt2Config::Tiny()) &&
      Save<examples::Llama>(folder + "/llama_tiny.dtrace", examples::LlamaConfig::Tiny()) &&
      Save<Odd>(folder + "/odd.dtrace", 0.02, false) &&
      Save<Odd>(folder + "/odd_v2.dtrace", 0.05, true);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace deferred

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_tool_testdata FOLDER\n");
    return 2;
  }
  return deferred::Main(argv[1]);
}
