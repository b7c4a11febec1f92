#include "checkpoint/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "fake_tensor/checked_arithmetic.h"
#include "fake_tensor/json_nesting.h"
#include "nlohmann/json.hpp"

namespace deferred {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and is read without byte swaps");

using Json = nlohmann::json;

constexpr char kMetadataKey[] = "__metadata__";
// A header is a map of maps holding arrays: nothing valid nests deeper.
constexpr int kMaxHeaderNesting = 3;

struct SafetensorsDType {
  const char* name;
  std::optional<DType> dtype;  // nullopt: a safetensors dtype this project does not have
};

constexpr SafetensorsDType kDTypeNames[] = {
    {"F32", DType::kFloat32}, {"F64", DType::kFloat64}, {"F16", DType::kFloat16},
    {"BF16", DType::kBFloat16}, {"I64", DType::kInt64}, {"I32", DType::kInt32},
    {"U8", DType::kUInt8},    {"BOOL", DType::kBool},   {"I8", std::nullopt},
    {"I16", std::nullopt},    {"U16", std::nullopt},    {"U32", std::nullopt},
    {"U64", std::nullopt},    {"F8_E4M3", std::nullopt}, {"F8_E5M2", std::nullopt},
    {"F8_E8M0", std::nullopt}, {"F6_E2M3", std::nullopt}, {"F6_E3M2", std::nullopt},
    {"F4", std::nullopt},     {"C64", std::nullopt},
};

absl::Status DataLoss(const std::string& message) { return absl::DataLossError(message); }
absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// A non-negative JSON integer, or nullopt.
std::optional<int64_t> NonNegative(const Json& j) {
  if (!j.is_number_unsigned()) return std::nullopt;
  const uint64_t v = j.get<uint64_t>();
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(v);
}

absl::StatusOr<SafetensorsTensor> ParseEntry(const std::string& name, const Json& j) {
  if (!j.is_object()) return Invalid(absl::StrFormat("tensor '%s': the entry is not an object", name));
  SafetensorsTensor t;
  t.name = name;
  const auto dtype = j.find("dtype");
  if (dtype == j.end() || !dtype->is_string()) {
    return Invalid(absl::StrFormat("tensor '%s': no \"dtype\" string", name));
  }
  absl::StatusOr<DType> parsed = ParseSafetensorsDType(dtype->get_ref<const std::string&>());
  if (!parsed.ok()) return Invalid(absl::StrFormat("tensor '%s': %s", name, parsed.status().message()));
  t.dtype = *parsed;
  const auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array()) {
    return Invalid(absl::StrFormat("tensor '%s': no \"shape\" array", name));
  }
  for (const Json& size : *shape) {
    const std::optional<int64_t> s = NonNegative(size);
    if (!s) {
      return Invalid(absl::StrFormat("tensor '%s': shape %s has a size that is not a "
                                     "non-negative integer",
                                     name, shape->dump()));
    }
    t.shape.push_back(*s);
  }
  const auto offsets = j.find("data_offsets");
  std::optional<int64_t> begin, end;
  if (offsets != j.end() && offsets->is_array() && offsets->size() == 2) {
    begin = NonNegative((*offsets)[0]);
    end = NonNegative((*offsets)[1]);
  }
  if (!begin || !end || *begin > *end) {
    return Invalid(absl::StrFormat("tensor '%s': \"data_offsets\" must be [begin, end] with "
                                   "0 <= begin <= end",
                                   name));
  }
  t.begin = *begin;
  t.end = *end;
  std::optional<int64_t> bytes = ElementSize(t.dtype);
  if (std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end()) {
    bytes = 0;
  } else {
    for (int64_t s : t.shape) bytes = bytes ? CheckedMul(*bytes, s) : std::nullopt;
  }
  if (!bytes) {
    return Invalid(absl::StrFormat("tensor '%s': shape %s of %s overflows int64 bytes", name,
                                   ShapeToString(t.shape), SafetensorsDTypeName(t.dtype)));
  }
  if (*bytes != t.end - t.begin) {
    return Invalid(absl::StrFormat(
        "tensor '%s': shape %s of %s is %d bytes, but data_offsets [%d, %d] hold %d", name,
        ShapeToString(t.shape), SafetensorsDTypeName(t.dtype), *bytes, t.begin, t.end,
        t.end - t.begin));
  }
  return t;
}

}  // namespace

