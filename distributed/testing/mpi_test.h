#ifndef DEFERRED_DISTRIBUTED_TESTING_MPI_TEST_H_
#define DEFERRED_DISTRIBUTED_TESTING_MPI_TEST_H_

// GoogleTest suites that run on every rank of an MPI job (distributed/testing/mpirun_test.sh
// launches them; link :mpi_test_main). Every rank runs every test in the same order; a
// test fails on every rank when it fails on any, so rank 0's report (the only one
// written) counts it. Test bodies keep their collectives unconditional: a fatal assertion
// must not let one rank skip a collective the others enter.

#include "distributed/communicator.h"
#include "gtest/gtest.h"

namespace deferred::distributed {

class MpiTest : public ::testing::Test {
 protected:
  // All ranks of the job.
  static const Communicator& world();

  // Fails the test on every rank where another rank failed it.
  void TearDown() override;
};

}  // namespace deferred::distributed

#endif  // DEFERRED_DISTRIBUTED_TESTING_MPI_TEST_H_
