// eigrad's side of the comparison. What each workload times:
//  - "<act> fwd": y = act(x) under NoGradGuard (no graph), x of 2^20 floats ([1024, 1024];
//    [256, 64, 64] with 64 slopes for prelu; softmax/log_softmax along the last axis). Every
//    entry of the activation catalogue, called through the catalogue with its default
//    parameters.
//  - "<act> fwd+bwd": x (and prelu's slopes) require grad; their gradients are dropped
//    (zero_grad), then y = act(x); y.backward(g) with a given upstream gradient g.
//  - the overhead chain: bench/bench_overhead.cpp's chain, forward and backward.
//  - a training step: optimizer zero_grad, forward through nn::Sequential(Linear, PReLU(hidden),
//    Linear, PReLU(hidden), Linear), nn::cross_entropy (mean), backward, optim::SGD step
//    (momentum 0.9), on a prepared batch.
//  - the penalised step: the same, with kPenalty * sum((d loss / d x)^2) added to the loss, the
//    input gradient from eigrad::grad with create_graph (compare.hpp's kFashionPenaltyStep).
//  - an epoch: a fresh permutation, then per minibatch of 128: index_select of the rows, the
//    labels gathered, and the training step.
//  - the cnn steps: the same step through nn::Sequential(Conv2d, [BatchNorm2d], PReLU,
//    MaxPool2d, Conv2d, [BatchNorm2d], PReLU, MaxPool2d, Flatten, Linear, PReLU, Linear) on
//    [128, 1, 28, 28] (compare.hpp's kCnn*).
//  - the lstm step: nn::LSTM over [L, N, I], nn::Linear on h_n, cross_entropy, SGD (momentum).
//  - the transformer step: nn::TransformerEncoderLayer (batch_first, GELU, dropout 0.1, training
//    mode), nn::Linear per token, cross_entropy, SGD (momentum).
// Threads: eigrad::set_num_threads (OpenMP-split kernels; products stay on one thread).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../overhead_chain.hpp"
#include "compare.hpp"
#include "eigrad/eigrad.hpp"

