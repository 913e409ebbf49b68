// Trains a small convolutional network on Fashion-MNIST (Debian's dataset-fashion-mnist):
//   conv(1->32, 3x3, padding 1) - BatchNorm2d - PReLU(32) - max-pool 2 -
//   conv(32->64, 3x3, padding 1) - BatchNorm2d - PReLU(64) - max-pool 2 -
//   flatten - linear(3136->128) - PReLU(128) - linear(128->10)
// with minibatch SGD, Nesterov momentum and a cosine learning-rate schedule; prints the loss, the
// test accuracy and the seconds of each epoch, saves the model (and the optimizer's state) as a
// safetensors checkpoint, and draws the first layer's filters and each PReLU layer's learned
// slopes as PNGs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/io.hpp"
#include "eigrad/plot.hpp"

using namespace eigrad;

namespace {

// Pixel statistics of the Fashion-MNIST training set, for standardising the inputs.
constexpr float kPixelMean = 0.2860f, kPixelStd = 0.3530f;
constexpr int64_t kSide = 28;

std::shared_ptr<nn::Sequential> make_model(Generator& gen) {
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 32, 3).padding(1), gen),
      std::make_shared<nn::BatchNorm2d>(32), std::make_shared<nn::PReLU>(32),
      std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)),
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(32, 64, 3).padding(1), gen),
      std::make_shared<nn::BatchNorm2d>(64), std::make_shared<nn::PReLU>(64),
      std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(64 * 7 * 7, 128, gen), std::make_shared<nn::PReLU>(128),
      std::make_shared<nn::Linear>(128, 10, gen));
}

