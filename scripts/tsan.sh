#!/usr/bin/env bash
# The threaded tests under ThreadSanitizer: builds the test suite with -fsanitize=thread in
# build-tsan/ and runs every test tagged [threads]. OpenMP is off there: libgomp is not built
# with TSan, so its internal synchronisation would be reported as races.
# EIGRAD_CMAKE_ARGS adds CMake options (CI passes -DEIGRAD_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-tsan
# shellcheck disable=SC2086
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DEIGRAD_OPENMP=OFF \
  -DEIGRAD_BUILD_EXAMPLES=OFF -DEIGRAD_BUILD_BENCH=OFF ${EIGRAD_CMAKE_ARGS:-} >/dev/null
cmake --build "$dir" -j"$(nproc)" --target eigrad_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  "$dir/tests/eigrad_tests" "[threads]"
