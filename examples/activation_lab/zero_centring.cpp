// Section 6 of the activation lab: does zero-centring speed training? sigmoid against
// sigmoid(x) - 0.5, which has the same derivative and differs only in its outputs' mean, paired by
// seed, without and with batch normalisation before the activation.
#include <algorithm>
#include <chrono>
#include <cmath>
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

// MLPs 784 - kWidth x kDepth - 10 on a Fashion-MNIST subset, plain SGD (no momentum, which
// would partly hide the zig-zag that non-centred inputs cause), minibatches of kBatch.
constexpr int64_t kDepth = 4, kWidth = 64, kBatch = 64;
constexpr double kLr = 0.1;
// The smallest difference in final training loss that matters (nats).
constexpr double kLossMargin = 0.02;

// Training without batch norm sits on a plateau near log 10 for a few hundred steps and needs
// more of them; with it the loss falls at once. Each setting has its own step budget and its own
// target for the time-to-target curves: a training loss (on the probe images, nats) that a pilot
// run (seeds 1-8, 1500 steps) reached in about two thirds of the budget. A run that never gets
// there is censored at its last step.
struct Schedule {
  int64_t steps, checkpoints;
  double target;
};

struct Sizes {
  int64_t train, test, probe;
  std::size_t seeds;  // at least this many (seeds 1..n), whatever --seeds says
  Schedule plain, normalised;
};
Sizes sizes(bool quick) {
  if (quick) return {500, 300, 200, 3, {40, 4, 2.2}, {40, 4, 1.5}};
  return {6000, 2000, 1000, 16, {1500, 30, 1.5}, {500, 20, 0.6}};
}

// The hidden nonlinearities: sigmoid and sigmoid - 0.5 have the same derivative, outputs in
// (0, 1) or (-0.5, 0.5); tanh(x) = 2 (sigmoid(2x) - 0.5), centred too but four times steeper at
// 0, is the usual zero-centred alternative and only a reference here.
enum Kind { kSigmoid, kCentred, kTanh };
const char* const kKindNames[] = {"sigmoid", "sigmoid - 0.5", "tanh"};

Tensor activate(const Tensor& z, Kind kind) {
  switch (kind) {
    case kSigmoid:
      return eigrad::sigmoid(z);
    case kCentred:
      return eigrad::sigmoid(z) - 0.5f;
    case kTanh:
      break;
  }
  return eigrad::tanh(z);
}

// Linear (- BatchNorm1d) - activation, kDepth times, then the output layer. Glorot-normal
// weights (sigmoid's usual initialisation) and zero biases; the same seed draws the same weights
// for every activation.
struct Net {
  std::vector<std::shared_ptr<nn::Linear>> hidden;
  std::vector<std::shared_ptr<nn::BatchNorm1d>> norms;  // empty: no batch normalisation
  std::shared_ptr<nn::Linear> output;
  Kind kind;

  Net(bool batch_norm, Kind kind_, uint64_t seed) : kind(kind_) {
    Generator gen(seed);
    int64_t in = 784;
    for (int64_t l = 0; l < kDepth; ++l) {
      hidden.push_back(std::make_shared<nn::Linear>(in, kWidth, gen));
      nn::init::xavier_normal_(Tensor(hidden.back()->weight()), gen);
      nn::init::zeros_(Tensor(hidden.back()->bias()));
      if (batch_norm) norms.push_back(std::make_shared<nn::BatchNorm1d>(kWidth));
      in = kWidth;
    }
    output = std::make_shared<nn::Linear>(in, 10, gen);
    nn::init::xavier_normal_(Tensor(output->weight()), gen);
    nn::init::zeros_(Tensor(output->bias()));
  }
  Tensor forward(Tensor h) const {
    for (std::size_t l = 0; l < hidden.size(); ++l) {
      h = hidden[l]->forward(h);
      if (!norms.empty()) h = norms[l]->forward(h);
      h = activate(h, kind);
    }
    return output->forward(h);
  }
  std::vector<Tensor> parameters() const {
    std::vector<Tensor> all;
    const auto add = [&](const nn::Module& m) {
      for (const Tensor& p : m.parameters()) all.push_back(p);
    };
    for (const auto& l : hidden) add(*l);
    for (const auto& n : norms) add(*n);
    add(*output);
    return all;
  }
  // Batch statistics while training, running statistics when measuring.
  void train(bool on) {
    for (const auto& n : norms) n->train(on);
  }
};

struct Run {
  std::vector<double> loss;  // training loss on the probe images at each checkpoint (0: start)
  double accuracy = kNaN;    // held-out, at the end; chance (0.1) for a diverged run
  RunTime to_target{0, false};
  bool diverged = false;
};

