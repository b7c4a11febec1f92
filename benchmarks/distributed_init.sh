#!/usr/bin/env bash
# Multi-rank initialization of one decoder layer of Llama 2 70B (855.6M parameters,
# 3.42 GB in float32): examples/distributed_init under mpirun with W = 1, 2, 4 and 8 ranks
# (FSDP, every rank recording the layer), ROUNDS times each (default 3), each job in fresh
# processes. Reports per rank the median materialization time and peak tensor memory,
# against the references measured in the same run: the layer's bytes / W (a rank's share)
# and W = 1's time / W (perfect scaling). Ranks beyond the machine's cores are
# oversubscribed and time-share them.
# Usage (from the repository root): benchmarks/distributed_init.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
./bazelw build -c opt //examples:distributed_init >&2
bin="$(./bazelw info -c opt bazel-bin 2>/dev/null)/examples/distributed_init"
results=$(mktemp "${TMPDIR:-/tmp}/distributed_init.XXXXXX")
trap 'rm -f "$results"' EXIT
export TMPDIR=/tmp

for world in 1 2 4 8; do
  for ((r = 1; r <= rounds; ++r)); do
    mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np "$world" \
      "$bin" --model=llama70b-layer --plan=fsdp --verify=none --csv |
      awk -v w="$world" -F, '/^[0-9]/ { print w "," $0 }' >>"$results"
  done
done

python3 - "$results" "$rounds" "$(nproc)" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)  # world -> (materialize ms, peak bytes, shard bytes, rss)
for line in open(sys.argv[1]):
    w, rank, build, materialize, shard, peak, read, rss = line.strip().split(",")
    rows[int(w)].append((float(materialize), int(peak), int(shard), int(rss)))
base = statistics.median(m for m, *_ in rows[1])
layer_bytes = rows[1][0][2]  # what the single rank holds: the whole layer
print(f"one Llama-70B decoder layer ({layer_bytes / 1e9:.2f} GB), FSDP, {sys.argv[2]} rounds, "
      f"{sys.argv[3]} cores (ranks beyond them oversubscribed)")
print("W  ms/rank median [min, max]  ms vs W=1/W  peak/rank median  peak / (layer/W)  max RSS/rank")
for w in sorted(rows):
    times = [m for m, *_ in rows[w]]
    peaks = [p for _, p, _, _ in rows[w]]
    rss = [r for *_, r in rows[w]]
    share = layer_bytes / w
    print(f"{w}  {statistics.median(times):8.0f} [{min(times):.0f}, {max(times):.0f}]"
          f"  {statistics.median(times) / (base / w):10.2f}x"
          f"  {statistics.median(peaks) / 1e6:12.1f} MB  {statistics.median(peaks) / share:15.4f}x"
          f"  {statistics.median(rss) / 1e6:10.1f} MB")
PY
