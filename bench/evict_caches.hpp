#pragma once
// Timing "from memory": evict_caches() reads a 256 MiB buffer so that the next kernel finds its
// operands in DRAM, not in a cache. Without it, a benchmark that runs the same 2^20-float kernel
// over and over keeps its 8-12 MB of operands in this machine's 32 MB L3, and measures the L3's
// bandwidth (about 100 GB/s on one core here) instead of memory's (about 31 GB/s).
//
// Why 256 MiB: streaming y = a x + b over 2^20 floats after reading 16, 32, 64, 128, 256, 512 and
// 1024 MiB took (median of 25) 0.17, 0.20, 0.23, 0.27, 0.32, 0.31 and 0.30 ms here: the time stops
// growing at 128 MiB. The read costs about 12 ms; callers leave it out of the timing
// (Google Benchmark's PauseTiming / ResumeTiming).
//
// Reading, not writing: a write would leave the caches full of dirty lines, whose write-back the
// timed kernel would then pay.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace eigrad::bench {

inline constexpr size_t kEvictBytes = size_t(256) << 20;

inline void evict_caches() {
  static const std::vector<uint64_t> buffer(kEvictBytes / sizeof(uint64_t), 1);
  uint64_t sum = 0;
  for (size_t i = 0; i < buffer.size(); i += 64 / sizeof(uint64_t)) sum += buffer[i];
  benchmark::DoNotOptimize(sum);
}

// At the top of a timed loop's body: evicts the caches, untimed, when `from_memory`.
inline void start_iteration(benchmark::State& state, bool from_memory) {
  if (!from_memory) return;
  state.PauseTiming();
  evict_caches();
  state.ResumeTiming();
}

}  // namespace eigrad::bench
