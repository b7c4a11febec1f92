// Multi-rank initialization: every rank of an MPI job builds only its shards of a Llama,
// with no communication for values, saves them as its part of a sharded checkpoint, and
// checks them against a single-process build through collectives.
//
//   ./bazelw build //examples:distributed_init
//   mpirun --oversubscribe -np 4 bazel-bin/examples/distributed_init --plan=2d --tp=2
//
// Flags (all optional):
//   --model=tiny|medium|llama70b-layer  tiny: Llama with 16 dims; medium: 75M parameters;
//                                       llama70b-layer: one decoder layer of Llama 2 70B
//   --plan=fsdp|tp|2d  FSDP (dim 0 over all ranks), Megatron tensor parallelism over all
//                      ranks, or FSDP over a (world / tp) x tp mesh       (default fsdp)
//   --tp=N             the tensor-parallel size of --plan=2d             (default 2)
//   --broadcast_trace  rank 0 records and broadcasts the trace file's bytes; the others
//                      never run the model's code (default: every rank records)
//   --trace=PATH       rank 0 reads a trace file saved before and broadcasts it
//   --load=DIR         fill the shards from the sharded checkpoint in DIR (any world size
//                      may have written it), reading only their bytes
//   --out=DIR          save this rank's shards to DIR/rank-R-of-W.safetensors, rank 0 the
//                      index DIR/model.safetensors.index.json (and, with
//                      --broadcast_trace, the trace DIR/model.dtrace)
//   --verify=full|checksum|none  compare the gathered shards with rank 0's single-process
//                      model bitwise, or compare composable checksums (default: full for
//                      tiny, checksum otherwise)
//   --seed=N           the generator's seed                               (default 0)
//   --csv              print each rank's figures as CSV rows (for benchmarks/)
//
// Exits non-zero on every rank when any rank fails, printing that rank's error.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkpoint/checkpoint.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "deferred/shard_plan.h"
#include "deferred/trace_file.h"
#include "distributed/communicator.h"
#include "distributed/shard_verification.h"
#include "distributed/sharded_checkpoint.h"
#include "distributed/world.h"
#include "examples/models/llama.h"
#include "fake_tensor/file_io.h"
#include "fake_tensor/storage.h"

namespace {

using deferred::ShardInfo;
using deferred::distributed::Communicator;
using deferred::examples::LlamaConfig;

struct Options {
  std::string model = "tiny";
  std::string plan = "fsdp";
  int tp = 2;
  bool broadcast_trace = false;
  std::string trace;
  std::string load;
  std::string out;
  std::string verify;
  uint64_t seed = 0;
  bool csv = false;
};

absl::StatusOr<Options> ParseFlags(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t equals = arg.find('=');
    const std::string flag = arg.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : arg.substr(equals + 1);
    bool ok = true;
    if (flag == "--model") {
      options.model = value;
      ok = value == "tiny" || value == "medium" || value == "llama70b-layer";
    } else if (flag == "--plan") {
      options.plan = value;
      ok = value == "fsdp" || value == "tp" || value == "2d";
    } else if (flag == "--tp") {
      ok = absl::SimpleAtoi(value, &options.tp);
    } else if (flag == "--broadcast_trace" && equals == std::string::npos) {
      options.broadcast_trace = true;
    } else if (flag == "--trace" || flag == "--load" || flag == "--out") {
      (flag == "--trace" ? options.trace : flag == "--load" ? options.load : options.out) = value;
      ok = !value.empty();
    } else if (flag == "--verify") {
      options.verify = value;
      ok = value == "full" || value == "checksum" || value == "none";
    } else if (flag == "--csv" && equals == std::string::npos) {
      options.csv = true;
    } else if (flag == "--seed") {
      ok = absl::SimpleAtoi(value, &options.seed);
    } else {
      ok = false;
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad flag: ", arg, " (see the top of examples/distributed_init.cc)"));
    }
  }
  if (options.verify.empty()) options.verify = options.model == "tiny" ? "full" : "checksum";
  return options;
}

LlamaConfig MediumConfig() {
  return LlamaConfig{.vocab_size = 32000,
                     .dim = 768,
                     .n_layers = 4,
                     .n_heads = 12,
                     .n_kv_heads = 4,
                     .ffn_dim = 2048,
                     .max_seq_len = 256};
}

// The model the ranks build, recorded (no tensor bytes).
absl::StatusOr<std::shared_ptr<deferred::nn::Module>> Record(const Options& options) {
  deferred::manual_seed(options.seed);
  if (options.model == "llama70b-layer") {
    return deferred::deferred_init([] {
      return std::make_shared<deferred::examples::LlamaDecoderLayer>(LlamaConfig::Llama70B());
    });
  }
  const LlamaConfig config = options.model == "tiny" ? LlamaConfig::Tiny() : MediumConfig();
  return deferred::deferred_init(
      [config] { return std::make_shared<deferred::examples::Llama>(config); });
}

