// The machine's ceilings, in plain Eigen, over the same bytes and shapes as the workloads:
//  - memory bandwidth: a streaming y = a x + b over the 2^20 floats an activation reads and
//    writes (forward: read x, write y = 8 B/elem; forward+backward adds read g, read y, write
//    the input gradient = 20 B/elem), forward+backward also from memory (caches evicted before
//    every iteration, as for the activations timed that way);
//  - GEMM: the training step's matrix products alone (3 forward, 5 backward: no input gradient
//    for the first layer), at the step's shapes, with nothing else around them.
// Threads: the streaming kernel splits its range over OpenMP threads; products use
// Eigen::setNbThreads (effective when this file is compiled with OpenMP).
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "compare.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace compare {
namespace {

using Vec = Eigen::Array<float, Eigen::Dynamic, 1>;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Calls f(begin, end) on `threads` contiguous chunks of [0, n), 16-element aligned.
template <class F>
void split(int64_t n, int threads, F&& f) {
#ifdef _OPENMP
  if (threads > 1) {
    const int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int part = 0; part < threads; ++part) {
      const int64_t begin = std::min<int64_t>(n, part * chunk);
      const int64_t end = std::min<int64_t>(n, begin + chunk);
      if (begin < end) f(begin, end);
    }
    return;
  }
#endif
  (void)threads;
  f(int64_t{0}, n);
}

void set_threads(int threads) {
  Eigen::setNbThreads(threads);
}

Case bandwidth(const Inputs& in, bool backward, bool from_memory = false) {
  return with_caches(backward ? kBandwidthBackward : kBandwidthForward, from_memory,
                     [&in, backward, from_memory](benchmark::State& state, int threads) {
                       set_threads(threads);
                       const int64_t n = static_cast<int64_t>(in.x.size());
                       const Eigen::Map<const Vec> x(in.x.data(), n), g(in.g.data(), n);
                       Vec y(n), gx(n);
                       for (auto _ : state) {
                         eigrad::bench::start_iteration(state, from_memory);
                         split(n, threads, [&](int64_t b, int64_t e) {
                           y.segment(b, e - b) = 1.5f * x.segment(b, e - b) + 0.5f;
                         });
                         if (backward)
                           split(n, threads, [&](int64_t b, int64_t e) {
                             gx.segment(b, e - b) =
                                 1.5f * g.segment(b, e - b) + 0.25f * y.segment(b, e - b);
                           });
                         benchmark::DoNotOptimize(y.data());
                         benchmark::DoNotOptimize(gx.data());
                         benchmark::ClobberMemory();
                       }
                       state.SetBytesProcessed(state.iterations() * n * (backward ? 20 : 8));
                     });
}

// The products of one training step of an Mlp on a batch of `batch` rows, in eigrad's layout
// (row-major activations [batch, features], weights [out, in]).
struct MlpProducts {
  Mat x, w1, w2, w3, h1, h2, out, g3, g2, g1, dw1, dw2, dw3, da1, da2;
  MlpProducts(const Mlp& net, int64_t batch)
      : x(Mat::Random(batch, net.in)),
        w1(Mat::Random(net.hidden, net.in)),
        w2(Mat::Random(net.hidden, net.hidden)),
        w3(Mat::Random(net.out, net.hidden)),
        h1(batch, net.hidden),
        h2(batch, net.hidden),
        out(batch, net.out),
        g3(Mat::Random(batch, net.out)),
        g2(Mat::Random(batch, net.hidden)),
        g1(Mat::Random(batch, net.hidden)),
        dw1(net.hidden, net.in),
        dw2(net.hidden, net.hidden),
        dw3(net.out, net.hidden),
        da1(batch, net.hidden),
        da2(batch, net.hidden) {}
  void run() {
    h1.noalias() = x * w1.transpose();
    h2.noalias() = h1 * w2.transpose();
    out.noalias() = h2 * w3.transpose();
    dw3.noalias() = g3.transpose() * h2;
    da2.noalias() = g3 * w3;
    dw2.noalias() = g2.transpose() * h1;
    da1.noalias() = g2 * w2;
    dw1.noalias() = g1.transpose() * x;
    benchmark::DoNotOptimize(dw1.data());
    benchmark::ClobberMemory();
  }
};

Case gemm_step(const char* workload, Mlp net, int64_t batch) {
  return {workload, [net, batch](benchmark::State& state, int threads) {
            set_threads(threads);
            MlpProducts p(net, batch);
            for (auto _ : state) p.run();
          }};
}

Case gemm_epoch(const Inputs& in) {
  Case c{kFashionEpoch, [&in](benchmark::State& state, int threads) {
           set_threads(threads);
           const int64_t full = in.fashion_samples / kFashionBatch;
           const int64_t rest = in.fashion_samples % kFashionBatch;
           MlpProducts step(kFashionNet, kFashionBatch), last(kFashionNet, rest > 0 ? rest : 1);
           for (auto _ : state) {
             for (int64_t i = 0; i < full; ++i) step.run();
             if (rest > 0) last.run();
           }
         }};
  c.repetitions = 3;
  c.single_iteration = true;
  c.epoch = true;
  return c;
}

}  // namespace

Engine ceiling_engine(const Inputs& in) {
  Engine e;
  e.name = "ceiling";
  e.version = "(Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
              std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) + ")";
#ifdef _OPENMP
  e.threads = "OpenMP num_threads for the streaming kernel, Eigen::setNbThreads for products";
#else
  e.threads = "none (built without OpenMP: single-threaded)";
#endif
  e.cases.push_back(bandwidth(in, false));
  e.cases.push_back(bandwidth(in, true));
  e.cases.push_back(bandwidth(in, true, /*from_memory=*/true));
  e.cases.push_back(gemm_step(kSpiralStep, kSpiralNet, kSpiralPoints));
  e.cases.push_back(gemm_step(kFashionStep, kFashionNet, kFashionBatch));
  e.cases.push_back(gemm_epoch(in));
  return e;
}

}  // namespace compare
