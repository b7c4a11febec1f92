#include "replay/trace_file.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/error.h"
#include "fake_tensor/json_nesting.h"
#include "fake_tensor/op_registry.h"
#include "nlohmann/json.hpp"
#include "replay/base64.h"
#include "replay/sha256.h"
#include "replay/trace.h"

namespace deferred {
namespace {

// Ordered: an op's attrs keep the order they were recorded in.
using Json = nlohmann::ordered_json;

constexpr char kMagic[] = "deferred-trace";
constexpr char kEndPrefix[] = "end sha256 ";
// JSON nesting a valid file never exceeds; deeper input is refused before parsing, so that
// the recursive parser cannot exhaust the stack.
constexpr int kMaxJsonDepth = 16;

[[noreturn]] void Invalid(const std::string& message) { throw Error(message); }

// ---- Values

std::string DoubleBits(double v) { return absl::StrFormat("%016x", std::bit_cast<uint64_t>(v)); }

// Finite doubles are JSON numbers (written to round-trip exactly); NaN and infinities,
// which JSON lacks, are their IEEE bits.
Json EncodeDouble(double v) {
  if (std::isfinite(v)) return Json(v);
  return Json{{"double_bits", DoubleBits(v)}};
}

Json EncodeScalar(const Scalar& s) {
  if (s.is_bool()) return Json{{"scalar", s.to<bool>()}};
  if (s.is_integral()) return Json{{"scalar", s.to<int64_t>()}};
  return Json{{"scalar", EncodeDouble(s.to<double>())}};
}

Json EncodeShape(const Shape& shape) { return Json(shape); }

Json EncodeAttr(const AttrValue& value) {
  return std::visit(
      [](const auto& v) -> Json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t>) {
          return Json(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return EncodeDouble(v);
        } else if constexpr (std::is_same_v<T, Scalar>) {
          return EncodeScalar(v);
        } else if constexpr (std::is_same_v<T, Shape>) {
          return EncodeShape(v);
        } else if constexpr (std::is_same_v<T, DType>) {
          return Json{{"dtype", DTypeName(v)}};
        } else if constexpr (std::is_same_v<T, Device>) {
          return Json{{"device", v.ToString()}};
        } else {
          return Json{{"bytes", Base64Encode(v)}};
        }
      },
      value);
}

int64_t DecodeInt(const Json& j, const char* what) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(u);
    }
  }
  Invalid(absl::StrFormat("%s must be an int64, got %s", what, j.dump()));
}

// A JSON object with exactly the one key `key`, or null.
const Json* OnlyMember(const Json& j, const char* key) {
  if (!j.is_object() || j.size() != 1 || !j.contains(key)) return nullptr;
  return &j.at(key);
}

std::optional<double> DecodeDouble(const Json& j) {
  if (j.is_number_float()) return j.get<double>();
  const Json* bits = OnlyMember(j, "double_bits");
  if (bits == nullptr || !bits->is_string()) return std::nullopt;
  const std::string& hex = bits->get_ref<const std::string&>();
  if (hex.size() != 16 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;
  }
  const double v = std::bit_cast<double>(std::stoull(hex, nullptr, 16));
  if (std::isfinite(v)) return std::nullopt;  // finite values are written as numbers
  return v;
}

Shape DecodeShape(const Json& j, const char* what) {
  if (!j.is_array()) Invalid(absl::StrFormat("%s must be an array of integers", what));
  Shape shape;
  for (const Json& e : j) shape.push_back(DecodeInt(e, what));
  return shape;
}

DType DecodeDType(const Json& j) {
  DType dtype;
  if (!j.is_string() || !ParseDType(j.get_ref<const std::string&>(), &dtype)) {
    Invalid(absl::StrFormat("unknown dtype %s", j.dump()));
  }
  return dtype;
}

Device DecodeDevice(const Json& j) {
  if (!j.is_string()) Invalid(absl::StrFormat("a device must be a string, got %s", j.dump()));
  absl::StatusOr<Device> device = Device::Parse(j.get_ref<const std::string&>());
  if (!device.ok()) Invalid(std::string(device.status().message()));
  return *device;
}

