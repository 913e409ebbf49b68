// Section 8 of the activation lab: whether relu converges faster than sigmoid and tanh (epochs to
// a target, runs that never reach it kept as censored), and whether swish and gelu end better than
// relu on a Fashion-MNIST MLP trained to convergence and on a small CNN, with enough seeds to see
// half a point of test accuracy.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

// The sizes of the three parts; seed counts are the minimum (a larger --seeds raises them).
struct Design {
  // Convergence: 2 - width x depth - 3 on the spiral, full-batch SGD, up to `budget` epochs.
  int64_t spiral_points, spiral_width, spiral_depth, budget;
  std::size_t spiral_seeds;
  // Final quality: 784 - width x 2 - 10 on the first `train` images, tested on the first `test`.
  int64_t train, test, mlp_width, mlp_epochs;
  std::size_t mlp_seeds;
  int64_t cnn_train, cnn_epochs;
  std::size_t cnn_seeds;
};
// The seed counts come from a pilot (8 MLP seeds, 4 CNN seeds): paired SDs of 0.10 to 0.22
// points (MLP) and about 0.3 (CNN), which 32 and 12 pairs resolve to about 0.1 and 0.25 points
// at 80 % power, well inside the 0.5-point margin; the Method text gives this run's SDs.
constexpr Design kFull{100, 64, 3, 400, 16, 20000, 10000, 128, 10, 32, 10000, 6, 12};
constexpr Design kQuick{50, 16, 3, 100, 3, 1000, 1000, 32, 1, 3, 256, 1, 3};

constexpr double kSpiralTarget = 0.90;  // held-out accuracy that counts as converged
constexpr double kEpochMargin = 10;   // epochs: a smaller difference in convergence does not matter
constexpr double kPointMargin = 0.5;  // percentage points of test accuracy that matter
constexpr double kChance = 0.1;       // the accuracy a diverged Fashion-MNIST run is scored at
constexpr int64_t kBatch = 128;
constexpr int kPlotWidth = 640;  // wide enough for the title beside the y axis' label
constexpr double kPi = 3.14159265358979323846;
constexpr double kAdamLr = 1e-3;

// Whether the model classifies each example of `set` right.
std::vector<bool> correct_per_example(nn::Module& model, const data::Dataset& set) {
  NoGradGuard no_grad;
  model.eval();
  std::vector<bool> right;
  data::BatchLoader loader(set, 1000, {/*shuffle=*/false});
  for (const data::Batch& b : loader.epoch()) {
    const std::vector<int64_t> predicted = argmax(model.forward(b.X), 1).to_vector();
    for (std::size_t i = 0; i < predicted.size(); ++i) right.push_back(predicted[i] == b.y[i]);
  }
  model.train();
  return right;
}

double fraction_true(const std::vector<bool>& v) {
  return static_cast<double>(std::count(v.begin(), v.end(), true)) / static_cast<double>(v.size());
}

// ---- Convergence -------------------------------------------------------------------------------

// The epoch at which a spiral run first reaches the target, or the budget when it never does
// (censored there; a run whose loss turns non-finite never will, and is censored at the budget).
struct Climb {
  double time = 0;
  bool reached = false, diverged = false;
};

