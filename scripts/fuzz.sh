#!/usr/bin/env bash
# Fuzzes eigrad with libFuzzer: builds the targets in fuzz/ with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/ (the library is compiled with them too), then runs
# each target for a bounded time from the committed seed corpus in fuzz/corpus/. New inputs go to
# build-fuzz/corpus/, never into the repository. Fails on any crash, leak, timeout, sanitizer
# report or contract violation, and says where the crashing input was saved.
#   scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build-fuzz
cxx=${EIGRAD_FUZZ_CXX:-clang++}
[[ -n "${EIGRAD_FUZZ_CXX:-}" ]] || scripts/install-deps.sh --fuzz
command -v "$cxx" >/dev/null || {
  echo "fuzz.sh: needs clang and its libFuzzer runtime (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
}
# EIGRAD_FUZZ_SOURCE fuzzes another checkout of the library (e.g. one with a proposed fix).
cmake -S fuzz -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" \
  -DEIGRAD_SOURCE_DIR="${EIGRAD_FUZZ_SOURCE:-$PWD}" >/dev/null
cmake --build "$dir" -j2 --target fuzz_ops fuzz_safetensors fuzz_idx

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for target in ops safetensors idx; do
  case $target in
    ops) max_len=1024 ;;  # about 85 ops per program
    *) max_len=4096 ;;
  esac
  mkdir -p "$dir/corpus/$target" "$dir/artifacts"
  log="$dir/fuzz_$target.log"
  if "$dir/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target-" \
      "$dir/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$target: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, no failure"
  else
    echo "fuzz_$target: FAILED; log $log, input in $dir/artifacts/$target-*"
    grep -E -A30 'ERROR|contract violation|runtime error|deadly signal' "$log" | head -60
    status=1
  fi
done
exit $status