AttrValue DecodeAttr(const Json& j, const std::string& name) {
  const std::string what = absl::StrFormat("attr '%s'", name);
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return DecodeInt(j, what.c_str());
  if (j.is_number_float()) return j.get<double>();
  if (j.is_array()) return DecodeShape(j, what.c_str());
  if (std::optional<double> d = DecodeDouble(j)) return *d;
  if (const Json* s = OnlyMember(j, "scalar")) {
    if (s->is_boolean()) return Scalar(s->get<bool>());
    if (s->is_number_integer()) return Scalar(DecodeInt(*s, what.c_str()));
    if (std::optional<double> d = DecodeDouble(*s)) return Scalar(*d);
  }
  if (const Json* d = OnlyMember(j, "dtype")) return DecodeDType(*d);
  if (const Json* d = OnlyMember(j, "device")) return DecodeDevice(*d);
  if (const Json* b = OnlyMember(j, "bytes"); b != nullptr && b->is_string()) {
    std::optional<std::string> bytes = Base64Decode(b->get_ref<const std::string&>());
    if (!bytes) Invalid(absl::StrFormat("%s: bytes that are not canonical base64", what));
    return *std::move(bytes);
  }
  Invalid(absl::StrFormat("%s has a value of no known type: %s", what, j.dump()));
}

std::string Dump(const Json& j) {
  try {
    return j.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    Invalid(absl::StrFormat("cannot write a trace file: %s (names must be UTF-8)", e.what()));
  }
}

// ---- Writing

class Encoder {
 public:
  Encoder() { Line(Json{{"op_set", kTraceOpSet}, {"rng", kTraceRngScheme}}); }

  std::string Encode(const SavedModel& model) {
    CheckTensors(model);
    for (const auto& [trace, targets] : TargetsByTrace(model)) EncodeOps(*trace, targets);
    EncodeRealStorages(model);
    for (const SavedModule& module : model.modules) {
      Line(Json{{"module", module.name}, {"type", module.type}});
    }
    for (size_t i = 0; i < model.tensors.size(); ++i) {
      const Tensor& t = model.tensors[i];
      Line(Json{{"tensor", i},
                {"storage", index_.at(t.storage()->id())},
                {"sizes", t.sizes()},
                {"strides", t.strides()},
                {"offset", t.storage_offset()},
                {"dtype", DTypeName(t.dtype())}});
    }
    for (const SavedEntry& entry : model.entries) {
      if (entry.tensor < 0 || entry.tensor >= static_cast<int32_t>(model.tensors.size())) {
        Invalid(absl::StrFormat("entry '%s' names tensor %d of %d", entry.name, entry.tensor,
                                model.tensors.size()));
      }
      if (entry.buffer) {
        Line(Json{
            {"buffer", entry.name}, {"tensor", entry.tensor}, {"persistent", entry.persistent}});
      } else {
        Line(Json{{"parameter", entry.name}, {"tensor", entry.tensor}});
      }
    }
    return SealTraceFile(content_);
  }

 private:
  void Line(const Json& j) {
    content_ += Dump(j);
    content_ += '\n';
  }

  static void CheckTensors(const SavedModel& model) {
    for (size_t i = 0; i < model.tensors.size(); ++i) {
      const Tensor& t = model.tensors[i];
      if (!t.defined()) Invalid(absl::StrFormat("tensor %d is undefined", i));
      if (t.is_meta()) {
        Invalid(absl::StrFormat("%s is a meta tensor: a trace file holds recorded or real tensors",
                                t.ToString()));
      }
      if (t.has_data() && !t.device().is_cpu()) {
        Invalid(absl::StrFormat("%s is real on %s: only CPU tensors can be saved as bytes",
                                t.ToString(), t.device().ToString()));
      }
      if (!t.has_data() && TraceOf(t) == nullptr) {
        Invalid(absl::StrFormat("%s has no data and no recording", t.ToString()));
      }
    }
  }