Climb spiral_climb(const ActivationInfo& info, const data::Dataset& train,
                   const data::Dataset& test, const Design& d, uint64_t seed) {
  Mlp m = make_mlp(info, 2, d.spiral_width, d.spiral_depth, train.num_classes, Init::Usual,
                   seed * 1000 + 41);
  optim::SGD optimizer(m.model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  for (int64_t epoch = 1; epoch <= d.budget; ++epoch) {
    optimizer.zero_grad();
    const Tensor loss = nn::cross_entropy(m.model->forward(train.X), train.y);
    if (!std::isfinite(loss.item())) return {static_cast<double>(d.budget), false, true};
    loss.backward();
    optimizer.step();
    if (fraction_true(correct_per_example(*m.model, test)) >= kSpiralTarget)
      return {static_cast<double>(epoch), true, false};
  }
  return {static_cast<double>(d.budget), false, false};
}

// The Kaplan-Meier fraction of runs still short of the target just after `t`.
double remaining_at(const Survival& s, double t) {
  double r = 1;
  for (std::size_t i = 0; i < s.times.size() && s.times[i] <= t; ++i) r = s.remaining[i];
  return r;
}

// ---- Final quality -----------------------------------------------------------------------------

struct Fit {
  std::vector<bool> correct;  // per test example, at the end
  double accuracy = kNaN;     // kChance for a diverged run
  bool diverged = false;
};

// Adam (lr 1e-3) with the rate decayed to 0 along a cosine over the steps, batch 128, the
// batches' order drawn from `seed` (the same for every activation, so runs pair by seed).
Fit fit(nn::Module& model, const data::Dataset& train, const data::Dataset& test, int64_t epochs,
        uint64_t seed) {
  optim::Adam optimizer(model.parameters(), optim::AdamOptions(kAdamLr));
  data::BatchLoader loader(train, kBatch, {/*shuffle=*/true, /*drop_last=*/false, seed});
  const int64_t per_epoch = (train.size() + kBatch - 1) / kBatch, steps = epochs * per_epoch;
  int64_t step = 0;
  Fit f;
  for (int64_t epoch = 0; epoch < epochs && !f.diverged; ++epoch)
    for (const data::Batch& b : loader.epoch()) {
      optimizer.set_lr(
          kAdamLr * 0.5 *
          (1 + std::cos(kPi * static_cast<double>(step++) / static_cast<double>(steps))));
      optimizer.zero_grad();
      const Tensor loss = nn::cross_entropy(model.forward(b.X), b.y);
      if (!std::isfinite(loss.item())) {
        f.diverged = true;
        break;
      }
      loss.backward();
      optimizer.step();
    }
  if (f.diverged) {
    f.accuracy = kChance;
    return f;
  }
  f.correct = correct_per_example(model, test);
  f.accuracy = fraction_true(f.correct);
  return f;
}

Fit mlp_fit(const ActivationInfo& info, const data::Dataset& train, const data::Dataset& test,
            const Design& d, uint64_t seed) {
  Mlp m = make_mlp(info, 784, d.mlp_width, 2, 10, Init::Usual, seed * 1000 + 43);
  return fit(*m.model, train, test, d.mlp_epochs, seed);
}

// conv(1->8, 3x3) - f - pool 2 - conv(8->16, 3x3) - f - pool 2 - linear(784->10).
Fit cnn_fit(const ActivationInfo& info, const data::Dataset& train, const data::Dataset& test,
            const Design& d, uint64_t seed) {
  Generator gen(seed * 1000 + 47);
  auto conv1 = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3).padding(1), gen);
  auto conv2 = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(8, 16, 3).padding(1), gen);
  auto linear = std::make_shared<nn::Linear>(16 * 7 * 7, 10, gen);
  for (const auto& conv : {conv1, conv2}) {
    init_weight(info, Init::Usual, conv->weight(), gen);
    nn::init::zeros_(Tensor(conv->bias()));
  }
  nn::init::xavier_normal_(Tensor(linear->weight()), gen);
  nn::init::zeros_(Tensor(linear->bias()));
  nn::Sequential model(
      conv1, make_activation(info, 8), std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)),
      conv2, make_activation(info, 16), std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)),
      std::make_shared<nn::Flatten>(), linear);
  return fit(model, train, test, d.cnn_epochs, seed);
}

// One activation's runs on one task against relu's, paired by seed, in percentage points.
struct Comparison {
  std::vector<double> difference;
  Estimate estimate;
  double sd = kNaN, detectable = kNaN;
  Finding finding = Finding::Inconclusive;
};

Comparison compare(const std::vector<Fit>& runs, const std::vector<Fit>& relu) {
  Comparison c;
  for (std::size_t i = 0; i < runs.size() && i < relu.size(); ++i)
    c.difference.push_back(100 * (runs[i].accuracy - relu[i].accuracy));
  c.estimate = bootstrap_mean(c.difference);
  c.sd = sample_sd(c.difference);
  c.detectable = detectable_difference(c.sd, c.difference.size());
  c.finding = finding_greater(c.estimate, kPointMargin);
  return c;
}

std::vector<double> accuracies(const std::vector<Fit>& runs) {
  std::vector<double> a;
  for (const Fit& f : runs) a.push_back(f.accuracy);
  return a;
}

int diverged_count(const std::vector<Fit>& runs) {
  int n = 0;
  for (const Fit& f : runs) n += f.diverged;
  return n;
}

