#include "tools/trace_diff.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/views.h"
#include "tools/inspect.h"

namespace deferred::tools {
namespace {

std::string OpText(const Recipe& recipe, size_t index) {
  if (index >= recipe.ops.size()) return "(none)";
  const TraceNode& node = recipe.trace->Node(recipe.ops[index]);
  const std::string where = ProvenanceText(node.provenance);
  return where.empty() ? CallText(node) : absl::StrCat(CallText(node), "  ", where);
}

// What differs between op `index` of `a` and of `b`, or "" when nothing does.
std::string OpDifference(const Recipe& a, const Recipe& b, size_t index) {
  const TraceNode& x = a.trace->Node(a.ops[index]);
  const TraceNode& y = b.trace->Node(b.ops[index]);
  if (x.def->name != y.def->name) return "op";
  const nlohmann::json jx = OpJson(a, index), jy = OpJson(b, index);
  for (const char* field : {"attrs", "rng", "inputs", "outputs"}) {
    if (jx.value(field, nlohmann::json()) != jy.value(field, nlohmann::json())) return field;
  }
  for (size_t k = 0; k < x.inputs.size(); ++k) {
    const TraceOperand &p = x.inputs[k], &q = y.inputs[k];
    if (p.layout.sizes != q.layout.sizes || p.layout.strides != q.layout.strides ||
        p.layout.storage_offset != q.layout.storage_offset || p.dtype != q.dtype) {
      return absl::StrCat("input ", k, " layout");
    }
  }
  return "";
}

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = to(contiguous(a), DType::kFloat64).to_vector<double>();
  const std::vector<double> y = to(contiguous(b), DType::kFloat64).to_vector<double>();
  double most = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs(x[i] - y[i]);
    if (std::isnan(d) && !(std::isnan(x[i]) && std::isnan(y[i]))) return NAN;
    if (d > most) most = d;
  }
  return most;
}

}  // namespace

ModelDiff DiffModels(const nn::Module& a, const nn::Module& b, bool values) {
  ModelDiff diff;
  const std::vector<NamedEntry> entries_a = EntriesOf(a), entries_b = EntriesOf(b);
  absl::flat_hash_map<std::string, const NamedEntry*> by_name;
  for (const NamedEntry& entry : entries_b) by_name[entry.name] = &entry;
  absl::flat_hash_map<std::string, bool> in_a;
  for (const NamedEntry& entry : entries_a) {
    in_a[entry.name] = true;
    auto it = by_name.find(entry.name);
    if (it == by_name.end()) {
      diff.only_a.push_back(entry.name);
      continue;
    }
    const Tensor &x = entry.tensor, &y = it->second->tensor;
    TensorDiff d{entry.name};
    const Recipe ra = RecipeOf(x), rb = RecipeOf(y);
    if (x.sizes() != y.sizes() || x.dtype() != y.dtype()) {
      d.same_recipe = false;
      d.reason = absl::StrCat("shape ", ShapeText(x), " vs ", ShapeText(y));
    } else if (ra.trace != nullptr && rb.trace != nullptr) {
      const size_t common = std::min(ra.ops.size(), rb.ops.size());
      for (size_t i = 0; i < common && d.same_recipe; ++i) {
        if (std::string why = OpDifference(ra, rb, i); !why.empty()) {
          d = TensorDiff{entry.name, false, i, OpText(ra, i), OpText(rb, i), why};
        }
      }
      if (d.same_recipe && ra.ops.size() != rb.ops.size()) {
        d = TensorDiff{entry.name, false, common, OpText(ra, common), OpText(rb, common), "length"};
      }
    } else if ((ra.trace == nullptr) != (rb.trace == nullptr)) {
      d.same_recipe = false;
      d.reason = "real in one, recorded in the other";
    }
    if (values && x.sizes() == y.sizes()) {
      absl::StatusOr<Tensor> vx = materialize_tensor(x), vy = materialize_tensor(y);
      if (vx.ok() && vy.ok()) {
        d.same_values =
            contiguous(*vx).to_bytes() == contiguous(*vy).to_bytes() && x.dtype() == y.dtype();
        d.max_abs_diff = MaxAbsDiff(*vx, *vy);
      }
    }
    diff.both.push_back(std::move(d));
  }
  for (const NamedEntry& entry : entries_b) {
    if (!in_a.contains(entry.name)) diff.only_b.push_back(entry.name);
  }
  return diff;
}

nlohmann::json DiffJson(const ModelDiff& diff) {
  nlohmann::json both = nlohmann::json::array();
  for (const TensorDiff& d : diff.both) {
    nlohmann::json j = {{"name", d.name}, {"same_recipe", d.same_recipe}};
    if (!d.same_recipe) {
      j["first_difference"] = {
          {"index", d.index}, {"a", d.a_op}, {"b", d.b_op}, {"what", d.reason}};
    }
    if (d.same_values) {
      j["same_values"] = *d.same_values;
      j["max_abs_diff"] =
          std::isnan(d.max_abs_diff) ? nlohmann::json("nan") : nlohmann::json(d.max_abs_diff);
    }
    both.push_back(j);
  }
  return {{"only_a", diff.only_a}, {"only_b", diff.only_b}, {"both", both}};
}

}  // namespace deferred::tools
