#!/usr/bin/env bash
# Builds the CUDA test and benchmark binaries here and puts them, with the shared libraries
# they need that a CUDA image may lack (Debian's Abseil), into gpu_bundle/ (ignored by git):
# what the device tool carries to a lent GPU machine, which has no Bazel, for
# tools/gpu_check.sh to run there:
#
#   tools/gpu_bundle.sh            # here
#   device run: carry ["gpu_bundle"], command "bash tools/gpu_check.sh"
#
# Run gpu_check.sh here too before spending device time: without a GPU every CUDA test must
# report itself skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(//tests:device_equivalence_gpu_test //cuda_kernels:cuda_runtime_test
         //benchmarks:gpu_fill_benchmark)
./bazelw build -c opt "${targets[@]}"

rm -rf gpu_bundle
mkdir -p gpu_bundle/bin gpu_bundle/lib
for target in "${targets[@]}"; do
  path="bazel-bin/${target#//}"
  path="${path/://}"
  cp "$path" gpu_bundle/bin/
  # Every shared library outside glibc and the C++ runtime, which any x86-64 Linux has.
  ldd "$path" | awk '$3 ~ /^\// {print $3}' \
    | grep -Ev '/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt)\.so' \
    | xargs -r -I{} cp -L {} gpu_bundle/lib/
done
cp benchmarks/torch_gpu_fill.py gpu_bundle/
du -sh gpu_bundle