namespace compare {
namespace {

using eigrad::Tensor;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;

void set_threads(int threads) {
  eigrad::set_num_threads(threads);
}

// ---- the overhead chain, exactly bench/bench_overhead.cpp's (bench/overhead_chain.hpp) ----

Case overhead_chain_case() {
  return {kChain, [](benchmark::State& state, int threads) {
            set_threads(threads);
            Tensor x = Tensor::from({0.5f, -0.25f, 1.0f, 2.0f}, {2, 2}, true);
            Tensor w = Tensor::from({1.01f, 0.99f, 1.0f, 0.98f}, {2, 2}, true);
            Tensor b = Tensor::from({0.1f, 0.2f, -0.1f, 0.0f}, {2, 2}, true);
            for (auto _ : state) {
              x.zero_grad();
              w.zero_grad();
              b.zero_grad();
              Tensor loss = eigrad::sum(eigrad::bench::overhead_chain(x, w, b));
              loss.backward();
              benchmark::DoNotOptimize(x.grad().data());
            }
          }};
}

// ---- activations ----
eigrad::Shape activation_shape(const eigrad::ActivationInfo& info) {
  if (info.kind == eigrad::ActivationKind::PerChannel)
    return {kPReLUShape[0], kPReLUShape[1], kPReLUShape[2]};
  return {kActivationRows, kActivationCols};
}

Tensor apply(const eigrad::ActivationInfo& info, const Tensor& x, const Tensor& slopes) {
  return info.kind == eigrad::ActivationKind::PerChannel ? info.apply(x, slopes) : info.apply(x);
}

void activation_cases(const Inputs& in, std::vector<Case>& cases) {
  for (const eigrad::ActivationInfo& entry : eigrad::activation_catalogue()) {
    const eigrad::ActivationInfo* info = &entry;
    cases.push_back({forward_id(info->name), [&in, info](benchmark::State& state, int threads) {
                       set_threads(threads);
                       const Tensor x = Tensor::from(in.x, activation_shape(*info));
                       const Tensor slopes = Tensor::full({kPReLUShape[1]}, 0.25f);
                       eigrad::NoGradGuard no_grad;
                       for (auto _ : state) {
                         Tensor y = apply(*info, x, slopes);
                         benchmark::DoNotOptimize(y.data());
                       }
                     }});
    for (const bool from_memory : {false, true}) {
      cases.push_back(with_caches(backward_id(info->name), from_memory,
                                  [&in, info, from_memory](benchmark::State& state, int threads) {
                                    set_threads(threads);
                                    Tensor x = Tensor::from(in.x, activation_shape(*info), true);
                                    const Tensor g = Tensor::from(in.g, activation_shape(*info));
                                    Tensor slopes = Tensor::full({kPReLUShape[1]}, 0.25f, true);
                                    for (auto _ : state) {
                                      eigrad::bench::start_iteration(state, from_memory);
                                      x.zero_grad();
                                      slopes.zero_grad();
                                      apply(*info, x, slopes).backward(g);
                                      benchmark::DoNotOptimize(x.grad().data());
                                    }
                                  }));
    }
  }
}

bool evaluate(const std::string& name, const std::vector<float>& x, const std::vector<float>& g,
              std::vector<float>& y, std::vector<float>& gx) {
  const eigrad::ActivationInfo& info = eigrad::find_activation(name);
  const eigrad::Shape shape(check_shape(name));
  Tensor xt = Tensor::from(std::vector<float>(x.begin(), x.begin() + shape.numel()), shape, true);
  const Tensor gt = Tensor::from(std::vector<float>(g.begin(), g.begin() + shape.numel()), shape);
  const Tensor slopes = Tensor::full({kPReLUShape[1]}, 0.25f, true);
  const Tensor yt = apply(info, xt, slopes);
  yt.backward(gt);
  y = yt.to_vector();
  gx = xt.grad().to_vector();
  return true;
}

// ---- training ----
struct Model {
  std::shared_ptr<nn::Sequential> net;
  std::unique_ptr<optim::SGD> sgd;