// Per-seed differences and their mean with its interval, against the equivalence margin.
plot::Image difference_plot(const std::vector<std::string>& names,
                            const std::vector<Comparison>& comparisons, const std::string& title) {
  std::vector<Band> bands;
  std::size_t seeds = 0;
  for (const Comparison& c : comparisons) seeds = std::max(seeds, c.difference.size());
  const std::vector<double> x = iota_curve(seeds);
  const auto flat = [&](double v) { return std::vector<double>(seeds, v); };
  for (std::size_t k = 0; k < comparisons.size(); ++k) {
    const Comparison& c = comparisons[k];
    bands.push_back(
        {names[k] + " - relu, per seed", iota_curve(c.difference.size()), c.difference, {}, {}});
    bands.push_back({names[k] + " - relu, mean", x, flat(c.estimate.mean), flat(c.estimate.lo),
                     flat(c.estimate.hi)});
  }
  bands.push_back({format("0 and margin +-%.1f", kPointMargin), x, flat(0), flat(-kPointMargin),
                   flat(kPointMargin)});
  return band_plot(bands, title, "seed (runs paired by seed)", "test accuracy difference (points)",
                   {}, {}, kPlotWidth);
}

// A supported difference whose whole interval is smaller than the margin: better, but by less
// than what matters; the reason says so.
std::string below_margin(const Estimate& e) {
  return e.known() && e.lo > 0 && e.hi < kPointMargin
             ? format(
                   "The whole interval lies below the %.1f-point margin: better, by less than "
                   "what matters. ",
                   kPointMargin)
             : std::string();
}

std::string show_points(const Comparison& c) {
  return show(c.estimate, 2) + format(" (SD %.2f; detectable %.2f)", c.sd, c.detectable);
}

}  // namespace

