// Trains a 784-256-PReLU-256-PReLU-10 network on Fashion-MNIST (Debian's dataset-fashion-mnist)
// with minibatch SGD, momentum and a cosine learning-rate schedule; prints the loss, the test
// accuracy and the seconds of each epoch, and saves the model (and the optimizer's state) as a
// safetensors checkpoint.
#include <sys/resource.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <vector>

#include "eigrad/io.hpp"

using namespace eigrad;

namespace {

// Pixel statistics of the Fashion-MNIST training set, for standardising the inputs.
constexpr float kPixelMean = 0.2860f, kPixelStd = 0.3530f;

double evaluate(nn::Module& model, const data::Dataset& set, int64_t batch) {
  NoGradGuard no_grad;
  model.eval();
  int64_t right = 0;
  data::BatchLoader loader(set, batch, {/*shuffle=*/false});
  for (const data::Batch& b : loader.epoch()) {
    const std::vector<int64_t> predicted = argmax(model.forward(b.X), 1).to_vector();
    for (size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == b.y[i];
  }
  model.train();
  return static_cast<double>(right) / static_cast<double>(set.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a 784-256-PReLU-256-PReLU-10 network on Fashion-MNIST"};
  int64_t epochs = 20, batch = 128, threads = 0, limit = 0;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  uint64_t seed = 1;
  std::string dir = io::kFashionMnistDir, checkpoint = "fashion_mnist.safetensors";
  app.add_option("--epochs", epochs, "passes over the training set")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "initial learning rate (cosine decay to 0)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "minibatch size")->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0));
  app.add_option("--weight-decay", weight_decay, "weight decay of the Linear weights");
  app.add_option("--data", dir, "directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  app.add_option("--checkpoint", checkpoint, "where to save the trained model ('' for nowhere)");
  app.add_option("--seed", seed, "seed of the initial weights and the shuffling");
  app.add_option("--threads", threads, "threads for the kernels (0: all cores)");
  app.add_option("--limit", limit, "use only the first N training and N test images (0: all)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(static_cast<int>(threads));
    auto t0 = std::chrono::steady_clock::now();
    data::Dataset train = io::load_fashion_mnist(dir, true),
                  test = io::load_fashion_mnist(dir, false);
    for (data::Dataset* set : {&train, &test}) {
      if (limit > 0 && limit < set->size()) {
        std::vector<int64_t> first(static_cast<size_t>(limit));
        std::iota(first.begin(), first.end(), int64_t{0});
        set->X = index_select(set->X, 0, first);
        set->y.resize(first.size());
      }
      set->X.mutable_array() = (set->X.array() - kPixelMean) / kPixelStd;
    }
    std::printf("loaded %lld training and %lld test images from %s in %.1fs\n",
                static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                dir.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    Generator gen(seed);
    auto model = std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(784, 256, gen), std::make_shared<nn::PReLU>(256),
        std::make_shared<nn::Linear>(256, 256, gen), std::make_shared<nn::PReLU>(256),
        std::make_shared<nn::Linear>(256, 10, gen));
    std::cout << model->str() << "\n";

    std::vector<Tensor> weights, slopes;
    for (const auto& [name, child] : model->named_children())
      for (const Tensor& p : child->parameters())
        (std::dynamic_pointer_cast<nn::PReLU>(child) ? slopes : weights).push_back(p);
    const auto options = optim::SGDOptions(lr).momentum(momentum).nesterov(true);
    optim::SGD optimizer(
        {{weights, optim::SGDOptions(options).weight_decay(weight_decay)}, {slopes, options}});
    data::BatchLoader loader(train, batch, {/*shuffle=*/true, /*drop_last=*/false, seed});
    const int64_t steps_per_epoch = loader.num_batches();
    optim::CosineAnnealingLR schedule(optimizer, epochs * steps_per_epoch);

    double best = 0, total_seconds = 0;
    for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      double loss_sum = 0;
      for (const data::Batch& b : loader.epoch()) {
        optimizer.zero_grad();
        const Tensor loss = nn::cross_entropy(model->forward(b.X), b.y);
        loss.backward();
        optimizer.step();
        schedule.step();
        loss_sum += loss.item();
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      total_seconds += seconds;
      const double acc = evaluate(*model, test, 1000);
      best = std::max(best, acc);
      std::printf("epoch %2lld/%lld  loss %.4f  test accuracy %.2f %%  %.2f s/epoch\n",
                  static_cast<long long>(epoch), static_cast<long long>(epochs),
                  loss_sum / static_cast<double>(steps_per_epoch), 100 * acc, seconds);
      std::fflush(stdout);
    }
    const double final_acc = evaluate(*model, test, 1000);
    std::printf("final test accuracy %.2f %% (best %.2f %%), %.2f s per epoch on average\n",
                100 * final_acc, 100 * best, total_seconds / static_cast<double>(epochs));
    // Peak resident memory against what must be held: the images as float32 and the parameters.
    double data_mb = 0, parameters_mb = 0;
    for (const data::Dataset* set : {&train, &test})
      data_mb += static_cast<double>(set->X.numel()) * sizeof(float) / 1e6;
    for (const Tensor& p : model->parameters())
      parameters_mb += static_cast<double>(p.numel()) * sizeof(float) / 1e6;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double peak_mb = static_cast<double>(usage.ru_maxrss) * 1024 / 1e6;  // ru_maxrss: KiB
    std::printf(
        "peak resident memory %.0f MB: %.2fx the data set (%.0f MB) plus parameters (%.1f MB)\n",
        peak_mb, peak_mb / (data_mb + parameters_mb), data_mb, parameters_mb);

    if (!checkpoint.empty()) {
      io::NamedTensors all = io::to_named_tensors(model->named_parameters(), "model.");
      io::NamedTensors state = io::to_named_tensors(optimizer.state_dict().state, "optim.");
      all.insert(all.end(), state.begin(), state.end());
      io::save_safetensors(checkpoint, all,
                           {{"epochs", std::to_string(epochs)},
                            {"test_accuracy", std::to_string(final_acc)},
                            {"architecture", "784-256-PReLU-256-PReLU-10"}});
      std::printf("saved %s\n", checkpoint.c_str());
    }
    return 0;
  } catch (const Error& e) {
    std::cerr << "train_fashion_mnist: " << e.what() << "\n";
    return 2;
  }
}
