// main() of MPI test suites: initializes MPI, keeps the XML report and the progress output
// to rank 0, and has the other ranks print only their failures, each line naming the rank.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "distributed/testing/mpi_test.h"

namespace deferred::distributed {

MpiSession* session = nullptr;

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}

  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.message());
  }

 private:
  int rank_;
};

const Communicator& MpiTest::world() { return session->world(); }

void MpiTest::TearDown() {
  const bool failed_here = HasFailure();
  const absl::Status all = world().Agree(
      failed_here ? absl::InternalError("a check failed (its messages are in the log)")
                  : absl::OkStatus());
  if (!all.ok() && !failed_here) ADD_FAILURE() << "failed on another rank: " << all.message();
}

}  // namespace deferred::distributed

int main(int argc, char** argv) {
  absl::StatusOr<std::unique_ptr<deferred::distributed::MpiSession>> mpi =
      deferred::distributed::MpiSession::Init(&argc, &argv);
  if (!mpi.ok()) {
    std::fprintf(stderr, "%s\n", mpi.status().ToString().c_str());
    return 1;
  }
  deferred::distributed::session = mpi->get();
  const int rank = (*mpi)->world().rank();
  // Bazel's marker of a premature exit is rank 0's to create and remove.
  if (rank != 0) unsetenv("TEST_PREMATURE_EXIT_FILE");
  ::testing::InitGoogleTest(&argc, argv);
  if (rank != 0) {
    // Only rank 0 writes the report: ranks writing the same file at once would garble it.
    ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_xml_generator());
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new deferred::distributed::RankFailurePrinter(rank));
  }
  return RUN_ALL_TESTS();
}