double evaluate(nn::Module& model, const data::Dataset& set, int64_t batch) {
  NoGradGuard no_grad;
  model.eval();  // batch norm with its running statistics
  int64_t right = 0;
  data::BatchLoader loader(set, batch, {/*shuffle=*/false});
  for (const data::Batch& b : loader.epoch()) {
    const std::vector<int64_t> predicted = argmax(model.forward(b.X), 1).to_vector();
    for (size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == b.y[i];
  }
  model.train();
  return static_cast<double>(right) / static_cast<double>(set.size());
}

// Mirrors each image of the batch ([n, 1, 28, 28]) left to right with probability 1/2.
void random_flips(Tensor& images, Generator& gen) {
  float* pixels = images.mutable_data();
  for (int64_t i = 0; i < images.shape()[0]; ++i) {
    if (gen.uniform() < 0.5) continue;
    for (int64_t row = 0; row < kSide; ++row) {
      float* begin = pixels + (i * kSide + row) * kSide;
      std::reverse(begin, begin + kSide);
    }
  }
}

// Blue for negative, white for zero, red for positive; v in [-1, 1].
plot::Color diverging(double v) {
  const double a = std::min(1.0, std::abs(v));
  const auto fade = [a](double full) { return static_cast<uint8_t>(255 - a * (255 - full)); };
  return v < 0 ? plot::Color{fade(33), fade(102), fade(172)}
               : plot::Color{fade(178), fade(24), fade(43)};
}

// The first convolution's kernels ([32, 1, 3, 3]) as a tile of upscaled 3x3 squares on one
// colour scale, symmetric around zero.
void plot_filters(const std::string& path, const Tensor& weight) {
  constexpr int kCell = 24, kBorder = 2;
  const int64_t filters = weight.shape()[0], kh = weight.shape()[2], kw = weight.shape()[3];
  const std::vector<float> w = weight.to_vector();
  double largest = 0;
  for (float v : w) largest = std::max(largest, std::abs(static_cast<double>(v)));
  std::vector<plot::Image> tiles;
  for (int64_t f = 0; f < filters; ++f) {
    plot::Image tile(static_cast<int>(kw) * kCell + 2 * kBorder,
                     static_cast<int>(kh) * kCell + 2 * kBorder);
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        tile.fill_rect(kBorder + static_cast<int>(x) * kCell, kBorder + static_cast<int>(y) * kCell,
                       kCell, kCell,
                       diverging(w[static_cast<size_t>((f * kh + y) * kw + x)] / largest));
    tiles.push_back(tile);
  }
  const plot::Image grid = plot::tile_images(tiles, 8);
  char title[96];
  std::snprintf(title, sizeof title, "CONV1 FILTERS: BLUE < 0 < RED, MAX |W| %.3f", largest);
  plot::Image image(std::max(grid.width(), plot::Image::text_width(title) + 8) + 8,
                    grid.height() + plot::Image::text_height() + 16);
  image.draw_text(4, 4, title, plot::kBlack);
  image.paste(grid, 4, plot::Image::text_height() + 12);
  plot::write_png(path, image);
}

// One PReLU layer's slopes against the channel index, with PyTorch's initial 0.25 for reference.
void plot_slopes(const std::string& path, const std::string& title, const Tensor& slopes) {
  plot::Curve learned{"learned slope", {}, {}, {}},
      initial{"initial 0.25", {}, {}, plot::Color{150, 150, 150}};
  const std::vector<float> s = slopes.to_vector();
  for (size_t c = 0; c < s.size(); ++c) {
    learned.x.push_back(static_cast<double>(c));
    learned.y.push_back(s[c]);
  }
  initial.x = {0.0, static_cast<double>(s.size() - 1)};
  initial.y = {0.25, 0.25};
  plot::LinePlotOptions options;
  options.title = title;
  plot::plot_lines(path, {initial, learned}, options);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Train a small convolutional network (conv-BN-PReLU-pool x2, linear-PReLU-linear) "
      "on Fashion-MNIST"};
  int64_t epochs = 15, batch = 128, threads = 0, limit = 0;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  bool flip = true;
  uint64_t seed = 1;
  std::string dir = io::kFashionMnistDir, checkpoint = "fashion_cnn.safetensors",
              png = "fashion_cnn";
  app.add_option("--epochs", epochs, "passes over the training set")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "initial learning rate (cosine decay to 0)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "minibatch size")->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "SGD (Nesterov) momentum")->check(CLI::Range(0.0, 1.0));
  app.add_option("--weight-decay", weight_decay, "weight decay of the Conv2d and Linear weights");
  app.add_option("--flip", flip, "mirror a random half of each batch left to right");
  app.add_option("--data", dir, "directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  app.add_option("--checkpoint", checkpoint, "where to save the trained model ('' for nowhere)");
  app.add_option(
      "--png", png,
      "prefix of the pictures: PREFIX_filters.png, PREFIX_prelu{1,2,3}.png ('' for none)");
  app.add_option("--seed", seed, "seed of the initial weights, the shuffling and the flips");
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
      set->X = reshape(set->X, {set->size(), 1, kSide, kSide});
    }
    std::printf("loaded %lld training and %lld test images from %s in %.1fs\n",
                static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                dir.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    Generator gen(seed), flips(seed + 1);
    const std::shared_ptr<nn::Sequential> model = make_model(gen);
    std::cout << model->str() << "\n";

    // Weight decay on the convolution and linear weights only, not on biases, batch norm's
    // affine parameters or PReLU's slopes.
    std::vector<Tensor> decayed, others;
    for (const auto& [name, p] : model->named_parameters())
      (p.rank() >= 2 ? decayed : others).push_back(p);
    const auto options = optim::SGDOptions(lr).momentum(momentum).nesterov(true);
    optim::SGD optimizer(
        {{decayed, optim::SGDOptions(options).weight_decay(weight_decay)}, {others, options}});
    data::BatchLoader loader(train, batch, {/*shuffle=*/true, /*drop_last=*/false, seed});
    const int64_t steps_per_epoch = loader.num_batches();
    optim::CosineAnnealingLR schedule(optimizer, epochs * steps_per_epoch);

    double best = 0, total_seconds = 0;
    for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      // A bar over the epoch's batches on a terminal; in a log, the epoch's line below suffices.
      std::optional<io::ProgressBar> bar;
      if (io::ProgressBar::stdout_is_terminal()) {
        io::ProgressOptions bar_options;
        bar_options.label = "epoch " + std::to_string(epoch) + " batch";
        bar.emplace(steps_per_epoch, bar_options);
      }
      double loss_sum = 0;
      int64_t step = 0;
      for (data::Batch b : loader.epoch()) {
        if (flip) random_flips(b.X, flips);
        optimizer.zero_grad();
        const Tensor loss = nn::cross_entropy(model->forward(b.X), b.y);
        loss.backward();
        optimizer.step();
        schedule.step();
        loss_sum += loss.item();
        ++step;
        if (bar) bar->update(step, {{"loss", loss_sum / static_cast<double>(step)}});
      }
      if (bar) bar->finish();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      total_seconds += seconds;
      const double acc = evaluate(*model, test, 1000);
      best = std::max(best, acc);
      std::printf("epoch %2lld/%lld  loss %.4f  test accuracy %.2f %%  %.1f s/epoch\n",
                  static_cast<long long>(epoch), static_cast<long long>(epochs),
                  loss_sum / static_cast<double>(steps_per_epoch), 100 * acc, seconds);
      std::fflush(stdout);
    }
    const double final_acc = evaluate(*model, test, 1000);
    std::printf("final test accuracy %.2f %% (best %.2f %%), %.1f s per epoch on average\n",
                100 * final_acc, 100 * best, total_seconds / static_cast<double>(epochs));

    if (!checkpoint.empty()) {
      io::NamedTensors all = io::to_named_tensors(model->state_dict(), "model.");
      io::NamedTensors state = io::to_named_tensors(optimizer.state_dict().state, "optim.");
      all.insert(all.end(), state.begin(), state.end());
      io::save_safetensors(
          checkpoint, all,
          {{"epochs", std::to_string(epochs)},
           {"test_accuracy", std::to_string(final_acc)},
           {"architecture", "conv32-bn-prelu-pool-conv64-bn-prelu-pool-fc128-prelu-fc10"}});
      std::printf("saved %s\n", checkpoint.c_str());
    }
    if (!png.empty()) {
      plot_filters(png + "_filters.png", model->parameter("0.weight"));
      std::printf("wrote %s_filters.png\n", png.c_str());
      int layer = 0;
      for (const auto& [name, child] : model->named_children())
        if (std::dynamic_pointer_cast<nn::PReLU>(child)) {
          const Tensor slopes = child->parameters().front();
          const std::string path = png + "_prelu" + std::to_string(++layer) + ".png";
          plot_slopes(
              path, "PRELU " + std::to_string(layer) + " (MODULE " + name + "): SLOPE PER CHANNEL",
              slopes);
          std::printf("wrote %s\n", path.c_str());
        }
    }
    return 0;
  } catch (const Error& e) {
    std::cerr << "train_fashion_cnn: " << e.what() << "\n";
    return 2;
  }
}
