// Threads against one thread: elementwise kernels, activations, reductions and a matrix product on
// float32 tensors of 2^10 to 2^22 elements, each timed with eigrad::set_num_threads(1) and with
// every core. Below eigrad's threshold (kParallelThreshold, 2^18 elements) a kernel stays on the
// calling thread, so the two should agree there; from it on the work is split across threads. Ends
// with a table: time at 1 thread, at N threads, and the speed-up (target: at least 1.6 at 2^22
// elements with 2 cores, and never below 1 on small tensors, within the timing noise).
//
// Every (workload, size, threads) case is timed in 15 repetitions, run in random order across
// cases so that drift on a shared machine hits both thread counts alike; the table takes the
// fastest repetition (time per iteration). Google Benchmark's flags apply
// (--benchmark_filter=sum, --benchmark_repetitions=31, ...).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/parallel.hpp"

namespace {

using eigrad::Tensor;

constexpr int kMinLog2 = 10, kMaxLog2 = 22;

double fastest(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

// A workload: runs once per iteration on prepared inputs of n elements.
struct Workload {
  const char* name;
  std::function<std::function<void()>(int64_t n)> prepare;
};

Tensor uniform(int64_t n, uint64_t seed, bool requires_grad = false) {
  eigrad::Generator gen(seed);
  Tensor t = Tensor::uniform({n}, -4, 4, gen);
  if (requires_grad) t.set_requires_grad();
  return t;
}

// f(x).backward(g), x's gradient dropped after each run so that accumulation is not timed.
std::function<void()> forward_backward(int64_t n, Tensor (*f)(const Tensor&)) {
  Tensor x = uniform(n, 1, true);
  const Tensor g = uniform(n, 2);
  return [x, g, f]() mutable {
    f(x).backward(g);
    benchmark::DoNotOptimize(x.grad().data());
    x.zero_grad();
  };
}

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all = {
      {"add",
       [](int64_t n) -> std::function<void()> {
         const Tensor a = uniform(n, 1), b = uniform(n, 2);
         return [a, b] { benchmark::DoNotOptimize((a + b).data()); };
       }},
      {"mul+scalar",
       [](int64_t n) -> std::function<void()> {
         const Tensor a = uniform(n, 1), b = uniform(n, 2);
         return [a, b] { benchmark::DoNotOptimize((a * b * 0.5f).data()); };
       }},
      {"exp",
       [](int64_t n) -> std::function<void()> {
         const Tensor a = uniform(n, 1);
         return [a] { benchmark::DoNotOptimize(eigrad::exp(a).data()); };
       }},
      {"sum",
       [](int64_t n) -> std::function<void()> {
         const Tensor a = uniform(n, 1);
         return [a] { benchmark::DoNotOptimize(eigrad::sum(a).item()); };
       }},
      {"relu fwd+bwd",
       [](int64_t n) {
         return forward_backward(n, [](const Tensor& x) { return eigrad::relu(x); });
       }},
      {"sigmoid fwd+bwd",
       [](int64_t n) {
         return forward_backward(n, [](const Tensor& x) { return eigrad::sigmoid(x); });
       }},
      {"tanh fwd+bwd",
       [](int64_t n) {
         return forward_backward(n, [](const Tensor& x) { return eigrad::tanh(x); });
       }},
      // A layer's product at batch 128: [128, n / 128] x [n / 128, 128], 2 x 128 n flops,
      // from 0.26 to 1070 MFLOP; eigrad splits it above kGemmFlopsPerThread (2^21) per thread.
      {"matmul [128,k]x[k,128]",
       [](int64_t n) -> std::function<void()> {
         eigrad::Generator gen(1);
         const int64_t k = std::max<int64_t>(n / 128, 1);
         const Tensor a = Tensor::uniform({128, k}, -1, 1, gen),
                      b = Tensor::uniform({k, 128}, -1, 1, gen);
         return [a, b] { benchmark::DoNotOptimize(eigrad::matmul(a, b).data()); };
       }},
      {"softmax fwd (rows of 1024)",
       [](int64_t n) -> std::function<void()> {
         eigrad::Generator gen(1);
         const Tensor a = Tensor::uniform(
             {std::max<int64_t>(n / 1024, 1), std::min<int64_t>(n, 1024)}, -4, 4, gen);
         return [a] { benchmark::DoNotOptimize(eigrad::softmax(a).data()); };
       }},
  };
  return all;
}

void run(benchmark::State& state, const Workload* w, int64_t n, int threads) {
  eigrad::set_num_threads(threads);
  const std::function<void()> once = w->prepare(n);
  once();  // warm-up: buffers are allocated and faulted in once
  for (auto _ : state) once();
  state.SetItemsProcessed(state.iterations() * n);
}

std::string case_name(const Workload& w, int log2n, int threads) {
  return std::string(w.name) + "/2^" + std::to_string(log2n) +
         "/threads:" + std::to_string(threads);
}

// Keeps the fastest repetition of each case for the table, and prints as usual.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> us;  // case name -> fastest time per iteration in µs
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs)
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "min")
        us[run.run_name.function_name] = run.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<char*> args(argv, argv + argc);
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave.data());
  int nargs = static_cast<int>(args.size());
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;
  for (const Workload& w : workloads())
    for (int log2n = kMinLog2; log2n <= kMaxLog2; log2n += 2)
      for (int threads : {1, cores}) {
        benchmark::RegisterBenchmark(case_name(w, log2n, threads).c_str(), run, &w,
                                     int64_t{1} << log2n, threads)
            ->Unit(benchmark::kMicrosecond)
            ->MinTime(0.02)
            ->Repetitions(15)
            ->ReportAggregatesOnly(true)
            ->ComputeStatistics("min", fastest)
            ->UseRealTime();
        if (cores == 1) break;
      }
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  eigrad::set_num_threads(cores);

  std::printf("\nfloat32, 1 thread against %d, fastest of the repetitions (µs per call)\n\n",
              cores);
  std::printf("%-28s %8s %12s %12s %9s\n", "workload", "elements", "1 thread", "all threads",
              "speed-up");
  for (const Workload& w : workloads())
    for (int log2n = kMinLog2; log2n <= kMaxLog2; log2n += 2) {
      const auto one = reporter.us.find(case_name(w, log2n, 1));
      const auto all = reporter.us.find(case_name(w, log2n, cores));
      if (one == reporter.us.end() || all == reporter.us.end()) continue;
      const double speedup = one->second / all->second;
      const char* mark = log2n == kMaxLog2 && speedup < 1.6 ? "  < 1.6 at 2^22"
                         : speedup < 0.95                   ? "  slower with threads"
                                                            : "";
      std::printf("%-28s %6s%-2d %12.2f %12.2f %8.2fx%s\n", w.name, "2^", log2n, one->second,
                  all->second, speedup, mark);
    }
  return 0;
}
