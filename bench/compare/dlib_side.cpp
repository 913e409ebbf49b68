// dlib's side of the comparison (Debian's dlib 19.24, CPU). dlib has no autograd: a layer's
// forward writes into an output tensor it keeps, and its backward is a separate call. What each
// workload times:
//  - "<act> fwd": tt::<act>(y, x) into a preallocated y (as a dlib layer does).
//  - "<act> fwd+bwd": the forward, then tt::<act>_gradient(gx, ..., g), which adds the input's
//    gradient into a preallocated gx (the not-in-place form, so g survives the iteration).
//    Only the activations dlib has: sigmoid, tanh, relu, relu6 (clipped_relu at 6),
//    leaky_relu, elu, gelu (erf), swish/silu, mish, softmax (across channels: [1024, 1024]
//    seen as 1024 samples of 1024 channels), prelu (one shared slope: dlib has no per-channel
//    PReLU).
//  - a training step: net.compute_parameter_gradients(x, labels) (forward, loss and gradient,
//    backward) and net.update_parameters(solvers, lr), on a tensor prepared once; the network is
//    loss_multiclass_log<fc<out, prelu<fc<hidden, prelu<fc<hidden, input<matrix<float>>>>>>>>
//    (dlib's prelu: one slope per layer), the solver sgd(weight_decay 0, momentum 0.9), whose
//    v = 0.9 v - lr g; p += v is PyTorch's momentum SGD at a constant learning rate.
//  - an epoch: the same permutation as the other engines, then per minibatch: the rows copied
//    into the input tensor, and the training step.
//  - the cnn steps: the same step, the network
//    loss_multiclass_log<fc<10, prelu<fc<128, max_pool<2,2,2,2, prelu<[bn_con<]con<64,3,3,1,1,
//    max_pool<2,2,2,2, prelu<[bn_con<]con<32,3,3,1,1, input<matrix<float>>>>>>>>>>>>> (con's
//    default padding for a 3x3 kernel at stride 1 is 1; fc flattens), on [128, 1, 28, 28].
//    dlib 19.24's prelu has one slope per layer, not one per channel.
//  - no overhead chain: dlib has no define-by-run graph to time.
// Threads: dlib 19.24 has no thread-count setting for its CPU tensor kernels (they run on the
// calling thread); its matrix products (the convolutions' included: im2col and a product) go to
// the system BLAS, whose threads are pinned to the case's count (compare.hpp's
// set_blas_threads), so the one timing is a one-thread figure.
#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "compare.hpp"

