#include "distributed/communicator.h"

#include <mpi.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace deferred::distributed {

struct Communicator::Handle {
  Handle(MPI_Comm comm, bool owned) : comm(comm), owned(owned) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned && !finalized) MPI_Comm_free(&comm);
  }

  MPI_Comm comm;
  bool owned;  // freed with the last Communicator holding it (the world's is not)
};

namespace {

// MPI counts are ints: large messages travel in pieces of this many bytes.
constexpr int64_t kMaxPieceBytes = int64_t{1} << 30;

absl::Status MpiStatus(int code, const char* call) {
  if (code == MPI_SUCCESS) return absl::OkStatus();
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  return absl::InternalError(absl::StrCat(call, " failed: ", std::string(message, length)));
}

absl::Status BroadcastBytes(char* data, int64_t size, int root, MPI_Comm comm) {
  for (int64_t done = 0; done < size; done += kMaxPieceBytes) {
    const int piece = static_cast<int>(std::min(kMaxPieceBytes, size - done));
    if (absl::Status s =
            MpiStatus(MPI_Bcast(data + done, piece, MPI_BYTE, root, comm), "MPI_Bcast");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// A status as bytes, and back: "code\nmessage".
std::string EncodeStatus(const absl::Status& status) {
  return absl::StrCat(static_cast<int>(status.code()), "\n", status.message());
}

absl::Status DecodeStatus(const std::string& bytes) {
  const size_t newline = bytes.find('\n');
  int code = static_cast<int>(absl::StatusCode::kUnknown);
  if (newline == std::string::npos || !absl::SimpleAtoi(bytes.substr(0, newline), &code)) {
    return absl::InternalError("Communicator::Agree: a rank sent a malformed status");
  }
  return absl::Status(static_cast<absl::StatusCode>(code), bytes.substr(newline + 1));
}

}  // namespace

Communicator::Communicator(std::shared_ptr<const Handle> handle) : handle_(std::move(handle)) {
  MPI_Comm_rank(handle_->comm, &rank_);
  MPI_Comm_size(handle_->comm, &size_);
}

absl::Status Communicator::Barrier() const {
  return MpiStatus(MPI_Barrier(handle_->comm), "MPI_Barrier");
}

absl::Status Communicator::Broadcast(std::string& bytes, int root) const {
  if (root < 0 || root >= size_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Communicator::Broadcast: root %d is not a rank of %d", root, size_));
  }
  uint64_t size = bytes.size();
  if (absl::Status s =
          MpiStatus(MPI_Bcast(&size, 1, MPI_UINT64_T, root, handle_->comm), "MPI_Bcast");
      !s.ok()) {
    return s;
  }
  if (rank_ != root) bytes.resize(size);
  return BroadcastBytes(bytes.data(), static_cast<int64_t>(size), root, handle_->comm);
}

absl::StatusOr<std::vector<std::string>> Communicator::AllGather(std::string_view bytes) const {
  // One broadcast per rank: verification traffic is small, and this way no count or
  // displacement has to fit in an int.
  std::vector<std::string> all(size_);
  for (int root = 0; root < size_; ++root) {
    if (root == rank_) all[root] = std::string(bytes);
    if (absl::Status s = Broadcast(all[root], root); !s.ok()) return s;
  }
  return all;
}

absl::Status Communicator::Agree(const absl::Status& local) const {
  absl::StatusOr<std::vector<std::string>> all = AllGather(EncodeStatus(local));
  if (!all.ok()) return all.status();
  absl::Status first;
  std::vector<int> others;
  for (int r = 0; r < size_; ++r) {
    const absl::Status status = DecodeStatus((*all)[r]);
    if (status.ok()) continue;
    if (first.ok()) {
      first = absl::Status(status.code(),
                           absl::StrFormat("rank %d of %d: %s", r, size_, status.message()));
    } else {
      others.push_back(r);
    }
  }
  if (first.ok() || others.empty()) return first;
  return absl::Status(first.code(), absl::StrCat(first.message(), " (ranks ",
                                                 absl::StrJoin(others, ", "), " failed too)"));
}

absl::StatusOr<Communicator> Communicator::Split(int color) const {
  MPI_Comm comm = MPI_COMM_NULL;
  if (absl::Status s =
          MpiStatus(MPI_Comm_split(handle_->comm, color < 0 ? MPI_UNDEFINED : color, rank_, &comm),
                    "MPI_Comm_split");
      !s.ok()) {
    return s;
  }
  if (color < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Communicator::Split: color %d is negative", color));
  }
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  return Communicator(std::make_shared<const Handle>(comm, /*owned=*/true));
}

absl::StatusOr<std::unique_ptr<MpiSession>> MpiSession::Init(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    return absl::FailedPreconditionError("MpiSession::Init: MPI is already initialized");
  int provided = 0;
  if (absl::Status s =
          MpiStatus(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      !s.ok()) {
    return s;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::unique_ptr<MpiSession>(new MpiSession(
      Communicator(std::make_shared<const Communicator::Handle>(MPI_COMM_WORLD, /*owned=*/false))));
}

#if defined(__SANITIZE_ADDRESS__)
// Open MPI keeps some allocations of MPI_Init for the life of the process; they are not
// this program's leaks. Its plugins are built without frame pointers, so only the slow
// unwinder reaches the library frames that the suppressions name.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\n"
         "leak:libhwloc.so\nleak:libevent\n";
}
#endif

MpiSession::~MpiSession() {
#if defined(__SANITIZE_ADDRESS__)
  // The leak check runs here rather than at exit: MPI_Finalize unloads Open MPI's plugins,
  // whose allocations then have no symbols to suppress them by.
  __lsan_do_leak_check();
#endif
  MPI_Finalize();
}

}  // namespace deferred::distributed