  // The fake tensors' latest storage versions, per trace, traces in order of appearance.
  static std::vector<std::pair<std::shared_ptr<Trace>, std::vector<StorageVersion>>> TargetsByTrace(
      const SavedModel& model) {
    std::vector<std::pair<std::shared_ptr<Trace>, std::vector<StorageVersion>>> out;
    for (const Tensor& t : model.tensors) {
      if (t.has_data()) continue;
      std::shared_ptr<Trace> trace = TraceOf(t);
      auto it =
          std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == trace; });
      if (it == out.end()) it = out.insert(out.end(), {trace, {}});
      it->second.push_back(trace->Latest(*t.storage()));
    }
    return out;
  }

  Json Operand(const TraceOperand& operand) {
    return Json::array({index_.at(operand.value.storage_id), operand.value.version,
                        operand.layout.sizes, operand.layout.strides, operand.layout.storage_offset,
                        DTypeName(operand.dtype)});
  }

  void EncodeOps(const Trace& trace, const std::vector<StorageVersion>& targets) {
    for (Trace::Vertex v : trace.Subgraph(targets)) {
      const TraceNode& node = trace.Node(v);
      Json op{{"op", node.def->name}};
      if (!node.provenance.file.empty()) {
        op["at"] = absl::StrFormat("%s:%d", node.provenance.file, node.provenance.line);
      }
      if (!node.provenance.module_path.empty())
        op["module"] = std::string(node.provenance.module_path);
      Json inputs = Json::array();
      for (const TraceOperand& input : node.inputs) inputs.push_back(Operand(input));
      op["in"] = std::move(inputs);
      Json outputs = Json::array();
      for (const TraceOperand& output : node.outputs) {
        if (node.def->kind != OpKind::kInPlace) DeclareStorage(trace, output.value.storage_id);
        outputs.push_back(Operand(output));
      }
      op["out"] = std::move(outputs);
      Json attrs = Json::object();
      for (const auto& [name, value] : node.attrs.entries()) attrs[name] = EncodeAttr(value);
      op["attrs"] = std::move(attrs);
      Line(op);
    }
  }

  // A storage line for the new storage `storage_id` of `trace`, numbered next.
  void DeclareStorage(const Trace& trace, int64_t storage_id) {
    const TraceStorage storage = trace.Storage(storage_id);
    const int64_t index = next_index_++;
    index_[storage_id] = index;
    Line(Json{{"storage", index},
              {"sizes", storage.sizes},
              {"dtype", DTypeName(storage.dtype)},
              {"device", storage.device.ToString()}});
  }

  // A real_storage line, with its bytes, for each real tensor's storage, numbered after
  // the recorded ones.
  void EncodeRealStorages(const SavedModel& model) {
    for (const Tensor& t : model.tensors) {
      const StorageImpl& storage = *t.storage();
      if (!t.has_data() || index_.contains(storage.id())) continue;
      index_[storage.id()] = next_index_;
      const std::string_view bytes(reinterpret_cast<const char*>(storage.data()),
                                   static_cast<size_t>(storage.nbytes()));
      Line(Json{{"real_storage", next_index_++},
                {"nbytes", storage.nbytes()},
                {"device", "cpu"},
                {"bytes", Base64Encode(bytes)}});
    }
  }

  std::string content_ =
      absl::StrFormat("%s %d.%d\n", kMagic, kTraceFormatMajor, kTraceFormatMinor);
  int64_t next_index_ = 0;
  absl::flat_hash_map<int64_t, int64_t> index_;  // storage id -> the file's storage number
};

// ---- Reading

// Where each kind of line may stand: in this order, storages and ops interleaved.
enum class Section { kOps, kRealStorages, kModules, kTensors, kEntries };

class Decoder {
 public:
  explicit Decoder(int minor) : newer_minor_(minor > kTraceFormatMinor) {}

