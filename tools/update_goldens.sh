#!/usr/bin/env bash
# Regenerates tools/testdata/golden/ from the current deferred-replay; review the diff
# (git diff tools/testdata/golden) before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
./bazelw test //tools:deferred_replay_test --test_filter='*GoldenOutput*' \
  --test_env=DEFERRED_REPLAY_UPDATE_GOLDENS="$PWD/tools/testdata/golden" --nocache_test_results \
  --spawn_strategy=local
