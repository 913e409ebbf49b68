#!/usr/bin/env bash
# The README's first command: installs what is missing, builds in Release, runs the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${EIGRAD_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)"
if [[ -x build/examples/train_spiral ]]; then
  exec build/examples/train_spiral "$@"
else
  exec build/examples/autograd_demo "$@"
fi