  void Line(const Json& j) {
    if (!j.is_object() || j.empty()) Invalid("a line must be a JSON object");
    const std::string& kind = j.begin().key();
    if (kind == "storage") {
      Enter(Section::kOps, kind);
      Storage(j);
    } else if (kind == "op") {
      Enter(Section::kOps, kind);
      Op(j);
    } else if (kind == "real_storage") {
      Enter(Section::kRealStorages, kind);
      RealStorage(j);
    } else if (kind == "module") {
      Enter(Section::kModules, kind);
      Module(j);
    } else if (kind == "tensor") {
      Enter(Section::kTensors, kind);
      TensorLine(j);
    } else if (kind == "parameter" || kind == "buffer") {
      Enter(Section::kEntries, kind);
      Entry(j, kind == "buffer");
    } else if (!newer_minor_) {
      Invalid(absl::StrFormat("unknown line kind '%s'", kind));
    }
  }

  SavedModel Finish() {
    for (size_t k = 0; k < storages_.size(); ++k) {
      if (storages_[k] == nullptr) {
        Invalid(absl::StrFormat("storage %d is declared, but no op makes it", k));
      }
    }
    if (model_.modules.empty()) Invalid("the file has no module lines (the root is missing)");
    return std::move(model_);
  }

 private:
  struct Declared {
    Shape sizes;
    DType dtype = DType::kFloat32;
    Device device = Device::CPU();
    bool real = false;
  };

  void Enter(Section section, const std::string& kind) {
    if (section < section_) {
      Invalid(absl::StrFormat("a '%s' line after the lines that follow its section", kind));
    }
    section_ = section;
  }

