#pragma once
// Timing "from memory": evict_caches() reads a 256 MiB buffer so that the next kernel finds its
// operands in DRAM, not in a cache. Without it, a benchmark that runs the same 2^20-float kernel
// over and over keeps its 8-12 MB of operands in the L3, and measures the L3's bandwidth instead
// of memory's. 256 MiB is past the size from which a kernel's time after the read stops growing
// (BENCHMARKS.md, "Figures behind the code"). Callers leave the read out of the timing (Google
// Benchmark's PauseTiming / ResumeTiming).
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
