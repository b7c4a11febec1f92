#include "tools/verify.h"

#include <random>

#include "absl/strings/str_format.h"
#include "deferred/deferred.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/views.h"
#include "replay/replay_session.h"
#include "replay/trace.h"
#include "tools/inspect.h"

namespace deferred::tools {
namespace {

// A random spec for a tensor of `sizes`: along one or two dims, a tensor_split or chunk
// part of a random world (often uneven), or a random range.
ShardSpec RandomSpec(const Shape& sizes, std::mt19937_64& random) {
  const int ndim = static_cast<int>(sizes.size());
  const int first = static_cast<int>(random() % ndim);
  const int dims = ndim > 1 && random() % 2 == 0 ? 2 : 1;
  ShardSpec spec;
  for (int k = 0; k < dims; ++k) {
    const int dim = (first + k) % ndim;
    const int64_t size = sizes[dim];
    const int world = 1 + static_cast<int>(random() % std::min<int64_t>(size, 8));
    const int rank = static_cast<int>(random() % world);
    switch (random() % 3) {
      case 0:
        spec = spec.And(ShardSpec::TensorSplit(dim, rank, world));
        break;
      case 1: {
        // A chunk past the last part is empty; take the last one instead.
        const int64_t chunk = (size + world - 1) / world;
        spec = spec.And(ShardSpec::Chunk(
            dim, static_cast<int>(std::min<int64_t>(rank, (size - 1) / chunk)), world));
        break;
      }
      default: {
        const int64_t start = static_cast<int64_t>(random() % size);
        spec = spec.And(ShardSpec::Range(
            dim, start, start + 1 + static_cast<int64_t>(random() % (size - start))));
      }
    }
  }
  return spec;
}

// The elements of `region` of `full`, as a contiguous tensor's bytes.
std::string SliceBytes(const Tensor& full, const Region& region) {
  Tensor slice = full;
  for (int64_t d = 0; d < region.rank(); ++d) {
    slice = narrow(slice, d, region.start[d], region.stop[d] - region.start[d]);
  }
  return contiguous(slice).to_bytes();
}

std::string BytesOf(const Tensor& t) { return (t.is_contiguous() ? t : contiguous(t)).to_bytes(); }

}  // namespace

std::vector<VerifyFailure> VerifyModel(const nn::Module& model, const VerifyOptions& options) {
  std::vector<VerifyFailure> failures;
  std::vector<NamedEntry> entries;
  for (NamedEntry& entry : EntriesOf(model)) {
    if (is_fake(entry.tensor)) entries.push_back(std::move(entry));
  }
  std::mt19937_64 random(options.seed);
  std::vector<std::string> in_order;
  for (size_t i = 0; i < entries.size(); ++i) {
    const NamedEntry& entry = entries[i];
    const Tensor& t = entry.tensor;
    auto fail = [&](const std::string& check, const std::string& detail) {
      failures.push_back(VerifyFailure{entry.name, check, detail});
    };
    absl::StatusOr<Tensor> full = materialize_tensor(t);
    absl::StatusOr<Tensor> again = materialize_tensor(t);
    if (!full.ok() || !again.ok()) {
      fail("replay", (full.ok() ? again : full).status().ToString());
      in_order.emplace_back();
      continue;
    }
    in_order.push_back(BytesOf(*full));
    if (BytesOf(*again) != in_order.back()) fail("repeat", "two replays gave different bits");
    for (int s = 0; s < options.samples && t.numel() > 0; ++s) {
      const ShardSpec spec = RandomSpec(t.sizes(), random);
      absl::StatusOr<Tensor> shard = materialize_shard(t, spec);
      if (!shard.ok()) {
        fail("shard", absl::StrFormat("%s: %s", spec.ToString(), shard.status().ToString()));
        continue;
      }
      if (BytesOf(*shard) != SliceBytes(*full, *spec.Resolve(t.sizes()))) {
        fail("shard",
             absl::StrFormat("%s differs from the slice of the full tensor", spec.ToString()));
      }
    }
    if (options.progress) options.progress(i, entries.size());
  }
  // All tensors in one replay, in reverse order, sharing intermediates: the same bits as
  // each alone.
  const absl::Status together = CatchErrors([&] {
    std::vector<size_t> order;
    std::vector<StorageVersion> values;
    for (size_t i = entries.size(); i-- > 0;) {
      if (in_order[i].empty() || TraceOf(entries[i].tensor) != TraceOf(entries.front().tensor))
        continue;
      order.push_back(i);
      values.push_back(TraceOf(entries[i].tensor)->Latest(*entries[i].tensor.storage()));
    }
    if (order.empty()) return;
    ReplaySession session(TraceOf(entries.front().tensor), Device::CPU());
    const std::vector<Storage> storages = session.RunWhole(values);
    for (size_t k = 0; k < order.size(); ++k) {
      const Tensor& t = entries[order[k]].tensor;
      if (BytesOf(MakeTensor(storages[k], t.layout(), t.dtype())) != in_order[order[k]]) {
        failures.push_back(
            VerifyFailure{entries[order[k]].name, "order",
                          "replayed with every other tensor in reverse order, it has other bits"});
      }
    }
  });
  if (!together.ok()) failures.push_back(VerifyFailure{"", "order", together.ToString()});
  if (options.progress) options.progress(entries.size(), entries.size());
  return failures;
}

}  // namespace deferred::tools
