#!/usr/bin/env bash
# Long runs that do not fit CI: the property tests over other seeds than CI's draws, under
# AddressSanitizer and UndefinedBehaviorSanitizer. Stops at the first failure and prints
# the seed that reproduces it (DEFERRED_TEST_SEED=<seed> <test binary>).
# Usage: tests/soak.sh [ROUNDS]   (default 20; each round takes about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-20}
tests=(size_limits_test random_program_test shard_equivalence_test trace_file_test trace_mutation_test)
./bazelw build --config=asan "${tests[@]/#/\/\/tests:}"
bin=$(./bazelw info --config=asan bazel-bin 2>/dev/null)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for ((round = 1; round <= rounds; ++round)); do
  seed=$((round * 1000003))
  for test in "${tests[@]}"; do
    if ! DEFERRED_TEST_SEED=$seed "$bin/tests/$test" >"$log" 2>&1; then
      tail -40 "$log"
      echo "soak: $test failed with DEFERRED_TEST_SEED=$seed" >&2
      exit 1
    fi
  done
  echo "soak: round $round of $rounds passed (seed $seed)"
done
