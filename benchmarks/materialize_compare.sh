#!/usr/bin/env bash
# materialize_module into fresh memory against its references, in the same runs:
# `materialize_benchmark` (fresh memory under the huge-page policy and the policy before,
# already-mapped memory, a 2-thread memset into fresh memory, the 70B layer whole and as a
# 1/8 shard), each model's peak RSS in a fresh process, and PyTorch 1.13 building the same
# model eagerly (benchmarks/torch_construct.py). Prints each round and the medians.
#
# Usage (from the repository root): benchmarks/materialize_compare.sh [ROUNDS]   (default 3)
# Needs Debian's python3-torch (compare_pytorch.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "materialize_compare: PyTorch is missing; install it as root: apt-get install -y python3-torch" >&2
  exit 1
fi

./bazelw build -c opt //benchmarks:materialize_benchmark >&2
binary="$(./bazelw info -c opt bazel-bin 2>/dev/null)/benchmarks/materialize_benchmark"
models="gpt2-small gpt2-medium gpt2-large llama-1.6gb"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  "$binary" --benchmark_format=json >"$work/bench.$round.json"
  for model in $models; do
    "$binary" --peak_rss="$model" >>"$work/rss.$round.txt"
    "$python" benchmarks/torch_construct.py "$model" >>"$work/torch.$round.txt"
  done
done

"$python" - "$work" "$rounds" <<'PYEOF'
import json, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
models = ["gpt2-small", "gpt2-medium", "gpt2-large", "llama-1.6gb"]

def fields(line):
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)

rows = []  # one dict per (round, model)
layer = []
for r in range(1, rounds + 1):
    bench = {b["name"]: b for b in json.load(open(f"{work}/bench.{r}.json"))["benchmarks"]}
    rss = {f["model"]: f for f in map(fields, open(f"{work}/rss.{r}.txt"))}
    torch = {f["model"]: f for f in map(fields, open(f"{work}/torch.{r}.txt"))}
    for i, m in enumerate(models):
        sec = lambda name: bench[name]["real_time"] / 1e3  # ms -> s
        nbytes = bench[f"BM_Materialize/{i}/0/real_time"]["bytes"]
        row = {
            "model": m, "GB": nbytes / 1e9,
            "new": nbytes / sec(f"BM_Materialize/{i}/0/real_time") / 1e9,
            "old": nbytes / sec(f"BM_Materialize/{i}/1/real_time") / 1e9,
            "mapped": nbytes / sec(f"BM_MaterializeMapped/{i}/real_time") / 1e9,
            "memset_new": nbytes / sec(f"BM_MemsetFresh/{i}/0/real_time") / 1e9,
            "memset_old": nbytes / sec(f"BM_MemsetFresh/{i}/1/real_time") / 1e9,
            "torch_s": float(torch[m]["seconds"]),
            "rss": float(rss[m]["peak_rss/(tensor+trace)"]),
        }
        row["new/mapped"] = row["new"] / row["mapped"]
        row["old/mapped"] = row["old"] / row["mapped"]
        row["vs_torch"] = row["torch_s"] / (nbytes / 1e9 / row["new"])
        rows.append(row)
    layer.append((bench["BM_Llama70BLayer/1/real_time"]["real_time"],
                  bench["BM_Llama70BLayer/8/real_time"]["real_time"]))

cols = ["new", "old", "mapped", "new/mapped", "old/mapped", "memset_new", "memset_old",
        "torch_s", "vs_torch", "rss"]
print("GB/s = 1e9 bytes/s of tensor data; new = huge pages advised, old = 4 KiB pages;")
print("mapped = same materialization into already-mapped memory; vs_torch = PyTorch time / ours;")
print("rss = peak RSS / (tensor + trace bytes), fresh process")
for r in range(rounds):
    print(f"round {r + 1}")
    for row in rows[r * len(models):(r + 1) * len(models)]:
        print(f"  {row['model']:12s} " + " ".join(f"{c}={row[c]:.3f}" for c in cols))
    print(f"  llama70b-layer full={layer[r][0]:.0f}ms shard1/8={layer[r][1]:.0f}ms "
          f"ratio={layer[r][1] / layer[r][0]:.3f}")
print("median (min-max) over rounds")
print("| model | GB | " + " | ".join(cols) + " |")
print("|" + " --- |" * (len(cols) + 2))
for m in models:
    mine = [row for row in rows if row["model"] == m]
    cells = []
    for c in cols:
        v = [row[c] for row in mine]
        cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})")
    print(f"| {m} | {mine[0]['GB']:.3f} | " + " | ".join(cells) + " |")
ratios = [s / f for f, s in layer]
print(f"| llama70b-layer | full {statistics.median([f for f, _ in layer]):.0f} ms, "
      f"shard 1/8 {statistics.median([s for _, s in layer]):.0f} ms, "
      f"ratio {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) |")
PYEOF
