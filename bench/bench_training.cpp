// One training step (zero_grad, forward, cross_entropy, backward, SGD with momentum), single
// threaded, for the two networks of the examples, next to the same matrix products alone (the
// GEMM ceiling: what the step would cost if nothing but its products took time).
//   spiral:         300 points, 2-64-PReLU-64-PReLU-3           target <= 0.25 ms
//   Fashion-MNIST:  batch of 128, 784-256-PReLU-256-PReLU-10    target <= 3.5 ms
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <memory>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/nn/activation.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/nn/loss.hpp"
#include "eigrad/nn/sequential.hpp"
#include "eigrad/optim/sgd.hpp"
#include "eigrad/parallel.hpp"

namespace {

using eigrad::Generator;
using eigrad::Tensor;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;

struct Problem {
  int64_t batch, in, hidden, classes;
};
const Problem kSpiral{300, 2, 64, 3};
const Problem kFashion{128, 784, 256, 10};

struct Training {
  std::shared_ptr<nn::Sequential> net;
  std::unique_ptr<optim::SGD> opt;
  Tensor x;
  std::vector<int64_t> labels;

  explicit Training(const Problem& p) {
    Generator gen(0);
    net = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(p.in, p.hidden, gen),
                                           std::make_shared<nn::PReLU>(p.hidden),
                                           std::make_shared<nn::Linear>(p.hidden, p.hidden, gen),
                                           std::make_shared<nn::PReLU>(p.hidden),
                                           std::make_shared<nn::Linear>(p.hidden, p.classes, gen));
    opt = std::make_unique<optim::SGD>(net->parameters(), optim::SGDOptions(0.01).momentum(0.9));
    x = Tensor::uniform({p.batch, p.in}, -1, 1, gen);
    for (int64_t i = 0; i < p.batch; ++i)
      labels.push_back(static_cast<int64_t>(gen.randint(static_cast<uint64_t>(p.classes))));
  }

  float step() {
    opt->zero_grad();
    const Tensor loss = nn::cross_entropy(net->forward(x), labels);
    loss.backward();
    opt->step();
    return loss.item();
  }
};

void training_step(benchmark::State& state, const Problem& p) {
  Training t(p);
  for (int i = 0; i < 3; ++i) t.step();  // momentum buffers and heap in their steady state
  for (auto _ : state) benchmark::DoNotOptimize(t.step());
}

// The products of one step: forward x W^T per layer, dW = g^T x per layer, dx = g W for the
// layers whose input needs a gradient (not the first).
void gemm_ceiling(benchmark::State& state, const Problem& p) {
  using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const std::vector<std::pair<int64_t, int64_t>> layers{
      {p.in, p.hidden}, {p.hidden, p.hidden}, {p.hidden, p.classes}};
  std::vector<M> x, w, y, gw, gx;
  for (const auto& [in, out] : layers) {
    x.push_back(M::Random(p.batch, in));
    w.push_back(M::Random(out, in));
    y.push_back(M(p.batch, out));
    gw.push_back(M(out, in));
    gx.push_back(M(p.batch, in));
  }
  for (auto _ : state) {
    for (size_t l = 0; l < layers.size(); ++l) y[l].noalias() = x[l] * w[l].transpose();
    for (size_t l = layers.size(); l-- > 0;) {
      gw[l].noalias() = y[l].transpose() * x[l];
      if (l > 0) gx[l].noalias() = y[l] * w[l];
    }
    benchmark::DoNotOptimize(gw[0].data());
    benchmark::ClobberMemory();
  }
}

}  // namespace

BENCHMARK_CAPTURE(training_step, spiral_2_64_64_3, kSpiral)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gemm_ceiling, spiral_2_64_64_3, kSpiral)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(training_step, fashion_784_256_256_10, kFashion)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gemm_ceiling, fashion_784_256_256_10, kFashion)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  // Single-threaded: eigrad's kernels and products, and the ceiling's Eigen products (eigrad
  // leaves Eigen's own thread count to the program).
  eigrad::set_num_threads(1);
  Eigen::setNbThreads(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
