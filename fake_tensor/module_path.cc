#include "fake_tensor/module_path.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace deferred {
namespace {

thread_local std::vector<std::string> module_path;

}  // namespace

ScopedModulePath::ScopedModulePath(const std::string& name) { module_path.push_back(name); }
ScopedModulePath::~ScopedModulePath() { module_path.pop_back(); }

std::string CurrentModulePath() { return absl::StrJoin(module_path, "."); }

std::string ModulePathSuffix() {
  if (module_path.empty()) return "";
  return absl::StrCat(" (while constructing module '", CurrentModulePath(), "')");
}

}  // namespace deferred
