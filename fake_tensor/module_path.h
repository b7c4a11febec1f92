#ifndef DEFERRED_FAKE_TENSOR_MODULE_PATH_H_
#define DEFERRED_FAKE_TENSOR_MODULE_PATH_H_

#include <string>

namespace deferred {

// The dotted path of the module being constructed on this thread ("layers.3.attn"), so
// that errors raised by ops deep inside a constructor can say where they happened. Module
// construction pushes names; ops only read.
class ScopedModulePath {
 public:
  explicit ScopedModulePath(const std::string& name);
  ~ScopedModulePath();
  ScopedModulePath(const ScopedModulePath&) = delete;
  ScopedModulePath& operator=(const ScopedModulePath&) = delete;
};

// "" when no module is being constructed.
std::string CurrentModulePath();

// " (while constructing module 'layers.3.attn')", or "" outside module construction: a
// suffix for error messages.
std::string ModulePathSuffix();

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_MODULE_PATH_H_
