#include "deferred/trace_file.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "fake_tensor/error.h"
#include "fake_tensor/file_io.h"
#include "replay/trace_file.h"

namespace deferred {
namespace {

// The modules a trace file rebuilds: a module of the saved type, with nothing of its
// own but what the file registers in it.
class LoadedModule : public nn::Module {
 public:
  explicit LoadedModule(std::string type) : Module(std::move(type)) {}
};

// Trace files hold the recording of a model, which is small; this bounds what a reader
// accepts before parsing.
constexpr int64_t kMaxTraceFileBytes = int64_t{1} << 34;

void AddModules(const nn::Module& module, const std::string& name, SavedModel& saved) {
  saved.modules.push_back(SavedModule{name, module.type_name()});
  for (const auto& [child_name, child] : module.named_children()) {
    AddModules(*child, name.empty() ? child_name : absl::StrCat(name, ".", child_name), saved);
  }
}

}  // namespace

absl::StatusOr<std::string> serialize_trace(const nn::Module& module,
                                            const SaveTraceOptions& options) {
  SavedModel saved;
  absl::Status status = CatchErrors([&] {
    AddModules(module, "", saved);
    absl::flat_hash_map<const TensorImpl*, int32_t> index;
    for (const nn::Module::TensorEntry& entry : module.tensor_entries()) {
      if (entry.tensor.has_data() && !options.include_real_tensors) {
        ThrowError(
            "save_trace: %s is real (already materialized); real tensors are saved only "
            "with SaveTraceOptions::include_real_tensors",
            entry.name);
      }
      if (entry.tensor.is_meta()) {
        ThrowError("save_trace: %s is a meta tensor, which a trace file cannot hold", entry.name);
      }
      auto [it, added] = index.try_emplace(entry.tensor.impl(), saved.tensors.size());
      if (added) saved.tensors.push_back(entry.tensor);
      saved.entries.push_back(SavedEntry{entry.name, it->second, entry.buffer, entry.persistent});
    }
  });
  if (!status.ok()) return status;
  return EncodeTraceFile(saved);
}

absl::Status save_trace(const nn::Module& module, const std::string& path,
                        const SaveTraceOptions& options) {
  absl::StatusOr<std::string> text = serialize_trace(module, options);
  if (!text.ok()) return text.status();
  return WriteFileAtomically(path, *text);
}

absl::StatusOr<std::shared_ptr<nn::Module>> load_trace(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxTraceFileBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::shared_ptr<nn::Module>> module = deserialize_trace(*text);
  if (!module.ok()) {
    return absl::Status(module.status().code(),
                        absl::StrCat(path, ": ", module.status().message()));
  }
  return module;
}

absl::StatusOr<std::shared_ptr<nn::Module>> deserialize_trace(std::string_view bytes) {
  absl::StatusOr<SavedModel> saved = DecodeTraceFile(bytes);
  if (!saved.ok()) return saved.status();
  std::shared_ptr<nn::Module> root;
  absl::Status status = CatchErrors([&] {
    absl::flat_hash_map<std::string, std::shared_ptr<nn::Module>> modules;
    for (const SavedModule& m : saved->modules) {
      auto module = std::make_shared<LoadedModule>(m.type);
      if (m.name.empty()) {
        root = module;
      } else {
        const size_t dot = m.name.rfind('.');
        const std::string parent = dot == std::string::npos ? "" : m.name.substr(0, dot);
        modules.at(parent)->register_module(m.name.substr(dot + 1), module);
      }
      modules[m.name] = module;
    }
    for (const SavedEntry& entry : saved->entries) {
      const size_t dot = entry.name.rfind('.');
      const std::string owner = dot == std::string::npos ? "" : entry.name.substr(0, dot);
      nn::Module& module = *modules.at(owner);
      const std::string name = entry.name.substr(dot + 1);
      const Tensor& tensor = saved->tensors[entry.tensor];
      if (entry.buffer) {
        module.register_buffer(name, tensor, entry.persistent);
      } else {
        module.register_parameter(name, tensor);
      }
    }
  });
  if (!status.ok()) return status;
  return root;
}

}  // namespace deferred