  // `j`'s member `key`, which must exist.
  static const Json& Member(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) Invalid(absl::StrFormat("missing field '%s'", key));
    return *it;
  }

  // Refuses fields this version does not know (a newer minor version may add some).
  void CheckFields(const Json& j, std::initializer_list<const char*> known) const {
    if (newer_minor_) return;
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool found = false;
      for (const char* k : known) found |= it.key() == k;
      if (!found) Invalid(absl::StrFormat("unknown field '%s'", it.key()));
    }
  }

  static const std::string& String(const Json& j, const char* what) {
    if (!j.is_string()) Invalid(absl::StrFormat("%s must be a string, got %s", what, j.dump()));
    return j.get_ref<const std::string&>();
  }

  int64_t Index(const Json& j, const char* what, size_t limit) {
    const int64_t index = DecodeInt(j, what);
    if (index < 0 || static_cast<uint64_t>(index) >= limit) {
      Invalid(absl::StrFormat("%s %d does not exist (%d so far)", what, index, limit));
    }
    return index;
  }

  void Storage(const Json& j) {
    CheckFields(j, {"storage", "sizes", "dtype", "device"});
    if (DecodeInt(Member(j, "storage"), "storage") != static_cast<int64_t>(declared_.size())) {
      Invalid(absl::StrFormat("storages must be numbered in order: expected storage %d",
                              declared_.size()));
    }
    Declared d{DecodeShape(Member(j, "sizes"), "sizes"), DecodeDType(Member(j, "dtype")),
               DecodeDevice(Member(j, "device")), false};
    CheckedByteSize(d.sizes, d.dtype, "storage");
    declared_.push_back(std::move(d));
    storages_.push_back(nullptr);
  }

  // A fake storage of this file's trace, created already.
  const ::deferred::Storage& FakeStorage(int64_t index) {
    if (storages_[index] == nullptr) Invalid(absl::StrFormat("storage %d is not made yet", index));
    if (declared_[index].real) Invalid(absl::StrFormat("storage %d is real, not recorded", index));
    return storages_[index];
  }

  // An input operand [storage, version, sizes, strides, offset, dtype] as a tensor.
  Tensor Input(const Json& j) {
    if (!j.is_array() || j.size() != 6)
      Invalid("an operand must be [storage, version, sizes, strides, offset, dtype]");
    const int64_t index = Index(j[0], "storage", storages_.size());
    const ::deferred::Storage& storage = FakeStorage(index);
    const int64_t version = DecodeInt(j[1], "version");
    const int32_t latest = trace_->Latest(*storage).version;
    if (version != latest) {
      Invalid(absl::StrFormat("reads version %d of storage %d, whose latest version is %d", version,
                              index, latest));
    }
    const DType dtype = DecodeDType(j[5]);
    if (dtype != declared_[index].dtype) {
      Invalid(absl::StrFormat("reads storage %d of %s as %s", index,
                              DTypeName(declared_[index].dtype), DTypeName(dtype)));
    }
    return MakeTensor(storage,
                      TensorLayout{DecodeShape(j[2], "sizes"), DecodeShape(j[3], "strides"),
                                   DecodeInt(j[4], "offset")},
                      dtype);
  }

  Provenance ProvenanceOf(const Json& j) {
    Provenance p;
    if (auto it = j.find("module"); it != j.end()) p.module_path = String(*it, "module");
    if (auto it = j.find("at"); it != j.end()) {
      const std::string& at = String(*it, "at");
      const size_t colon = at.rfind(':');
      int line = 0;
      if (colon == std::string::npos || colon == 0 ||
          !absl::SimpleAtoi(absl::string_view(at.data() + colon + 1, at.size() - colon - 1),
                            &line) ||
          line < 0) {
        Invalid(absl::StrFormat("'at' must be \"file:line\", got \"%s\"", at));
      }
      p.file = std::string_view(at).substr(0, colon);
      p.line = line;
    }
    return p;
  }

  void Op(const Json& j) {
    CheckFields(j, {"op", "at", "module", "in", "out", "attrs"});
    const std::string& name = String(Member(j, "op"), "op");
    if (!OpRegistry::Global().Contains(name)) {
      Invalid(absl::StrFormat("unknown op '%s' (this reader's op set is %d)", name, kTraceOpSet));
    }
    OpCall call{&OpRegistry::Global().Get(name), {}, {}};
    const OpDef& def = *call.def;
    if (def.kind == OpKind::kView) {
      Invalid(absl::StrFormat("'%s' is a view: views are operand layouts, not ops", name));
    }
    const Json& inputs = Member(j, "in");
    if (!inputs.is_array()) Invalid("'in' must be an array of operands");
    for (const Json& input : inputs) call.inputs.push_back(Input(input));
    const Json& attrs = Member(j, "attrs");
    if (!attrs.is_object()) Invalid("'attrs' must be an object");
    for (auto it = attrs.begin(); it != attrs.end(); ++it) {
      call.attrs.Set(it.key(), DecodeAttr(it.value(), it.key()));
    }
    const Json& outputs = Member(j, "out");
    if (!outputs.is_array()) Invalid("'out' must be an array of operands");
    CheckOutputOperands(call, outputs);
    ValidateCall(call);
    const std::vector<Tensor> made = trace_->RecordWithProvenance(call, ProvenanceOf(j));
    if (def.kind == OpKind::kInPlace) return;
    if (made.size() != outputs.size()) {
      Invalid(absl::StrFormat("%s makes %d outputs, the line lists %d", name, made.size(),
                              outputs.size()));
    }
    for (size_t k = 0; k < made.size(); ++k) {
      const int64_t index = DecodeInt(outputs[k][0], "storage");
      const Declared& d = declared_[index];
      if (made[k].sizes() != d.sizes || made[k].dtype() != d.dtype ||
          made[k].device() != d.device) {
        Invalid(absl::StrFormat("%s makes %s %s on %s, but storage %d is declared %s %s on %s",
                                name, ShapeToString(made[k].sizes()), DTypeName(made[k].dtype()),
                                made[k].device().ToString(), index, ShapeToString(d.sizes),
                                DTypeName(d.dtype), d.device.ToString()));
      }
      storages_[index] = made[k].storage();
    }
  }

  // An in-place op's output is its target at the next version; another op's outputs are
  // the next storages declared and not made yet, whole and contiguous.
  void CheckOutputOperands(const OpCall& call, const Json& outputs) {
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Json& out = outputs[k];
      if (!out.is_array() || out.size() != 6)
        Invalid("an operand must be [storage, version, sizes, strides, offset, dtype]");
      const int64_t index = Index(out[0], "storage", storages_.size());
      const int64_t version = DecodeInt(out[1], "version");
      const TensorLayout layout{DecodeShape(out[2], "sizes"), DecodeShape(out[3], "strides"),
                                DecodeInt(out[4], "offset")};
      const DType dtype = DecodeDType(out[5]);
      if (call.def->kind == OpKind::kInPlace) {
        if (k > 0 || call.inputs.empty()) Invalid("an in-place op has one output, its input 0");
        const Tensor& self = call.inputs[0];
        if (storages_[index] != self.storage() ||
            version != trace_->Latest(*self.storage()).version + 1 ||
            layout.sizes != self.sizes() || layout.strides != self.strides() ||
            layout.storage_offset != self.storage_offset() || dtype != self.dtype()) {
          Invalid("an in-place op's output must be its input 0 at the next version");
        }
        continue;
      }
      const Declared& d = declared_[index];
      if (storages_[index] != nullptr || d.real || index != made_ + static_cast<int64_t>(k) ||
          version != 0 || layout.sizes != d.sizes || layout.strides != ContiguousStrides(d.sizes) ||
          layout.storage_offset != 0 || dtype != d.dtype) {
        Invalid(
            absl::StrFormat("output %d must be the next declared storage (%d), whole, at "
                            "version 0",
                            k, made_ + k));
      }
    }
    if (call.def->kind != OpKind::kInPlace) made_ += static_cast<int64_t>(outputs.size());
  }

  void RealStorage(const Json& j) {
    CheckFields(j, {"real_storage", "nbytes", "device", "bytes"});
    if (DecodeInt(Member(j, "real_storage"), "real_storage") !=
        static_cast<int64_t>(declared_.size())) {
      Invalid(absl::StrFormat("storages must be numbered in order: expected %d", declared_.size()));
    }
    const int64_t nbytes = DecodeInt(Member(j, "nbytes"), "nbytes");
    if (DecodeDevice(Member(j, "device")) != Device::CPU()) Invalid("real storages are on the CPU");
    std::optional<std::string> bytes = Base64Decode(String(Member(j, "bytes"), "bytes"));
    if (!bytes) Invalid("'bytes' is not canonical base64");
    if (static_cast<int64_t>(bytes->size()) != nbytes) {
      Invalid(absl::StrFormat("'bytes' holds %d bytes, 'nbytes' says %d", bytes->size(), nbytes));
    }
    ::deferred::Storage storage = AllocateStorage(nbytes, Device::CPU());
    if (nbytes > 0) std::memcpy(storage->data(), bytes->data(), bytes->size());
    declared_.push_back(Declared{{nbytes}, DType::kUInt8, Device::CPU(), true});
    storages_.push_back(std::move(storage));
    made_ = static_cast<int64_t>(storages_.size());
  }

  // Whether `name` is a dotted path of non-empty parts.
  static bool IsPath(const std::string& name) {
    if (name.empty() || name.front() == '.' || name.back() == '.') return false;
    return name.find("..") == std::string::npos;
  }

  // The module `name` would belong to: its prefix before the last dot, or "" (the root).
  static std::string Parent(const std::string& name) {
    const size_t dot = name.rfind('.');
    return dot == std::string::npos ? "" : name.substr(0, dot);
  }

  void Module(const Json& j) {
    CheckFields(j, {"module", "type"});
    const std::string& name = String(Member(j, "module"), "module");
    const std::string& type = String(Member(j, "type"), "type");
    if (model_.modules.empty()) {
      if (!name.empty()) Invalid("the first module must be the root, \"\"");
    } else if (!IsPath(name) || !modules_.contains(Parent(name))) {
      Invalid(absl::StrFormat("module '%s' is not a child of a module listed before it", name));
    } else if (modules_.contains(name)) {
      Invalid(absl::StrFormat("module '%s' is listed twice", name));
    }
    modules_.insert(name);
    model_.modules.push_back(SavedModule{name, type});
  }

  void TensorLine(const Json& j) {
    CheckFields(j, {"tensor", "storage", "sizes", "strides", "offset", "dtype"});
    if (DecodeInt(Member(j, "tensor"), "tensor") != static_cast<int64_t>(model_.tensors.size())) {
      Invalid(
          absl::StrFormat("tensors must be numbered in order: expected %d", model_.tensors.size()));
    }
    const int64_t index = Index(Member(j, "storage"), "storage", storages_.size());
    if (storages_[index] == nullptr) Invalid(absl::StrFormat("storage %d is not made", index));
    const DType dtype = DecodeDType(Member(j, "dtype"));
    if (!declared_[index].real && dtype != declared_[index].dtype) {
      Invalid(absl::StrFormat("tensor of %s on storage %d of %s", DTypeName(dtype), index,
                              DTypeName(declared_[index].dtype)));
    }
    model_.tensors.push_back(MakeTensor(storages_[index],
                                        TensorLayout{DecodeShape(Member(j, "sizes"), "sizes"),
                                                     DecodeShape(Member(j, "strides"), "strides"),
                                                     DecodeInt(Member(j, "offset"), "offset")},
                                        dtype));
  }

  void Entry(const Json& j, bool buffer) {
    if (buffer) {
      CheckFields(j, {"buffer", "tensor", "persistent"});
    } else {
      CheckFields(j, {"parameter", "tensor"});
    }
    SavedEntry entry;
    entry.name = String(Member(j, buffer ? "buffer" : "parameter"), "name");
    entry.buffer = buffer;
    entry.tensor =
        static_cast<int32_t>(Index(Member(j, "tensor"), "tensor", model_.tensors.size()));
    if (buffer) {
      const Json& persistent = Member(j, "persistent");
      if (!persistent.is_boolean()) Invalid("'persistent' must be true or false");
      entry.persistent = persistent.get<bool>();
    }
    if (!IsPath(entry.name) || !modules_.contains(Parent(entry.name))) {
      Invalid(absl::StrFormat("'%s' does not name a tensor of a listed module", entry.name));
    }
    if (!entry_names_.insert(entry.name).second || modules_.contains(entry.name)) {
      Invalid(absl::StrFormat("'%s' is listed twice", entry.name));
    }
    model_.entries.push_back(std::move(entry));
  }

  bool newer_minor_;
  Section section_ = Section::kOps;
  std::shared_ptr<Trace> trace_ = std::make_shared<Trace>();
  std::vector<Declared> declared_;
  std::vector<::deferred::Storage> storages_;  // by file index; null until made
  int64_t made_ = 0;                           // storages made so far, in order
  absl::flat_hash_set<std::string> modules_;
  absl::flat_hash_set<std::string> entry_names_;
  SavedModel model_;
};

