#include "checkpoint/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fake_tensor/file_io.h"
#include "fake_tensor/json_nesting.h"
#include "nlohmann/json.hpp"

namespace deferred {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxIndexBytes = int64_t{256} << 20;
constexpr int kMaxIndexNesting = 4;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A file name of an index: relative, inside the index's folder.
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

std::optional<Shape> NonNegativeShape(const Json& j) {
  if (!j.is_array()) return std::nullopt;
  Shape shape;
  for (const Json& e : j) {
    if (!e.is_number_unsigned() || e.get<uint64_t>() > (uint64_t{1} << 62)) return std::nullopt;
    shape.push_back(static_cast<int64_t>(e.get<uint64_t>()));
  }
  return shape;
}

// Copies `block` (contiguous, of `block_region`'s sizes) into `out` (contiguous, of
// `out_region`'s sizes) where the block lies within it.
void CopyBlock(const char* block, const Region& block_region, char* out, const Region& out_region,
               int64_t element) {
  const int64_t rank = block_region.rank();
  if (rank == 0) {
    std::memcpy(out, block, static_cast<size_t>(element));
    return;
  }
  const Shape block_sizes = block_region.sizes();
  const Shape out_strides = ContiguousStrides(out_region.sizes());
  const int64_t row = block_sizes[rank - 1] * element;
  const int64_t rows = block_region.numel() / block_sizes[rank - 1];
  Shape at(rank - 1, 0);  // index of the row within the block
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offset = block_region.start[rank - 1] - out_region.start[rank - 1];
    for (int64_t d = 0; d + 1 < rank; ++d) {
      offset += (block_region.start[d] + at[d] - out_region.start[d]) * out_strides[d];
    }
    std::memcpy(out + offset * element, block + r * row, static_cast<size_t>(row));
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++at[d] < block_sizes[d]) break;
      at[d] = 0;
    }
  }
}

Region Intersection(const Region& a, const Region& b) {
  Region out = a;
  for (int64_t d = 0; d < a.rank(); ++d) {
    out.start[d] = std::max(a.start[d], b.start[d]);
    out.stop[d] = std::max(out.start[d], std::min(a.stop[d], b.stop[d]));
  }
  return out;
}

// `region` in the coordinates of a piece that starts at `origin`.
Region Relative(const Region& region, const Shape& origin) {
  Region out = region;
  for (int64_t d = 0; d < region.rank(); ++d) {
    out.start[d] -= origin[d];
    out.stop[d] -= origin[d];
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& path) {
  std::unique_ptr<Checkpoint> checkpoint(new Checkpoint());
  if (!EndsWith(path, ".json")) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(path);
    if (!file.ok()) return file.status();
    checkpoint->metadata_ = (*file)->header().metadata;
    const bool regions = checkpoint->metadata_.contains(kRegionsMetadataKey);
    absl::Status added = regions ? checkpoint->AddRegions(**file)
                                 : checkpoint->AddWholeTensors(**file, nullptr);
    checkpoint->files_.push_back(*std::move(file));
    if (!added.ok()) return added;
    if (absl::Status s = checkpoint->CheckPiecesTile(); !s.ok()) return s;
    return checkpoint;
  }
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxIndexBytes);
  if (!text.ok()) return text.status();
  auto fail = [&](const std::string& message) {
    return Invalid(absl::StrFormat("%s: %s", path, message));
  };
  if (JsonNestingDepth(*text) > kMaxIndexNesting) return fail("nested deeper than an index can be");
  const Json index = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object()) return fail("not a JSON object");
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  // Files in the order the index names them, each opened once.
  std::map<std::string, std::vector<std::string>> whole;  // file -> tensor names
  std::vector<std::string> file_order;
  if (auto it = index.find("weight_map"); it != index.end()) {
    if (!it->is_object()) return fail("\"weight_map\" must map tensor names to file names");
    for (auto w = it->begin(); w != it->end(); ++w) {
      if (!w->is_string() || !IsPlainFileName(w->get<std::string>())) {
        return fail(absl::StrFormat("\"weight_map\" gives tensor '%s' no plain file name", w.key()));
      }
      const std::string file = w->get<std::string>();
      if (!whole.contains(file)) file_order.push_back(file);
      whole[file].push_back(w.key());
    }
  }
  std::vector<std::string> region_files;
  if (auto it = index.find("deferred_region_files"); it != index.end()) {
    if (!it->is_array()) return fail("\"deferred_region_files\" must be an array of file names");
    for (const Json& f : *it) {
      if (!f.is_string() || !IsPlainFileName(f.get<std::string>())) {
        return fail("\"deferred_region_files\" holds something other than a plain file name");
      }
      region_files.push_back(f.get<std::string>());
    }
  }
  if (whole.empty() && region_files.empty()) return fail("the index names no files");
  for (const std::string& name : file_order) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::Open((folder / name).string());
    if (!file.ok()) return file.status();
    absl::Status added = checkpoint->AddWholeTensors(**file, &whole[name]);
    checkpoint->files_.push_back(*std::move(file));
    if (!added.ok()) return added;
  }
  for (const std::string& name : region_files) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::Open((folder / name).string());
    if (!file.ok()) return file.status();
    absl::Status added = checkpoint->AddRegions(**file);
    checkpoint->files_.push_back(*std::move(file));
    if (!added.ok()) return added;
  }
  if (absl::Status s = checkpoint->CheckPiecesTile(); !s.ok()) return s;
  return checkpoint;
}