Report quality(const Lab& lab) {
  const Design& d = lab.settings.quick ? kQuick : kFull;
  Report report;
  const auto t_start = std::chrono::steady_clock::now();
  const auto present = [&](const char* name) {
    return index_of(lab.names, name) < lab.names.size();
  };
  std::vector<std::string> covered;
  for (const char* name : {"relu", "sigmoid", "tanh", "swish", "gelu"})
    if (present(name)) covered.push_back(name);
  if (covered.empty()) return report;
  const auto seeds_of = [&](std::size_t minimum) {
    std::vector<uint64_t> seeds;
    for (std::size_t i = 1; i <= std::max(minimum, lab.seeds.size()); ++i) seeds.push_back(i);
    return seeds;
  };

  // (a) Convergence on the spiral.
  const std::vector<uint64_t> spiral_seeds = seeds_of(d.spiral_seeds);
  const data::Dataset spiral_train = data::make_spiral(3, d.spiral_points, 11);
  const data::Dataset spiral_test = data::make_spiral(3, d.spiral_points, 12);
  std::vector<std::string> climbers;
  std::vector<std::vector<Climb>> climbs;
  for (const char* name : {"relu", "sigmoid", "tanh"}) {
    if (!present(name)) continue;
    note(std::string("convergence: ") + name);
    climbers.push_back(name);
    climbs.emplace_back();
    for (uint64_t seed : spiral_seeds)
      climbs.back().push_back(
          spiral_climb(*find_in(lab.acts, name), spiral_train, spiral_test, d, seed));
  }
  const double spiral_seconds = seconds_since(t_start);
  note(format("convergence took %.1f s", spiral_seconds));

  // (b) and (c) Final quality: swish and gelu against relu, MLP and CNN.
  const std::vector<uint64_t> mlp_seeds = seeds_of(d.mlp_seeds), cnn_seeds = seeds_of(d.cnn_seeds);
  const data::Dataset mlp_train = first_rows(lab.fashion_train, d.train, false);
  const data::Dataset mlp_test = first_rows(lab.fashion_test, d.test, false);
  const data::Dataset cnn_train = first_rows(lab.fashion_train, d.cnn_train, true);
  const data::Dataset cnn_test = first_rows(lab.fashion_test, d.test, true);
  std::vector<std::string> finishers;
  std::vector<std::vector<Fit>> mlp, cnn;
  for (const char* name : {"relu", "swish", "gelu"}) {
    if (!present(name)) continue;
    const ActivationInfo& info = *find_in(lab.acts, name);
    note(std::string("final quality: ") + name);
    finishers.push_back(name);
    mlp.emplace_back();
    cnn.emplace_back();
    for (uint64_t seed : mlp_seeds)
      mlp.back().push_back(mlp_fit(info, mlp_train, mlp_test, d, seed));
    for (uint64_t seed : cnn_seeds)
      cnn.back().push_back(cnn_fit(info, cnn_train, cnn_test, d, seed));
  }
  note(format("final quality took %.1f s", seconds_since(t_start) - spiral_seconds));

  report.section(
      "8. Convergence and final quality",
      "relu converges faster than sigmoid and tanh; swish and gelu end with a better accuracy "
      "than relu (+0.6 to 0.9 points of top-1 on ImageNet in swish's paper).",
      format(
          "(a) Convergence: 2 - %lld x %lld - 3 MLPs on the spiral (%lld training points, %lld "
          "independent test points from other noise draws), full-batch SGD (lr 0.05, momentum "
          "0.9), usual initialisation; time = the first epoch whose held-out accuracy reaches "
          "%.0f %%, runs followed for %lld epochs, %zu seeds (1..%zu). A run that never reaches "
          "the target is censored at %lld (a diverged one too, and counted). Survival curves: "
          "Kaplan-Meier (with every censoring at the budget it is the plain fraction, so each "
          "point has a Wilson interval). Paired measure: the restricted mean time to target, "
          "min(time, %lld) of sigmoid or tanh minus relu's per seed; a censored run counts as "
          "%lld, which can only shrink a difference, never invent one. Rule: the claim holds "
          "when both differences' bootstrap intervals lie above 0 (its p the larger of the two), "
          "fails when either lies below 0, equivalence margin %.0f epochs. "
          "(b) Final quality, MLP: 784 - %lld x 2 - 10 on the first %lld Fashion-MNIST training "
          "images, tested on %lld test images, %lld epochs of Adam (lr %g, batch %lld) with the "
          "rate decayed to 0 along a cosine, %zu seeds (1..%zu; more than the lab's seeds, "
          "for power: a pilot of 8 seeds measured paired SDs of 0.1 to 0.2 points). "
          "(c) CNN: conv 8 - f - pool - conv 16 - f - pool - linear on the first %lld training "
          "images, the same test images and optimiser, %lld epochs, %zu seeds. swish, gelu and "
          "relu share the He initialisation, so a seed gives the same initial weights and batch "
          "order to each. A diverged run is scored at chance (%.0f %%) and counted. Effect: "
          "accuracy minus relu's, paired by seed, in percentage points, with the expanded "
          "bootstrap interval over seeds; rule: supported when the interval lies above 0, not "
          "supported below 0, equivalent inside +-%.1f points, else inconclusive. Power: "
          "'detectable' is the smallest difference the seeds detect at 80 %% power from the "
          "paired SD measured here. One run's accuracy has a Wilson interval over its test "
          "examples.",
          static_cast<long long>(d.spiral_width), static_cast<long long>(d.spiral_depth),
          static_cast<long long>(spiral_train.size()), static_cast<long long>(spiral_test.size()),
          100 * kSpiralTarget, static_cast<long long>(d.budget), spiral_seeds.size(),
          spiral_seeds.size(), static_cast<long long>(d.budget), static_cast<long long>(d.budget),
          static_cast<long long>(d.budget), kEpochMargin, static_cast<long long>(d.mlp_width),
          static_cast<long long>(mlp_train.size()), static_cast<long long>(mlp_test.size()),
          static_cast<long long>(d.mlp_epochs), kAdamLr, static_cast<long long>(kBatch),
          mlp_seeds.size(), mlp_seeds.size(), static_cast<long long>(cnn_train.size()),
          static_cast<long long>(d.cnn_epochs), cnn_seeds.size(), 100 * kChance, kPointMargin),
      covered);

  // (a) The table, the survival curves and the verdict.
  std::string survival_png;
  if (!climbers.empty()) {
    std::vector<Band> bands;
    const std::vector<double> epochs = iota_curve(static_cast<std::size_t>(d.budget) + 1, 0);
    for (std::size_t a = 0; a < climbers.size(); ++a) {
      std::vector<RunTime> times;
      int censored = 0;
      for (const Climb& c : climbs[a]) {
        times.push_back({c.time, c.reached});
        censored += !c.reached;
      }
      const Survival s = kaplan_meier(times);
      Band b{format("%s (%d of %zu censored at %lld)", climbers[a].c_str(), censored,
                    climbs[a].size(), static_cast<long long>(d.budget)),
             epochs,
             {},
             {},
             {}};
      for (double e : epochs) {
        const double r = remaining_at(s, e);
        const auto still = static_cast<std::size_t>(std::lround(r * climbs[a].size()));
        const Proportion p = wilson(still, climbs[a].size());
        b.mean.push_back(r);
        b.lo.push_back(p.lo);
        b.hi.push_back(p.hi);
      }
      bands.push_back(b);
    }
    survival_png = report.figures.add(
        "convergence_survival.png",
        band_plot(bands, format("spiral: time to %.0f %% test accuracy", 100 * kSpiralTarget),
                  "epoch (full-batch SGD step)", "runs short of target (fraction)", 0.0, 1.0,
                  kPlotWidth));
  }
  const auto restricted = [&](std::size_t a) {
    std::vector<double> t;
    for (const Climb& c : climbs[a]) t.push_back(std::min(c.time, static_cast<double>(d.budget)));
    return t;
  };
  report.table_header({"activation", "reached target within budget (Wilson)",
                       "median epochs (Kaplan-Meier)", "restricted mean epochs",
                       "minus relu, paired (bootstrap)", "diverged", "figure"});
  std::vector<Estimate> slower(climbers.size());
  for (std::size_t a = 0; a < climbers.size(); ++a) {
    std::size_t reached = 0;
    int diverged = 0;
    std::vector<RunTime> times;
    for (const Climb& c : climbs[a]) {
      reached += c.reached;
      diverged += c.diverged;
      times.push_back({c.time, c.reached});
    }
    const double median = kaplan_meier(times).median();
    if (climbers[0] == "relu" && a > 0)
      slower[a] = bootstrap_mean(paired_difference(restricted(a), restricted(0)));
    report.row({climbers[a], show(wilson(reached, climbs[a].size())),
                std::isfinite(median) ? format("%.0f", median)
                                      : format("> %lld", static_cast<long long>(d.budget)),
                show(bootstrap_mean(restricted(a)), 1),
                a > 0 && climbers[0] == "relu" ? show(slower[a], 1) : "-", std::to_string(diverged),
                link(survival_png)});
  }
  if (!survival_png.empty()) report.text << "\n![survival curves](" << survival_png << ")\n";
  const std::string fast_claim = "relu converges faster than sigmoid and tanh";
  if (climbers.size() == 3 && climbers[0] == "relu") {
    std::string reason = format(
        "rule: sigmoid's and tanh's restricted mean epochs to %.0f %% minus relu's (paired by "
        "seed, censored runs counted as %lld) both above 0; sigmoid %s, tanh %s epochs over %zu "
        "seeds;",
        100 * kSpiralTarget, static_cast<long long>(d.budget), show(slower[1], 1).c_str(),
        show(slower[2], 1).c_str(), spiral_seeds.size());
    for (std::size_t a : {std::size_t{1}, std::size_t{2}}) {
      const std::vector<double> diff = paired_difference(restricted(a), restricted(0));
      reason += format(" %s detectable at 80 %% power %.1f epochs;", climbers[a].c_str(),
                       detectable_difference(sample_sd(diff), diff.size()));
    }
    const Finding fs = finding_greater(slower[1], kEpochMargin),
                  ft = finding_greater(slower[2], kEpochMargin);
    // Runs that mostly never reach the target say nothing about speed: equal restricted means at
    // the budget would read as "equivalent".
    std::size_t relu_reached = 0;
    for (const Climb& c : climbs[0]) relu_reached += c.reached;
    const bool too_short = 2 * relu_reached < climbs[0].size();
    if (too_short)
      reason += format(
          " relu reached the target in only %zu of %zu runs, so the budget is too "
          "short to compare;",
          relu_reached, climbs[0].size());
    Finding f = Finding::Inconclusive;
    if (too_short)
      f = Finding::Inconclusive;
    else if (fs == Finding::Supported && ft == Finding::Supported)
      f = Finding::Supported;
    else if (fs == Finding::NotSupported || ft == Finding::NotSupported)
      f = Finding::NotSupported;
    else if (fs == Finding::Equivalent && ft == Finding::Equivalent)
      f = Finding::Equivalent;
    const Estimate& weaker = slower[1].p >= slower[2].p ? slower[1] : slower[2];
    reason += format(
        " tested on the spiral with a %lld-layer MLP and SGD only (with Adam or batch norm the "
        "gap may close).",
        static_cast<long long>(d.spiral_depth));
    report.finding(fast_claim, f, weaker, reason);
  } else {
    report.not_tested(fast_claim, !present("relu")      ? "relu"
                                  : !present("sigmoid") ? "sigmoid"
                                                        : "tanh");
  }

  // (b), (c) The table, the paired differences and the verdicts.
  if (!finishers.empty()) {
    std::vector<std::string> others;
    std::vector<Comparison> mlp_cmp, cnn_cmp;
    const bool has_relu = finishers[0] == "relu";
    for (std::size_t a = 1; has_relu && a < finishers.size(); ++a) {
      others.push_back(finishers[a]);
      mlp_cmp.push_back(compare(mlp[a], mlp[0]));
      cnn_cmp.push_back(compare(cnn[a], cnn[0]));
    }
    std::string png;
    if (!others.empty()) {
      png = report.figures.add(
          "quality_differences.png",
          plot::tile_images({difference_plot(others, mlp_cmp, "MLP: minus relu"),
                             difference_plot(others, cnn_cmp, "CNN: minus relu")},
                            2));
    } else {
      // Nothing to compare: the one activation's accuracy per seed.
      std::vector<Band> bands{
          {finishers[0], iota_curve(mlp[0].size()), accuracies(mlp[0]), {}, {}}};
      for (double& v : bands[0].mean) v *= 100;
      png = report.figures.add("quality_" + finishers[0] + ".png",
                               band_plot(bands, "MLP: " + finishers[0], "seed", "test accuracy (%)",
                                         {}, {}, kPlotWidth));
    }
    report.text << "\n";
    report.table_header(
        {"activation", "MLP test % (bootstrap over seeds)",
         "MLP seed 1 test % (Wilson over test images)", "MLP minus relu, points (SD; detectable)",
         "CNN test %", "CNN minus relu, points (SD; detectable)", "diverged (MLP/CNN)", "figure"});
    for (std::size_t a = 0; a < finishers.size(); ++a) {
      const Fit& first = mlp[a][0];
      const std::size_t right =
          static_cast<std::size_t>(std::count(first.correct.begin(), first.correct.end(), true));
      report.row({finishers[a], show(bootstrap_mean(accuracies(mlp[a])), 2, 100),
                  first.diverged ? "diverged" : show(wilson(right, first.correct.size()), 2),
                  a > 0 && has_relu ? show_points(mlp_cmp[a - 1]) : "-",
                  show(bootstrap_mean(accuracies(cnn[a])), 2, 100),
                  a > 0 && has_relu ? show_points(cnn_cmp[a - 1]) : "-",
                  format("%d/%d", diverged_count(mlp[a]), diverged_count(cnn[a])), link(png)});
    }
    report.text << "\n![paired differences per seed](" << png << ")\n";
    for (const char* name : {"swish", "gelu"}) {
      const std::string claim = std::string(name) + " is better than relu";
      const std::size_t k = index_of(others, name);
      if (k == others.size()) {
        report.not_tested(claim, has_relu ? name : "relu");
        continue;
      }
      const auto task = [&](const Comparison& c, const char* where, std::size_t seeds) {
        return format(
            "rule: %s - relu's paired bootstrap interval above 0, below 0, inside +-%.1f points "
            "(equivalent) or else inconclusive; %s - relu = %s points over %zu seeds (paired SD "
            "%.2f, so detectable at 80 %% power: %.2f points; %zu pairs would detect %.1f). "
            "%sTested on %s; not on ImageNet-scale networks, where the claim was made.",
            name, kPointMargin, name, show(c.estimate, 2).c_str(), seeds, c.sd, c.detectable,
            std::isfinite(c.sd) && c.sd > 0 ? pairs_needed(c.sd, kPointMargin) : std::size_t{2},
            kPointMargin, below_margin(c.estimate).c_str(), where);
      };
      report.finding(
          claim + " (Fashion-MNIST MLP)", mlp_cmp[k].finding, mlp_cmp[k].estimate,
          task(mlp_cmp[k],
               format("a 784 - %lld x 2 - 10 MLP trained to convergence on %lld "
                      "Fashion-MNIST images",
                      static_cast<long long>(d.mlp_width), static_cast<long long>(mlp_train.size()))
                   .c_str(),
               mlp_seeds.size()));
      report.finding(claim + " (Fashion-MNIST CNN)", cnn_cmp[k].finding, cnn_cmp[k].estimate,
                     task(cnn_cmp[k],
                          format("a two-convolution CNN on %lld Fashion-MNIST images",
                                 static_cast<long long>(cnn_train.size()))
                              .c_str(),
                          cnn_seeds.size()));
    }
  } else {
    report.not_tested("swish is better than relu", "relu");
    report.not_tested("gelu is better than relu", "relu");
  }
  note(format("quality took %.1f s", seconds_since(t_start)));
  return report;
}

}  // namespace activation_lab
