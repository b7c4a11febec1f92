#ifndef DEFERRED_DEFERRED_SHARD_SPEC_H_
#define DEFERRED_DEFERRED_SHARD_SPEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fake_tensor/region.h"
#include "fake_tensor/shape.h"

namespace deferred {

// A rectangular part of a tensor, given per dim and resolved against the tensor's shape:
// an explicit [start, stop), or rank `rank`'s part of `world` (torch.chunk or
// torch.tensor_split semantics). Dims not mentioned are whole. Specs for different dims
// combine with And (tensor-parallel along one dim, FSDP along another).
class ShardSpec {
 public:
  // The whole tensor.
  ShardSpec() = default;

  // [start, stop) along `dim` (negative dims count from the end).
  static ShardSpec Range(int dim, int64_t start, int64_t stop);
  // torch.chunk: parts of ceil(size / world) elements; the last may be shorter, and ranks
  // past the last part have an empty one.
  static ShardSpec Chunk(int dim, int rank, int world);
  // torch.tensor_split: the first size % world parts have one element more; when world >
  // size, the last ranks' parts are empty.
  static ShardSpec TensorSplit(int dim, int rank, int world);

  // A spec written as parts joined by '+', each `chunk(DIM,RANK,WORLD)`,
  // `split(DIM,RANK,WORLD)` (tensor_split) or `range(DIM,START,STOP)`, e.g.
  // "split(0,1,4)+range(1,0,128)"; "" is the whole tensor. InvalidArgument naming the part
  // that is not one of these.
  static absl::StatusOr<ShardSpec> Parse(std::string_view text);

  // This spec and `other` together; their dims must differ.
  ShardSpec And(const ShardSpec& other) const;

  // The region of a tensor of `sizes` this spec selects. InvalidArgument for a dim out of
  // range, a dim given twice, rank outside [0, world), world < 1, or a range out of
  // bounds. A part may be empty: the region then has a zero-size dim.
  absl::StatusOr<Region> Resolve(const Shape& sizes) const;

  // "dim 0: chunk 1 of 4; dim 1: [0, 128)".
  std::string ToString() const;

 private:
  enum class Kind { kRange, kChunk, kTensorSplit };
  struct Part {
    Kind kind;
    int dim;
    int64_t a;  // start, or rank
    int64_t b;  // stop, or world
  };

  std::vector<Part> parts_;
};

}  // namespace deferred

#endif  // DEFERRED_DEFERRED_SHARD_SPEC_H_
