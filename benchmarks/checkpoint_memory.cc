// Memory and speed of loading a checkpoint into a deferred model, one measurement per
// process (peak RSS is a process's), driven by benchmarks/checkpoint_memory.sh:
//
//   checkpoint_memory save FILE    record the 1.3 GB Llama-style model below and save it
//   checkpoint_memory load FILE    record it again and load FILE into it
//   checkpoint_memory pread FILE   read FILE with plain pread calls into one buffer (the
//                                  throughput reference)
//
// Each prints one line: "<mode> seconds=S bytes=B peak_rss=R model_bytes=M largest=L"
// (bytes read, peak RSS, the parameters' bytes, the largest parameter's bytes).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/peak_rss.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "examples/models/llama.h"

namespace {

using deferred::examples::Llama;
using deferred::PeakRssBytes;
using deferred::examples::LlamaConfig;

// 325M float32 parameters: 1.30 GB.
LlamaConfig Config() {
  return LlamaConfig{.vocab_size = 32000, .dim = 1536, .n_layers = 8, .n_heads = 12,
                     .n_kv_heads = 4, .ffn_dim = 4096, .max_seq_len = 512};
}

struct ParameterBytes {
  int64_t total = 0;
  int64_t largest = 0;
};

ParameterBytes ParameterBytesOf(const deferred::nn::Module& m) {
  ParameterBytes bytes;
  for (const auto& [name, t] : m.named_parameters()) {
    const int64_t n = t.numel() * deferred::ElementSize(t.dtype());
    bytes.total += n;
    bytes.largest = std::max(bytes.largest, n);
  }
  return bytes;
}

int Report(const char* mode, double seconds, int64_t bytes, ParameterBytes model) {
  std::printf("%s seconds=%.4f bytes=%lld peak_rss=%lld model_bytes=%lld largest=%lld\n", mode,
              seconds, static_cast<long long>(bytes), static_cast<long long>(PeakRssBytes()),
              static_cast<long long>(model.total), static_cast<long long>(model.largest));
  return 0;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: checkpoint_memory save|load|pread FILE\n");
    return 2;
  }
  const std::string mode = argv[1], path = argv[2];
  if (mode == "pread") {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return 1;
    const off_t size = ::lseek(fd, 0, SEEK_END);
    std::unique_ptr<char[]> buffer(new char[size]);
    const auto start = std::chrono::steady_clock::now();
    constexpr off_t kChunk = off_t{64} << 20;  // as large reads as the loader makes
    for (off_t at = 0; at < size;) {
      const ssize_t n = ::pread(fd, buffer.get() + at, std::min(kChunk, size - at), at);
      if (n <= 0) return 1;
      at += n;
    }
    const double seconds = Since(start);
    ::close(fd);
    return Report("pread", seconds, size, {});
  }
  deferred::manual_seed(0);
  absl::StatusOr<std::shared_ptr<Llama>> model = deferred::deferred_init<Llama>(Config());
  if (!model.ok()) return Fail(model.status());
  const auto start = std::chrono::steady_clock::now();
  const deferred::CheckpointReadStats before = deferred::GetCheckpointReadStats();
  absl::Status status = mode == "save" ? deferred::save_checkpoint(**model, path)
                                       : deferred::load_checkpoint(**model, path);
  if (!status.ok()) return Fail(status);
  const double seconds = Since(start);
  return Report(mode.c_str(), seconds, deferred::GetCheckpointReadStats().bytes - before.bytes,
                ParameterBytesOf(**model));
}
