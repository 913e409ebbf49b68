#!/usr/bin/env bash
# The README's first command: installs what is missing, builds in Release what the main demo
# needs (the library and the demo, not the tests and benchmarks: scripts/test.sh builds those in
# the same build/ directory), and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --demo
# A new build directory uses Ninja (it schedules the two cores better than make); an existing one
# keeps its generator.
generator=()
[[ -f build/CMakeCache.txt ]] || generator=(-G Ninja)
# shellcheck disable=SC2086
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${EIGRAD_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)" --target train_spiral
exec build/examples/train_spiral "$@"
