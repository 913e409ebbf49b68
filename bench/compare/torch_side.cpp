// libtorch's side of the comparison (Debian's libtorch 1.13, CPU). What each workload times,
// mirroring eigrad_side.cpp:
//  - "<act> fwd": y = torch::<act>(x) under torch::NoGradGuard.
//  - "<act> fwd+bwd": x (and prelu's weight) require grad; their gradients are dropped
//    (grad reset to an undefined tensor), then y = act(x); y.backward(g).
//  - the overhead chain: the same 100 ops on 2x2 tensors, then sum().backward().
//  - a training step: optimizer.zero_grad(), forward through torch::nn::Sequential(Linear,
//    PReLU(hidden), Linear, PReLU(hidden), Linear), cross_entropy (mean), backward,
//    torch::optim::SGD step (momentum 0.9), on a prepared batch.
//  - an epoch: the same permutation as eigrad's, then per minibatch: index_select of rows and
//    labels, and the training step.
//  - the cnn steps: the same step through torch::nn::Sequential(Conv2d, [BatchNorm2d], PReLU,
//    MaxPool2d, Conv2d, [BatchNorm2d], PReLU, MaxPool2d, Flatten, Linear, PReLU, Linear) on
//    [128, 1, 28, 28] (compare.hpp's kCnn*); the convolutions run in oneDNN.
// Threads: torch::set_num_threads (intra-op OpenMP) and, since Debian's libtorch does its matrix
// products in the system BLAS and does not forward the count to it, openblas_set_num_threads to
// the same count (compare.hpp's set_blas_threads).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "compare.hpp"

namespace compare {
namespace {

namespace F = torch::nn::functional;
using torch::Tensor;

void set_threads(int threads) {
  torch::set_num_threads(threads);
  const int blas = set_blas_threads(threads);
  static std::set<int> said;  // once per count: the driver's stderr, not the timed loop
  if (said.insert(threads).second)
    std::fprintf(stderr, "bench_compare: libtorch at %d thread(s): torch %d, OpenBLAS %d\n",
                 threads, torch::get_num_threads(), blas);
}

// Wraps read-only data without copying (from_blob needs a non-const pointer; nothing writes).
Tensor wrap(const std::vector<float>& v, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32);
}
Tensor wrap(const std::vector<int64_t>& v, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), shape, torch::kInt64);
}

// eigrad catalogue names (and aliases) -> PyTorch 1.13 functions with the same defaults.
using Activation = std::function<Tensor(const Tensor& x, const Tensor& weight)>;
const std::map<std::string, Activation>& activations() {
  static const std::map<std::string, Activation> table = {
      {"sigmoid", [](const Tensor& x, const Tensor&) { return torch::sigmoid(x); }},
      {"hard_sigmoid", [](const Tensor& x, const Tensor&) { return torch::hardsigmoid(x); }},
      {"hardsigmoid", [](const Tensor& x, const Tensor&) { return torch::hardsigmoid(x); }},
      {"tanh", [](const Tensor& x, const Tensor&) { return torch::tanh(x); }},
      {"relu", [](const Tensor& x, const Tensor&) { return torch::relu(x); }},
      {"relu6", [](const Tensor& x, const Tensor&) { return F::relu6(x); }},
      {"leaky_relu", [](const Tensor& x, const Tensor&) { return torch::leaky_relu(x, 0.01); }},
      {"elu", [](const Tensor& x, const Tensor&) { return torch::elu(x); }},
      {"selu", [](const Tensor& x, const Tensor&) { return torch::selu(x); }},
      {"celu", [](const Tensor& x, const Tensor&) { return torch::celu(x); }},
      {"gelu", [](const Tensor& x, const Tensor&) { return torch::gelu(x); }},
      {"gelu_tanh", [](const Tensor& x, const Tensor&) { return torch::gelu(x, "tanh"); }},
      {"softplus", [](const Tensor& x, const Tensor&) { return torch::softplus(x, 1, 20); }},
      {"softsign", [](const Tensor& x, const Tensor&) { return F::softsign(x); }},
      {"swish", [](const Tensor& x, const Tensor&) { return torch::silu(x); }},
      {"silu", [](const Tensor& x, const Tensor&) { return torch::silu(x); }},
      {"hardswish", [](const Tensor& x, const Tensor&) { return torch::hardswish(x); }},
      {"mish", [](const Tensor& x, const Tensor&) { return torch::mish(x); }},
      {"softmax", [](const Tensor& x, const Tensor&) { return torch::softmax(x, -1); }},
      {"log_softmax", [](const Tensor& x, const Tensor&) { return torch::log_softmax(x, -1); }},
      {"prelu", [](const Tensor& x, const Tensor& w) { return torch::prelu(x, w); }},
  };
  return table;
}

