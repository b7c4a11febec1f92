#ifndef DEFERRED_DISTRIBUTED_COMMUNICATOR_H_
#define DEFERRED_DISTRIBUTED_COMMUNICATOR_H_

// The collectives multi-rank initialization needs, over MPI: values never travel (each rank
// materializes its own shards), so these serve to share a trace file, to agree on errors
// and to verify shards against each other.
//
//   absl::StatusOr<std::unique_ptr<MpiSession>> mpi = MpiSession::Init(&argc, &argv);
//   const Communicator& world = (*mpi)->world();
//   absl::Status everyone = world.Agree(my_status);  // the same verdict on every rank

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deferred::distributed {

// A group of ranks (an MPI communicator). Every method is collective: each rank of the
// group calls it, in the same order, with arguments that agree where the method says so.
// Errors of MPI itself come back as Internal statuses carrying MPI's message.
class Communicator {
 public:
  int rank() const { return rank_; }
  int size() const { return size_; }

  // Returns once every rank has called it.
  absl::Status Barrier() const;

  // Sets `bytes` on every rank to `root`'s (any size; sent in pieces below 2 GiB).
  // InvalidArgument for a root outside the group (on every rank, so none waits).
  absl::Status Broadcast(std::string& bytes, int root) const;

  // Every rank's `bytes`, in rank order, on every rank; ranks may give different sizes.
  absl::StatusOr<std::vector<std::string>> AllGather(std::string_view bytes) const;

  // AllGather of a trivially copyable value.
  template <typename T>
  absl::StatusOr<std::vector<T>> AllGatherValue(const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    absl::StatusOr<std::vector<std::string>> bytes =
        AllGather(std::string_view(reinterpret_cast<const char*>(&value), sizeof(T)));
    if (!bytes.ok()) return bytes.status();
    std::vector<T> values(bytes->size());
    for (size_t i = 0; i < values.size(); ++i)
      std::memcpy(&values[i], (*bytes)[i].data(), sizeof(T));
    return values;
  }

  // The verdict of all ranks on a step each ran: OK on every rank when `local` is OK on
  // all; otherwise, on every rank, the error of the lowest failing rank (its code, its
  // message prefixed "rank R of N: ") and the other ranks that failed. A rank that fails
  // alone thus stops the job on every rank instead of leaving the others waiting for it.
  absl::Status Agree(const absl::Status& local) const;

  // The ranks that pass the same `color`, as a new group ordered by rank in this one
  // (MPI_Comm_split). A rank passing a negative color takes part in the split and gets
  // InvalidArgument; the others get their groups.
  absl::StatusOr<Communicator> Split(int color) const;

 private:
  friend class MpiSession;
  struct Handle;
  explicit Communicator(std::shared_ptr<const Handle> handle);

  std::shared_ptr<const Handle> handle_;
  int rank_ = 0;
  int size_ = 1;
};

// MPI in this process, from MPI_Init to MPI_Finalize: create one, early in main, before
// any communicator, and let it outlive them.
class MpiSession {
 public:
  // Initializes MPI (threads may run, but only this one calls MPI). FailedPrecondition when
  // MPI was already initialized; Internal with MPI's message when it cannot start.
  static absl::StatusOr<std::unique_ptr<MpiSession>> Init(int* argc, char*** argv);
  ~MpiSession();

  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // All ranks of the job.
  const Communicator& world() const { return world_; }

 private:
  explicit MpiSession(Communicator world) : world_(std::move(world)) {}

  Communicator world_;
};

}  // namespace deferred::distributed

#endif  // DEFERRED_DISTRIBUTED_COMMUNICATOR_H_
