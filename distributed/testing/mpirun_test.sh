#!/usr/bin/env bash
# Runs a program on N ranks of one machine: mpirun_test.sh N PROGRAM [ARGS...].
# As root too (CI runs as root), with more ranks than cores, over shared memory (the
# ranks share one machine; Open MPI's TCP transport also trips ThreadSanitizer on its own
# locks), and with a deadline, so that a rank stuck in a collective fails the test
# instead of hanging it.
set -euo pipefail
ranks=$1
shift
# PMIx keeps Unix sockets in its session directory, whose path must stay short; Bazel's
# test TMPDIR is too long.
export TMPDIR=/tmp
exec mpirun --allow-run-as-root --oversubscribe --timeout "${MPIRUN_TIMEOUT:-240}" --mca btl self,vader \
  -np "$ranks" "$@"