std::vector<int64_t> activation_shape(const std::string& name) {
  if (name == "prelu") return {kPReLUShape[0], kPReLUShape[1], kPReLUShape[2]};
  return {kActivationRows, kActivationCols};
}

void activation_cases(const Inputs& in, std::vector<Case>& cases) {
  for (const std::string& name : in.activations) {
    const auto found = activations().find(name);
    if (found == activations().end()) continue;
    const Activation* act = &found->second;
    const std::vector<int64_t> shape = activation_shape(name);
    cases.push_back({forward_id(name), [&in, act, shape](benchmark::State& state, int threads) {
                       set_threads(threads);
                       const Tensor x = wrap(in.x, shape).clone();
                       const Tensor weight = torch::full({kPReLUShape[1]}, 0.25f);
                       torch::NoGradGuard no_grad;
                       for (auto _ : state) {
                         Tensor y = (*act)(x, weight);
                         benchmark::DoNotOptimize(y.data_ptr());
                       }
                     }});
    for (const bool from_memory : {false, true}) {
      cases.push_back(
          with_caches(backward_id(name), from_memory,
                      [&in, act, shape, from_memory](benchmark::State& state, int threads) {
                        set_threads(threads);
                        Tensor x = wrap(in.x, shape).clone().requires_grad_(true);
                        const Tensor g = wrap(in.g, shape).clone();
                        Tensor weight = torch::full({kPReLUShape[1]}, 0.25f).requires_grad_(true);
                        for (auto _ : state) {
                          eigrad::bench::start_iteration(state, from_memory);
                          x.mutable_grad().reset();
                          weight.mutable_grad().reset();
                          (*act)(x, weight).backward(g);
                          benchmark::DoNotOptimize(x.grad().data_ptr());
                        }
                      }));
    }
  }
}

bool evaluate(const std::string& name, const std::vector<float>& x, const std::vector<float>& g,
              std::vector<float>& y, std::vector<float>& gx) {
  const auto found = activations().find(name);
  if (found == activations().end()) return false;
  const std::vector<int64_t> shape = check_shape(name);
  Tensor xt = wrap(x, shape).clone().requires_grad_(true);
  const Tensor weight = torch::full({kPReLUShape[1]}, 0.25f).requires_grad_(true);
  const Tensor yt = found->second(xt, weight);
  yt.backward(wrap(g, shape).clone());
  const Tensor yc = yt.detach().contiguous(), gc = xt.grad().contiguous();
  y.assign(yc.data_ptr<float>(), yc.data_ptr<float>() + yc.numel());
  gx.assign(gc.data_ptr<float>(), gc.data_ptr<float>() + gc.numel());
  return true;
}

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

Case overhead_chain() {
  return {kChain, [](benchmark::State& state, int threads) {
            set_threads(threads);
            Tensor x = torch::tensor({0.5f, -0.25f, 1.0f, 2.0f}).reshape({2, 2}).requires_grad_();
            Tensor w = torch::tensor({1.01f, 0.99f, 1.0f, 0.98f}).reshape({2, 2}).requires_grad_();
            Tensor b = torch::tensor({0.1f, 0.2f, -0.1f, 0.0f}).reshape({2, 2}).requires_grad_();
            for (auto _ : state) {
              x.mutable_grad().reset();
              w.mutable_grad().reset();
              b.mutable_grad().reset();
              chain(x, w, b).sum().backward();
              benchmark::DoNotOptimize(x.grad().data_ptr());
            }
          }};
}

struct Model {
  torch::nn::Sequential net;
  torch::optim::SGD sgd;

  explicit Model(const Mlp& mlp) : net(make_net(mlp)), sgd(net->parameters(), options(mlp)) {}
  void step(const Tensor& x, const Tensor& y) {
    sgd.zero_grad();
    F::cross_entropy(net->forward(x), y).backward();
    sgd.step();
  }
  void penalised_step(const Tensor& x, const Tensor& y) {
    sgd.zero_grad();
    Tensor loss = F::cross_entropy(net->forward(x), y);
    const Tensor gx = torch::autograd::grad({loss}, {x}, {}, /*retain_graph=*/true,
                                            /*create_graph=*/true)[0];
    (loss + kPenalty * gx.pow(2).sum()).backward();
    sgd.step();
  }

 private:
  static torch::nn::Sequential make_net(const Mlp& mlp) {
    torch::manual_seed(1);
    using torch::nn::Linear;
    using torch::nn::PReLU;
    using torch::nn::PReLUOptions;
    return torch::nn::Sequential(
        Linear(mlp.in, mlp.hidden), PReLU(PReLUOptions().num_parameters(mlp.hidden)),
        Linear(mlp.hidden, mlp.hidden), PReLU(PReLUOptions().num_parameters(mlp.hidden)),
        Linear(mlp.hidden, mlp.out));
  }
  static torch::optim::SGDOptions options(const Mlp& mlp) {
    return torch::optim::SGDOptions(mlp.lr).momentum(kMomentum);
  }
};