  explicit Model(const Mlp& mlp) {
    eigrad::Generator gen(1);
    net =
        std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(mlp.in, mlp.hidden, gen),
                                         std::make_shared<nn::PReLU>(mlp.hidden),
                                         std::make_shared<nn::Linear>(mlp.hidden, mlp.hidden, gen),
                                         std::make_shared<nn::PReLU>(mlp.hidden),
                                         std::make_shared<nn::Linear>(mlp.hidden, mlp.out, gen));
    sgd = std::make_unique<optim::SGD>(net->parameters(),
                                       optim::SGDOptions(mlp.lr).momentum(kMomentum));
  }
  void step(const Tensor& x, const std::vector<int64_t>& y) {
    sgd->zero_grad();
    nn::cross_entropy(net->forward(x), y).backward();
    sgd->step();
  }
  void penalised_step(const Tensor& x, const std::vector<int64_t>& y) {
    sgd->zero_grad();
    Tensor loss = nn::cross_entropy(net->forward(x), y);
    const Tensor gx = eigrad::grad({loss}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
    (loss + eigrad::sum(gx * gx) * static_cast<float>(kPenalty)).backward();
    sgd->step();
  }
};

Case training_step(const char* workload, Mlp mlp, const std::vector<float>& x,
                   const std::vector<int64_t>& y, int64_t batch) {
  return {workload, [mlp, &x, &y, batch](benchmark::State& state, int threads) {
            set_threads(threads);
            Model model(mlp);
            const Tensor xb = Tensor::from(
                std::vector<float>(x.begin(), x.begin() + batch * mlp.in), {batch, mlp.in});
            const std::vector<int64_t> yb(y.begin(), y.begin() + batch);
            for (int i = 0; i < kWarmupSteps; ++i) model.step(xb, yb);
            for (auto _ : state) model.step(xb, yb);
          }};
}

Case penalised_step(const Inputs& in) {
  return {
      kFashionPenaltyStep, [&in](benchmark::State& state, int threads) {
        set_threads(threads);
        Model model(kFashionNet);
        const Tensor xb =
            Tensor::from(std::vector<float>(in.fashion_x.begin(),
                                            in.fashion_x.begin() + kFashionBatch * kFashionNet.in),
                         {kFashionBatch, kFashionNet.in}, /*requires_grad=*/true);
        const std::vector<int64_t> yb(in.fashion_y.begin(), in.fashion_y.begin() + kFashionBatch);
        for (int i = 0; i < kWarmupSteps; ++i) model.penalised_step(xb, yb);
        for (auto _ : state) model.penalised_step(xb, yb);
      }};
}

Case training_epoch(const Inputs& in) {
  Case c{kFashionEpoch, [&in](benchmark::State& state, int threads) {
           set_threads(threads);
           Model model(kFashionNet);
           const Tensor data = Tensor::from(in.fashion_x, {in.fashion_samples, kFashionNet.in});
           int epoch = 0;
           for (auto _ : state) {
             const std::vector<int64_t> order = epoch_order(in.fashion_samples, epoch++);
             for (int64_t start = 0; start < in.fashion_samples; start += kFashionBatch) {
               const int64_t end = std::min(in.fashion_samples, start + kFashionBatch);
               const std::vector<int64_t> rows(order.begin() + start, order.begin() + end);
               std::vector<int64_t> labels(rows.size());
               for (size_t i = 0; i < rows.size(); ++i)
                 labels[i] = in.fashion_y[static_cast<size_t>(rows[i])];
               model.step(eigrad::index_select(data, 0, rows), labels);
             }
           }
         }};
  c.repetitions = 3;
  c.single_iteration = true;
  c.epoch = true;
  return c;
}

// The network (compare.hpp), with or without batch norm after each convolution.
std::shared_ptr<nn::Sequential> make_cnn(bool batch_norm) {
  eigrad::Generator gen(1);
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, kCnnChannels1, 3).padding(1), gen));
  if (batch_norm) net->push_back(std::make_shared<nn::BatchNorm2d>(kCnnChannels1));
  net->push_back(std::make_shared<nn::PReLU>(kCnnChannels1));
  net->push_back(std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)));
  net->push_back(std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions(kCnnChannels1, kCnnChannels2, 3).padding(1), gen));
  if (batch_norm) net->push_back(std::make_shared<nn::BatchNorm2d>(kCnnChannels2));
  net->push_back(std::make_shared<nn::PReLU>(kCnnChannels2));
  net->push_back(std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)));
  net->push_back(std::make_shared<nn::Flatten>());
  net->push_back(std::make_shared<nn::Linear>(kCnnFlat, kCnnHidden, gen));
  net->push_back(std::make_shared<nn::PReLU>(kCnnHidden));
  net->push_back(std::make_shared<nn::Linear>(kCnnHidden, kCnnClasses, gen));
  return net;
}

Case cnn_step(const Inputs& in, bool batch_norm) {
  return {cnn_id(batch_norm), [&in, batch_norm](benchmark::State& state, int threads) {
            set_threads(threads);
            const std::shared_ptr<nn::Sequential> net = make_cnn(batch_norm);
            optim::SGD sgd(net->parameters(), optim::SGDOptions(kCnnLr).momentum(kMomentum));
            const int64_t pixels = kCnnBatch * kCnnSide * kCnnSide;
            const Tensor x = Tensor::from(
                std::vector<float>(in.fashion_x.begin(), in.fashion_x.begin() + pixels),
                {kCnnBatch, 1, kCnnSide, kCnnSide});
            const std::vector<int64_t> y(in.fashion_y.begin(), in.fashion_y.begin() + kCnnBatch);
            const auto step = [&] {
              sgd.zero_grad();
              nn::cross_entropy(net->forward(x), y).backward();
              sgd.step();
            };
            for (int i = 0; i < kWarmupSteps; ++i) step();
            for (auto _ : state) step();
          }};
}

