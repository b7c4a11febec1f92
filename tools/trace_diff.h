#ifndef DEFERRED_TOOLS_TRACE_DIFF_H_
#define DEFERRED_TOOLS_TRACE_DIFF_H_

#include <optional>
#include <string>
#include <vector>

#include "deferred/nn/module.h"
#include "nlohmann/json.hpp"

namespace deferred::tools {

// How one tensor present in both models differs.
struct TensorDiff {
  std::string name;
  bool same_recipe = true;
  // Where the recipes first differ: the op at `index` of each recipe (in recording order),
  // as "call  provenance" text, or "(none)" past a recipe's end.
  size_t index = 0;
  std::string a_op, b_op;
  std::string reason;  // what differs there: "op", "attrs", "rng", "inputs", "shape", ...
  // With values: whether the materialized bits are equal, and the largest |a - b|.
  std::optional<bool> same_values;
  double max_abs_diff = 0;
};

struct ModelDiff {
  std::vector<std::string> only_a, only_b;
  std::vector<TensorDiff> both;  // in model A's order
};

// Compares the recipes of the tensors of `a` and `b` by name (and with `values`, their
// materialized values). Two recipes are the same when their ops, attrs, RNG coordinates,
// operand wiring, layouts and dtypes are equal, op by op; provenance is not compared.
ModelDiff DiffModels(const nn::Module& a, const nn::Module& b, bool values);

nlohmann::json DiffJson(const ModelDiff& diff);

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_TRACE_DIFF_H_