Case training_step(const char* workload, Mlp mlp, const std::vector<float>& x,
                   const std::vector<int64_t>& y, int64_t batch) {
  return {workload, [mlp, &x, &y, batch](benchmark::State& state, int threads) {
            set_threads(threads);
            Model model(mlp);
            const Tensor xb = wrap(x, {batch, mlp.in}).clone();
            const Tensor yb = wrap(y, {batch}).clone();
            for (int i = 0; i < kWarmupSteps; ++i) model.step(xb, yb);
            for (auto _ : state) model.step(xb, yb);
          }};
}

Case penalised_step(const Inputs& in) {
  return {kFashionPenaltyStep, [&in](benchmark::State& state, int threads) {
            set_threads(threads);
            Model model(kFashionNet);
            const Tensor xb =
                wrap(in.fashion_x, {kFashionBatch, kFashionNet.in}).clone().requires_grad_();
            const Tensor yb = wrap(in.fashion_y, {kFashionBatch}).clone();
            for (int i = 0; i < kWarmupSteps; ++i) model.penalised_step(xb, yb);
            for (auto _ : state) model.penalised_step(xb, yb);
          }};
}

Case training_epoch(const Inputs& in) {
  Case c{kFashionEpoch, [&in](benchmark::State& state, int threads) {
           set_threads(threads);
           Model model(kFashionNet);
           const Tensor data = wrap(in.fashion_x, {in.fashion_samples, kFashionNet.in});
           const Tensor labels = wrap(in.fashion_y, {in.fashion_samples});
           int epoch = 0;
           for (auto _ : state) {
             const std::vector<int64_t> order = epoch_order(in.fashion_samples, epoch++);
             const Tensor index = wrap(order, {in.fashion_samples});
             for (int64_t start = 0; start < in.fashion_samples; start += kFashionBatch) {
               const Tensor rows = index.slice(0, start, start + kFashionBatch);
               model.step(data.index_select(0, rows), labels.index_select(0, rows));
             }
           }
         }};
  c.repetitions = 3;  // a few seconds per epoch on OpenBLAS
  c.single_iteration = true;
  c.epoch = true;
  return c;
}

// The network (compare.hpp), with or without batch norm after each convolution.
torch::nn::Sequential make_cnn(bool batch_norm) {
  torch::manual_seed(1);
  namespace nn = torch::nn;
  const auto prelu = [](int64_t channels) {
    return nn::PReLU(nn::PReLUOptions().num_parameters(channels));
  };
  nn::Sequential net;
  net->push_back(nn::Conv2d(nn::Conv2dOptions(1, kCnnChannels1, 3).padding(1)));
  if (batch_norm) net->push_back(nn::BatchNorm2d(kCnnChannels1));
  net->push_back(prelu(kCnnChannels1));
  net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
  net->push_back(nn::Conv2d(nn::Conv2dOptions(kCnnChannels1, kCnnChannels2, 3).padding(1)));
  if (batch_norm) net->push_back(nn::BatchNorm2d(kCnnChannels2));
  net->push_back(prelu(kCnnChannels2));
  net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(kCnnFlat, kCnnHidden));
  net->push_back(prelu(kCnnHidden));
  net->push_back(nn::Linear(kCnnHidden, kCnnClasses));
  return net;
}

Case cnn_step(const Inputs& in, bool batch_norm) {
  return {cnn_id(batch_norm), [&in, batch_norm](benchmark::State& state, int threads) {
            set_threads(threads);
            torch::nn::Sequential net = make_cnn(batch_norm);
            torch::optim::SGD sgd(net->parameters(),
                                  torch::optim::SGDOptions(kCnnLr).momentum(kMomentum));
            const Tensor x = wrap(in.fashion_x, {kCnnBatch, 1, kCnnSide, kCnnSide}).clone();
            const Tensor y = wrap(in.fashion_y, {kCnnBatch}).clone();
            const auto step = [&] {
              sgd.zero_grad();
              F::cross_entropy(net->forward(x), y).backward();
              sgd.step();
            };
            for (int i = 0; i < kWarmupSteps; ++i) step();
            for (auto _ : state) step();
          }};
}

// The first `numel` inputs of Inputs::x, scaled to [-1, 1], as a tensor of `shape`.
Tensor sequence_input(const Inputs& in, std::vector<int64_t> shape) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  return wrap(in.x, {numel}).clone().mul_(0.25f).reshape(shape);
}

