// An input-gradient penalty: the same classifier (same data, same initial weights) trained on a
// small noisy two-moons set (50 points per class, noise 0.3) twice, 2-64-tanh-64-tanh-2, with
// Adam (lr 3e-3, 3000 full-batch steps):
//   plain:     loss = cross_entropy(f(x), y)
//   penalised: loss = cross_entropy(f(x), y) + lambda * mean_i ||d f(x~_i) / d x~_i||_F^2
// where f are the logits, ||.||_F the Frobenius norm of a point's 2 x 2 Jacobian (one
// eigrad::grad with create_graph per class; the points are independent, so the gradient of the
// sum over points is each point's own), and x~_i = x_i + N(0, jitter^2 I), the training points
// moved by noise drawn afresh every step (jitter 0.1). Minimising it needs the gradient of a
// gradient; lambda is 0.01. Why the jitter: penalised at the points themselves (--jitter 0) the
// network keeps its logits flat at each point and steepens them in between: the boundary grows
// islands around single points and gets no shorter, and the test accuracy does not improve
// (over 10 seeds, lambda 0.05). Around the points, the penalty flattens the logits over the
// region the data covers, and the boundary gets shorter and smoother.
//
// Each seed (1..10) draws its own data set and initial weights; the table gives, for both runs, the
// mean over seeds with a 95 % interval (Student t) and the paired difference (penalised - plain)
// of: training and test accuracy, the mean input-gradient norm ||d f / d x||_F of the logits on a
// 200 x 200 grid over the plane (the square the PNG shows), the boundary fraction (the share of
// grid points whose class differs from their right or lower neighbour's: a longer, rougher
// boundary covers more) and the time per step. The PNG shows both decision regions of seed 1 side
// by side, with the training points.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "activation_lab/stats.hpp"
#include "eigrad/eigrad.hpp"
#include "eigrad/io/progress.hpp"
#include "eigrad/plot.hpp"
#include "options.hpp"

using namespace eigrad;

namespace {

constexpr int kGridSide = 200;  // the metrics' grid: kGridSide^2 points

struct Settings {
  int64_t epochs = 3000, points = 50, hidden = 64, seeds = 10;
  double lambda = 0.01, lr = 3e-3, noise = 0.3, jitter = 0.1;
  std::string activation = "tanh", png;
};

struct Result {
  double train_accuracy = 0, test_accuracy = 0, grad_norm = 0, boundary = 0, ms_per_step = 0;
  std::shared_ptr<nn::Sequential> model;
};

double accuracy(nn::Module& model, const data::Dataset& set) {
  NoGradGuard no_grad;
  const std::vector<int64_t> predicted = argmax(model.forward(set.X), 1).to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < set.y.size(); ++i) right += predicted[i] == set.y[i];
  return static_cast<double>(right) / static_cast<double>(set.y.size());
}

// ||d f(x_i) / d x_i||_F^2 for every row of x ([n, 2], requiring grad): a [n] tensor, in the graph
// when create_graph (to train on), else plain values.
Tensor jacobian_norm2(const Tensor& logits, const Tensor& x, int64_t classes, bool create_graph) {
  const int64_t n = logits.size(0);
  Tensor total;
  for (int64_t k = 0; k < classes; ++k) {
    Tensor pick = Tensor::zeros({n, classes});  // selects class k of every point
    for (int64_t i = 0; i < n; ++i) pick.mutable_at({i, k}) = 1;
    const Tensor g = grad({logits}, {x}, {pick}, /*retain_graph=*/true, create_graph)[0];
    const Tensor g2 = sum(g * g, 1);
    total = total.defined() ? total + g2 : g2;
  }
  return total;
}

// The square of kGridSide^2 points covering the data (with 10 % padding), as [m, 2].
Tensor plane_grid(const Tensor& X) {
  const auto& a = X.array();
  float x0 = a(0), x1 = a(0), y0 = a(1), y1 = a(1);
  for (int64_t i = 0; i < X.size(0); ++i) {
    x0 = std::min(x0, a(2 * i)), x1 = std::max(x1, a(2 * i));
    y0 = std::min(y0, a(2 * i + 1)), y1 = std::max(y1, a(2 * i + 1));
  }
  const float span = std::max(x1 - x0, y1 - y0) * 1.2f;
  const float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  Tensor grid = Tensor::empty({kGridSide * kGridSide, 2});
  float* p = grid.mutable_data();
  for (int r = 0; r < kGridSide; ++r)
    for (int c = 0; c < kGridSide; ++c) {
      *p++ = cx + span * (static_cast<float>(c) / (kGridSide - 1) - 0.5f);
      *p++ = cy - span * (static_cast<float>(r) / (kGridSide - 1) - 0.5f);
    }
  return grid;
}