absl::Status Checkpoint::AddWholeTensors(const SafetensorsFile& file,
                                         const std::vector<std::string>* names) {
  std::vector<const SafetensorsTensor*> stored;
  if (names == nullptr) {
    for (const SafetensorsTensor& t : file.header().tensors) stored.push_back(&t);
  } else {
    for (const std::string& name : *names) {
      const SafetensorsTensor* t = file.header().Find(name);
      if (t == nullptr) {
        return Invalid(absl::StrFormat("%s: the index says it holds tensor '%s', but it does not",
                                       file.path(), name));
      }
      stored.push_back(t);
    }
  }
  for (const SafetensorsTensor* t : stored) {
    if (index_.contains(t->name)) {
      return Invalid(absl::StrFormat("%s: tensor '%s' is stored whole twice", file.path(), t->name));
    }
    index_[t->name] = tensors_.size();
    tensors_.push_back(CheckpointTensor{
        t->name, t->dtype, t->shape, {{&file, t, Region::Full(t->shape)}}});
  }
  return absl::OkStatus();
}

absl::Status Checkpoint::AddRegions(const SafetensorsFile& file) {
  auto fail = [&](const std::string& message) {
    return Invalid(absl::StrFormat("%s: %s: %s", file.path(), kRegionsMetadataKey, message));
  };
  auto it = file.header().metadata.find(kRegionsMetadataKey);
  if (it == file.header().metadata.end()) return fail("missing: this is not a file of regions");
  if (JsonNestingDepth(it->second) > 3) return fail("nested too deep");
  const Json regions = Json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (regions.is_discarded() || !regions.is_object()) return fail("not a JSON object");
  for (const SafetensorsTensor& stored : file.header().tensors) {
    auto r = regions.find(stored.name);
    if (r == regions.end() || !r->is_object()) {
      return fail(absl::StrFormat("tensor '%s' has no region", stored.name));
    }
    std::optional<Shape> shape, start;
    if (r->contains("shape")) shape = NonNegativeShape(r->at("shape"));
    if (r->contains("start")) start = NonNegativeShape(r->at("start"));
    if (!shape || !start || shape->size() != stored.shape.size() || start->size() != shape->size()) {
      return fail(absl::StrFormat("tensor '%s': a region needs \"shape\" and \"start\" of its rank",
                                  stored.name));
    }
    Region region{*start, *start};
    for (size_t d = 0; d < shape->size(); ++d) {
      region.stop[d] = (*start)[d] + stored.shape[d];
      if (region.stop[d] > (*shape)[d]) {
        return fail(absl::StrFormat("tensor '%s': region %s passes the whole shape %s", stored.name,
                                    region.ToString(), ShapeToString(*shape)));
      }
    }
    auto [position, added] = index_.try_emplace(stored.name, tensors_.size());
    if (added) tensors_.push_back(CheckpointTensor{stored.name, stored.dtype, *shape, {}});
    CheckpointTensor& tensor = tensors_[position->second];
    if (tensor.dtype != stored.dtype || tensor.shape != *shape) {
      return fail(absl::StrFormat("tensor '%s' is %s %s here and %s %s elsewhere", stored.name,
                                  SafetensorsDTypeName(stored.dtype), ShapeToString(*shape),
                                  SafetensorsDTypeName(tensor.dtype), ShapeToString(tensor.shape)));
    }
    tensor.pieces.push_back({&file, &stored, std::move(region)});
  }
  return absl::OkStatus();
}