// compare.hpp's LSTM step: LSTM over [L, N, I], linear head on the last hidden state.
Case lstm_step(const Inputs& in) {
  return {kLstmStep, [&in](benchmark::State& state, int threads) {
            set_threads(threads);
            torch::manual_seed(1);
            torch::nn::LSTM lstm(torch::nn::LSTMOptions(kLstmInput, kLstmHidden));
            torch::nn::Linear head(kLstmHidden, kLstmClasses);
            std::vector<Tensor> params = lstm->parameters();
            for (const Tensor& p : head->parameters()) params.push_back(p);
            torch::optim::SGD sgd(params,
                                  torch::optim::SGDOptions(kSequenceLr).momentum(kMomentum));
            const Tensor x = sequence_input(in, {kLstmSequence, kLstmBatch, kLstmInput});
            const Tensor y = wrap(in.fashion_y, {kLstmBatch}).clone();
            const auto step = [&] {
              sgd.zero_grad();
              const Tensor h_n = std::get<0>(std::get<1>(lstm->forward(x)));
              F::cross_entropy(head->forward(h_n[0]), y).backward();
              sgd.step();
            };
            for (int i = 0; i < kWarmupSteps; ++i) step();
            for (auto _ : state) step();
          }};
}

// compare.hpp's transformer step: one encoder layer (training mode: dropout on), a linear head
// on every token.
Case transformer_step(const Inputs& in) {
  return {kTransformerStep, [&in](benchmark::State& state, int threads) {
            set_threads(threads);
            torch::manual_seed(1);
            torch::nn::TransformerEncoderLayer layer(
                torch::nn::TransformerEncoderLayerOptions(kTfModel, kTfHeads)
                    .dim_feedforward(kTfFeedForward)
                    .dropout(kTfDropout)
                    .activation(torch::kGELU));
            torch::nn::Linear head(kTfModel, kTfClasses);
            std::vector<Tensor> params = layer->parameters();
            for (const Tensor& p : head->parameters()) params.push_back(p);
            torch::optim::SGD sgd(params,
                                  torch::optim::SGDOptions(kSequenceLr).momentum(kMomentum));
            layer->train();
            const Tensor x = sequence_input(in, {kTfSequence, kTfBatch, kTfModel});
            const Tensor y = wrap(in.fashion_y, {kTfSequence * kTfBatch}).clone();
            const auto step = [&] {
              sgd.zero_grad();
              const Tensor out = layer->forward(x).reshape({kTfSequence * kTfBatch, kTfModel});
              F::cross_entropy(head->forward(out), y).backward();
              sgd.step();
            };
            for (int i = 0; i < kWarmupSteps; ++i) step();
            for (auto _ : state) step();
          }};
}

// "OpenBLAS threads in effect: 1 at 1, 2 at 2", checked once here.
std::string blas_threads_in_effect() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string s;
  for (int t : {1, cores}) {
    const int got = set_blas_threads(t);
    if (got == 0) return "no OpenBLAS: its thread count is not set";
    s += (s.empty() ? "" : ", ") + std::to_string(got) + " at " + std::to_string(t);
    if (cores == 1) break;
  }
  return "OpenBLAS threads in effect: " + s;
}

}  // namespace

double torch_sgemm_gflops() {
  set_threads(1);
  constexpr int64_t n = 1024;
  const Tensor a = torch::rand({n, n}), b = torch::rand({n, n});
  Tensor c = torch::mm(a, b);  // warm-up: OpenBLAS's buffers, libtorch's dispatch
  double best = 0;
  for (int r = 0; r < 12; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 4; ++i) c = torch::mm(a, b);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 4 * 2.0 * n * n * n / s * 1e-9);
  }
  return c.numel() == n * n ? best : 0;
}

Engine torch_engine(const Inputs& in) {
  Engine e;
  e.name = "libtorch";
  e.version = TORCH_VERSION;
  e.threads =
      "torch::set_num_threads (intra-op OpenMP) and openblas_set_num_threads to the same count "
      "(" +
      blas_threads_in_effect() + "); products in the system BLAS: " + blas_library() +
      "; convolutions in " +
      (at::hasMKLDNN() ? std::string("oneDNN") : std::string("ATen (no oneDNN)"));
  e.evaluate = evaluate;
  activation_cases(in, e.cases);
  e.cases.push_back(overhead_chain());
  e.cases.push_back(
      training_step(kSpiralStep, kSpiralNet, in.spiral_x, in.spiral_y, kSpiralPoints));
  e.cases.push_back(
      training_step(kFashionStep, kFashionNet, in.fashion_x, in.fashion_y, kFashionBatch));
  e.cases.push_back(penalised_step(in));
  e.cases.push_back(training_epoch(in));
  for (const bool batch_norm : {false, true}) e.cases.push_back(cnn_step(in, batch_norm));
  e.cases.push_back(lstm_step(in));
  e.cases.push_back(transformer_step(in));
  return e;
}

}  // namespace compare
