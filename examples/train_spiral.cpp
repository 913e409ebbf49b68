// The README's demo: a 2-64-PReLU-64-PReLU-3 network learns cs231n's 3-class spiral (100 points
// per class) with SGD and momentum, showing its progress, until it classifies at least 99 % of
// the training points. It then prints the learned PReLU slopes and writes a picture of the
// decision regions with the points on top.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "eigrad/io.hpp"
#include "eigrad/plot.hpp"

using namespace eigrad;

namespace {

double accuracy(const Tensor& logits, const std::vector<int64_t>& labels) {
  const std::vector<int64_t> predicted = argmax(logits, 1).to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a 2-64-PReLU-64-PReLU-3 network on a 3-class spiral"};
  int64_t max_epochs = 5000, hidden = 64;
  double lr = 0.2, momentum = 0.9, weight_decay = 1e-4, target = 0.99;
  uint64_t seed = 1;
  std::string picture = "spiral_decision_regions.png";
  app.add_option("--epochs", max_epochs, "the most full-batch steps to take")
      ->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "units per hidden layer")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "learning rate")->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0));
  app.add_option("--weight-decay", weight_decay, "weight decay of the Linear weights (not slopes)");
  app.add_option("--target", target, "stop at this training accuracy")->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", seed, "seed of the data and the initial weights");
  app.add_option("--png", picture, "where to write the decision regions ('' for none)");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(1);  // 300 points: one thread is fastest
    const data::Dataset spiral = data::make_spiral(3, 100, seed);

    Generator gen(seed);
    auto model = std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(2, hidden, gen), std::make_shared<nn::PReLU>(hidden),
        std::make_shared<nn::Linear>(hidden, hidden, gen), std::make_shared<nn::PReLU>(hidden),
        std::make_shared<nn::Linear>(hidden, 3, gen));
    std::cout << model->str() << "\n\n";

    // The PReLU slopes learn without weight decay, which would pull them towards ReLU's 0.
    std::vector<Tensor> weights, slopes;
    for (const auto& [name, child] : model->named_children())
      for (const Tensor& p : child->parameters())
        (std::dynamic_pointer_cast<nn::PReLU>(child) ? slopes : weights).push_back(p);
    const auto options = optim::SGDOptions(lr).momentum(momentum);
    optim::SGD optimizer(
        {{weights, optim::SGDOptions(options).weight_decay(weight_decay)}, {slopes, options}});

    io::ProgressOptions progress;
    progress.every = 10;  // plain output (not a terminal): a line every 10 epochs and the last
    io::ProgressBar bar(max_epochs, progress);
    double acc = 0, loss_value = 0;
    int64_t epoch = 0;
    while (epoch < max_epochs && acc < target) {
      ++epoch;
      optimizer.zero_grad();
      const Tensor logits = model->forward(spiral.X);
      const Tensor loss = nn::cross_entropy(logits, spiral.y);
      loss.backward();
      optimizer.step();
      loss_value = loss.item();
      acc = accuracy(logits, spiral.y);
      bar.update(epoch, loss_value, acc);
    }
    bar.finish();
    {
      NoGradGuard no_grad;
      acc = accuracy(model->forward(spiral.X), spiral.y);  // after the last step
    }
    std::printf("\nfinished after %lld epochs: loss %.4f, training accuracy %.1f %%\n",
                static_cast<long long>(epoch), loss_value, 100 * acc);

    std::printf("\nlearned PReLU slopes (initially %.2f):\n", kPReLUInitialSlope);
    for (const auto& [name, child] : model->named_children())
      if (auto prelu = std::dynamic_pointer_cast<nn::PReLU>(child)) {
        const Tensor::Array& a = prelu->weight().array();
        std::printf("  layer %s: min %.3f  mean %.3f  max %.3f  (%lld slopes)\n", name.c_str(),
                    a.minCoeff(), a.mean(), a.maxCoeff(), static_cast<long long>(a.size()));
      }

    if (!picture.empty()) {
      model->eval();
      plot::DecisionRegionOptions regions;
      regions.title = "spiral: training accuracy " + std::to_string(100 * acc).substr(0, 4) + "%";
      plot::plot_decision_regions(
          picture,
          [&](const Tensor& points) {
            NoGradGuard no_grad;
            return argmax(model->forward(points), 1).to_vector();
          },
          spiral.X, spiral.y, regions);
      std::printf("\nwrote %s\n", picture.c_str());
    }
    return acc >= target ? 0 : 1;
  } catch (const Error& e) {
    std::cerr << "train_spiral: " << e.what() << "\n";
    return 2;
  }
}
