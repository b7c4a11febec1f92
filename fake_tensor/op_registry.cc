#include "fake_tensor/op_registry.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "fake_tensor/error.h"

namespace deferred {
namespace {

// The key ops_ is searched by: Debian's Abseil has a string_view of its own, not std's.
absl::string_view Key(std::string_view name) { return {name.data(), name.size()}; }

}  // namespace

static_assert(std::variant_size_v<AttrValue> == 8, "AttrType lists AttrValue's alternatives");

const char* AttrTypeName(AttrType type) {
  switch (type) {
    case AttrType::kBool: return "bool";
    case AttrType::kInt: return "int64";
    case AttrType::kDouble: return "double";
    case AttrType::kScalar: return "Scalar";
    case AttrType::kShape: return "Shape";
    case AttrType::kDType: return "DType";
    case AttrType::kDevice: return "Device";
    case AttrType::kBytes: return "bytes";
  }
  return "?";
}

OpRegistry& OpRegistry::Global() {
  static OpRegistry* registry = new OpRegistry;  // never destroyed: used at exit
  return *registry;
}

OpDef& OpRegistry::Entry(std::string_view name) {
  auto it = ops_.find(Key(name));
  if (it == ops_.end()) {
    auto def = std::make_unique<OpDef>();
    def->name = std::string(name);
    it = ops_.emplace(def->name, std::move(def)).first;
  }
  return *it->second;
}

bool OpRegistry::RegisterOp(OpDef def) {
  std::lock_guard<std::mutex> lock(mutex_);
  OpDef& entry = Entry(def.name);
  if (entry.shape_rule || entry.view_rule) {
    ThrowError("op '%s' is registered twice", def.name);
  }
  const auto kernels = entry.kernels;
  entry = std::move(def);
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (kernels[i]) entry.kernels[i] = kernels[i];
  }
  return true;
}

bool OpRegistry::RegisterKernel(std::string_view name, DeviceType device, Kernel kernel) {
  std::lock_guard<std::mutex> lock(mutex_);
  OpDef& def = Entry(name);
  def.kernels[static_cast<int>(device)] = std::move(kernel);
  def.host_fallbacks[static_cast<int>(device)] = false;
  return true;
}

bool OpRegistry::RegisterHostFallbackKernel(std::string_view name, DeviceType device,
                                            Kernel kernel) {
  std::lock_guard<std::mutex> lock(mutex_);
  OpDef& def = Entry(name);
  def.kernels[static_cast<int>(device)] = std::move(kernel);
  def.host_fallbacks[static_cast<int>(device)] = true;
  return true;
}

const OpDef& OpRegistry::Get(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = ops_.find(Key(name));
  if (it == ops_.end() || !(it->second->shape_rule || it->second->view_rule)) {
    ThrowErrorWithCode(absl::StatusCode::kNotFound, "unknown op '%s'", name);
  }
  return *it->second;
}

bool OpRegistry::Contains(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = ops_.find(Key(name));
  return it != ops_.end() && (it->second->shape_rule || it->second->view_rule);
}

TensorSpecs OutputSpecsOf(const OpCall& call) {
  TensorSpecs specs = call.def->shape_rule(call);
  for (const TensorSpec& spec : specs) CheckedByteSize(spec.sizes, spec.dtype, call.def->name);
  return specs;
}

TensorLayout ViewLayoutOf(const OpCall& call) {
  TensorLayout layout = call.def->view_rule(call);
  const Tensor& base = call.inputs[0];
  CheckLayoutInStorage(layout, base.dtype(), base.storage()->nbytes(), call.def->name);
  return layout;
}

std::vector<std::string> OpRegistry::OpNames() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, def] : ops_) {
    if (def->shape_rule || def->view_rule) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace deferred
