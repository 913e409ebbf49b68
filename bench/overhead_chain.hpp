#pragma once
// The per-op overhead chain, shared by bench_overhead and the comparison harness (which builds
// the same chain in libtorch): 25 rounds of y = ((y * w) + b) * 0.9 - 0.1 = 100 elementwise ops.
// The caller takes sum(y).backward().
#include "eigrad/ops.hpp"

namespace eigrad::bench {

inline Tensor overhead_chain(const Tensor& x, const Tensor& w, const Tensor& b) {
  Tensor y = x;
  for (int i = 0; i < 25; ++i) {
    y = y * w;
    y = y + b;
    y = y * 0.9f;
    y = y - 0.1f;
  }
  return y;
}

}  // namespace eigrad::bench
