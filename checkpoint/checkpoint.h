#ifndef DEFERRED_CHECKPOINT_CHECKPOINT_H_
#define DEFERRED_CHECKPOINT_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/safetensors_file.h"
#include "fake_tensor/region.h"

namespace deferred {

// A checkpoint as a reader sees it (docs/CHECKPOINTS.md): one safetensors file; or an
// index (`*.index.json`) naming files — Hugging Face's "weight_map" from tensor names to
// the file holding each, and "deferred_region_files", files that each hold regions of
// tensors (a sharded save: one file per rank, whose "__metadata__" says which region of
// which whole tensor each stored tensor is).

// One tensor of a checkpoint and where its bytes are.
struct CheckpointTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;  // the whole tensor's
  struct Piece {
    const SafetensorsFile* file;
    const SafetensorsTensor* stored;  // in `file`: the elements of `region`
    Region region;                    // of the whole tensor
  };
  std::vector<Piece> pieces;  // they tile the tensor
};

// The metadata key of a region file: a JSON object from each stored tensor's name to
// {"shape": the whole tensor's shape, "start": where its region starts}.
inline constexpr char kRegionsMetadataKey[] = "deferred.regions";

class Checkpoint {
 public:
  // Opens a safetensors file or an index and every file it names, reading and checking
  // their headers (no data). Errors: the files' (prefixed with their paths);
  // InvalidArgument for an index that is not valid, a tensor given twice, pieces that do
  // not tile their tensor or disagree on dtype or shape.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& path);

  const std::vector<CheckpointTensor>& tensors() const { return tensors_; }
  // The tensor `name`, or null.
  const CheckpointTensor* Find(std::string_view name) const;
  // The metadata of a single-file checkpoint (empty for an index).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Reads `region` of `tensor` into `out` (contiguous, row-major, `out_dtype`) from the
  // pieces it overlaps, as SafetensorsFile::ReadRegion does: the bytes read are those of
  // the region (plus what coalescing rows reads between them). Errors as ReadRegion's.
  absl::Status ReadRegion(const CheckpointTensor& tensor, const Region& region,
                          DType out_dtype, void* out) const;

 private:
  Checkpoint() = default;
  absl::Status AddWholeTensors(const SafetensorsFile& file, const std::vector<std::string>* names);
  absl::Status AddRegions(const SafetensorsFile& file);
  absl::Status CheckPiecesTile() const;

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<CheckpointTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// Writes `index_path` atomically: an index naming `weight_map` (tensor name -> file, for
// tensors stored whole) and `region_files` (files of regions), with "total_size" the sum
// of their data. File names are relative to the index's folder, as Hugging Face's are.
absl::Status WriteCheckpointIndex(const std::string& index_path,
                                  const std::map<std::string, std::string>& weight_map,
                                  const std::vector<std::string>& region_files,
                                  int64_t total_size);

}  // namespace deferred

#endif  // DEFERRED_CHECKPOINT_CHECKPOINT_H_
