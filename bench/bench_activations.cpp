// Times every activation of the catalogue, forward and forward+backward, on 2^20 float32 elements
// ([1024, 1024]; [256, 64, 64] with 64 channels for prelu; softmax along the last axis of
// [1024, 1024]), single-threaded, against the memory-bandwidth ceiling: a streaming kernel over the
// same bytes. Forward moves 8 bytes per element (read x, write y): its ceiling is y = a x + b.
// Forward+backward moves 20 (x, y, the seed g, the saved tensor, dx): its ceiling is y = a x + b
// followed by dx = c g + d y, the same two passes over the same bytes.
//
// Everything is timed twice:
//  - "from memory": the caches are evicted before every run (evict_caches.hpp), so operands come
//    from DRAM. This is the memory-bandwidth ceiling the target refers to.
//  - "cache-resident": runs follow one another, and the 8-12 MB of operands stay in this machine's
//    32 MB L3. The ceiling is then the L3's bandwidth, about three times memory's.
// Each ends with a table: time and ratio to the ceiling (target: at most 1.5).
//
// Also timed: softsign registered at run time by this program (register_activation), once with
// scalar callables and once with array callables, to show what a user's activation costs next to
// the built-in softsign; the 1.5x target is the built-ins'.
//
// Each benchmark is timed over 40 single runs (after a warm-up run) and the table takes the
// fastest: on a shared machine the mean mostly measures the other work. Google Benchmark's flags
// apply (--benchmark_filter=relu, ...).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "evict_caches.hpp"