// Rank 0's trace: the file --trace names, or the model recorded here.
absl::StatusOr<std::string> TraceBytes(const Options& options) {
  if (!options.trace.empty()) return deferred::ReadFileToString(options.trace, int64_t{1} << 34);
  absl::StatusOr<std::shared_ptr<deferred::nn::Module>> model = Record(options);
  if (!model.ok()) return model.status();
  return deferred::serialize_trace(**model);
}

// Every rank records the model, or rank 0 records it (or reads a trace file) and the
// others rebuild it from the bytes it broadcasts. Collective: the verdict is every rank's.
absl::StatusOr<std::shared_ptr<deferred::nn::Module>> BuildModel(const Communicator& world,
                                                                 const Options& options) {
  if (!options.broadcast_trace && options.trace.empty()) {
    absl::StatusOr<std::shared_ptr<deferred::nn::Module>> model = Record(options);
    if (absl::Status s = world.Agree(model.status()); !s.ok()) return s;
    return model;
  }
  std::string bytes;
  absl::Status status;
  if (world.rank() == 0) {
    absl::StatusOr<std::string> read = TraceBytes(options);
    if (read.ok()) {
      bytes = *std::move(read);
      if (!options.out.empty() && options.trace.empty()) {
        status = deferred::WriteFileAtomically(options.out + "/model.dtrace", bytes);
      }
    } else {
      status = read.status();
    }
  }
  if (status = world.Agree(status); !status.ok()) return status;
  if (status = world.Broadcast(bytes, 0); !status.ok()) return status;
  absl::StatusOr<std::shared_ptr<deferred::nn::Module>> model = deferred::deserialize_trace(bytes);
  if (status = world.Agree(model.status()); !status.ok()) return status;
  return model;
}

absl::StatusOr<deferred::ShardPlan> MakePlan(const Options& options, int rank, int world) {
  if (options.plan == "fsdp") return deferred::FsdpPlan(rank, world);
  if (options.plan == "tp") {
    return deferred::TensorParallelPlan(deferred::examples::LlamaTensorParallelRules(), rank,
                                        world);
  }
  if (options.tp < 1 || world % options.tp != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--plan=2d --tp=%d: the tensor-parallel size must divide the world size %d",
                        options.tp, world));
  }
  absl::StatusOr<deferred::DeviceMesh> mesh =
      deferred::DeviceMesh::Create(world / options.tp, options.tp, world);
  if (!mesh.ok()) return mesh.status();
  return deferred::FsdpTensorParallelPlan(deferred::examples::LlamaTensorParallelRules(), *mesh,
                                          rank);
}

int64_t ShardBytes(const deferred::nn::Module& module) {
  int64_t bytes = 0;
  for (const auto& named : {module.named_parameters(), module.named_buffers()}) {
    for (const auto& [name, t] : named) bytes += t.numel() * deferred::ElementSize(t.dtype());
  }
  return bytes;
}

// What this rank measured, as it travels to rank 0.
struct RankReport {
  double build_ms;        // recording, or receiving and decoding the trace
  double materialize_ms;  // replay, or the checkpoint's reads
  int64_t shard_bytes;    // the tensors this rank holds
  int64_t peak_tensor_bytes;
  int64_t read_bytes;  // from the checkpoint
  int64_t max_rss_bytes;
};

// "23.9 KB", "117.4 MB", "3.43 GB".
std::string Bytes(int64_t bytes) {
  if (bytes < 1000) return absl::StrCat(bytes, " B");
  if (bytes < 1000 * 1000) return absl::StrFormat("%.1f KB", bytes / 1e3);
  if (bytes < 1000 * 1000 * 1000) return absl::StrFormat("%.1f MB", bytes / 1e6);
  return absl::StrFormat("%.2f GB", bytes / 1e9);
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

int64_t MaxRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t{usage.ru_maxrss} * 1024;
}

// Rank 0's table of what every rank measured (or CSV rows, with --csv).
void PrintReports(const Options& options, const deferred::Device& device,
                  const std::vector<RankReport>& reports) {
  std::printf("%s, plan %s%s, on %s, %s\n", options.model.c_str(), options.plan.c_str(),
              options.plan == "2d"
                  ? absl::StrFormat(" (%d x %d)", reports.size() / options.tp, options.tp).c_str()
                  : "",
              device.ToString().c_str(),
              !options.load.empty()                               ? "loaded from a checkpoint"
              : options.broadcast_trace || !options.trace.empty() ? "trace broadcast by rank 0"
                                                                  : "recorded on every rank");
  std::printf(
      options.csv
          ? "rank,build_ms,materialize_ms,shard_bytes,peak_tensor_bytes,read_bytes,max_rss_"
            "bytes\n"
          : "rank  build ms  materialize ms       shard  tensor peak        read     max RSS\n");
  for (size_t r = 0; r < reports.size(); ++r) {
    const RankReport& m = reports[r];
    if (options.csv) {
      std::printf("%zu,%.3f,%.3f,%lld,%lld,%lld,%lld\n", r, m.build_ms, m.materialize_ms,
                  static_cast<long long>(m.shard_bytes),
                  static_cast<long long>(m.peak_tensor_bytes), static_cast<long long>(m.read_bytes),
                  static_cast<long long>(m.max_rss_bytes));
      continue;
    }
    std::printf("%4zu  %8.1f  %14.1f  %10s  %11s  %10s  %10s\n", r, m.build_ms, m.materialize_ms,
                Bytes(m.shard_bytes).c_str(), Bytes(m.peak_tensor_bytes).c_str(),
                Bytes(m.read_bytes).c_str(), Bytes(m.max_rss_bytes).c_str());
  }
}

