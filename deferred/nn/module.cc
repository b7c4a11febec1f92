#include "deferred/nn/module.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/error.h"

namespace deferred::nn {
namespace {

void CheckName(const std::string& name, const std::string& type_name) {
  if (name.empty() || name.find('.') != std::string::npos) {
    ThrowError("%s: invalid name '%s' (must be non-empty and contain no '.')", type_name, name);
  }
}

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : absl::StrCat(prefix, ".", name);
}

}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor tensor) {
  CheckName(name, type_name_);
  for (Entry& entry : parameters_) {
    if (entry.name == name) {
      entry.tensor = tensor;
      return tensor;
    }
  }
  parameters_.push_back(Entry{name, tensor, true});
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor, bool persistent) {
  CheckName(name, type_name_);
  for (Entry& entry : buffers_) {
    if (entry.name == name) {
      entry.tensor = tensor;
      entry.persistent = persistent;
      return tensor;
    }
  }
  buffers_.push_back(Entry{name, tensor, persistent});
  return tensor;
}

void Module::AddChild(const std::string& name, std::shared_ptr<Module> module) {
  CheckName(name, type_name_);
  if (module == nullptr) ThrowError("%s: child module '%s' is null", type_name_, name);
  for (auto& [child_name, child] : children_) {
    if (child_name == name) {
      child = std::move(module);
      return;
    }
  }
  children_.emplace_back(name, std::move(module));
}

void Module::set_parameter(const std::string& name, Tensor tensor) {
  for (Entry& entry : parameters_) {
    if (entry.name == name) {
      entry.tensor = std::move(tensor);
      return;
    }
  }
  ThrowError("%s has no parameter '%s'", type_name_, name);
}

void Module::replace_tensor(const std::string& name, Tensor tensor) {
  const size_t dot = name.find('.');
  if (dot != std::string::npos) {
    child(name.substr(0, dot))->replace_tensor(name.substr(dot + 1), std::move(tensor));
    return;
  }
  for (std::vector<Entry>* entries : {&parameters_, &buffers_}) {
    for (Entry& entry : *entries) {
      if (entry.name == name) {
        entry.tensor = std::move(tensor);
        return;
      }
    }
  }
  ThrowError("%s has no parameter or buffer '%s'", type_name_, name);
}

const Tensor& Module::parameter(std::string_view name) const {
  for (const Entry& entry : parameters_) {
    if (entry.name == name) return entry.tensor;
  }
  ThrowError("%s has no parameter '%s'", type_name_, name);
}

const Tensor& Module::buffer(std::string_view name) const {
  for (const Entry& entry : buffers_) {
    if (entry.name == name) return entry.tensor;
  }
  ThrowError("%s has no buffer '%s'", type_name_, name);
}

std::shared_ptr<Module> Module::child(std::string_view name) const {
  for (const auto& [child_name, module] : children_) {
    if (child_name == name) return module;
  }
  ThrowError("%s has no child module '%s'", type_name_, name);
}

void Module::VisitTensors(bool buffers, const std::string& prefix,
                          const std::function<void(const std::string&, const Entry&)>& fn) const {
  for (const Entry& entry : buffers ? buffers_ : parameters_) fn(Join(prefix, entry.name), entry);
  for (const auto& [name, child] : children_) child->VisitTensors(buffers, Join(prefix, name), fn);
}

std::vector<NamedTensor> Module::Unique(bool buffers, bool persistent_only) const {
  std::vector<NamedTensor> out;
  absl::flat_hash_set<const TensorImpl*> seen;
  VisitTensors(buffers, "", [&](const std::string& name, const Entry& entry) {
    if (!entry.tensor.defined() || (persistent_only && !entry.persistent)) return;
    if (seen.insert(entry.tensor.impl()).second) out.emplace_back(name, entry.tensor);
  });
  return out;
}

std::vector<Module::TensorEntry> Module::tensor_entries() const {
  std::vector<TensorEntry> out;
  const std::function<void(const Module&, const std::string&)> visit =
      [&](const Module& module, const std::string& prefix) {
        for (const Entry& entry : module.parameters_) {
          if (entry.tensor.defined()) out.push_back({Join(prefix, entry.name), entry.tensor, false, true});
        }
        for (const Entry& entry : module.buffers_) {
          if (entry.tensor.defined()) {
            out.push_back({Join(prefix, entry.name), entry.tensor, true, entry.persistent});
          }
        }
        for (const auto& [name, child] : module.children_) visit(*child, Join(prefix, name));
      };
  visit(*this, "");
  return out;
}

std::vector<NamedTensor> Module::named_parameters() const { return Unique(false, false); }
std::vector<NamedTensor> Module::named_buffers() const { return Unique(true, false); }
std::vector<NamedTensor> Module::named_persistent_buffers() const { return Unique(true, true); }

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  // The root is not owned by a shared_ptr we can reach; hand out a non-owning one.
  out.emplace_back("", std::shared_ptr<Module>(std::shared_ptr<Module>(), this));
  for (const auto& [name, child] : children_) {
    for (auto& [sub_name, module] : child->named_modules()) {
      if (sub_name.empty()) {
        out.emplace_back(name, child);
      } else {
        out.emplace_back(Join(name, sub_name), module);
      }
    }
  }
  return out;
}

std::vector<std::string> Module::names_of(const Tensor& tensor) const {
  std::vector<std::string> names;
  auto collect = [&](const std::string& name, const Entry& entry) {
    if (entry.tensor.defined() && entry.tensor.is_same(tensor)) names.push_back(name);
  };
  VisitTensors(false, "", collect);
  VisitTensors(true, "", collect);
  return names;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

}  // namespace deferred::nn
