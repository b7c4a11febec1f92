#!/usr/bin/env bash
# Loading a 1.3 GB Llama-style checkpoint: deferred's load_checkpoint into a deferred model
# beside plain pread of the same file (the throughput reference) and PyTorch 1.13 building
# the model eagerly and loading the same weights from a torch.save file, each in a fresh
# process, page cache warm, ROUNDS times (default 3), reporting medians and ranges.
# Usage (from the repository root): benchmarks/checkpoint_memory.sh [ROUNDS]
# Needs about 4 GB of disk in $TMPDIR; installs Debian's python3-torch if missing (root).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
python=/usr/bin/python3  # Debian's, which python3-torch installs into
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "checkpoint_memory: installing python3-torch" >&2
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch; } >&2
fi
./bazelw build -c opt //benchmarks:checkpoint_memory >&2
bin="$(./bazelw info -c opt bazel-bin 2>/dev/null)/benchmarks/checkpoint_memory"
work=$(mktemp -d "${TMPDIR:-/tmp}/checkpoint_memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

results="$work/results"
"$bin" save "$work/model.safetensors" >>"$results"
"$python" benchmarks/torch_checkpoint.py convert "$work/model.safetensors" "$work/model.pt"
cat "$work/model.safetensors" "$work/model.pt" >/dev/null  # warm the page cache

for ((r = 1; r <= rounds; ++r)); do
  "$bin" pread "$work/model.safetensors" >>"$results"
  "$bin" load "$work/model.safetensors" >>"$results"
  "$python" benchmarks/torch_checkpoint.py load "$work/model.pt" >>"$results"
done
"$python" - "$results" "$(stat -c %s "$work/model.safetensors")" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    mode, rest = line.split(" ", 1)
    rows.setdefault(mode, []).append(dict(re.findall(r"(\w+)=([\d.]+)", rest)))
file_bytes = int(sys.argv[2])
def stat(mode, key):
    values = [float(r[key]) for r in rows[mode]]
    return statistics.median(values), min(values), max(values)
model = float(rows["load"][0]["model_bytes"])
print(f"file {file_bytes} bytes; model {model:.0f} bytes of parameters; {len(rows['load'])} rounds")
print("mode    seconds (range)          GB/s of file   peak RSS / model bytes")
for mode in ("pread", "load", "torch"):
    s, lo, hi = stat(mode, "seconds")
    rss, rlo, rhi = stat(mode, "peak_rss")
    print(f"{mode:6}  {s:.3f} ({lo:.3f}-{hi:.3f})   {file_bytes / s / 1e9:6.2f}          "
          f"{rss / model:.3f} ({rlo / model:.3f}-{rhi / model:.3f})")
save = rows["save"][0]
print(f"save (once): {float(save['seconds']):.3f} s, peak RSS {float(save['peak_rss']) / 1e6:.0f} MB = "
      f"{float(save['peak_rss']) / float(save['largest']):.2f}x the largest tensor "
      f"({float(save['largest']) / 1e6:.0f} MB), {float(save['peak_rss']) / model:.3f}x the model")
print(f"load throughput / pread throughput = {stat('pread', 'seconds')[0] / stat('load', 'seconds')[0]:.2f}")
print(f"torch time / deferred load time = {stat('torch', 'seconds')[0] / stat('load', 'seconds')[0]:.2f}")
PY
