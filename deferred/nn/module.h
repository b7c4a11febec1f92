#ifndef DEFERRED_DEFERRED_NN_MODULE_H_
#define DEFERRED_DEFERRED_NN_MODULE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fake_tensor/module_path.h"
#include "fake_tensor/tensor.h"

namespace deferred::nn {

// A named tensor, as returned by named_parameters() and named_buffers().
using NamedTensor = std::pair<std::string, Tensor>;

// The base of every layer and model: a tree of named sub-modules, each holding named
// parameters and buffers, in registration order (PyTorch's nn.Module, without forward).
// Layers reach their tensors through parameter(name) / buffer(name), so replacing one
// (tying weights with set_parameter) is seen everywhere.
class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Registers (or, for an existing name, replaces) a parameter or buffer; returns it.
  // Throws `Error` for an empty name or one containing '.'.
  Tensor register_parameter(const std::string& name, Tensor tensor);
  Tensor register_buffer(const std::string& name, Tensor tensor, bool persistent = true);
  // Registers `module` as child `name`; returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    AddChild(name, module);
    return module;
  }
  // Constructs M(args...) as child `name`, with `name` pushed on the module path while it
  // is constructed, so errors raised inside its constructor name it ("layers.3.attn").
  template <typename M, typename... Args>
  std::shared_ptr<M> make_module(const std::string& name, Args&&... args) {
    ScopedModulePath scope(name);
    return register_module(name, std::make_shared<M>(std::forward<Args>(args)...));
  }

  // Replaces the parameter `name` of this module (tying it to another's tensor).
  // Throws `Error` if there is no such parameter.
  void set_parameter(const std::string& name, Tensor tensor);
  // Replaces the parameter or buffer at dotted path `name` ("layers.0.attn.weight") of
  // this module's tree. Throws `Error` naming the part of the path that does not exist.
  void replace_tensor(const std::string& name, Tensor tensor);

  // This module's own parameter / buffer / child; throws `Error` naming what is missing.
  const Tensor& parameter(std::string_view name) const;
  const Tensor& buffer(std::string_view name) const;
  std::shared_ptr<Module> child(std::string_view name) const;

  // Dotted names ("layers.0.attn.q_proj.weight") of this module's tree, depth first in
  // registration order. A tensor registered under several names (tied weights) is listed
  // once, under the first; names_of() gives all of them.
  std::vector<NamedTensor> named_parameters() const;
  std::vector<NamedTensor> named_buffers() const;
  // Persistent buffers only (what a state dict would hold).
  std::vector<NamedTensor> named_persistent_buffers() const;
  // Every module of the tree with its dotted name ("" for this one), depth first.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // Every dotted name under which `tensor` is registered as a parameter or buffer.
  std::vector<std::string> names_of(const Tensor& tensor) const;

  // One name of one tensor of the tree.
  struct TensorEntry {
    std::string name;  // dotted
    Tensor tensor;
    bool buffer = false;
    bool persistent = true;  // buffers only
  };
  // Every defined parameter and buffer of the tree under every name it has (a tied tensor
  // once per name): module by module, depth first, each module's parameters and then its
  // buffers in registration order. Registering them in this order rebuilds the tree's
  // named_parameters() and named_buffers() as they are.
  std::vector<TensorEntry> tensor_entries() const;

  // Calls fn on every module of the tree, children before their parent (PyTorch's order).
  void apply(const std::function<void(Module&)>& fn);

  // Re-initializes this module's own parameters as its constructor did.
  virtual void reset_parameters() {}

  // The layer's type, e.g. "Linear", for messages and dumps.
  const std::string& type_name() const { return type_name_; }

 protected:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    bool persistent = true;
  };

  void AddChild(const std::string& name, std::shared_ptr<Module> module);
  // Visits (dotted name, entry) of the tree's parameters (buffers when `buffers`).
  void VisitTensors(bool buffers, const std::string& prefix,
                    const std::function<void(const std::string&, const Entry&)>& fn) const;
  std::vector<NamedTensor> Unique(bool buffers, bool persistent_only) const;

  std::string type_name_;
  std::vector<Entry> parameters_;
  std::vector<Entry> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_MODULE_H_
