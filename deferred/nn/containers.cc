#include "deferred/nn/containers.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace deferred::nn {

std::string ContainerChildPath(const std::string& container_path, const std::string& name) {
  const std::string current = CurrentModulePath();
  std::string relative;
  if (current.empty()) {
    relative = container_path;
  } else if (absl::StartsWith(container_path, absl::StrCat(current, "."))) {
    relative = container_path.substr(current.size() + 1);
  }
  return relative.empty() ? name : absl::StrCat(relative, ".", name);
}

ModuleSequence::ModuleSequence(std::string type_name)
    : Module(std::move(type_name)), path_(CurrentModulePath()) {}

void ModuleSequence::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> ModuleSequence::at(int64_t index) const {
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>> children = named_children();
  const int64_t n = static_cast<int64_t>(children.size());
  const int64_t wrapped = index < 0 ? index + n : index;
  if (wrapped < 0 || wrapped >= n) {
    ThrowError("%s: index %d is out of range for %d modules", type_name(), index, n);
  }
  return children[wrapped].second;
}

ModuleList::ModuleList() : ModuleSequence("ModuleList") {}

ModuleList::ModuleList(std::vector<std::shared_ptr<Module>> modules) : ModuleList() {
  for (std::shared_ptr<Module>& module : modules) push_back(std::move(module));
}

Sequential::Sequential() : ModuleSequence("Sequential") {}

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) : Sequential() {
  for (std::shared_ptr<Module>& module : modules) push_back(std::move(module));
}

Sequential::Sequential(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules)
    : Sequential() {
  for (auto& [name, module] : modules) {
    for (const auto& [existing, unused] : named_children()) {
      if (existing == name) ThrowError("Sequential: module name '%s' is repeated", name);
    }
    register_module(name, std::move(module));
  }
}

ModuleDict::ModuleDict() : Module("ModuleDict"), path_(CurrentModulePath()) {}

ModuleDict::ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules)
    : ModuleDict() {
  for (auto& [key, module] : modules) insert(key, std::move(module));
}

void ModuleDict::insert(const std::string& key, std::shared_ptr<Module> module) {
  register_module(key, std::move(module));
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& [name, module] : named_children()) {
    if (name == key) return true;
  }
  return false;
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> keys;
  for (const auto& [name, module] : named_children()) keys.push_back(name);
  return keys;
}

}  // namespace deferred::nn
