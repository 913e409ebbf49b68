#!/usr/bin/env bash
# The comparison: installs what is missing (libtorch, dlib and Google Benchmark included), builds
# bench_compare in Release and runs it; prints the machine, the command and the tables.
#   scripts/bench-compare.sh [bench_compare options]    e.g. --benchmark_filter=-epoch
#   scripts/bench-compare.sh --update [options]         also rewrites BENCHMARKS.md's results
# The report is also written to build/bench/compare.md. BUILD_DIR overrides build/, JOBS the
# number of compile jobs (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
if [[ "${1:-}" == "--update" ]]; then
  update=1
  shift
fi
dir=${BUILD_DIR:-build}

scripts/install-deps.sh --peers
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir" --target bench_compare -j"${JOBS:-$(nproc)}"

tables=$(mktemp)
trap 'rm -f "$tables"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v load="${load_before%% *}" -v cores="$(nproc)" 'BEGIN { exit !(load > cores / 2) }'; then
  echo "bench-compare: warning: the machine is busy (load average $load_before on $(nproc) cores);" \
    "expect noisy figures, multi-threaded ones above all" >&2
fi
"$dir/bench/bench_compare" --markdown="$tables" "$@" >/dev/null
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
cache() { getconf "$1" 2>/dev/null | awk '$1 > 0 { if ($1 >= 1048576) printf "%d MiB", $1 / 1048576; else printf "%d KiB", $1 / 1024; ok = 1 } END { if (!ok) printf "?" }'; }
report="$dir/bench/compare.md"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')."
  echo
  echo "Machine:"
  echo
  echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores available ($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core); caches as reported: L1d $(cache LEVEL1_DCACHE_SIZE), L2 $(cache LEVEL2_CACHE_SIZE), L3 $(cache LEVEL3_CACHE_SIZE)"
  echo "- vector extensions: $(grep -o -w -E 'avx512f|avx2|fma|sse4_2' /proc/cpuinfo | sort -u | paste -sd' ' -)"
  echo "- memory: $(free -h | awk '/^Mem:/ {print $2}') total"
  echo "- OS: $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"'), $(c++ --version | head -1)"
  echo "- BLAS behind libtorch and dlib: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
  echo "- packages: libtorch-dev $(version libtorch-dev), libdlib-dev $(version libdlib-dev), libeigen3-dev $(version libeigen3-dev), libbenchmark-dev $(version libbenchmark-dev)"
  echo "- load average (1, 5, 15 min) before the run: $load_before; after: $load_after"
  echo
  echo "Command: \`scripts/bench-compare.sh${*:+ $*}\` (runs \`$dir/bench/bench_compare${*:+ $*}\`)"
  echo
  cat "$tables"
} >"$report"
cat "$report"

if [[ $update -eq 1 ]]; then
  begin='<!-- bench-compare:begin -->'
  end='<!-- bench-compare:end -->'
  if ! grep -q "^$begin" BENCHMARKS.md || ! grep -q "^$end" BENCHMARKS.md; then
    echo "bench-compare: BENCHMARKS.md lacks the $begin / $end markers" >&2
    exit 1
  fi
  {
    sed "/^$begin/q" BENCHMARKS.md
    cat "$report"
    sed -n "/^$end/,\$p" BENCHMARKS.md
  } >BENCHMARKS.md.tmp
  mv BENCHMARKS.md.tmp BENCHMARKS.md
  echo "bench-compare: BENCHMARKS.md updated" >&2
fi
