#pragma once
// How eigrad's kernels split their work across threads (private: OpenMP stays inside the
// library). The thread count is eigrad::num_threads() (eigrad/parallel.hpp).
#include <cstdint>

#include "eigrad/eigen.hpp"
#include "eigrad/parallel.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace eigrad {

// Below this many elements a kernel runs on one thread: under it, starting a second thread costs
// the cheap kernels (a sum, an add) more than it saves (bench/bench_threads; the figures are in
// BENCHMARKS.md, "Figures behind the code").
constexpr int64_t kParallelThreshold = int64_t{1} << 18;

// Calls f(begin, end) over [0, n) in contiguous chunks, in parallel when the work (by default n
// elements) is large enough.
template <class F>
void parallel_for(int64_t n, F&& f, int64_t work = -1) {
#ifdef _OPENMP
  const int threads = (work < 0 ? n : work) >= kParallelThreshold && n > 1 ? num_threads() : 1;
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      const int64_t parts = omp_get_num_threads(), id = omp_get_thread_num();
      // Chunks aligned to 16 elements keep each thread's vector loads aligned.
      const int64_t split = (n + parts - 1) / parts;
      const int64_t chunk = work < 0 ? (split + 15) / 16 * 16 : split;
      const int64_t begin = id * chunk < n ? id * chunk : n;
      const int64_t end = begin + chunk < n ? begin + chunk : n;
      if (begin < end) f(begin, end);
    }
    return;
  }
#else
  (void)work;
#endif
  f(int64_t{0}, n);
}

// dst = expr, element by element, split across threads for large arrays. `dst` is resized.
template <class T, class Expr>
void assign(Eigen::Array<T, Eigen::Dynamic, 1>& dst, const Expr& expr) {
  dst.resize(expr.size());
  parallel_for(expr.size(),
               [&](int64_t b, int64_t e) { dst.segment(b, e - b) = expr.segment(b, e - b); });
}

// dst += expr, split across threads for large arrays.
template <class T, class Expr>
void add_assign(Eigen::Array<T, Eigen::Dynamic, 1>& dst, const Expr& expr) {
  parallel_for(expr.size(),
               [&](int64_t b, int64_t e) { dst.segment(b, e - b) += expr.segment(b, e - b); });
}

// The sum of all elements, with per-thread partial sums for large arrays.
template <class T>
T parallel_sum(const Eigen::Array<T, Eigen::Dynamic, 1>& x) {
  constexpr int kMaxParts = 256;
  T partial[kMaxParts] = {};
  const int64_t n = x.size();
  const int64_t parts =
      n >= kParallelThreshold ? (num_threads() < kMaxParts ? num_threads() : kMaxParts) : 1;
  const int64_t chunk = (n + parts - 1) / parts;
  parallel_for(
      parts,
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          const int64_t lo = p * chunk < n ? p * chunk : n, hi = lo + chunk < n ? lo + chunk : n;
          partial[p] = x.segment(lo, hi - lo).sum();
        }
      },
      n);
  T total = 0;
  for (int64_t p = 0; p < parts; ++p) total += partial[p];
  return total;
}

}  // namespace eigrad