// The mean input-gradient norm of the logits and the boundary fraction on the grid.
void grid_metrics(nn::Module& model, const Tensor& grid, int64_t classes, Result& r) {
  const Tensor x = grid.detach().set_requires_grad();
  const Tensor logits = model.forward(x);
  const Tensor norm2 = jacobian_norm2(logits, x, classes, /*create_graph=*/false);
  r.grad_norm = norm2.array().sqrt().mean();
  const std::vector<int64_t> cls = argmax(logits, 1).to_vector();
  const auto at = [&](int row, int col) { return cls[static_cast<size_t>(row * kGridSide + col)]; };
  int64_t edge = 0;
  for (int row = 0; row < kGridSide; ++row)
    for (int col = 0; col < kGridSide; ++col)
      edge += (col + 1 < kGridSide && at(row, col) != at(row, col + 1)) ||
              (row + 1 < kGridSide && at(row, col) != at(row + 1, col));
  r.boundary = static_cast<double>(edge) / (kGridSide * kGridSide);
}

// One training run; lambda 0 is the plain classifier.
Result train(const data::Dataset& train_set, const data::Dataset& test_set, double lambda,
             uint64_t seed, const Settings& s) {
  Generator gen(seed);  // the same initial weights for both runs
  Result r;
  r.model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(2, s.hidden, gen),
      std::make_shared<nn::Activation>(s.activation),
      std::make_shared<nn::Linear>(s.hidden, s.hidden, gen),
      std::make_shared<nn::Activation>(s.activation),
      std::make_shared<nn::Linear>(s.hidden, train_set.num_classes, gen));
  optim::Adam adam(r.model->parameters(), optim::AdamOptions(s.lr));
  const Tensor x = train_set.X.detach().set_requires_grad(lambda > 0 && s.jitter == 0);
  Generator noise(seed + 1);

  io::ProgressOptions progress;
  progress.label =
      (lambda > 0 ? "penalised, seed " : "plain, seed ") + std::to_string(seed) + ", epoch";
  progress.every = std::max<int64_t>(1, s.epochs / 2);
  io::ProgressBar bar(s.epochs, progress);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 1; epoch <= s.epochs; ++epoch) {
    adam.zero_grad();
    const Tensor logits = r.model->forward(x);
    Tensor loss = nn::cross_entropy(logits, train_set.y);
    double penalty = 0;
    if (lambda > 0) {
      Tensor at = x, f = logits;
      if (s.jitter > 0) {  // the penalty's points: fresh noise around the data every step
        at = (x.detach() + Tensor::normal(x.shape(), 0.0f, static_cast<float>(s.jitter), noise))
                 .set_requires_grad();
        f = r.model->forward(at);
      }
      const Tensor p = mean(jacobian_norm2(f, at, train_set.num_classes, true));
      penalty = p.item();
      loss = loss + p * static_cast<float>(lambda);
    }
    loss.backward();
    adam.step();
    bar.update(epoch, {{"loss", loss.item()}, {"penalty", penalty}});
  }
  r.ms_per_step = 1e3 *
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                  static_cast<double>(s.epochs);
  bar.finish();
  r.train_accuracy = accuracy(*r.model, train_set);
  r.test_accuracy = accuracy(*r.model, test_set);
  grid_metrics(*r.model, plane_grid(train_set.X), train_set.num_classes, r);
  return r;
}

plot::Image regions(const Result& r, const data::Dataset& set, const std::string& title) {
  plot::DecisionRegionOptions options;
  options.width = options.height = 480;
  options.padding = 0.1;
  options.title = title;
  return plot::render_decision_regions(
      [&](const Tensor& points) {
        NoGradGuard no_grad;
        return argmax(r.model->forward(points), 1).to_vector();
      },
      set.X, set.y, options);
}

std::string interval_text(const activation_lab::Interval& i, double scale, const char* format) {
  char buf[64];
  if (i.known()) {
    const std::string f = std::string(format) + " [" + format + ", " + format + "]";
    std::snprintf(buf, sizeof buf, f.c_str(), scale * i.mean, scale * i.lo, scale * i.hi);
  } else {
    std::snprintf(buf, sizeof buf, format, scale * i.mean);
  }
  return buf;
}

