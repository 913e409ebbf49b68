// Trains the same toy classifier (same data, same initial weights) once with each activation of
// the catalogue and prints what the activation did to training: final accuracy, epochs to reach
// 95 %, the first layer's gradient norm in the first epoch (vanishing gradients), and the
// fraction of hidden units whose output is the same for every training point (dead units, the
// dying-ReLU effect). Also draws every activation and its derivative on [-5, 5].
// --register-examples adds the example user activations of user_activations.hpp.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "eigrad/eigrad.hpp"
#include "eigrad/plot.hpp"
#include "user_activations.hpp"

using namespace eigrad;

namespace {

struct Result {
  std::string name;
  double accuracy = 0;
  int64_t epochs_to_95 = -1;
  double first_grad_norm = 0;
  double dead_fraction = 0;
};

double accuracy(const Tensor& logits, const std::vector<int64_t>& labels) {
  const std::vector<int64_t> predicted = argmax(logits, 1).to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

std::shared_ptr<nn::Module> make_activation(const ActivationInfo& info, int64_t units) {
  if (info.kind == ActivationKind::PerChannel) return std::make_shared<nn::PReLU>(units);
  return std::make_shared<nn::Activation>(info.name);
}

Result train(const ActivationInfo& info, const data::Dataset& set, int64_t depth, int64_t units,
             int64_t epochs, double lr, uint64_t seed) {
  Generator gen(seed);  // the same seed: the same initial weights for every activation
  auto model = std::make_shared<nn::Sequential>();
  int64_t in = 2;
  std::vector<std::shared_ptr<nn::Module>> activations;
  for (int64_t i = 0; i < depth; ++i) {
    model->push_back(std::make_shared<nn::Linear>(in, units, gen));
    activations.push_back(make_activation(info, units));
    model->push_back(activations.back());
    in = units;
  }
  model->push_back(std::make_shared<nn::Linear>(in, set.num_classes, gen));
  auto first = model->at<nn::Linear>(0);

  optim::SGD optimizer(model->parameters(), optim::SGDOptions(lr).momentum(0.9));
  Result r;
  r.name = info.name;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    optimizer.zero_grad();
    const Tensor logits = model->forward(set.X);
    nn::cross_entropy(logits, set.y).backward();
    if (epoch == 1) r.first_grad_norm = std::sqrt(first->weight().grad().array().square().sum());
    optimizer.step();
    r.accuracy = accuracy(logits, set.y);
    if (r.epochs_to_95 < 0 && r.accuracy >= 0.95) r.epochs_to_95 = epoch;
  }

  // After training: accuracy, and hidden units whose output never changes over the data.
  NoGradGuard no_grad;
  Tensor x = set.X;
  int64_t dead = 0, total = 0;
  for (size_t i = 0; i < model->size(); ++i) {
    x = (*model)[i]->forward(x);
    if (i % 2 == 1 && i + 1 < model->size()) {  // an activation's output [n, units]
      for (int64_t u = 0; u < units; ++u) {
        const Tensor column = index_select(x, 1, {u});
        const auto& a = column.array();
        dead += a.maxCoeff() - a.minCoeff() <= 1e-6f;
        ++total;
      }
    }
  }
  r.accuracy = accuracy(x, set.y);
  r.dead_fraction = static_cast<double>(dead) / static_cast<double>(total);
  return r;
}

// f and f' of an elementwise entry (PReLU with its initial slope) on [-5, 5].
plot::Image draw(const ActivationInfo& info) {
  const int n = 401;
  DoubleTensor x = DoubleTensor::linspace(-5, 5, n).set_requires_grad();
  DoubleTensor y = info.kind == ActivationKind::PerChannel
                       ? info.apply(x, DoubleTensor::full({1}, kPReLUInitialSlope))
                       : info.apply(x);
  y.backward(DoubleTensor::ones({n}));
  plot::Curve f{info.name, x.to_vector(), y.to_vector(), {}},
      df{"derivative", x.to_vector(), x.grad().to_vector(), {}};
  plot::LinePlotOptions options;
  options.width = 320;
  options.height = 220;
  options.title = info.name;
  return plot::render_line_plot({f, df}, options);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train one toy classifier per activation and compare how they learn"};
  int64_t epochs = 600, depth = 4, units = 32;
  double lr = 0.05;
  uint64_t seed = 3;
  std::string picture = "activations.png";
  bool register_examples = false;
  app.add_option("--epochs", epochs, "full-batch steps per activation")->check(CLI::PositiveNumber);
  app.add_option("--depth", depth, "hidden layers")->check(CLI::PositiveNumber);
  app.add_option("--units", units, "units per hidden layer")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "learning rate (SGD, momentum 0.9)")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of the data and the initial weights");
  app.add_option("--png", picture, "where to draw the activations ('' for nowhere)");
  app.add_flag("--register-examples", register_examples,
               "also compare the user activations registered by user_activations.hpp");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(1);
    if (register_examples) examples::register_example_activations();
    const data::Dataset set = data::make_spiral(3, 100, seed);
    std::printf(
        "3-class spiral, 300 points; network 2-%lld x %lld-3, SGD lr %g momentum 0.9, "
        "%lld epochs\n\n",
        static_cast<long long>(units), static_cast<long long>(depth), lr,
        static_cast<long long>(epochs));
    std::printf("%-13s %9s %12s %16s %11s\n", "activation", "accuracy", "epochs->95%",
                "|dW1| 1st epoch", "dead units");
    std::vector<plot::Image> images;
    for (const ActivationInfo& info : activation_catalogue()) {
      if (info.kind == ActivationKind::AlongAxis) continue;  // normalisers, not hidden units
      const Result r = train(info, set, depth, units, epochs, lr, seed);
      char reached[32] = "never";
      if (r.epochs_to_95 > 0)
        std::snprintf(reached, sizeof reached, "%lld", static_cast<long long>(r.epochs_to_95));
      std::printf("%-13s %8.1f%% %12s %16.3e %10.1f%%\n", r.name.c_str(), 100 * r.accuracy, reached,
                  r.first_grad_norm, 100 * r.dead_fraction);
      std::fflush(stdout);
      if (!picture.empty()) images.push_back(draw(info));
    }
    if (!picture.empty()) {
      plot::write_png(picture, plot::tile_images(images, 4));
      std::printf("\nwrote %s (each activation and its derivative on [-5, 5])\n", picture.c_str());
    }
    return 0;
  } catch (const Error& e) {
    std::cerr << "compare_activations: " << e.what() << "\n";
    return 2;
  }
}
