#!/usr/bin/env bash
# The README's first command: installs what is missing, builds in Release what the main demo
# needs (the library and the demo, not the tests and benchmarks: scripts/test.sh builds those in
# the same build/ directory), and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --demo
# shellcheck disable=SC2086
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${EIGRAD_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)" --target train_spiral
exec build/examples/train_spiral "$@"