absl::Status DataLoss(const std::string& message) { return absl::DataLossError(message); }

// "deferred-trace M.m" -> (M, m).
std::optional<std::pair<int, int>> ParseMagic(std::string_view line) {
  const std::string prefix = std::string(kMagic) + " ";
  if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view version = line.substr(prefix.size());
  const size_t dot = version.find('.');
  int major = 0, minor = 0;
  if (dot == std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(version.data(), dot), &major) ||
      !absl::SimpleAtoi(absl::string_view(version.data() + dot + 1, version.size() - dot - 1),
                        &minor) ||
      major < 0 || minor < 0) {
    return std::nullopt;
  }
  return std::make_pair(major, minor);
}

}  // namespace

std::string SealTraceFile(std::string_view content) {
  return absl::StrFormat("%s%s%s\n", content, kEndPrefix, Sha256::HexDigest(content));
}

absl::StatusOr<std::string> EncodeTraceFile(const SavedModel& model) {
  std::string text;
  absl::Status status = CatchErrors([&] { text = Encoder().Encode(model); });
  if (!status.ok()) return status;
  return text;
}

absl::StatusOr<SavedModel> DecodeTraceFile(std::string_view text) {
  // Line 1: what the file is and which version wrote it.
  const size_t first_end = text.find('\n');
  const std::optional<std::pair<int, int>> version =
      ParseMagic(text.substr(0, first_end == std::string_view::npos ? text.size() : first_end));
  if (!version) {
    return DataLoss(
        absl::StrFormat("line 1: not a deferred trace file (it must start with "
                        "\"%s %d.%d\")",
                        kMagic, kTraceFormatMajor, kTraceFormatMinor));
  }
  const auto [major, minor] = *version;
  if (major > kTraceFormatMajor) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the file is trace format %d.%d; this reader understands %d.x (up to %d.%d)", major, minor,
        kTraceFormatMajor, kTraceFormatMajor, kTraceFormatMinor));
  }
  if (major < kTraceFormatMajor) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the file is trace format %d.%d; this reader understands %d.x only", major,
                        minor, kTraceFormatMajor));
  }
  // The last line: the checksum of everything before it.
  if (text.empty() || text.back() != '\n') {
    return DataLoss(
        absl::StrFormat("truncated: the file (%d bytes) does not end with a "
                        "newline and has no end line",
                        text.size()));
  }
  const size_t end_start = text.rfind('\n', text.size() - 2) + 1;
  const std::string_view end_line = text.substr(end_start, text.size() - 1 - end_start);
  const std::string_view content = text.substr(0, end_start);
  if (end_start == 0 || end_line.substr(0, std::strlen(kEndPrefix)) != kEndPrefix) {
    return DataLoss(
        absl::StrFormat("truncated: the last line (at byte %d) is not the end "
                        "line \"%s<sha256>\"",
                        end_start, kEndPrefix));
  }
  const std::string_view recorded = end_line.substr(std::strlen(kEndPrefix));
  const std::string actual = Sha256::HexDigest(content);
  if (recorded != actual) {
    return DataLoss(absl::StrFormat(
        "checksum mismatch: bytes 0 to %d hash to sha256 %s, but the end line says \"%s\"; "
        "the file was corrupted or edited after it was written",
        end_start, actual, std::string(recorded)));
  }

  Decoder decoder(minor);
  int line_number = 0;
  size_t at = 0;
  SavedModel model;
  absl::Status status = CatchErrors([&] {
    for (; at < content.size(); ++line_number) {
      const size_t next = content.find('\n', at);
      const std::string_view line = content.substr(at, next - at);
      const size_t line_start = at;
      at = next + 1;
      if (line_number == 0) continue;  // the magic line
      if (JsonNestingDepth(line) > kMaxJsonDepth) {
        throw Error(absl::StrFormat("nested deeper than %d", kMaxJsonDepth),
                    absl::StatusCode::kDataLoss);
      }
      const Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) {
        throw Error(absl::StrFormat("not valid JSON (the line starts at byte %d)", line_start),
                    absl::StatusCode::kDataLoss);
      }
      if (line_number == 1) {
        if (!j.is_object() || !j.contains("op_set") || !j.contains("rng")) {
          Invalid("the header must give \"op_set\" and \"rng\"");
        }
        const int64_t op_set = DecodeInt(j.at("op_set"), "op_set");
        if (op_set > kTraceOpSet) {
          throw Error(absl::StrFormat("the file uses op set %d; this reader knows op set %d",
                                      op_set, kTraceOpSet),
                      absl::StatusCode::kFailedPrecondition);
        }
        if (j.at("rng") != kTraceRngScheme) {
          throw Error(absl::StrFormat("the file's random numbers are %s; this reader's are %s",
                                      j.at("rng").dump(), kTraceRngScheme),
                      absl::StatusCode::kFailedPrecondition);
        }
        continue;
      }
      decoder.Line(j);
    }
    if (line_number < 2) Invalid("the file has no header line");
    model = decoder.Finish();
  });
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrFormat("line %d: %s", line_number + 1, status.message()));
  }
  return model;
}

}  // namespace deferred
