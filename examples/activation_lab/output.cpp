// Section 9 of the activation lab: the output layer of a multi-class classifier, softmax with
// cross-entropy against one sigmoid per class with binary cross-entropy (one-vs-rest), on the
// same MLP body, paired by seed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

struct Design {
  int64_t train, test, width, epochs;
  std::size_t seeds;  // the minimum; a larger --seeds raises it
};
// 32 seeds: a pilot of 8 measured a paired SD of 0.25 points, which 32 pairs resolve to about
// 0.13 points at 80 % power, well inside the 0.5-point margin.
constexpr Design kFull{20000, 10000, 128, 10, 32};
constexpr Design kQuick{1000, 1000, 32, 1, 3};

constexpr double kPointMargin = 0.5;  // percentage points of test accuracy that matter
constexpr double kChance = 0.1;       // the accuracy a diverged run is scored at
constexpr int64_t kBatch = 128;
constexpr int kPlotWidth = 640;  // wide enough for the title beside the y axis' label
constexpr double kAdamLr = 1e-3;
constexpr double kPi = 3.14159265358979323846;

enum class Head { Softmax, Sigmoids };

// Test accuracy, the prediction being the largest logit for either head (softmax and the
// sigmoids are both monotone in the logit).
double accuracy(nn::Module& model, const data::Dataset& set) {
  NoGradGuard no_grad;
  model.eval();
  int64_t right = 0;
  data::BatchLoader loader(set, 1000, {/*shuffle=*/false});
  for (const data::Batch& b : loader.epoch()) {
    const std::vector<int64_t> predicted = argmax(model.forward(b.X), 1).to_vector();
    for (std::size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == b.y[i];
  }
  model.train();
  return static_cast<double>(right) / static_cast<double>(set.size());
}

// The labels as one-hot rows [n, classes], the targets of the per-class sigmoids.
Tensor one_hot(const std::vector<int64_t>& labels, int64_t classes) {
  std::vector<float> rows(labels.size() * static_cast<std::size_t>(classes), 0.0f);
  for (std::size_t i = 0; i < labels.size(); ++i)
    rows[i * static_cast<std::size_t>(classes) + static_cast<std::size_t>(labels[i])] = 1.0f;
  return Tensor::from(std::move(rows), {static_cast<int64_t>(labels.size()), classes});
}

struct Run {
  std::vector<double> curve;  // test accuracy after each epoch
  double accuracy = kNaN;     // at the end; kChance for a diverged run
  bool diverged = false;
};

// relu MLP 784 - width x 2 - 10 with either head; the same seed gives both heads the same initial
// weights and batch order. Adam with the rate decayed to 0 along a cosine over the steps.
Run train(Head head, const data::Dataset& train_set, const data::Dataset& test, const Design& d,
          uint64_t seed) {
  Mlp m = make_mlp(find_activation("relu"), 784, d.width, 2, 10, Init::Usual, seed * 1000 + 53);
  optim::Adam optimizer(m.model->parameters(), optim::AdamOptions(kAdamLr));
  data::BatchLoader loader(train_set, kBatch, {/*shuffle=*/true, /*drop_last=*/false, seed});
  const int64_t steps = d.epochs * ((train_set.size() + kBatch - 1) / kBatch);
  int64_t step = 0;
  Run r;
  for (int64_t epoch = 0; epoch < d.epochs && !r.diverged; ++epoch) {
    for (const data::Batch& b : loader.epoch()) {
      optimizer.set_lr(
          kAdamLr * 0.5 *
          (1 + std::cos(kPi * static_cast<double>(step++) / static_cast<double>(steps))));
      optimizer.zero_grad();
      const Tensor logits = m.model->forward(b.X);
      const Tensor loss = head == Head::Softmax
                              ? nn::cross_entropy(logits, b.y)
                              : nn::binary_cross_entropy_with_logits(logits, one_hot(b.y, 10));
      if (!std::isfinite(loss.item())) {
        r.diverged = true;
        break;
      }
      loss.backward();
      optimizer.step();
    }
    r.curve.push_back(r.diverged ? kChance : accuracy(*m.model, test));
  }
  r.curve.resize(static_cast<std::size_t>(d.epochs), kChance);
  r.accuracy = r.diverged ? kChance : r.curve.back();
  return r;
}

}  // namespace