namespace {

using eigrad::ActivationInfo;
using eigrad::ActivationKind;
using eigrad::Tensor;

constexpr int64_t kElements = int64_t(1) << 20;
constexpr int kRepetitions = 40;

// softsign as a program would register it: x / (1 + |x|), derivative 1 / (1 + |x|)^2.
void register_user_softsigns() {
  eigrad::ActivationDefinition scalar;
  scalar.name = "softsign_scalar";
  scalar.formula = "x / (1 + |x|), scalar callables";
  scalar.function = [](double x, const double*) { return x / (1 + std::fabs(x)); };
  scalar.derivative = [](double x, const double*) {
    const double d = 1 + std::fabs(x);
    return 1 / (d * d);
  };
  eigrad::register_activation(scalar);
  eigrad::ActivationDefinition array;
  array.name = "softsign_array";
  array.formula = "x / (1 + |x|), array callables";
  array.set_array_callables([](auto x, auto y, auto) { y = x / (x.abs() + 1); },
                            [](auto x, auto y, auto) { y = (x.abs() + 1).square().inverse(); });
  eigrad::register_activation(array);
}

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

// The ceilings: forward (y = a x + b) or forward+backward (then dx = c g + d y).
void ceiling(benchmark::State& state, bool backward, bool from_memory) {
  eigrad::Generator gen(1);
  const Tensor x = Tensor::uniform({kElements}, -4, 4, gen);
  const Tensor g = Tensor::uniform({kElements}, -1, 1, gen);
  Tensor y = Tensor::empty({kElements}), dx = Tensor::empty({kElements});
  const auto run = [&] {
    y.mutable_array() = x.array() * 1.5f + 0.25f;
    if (backward) dx.mutable_array() = g.array() * 1.5f + y.array() * 0.25f;
  };
  run();  // warm-up
  for (auto _ : state) {
    eigrad::bench::start_iteration(state, from_memory);
    run();
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
}

void forward(benchmark::State& state, const ActivationInfo* info, bool from_memory) {
  const Tensor x = input_for(*info);
  const Tensor slopes = Tensor::full({64}, 0.25f);
  apply(*info, x, slopes);  // warm-up: the allocator's heap grows once
  for (auto _ : state) {
    eigrad::bench::start_iteration(state, from_memory);
    Tensor y = apply(*info, x, slopes);
    benchmark::DoNotOptimize(y.data());
  }
}

// y = f(x); y.backward(g), with g preallocated (the engine reads it in place) and x's gradient
// dropped between runs so that accumulation is not measured.
void forward_backward(benchmark::State& state, const ActivationInfo* info, bool from_memory) {
  Tensor x = input_for(*info);
  x.set_requires_grad();
  Tensor slopes = Tensor::full({64}, 0.25f, /*requires_grad=*/true);
  eigrad::Generator gen(2);
  const Tensor g = Tensor::uniform(x.shape(), -1, 1, gen);
  apply(*info, x, slopes).backward(g);  // warm-up
  x.zero_grad();
  slopes.zero_grad();
  for (auto _ : state) {
    eigrad::bench::start_iteration(state, from_memory);
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

// Prints one table (one mode), marking the activations above 1.5x of their ceiling.
void table(const TableReporter& reporter, const std::string& mode, const char* title) {
  const auto fwd_ceiling = reporter.ms.find(mode + "ceiling/a*x+b");
  const auto fb_ceiling = reporter.ms.find(mode + "ceiling/a*x+b, c*g+d*y");
  if (fwd_ceiling == reporter.ms.end() || fb_ceiling == reporter.ms.end())
    return;  // filtered out: no table
  const double fc = fwd_ceiling->second, fbc = fb_ceiling->second;
  std::printf("\n%s: 2^20 float32 elements, single thread, fastest of %d runs\n", title,
              kRepetitions);
  std::printf(
      "ceilings: y = a x + b %.3f ms (8 B/element, %.1f GB/s); then dx = c g + d y: %.3f ms "
      "(20 B/element, %.1f GB/s)\n\n",
      fc, kElements * 8 / (fc * 1e6), fbc, kElements * 20 / (fbc * 1e6));
  std::printf("%-16s %10s %8s %18s %8s\n", "activation", "forward ms", "ratio", "fwd+bwd ms",
              "ratio");
  bool all_within = true;
  int rows = 0;
  for (const ActivationInfo& info : eigrad::activation_catalogue()) {
    const auto f = reporter.ms.find(mode + "forward/" + info.name);
    const auto fb = reporter.ms.find(mode + "forward+backward/" + info.name);
    if (f == reporter.ms.end() || fb == reporter.ms.end()) continue;
    ++rows;
    const double rf = f->second / fc, rfb = fb->second / fbc;
    const bool within = rf <= 1.5 && rfb <= 1.5;
    all_within = all_within && (within || info.registered());
    std::printf("%-16s %10.3f %7.2fx %18.3f %7.2fx%s\n", info.name.c_str(), f->second, rf,
                fb->second, rfb,
                info.registered() ? "  (registered)"
                : within          ? ""
                                  : "  > 1.5x");
  }
  if (rows)
    std::printf("\n%s\n", all_within
                              ? "every built-in activation within 1.5x of the ceiling"
                              : "some built-in activations exceed 1.5x of the ceiling (marked)");
}

}  // namespace

int main(int argc, char** argv) {
  eigrad::set_num_threads(1);  // single thread, like the ceiling it is compared with
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_user_softsigns();
  for (const bool from_memory : {true, false}) {
    const std::string mode = from_memory ? "from-memory/" : "cache-resident/";
    configure(benchmark::RegisterBenchmark((mode + "ceiling/a*x+b").c_str(), ceiling, false,
                                           from_memory));
    configure(benchmark::RegisterBenchmark((mode + "ceiling/a*x+b, c*g+d*y").c_str(), ceiling, true,
                                           from_memory));
    for (const ActivationInfo& info : eigrad::activation_catalogue()) {
      configure(benchmark::RegisterBenchmark((mode + "forward/" + info.name).c_str(), forward,
                                             &info, from_memory));
      configure(benchmark::RegisterBenchmark((mode + "forward+backward/" + info.name).c_str(),
                                             forward_backward, &info, from_memory));
    }
  }
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  table(reporter, "from-memory/", "From memory (caches evicted before every run)");
  table(reporter, "cache-resident/", "Cache-resident (operands left in the L3 by the last run)");
  return 0;
}