// Trains both networks for every seed and prints the table.
void experiment(const Settings& s) {
  std::printf(
      "two moons, noise %g: %lld training points per seed, 2000 test points (another seed)\n"
      "network 2-%lld-%s-%lld-%s-2, Adam lr %g, %lld full-batch epochs, %lld seed(s)\n"
      "penalty: lambda * mean_i ||d logits / d x at x_i + N(0, %g^2)||_F^2, lambda %g\n\n",
      s.noise, static_cast<long long>(2 * s.points), static_cast<long long>(s.hidden),
      s.activation.c_str(), static_cast<long long>(s.hidden), s.activation.c_str(), s.lr,
      static_cast<long long>(s.epochs), static_cast<long long>(s.seeds), s.jitter, s.lambda);
  std::fflush(stdout);

  struct Metric {
    const char* name;
    double Result::*field;
    double scale;
    const char* format;
    std::vector<double> plain, penalised;
  };
  std::vector<Metric> metrics = {
      {"train accuracy (%)", &Result::train_accuracy, 100, "%.1f", {}, {}},
      {"test accuracy (%)", &Result::test_accuracy, 100, "%.1f", {}, {}},
      {"mean |df/dx|_F on the grid", &Result::grad_norm, 1, "%.2f", {}, {}},
      {"boundary fraction (%)", &Result::boundary, 100, "%.2f", {}, {}},
      {"ms per step", &Result::ms_per_step, 1, "%.3f", {}, {}}};
  std::vector<plot::Image> panels;
  for (int64_t k = 1; k <= s.seeds; ++k) {
    const uint64_t seed = static_cast<uint64_t>(k);
    const data::Dataset train_set = data::make_moons(s.points, seed, s.noise);
    const data::Dataset test_set = data::make_moons(1000, seed + 1000, s.noise);
    const Result plain = train(train_set, test_set, 0.0, seed, s);
    const Result penalised = train(train_set, test_set, s.lambda, seed, s);
    for (Metric& m : metrics) {
      m.plain.push_back(plain.*m.field);
      m.penalised.push_back(penalised.*m.field);
    }
    if (k == 1 && !s.png.empty()) {
      char left[64], right[64];
      std::snprintf(left, sizeof left, "no penalty: test %.1f%%", 100 * plain.test_accuracy);
      std::snprintf(right, sizeof right, "lambda %g: test %.1f%%", s.lambda,
                    100 * penalised.test_accuracy);
      panels = {regions(plain, train_set, left), regions(penalised, train_set, right)};
    }
  }

  char penalised_name[48];
  std::snprintf(penalised_name, sizeof penalised_name, "+ penalty (lambda %g)", s.lambda);
  std::printf("\nmean over %lld seed(s) [95 %% interval]\n%-27s %-24s %-24s %s\n",
              static_cast<long long>(s.seeds), "", "cross-entropy", penalised_name,
              "difference (paired)");
  for (const Metric& m : metrics) {
    const auto diff = activation_lab::paired_difference(m.penalised, m.plain);
    std::printf(
        "%-27s %-24s %-24s %s\n", m.name,
        interval_text(activation_lab::mean_interval(m.plain), m.scale, m.format).c_str(),
        interval_text(activation_lab::mean_interval(m.penalised), m.scale, m.format).c_str(),
        interval_text(activation_lab::mean_interval(diff), m.scale, m.format).c_str());
  }
  std::printf(
      "(the grid: %d x %d points over the square the PNG shows; boundary fraction: the share of "
      "grid points with a neighbour of another class)\n",
      kGridSide, kGridSide);
  if (!s.png.empty()) {
    plot::write_png(s.png, plot::tile_images(panels, 2));
    std::printf("\nwrote %s (decision regions of seed 1 without and with the penalty)\n",
                s.png.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a classifier with and without an input-gradient penalty and compare"};
  Settings s;
  s.png = "gradient_penalty.png";
  bool quick = false;
  app.add_flag("--quick", quick, "a short run for the tests: 150 epochs, 1 seed (unless given)");
  app.add_option("--lambda", s.lambda, "weight of the penalty")->check(examples::positive());
  app.add_option("--epochs", s.epochs, "full-batch Adam steps per run")
      ->check(examples::positive());
  app.add_option("--seeds", s.seeds, "seeds 1..N (data and initial weights)")
      ->check(examples::positive());
  app.add_option("--points", s.points, "training points per class")->check(examples::positive());
  app.add_option("--hidden", s.hidden, "units per hidden layer")->check(examples::positive());
  app.add_option("--activation", s.activation, "the hidden layers' activation (catalogue name)");
  app.add_option("--lr", s.lr, "Adam's learning rate")->check(examples::positive());
  app.add_option("--noise", s.noise, "standard deviation of the moons' noise")
      ->check(examples::non_negative());
  app.add_option("--jitter", s.jitter,
                 "penalise at the training points plus N(0, jitter^2) noise, drawn every step")
      ->check(examples::non_negative());
  app.add_option("--png", s.png, "where to draw the two decision regions ('' for nowhere)");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    if (!app.count("--epochs")) s.epochs = 150;
    if (!app.count("--seeds")) s.seeds = 1;
  }

  const ActivationInfo* info = nullptr;
  try {
    info = &find_activation(s.activation);
  } catch (const Error&) {
  }
  if (!info || info->kind != ActivationKind::Elementwise) {
    std::cerr << "gradient_penalty: --activation: '" << s.activation
              << "' is not an elementwise activation of the catalogue\n";
    return 2;
  }
  if (const std::string problem = examples::check_output_path("--png", s.png); !problem.empty()) {
    std::cerr << "gradient_penalty: " << problem << "\n";
    return 2;
  }
  try {
    set_num_threads(1);  // a hundred points: one thread is fastest
    experiment(s);
    return 0;
  } catch (const Error& e) {
    std::cerr << "gradient_penalty: " << e.what() << "\n";
    return 2;
  }
}