namespace compare {
namespace {

namespace tt = dlib::tt;
using dlib::resizable_tensor;
using dlib::tensor;

void fill(resizable_tensor& t, const std::vector<float>& values) {
  std::copy(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(t.size()), t.host());
}

// Forward and the gradient's call for one activation. The gradient reads x or y as dlib's layer
// does (gelu, silu and mish from the input, the others from the output).
struct Activation {
  std::function<void(resizable_tensor& y, const tensor& x, const tensor& slope)> forward;
  std::function<void(resizable_tensor& gx, const tensor& x, const tensor& y, const tensor& g,
                     const tensor& slope, resizable_tensor& slope_grad)>
      backward;
};

const std::map<std::string, Activation>& activations() {
  using R = resizable_tensor;
  using T = tensor;
  static const std::map<std::string, Activation> table = {
      {"sigmoid",
       {[](R& y, const T& x, const T&) { tt::sigmoid(y, x); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::sigmoid_gradient(gx, y, g);
        }}},
      {"tanh",
       {[](R& y, const T& x, const T&) { tt::tanh(y, x); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::tanh_gradient(gx, y, g);
        }}},
      {"relu",
       {[](R& y, const T& x, const T&) { tt::relu(y, x); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::relu_gradient(gx, y, g);
        }}},
      {"relu6",
       {[](R& y, const T& x, const T&) { tt::clipped_relu(y, x, 6); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::clipped_relu_gradient(gx, y, g, 6);
        }}},
      {"leaky_relu",
       {[](R& y, const T& x, const T&) { tt::leaky_relu(y, x, 0.01f); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::leaky_relu_gradient(gx, y, g, 0.01f);
        }}},
      {"elu",
       {[](R& y, const T& x, const T&) { tt::elu(y, x, 1.0f); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::elu_gradient(gx, y, g, 1.0f);
        }}},
      {"gelu",
       {[](R& y, const T& x, const T&) { tt::gelu(y, x); },
        [](R& gx, const T& x, const T&, const T& g, const T&, R&) {
          tt::gelu_gradient(gx, x, g);
        }}},
      {"swish",
       {[](R& y, const T& x, const T&) { tt::silu(y, x); },
        [](R& gx, const T& x, const T&, const T& g, const T&, R&) {
          tt::silu_gradient(gx, x, g);
        }}},
      {"mish",
       {[](R& y, const T& x, const T&) { tt::mish(y, x); },
        [](R& gx, const T& x, const T&, const T& g, const T&, R&) {
          tt::mish_gradient(gx, x, g);
        }}},
      {"softmax",
       {[](R& y, const T& x, const T&) { tt::softmax(y, x); },
        [](R& gx, const T&, const T& y, const T& g, const T&, R&) {
          tt::softmax_gradient(gx, y, g);
        }}},
      {"prelu",
       {[](R& y, const T& x, const T& slope) { tt::prelu(y, x, slope); },
        [](R& gx, const T& x, const T&, const T& g, const T& slope, R& slope_grad) {
          tt::prelu_gradient(gx, x, g, slope, slope_grad);
        }}},
  };
  return table;
}

const Activation* find(const std::string& name) {
  const std::string key = name == "silu" ? "swish" : name;
  const auto found = activations().find(key);
  return found == activations().end() ? nullptr : &found->second;
}

// [1024, 1024] as 1024 samples of 1024 channels; prelu's [256, 64, 64] as 256 x 64 x 64 x 1.
void shape(resizable_tensor& t, const std::string& name) {
  if (name == "prelu")
    t.set_size(kPReLUShape[0], kPReLUShape[1], kPReLUShape[2], 1);
  else
    t.set_size(kActivationRows, kActivationCols, 1, 1);
}

void activation_cases(const Inputs& in, std::vector<Case>& cases) {
  for (const std::string& name : in.activations) {
    const Activation* act = find(name);
    if (!act) continue;
    cases.push_back({forward_id(name), [&in, act, name](benchmark::State& state, int) {
                       resizable_tensor x, y, slope(1);
                       shape(x, name);
                       shape(y, name);
                       fill(x, in.x);
                       slope = 0.25f;
                       for (auto _ : state) {
                         act->forward(y, x, slope);
                         benchmark::DoNotOptimize(y.host());
                       }
                     }});
    for (const bool from_memory : {false, true}) {
      cases.push_back(with_caches(backward_id(name), from_memory,
                                  [&in, act, name, from_memory](benchmark::State& state, int) {
                                    resizable_tensor x, y, g, gx, slope(1), slope_grad(1);
                                    shape(x, name);
                                    shape(y, name);
                                    shape(g, name);
                                    shape(gx, name);
                                    fill(x, in.x);
                                    fill(g, in.g);
                                    gx = 0;
                                    slope = 0.25f;
                                    for (auto _ : state) {
                                      eigrad::bench::start_iteration(state, from_memory);
                                      act->forward(y, x, slope);
                                      act->backward(gx, x, y, g, slope, slope_grad);
                                      benchmark::DoNotOptimize(gx.host());
                                    }
                                  }));
    }
  }
}

bool evaluate(const std::string& name, const std::vector<float>& xv, const std::vector<float>& gv,
              std::vector<float>& yv, std::vector<float>& gxv) {
  const Activation* act = find(name);
  if (!act) return false;
  const std::vector<int64_t> s = check_shape(name);
  resizable_tensor x, y, g, gx, slope(1), slope_grad(1);
  for (resizable_tensor* t : {&x, &y, &g, &gx}) t->set_size(s[0], s[1], s.size() > 2 ? s[2] : 1, 1);
  fill(x, xv);
  fill(g, gv);
  gx = 0;
  slope = 0.25f;
  act->forward(y, x, slope);
  act->backward(gx, x, y, g, slope, slope_grad);
  yv.assign(y.begin(), y.end());
  gxv.assign(gx.begin(), gx.end());
  return true;
}

template <long Hidden, long Out>
using Net = dlib::loss_multiclass_log<
    dlib::fc<Out, dlib::prelu<dlib::fc<
                      Hidden, dlib::prelu<dlib::fc<Hidden, dlib::input<dlib::matrix<float>>>>>>>>;

template <long Hidden, long Out>
struct Model {
  Net<Hidden, Out> net;
  std::vector<dlib::sgd> solvers;
  double lr;
  explicit Model(const Mlp& mlp)
      : solvers(Net<Hidden, Out>::num_computational_layers, dlib::sgd(0.0f, kMomentum)),
        lr(mlp.lr) {
    // The input layer learns its sample shape from one to_tensor call; steps then take tensors.
    const std::vector<dlib::matrix<float>> sample(1, dlib::zeros_matrix<float>(mlp.in, 1));
    resizable_tensor x;
    net.to_tensor(sample.begin(), sample.end(), x);
  }
  void step(const tensor& x, const std::vector<unsigned long>& y) {
    net.compute_parameter_gradients(x, y.begin());
    net.update_parameters(solvers, lr);
  }
};

// Copies the `count` rows listed in `rows` into x ([count, 1, features, 1]) and their labels
// into y.
void gather(const std::vector<float>& data, const std::vector<int64_t>& labels, int64_t features,
            const int64_t* rows, int64_t count, resizable_tensor& x,
            std::vector<unsigned long>& y) {
  x.set_size(count, 1, features, 1);
  y.resize(static_cast<size_t>(count));
  float* dst = x.host_write_only();
  for (int64_t i = 0; i < count; ++i) {
    std::copy_n(data.begin() + rows[i] * features, features, dst + i * features);
    y[static_cast<size_t>(i)] = static_cast<unsigned long>(labels[rows[i]]);
  }
}

template <long Hidden, long Out>
Case training_step(const char* workload, Mlp mlp, const std::vector<float>& data,
                   const std::vector<int64_t>& labels, int64_t batch) {
  return {workload, [mlp, &data, &labels, batch](benchmark::State& state, int threads) {
            set_blas_threads(threads);
            Model<Hidden, Out> model(mlp);
            std::vector<int64_t> rows(static_cast<size_t>(batch));
            for (int64_t i = 0; i < batch; ++i) rows[static_cast<size_t>(i)] = i;
            resizable_tensor x;
            std::vector<unsigned long> y;
            gather(data, labels, mlp.in, rows.data(), batch, x, y);
            for (int i = 0; i < kWarmupSteps; ++i) model.step(x, y);
            for (auto _ : state) model.step(x, y);
          }};
}

Case training_epoch(const Inputs& in) {
  Case c{kFashionEpoch, [&in](benchmark::State& state, int threads) {
           set_blas_threads(threads);
           Model<256, 10> model(kFashionNet);
           resizable_tensor x;
           std::vector<unsigned long> y;
           int epoch = 0;
           for (auto _ : state) {
             const std::vector<int64_t> order = epoch_order(in.fashion_samples, epoch++);
             for (int64_t start = 0; start < in.fashion_samples; start += kFashionBatch) {
               const int64_t count = std::min(kFashionBatch, in.fashion_samples - start);
               gather(in.fashion_x, in.fashion_y, kFashionNet.in, order.data() + start, count, x,
                      y);
               model.step(x, y);
             }
           }
         }};
  c.repetitions = 1;  // about a minute per epoch: one run keeps the harness short
  c.single_iteration = true;
  c.epoch = true;
  return c;
}

template <class Subnet>
using same = Subnet;  // no batch norm
template <template <class> class Norm>
using CnnNet = dlib::loss_multiclass_log<
    dlib::fc<kCnnClasses,
             dlib::prelu<dlib::fc<
                 kCnnHidden,
                 dlib::max_pool<2, 2, 2, 2,
                                dlib::prelu<Norm<dlib::con<
                                    kCnnChannels2, 3, 3, 1, 1,
                                    dlib::max_pool<2, 2, 2, 2,
                                                   dlib::prelu<Norm<dlib::con<
                                                       kCnnChannels1, 3, 3, 1, 1,
                                                       dlib::input<dlib::matrix<float>>>>>>>>>>>>>>;

template <template <class> class Norm>
Case cnn_step(const Inputs& in) {
  constexpr bool batch_norm = !std::is_same<CnnNet<Norm>, CnnNet<same>>::value;
  return {cnn_id(batch_norm), [&in](benchmark::State& state, int threads) {
            set_blas_threads(threads);
            CnnNet<Norm> net;
            std::vector<dlib::sgd> solvers(CnnNet<Norm>::num_computational_layers,
                                           dlib::sgd(0.0f, kMomentum));
            const std::vector<dlib::matrix<float>> sample(
                1, dlib::zeros_matrix<float>(kCnnSide, kCnnSide));
            resizable_tensor x;
            net.to_tensor(sample.begin(), sample.end(), x);  // sets the input layer's shape
            x.set_size(kCnnBatch, 1, kCnnSide, kCnnSide);
            fill(x, in.fashion_x);
            std::vector<unsigned long> y(in.fashion_y.begin(), in.fashion_y.begin() + kCnnBatch);
            const auto step = [&] {
              net.compute_parameter_gradients(x, y.begin());
              net.update_parameters(solvers, kCnnLr);
            };
            for (int i = 0; i < kWarmupSteps; ++i) step();
            for (auto _ : state) step();
          }};
}

}  // namespace

Engine dlib_engine(const Inputs& in) {
  static_assert(kSpiralNet.hidden == 64 && kSpiralNet.out == 3, "dlib's spiral net is fixed");
  static_assert(kFashionNet.hidden == 256 && kFashionNet.out == 10, "dlib's fashion net is fixed");
  Engine e;
  e.name = "dlib";
  e.version = std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION);
  e.threads =
      "none: dlib has no thread setting for its CPU kernels; products in the system BLAS (" +
      blas_library() +
      ") with its threads pinned to the lowest count; timed once, shown at every thread count";
  e.fixed_threads = true;
  e.evaluate = evaluate;
  activation_cases(in, e.cases);
  e.cases.push_back(
      training_step<64, 3>(kSpiralStep, kSpiralNet, in.spiral_x, in.spiral_y, kSpiralPoints));
  e.cases.push_back(
      training_step<256, 10>(kFashionStep, kFashionNet, in.fashion_x, in.fashion_y, kFashionBatch));
  e.cases.push_back(training_epoch(in));
  e.cases.push_back(cnn_step<same>(in));
  e.cases.push_back(cnn_step<dlib::bn_con>(in));
  return e;
}

}  // namespace compare
