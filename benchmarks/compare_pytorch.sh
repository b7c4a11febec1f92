#!/usr/bin/env bash
# Prints deferred's random fills beside PyTorch's, measured in one run on this machine:
# uniform_, normal_ and trunc_normal_ of a 256 MiB float32 tensor on all cores, plus a
# parallel memset of the same bytes as the bandwidth reference.
#
# Usage (from the repository root): benchmarks/compare_pytorch.sh
# Installs Debian's python3-torch (PyTorch 1.13) first if it is missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's interpreter, which python3-torch installs into (a python3 earlier in PATH, such
# as pyenv's, would not see it).
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3

if ! "$python" -c 'import torch' 2>/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "compare_pytorch: PyTorch is missing; install it as root: apt-get install -y python3-torch" >&2
    exit 1
  fi
  echo "compare_pytorch: installing python3-torch" >&2
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch; } >&2; then
    echo "compare_pytorch: could not install python3-torch (is Debian's archive reachable?)" >&2
    exit 1
  fi
fi

threads=$(nproc)
ours=$(mktemp)
trap 'rm -f "$ours"' EXIT

./bazelw build -c opt //benchmarks:fill_benchmark >&2
"$(./bazelw info -c opt bazel-bin 2>/dev/null)/benchmarks/fill_benchmark" \
  --benchmark_format=json --benchmark_min_time=2 >"$ours"

"$python" - "$ours" "$threads" <<'EOF'
import json, math, sys, time, warnings
import torch

ours_file, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
n = (256 << 20) // 4
t = torch.empty(n, dtype=torch.float32)
t.zero_()

def rate(fill, min_time=2.0):
    fill()  # warm up
    runs, start = 0, time.perf_counter()
    while True:
        fill()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return runs * n * 4 / elapsed

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    theirs = {
        "BM_Memset": rate(lambda: t.zero_()),
        "BM_Uniform": rate(lambda: t.uniform_(-1.0, 1.0)),
        "BM_Normal": rate(lambda: t.normal_(0.0, 1.0)),
        "BM_TruncNormal": rate(lambda: torch.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0)),
        "BM_TruncNormalStd002": rate(lambda: torch.nn.init.trunc_normal_(t, 0.0, 0.02, -2.0, 2.0)),
    }

ours, paths = {}, {}
for b in json.load(open(ours_file))["benchmarks"]:
    ours[b["name"].split("/")[0]] = b["bytes_per_second"]
    paths[b["name"].split("/")[0]] = b.get("label", "")

print(f"{threads} threads; 256 MiB float32; GB/s = 1e9 bytes per second; "
      f"deferred's kernel path: {paths.get('BM_Uniform', '?')}")
print(f"{'fill':<21}{'deferred GB/s':>15}{'/memset':>9}{'PyTorch GB/s':>14}{'/memset':>9}{'speedup':>9}")
for name in ["BM_Memset", "BM_Uniform", "BM_Normal", "BM_TruncNormal", "BM_TruncNormalStd002"]:
    a, b = ours[name], theirs[name]
    print(f"{name:<21}{a / 1e9:>15.2f}{a / ours['BM_Memset']:>9.3f}"
          f"{b / 1e9:>14.2f}{b / theirs['BM_Memset']:>9.3f}{a / b:>9.2f}")
for name in ["BM_UniformAvx2", "BM_NormalAvx2", "BM_TruncNormalAvx2"]:
    if name in ours:
        a = ours[name]
        print(f"{name:<21}{a / 1e9:>15.2f}{a / ours['BM_Memset']:>9.3f}   (deferred capped at AVX2)")
print(f"PyTorch {torch.__version__}; its memset row is tensor.zero_()")
EOF
