#ifndef DEFERRED_DISTRIBUTED_WORLD_H_
#define DEFERRED_DISTRIBUTED_WORLD_H_

// Where this process stands among the ranks of a job, as launchers announce it in the
// environment — without any communication library.

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace deferred::distributed {

struct WorldInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // among the ranks on this node: which GPU is this rank's
  // The variables it was read from: "torchrun", "openmpi", or "none" (a single process).
  std::string source = "none";

  friend bool operator==(const WorldInfo&, const WorldInfo&) = default;
};

// The launcher's variables, as std::getenv gives them (null when unset).
using EnvironmentLookup = std::function<const char*(const char* name)>;

// torchrun's RANK, WORLD_SIZE and LOCAL_RANK (LOCAL_RANK defaulting to RANK) when RANK is
// set; else Open MPI's OMPI_COMM_WORLD_RANK, _SIZE and _LOCAL_RANK; else a single process
// (rank 0 of 1). InvalidArgument naming the variable for a value that is not an integer,
// a missing partner (RANK without WORLD_SIZE), or ranks outside [0, world size).
absl::StatusOr<WorldInfo> WorldFromEnvironment(const EnvironmentLookup& getenv);
absl::StatusOr<WorldInfo> WorldFromEnvironment();

}  // namespace deferred::distributed

#endif  // DEFERRED_DISTRIBUTED_WORLD_H_
