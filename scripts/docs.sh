#!/usr/bin/env bash
# The API reference: Doxygen over the public headers (include/eigrad) into build/docs/api, or the
# directory given; open <dir>/html/index.html. Fails on any Doxygen warning.
#   scripts/docs.sh [output-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || scripts/install-deps.sh --docs
out="${1:-build/docs/api}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log="$out/warnings.log"
rm -f "$log"
# The Doxyfile reads the output directory and the warnings log from the environment.
status=0
EIGRAD_DOCS_OUT="$out" EIGRAD_DOCS_WARNINGS="$log" EIGRAD_VERSION="$(sed -n \
  's/^project(eigrad VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" doxygen docs/Doxyfile || status=$?
if [[ $status -ne 0 || -s "$log" ]]; then
  cat "$log" >&2
  echo "eigrad: doxygen exited with $status and wrote $(grep -c . "$log" || true) warning line(s) (above)" >&2
  exit 1
fi
echo "eigrad: API reference in $out/html/index.html"