absl::Status Run(const Communicator& world, const Options& options) {
  const int rank = world.rank(), size = world.size();
  absl::StatusOr<deferred::distributed::WorldInfo> launcher =
      deferred::distributed::WorldFromEnvironment();
  if (absl::Status s = world.Agree(launcher.status()); !s.ok()) return s;
  if (rank == 0) {
    std::printf("world: %d ranks (the launcher says %d, from %s variables)\n", size,
                launcher->world_size, launcher->source.c_str());
  }
  // This rank's GPU when the build can use it, else the CPU.
  const deferred::Device gpu = deferred::Device::CUDA(launcher->local_rank);
  const deferred::Device device = deferred::check_device(gpu).ok() ? gpu : deferred::Device::CPU();
  if (!options.out.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.out, error);
    absl::Status made = error
                            ? absl::InternalError(absl::StrCat(options.out, ": ", error.message()))
                            : absl::OkStatus();
    if (made = world.Agree(made); !made.ok()) return made;
  }

  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<deferred::nn::Module>> model = BuildModel(world, options);
  if (!model.ok()) return model.status();
  RankReport measured{.build_ms = MillisecondsSince(start)};

  absl::StatusOr<deferred::ShardPlan> plan = MakePlan(options, rank, size);
  if (absl::Status s = world.Agree(plan.status()); !s.ok()) return s;

  std::vector<ShardInfo> report;
  const deferred::MaterializeOptions materialize{
      .device = device, .shard = *plan, .shard_report = &report};
  const int64_t live_before = deferred::GetAllocationStats().live_bytes;
  const int64_t read_before = deferred::GetCheckpointReadStats().bytes;
  deferred::ResetPeakBytes();
  start = std::chrono::steady_clock::now();
  absl::Status status =
      options.load.empty()
          ? deferred::materialize_module(**model, materialize)
          : deferred::load_checkpoint(
                **model, absl::StrCat(options.load, "/", deferred::distributed::kShardedIndexName),
                {.strict = true, .materialize = materialize});
  measured.materialize_ms = MillisecondsSince(start);
  measured.peak_tensor_bytes = deferred::GetAllocationStats().peak_bytes - live_before;
  measured.read_bytes = deferred::GetCheckpointReadStats().bytes - read_before;
  measured.shard_bytes = ShardBytes(**model);
  measured.max_rss_bytes = MaxRssBytes();
  if (status = world.Agree(status); !status.ok()) return status;

  absl::StatusOr<std::vector<RankReport>> all = world.AllGatherValue(measured);
  if (!all.ok()) return all.status();
  if (rank == 0) PrintReports(options, device, *all);

  if (!options.out.empty()) {
    status = deferred::distributed::SaveShardedCheckpoint(world, **model, report, options.out);
    if (!status.ok()) return status;
    if (rank == 0) std::printf("saved the shards and the index in %s\n", options.out.c_str());
  }
  if (options.verify != "none") {
    // Rank 0's reference: the same model, recorded in this process and materialized one
    // tensor at a time.
    absl::StatusOr<std::shared_ptr<deferred::nn::Module>> reference =
        rank == 0 ? Record(options)
                  : absl::StatusOr<std::shared_ptr<deferred::nn::Module>>(nullptr);
    if (status = world.Agree(reference.status()); !status.ok()) return status;
    const auto how = options.verify == "full" ? deferred::distributed::ShardVerification::kBitwise
                                              : deferred::distributed::ShardVerification::kChecksum;
    status = deferred::distributed::VerifyShards(world, **model, report, reference->get(), how);
    if (!status.ok()) return status;
    if (rank == 0) {
      std::printf("verified: every rank's shards %s the single-process model's tensors\n",
                  how == deferred::distributed::ShardVerification::kBitwise
                      ? "are bitwise slices of"
                      : "have checksums that add up to");
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<std::unique_ptr<deferred::distributed::MpiSession>> mpi =
      deferred::distributed::MpiSession::Init(&argc, &argv);
  if (!mpi.ok()) {
    std::fprintf(stderr, "error: %s\n", mpi.status().ToString().c_str());
    return 1;
  }
  const Communicator& world = (*mpi)->world();
  absl::StatusOr<Options> options = ParseFlags(argc, argv);
  absl::Status status = world.Agree(options.status());
  if (status.ok()) status = Run(world, *options);
  if (!status.ok()) {
    // Every rank has the same verdict; one of them says it.
    if (world.rank() == 0) std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
