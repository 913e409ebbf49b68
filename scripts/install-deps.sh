#!/usr/bin/env bash
# Installs, through apt-get, the Debian 12 packages eigrad needs that are not installed yet.
# Usage: scripts/install-deps.sh [--demo] [--peers] [--fuzz] [--docs]
#   (default: everything the tests and examples use, Fashion-MNIST and the word lists of
#   examples/word_language.cpp included)
#   --demo  only what the README's first command needs (configure, the library, the demo)
#   --peers adds libtorch, dlib and OpenBLAS for the comparison (Debian then points libblas.so.3,
#   the BLAS behind libtorch's and dlib's products, at OpenBLAS), --fuzz clang and libFuzzer for
#   fuzz/, --docs Doxygen for the API reference (scripts/docs.sh; with the LLVM libraries it needs,
#   45 MB to download and 215 MB installed, so it is not installed by default).
set -euo pipefail
demo=(build-essential cmake ninja-build pkg-config libeigen3-dev catch2 zlib1g-dev
  nlohmann-json3-dev libstb-dev libcli11-dev)
packages=("${demo[@]}" libbenchmark-dev dataset-fashion-mnist
  wamerican wngerman wfrench wspanish witalian wportuguese wdutch wswedish)
for option in "$@"; do
  case "$option" in
    --demo) packages=("${demo[@]}") ;;
    --peers) packages+=(libtorch-dev libdlib-dev libopenblas-dev) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --docs) packages+=(doxygen) ;;
    *) echo "scripts/install-deps.sh: unknown option $option (--demo, --peers, --fuzz, --docs)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "eigrad: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "eigrad: run as root or install sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
