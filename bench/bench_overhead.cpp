// Per-op overhead: 100 chained elementwise ops on a 2x2 tensor, forward plus backward.
// The tensors are tiny, so the time is the engine's bookkeeping: node creation, output
// allocation, topological ordering and gradient accumulation.
#include <benchmark/benchmark.h>

#include "eigrad/eigrad.hpp"
#include "overhead_chain.hpp"

namespace {

using eigrad::Tensor;

using eigrad::bench::overhead_chain;

void BM_Chain100_ForwardBackward(benchmark::State& state) {
  Tensor x = Tensor::from({0.5f, -0.25f, 1.0f, 2.0f}, {2, 2}, true);
  Tensor w = Tensor::from({1.01f, 0.99f, 1.0f, 0.98f}, {2, 2}, true);
  Tensor b = Tensor::from({0.1f, 0.2f, -0.1f, 0.0f}, {2, 2}, true);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    Tensor loss = eigrad::sum(overhead_chain(x, w, b));
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

// The same in anomaly mode: each op also captures its call stack and checks its output, each
// gradient is checked.
void BM_Chain100_ForwardBackward_Anomaly(benchmark::State& state) {
  eigrad::DetectAnomalyGuard anomaly;
  BM_Chain100_ForwardBackward(state);
}
BENCHMARK(BM_Chain100_ForwardBackward_Anomaly)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true);

void BM_Chain100_ForwardOnly_NoGrad(benchmark::State& state) {
  Tensor x = Tensor::from({0.5f, -0.25f, 1.0f, 2.0f}, {2, 2});
  Tensor w = Tensor::from({1.01f, 0.99f, 1.0f, 0.98f}, {2, 2});
  Tensor b = Tensor::from({0.1f, 0.2f, -0.1f, 0.0f}, {2, 2});
  for (auto _ : state) benchmark::DoNotOptimize(overhead_chain(x, w, b).data());
}
BENCHMARK(BM_Chain100_ForwardOnly_NoGrad)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
