#!/usr/bin/env bash
# The comparison: installs what is missing (libtorch, dlib and Google Benchmark included), builds
# bench_compare in Release and runs it; prints the machine, the command and the tables.
#   scripts/bench-compare.sh [bench_compare options]    e.g. --benchmark_filter=-epoch
#   scripts/bench-compare.sh --update [options]         also rewrites BENCHMARKS.md's results
# The report is also written to build/bench/compare.md. BUILD_DIR overrides build/, JOBS the
# number of compile jobs (default: nproc).
# The peers run on OpenBLAS, as a user who cares about speed runs them: the script stops when
# libblas.so.3 resolves to another BLAS (EIGRAD_ALLOW_OTHER_BLAS=1 times them anyway, for a
# secondary table), and it times each OpenBLAS core type this CPU can run (its own detection,
# which in 0.3.21 falls back to Prescott on CPUs it does not know, and Haswell, Zen, SkylakeX,
# Cooperlake as the CPU's flags allow) and keeps the fastest, whatever OPENBLAS_CORETYPE the
# environment holds; the report says which and the probe's figures.
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

blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ "$blas" != *openblas* && "${EIGRAD_ALLOW_OTHER_BLAS:-0}" != 1 ]]; then
  echo "bench-compare: libblas.so.3 resolves to '${blas:-nothing}', not OpenBLAS, so libtorch and" \
    "dlib would run their products on it. Point it at OpenBLAS:" \
    "sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu" \
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" \
    "(or set EIGRAD_ALLOW_OTHER_BLAS=1 to time them on it anyway)" >&2
  exit 1
fi
openblas_core="not OpenBLAS"
if [[ "$blas" == *openblas* ]]; then
  # The peers get OpenBLAS's fastest kernels for this CPU, whatever OPENBLAS_CORETYPE the
  # environment holds: each core type the CPU can run is timed once on a 1024^3 float product at
  # 1 thread through libtorch (bench_compare --blas-probe), and the fastest is kept.
  # EIGRAD_PEERS_CORETYPE=NAME skips the probe and uses NAME.
  preset=${OPENBLAS_CORETYPE:-}
  has() { grep -q -w "$1" /proc/cpuinfo; }
  candidates=(detected)
  if has avx2 && has fma; then candidates+=(Haswell Zen); fi
  if has avx512f && has avx512bw && has avx512vl && has avx512dq; then candidates+=(SkylakeX); fi
  if has avx512_bf16; then candidates+=(Cooperlake); fi
  detected=$(env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 "$dir/bench/bench_compare" --help 2>&1 |
    sed -n 's/^Core: //p' | head -1)
  if [[ -n "${EIGRAD_PEERS_CORETYPE:-}" ]]; then
    export OPENBLAS_CORETYPE=$EIGRAD_PEERS_CORETYPE
    openblas_core="$OPENBLAS_CORETYPE, set with EIGRAD_PEERS_CORETYPE (not probed)"
  else
    best="" best_rate=0 probes=""
    for c in "${candidates[@]}"; do
      if [[ $c == detected ]]; then
        rate=$(env -u OPENBLAS_CORETYPE "$dir/bench/bench_compare" --blas-probe 2>/dev/null || true)
        name="${detected:-?} (its own detection)"
      else
        rate=$(OPENBLAS_CORETYPE=$c "$dir/bench/bench_compare" --blas-probe 2>/dev/null || true)
        name=$c
      fi
      [[ "$rate" =~ ^[0-9.]+$ ]] || continue  # a kernel this CPU cannot run, or no libtorch
      probes+="${probes:+, }$name $rate"
      if awk -v a="$rate" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then
        best=$c best_rate=$rate
      fi
    done
    if [[ -z "$best" ]]; then
      openblas_core="${detected:-unknown} (OpenBLAS's own detection; the probe did not run)"
      unset OPENBLAS_CORETYPE
    elif [[ $best == detected ]]; then
      unset OPENBLAS_CORETYPE
      openblas_core="${detected:-unknown}, OpenBLAS's own detection, the fastest probed"
    else
      export OPENBLAS_CORETYPE=$best
      openblas_core="$best, forced with OPENBLAS_CORETYPE=$best, the fastest probed"
    fi
    openblas_core+=" (GF/s of a 1024^3 float product at 1 thread: $probes)"
  fi
  if [[ -n "$preset" && "$preset" != "${OPENBLAS_CORETYPE:-}" ]]; then
    openblas_core+="; the environment's OPENBLAS_CORETYPE=$preset was not used"
  fi
fi

tables=$(mktemp)
trap 'rm -f "$tables"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v load="${load_before%% *}" -v cores="$(nproc)" 'BEGIN { exit !(load > cores / 2) }'; then
  echo "bench-compare: warning: the machine is busy (load average $load_before on $(nproc) cores);" \
    "expect noisy figures, multi-threaded ones above all" >&2
fi
"$dir/bench/bench_compare" --isolate --memory --markdown="$tables" "$@" >/dev/null
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
  echo "- BLAS behind libtorch and dlib: ${blas:-unknown}; OpenBLAS kernels: $openblas_core; its threads pinned to each case's thread count (the engines' lines below)"
  echo "- packages: libtorch-dev $(version libtorch-dev), libdlib-dev $(version libdlib-dev), libeigen3-dev $(version libeigen3-dev), libbenchmark-dev $(version libbenchmark-dev)"
  echo "- load average (1, 5, 15 min) before the run: $load_before; after: $load_after"
  echo
  echo "Command: \`scripts/bench-compare.sh${*:+ $*}\` (runs \`$dir/bench/bench_compare --isolate --memory${*:+ $*}\`${OPENBLAS_CORETYPE:+ with OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE})"
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