// The first `numel` inputs of Inputs::x, scaled to [-1, 1], as a tensor of `shape`.
Tensor sequence_input(const Inputs& in, const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  std::vector<float> v(in.x.begin(), in.x.begin() + numel);
  for (float& f : v) f *= 0.25f;
  return Tensor::from(std::move(v), eigrad::Shape(shape));
}

Case lstm_step(const Inputs& in) {
  return {kLstmStep, [&in](benchmark::State& state, int threads) {
            set_threads(threads);
            eigrad::Generator gen(1);
            nn::LSTM lstm(nn::RNNOptions(kLstmInput, kLstmHidden), gen);
            nn::Linear head(kLstmHidden, kLstmClasses, gen);
            std::vector<Tensor> params = lstm.parameters();
            for (const Tensor& p : head.parameters()) params.push_back(p);
            optim::SGD sgd(params, optim::SGDOptions(kSequenceLr).momentum(kMomentum));
            const Tensor x = sequence_input(in, {kLstmSequence, kLstmBatch, kLstmInput});
            const std::vector<int64_t> y(in.fashion_y.begin(), in.fashion_y.begin() + kLstmBatch);
            const auto step = [&] {
              sgd.zero_grad();
              const auto [out, state_n] = lstm.forward(x, {Tensor(), Tensor()});
              const Tensor h_n = eigrad::reshape(std::get<0>(state_n), {kLstmBatch, kLstmHidden});
              nn::cross_entropy(head.forward(h_n), y).backward();
              sgd.step();
            };
            for (int i = 0; i < kWarmupSteps; ++i) step();
            for (auto _ : state) step();
          }};
}

Case transformer_step(const Inputs& in) {
  return {
      kTransformerStep, [&in](benchmark::State& state, int threads) {
        set_threads(threads);
        eigrad::Generator gen(1);
        nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(kTfModel, kTfHeads)
                                              .dim_feedforward(kTfFeedForward)
                                              .dropout(kTfDropout)
                                              .activation("gelu")
                                              .batch_first(true),
                                          gen);
        nn::Linear head(kTfModel, kTfClasses, gen);
        std::vector<Tensor> params = layer.parameters();
        for (const Tensor& p : head.parameters()) params.push_back(p);
        optim::SGD sgd(params, optim::SGDOptions(kSequenceLr).momentum(kMomentum));
        const Tensor x = sequence_input(in, {kTfBatch, kTfSequence, kTfModel});
        const std::vector<int64_t> y(in.fashion_y.begin(),
                                     in.fashion_y.begin() + kTfBatch * kTfSequence);
        const auto step = [&] {
          sgd.zero_grad();
          const Tensor out = eigrad::reshape(layer.forward(x), {kTfBatch * kTfSequence, kTfModel});
          nn::cross_entropy(head.forward(out), y).backward();
          sgd.step();
        };
        for (int i = 0; i < kWarmupSteps; ++i) step();
        for (auto _ : state) step();
      }};
}

}  // namespace

std::vector<std::string> eigrad_activation_names() {
  std::vector<std::string> names;
  for (const eigrad::ActivationInfo& info : eigrad::activation_catalogue())
    names.push_back(info.name);
  return names;
}

Engine eigrad_engine(const Inputs& in) {
  Engine e;
  e.name = "eigrad";
#ifdef EIGRAD_COMPARE_VERSION
  e.version = EIGRAD_COMPARE_VERSION;
#endif
  e.threads = "eigrad::set_num_threads";
  e.evaluate = evaluate;
  activation_cases(in, e.cases);
  e.cases.push_back(overhead_chain_case());
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
