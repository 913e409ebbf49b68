// Per-op overhead: 100 chained elementwise ops on a 2x2 tensor, forward plus backward.
// The tensors are tiny, so the time is the engine's bookkeeping: node creation, output
// allocation, topological ordering and gradient accumulation.
#include <benchmark/benchmark.h>

#include "eigrad/eigrad.hpp"

namespace {

using eigrad::Tensor;

// The chain the comparison harness reproduces in other engines: 25 rounds of
// y = ((y * w) + b) * 0.9 - 0.1, then sum(y).backward().
Tensor chain(const Tensor& x, const Tensor& w, const Tensor& b) {
  Tensor y = x;
  for (int i = 0; i < 25; ++i) {
    y = y * w;
    y = y + b;
    y = y * 0.9f;
    y = y - 0.1f;
  }
  return y;
}

void BM_Chain100_ForwardBackward(benchmark::State& state) {
  Tensor x = Tensor::from({0.5f, -0.25f, 1.0f, 2.0f}, {2, 2}, true);
  Tensor w = Tensor::from({1.01f, 0.99f, 1.0f, 0.98f}, {2, 2}, true);
  Tensor b = Tensor::from({0.1f, 0.2f, -0.1f, 0.0f}, {2, 2}, true);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    Tensor loss = eigrad::sum(chain(x, w, b));
    loss.backward();
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.counters["ns/op"] = benchmark::Counter(
      100, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Chain100_ForwardBackward)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true);

void BM_Chain100_ForwardOnly_NoGrad(benchmark::State& state) {
  Tensor x = Tensor::from({0.5f, -0.25f, 1.0f, 2.0f}, {2, 2});
  Tensor w = Tensor::from({1.01f, 0.99f, 1.0f, 0.98f}, {2, 2});
  Tensor b = Tensor::from({0.1f, 0.2f, -0.1f, 0.0f}, {2, 2});
  for (auto _ : state) benchmark::DoNotOptimize(chain(x, w, b).data());
}
BENCHMARK(BM_Chain100_ForwardOnly_NoGrad)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
