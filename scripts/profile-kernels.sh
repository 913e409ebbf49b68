#!/usr/bin/env bash
# Instruction profile of every activation kernel: runs bench_kernels under callgrind and prints,
# per catalogue entry, the instructions executed per 16 float32 elements by its forward and its
# backward kernel (operands in L1), beside the streaming kernel y = a x + b.
#
# valgrind 3.19 (Debian 12) cannot execute AVX-512, so the profile is taken from a build for
# x86-64-v3 (AVX2 + FMA: 8 floats per vector) in build-prof/; the AVX-512 build runs about half as
# many vector instructions. Counts are exact and repeatable, unlike times on a shared machine.
#   scripts/profile-kernels.sh          BUILD_DIR overrides build-prof/
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build-prof}
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || {
  echo "profile-kernels: needs valgrind (apt-get install valgrind)" >&2
  exit 1
}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DEIGRAD_NATIVE=OFF \
  -DCMAKE_CXX_FLAGS="-march=x86-64-v3" -DEIGRAD_BUILD_TESTS=OFF -DEIGRAD_BUILD_EXAMPLES=OFF \
  -DEIGRAD_BENCH_COMPARE_PEERS=OFF >/dev/null
cmake --build "$dir" --target bench_kernels -j"${JOBS:-$(nproc)}" >/dev/null
repeats=10
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$dir/bench/bench_kernels" --samples=1 \
  --repeats=$repeats >/dev/null 2>&1
# Each kernel is one std::function called `repeats` times; its inclusive count over that. 512 and
# 1024 are bench_kernels' block (kBlock) and softmax row (kRow).
callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | awk -v repeats=$repeats '
  /_M_invoke/ && /main(\(int, char\*\*\))?::\{lambda\(\)#1\}>/ {
    gsub(",", "", $1); stream = $1 / repeats / (512 / 16)
  }
  /_M_invoke/ && /add<eigrad::catalogue::/ {
    gsub(",", "", $1)
    match($0, /catalogue::[A-Za-z0-9]+/); name = substr($0, RSTART + 11, RLENGTH - 11)
    match($0, /\{lambda\(\)#[12]\}>::_M_invoke/); which = substr($0, RSTART + 10, 1)
    n = (name == "Softmax" || name == "LogSoftmax") ? 1024 : 512
    ir[name, which] = $1 / repeats / (n / 16)
    if (!(name in seen)) { seen[name] = 1; order[++count] = name }
  }
  END {
    printf "instructions per 16 float32 elements, x86-64-v3 build, operands in L1 (callgrind)\n"
    printf "y = a x + b: %.1f\n\n| kernel | forward | backward |\n|---|---:|---:|\n", stream
    for (i = 1; i <= count; ++i)
      printf "| %s | %.1f | %.1f |\n", order[i], ir[order[i], 1], ir[order[i], 2]
  }'
