#!/usr/bin/env bash
# The CUDA checks of a lent GPU machine, run in the repository root there on the bundle
# tools/gpu_bundle.sh built here (the device machine has no Bazel):
#   1. the CUDA tests: CPU == CUDA bitwise for random eager programs, every standard layer,
#      GPT-2 and Llama (tiny, whole and sharded), GPT-2 small on the GPU with no host
#      tensor data, one Llama-70B decoder layer's rank-0-of-8 shard; device memory counters;
#   2. the fill benchmark (1 GiB uniform_, normal_, trunc_normal_ beside cudaMemsetAsync)
#      and PyTorch's fills on the same GPU in the same run, with the ratios to the memset.
# Writes logs and a summary to $OUT (or ./gpu_check_out). Exits non-zero when a test fails
# or when the tests ran but were skipped (no GPU), so that a skip is never read as a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu_check_out}"
mkdir -p "$out"
export LD_LIBRARY_PATH="$PWD/gpu_bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin=gpu_bundle/bin

if [[ ! -x "$bin/device_equivalence_gpu_test" ]]; then
  echo "gpu_check: no bundle: run tools/gpu_bundle.sh first and carry gpu_bundle" >&2
  exit 2
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } \
  | tee "$out/device.txt"

status=0
for test in cuda_runtime_test device_equivalence_gpu_test; do
  "$bin/$test" --gtest_output="xml:$out/$test.xml" 2>&1 | tee "$out/$test.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  if grep -q '\[  SKIPPED \]' "$out/$test.log"; then
    echo "gpu_check: $test skipped tests: no usable GPU" | tee -a "$out/summary.txt"
    status=1
  fi
done

"$bin/gpu_fill_benchmark" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=console --benchmark_out="$out/gpu_fill_benchmark.json" \
  --benchmark_out_format=json 2>&1 | tee "$out/gpu_fill_benchmark.log"
python3 gpu_bundle/torch_gpu_fill.py 2>&1 | tee "$out/torch_gpu_fill.log"

# GB/s of each fill (median of the repetitions) as a ratio of the memset's, ours and
# PyTorch's.
python3 - "$out" <<'PY' | tee -a "$out/summary.txt"
import json, sys
out = sys.argv[1]
runs = json.load(open(f"{out}/gpu_fill_benchmark.json"))["benchmarks"]
ours = {r["run_name"].split("/")[0][3:]: r["bytes_per_second"] / 1e9
        for r in runs if r.get("aggregate_name") == "median"}
torch = {}
for line in open(f"{out}/torch_gpu_fill.log"):
    parts = line.split()
    if len(parts) == 3 and parts[0] == "torch":
        torch[parts[1]] = float(parts[2])
memset = ours.get("CudaMemset")
for name, key in [("uniform_", "Uniform"), ("normal_", "Normal"), ("trunc_normal_", "TruncNormal")]:
    if memset and key in ours:
        print(f"{name}: {ours[key]:.1f} GB/s = {ours[key] / memset:.3f}x cudaMemsetAsync "
              f"({memset:.1f} GB/s); PyTorch {torch.get(name, float('nan')):.1f} GB/s")
PY
exit $status