Run train(bool batch_norm, Kind kind, const data::Dataset& train_set, const data::Dataset& probe,
          const data::Dataset& test, const Schedule& z, uint64_t seed) {
  Net net(batch_norm, kind, seed * 1000 + 83);
  optim::SGD optimizer(net.parameters(), optim::SGDOptions(kLr));
  data::BatchLoader loader(train_set, kBatch, {/*shuffle=*/true, /*drop_last=*/true, seed});
  Run r;
  const auto measure = [&] {
    NoGradGuard no_grad;
    net.train(false);
    r.loss.push_back(nn::cross_entropy(net.forward(probe.X), probe.y).item());
    net.train(true);
  };
  measure();
  int64_t step = 0;
  for (int64_t c = 1; c <= z.checkpoints && !r.diverged; ++c) {
    const int64_t until = z.steps * c / z.checkpoints;
    // Each stretch between checkpoints starts a fresh (reshuffled) epoch and leaves the last
    // one unfinished: the batches stay random draws fixed by the seed.
    while (step < until && !r.diverged)
      for (const data::Batch& b : loader.epoch()) {
        if (step == until) break;
        optimizer.zero_grad();
        const Tensor loss = nn::cross_entropy(net.forward(b.X), b.y);
        loss.backward();
        optimizer.step();
        ++step;
        if (!std::isfinite(loss.item())) {
          r.diverged = true;
          break;
        }
      }
    if (r.diverged) break;
    measure();
    if (!r.to_target.reached && r.loss.back() <= z.target)
      r.to_target = {static_cast<double>(step), true};
  }
  if (r.diverged) {
    // The worst values, so that a diverged run counts against its activation: the loss of
    // guessing (log 10), chance accuracy, never reaching the target.
    r.loss.resize(static_cast<std::size_t>(z.checkpoints + 1), std::log(10.0));
    r.accuracy = 0.1;
    r.to_target = {static_cast<double>(z.steps), false};
    return r;
  }
  if (!r.to_target.reached) r.to_target = {static_cast<double>(z.steps), false};
  NoGradGuard no_grad;
  net.train(false);
  const std::vector<int64_t> predicted = argmax(net.forward(test.X), 1).to_vector();
  int64_t right = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == test.y[i];
  r.accuracy = static_cast<double>(right) / static_cast<double>(test.size());
  return r;
}

// The Kaplan-Meier curve as a staircase from (0, 1) to the last step.
Band survival_band(const std::string& label, const std::vector<Run>& runs, double last) {
  std::vector<RunTime> times;
  for (const Run& r : runs) times.push_back(r.to_target);
  const Survival s = kaplan_meier(times);
  Band b{label + format(" (%zu censored at step %.0f)", s.censored.size(), last), {0}, {1}, {}, {}};
  double remaining = 1;
  for (std::size_t i = 0; i < s.times.size(); ++i) {
    b.x.insert(b.x.end(), {s.times[i], s.times[i]});
    b.mean.insert(b.mean.end(), {remaining, s.remaining[i]});
    remaining = s.remaining[i];
  }
  b.x.push_back(last);
  b.mean.push_back(remaining);
  return b;
}

Band loss_band(const std::string& label, const std::vector<Run>& runs,
               const std::vector<double>& x) {
  std::vector<std::vector<double>> curves;
  for (const Run& r : runs) curves.push_back(r.loss);
  return seed_band(label, x, curves);
}

std::string median_text(const std::vector<Run>& runs) {
  std::vector<RunTime> times;
  for (const Run& r : runs) times.push_back(r.to_target);
  const double m = kaplan_meier(times).median();
  return std::isfinite(m) ? format("%.0f", m) : "beyond the run";
}

}  // namespace

