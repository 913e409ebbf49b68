#!/usr/bin/env bash
# The README's second command: builds and runs the whole test suite.
#   scripts/test.sh              Release build in build/, every test
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
# EIGRAD_CMAKE_ARGS adds CMake options (CI passes -DEIGRAD_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dir=build
args=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  # -O1 keeps the sanitized suite quick; NDEBUG stays off so Eigen's own asserts run too.
  args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DEIGRAD_SANITIZE=ON
        -DEIGRAD_BUILD_BENCH=OFF)
  # allocator_may_return_null: a failed allocation reaches eigrad as it would without the
  # sanitizer (a null from malloc, which eigrad turns into an eigrad::Error), not as an abort.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
# A new build directory uses Ninja, as scripts/demo.sh does; an existing one keeps its generator.
[[ -f "$dir/CMakeCache.txt" ]] || args+=(-G Ninja)
# shellcheck disable=SC2086
cmake -S . -B "$dir" "${args[@]}" ${EIGRAD_CMAKE_ARGS:-}
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
