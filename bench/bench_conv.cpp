// Convolution and pooling of the Fashion-MNIST CNN of issue 12, batch 128, at 1 and 2 threads
// (the argument), next to the same matrix products alone in plain Eigen (the ceiling):
//   conv1  1 -> 32, 3 x 3, padding 1 on [128, 1, 28, 28]
//   conv2 32 -> 64, 3 x 3, padding 1 on [128, 32, 14, 14]
//   max_pool2d 2 x 2 on [128, 32, 28, 28] and [128, 64, 14, 14], on its fast path and the general
//   the whole training step: conv1 - PReLU - pool - conv2 - PReLU - pool - linear(3136 -> 128) -
//   PReLU - linear(128 -> 10), cross-entropy, SGD with momentum.  target <= 40 ms on 1 thread,
//   <= 25 ms on 2, within 1.3x of its products alone
// GF/s counts the products' multiply-adds as 2 flops each.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <memory>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/backends.hpp"
#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/loss.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/optim/sgd.hpp"
#include "parallel_for.hpp"

namespace {

using eigrad::Generator;
using eigrad::Tensor;

constexpr int64_t kBatch = 128;

struct Conv {
  int64_t c, o, hw;  // in channels, out channels, plane size (3 x 3 kernel, padding 1: same size)
  bool input_grad;   // whether the backward computes the input's gradient
  int64_t k() const { return c * 9; }
  int64_t plane() const { return hw * hw; }
  double flops() const { return 2.0 * kBatch * o * k() * plane(); }
};
const Conv kConv1{1, 32, 28, false};
const Conv kConv2{32, 64, 14, true};

void set_threads(benchmark::State& state) {
  eigrad::set_num_threads(static_cast<int>(state.range(0)));
}

void gflops(benchmark::State& state, double flops) {
  state.counters["GF/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void conv_forward(benchmark::State& state, const Conv& c) {
  set_threads(state);
  Generator gen(0);
  const Tensor x = Tensor::uniform({kBatch, c.c, c.hw, c.hw}, -1, 1, gen);
  const Tensor w = Tensor::uniform({c.o, c.c, 3, 3}, -0.3f, 0.3f, gen);
  const Tensor b = Tensor::uniform({c.o}, -0.3f, 0.3f, gen);
  for (auto _ : state) benchmark::DoNotOptimize(eigrad::conv2d(x, w, b, 1, 1).data());
  gflops(state, c.flops());
}

void conv_forward_backward(benchmark::State& state, const Conv& c) {
  set_threads(state);
  Generator gen(0);
  Tensor x = Tensor::uniform({kBatch, c.c, c.hw, c.hw}, -1, 1, gen);
  if (c.input_grad) x.set_requires_grad();
  Tensor w = Tensor::uniform({c.o, c.c, 3, 3}, -0.3f, 0.3f, gen).set_requires_grad();
  Tensor b = Tensor::uniform({c.o}, -0.3f, 0.3f, gen).set_requires_grad();
  const Tensor g = Tensor::uniform({kBatch, c.o, c.hw, c.hw}, -1, 1, gen);
  for (auto _ : state) {
    w.zero_grad();
    b.zero_grad();
    x.zero_grad();
    eigrad::conv2d(x, w, b, 1, 1).backward(g);
    benchmark::DoNotOptimize(w.grad().data());
  }
  gflops(state, c.flops() * (c.input_grad ? 3 : 2));
}

// Max pooling 2 x 2, stride 2, on its fast path (`fast`) or the general one
// (eigrad::set_fast_paths). Bytes: the least the op must move, per input element: forward reads
// x (4 B) and writes y and the argmax (8 B per output, an output per 4 inputs): 6 B; backward
// reads the gradient and the argmax (2 B) and writes the input's gradient (4 B): 12 B in all.
// Compare with bench_peak's streaming bandwidth.
void max_pool_forward_backward(benchmark::State& state, int64_t channels, int64_t hw, bool fast) {
  set_threads(state);
  eigrad::set_fast_paths(fast);
  Generator gen(0);
  Tensor x = Tensor::uniform({kBatch, channels, hw, hw}, -1, 1, gen).set_requires_grad();
  const Tensor g = Tensor::uniform({kBatch, channels, hw / 2, hw / 2}, -1, 1, gen);
  for (auto _ : state) {
    x.zero_grad();
    eigrad::max_pool2d(x, 2).backward(g);
    benchmark::DoNotOptimize(x.grad().data());
  }
  eigrad::set_fast_paths(true);
  state.SetBytesProcessed(state.iterations() * x.numel() * 12);
}

void max_pool_forward(benchmark::State& state, int64_t channels, int64_t hw, bool fast) {
  set_threads(state);
  eigrad::set_fast_paths(fast);
  Generator gen(0);
  const Tensor x = Tensor::uniform({kBatch, channels, hw, hw}, -1, 1, gen);
  for (auto _ : state) benchmark::DoNotOptimize(eigrad::max_pool2d(x, 2).data());
  eigrad::set_fast_paths(true);
  state.SetBytesProcessed(state.iterations() * x.numel() * 6);
}

// ---- the ceiling: the same products in plain Eigen, split across the threads by columns of
// the result (or by the inner dimension, with partial sums, when it is the largest).
using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Product {
  M a, b, c;  // c = a * b
  std::vector<M> partial;
  Product(int64_t m, int64_t k, int64_t n) : a(M::Random(m, k)), b(M::Random(k, n)), c(m, n) {}
  double flops() const { return 2.0 * a.rows() * a.cols() * b.cols(); }
  void run(int threads) {
    const int64_t m = a.rows(), k = a.cols(), n = b.cols();
    if (threads == 1) {
      c.noalias() = a * b;
    } else if (k > n && k > m) {
      partial.resize(static_cast<size_t>(threads), M(m, n));
      eigrad::parallel_for(
          threads,
          [&](int64_t begin, int64_t end) {
            for (int64_t t = begin; t < end; ++t) {
              const int64_t lo = k * t / threads, hi = k * (t + 1) / threads;
              partial[static_cast<size_t>(t)].noalias() =
                  a.middleCols(lo, hi - lo) * b.middleRows(lo, hi - lo);
            }
          },
          int64_t{1} << 40);
      c = partial[0];
      for (int t = 1; t < threads; ++t) c += partial[static_cast<size_t>(t)];
    } else {
      eigrad::parallel_for(
          threads,
          [&](int64_t begin, int64_t end) {
            for (int64_t t = begin; t < end; ++t) {
              const int64_t lo = n * t / threads, hi = n * (t + 1) / threads;
              c.middleCols(lo, hi - lo).noalias() = a * b.middleCols(lo, hi - lo);
            }
          },
          int64_t{1} << 40);
    }
  }
};

// A convolution's products as im2col would give them, all samples at once: forward
// W [O, K] x cols [K, N HW], weight gradient dY [O, N HW] x cols^T, input gradient W^T x dY.
std::vector<Product> conv_products(const Conv& c, bool backward) {
  const int64_t cols = kBatch * c.plane();
  std::vector<Product> p;
  p.emplace_back(c.o, c.k(), cols);
  if (backward) {
    p.emplace_back(c.o, cols, c.k());
    if (c.input_grad) p.emplace_back(c.k(), c.o, cols);
  }
  return p;
}

// A linear layer's products: y = x W^T, dW = g^T x, and dx = g W when the input needs it.
void linear_products(std::vector<Product>& p, int64_t in, int64_t out, bool input_grad) {
  p.emplace_back(kBatch, in, out);
  p.emplace_back(out, kBatch, in);
  if (input_grad) p.emplace_back(kBatch, out, in);
}

void products(benchmark::State& state, std::vector<Product> p) {
  const int threads = static_cast<int>(state.range(0));
  eigrad::set_num_threads(threads);
  // Eigen's own threading off: in a program built with OpenMP, Eigen's products use every core
  // unless told otherwise, which made the "1 thread" figure here a 2-thread one (33 ms against
  // 44-48 ms on one core for the cnn's products). Product::run splits by hand.
  Eigen::setNbThreads(1);
  double flops = 0;
  for (const Product& q : p) flops += q.flops();
  for (auto _ : state) {
    for (Product& q : p) q.run(threads);
    benchmark::DoNotOptimize(p.back().c.data());
    benchmark::ClobberMemory();
  }
  gflops(state, flops);
}

void conv_products_alone(benchmark::State& state, const Conv& c, bool backward) {
  products(state, conv_products(c, backward));
}

std::vector<Product> cnn_products() {
  std::vector<Product> p = conv_products(kConv1, true);
  for (Product& q : conv_products(kConv2, true)) p.push_back(std::move(q));
  linear_products(p, 3136, 128, true);
  linear_products(p, 128, 10, true);
  return p;
}

void cnn_products_alone(benchmark::State& state) {
  products(state, cnn_products());
}

// ---- Winograd's products for conv2's forward (the transforms not included): F(m x m, 3 x 3)
// turns the 3 x 3 convolution into (m + 2)^2 products of the transformed weight [O, C] by the
// transformed input tiles [C, tiles], tiles = ceil(14 / m)^2 per sample, with 2.25x (m = 2) or
// 4x (m = 4) fewer multiplications than im2col's product. Batch-wide: one product per tap over
// every sample's tiles; per sample: (m + 2)^2 products on one sample's tiles, in buffers that stay
// in cache, the samples split over the threads. Compare with conv_products_alone/conv2_forward.
int64_t winograd_taps(int64_t m) {
  return (m + 2) * (m + 2);
}
int64_t winograd_tiles(int64_t m) {
  const int64_t side = (kConv2.hw + m - 1) / m;
  return side * side;
}

void winograd_products_batch(benchmark::State& state, int64_t m) {
  std::vector<Product> p;
  for (int64_t t = 0; t < winograd_taps(m); ++t)
    p.emplace_back(kConv2.o, kConv2.c, kBatch * winograd_tiles(m));
  products(state, std::move(p));
}

void winograd_products_per_sample(benchmark::State& state, int64_t m) {
  const int threads = static_cast<int>(state.range(0));
  eigrad::set_num_threads(threads);
  Eigen::setNbThreads(1);
  const int64_t taps = winograd_taps(m), tiles = winograd_tiles(m);
  std::vector<M> u;  // the transformed weights, shared by the samples
  for (int64_t t = 0; t < taps; ++t) u.push_back(M::Random(kConv2.o, kConv2.c));
  struct Scratch {
    std::vector<M> v, y;
  };
  std::vector<Scratch> scratch(static_cast<size_t>(threads));
  for (Scratch& s : scratch)
    for (int64_t t = 0; t < taps; ++t) {
      s.v.push_back(M::Random(kConv2.c, tiles));
      s.y.emplace_back(kConv2.o, tiles);
    }
  for (auto _ : state) {
    eigrad::parallel_for(
        threads,
        [&](int64_t begin, int64_t end) {
          for (int64_t part = begin; part < end; ++part) {
            Scratch& s = scratch[static_cast<size_t>(part)];
            for (int64_t n = kBatch * part / threads; n < kBatch * (part + 1) / threads; ++n)
              for (int64_t t = 0; t < taps; ++t)
                s.y[static_cast<size_t>(t)].noalias() =
                    u[static_cast<size_t>(t)] * s.v[static_cast<size_t>(t)];
          }
        },
        int64_t{1} << 40);
    benchmark::DoNotOptimize(scratch[0].y[0].data());
    benchmark::ClobberMemory();
  }
  gflops(state, 2.0 * kBatch * taps * kConv2.o * kConv2.c * tiles);
}

// ---- the whole training step, from the functional ops.
struct Cnn {
  std::vector<Tensor> params;
  std::unique_ptr<eigrad::optim::SGD> opt;
  Tensor x;
  std::vector<int64_t> labels;

  Cnn() {
    Generator gen(0);
    auto param = [&](const eigrad::Shape& shape, float bound) {
      params.push_back(Tensor::uniform(shape, -bound, bound, gen).set_requires_grad());
      return params.back();
    };
    param({32, 1, 3, 3}, 1.0f / 3);
    param({32}, 1.0f / 3);
    params.push_back(Tensor::full({32}, 0.25f, true));
    param({64, 32, 3, 3}, 0.06f);
    param({64}, 0.06f);
    params.push_back(Tensor::full({64}, 0.25f, true));
    param({128, 3136}, 0.018f);
    param({128}, 0.018f);
    params.push_back(Tensor::full({128}, 0.25f, true));
    param({10, 128}, 0.088f);
    param({10}, 0.088f);
    opt =
        std::make_unique<eigrad::optim::SGD>(params, eigrad::optim::SGDOptions(0.01).momentum(0.9));
    x = Tensor::uniform({kBatch, 1, 28, 28}, 0, 1, gen);
    for (int64_t i = 0; i < kBatch; ++i) labels.push_back(static_cast<int64_t>(gen.randint(10)));
  }

  float step() {
    const std::vector<Tensor>& p = params;
    opt->zero_grad();
    Tensor h = eigrad::max_pool2d(eigrad::prelu(eigrad::conv2d(x, p[0], p[1], 1, 1), p[2]), 2);
    h = eigrad::max_pool2d(eigrad::prelu(eigrad::conv2d(h, p[3], p[4], 1, 1), p[5]), 2);
    h = eigrad::prelu(eigrad::nn::linear(eigrad::flatten(h, 1), p[6], p[7]), p[8]);
    const Tensor loss = eigrad::nn::cross_entropy(eigrad::nn::linear(h, p[9], p[10]), labels);
    loss.backward();
    opt->step();
    return loss.item();
  }
};

void cnn_step(benchmark::State& state) {
  set_threads(state);
  Cnn cnn;
  for (int i = 0; i < 2; ++i) cnn.step();
  for (auto _ : state) benchmark::DoNotOptimize(cnn.step());
  double flops = 0;
  for (const Product& q : cnn_products()) flops += q.flops();
  gflops(state, flops);
}

}  // namespace

#define EIGRAD_THREADS ->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()

BENCHMARK_CAPTURE(conv_forward, conv1_1_32_28x28, kConv1) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_products_alone, conv1_forward, kConv1, false) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_forward_backward, conv1_1_32_28x28, kConv1) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_products_alone, conv1_forward_backward, kConv1, true) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_forward, conv2_32_64_14x14, kConv2) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_products_alone, conv2_forward, kConv2, false) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_forward_backward, conv2_32_64_14x14, kConv2) EIGRAD_THREADS;
BENCHMARK_CAPTURE(conv_products_alone, conv2_forward_backward, kConv2, true) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward, 32x28x28, 32, 28, true) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward, 32x28x28_general, 32, 28, false) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward_backward, 32x28x28, 32, 28, true) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward_backward, 32x28x28_general, 32, 28, false) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward, 64x14x14, 64, 14, true) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward, 64x14x14_general, 64, 14, false) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward_backward, 64x14x14, 64, 14, true) EIGRAD_THREADS;
BENCHMARK_CAPTURE(max_pool_forward_backward, 64x14x14_general, 64, 14, false) EIGRAD_THREADS;
BENCHMARK_CAPTURE(winograd_products_batch, conv2_forward_f2x2, 2) EIGRAD_THREADS;
BENCHMARK_CAPTURE(winograd_products_per_sample, conv2_forward_f2x2, 2) EIGRAD_THREADS;
BENCHMARK_CAPTURE(winograd_products_batch, conv2_forward_f4x4, 4) EIGRAD_THREADS;
BENCHMARK_CAPTURE(winograd_products_per_sample, conv2_forward_f4x4, 4) EIGRAD_THREADS;
BENCHMARK(cnn_step) EIGRAD_THREADS;
BENCHMARK(cnn_products_alone) EIGRAD_THREADS;

BENCHMARK_MAIN();