Report zero_centring(const Lab& lab) {
  Report report;
  const std::string claim =
      "sigmoid's outputs are not zero-centred, which slows training "
      "(tanh, which is, trains faster).";
  if (index_of(lab.names, "sigmoid") == lab.names.size()) {
    report.not_tested("zero-centring speeds training (sigmoid - 0.5 vs sigmoid)", "sigmoid");
    return report;
  }
  const auto t0 = std::chrono::steady_clock::now();
  note("zero-centring: data");
  const Sizes z = sizes(lab.settings.quick);
  // Seeds 1..n: the lab's, extended to at least z.seeds.
  std::vector<uint64_t> seeds = lab.seeds;
  while (seeds.size() < z.seeds) seeds.push_back(seeds.size() + 1);
  const data::Dataset train_set = first_rows(lab.fashion_train, z.train);
  const data::Dataset probe = first_rows(train_set, z.probe);
  const data::Dataset test = first_rows(lab.fashion_test, z.test);

  // runs[batch_norm][kind][seed]; tanh only when it is among the activations.
  const bool has_tanh = index_of(lab.names, "tanh") < lab.names.size();
  const int kinds = has_tanh ? 3 : 2;
  std::vector<Run> runs[2][3];
  for (int bn = 0; bn < 2; ++bn)
    for (int kind = 0; kind < kinds; ++kind) {
      const auto t = std::chrono::steady_clock::now();
      for (uint64_t seed : seeds)
        runs[bn][kind].push_back(train(bn, static_cast<Kind>(kind), train_set, probe, test,
                                       bn ? z.normalised : z.plain, seed));
      note(format("zero-centring: %s%s, %.1f s", kKindNames[kind], bn ? " with batch norm" : "",
                  seconds_since(t)));
    }

  report.section(
      "6. Zero-centring", claim,
      format("The consequence, not the definition: sigmoid against sigmoid(x) - 0.5 (= tanh(x/2) "
             "/ 2), which has exactly the same derivative, so any difference comes from the "
             "outputs' mean alone. MLPs 784 - %lld x %lld - 10 on the first %lld Fashion-MNIST "
             "training images (standardised), Glorot-normal weights, zero biases, plain SGD at "
             "lr %g on minibatches of %lld: %lld steps without batch normalisation, %lld with "
             "it (BatchNorm1d between each linear layer and its activation), which trains much "
             "faster; seeds 1-%zu (at least 16 whatever --seeds says: with 8 the smallest "
             "sign-flip p is 2/256, too large to pass Holm's procedure in the lab's family of "
             "verdicts), paired (the same seed draws the same weights and batch order "
             "for both activations). Training loss measured on the first %lld training images "
             "every %lld (%lld with batch norm) steps, test accuracy on the first %lld test "
             "images at the end. Rules, written before the runs: time to a training loss of "
             "%g nats (%g with batch norm; targets from a pilot run, see the code) with "
             "Kaplan-Meier curves (runs that never reach it are censored at their last step); "
             "the verdict is on the final training loss, sigmoid's minus the centred one's, paired "
             "by seed, 95 %% expanded "
             "bootstrap interval: above 0 supported, below 0 not supported, within +-%g nats "
             "equivalent, else inconclusive. A run whose loss becomes non-finite counts as "
             "diverged with the loss of guessing (log 10), chance accuracy, and never reaching "
             "the target. The smallest difference the design detects (80 %% power) is printed "
             "with each verdict. tanh, when among the activations, runs the same way as a "
             "reference without a verdict: it is centred too, but also four times steeper at 0, "
             "so it cannot separate centring from gain.",
             static_cast<long long>(kWidth), static_cast<long long>(kDepth),
             static_cast<long long>(z.train), kLr, static_cast<long long>(kBatch),
             static_cast<long long>(z.plain.steps), static_cast<long long>(z.normalised.steps),
             seeds.size(), static_cast<long long>(z.probe),
             static_cast<long long>(z.plain.steps / z.plain.checkpoints),
             static_cast<long long>(z.normalised.steps / z.normalised.checkpoints),
             static_cast<long long>(z.test), z.plain.target, z.normalised.target, kLossMargin),
      has_tanh ? std::vector<std::string>{"sigmoid", "tanh"} : std::vector<std::string>{"sigmoid"});

  std::string figures[2];
  for (int bn = 0; bn < 2; ++bn) {
    const Schedule& schedule = bn ? z.normalised : z.plain;
    std::vector<double> x;
    for (int64_t c = 0; c <= schedule.checkpoints; ++c)
      x.push_back(static_cast<double>(schedule.steps * c / schedule.checkpoints));
    std::vector<Band> losses, survivals;
    for (int kind = 0; kind < kinds; ++kind) {
      losses.push_back(loss_band(kKindNames[kind], runs[bn][kind], x));
      survivals.push_back(survival_band(kKindNames[kind], runs[bn][kind], x.back()));
    }
    const plot::Image loss = band_plot(losses, "loss, " + std::string(bn ? "BN" : "no BN"),
                                       "training step", "train loss (nats)");
    const plot::Image survival =
        band_plot(survivals, format("to loss %g, %s", schedule.target, bn ? "BN" : "no BN"),
                  "training step", "runs above (fraction)", 0.0, 1.0);
    figures[bn] = report.figures.add(format("zero_centring_%s.png", bn ? "bn" : "plain"),
                                     plot::tile_images({loss, survival}, 2));
  }

  report.table_header({"activation", "batch norm", "final training loss (nats)",
                       "reached the target", "median steps to target", "test accuracy %",
                       "diverged", "figure"});
  for (int bn = 0; bn < 2; ++bn)
    for (int kind = 0; kind < kinds; ++kind) {
      const std::vector<Run>& v = runs[bn][kind];
      std::vector<double> loss, acc;
      std::size_t reached = 0, diverged = 0;
      for (const Run& r : v) {
        loss.push_back(r.loss.back());
        acc.push_back(r.accuracy);
        reached += r.to_target.reached;
        diverged += r.diverged;
      }
      report.row({kKindNames[kind], bn ? "yes" : "no", show(bootstrap_mean(loss)),
                  show(wilson(reached, v.size())), median_text(v),
                  show(bootstrap_mean(acc), 1, 100), format("%zu of %zu", diverged, v.size()),
                  link(figures[bn])});
    }

  Estimate effect[2];
  for (int bn = 0; bn < 2; ++bn) {
    std::vector<double> slower, acc, later;
    bool censored = false;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      slower.push_back(runs[bn][0][i].loss.back() - runs[bn][1][i].loss.back());
      later.push_back(runs[bn][0][i].to_target.time - runs[bn][1][i].to_target.time);
      censored = censored || !runs[bn][0][i].to_target.reached || !runs[bn][1][i].to_target.reached;
      acc.push_back(runs[bn][1][i].accuracy - runs[bn][0][i].accuracy);
    }
    effect[bn] = bootstrap_mean(slower);
    const Schedule& schedule = bn ? z.normalised : z.plain;
    const auto count = [](const std::vector<Run>& v, bool Run::*flag) {
      return static_cast<std::size_t>(
          std::count_if(v.begin(), v.end(), [&](const Run& r) { return r.*flag; }));
    };
    const auto reached = [](const std::vector<Run>& v) {
      return static_cast<std::size_t>(
          std::count_if(v.begin(), v.end(), [](const Run& r) { return r.to_target.reached; }));
    };
    report.finding(
        format("zero-centring speeds training (sigmoid - 0.5 vs sigmoid, %s batch norm)",
               bn ? "with" : "without"),
        finding_greater(effect[bn], kLossMargin), effect[bn],
        format("rule: sigmoid's minus sigmoid - 0.5's training loss after %lld SGD steps, paired "
               "by seed, margin %g nats; %s nats (smallest detectable %.3f); median steps to "
               "loss %g: %s against %s (reached by %zu and %zu of %zu runs; diverged %zu and "
               "%zu); steps to target, sigmoid's minus the centred one's, paired: %s; test "
               "accuracy, centred minus plain: %s points.%s Tested on a %lld-layer "
               "MLP with plain SGD at lr %g only.",
               static_cast<long long>(schedule.steps), kLossMargin, show(effect[bn]).c_str(),
               detectable_difference(sample_sd(slower), slower.size()), schedule.target,
               median_text(runs[bn][0]).c_str(), median_text(runs[bn][1]).c_str(),
               reached(runs[bn][0]), reached(runs[bn][1]), seeds.size(),
               count(runs[bn][0], &Run::diverged), count(runs[bn][1], &Run::diverged),
               censored ? "not estimated (censored runs)" : show(bootstrap_mean(later), 0).c_str(),
               show(bootstrap_mean(acc), 2, 100).c_str(),
               effect[bn].known() && effect[bn].hi < kLossMargin
                   ? " The whole interval lies below the margin: whatever the sign, the "
                     "difference is too small to matter."
                   : "",
               static_cast<long long>(kDepth), kLr));
  }
  report.text << format(
      "\nWith batch normalisation after each hidden linear layer, a constant shift of the "
      "previous activation's outputs is removed by the normalisation (in training, exactly, "
      "gradients included: the normalised output's gradient sums to 0 over the batch), so only "
      "the output layer still sees the difference. The effect without batch norm is %s nats, "
      "with it %s nats.\n",
      show(effect[0]).c_str(), show(effect[1]).c_str());
  if (has_tanh)
    for (int bn = 0; bn < 2; ++bn) {
      std::vector<double> gain;
      for (std::size_t i = 0; i < seeds.size(); ++i)
        gain.push_back(runs[bn][kCentred][i].loss.back() - runs[bn][kTanh][i].loss.back());
      report.text << format(
          "\nReference, %s batch norm: sigmoid - 0.5's final training loss minus tanh's, "
          "paired by seed, %s nats (tanh's larger gain, not its centring, since both are "
          "centred).\n",
          bn ? "with" : "without", show(bootstrap_mean(gain)).c_str());
    }
  note(format("zero-centring: done, %.1f s", seconds_since(t0)));
  return report;
}

}  // namespace activation_lab