absl::Status Checkpoint::CheckPiecesTile() const {
  for (const CheckpointTensor& tensor : tensors_) {
    // Disjoint pieces whose sizes add up to the whole tile it.
    int64_t covered = 0;
    for (size_t i = 0; i < tensor.pieces.size(); ++i) {
      covered += tensor.pieces[i].region.numel();
      for (size_t j = 0; j < i; ++j) {
        if (!Intersection(tensor.pieces[i].region, tensor.pieces[j].region).empty()) {
          return Invalid(absl::StrFormat("tensor '%s': regions %s (%s) and %s (%s) overlap",
                                         tensor.name, tensor.pieces[j].region.ToString(),
                                         tensor.pieces[j].file->path(),
                                         tensor.pieces[i].region.ToString(),
                                         tensor.pieces[i].file->path()));
        }
      }
    }
    if (covered != NumElements(tensor.shape)) {
      return Invalid(absl::StrFormat("tensor '%s' of shape %s: its stored regions hold %d of its "
                                     "%d elements",
                                     tensor.name, ShapeToString(tensor.shape), covered,
                                     NumElements(tensor.shape)));
    }
  }
  return absl::OkStatus();
}

const CheckpointTensor* Checkpoint::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status Checkpoint::ReadRegion(const CheckpointTensor& tensor, const Region& region,
                                    DType out_dtype, void* out) const {
  if (region.rank() != static_cast<int64_t>(tensor.shape.size()) ||
      !Contains(Region::Full(tensor.shape), region)) {
    return Invalid(absl::StrFormat("region %s is not inside tensor '%s' of shape %s",
                                   region.ToString(), tensor.name, ShapeToString(tensor.shape)));
  }
  const int64_t element = ElementSize(out_dtype);
  std::vector<char> block;
  for (const CheckpointTensor::Piece& piece : tensor.pieces) {
    const Region part = Intersection(piece.region, region);
    if (part.empty()) continue;
    const Region local = Relative(part, piece.region.start);
    if (part == region) {  // the piece holds all of it: straight into place
      return piece.file->ReadRegion(*piece.stored, local, out_dtype, out);
    }
    block.resize(static_cast<size_t>(part.numel() * element));
    if (absl::Status s = piece.file->ReadRegion(*piece.stored, local, out_dtype, block.data()); !s.ok()) {
      return s;
    }
    CopyBlock(block.data(), part, static_cast<char*>(out), region, element);
  }
  return absl::OkStatus();
}

absl::Status WriteCheckpointIndex(const std::string& index_path,
                                  const std::map<std::string, std::string>& weight_map,
                                  const std::vector<std::string>& region_files,
                                  int64_t total_size) {
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total_size}};
  index["weight_map"] = weight_map;
  if (!region_files.empty()) index["deferred_region_files"] = region_files;
  return WriteFileAtomically(index_path, index.dump(2) + "\n");
}

}  // namespace deferred
