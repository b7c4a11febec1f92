#include "distributed/shard_verification.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "deferred/region_checksum.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/views.h"

namespace deferred::distributed {
namespace {

// Every parameter and buffer, in the module's order (the same on every rank).
std::vector<nn::NamedTensor> TensorsOf(const nn::Module& module) {
  std::vector<nn::NamedTensor> all = module.named_parameters();
  for (nn::NamedTensor& buffer : module.named_buffers()) all.push_back(std::move(buffer));
  return all;
}

// What one rank holds of one tensor, as it travels: its name, the whole tensor's shape and
// the region, as int64s after a header line.
struct Part {
  std::string name;
  Shape full_shape;
  Region region;
};

std::string EncodePart(const Part& part) {
  std::string bytes = absl::StrCat(part.name, "\n");
  const int64_t ndim = static_cast<int64_t>(part.full_shape.size());
  bytes.append(reinterpret_cast<const char*>(&ndim), sizeof(ndim));
  for (const Shape* values : {&part.full_shape, &part.region.start, &part.region.stop}) {
    bytes.append(reinterpret_cast<const char*>(values->data()), values->size() * sizeof(int64_t));
  }
  return bytes;
}

absl::StatusOr<Part> DecodePart(const std::string& bytes) {
  const size_t newline = bytes.find('\n');
  Part part;
  int64_t ndim = -1;
  if (newline != std::string::npos && bytes.size() >= newline + 1 + sizeof(ndim)) {
    std::memcpy(&ndim, bytes.data() + newline + 1, sizeof(ndim));
  }
  const size_t header = newline + 1 + sizeof(ndim);
  if (ndim < 0 || ndim > 64 || bytes.size() != header + 3 * ndim * sizeof(int64_t)) {
    return absl::InternalError("VerifyShards: a rank sent a malformed description of its shard");
  }
  part.name = bytes.substr(0, newline);
  const char* values = bytes.data() + header;
  for (Shape* out : {&part.full_shape, &part.region.start, &part.region.stop}) {
    out->resize(ndim);
    std::memcpy(out->data(), values, ndim * sizeof(int64_t));
    values += ndim * sizeof(int64_t);
  }
  return part;
}

Part PartOf(const std::vector<ShardInfo>& report, const std::string& name, const Tensor& t) {
  for (const ShardInfo& info : report) {
    if (info.name == name) return Part{name, info.full_shape, info.region};
  }
  return Part{name, t.sizes(), Region::Full(t.sizes())};
}

bool Inside(const Region& region, const Shape& shape) {
  if (region.rank() != static_cast<int64_t>(shape.size())) return false;
  for (int64_t d = 0; d < region.rank(); ++d) {
    if (region.start[d] < 0 || region.start[d] > region.stop[d] || region.stop[d] > shape[d])
      return false;
  }
  return true;
}

bool Overlap(const Region& a, const Region& b) {
  if (a.empty() || b.empty()) return false;
  for (int64_t d = 0; d < a.rank(); ++d) {
    if (std::max(a.start[d], b.start[d]) >= std::min(a.stop[d], b.stop[d])) return false;
  }
  return true;
}

// Rank 0's check of one tensor: `parts` and `payloads` by rank, `whole` its own copy.
absl::Status CheckTensor(const std::string& name, const Tensor& whole,
                         const std::vector<Part>& parts, const std::vector<std::string>& payloads,
                         ShardVerification how) {
  std::vector<std::pair<Region, int>> distinct;  // a region and the first rank holding it
  int64_t elements = 0;
  uint64_t checksum_sum = 0;
  for (size_t r = 0; r < parts.size(); ++r) {
    const Part& part = parts[r];
    if (part.name != name || part.full_shape != whole.sizes() ||
        !Inside(part.region, whole.sizes())) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "VerifyShards: rank %d holds %s of %s %s where rank 0's model has %s of shape %s", r,
          part.region.ToString(), part.name, ShapeToString(part.full_shape), name,
          ShapeToString(whole.sizes())));
    }
    auto same = std::find_if(distinct.begin(), distinct.end(),
                             [&](const auto& d) { return d.first == part.region; });
    if (same != distinct.end()) {
      if (payloads[r] != payloads[same->second]) {
        return absl::DataLossError(
            absl::StrFormat("%s: ranks %d and %d hold different values for %s", name, same->second,
                            r, part.region.ToString()));
      }
      continue;
    }
    for (const auto& [other, owner] : distinct) {
      if (Overlap(other, part.region)) {
        return absl::DataLossError(absl::StrFormat("%s: rank %d's %s overlaps rank %d's %s", name,
                                                   r, part.region.ToString(), owner,
                                                   other.ToString()));
      }
    }
    distinct.emplace_back(part.region, static_cast<int>(r));
    elements += part.region.numel();
    if (how == ShardVerification::kChecksum) {
      uint64_t checksum = 0;
      std::memcpy(&checksum, payloads[r].data(), std::min(payloads[r].size(), sizeof(checksum)));
      checksum_sum += checksum;
      continue;
    }
    std::string expected;
    if (absl::Status s = CatchErrors([&] {
          Tensor slice = whole;
          for (int64_t d = 0; d < part.region.rank(); ++d) {
            slice =
                narrow(slice, d, part.region.start[d], part.region.stop[d] - part.region.start[d]);
          }
          expected = slice.to_bytes();
        });
        !s.ok()) {
      return s;
    }
    if (payloads[r] != expected) {
      return absl::DataLossError(absl::StrFormat(
          "%s: rank %d's shard %s differs from that slice of the single-process tensor", name, r,
          part.region.ToString()));
    }
  }
  if (elements != whole.numel()) {
    return absl::DataLossError(
        absl::StrFormat("%s: the ranks hold %d of its %d elements", name, elements, whole.numel()));
  }
  if (how == ShardVerification::kChecksum) {
    absl::StatusOr<uint64_t> expected =
        RegionChecksum(whole, whole.sizes(), Region::Full(whole.sizes()));
    if (!expected.ok()) return expected.status();
    if (checksum_sum != *expected) {
      return absl::DataLossError(absl::StrFormat(
          "%s: the checksums of the ranks' shards add up to %016x, the single-process tensor's "
          "is %016x",
          name, checksum_sum, *expected));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyShards(const Communicator& world, const nn::Module& module,
                          const std::vector<ShardInfo>& report, const nn::Module* reference,
                          ShardVerification how) {
  const std::vector<nn::NamedTensor> tensors = TensorsOf(module);
  std::vector<nn::NamedTensor> expected;
  absl::Status status;
  if (world.rank() == 0) {
    if (reference == nullptr) {
      status = absl::InvalidArgumentError("VerifyShards: rank 0 has no reference model");
    } else {
      expected = TensorsOf(*reference);
    }
  }
  // The loop below is one collective per tensor: every rank must run it as often.
  absl::StatusOr<std::vector<int64_t>> counts = world.AllGatherValue<int64_t>(tensors.size());
  if (!counts.ok()) return counts.status();
  for (int r = 0; r < world.size() && status.ok(); ++r) {
    if ((*counts)[r] != (*counts)[0] ||
        (world.rank() == 0 && (*counts)[r] != static_cast<int64_t>(expected.size()))) {
      status = absl::InvalidArgumentError(absl::StrFormat(
          "VerifyShards: rank %d's model has %d tensors, rank 0's %d and its reference %d", r,
          (*counts)[r], (*counts)[0], expected.size()));
    }
  }
  if (status = world.Agree(status); !status.ok()) return status;

  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, shard] = tensors[i];
    const Part part = PartOf(report, name, shard);
    std::string payload;
    if (how == ShardVerification::kBitwise) {
      payload = shard.to_bytes();
    } else {
      absl::StatusOr<uint64_t> checksum = RegionChecksum(shard, part.full_shape, part.region);
      if (!checksum.ok() && status.ok()) status = checksum.status();
      const uint64_t value = checksum.value_or(0);
      payload.assign(reinterpret_cast<const char*>(&value), sizeof(value));
    }
    absl::StatusOr<std::vector<std::string>> described = world.AllGather(EncodePart(part));
    absl::StatusOr<std::vector<std::string>> payloads = world.AllGather(payload);
    if (!described.ok()) return described.status();
    if (!payloads.ok()) return payloads.status();
    if (world.rank() != 0 || !status.ok()) continue;
    std::vector<Part> parts;
    for (const std::string& bytes : *described) {
      absl::StatusOr<Part> decoded = DecodePart(bytes);
      if (!decoded.ok()) {
        status = decoded.status();
        break;
      }
      parts.push_back(*std::move(decoded));
    }
    if (!status.ok()) continue;
    absl::StatusOr<Tensor> whole = materialize_tensor(expected[i].second);
    status =
        whole.ok() ? CheckTensor(expected[i].first, *whole, parts, *payloads, how) : whole.status();
  }
  return world.Agree(status);
}

}  // namespace deferred::distributed
