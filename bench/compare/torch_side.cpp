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
// Threads: torch::set_num_threads (intra-op OpenMP). Debian's libtorch does its matrix products
// in the system BLAS (netlib reference BLAS unless another libblas.so.3 is selected).
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compare.hpp"

namespace compare {
namespace {

namespace F = torch::nn::functional;
using torch::Tensor;

void set_threads(int threads) {
  torch::set_num_threads(threads);
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
  c.repetitions = 1;  // about a minute per epoch: one run keeps the harness short
  c.single_iteration = true;
  c.epoch = true;
  c.lowest_threads_only = true;
  return c;
}

}  // namespace

Engine torch_engine(const Inputs& in) {
  Engine e;
  e.name = "libtorch";
  e.version = TORCH_VERSION;
  e.threads = "torch::set_num_threads (intra-op OpenMP; products in the system BLAS)";
  e.evaluate = evaluate;
  activation_cases(in, e.cases);
  e.cases.push_back(overhead_chain());
  e.cases.push_back(
      training_step(kSpiralStep, kSpiralNet, in.spiral_x, in.spiral_y, kSpiralPoints));
  e.cases.push_back(
      training_step(kFashionStep, kFashionNet, in.fashion_x, in.fashion_y, kFashionBatch));
  e.cases.push_back(training_epoch(in));
  return e;
}

}  // namespace compare
