#ifndef DEFERRED_DEFERRED_NN_CONTAINERS_H_
#define DEFERRED_DEFERRED_NN_CONTAINERS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deferred/nn/module.h"
#include "fake_tensor/error.h"
#include "fake_tensor/module_path.h"

namespace deferred::nn {

// What a container constructed under module path `container_path` pushes on the module
// path while its child `name` is constructed: `name` below the container's path, relative
// to the path current now (just `name` when the container lies elsewhere).
std::string ContainerChildPath(const std::string& container_path, const std::string& name);

// The common part of ModuleList and Sequential: children named by position ("0", "1",
// ...), in insertion order. A module constructed by emplace_back is constructed with the
// container's own path and its index on the module path ("layers.3"), so errors raised in
// its constructor say where they happened.
class ModuleSequence : public Module {
 public:
  // Appends `module` as child "<size()>". Throws `Error` for a null module.
  void push_back(std::shared_ptr<Module> module);

  // Constructs M(args...) as child "<size()>" and returns it.
  template <typename M, typename... Args>
  std::shared_ptr<M> emplace_back(Args&&... args) {
    const std::string name = std::to_string(size());
    ScopedModulePath scope(ContainerChildPath(path_, name));
    return register_module(name, std::make_shared<M>(std::forward<Args>(args)...));
  }

  int64_t size() const { return static_cast<int64_t>(named_children().size()); }

  // The child at `index` (negative counts from the end, as in Python). Throws `Error`
  // naming the index and the size when it is out of range.
  std::shared_ptr<Module> at(int64_t index) const;
  // The child at `index` as an M; throws `Error` also when it is not an M.
  template <typename M>
  std::shared_ptr<M> at(int64_t index) const {
    std::shared_ptr<Module> module = at(index);
    std::shared_ptr<M> typed = std::dynamic_pointer_cast<M>(module);
    if (typed == nullptr) {
      ThrowError("%s: child %d is a %s, not the requested type", type_name(), index,
                 module->type_name());
    }
    return typed;
  }

 protected:
  // Records the module path the container is constructed under.
  explicit ModuleSequence(std::string type_name);

 private:
  std::string path_;
};

// PyTorch's nn.ModuleList: an indexable list of sub-modules.
class ModuleList : public ModuleSequence {
 public:
  ModuleList();
  // Appends each of `modules` in order. Throws `Error` for a null one.
  explicit ModuleList(std::vector<std::shared_ptr<Module>> modules);
};

// PyTorch's nn.Sequential: sub-modules applied one after another (there is no forward
// here; the container keeps their order and names).
class Sequential : public ModuleSequence {
 public:
  Sequential();
  // Children "0", "1", ... for `modules` in order. Throws `Error` for a null one.
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  // Children with the given names, in order (PyTorch's Sequential(OrderedDict)). Throws
  // `Error` for an invalid or repeated name, or a null module.
  explicit Sequential(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules);
};

// PyTorch's nn.ModuleDict: sub-modules by key, in insertion order. Keys follow the rules
// of module names (non-empty, no '.').
class ModuleDict : public Module {
 public:
  ModuleDict();
  // Inserts each (key, module) in order; a repeated key replaces the earlier module.
  explicit ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules);

  // Inserts `module` under `key`, replacing (in place, keeping its position) a module
  // already there. Throws `Error` for an invalid key or a null module.
  void insert(const std::string& key, std::shared_ptr<Module> module);

  // Constructs M(args...) under `key`, with `key` pushed on the module path below the
  // dictionary's own path while it is constructed, and returns it.
  template <typename M, typename... Args>
  std::shared_ptr<M> emplace(const std::string& key, Args&&... args) {
    ScopedModulePath scope(ContainerChildPath(path_, key));
    return register_module(key, std::make_shared<M>(std::forward<Args>(args)...));
  }

  bool contains(const std::string& key) const;
  int64_t size() const { return static_cast<int64_t>(named_children().size()); }
  // The keys in insertion order.
  std::vector<std::string> keys() const;

  // The module under `key`; throws `Error` naming the key when there is none.
  std::shared_ptr<Module> at(const std::string& key) const { return child(key); }
  // The module under `key` as an M; throws `Error` also when it is not an M.
  template <typename M>
  std::shared_ptr<M> at(const std::string& key) const {
    std::shared_ptr<Module> module = at(key);
    std::shared_ptr<M> typed = std::dynamic_pointer_cast<M>(module);
    if (typed == nullptr) {
      ThrowError("ModuleDict: '%s' is a %s, not the requested type", key, module->type_name());
    }
    return typed;
  }

 private:
  // The module path the dictionary was constructed under.
  std::string path_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_CONTAINERS_H_
