// Times every activation of the catalogue, forward and forward+backward, on 2^20 float32 elements
// ([1024, 1024]; [256, 64, 64] with 64 channels for prelu; softmax along the last axis of
// [1024, 1024]), single-threaded, against a streaming kernel y = a x + b over the same data: the
// memory-bandwidth ceiling. Forward moves 8 bytes per element, forward+backward 20 (x, y, the
// seed g, the saved tensor, dx), so their ceilings are 1x and 2.5x the streaming time.
// Ends with a table: time and ratio to the ceiling (target: at most 1.5).
//
// Each benchmark is timed over 40 single runs (after a warm-up run) and the table takes the
// fastest: on a shared machine the mean mostly measures the other work. Google Benchmark's flags
// apply (--benchmark_filter=relu, ...).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"

namespace {

using eigrad::ActivationInfo;
using eigrad::ActivationKind;
using eigrad::Tensor;

constexpr int64_t kElements = int64_t(1) << 20;
constexpr int kRepetitions = 40;

double fastest(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

eigrad::Shape shape_for(const ActivationInfo& info) {
  return info.kind == ActivationKind::PerChannel ? eigrad::Shape{256, 64, 64}
                                                 : eigrad::Shape{1024, 1024};
}

Tensor input_for(const ActivationInfo& info) {
  eigrad::Generator gen(1);
  return Tensor::uniform(shape_for(info), -4, 4, gen);
}

Tensor apply(const ActivationInfo& info, const Tensor& x, const Tensor& slopes) {
  return info.kind == ActivationKind::PerChannel ? info.apply(x, slopes) : info.apply(x);
}

void ceiling(benchmark::State& state) {
  eigrad::Generator gen(1);
  const Tensor x = Tensor::uniform({kElements}, -4, 4, gen);
  Tensor y = Tensor::empty({kElements});
  const float a = 1.5f, b = 0.25f;
  y.array() = x.array() * a + b;  // warm-up
  for (auto _ : state) {
    y.array() = x.array() * a + b;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void forward(benchmark::State& state, const ActivationInfo* info) {
  const Tensor x = input_for(*info);
  const Tensor slopes = Tensor::full({64}, 0.25f);
  apply(*info, x, slopes);  // warm-up: the allocator's heap grows once
  for (auto _ : state) {
    Tensor y = apply(*info, x, slopes);
    benchmark::DoNotOptimize(y.data());
  }
}

// y = f(x); y.backward(g), with g preallocated (the engine reads it in place) and x's gradient
// dropped between runs so that accumulation is not measured.
void forward_backward(benchmark::State& state, const ActivationInfo* info) {
  Tensor x = input_for(*info);
  x.set_requires_grad();
  Tensor slopes = Tensor::full({64}, 0.25f, /*requires_grad=*/true);
  eigrad::Generator gen(2);
  const Tensor g = Tensor::uniform(x.shape(), -1, 1, gen);
  apply(*info, x, slopes).backward(g);  // warm-up
  x.zero_grad();
  slopes.zero_grad();
  for (auto _ : state) {
    Tensor y = apply(*info, x, slopes);
    y.backward(g);
    benchmark::DoNotOptimize(x.grad().data());
    x.zero_grad();
    slopes.zero_grad();
  }
}

// Keeps the fastest repetition of each benchmark for the table, and prints as usual.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ms;  // benchmark name -> fastest time in ms
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs)
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "min")
        ms[run.run_name.function_name] = run.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
};

benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b) {
  return b->Unit(benchmark::kMillisecond)
      ->Iterations(1)
      ->Repetitions(kRepetitions)
      ->ReportAggregatesOnly(true)
      ->ComputeStatistics("min", fastest)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  eigrad::set_num_threads(1);  // single thread, like the ceiling it is compared with
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  configure(benchmark::RegisterBenchmark("ceiling/a*x+b", ceiling));
  for (const ActivationInfo& info : eigrad::activation_catalogue()) {
    configure(benchmark::RegisterBenchmark(("forward/" + info.name).c_str(), forward, &info));
    configure(benchmark::RegisterBenchmark(("forward+backward/" + info.name).c_str(),
                                           forward_backward, &info));
  }
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const auto ceiling_ms = reporter.ms.find("ceiling/a*x+b");
  if (ceiling_ms == reporter.ms.end()) return 0;  // filtered out: no table
  const double fwd_ceiling = ceiling_ms->second, fb_ceiling = 2.5 * ceiling_ms->second;
  std::printf("\n2^20 float32 elements, single thread, fastest of %d runs\n", kRepetitions);
  std::printf(
      "ceiling y = a x + b: %.3f ms forward (8 B/element, %.1f GB/s), %.3f ms "
      "forward+backward (20 B/element)\n\n",
      fwd_ceiling, kElements * 8 / (fwd_ceiling * 1e6), fb_ceiling);
  std::printf("%-14s %12s %8s %18s %8s\n", "activation", "forward ms", "ratio", "fwd+bwd ms",
              "ratio");
  bool all_within = true;
  int rows = 0;
  for (const ActivationInfo& info : eigrad::activation_catalogue()) {
    const auto f = reporter.ms.find("forward/" + info.name);
    const auto fb = reporter.ms.find("forward+backward/" + info.name);
    if (f == reporter.ms.end() || fb == reporter.ms.end()) continue;
    ++rows;
    const double rf = f->second / fwd_ceiling, rfb = fb->second / fb_ceiling;
    all_within = all_within && rf <= 1.5 && rfb <= 1.5;
    std::printf("%-14s %12.3f %7.2fx %18.3f %7.2fx%s\n", info.name.c_str(), f->second, rf,
                fb->second, rfb, rf <= 1.5 && rfb <= 1.5 ? "" : "  > 1.5x");
  }
  if (rows)
    std::printf("\n%s\n", all_within ? "every activation within 1.5x of the ceiling"
                                     : "some activations exceed 1.5x of the ceiling (marked)");
  return 0;
}
