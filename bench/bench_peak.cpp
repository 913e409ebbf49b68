// The machine's own limits, measured on the machine of the run (never a constant): the core's
// fused multiply-add peak in float32 and float64, and its streaming bandwidth. BENCHMARKS.md
// states each training workload's achieved GF/s as a share of the FMA peak measured here.
//
//   build/bench/bench_peak [--benchmark_repetitions=5]
//
// FMA peak: kChains independent chains of a = a * b + c on SIMD registers of Eigen's widest packet
// (512-bit with AVX-512, 256-bit with AVX2), enough chains to cover the FMA latency on both ports.
// FLOPS counts each multiply-add as 2 flops. At 2 threads each thread runs its own chains.
// Bandwidth: over 256 MiB (beyond any cache), "read" sums an array (4 B/element), "triad" writes
// y = 1.5 x + 0.5 (8 B/element, the streaming ceiling's kernel in bench_compare); at 2 threads
// each thread takes half the range.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;
constexpr int64_t kFmaIterations = 1 << 22;

template <class T>
T fma_chains(int64_t iterations) {
  using Packet = typename Eigen::internal::packet_traits<T>::type;
  namespace ei = Eigen::internal;
  const Packet b = ei::pset1<Packet>(T(0.999999)), c = ei::pset1<Packet>(T(1e-7));
  Packet a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = ei::pset1<Packet>(T(i));
  for (int64_t k = 0; k < iterations; ++k) {
    // Unrolled by hand so that the chains stay in registers.
    a[0] = ei::pmadd(a[0], b, c);
    a[1] = ei::pmadd(a[1], b, c);
    a[2] = ei::pmadd(a[2], b, c);
    a[3] = ei::pmadd(a[3], b, c);
    a[4] = ei::pmadd(a[4], b, c);
    a[5] = ei::pmadd(a[5], b, c);
    a[6] = ei::pmadd(a[6], b, c);
    a[7] = ei::pmadd(a[7], b, c);
    a[8] = ei::pmadd(a[8], b, c);
    a[9] = ei::pmadd(a[9], b, c);
    a[10] = ei::pmadd(a[10], b, c);
    a[11] = ei::pmadd(a[11], b, c);
  }
  Packet s = a[0];
  for (int i = 1; i < kChains; ++i) s = ei::padd(s, a[i]);
  return ei::predux(s);
}

// Runs f(part) on `threads` threads (part 0 on this one) and waits for all.
template <class F>
void on_threads(int threads, F&& f) {
  std::vector<std::thread> pool;
  for (int part = 1; part < threads; ++part) pool.emplace_back(f, part);
  f(0);
  for (std::thread& t : pool) t.join();
}

template <class T>
void fma_peak(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int lanes = Eigen::internal::packet_traits<T>::size;
  std::vector<T> sink(static_cast<size_t>(threads));
  for (auto _ : state) {
    on_threads(threads,
               [&](int part) { sink[static_cast<size_t>(part)] = fma_chains<T>(kFmaIterations); });
    benchmark::DoNotOptimize(sink.data());
  }
  const double flops = 2.0 * kChains * lanes * static_cast<double>(kFmaIterations) * threads;
  state.counters["FLOPS"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(lanes * static_cast<int>(sizeof(T)) * 8) + "-bit packets, " +
                 std::to_string(kChains) + " chains");
}

constexpr int64_t kStreamElements = int64_t{1} << 26;  // 256 MiB of float

using Array = Eigen::Array<float, Eigen::Dynamic, 1>;

template <class F>
void split(int threads, F&& f) {
  const int64_t chunk = (kStreamElements / threads + 15) / 16 * 16;
  on_threads(threads, [&](int part) {
    const int64_t begin = std::min(kStreamElements, part * chunk);
    const int64_t end = std::min(kStreamElements, begin + chunk);
    if (begin < end) f(part, begin, end - begin);
  });
}

void stream_read(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const Array x = Array::Constant(kStreamElements, 1.0f);
  std::vector<float> sums(static_cast<size_t>(threads));
  for (auto _ : state) {
    split(threads, [&](int part, int64_t begin, int64_t n) {
      sums[static_cast<size_t>(part)] = x.segment(begin, n).sum();
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(state.iterations() * 4 * kStreamElements);
}

void stream_triad(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const Array x = Array::Constant(kStreamElements, 1.0f);
  Array y = Array::Zero(kStreamElements);
  for (auto _ : state) {
    split(threads, [&](int, int64_t begin, int64_t n) {
      y.segment(begin, n) = 1.5f * x.segment(begin, n) + 0.5f;
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 8 * kStreamElements);
}

}  // namespace

BENCHMARK(fma_peak<float>)->Name("fma peak float32")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(fma_peak<double>)->Name("fma peak float64")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(stream_read)->Name("stream read (4 B/element)")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(stream_triad)->Name("stream triad (8 B/element)")->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
