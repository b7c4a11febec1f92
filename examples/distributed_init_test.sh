#!/usr/bin/env bash
# examples/distributed_init under mpirun, as a user runs it: 2-D shards saved by four
# ranks, loaded by three, a saved trace broadcast to two; and jobs in which a rank fails,
# which must end quickly, non-zero, with that rank's error.
# Usage: distributed_init_test.sh MPIRUN_TEST_SH DISTRIBUTED_INIT
set -uo pipefail
mpirun_test=$1
program=$2
work="${TEST_TMPDIR:-$(mktemp -d)}/distributed_init"
rm -rf "$work" && mkdir -p "$work"
failures=0

# expect NAME RC_WANTED TEXT_WANTED RANKS ARGS...: runs the job, checks its exit status
# (0, or "nonzero") and that its output holds TEXT_WANTED.
expect() {
  local name=$1 want_rc=$2 want_text=$3 ranks=$4
  shift 4
  local start=$SECONDS rc=0
  MPIRUN_TIMEOUT=120 "$mpirun_test" "$ranks" "$program" "$@" >"$work/out" 2>&1 || rc=$?
  local took=$((SECONDS - start))
  local ok=1
  if [[ $want_rc == 0 ]]; then (( rc == 0 )) || ok=0; else (( rc != 0 )) || ok=0; fi
  grep -qF -- "$want_text" "$work/out" || ok=0
  # A job that hit mpirun's deadline was hanging, whatever it printed.
  (( took < 100 )) || ok=0
  if (( ok )); then
    echo "PASS: $name (exit $rc, ${took} s)"
  else
    echo "FAIL: $name (exit $rc, ${took} s; wanted exit $want_rc and \"$want_text\"):"
    sed 's/^/    /' "$work/out"
    failures=$((failures + 1))
  fi
}

expect "four ranks: 2 x 2 mesh, broadcast trace, sharded save" 0 "verified: every rank's shards are bitwise" \
  4 --plan=2d --tp=2 --broadcast_trace --out="$work/ckpt"
for f in model.dtrace model.safetensors.index.json rank-00000-of-00004.safetensors; do
  [[ -s "$work/ckpt/$f" ]] || { echo "FAIL: the save left no $f"; failures=$((failures + 1)); }
done
expect "three ranks load what four saved" 0 "verified: every rank's shards are bitwise" \
  3 --load="$work/ckpt"
expect "two ranks, tensor parallel, from the saved trace" 0 "have checksums that add up" \
  2 --plan=tp --trace="$work/ckpt/model.dtrace" --verify=checksum

expect "a trace path that does not exist" nonzero "rank 0 of 3: cannot open $work/none.dtrace" \
  3 --trace="$work/none.dtrace"
expect "a mesh that does not fit the world" nonzero "--plan=2d --tp=3: the tensor-parallel size must divide the world size 4" \
  4 --plan=2d --tp=3
cp -r "$work/ckpt" "$work/broken"
head -c 100 "$work/ckpt/rank-00001-of-00004.safetensors" >"$work/broken/rank-00001-of-00004.safetensors"
expect "a truncated rank file" nonzero "rank-00001-of-00004.safetensors" \
  2 --load="$work/broken"
expect "a flag that does not exist" nonzero "bad flag: --plan=zero" \
  2 --plan=zero

(( failures == 0 )) || { echo "$failures failed"; exit 1; }