Report output_layer(const Lab& lab) {
  const Design& d = lab.settings.quick ? kQuick : kFull;
  Report report;
  const auto t_start = std::chrono::steady_clock::now();
  note("output layer: softmax against per-class sigmoids");
  const data::Dataset train_set = first_rows(lab.fashion_train, d.train);
  const data::Dataset test = first_rows(lab.fashion_test, d.test);
  std::vector<uint64_t> seeds;
  for (std::size_t i = 1; i <= std::max(d.seeds, lab.seeds.size()); ++i) seeds.push_back(i);
  std::vector<Run> softmax, sigmoids;
  for (uint64_t seed : seeds) {
    softmax.push_back(train(Head::Softmax, train_set, test, d, seed));
    sigmoids.push_back(train(Head::Sigmoids, train_set, test, d, seed));
  }
  note(format("output layer took %.1f s", seconds_since(t_start)));

  report.section(
      "9. The output layer",
      "for a multi-class task, a softmax output with cross-entropy beats one sigmoid per class "
      "with binary cross-entropy (one-vs-rest).",
      format("The same relu MLP body, 784 - %lld x 2 - 10, on the first %lld Fashion-MNIST "
             "training images (10 classes), tested on %lld test images; two heads on the same "
             "10 logits: softmax + cross-entropy, or a sigmoid per class + binary cross-entropy "
             "against the one-hot label (mean over the 10 outputs); the prediction is the "
             "largest logit for both. %lld epochs of Adam (lr %g, batch %lld) with the rate "
             "decayed to 0 along a cosine (Adam's steps do not depend on the loss's scale, so the "
             "mean over 10 outputs does not slow the sigmoids). %zu seeds (1..%zu; more than the "
             "lab's seeds, for "
             "power); a seed gives both heads the same initial weights and batch order. A "
             "diverged run is scored at chance (%.0f %%) and counted. Effect: softmax's test "
             "accuracy minus the sigmoids', paired by seed, in percentage points, with the "
             "expanded bootstrap interval over seeds. Rule: supported when the interval lies "
             "above 0, not supported below 0, equivalent inside +-%.1f points, else "
             "inconclusive; the smallest difference the seeds detect at 80 %% power comes from "
             "the paired SD measured here.",
             static_cast<long long>(d.width), static_cast<long long>(train_set.size()),
             static_cast<long long>(test.size()), static_cast<long long>(d.epochs), kAdamLr,
             static_cast<long long>(kBatch), seeds.size(), seeds.size(), 100 * kChance,
             kPointMargin),
      {"softmax", "sigmoid"});

  std::vector<double> difference;
  for (std::size_t i = 0; i < seeds.size(); ++i)
    difference.push_back(100 * (softmax[i].accuracy - sigmoids[i].accuracy));
  const Estimate e = bootstrap_mean(difference);
  const double sd = sample_sd(difference), detectable = detectable_difference(sd, seeds.size());

  // Test accuracy after each epoch, the mean over seeds with its bootstrap interval.
  const auto band = [&](const std::string& label, const std::vector<Run>& runs) {
    std::vector<std::vector<double>> curves;
    for (const Run& r : runs) {
      curves.emplace_back();
      for (double accuracy : r.curve) curves.back().push_back(100 * accuracy);
    }
    return seed_band(label, iota_curve(static_cast<std::size_t>(d.epochs)), curves);
  };
  const std::string curves_png = report.figures.add(
      "output_curves.png",
      band_plot(
          {band("softmax + cross-entropy", softmax), band("sigmoid per class + BCE", sigmoids)},
          "MLP: test accuracy by output head", "epoch", "test accuracy (%)", {}, {}, kPlotWidth));
  const std::vector<double> x = iota_curve(seeds.size());
  const std::string difference_png = report.figures.add(
      "output_differences.png",
      band_plot(
          {{"softmax - sigmoids, per seed", x, difference, {}, {}},
           {"mean", x, std::vector<double>(seeds.size(), e.mean),
            std::vector<double>(seeds.size(), e.lo), std::vector<double>(seeds.size(), e.hi)},
           {format("0 and margin +-%.1f", kPointMargin), x, std::vector<double>(seeds.size(), 0.0),
            std::vector<double>(seeds.size(), -kPointMargin),
            std::vector<double>(seeds.size(), kPointMargin)}},
          "softmax minus per-class sigmoids", "seed (runs paired by seed)",
          "test accuracy difference (points)", {}, {}, kPlotWidth));
  const auto accuracies = [](const std::vector<Run>& runs) {
    std::vector<double> a;
    for (const Run& r : runs) a.push_back(r.accuracy);
    return a;
  };
  const auto diverged = [](const std::vector<Run>& runs) {
    int n = 0;
    for (const Run& r : runs) n += r.diverged;
    return n;
  };
  report.table_header({"activation", "output head", "test % (bootstrap over seeds)",
                       "softmax minus sigmoids, points", "diverged", "figure"});
  report.row({"softmax", "softmax + cross-entropy",
              show(bootstrap_mean(accuracies(softmax)), 2, 100),
              show(e, 2) + format(" (SD %.2f; detectable %.2f)", sd, detectable),
              std::to_string(diverged(softmax)), link(curves_png)});
  report.row({"sigmoid", "sigmoid per class + binary cross-entropy",
              show(bootstrap_mean(accuracies(sigmoids)), 2, 100), "-",
              std::to_string(diverged(sigmoids)), link(difference_png)});
  report.text << "\n![test accuracy by epoch](" << curves_png << ") ![paired differences]("
              << difference_png << ")\n";
  // A supported difference whose whole interval is smaller than the margin: the reason says so.
  const std::string below_margin =
      e.known() && e.lo > 0 && e.hi < kPointMargin
          ? format(
                "The whole interval lies below the %.1f-point margin: better, by less than "
                "what matters. ",
                kPointMargin)
          : std::string();
  report.finding(
      "softmax beats per-class sigmoids at the output", finding_greater(e, kPointMargin), e,
      format("rule: softmax - sigmoids' paired bootstrap interval above 0, below 0, inside "
             "+-%.1f points (equivalent) or else inconclusive; softmax - sigmoids = %s points "
             "over %zu seeds (paired SD %.2f, so detectable at 80 %% power: %.2f points). %s"
             "Tested on a relu MLP on Fashion-MNIST (10 balanced classes, one label each); not "
             "on multi-label tasks, where per-class sigmoids are the right model.",
             kPointMargin, show(e, 2).c_str(), seeds.size(), sd, detectable, below_margin.c_str()));
  return report;
}

}  // namespace activation_lab
