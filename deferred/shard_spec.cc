#include "deferred/shard_spec.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "fake_tensor/checked_arithmetic.h"

namespace deferred {

ShardSpec ShardSpec::Range(int dim, int64_t start, int64_t stop) {
  ShardSpec spec;
  spec.parts_.push_back(Part{Kind::kRange, dim, start, stop});
  return spec;
}

ShardSpec ShardSpec::Chunk(int dim, int rank, int world) {
  ShardSpec spec;
  spec.parts_.push_back(Part{Kind::kChunk, dim, rank, world});
  return spec;
}

ShardSpec ShardSpec::TensorSplit(int dim, int rank, int world) {
  ShardSpec spec;
  spec.parts_.push_back(Part{Kind::kTensorSplit, dim, rank, world});
  return spec;
}

absl::StatusOr<ShardSpec> ShardSpec::Parse(std::string_view text) {
  ShardSpec spec;
  if (text.empty()) return spec;
  for (absl::string_view part : absl::StrSplit(absl::string_view(text.data(), text.size()), '+')) {
    const size_t open = part.find('(');
    std::vector<int64_t> numbers;
    bool ok = open != absl::string_view::npos && absl::EndsWith(part, ")");
    if (ok) {
      const absl::string_view arguments = part.substr(open + 1, part.size() - open - 2);
      for (absl::string_view number : absl::StrSplit(arguments, ',')) {
        int64_t value = 0;
        ok = ok && absl::SimpleAtoi(number, &value);
        numbers.push_back(value);
      }
    }
    const absl::string_view kind = ok ? part.substr(0, open) : "";
    const bool int_args = numbers.size() == 3 && numbers[0] >= INT32_MIN && numbers[0] <= INT32_MAX;
    if (int_args && kind == "range") {
      spec = spec.And(Range(static_cast<int>(numbers[0]), numbers[1], numbers[2]));
    } else if (int_args && (kind == "chunk" || kind == "split") && numbers[1] >= INT32_MIN &&
               numbers[1] <= INT32_MAX && numbers[2] >= INT32_MIN && numbers[2] <= INT32_MAX) {
      const int dim = static_cast<int>(numbers[0]), rank = static_cast<int>(numbers[1]),
                world = static_cast<int>(numbers[2]);
      spec = spec.And(kind == "chunk" ? Chunk(dim, rank, world) : TensorSplit(dim, rank, world));
    } else {
      return absl::InvalidArgumentError(absl::StrFormat(
          "shard spec: '%s' is not chunk(DIM,RANK,WORLD), split(DIM,RANK,WORLD) or "
          "range(DIM,START,STOP)",
          std::string(part)));
    }
  }
  return spec;
}

ShardSpec ShardSpec::And(const ShardSpec& other) const {
  ShardSpec spec = *this;
  spec.parts_.insert(spec.parts_.end(), other.parts_.begin(), other.parts_.end());
  return spec;
}

absl::StatusOr<Region> ShardSpec::Resolve(const Shape& sizes) const {
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  Region region = Region::Full(sizes);
  std::vector<bool> used(ndim, false);
  for (const Part& part : parts_) {
    if (part.dim < -ndim || part.dim >= ndim) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "shard spec: dim %d is out of range for a tensor of shape %s", part.dim,
          ShapeToString(sizes)));
    }
    const int64_t dim = part.dim < 0 ? part.dim + ndim : part.dim;
    if (used[dim]) {
      return absl::InvalidArgumentError(
          absl::StrFormat("shard spec: dim %d is given more than once", dim));
    }
    used[dim] = true;
    const int64_t size = sizes[dim];
    int64_t start = part.a, stop = part.b;
    if (part.kind != Kind::kRange) {
      const int64_t rank = part.a, world = part.b;
      if (world < 1 || rank < 0 || rank >= world) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "shard spec: rank %d is not in [0, world) for world %d", rank, world));
      }
      if (part.kind == Kind::kChunk) {
        // ceil(size / world) and rank * chunk, without overflow near INT64_MAX.
        const int64_t chunk = size / world + (size % world != 0 ? 1 : 0);
        const std::optional<int64_t> chunk_start = CheckedMul(rank, chunk);
        start = chunk_start ? std::min(*chunk_start, size) : size;
        stop = start + std::min(chunk, size - start);
      } else {
        const int64_t base = size / world, extra = size % world;
        start = rank * base + std::min(rank, extra);
        stop = start + base + (rank < extra ? 1 : 0);
      }
    }
    // An empty part is valid (torch.tensor_split gives a rank past the end a 0-row
    // tensor), so that a loop over all ranks needs no special case.
    if (start < 0 || stop > size || start > stop) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "shard spec: %s selects [%d, %d) of dim %d of shape %s, which is out of bounds",
          ToString(), start, stop, dim, ShapeToString(sizes)));
    }
    region.start[dim] = start;
    region.stop[dim] = stop;
  }
  return region;
}

std::string ShardSpec::ToString() const {
  if (parts_.empty()) return "whole tensor";
  std::vector<std::string> parts;
  for (const Part& part : parts_) {
    switch (part.kind) {
      case Kind::kRange:
        parts.push_back(absl::StrFormat("dim %d: [%d, %d)", part.dim, part.a, part.b));
        break;
      case Kind::kChunk:
        parts.push_back(absl::StrFormat("dim %d: chunk %d of %d", part.dim, part.a, part.b));
        break;
      case Kind::kTensorSplit:
        parts.push_back(absl::StrFormat("dim %d: split %d of %d", part.dim, part.a, part.b));
        break;
    }
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace deferred