const char* SafetensorsDTypeName(DType dtype) {
  for (const SafetensorsDType& d : kDTypeNames) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

absl::StatusOr<DType> ParseSafetensorsDType(std::string_view name) {
  for (const SafetensorsDType& d : kDTypeNames) {
    if (name != d.name) continue;
    if (d.dtype) return *d.dtype;
    return Invalid(absl::StrFormat("dtype %s is a safetensors dtype that deferred does not "
                                   "support (it has F32, F64, F16, BF16, I64, I32, U8, BOOL)",
                                   name));
  }
  return Invalid(absl::StrFormat("unknown dtype \"%s\"", name));
}

const SafetensorsTensor* SafetensorsHeader::Find(std::string_view name) const {
  for (const SafetensorsTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(std::string_view prefix,
                                                         int64_t file_bytes) {
  if (file_bytes < 8 || prefix.size() < 8) {
    return DataLoss(absl::StrFormat("the file is %d bytes, shorter than the 8-byte header "
                                    "length that starts a safetensors file",
                                    file_bytes));
  }
  uint64_t length;
  std::memcpy(&length, prefix.data(), 8);
  if (length > static_cast<uint64_t>(file_bytes - 8)) {
    return DataLoss(absl::StrFormat("bytes 0-7: the header length %d runs past the end of "
                                    "the %d-byte file",
                                    length, file_bytes));
  }
  if (length > static_cast<uint64_t>(kMaxSafetensorsHeaderBytes)) {
    return DataLoss(absl::StrFormat("bytes 0-7: the header length %d is over the %d-byte limit",
                                    length, kMaxSafetensorsHeaderBytes));
  }
  const int64_t header_bytes = static_cast<int64_t>(length);
  if (static_cast<int64_t>(prefix.size()) < 8 + header_bytes) {
    return Invalid("ParseSafetensorsHeader: the prefix does not hold the whole header");
  }
  const std::string_view text = prefix.substr(8, static_cast<size_t>(header_bytes));
  if (text.empty() || text[0] != '{') {
    return DataLoss("byte 8: the header must be a JSON object starting with '{'");
  }
  if (JsonNestingDepth(text) > kMaxHeaderNesting) {
    return DataLoss("the header is nested deeper than a safetensors header can be");
  }
  // The parser keeps the last of duplicate keys; the callback notices them instead.
  std::set<std::string> keys;
  std::string duplicate;
  const Json header = Json::parse(
      text.begin(), text.end(),
      [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (depth == 1 && event == Json::parse_event_t::key && duplicate.empty() &&
            !keys.insert(parsed.get<std::string>()).second) {
          duplicate = parsed.get<std::string>();
        }
        return true;
      },
      /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return DataLoss(absl::StrFormat("bytes 8-%d: the header is not a valid JSON object",
                                    8 + header_bytes - 1));
  }
  if (!duplicate.empty()) {
    return DataLoss(absl::StrFormat("the header names tensor '%s' twice", duplicate));
  }

  SafetensorsHeader out;
  out.data_offset = 8 + header_bytes;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == kMetadataKey) {
      if (!it->is_object()) return Invalid("\"__metadata__\" must map strings to strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) {
          return Invalid(absl::StrFormat("\"__metadata__\" value of '%s' is not a string", m.key()));
        }
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    absl::StatusOr<SafetensorsTensor> t = ParseEntry(it.key(), *it);
    if (!t.ok()) return t.status();
    out.tensors.push_back(*std::move(t));
  }
  std::stable_sort(out.tensors.begin(), out.tensors.end(),
                   [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  const int64_t data_bytes = file_bytes - out.data_offset;
  int64_t covered = 0;
  const SafetensorsTensor* previous = nullptr;
  for (const SafetensorsTensor& t : out.tensors) {
    if (t.begin < covered) {
      return DataLoss(absl::StrFormat("tensors '%s' [%d, %d) and '%s' [%d, %d) overlap",
                                      previous->name, previous->begin, previous->end, t.name,
                                      t.begin, t.end));
    }
    if (t.begin > covered) {
      return DataLoss(absl::StrFormat("the data section has a gap of bytes [%d, %d) before "
                                      "tensor '%s'",
                                      covered, t.begin, t.name));
    }
    if (t.end > data_bytes) {
      return DataLoss(absl::StrFormat("tensor '%s' ends at data byte %d, past the %d bytes of "
                                      "the data section: the file is truncated",
                                      t.name, t.end, data_bytes));
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_bytes) {
    return DataLoss(absl::StrFormat("the data section is %d bytes, but its tensors cover %d",
                                    data_bytes, covered));
  }
  return out;
}

absl::StatusOr<std::string> EncodeSafetensorsHeader(std::vector<SafetensorsTensor>& tensors,
                                                    const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  int64_t offset = 0;
  for (SafetensorsTensor& t : tensors) {
    if (t.name == kMetadataKey || header.contains(t.name)) {
      return Invalid(absl::StrFormat("cannot write tensor '%s' twice (or under a reserved name)",
                                     t.name));
    }
    std::optional<int64_t> bytes = ElementSize(t.dtype);
    for (int64_t s : t.shape) bytes = bytes ? CheckedMul(*bytes, s) : std::nullopt;
    const std::optional<int64_t> end = bytes ? CheckedAdd(offset, *bytes) : std::nullopt;
    if (!end) return Invalid(absl::StrFormat("tensor '%s': its bytes overflow int64", t.name));
    t.begin = offset;
    t.end = *end;
    offset = *end;
    header[t.name] = {{"dtype", SafetensorsDTypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {t.begin, t.end}}};
  }
  std::string json;
  try {
    json = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::ordered_json::exception& e) {
    return Invalid(absl::StrFormat("cannot write the header: %s (names must be UTF-8)", e.what()));
  }
  json.append((8 - json.size() % 8) % 8, ' ');  // 8 + size is then a multiple of 8
  const uint64_t length = json.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &length, 8);
  return out + json;
}

}  // namespace deferred
