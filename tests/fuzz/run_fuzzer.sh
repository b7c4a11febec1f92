#!/usr/bin/env bash
# Fuzzes a file reader with libFuzzer (clang's -fsanitize=fuzzer, with AddressSanitizer
# and UndefinedBehaviorSanitizer) for SECONDS seconds (default 600), starting from the
# committed files of its format:
#   trace_file   the trace-file reader (and replay of what it loads), from testdata/traces
#   safetensors  the safetensors header parser, from testdata/safetensors
# Builds with clang in its own Bazel output base, so the g++ builds of the workspace are
# left as they are. A crash leaves its input in the work folder the script prints, and
# the script exits non-zero.
# Usage: tests/fuzz/run_fuzzer.sh trace_file|safetensors [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."

target=${1:?usage: tests/fuzz/run_fuzzer.sh trace_file|safetensors [SECONDS]}
seconds=${2:-600}
case "$target" in
  trace_file|safetensors) ;;
  *) echo "run_fuzzer: unknown target '$target' (trace_file or safetensors)" >&2; exit 2 ;;
esac
for package in clang libclang-rt-14-dev; do
  if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" != "install ok installed" ]]; then
    echo "run_fuzzer: installing $package" >&2
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package"; } >&2
  fi
done

output_base="${HOME}/.cache/deferred-fuzz"
fuzz_bazel() { CC=clang CXX=clang++ ./bazelw --output_base="$output_base" "$@"; }
# No convenience symlinks: bazel-<workspace> must keep pointing at the g++ output base,
# or the next `./bazelw test //...` would wander into this one.
fuzz_bazel build --config=fuzz --symlink_prefix=/ "//tests/fuzz:${target}_fuzzer"
fuzzer="$(fuzz_bazel info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz/${target}_fuzzer"

work=$(mktemp -d "/tmp/${target}_fuzz.XXXXXX")
mkdir -p "$work/corpus"
if [[ "$target" == trace_file ]]; then
  # The target's first byte picks its mode (odd: the rest is a whole file; even: the rest
  # is content it seals): seed both modes with every committed file.
  python3 - "$work/corpus" testdata/traces/*.dtrace <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
for path in map(pathlib.Path, sys.argv[2:]):
    data = path.read_bytes()
    (out / (path.stem + ".whole")).write_bytes(b"\x01" + data)
    content = data[: data.rfind(b"end sha256 ")] if b"end sha256 " in data else data
    (out / (path.stem + ".content")).write_bytes(b"\x00" + content)
PY
else
  cp testdata/safetensors/*.safetensors "$work/corpus/"
fi
echo "run_fuzzer: $fuzzer for ${seconds}s; corpus and any crash in $work"
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
  -artifact_prefix="$work/" "$work/corpus"
