// Section 7 of the activation lab: relu units that die during training (beyond those dead at
// initialisation), whether dead units come back, what dying costs in accuracy, leaky relu's
// "stuck" units measured the same way, and PReLU against leaky relu with the same initial slope.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

// MLPs 784 - kWidth x kDepth - 10 on a Fashion-MNIST subset, minibatches of kBatch.
constexpr int64_t kDepth = 3, kWidth = 64, kBatch = 64;

struct Sizes {
  int64_t train, test, probe, steps, checkpoints;
  std::size_t seeds;  // at least this many (seeds 1..n), whatever --seeds says
};
Sizes sizes(bool quick) {
  if (quick) return {600, 300, 200, 40, 4, 3};
  return {6000, 2000, 1000, 2000, 20, 16};
}

// Where dying is tested: each optimizer at three learning rates, the last one where relu
// networks are known to lose units (large steps push a unit's bias and weights so that no input
// reaches its positive side). PReLU against leaky relu runs at each optimizer's middle rate.
struct Setting {
  std::string optimizer;  // "SGD" (momentum 0.9) or "Adam"
  double lr;
};
const std::vector<Setting>& settings() {
  static const std::vector<Setting> all{{"SGD", 0.01},  {"SGD", 0.03},  {"SGD", 0.1},
                                        {"Adam", 1e-3}, {"Adam", 1e-2}, {"Adam", 5e-2}};
  return all;
}
constexpr std::size_t kPerOptimizer = 3;

// A unit is dead (relu) or stuck (leaky relu) when its pre-activation is <= 0 on every probe
// input: relu then outputs 0 everywhere and passes no gradient; leaky relu passes only its
// small slope. The same test for both, so the counts compare.
struct Run {
  std::vector<double> dead;  // share of hidden units dead at each checkpoint (0: initialisation)
  int64_t once_dead = 0;     // units dead at a checkpoint before the last
  int64_t revived = 0;       // of those, alive at a later checkpoint
  double accuracy = kNaN;    // held-out; chance (0.1) for a diverged run
  bool diverged = false;
};

struct Unit {
  std::string name;  // the activation's catalogue name, or "leaky_relu 0.25"
  double slope;      // the negative slope that sets He initialisation's gain
  std::function<std::shared_ptr<nn::Activation>()> make;
};

// Like make_mlp (model.cpp), with the activation given by `unit`: He-normal weights for the
// unit's negative slope, so that relu, leaky relu and PReLU draw the same weights from the same
// seed up to the gain sqrt(2 / (1 + slope^2)), and runs pair by seed.
Mlp build_mlp(const Unit& unit, uint64_t seed) {
  Generator gen(seed);
  Mlp m;
  int64_t in = 784;
  for (int64_t l = 0; l < kDepth; ++l) {
    auto linear = std::make_shared<nn::Linear>(in, kWidth, gen);
    nn::init::kaiming_normal_(Tensor(linear->weight()), gen, unit.slope);
    nn::init::zeros_(Tensor(linear->bias()));
    m.hidden.push_back(linear);
    m.activations.push_back(unit.make());
    m.model->push_back(linear);
    m.model->push_back(m.activations.back());
    in = kWidth;
  }
  m.output = std::make_shared<nn::Linear>(in, 10, gen);
  nn::init::xavier_normal_(Tensor(m.output->weight()), gen);
  nn::init::zeros_(Tensor(m.output->bias()));
  m.model->push_back(m.output);
  return m;
}

struct Data {
  data::Dataset train, test;
  Tensor probe;  // the first images of `train`
};

std::vector<bool> dead_units(const Mlp& m, const Tensor& probe) {
  std::vector<Tensor> pre;
  {
    NoGradGuard no_grad;
    forward_trace(m, probe, &pre, nullptr);
  }
  std::vector<bool> dead;
  for (const Tensor& z : pre) {
    const auto top = z.array().reshaped(kWidth, z.shape()[0]).rowwise().maxCoeff();
    for (int64_t u = 0; u < kWidth; ++u) dead.push_back(top(u) <= 0);
  }
  return dead;
}

double accuracy(const Mlp& m, const data::Dataset& test) {
  NoGradGuard no_grad;
  const std::vector<int64_t> predicted = argmax(m.model->forward(test.X), 1).to_vector();
  int64_t right = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == test.y[i];
  return static_cast<double>(right) / static_cast<double>(test.size());
}

Run train(const Unit& unit, const Setting& where, const Data& data, const Sizes& z, uint64_t seed) {
  Mlp m = build_mlp(unit, seed * 1000 + 71);
  std::unique_ptr<optim::Optimizer> optimizer;
  if (where.optimizer == "SGD")
    optimizer = std::make_unique<optim::SGD>(m.model->parameters(),
                                             optim::SGDOptions(where.lr).momentum(0.9));
  else
    optimizer =
        std::make_unique<optim::Adam>(m.model->parameters(), optim::AdamOptions().lr(where.lr));
  data::BatchLoader loader(data.train, kBatch, {/*shuffle=*/true, /*drop_last=*/true, seed});
  Run r;
  std::vector<std::vector<bool>> states{dead_units(m, data.probe)};
  int64_t step = 0;
  for (int64_t c = 1; c <= z.checkpoints && !r.diverged; ++c) {
    const int64_t until = z.steps * c / z.checkpoints;
    // Each stretch between checkpoints starts a fresh (reshuffled) epoch and leaves the last
    // one unfinished: the batches stay random draws fixed by the seed.
    while (step < until && !r.diverged)
      for (const data::Batch& b : loader.epoch()) {
        if (step == until) break;
        optimizer->zero_grad();
        const Tensor loss = nn::cross_entropy(m.model->forward(b.X), b.y);
        loss.backward();
        optimizer->step();
        ++step;
        if (!std::isfinite(loss.item()) || !finite_model(*m.model)) {
          r.diverged = true;
          break;
        }
      }
    if (!r.diverged) states.push_back(dead_units(m, data.probe));
  }
  if (r.diverged) {
    // A diverged network computes nothing: it counts as all units lost and chance accuracy,
    // the worst values, never as a missing run.
    r.dead.assign(static_cast<std::size_t>(z.checkpoints + 1), 1.0);
    r.dead[0] = average(std::vector<double>(states[0].begin(), states[0].end()));
    r.accuracy = 0.1;
    return r;
  }
  for (const auto& s : states) r.dead.push_back(average(std::vector<double>(s.begin(), s.end())));
  for (std::size_t u = 0; u < states[0].size(); ++u)
    for (std::size_t c = 0; c + 1 < states.size(); ++c)
      if (states[c][u]) {
        ++r.once_dead;
        for (std::size_t later = c + 1; later < states.size(); ++later)
          if (!states[later][u]) {
            ++r.revived;
            break;
          }
        break;
      }
  r.accuracy = accuracy(m, data.test);
  return r;
}

std::size_t diverged(const std::vector<Run>& runs) {
  return static_cast<std::size_t>(
      std::count_if(runs.begin(), runs.end(), [](const Run& r) { return r.diverged; }));
}

// The pooled share of once-dead units that came back, with Wilson's interval.
std::string revived(const std::vector<Run>& runs) {
  std::size_t once = 0, back = 0;
  for (const Run& r : runs) {
    once += static_cast<std::size_t>(r.once_dead);
    back += static_cast<std::size_t>(r.revived);
  }
  return once == 0 ? std::string("none dead") : show(wilson(back, once));
}

std::string percent(double v) {
  return format("%.1f", 100 * v);
}

std::string per_seed(const std::vector<double>& v, double scale = 100) {
  std::string out;
  for (double x : v) out += (out.empty() ? "" : " ") + format("%.0f", scale * x);
  return out;
}

// The dead share (%) at each checkpoint over seeds, as a band.
Band band(const std::string& label, const std::vector<Run>& runs, const std::vector<double>& x) {
  std::vector<std::vector<double>> curves;
  for (const Run& r : runs) {
    curves.emplace_back();
    for (double dead : r.dead) curves.back().push_back(100 * dead);
  }
  return seed_band(label, x, curves);
}

std::vector<double> increase(const std::vector<Run>& runs) {
  std::vector<double> v;
  for (const Run& r : runs) v.push_back(r.dead.back() - r.dead.front());
  return v;
}

}  // namespace

Report dying_units(const Lab& lab) {
  const auto t0 = std::chrono::steady_clock::now();
  const Sizes z = sizes(lab.settings.quick);
  // Seeds 1..n: the lab's, extended to at least z.seeds.
  std::vector<uint64_t> seeds = lab.seeds;
  while (seeds.size() < z.seeds) seeds.push_back(seeds.size() + 1);
  Report report;
  const bool has_relu = index_of(lab.names, "relu") < lab.names.size(),
             has_leaky = index_of(lab.names, "leaky_relu") < lab.names.size(),
             has_prelu = index_of(lab.names, "prelu") < lab.names.size();
  std::vector<std::string> covered;
  for (const char* name : {"relu", "leaky_relu", "prelu"})
    if (index_of(lab.names, name) < lab.names.size()) covered.push_back(name);
  const std::string claim_text =
      "relu units die during training (their output is 0 on every input, so they get no "
      "gradient), more so at high learning rates, and dead units never come back; leaky relu "
      "avoids this; PReLU, which learns its negative slope, beats a fixed slope.";
  if (covered.empty()) {
    report.not_tested("relu units die during training", "relu");
    return report;
  }
  note("dying units: data");
  Data data;
  data.train = first_rows(lab.fashion_train, z.train);
  data.test = first_rows(lab.fashion_test, z.test);
  data.probe = first_rows(data.train, z.probe).X;

  const Unit relu{"relu", 0.0, [] { return std::make_shared<nn::Activation>("relu"); }};
  const Unit leaky{"leaky_relu", 0.01,
                   [] { return std::make_shared<nn::Activation>("leaky_relu"); }};
  const Unit leaky25{"leaky_relu 0.25", kPReLUInitialSlope, [] {
                       return std::make_shared<nn::Activation>(
                           "leaky_relu", std::vector<double>{kPReLUInitialSlope});
                     }};
  const Unit prelu{"prelu", kPReLUInitialSlope, [] { return std::make_shared<nn::PReLU>(kWidth); }};

  // runs[unit][setting][seed]
  const auto run_all = [&](const Unit& unit, const std::vector<std::size_t>& where) {
    std::vector<std::vector<Run>> runs(settings().size());
    for (std::size_t s : where) {
      const auto t = std::chrono::steady_clock::now();
      for (uint64_t seed : seeds) runs[s].push_back(train(unit, settings()[s], data, z, seed));
      note(format("dying units: %s, %s lr %g, %.1f s", unit.name.c_str(),
                  settings()[s].optimizer.c_str(), settings()[s].lr, seconds_since(t)));
    }
    return runs;
  };
  std::vector<std::size_t> all(settings().size()), middle;
  std::iota(all.begin(), all.end(), std::size_t{0});
  for (std::size_t s = 1; s < settings().size(); s += kPerOptimizer) middle.push_back(s);
  const auto relu_runs = has_relu ? run_all(relu, all) : std::vector<std::vector<Run>>{};
  const auto leaky_runs = has_leaky ? run_all(leaky, all) : std::vector<std::vector<Run>>{};
  const auto prelu_runs = has_prelu ? run_all(prelu, middle) : std::vector<std::vector<Run>>{};
  const auto leaky25_runs = has_prelu ? run_all(leaky25, middle) : std::vector<std::vector<Run>>{};

  report.section(
      "7. Dying units", claim_text,
      format("MLPs 784 - %lld x %lld - 10 on the first %lld Fashion-MNIST training images "
             "(standardised), He-normal weights for the unit's negative slope, zero biases, "
             "%lld minibatch steps of %lld with SGD (momentum 0.9) or Adam at three learning "
             "rates each; seeds 1-%zu (at least 16 whatever --seeds says: with 8 the smallest "
             "sign-flip p is 2/256, too large to pass Holm's procedure in the lab's family of "
             "verdicts; paired: the same seed draws the same initial weights and "
             "batch order for every activation). A unit is dead (relu) or stuck (leaky relu) "
             "when its pre-activation is <= 0 on every one of %lld fixed training images (the "
             "probe set), checked at initialisation and at %lld checkpoints. Dying is the "
             "increase of the dead share over the same network's share at initialisation "
             "(units dead before training are not dying). A unit revives when it is dead at a "
             "checkpoint and alive at a later one. Accuracy on the first %lld test images. A "
             "run whose loss or weights become non-finite is counted as diverged, with every "
             "unit dead and chance accuracy (10 %%). Rules (inference.hpp, written before the "
             "runs): effects are per-seed values or paired differences, 95 %% expanded "
             "bootstrap intervals over seeds; 'relu units die' is supported where the "
             "increase's interval lies above 0; 'dead units do not come back' is the rule on "
             "1 %% minus the revived share (supported where fewer than 1 %% of dead units "
             "revive, not supported where more than 1 %% do); 'leaky relu avoids stuck units' "
             "is relu's dying minus leaky relu's increase in stuck units, paired; accuracy "
             "claims use a 1-point equivalence margin. The smallest effect the design detects "
             "(80 %% power) is printed with each verdict.",
             static_cast<long long>(kWidth), static_cast<long long>(kDepth),
             static_cast<long long>(z.train), static_cast<long long>(z.steps),
             static_cast<long long>(kBatch), seeds.size(), static_cast<long long>(z.probe),
             static_cast<long long>(z.checkpoints), static_cast<long long>(z.test)),
      covered);

  std::vector<double> x;
  for (int64_t c = 0; c <= z.checkpoints; ++c)
    x.push_back(static_cast<double>(z.steps * c / z.checkpoints));
  // One figure per activation and optimizer: dead (stuck) share against steps, one band per lr.
  const auto figure = [&](const std::string& name, const std::vector<std::vector<Run>>& runs,
                          const std::string& optimizer, const std::vector<std::size_t>& where) {
    std::vector<Band> bands;
    for (std::size_t s : where)
      if (settings()[s].optimizer == optimizer && !runs[s].empty())
        bands.push_back(band(format("lr %g", settings()[s].lr), runs[s], x));
    const std::string what = name == "relu" ? "dead" : "stuck";
    return report.figures.add("dying_" + name + "_" + optimizer + ".png",
                              band_plot(bands, name + ", " + optimizer, "training step",
                                        what + " units (%)", 0.0, 100.0));
  };

  report.table_header({"activation", "optimizer", "lr", "dead or stuck % at init",
                       "% at end, per seed", "increase (points)", "revived % of dead (pooled)",
                       "test accuracy %", "diverged", "figure"});
  const auto rows = [&](const Unit& unit, const std::vector<std::vector<Run>>& runs,
                        const std::vector<std::size_t>& where) {
    std::string paths[2];
    for (int o = 0; o < 2; ++o)
      paths[o] = figure(unit.name == "leaky_relu 0.25" ? "leaky_relu_025" : unit.name, runs,
                        o == 0 ? "SGD" : "Adam", where);
    for (std::size_t s : where) {
      std::vector<double> init, end, acc;
      for (const Run& r : runs[s]) {
        init.push_back(r.dead.front());
        end.push_back(r.dead.back());
        acc.push_back(r.accuracy);
      }
      report.row({unit.name, settings()[s].optimizer, format("%g", settings()[s].lr),
                  show(bootstrap_mean(init), 1, 100), per_seed(end),
                  show(bootstrap_mean(increase(runs[s])), 1, 100), revived(runs[s]),
                  show(bootstrap_mean(acc), 1, 100),
                  format("%zu of %zu", diverged(runs[s]), runs[s].size()),
                  link(paths[settings()[s].optimizer == "SGD" ? 0 : 1])});
    }
  };
  if (has_relu) rows(relu, relu_runs, all);
  if (has_leaky) rows(leaky, leaky_runs, all);
  if (has_prelu) {
    rows(prelu, prelu_runs, middle);
    rows(leaky25, leaky25_runs, middle);
  }
  report.text << "\nThe revived share pools units over seeds (Wilson's interval treats units as "
                 "independent, which they are not; the verdict below uses per-seed shares "
                 "and the bootstrap over seeds instead).\n";

  const auto where = [&](std::size_t s) {
    return format("%s lr %g", settings()[s].optimizer.c_str(), settings()[s].lr);
  };
  const auto power = [](const std::vector<double>& v, double scale) {
    return format("smallest detectable %.2g",
                  scale * detectable_difference(sample_sd(v), v.size()));
  };
  // The rule applied at every learning rate, for the reasons' "where it holds".
  const auto holds_at = [&](const std::function<Finding(std::size_t)>& rule) {
    std::string out;
    for (std::size_t s = 0; s < settings().size(); ++s)
      out += (out.empty() ? "" : "; ") + where(s) + ": " + finding_name(rule(s));
    return out;
  };
  const auto last_of = [](std::size_t o) { return o * kPerOptimizer + kPerOptimizer - 1; };

  if (has_relu) {
    const auto dies = [&](std::size_t s) {
      return finding_greater(bootstrap_mean(increase(relu_runs[s])), 0);
    };
    for (std::size_t o = 0; o < 2; ++o) {
      const std::size_t s = last_of(o);
      const std::vector<double> v = increase(relu_runs[s]);
      const Estimate e = bootstrap_mean(v);
      report.finding(
          "relu units die during training, beyond those dead at initialisation (" + where(s) + ")",
          finding_greater(e, 0), e,
          format("rule: the per-seed increase of the dead share from initialisation to the end "
                 "has its interval above 0; %s points (%s points, %zu seeds, %zu diverged and "
                 "counted as all dead); end shares per seed %s %%. The same rule at every rate: "
                 "%s.",
                 show(e, 1, 100).c_str(), power(v, 100).c_str(), v.size(), diverged(relu_runs[s]),
                 per_seed([&] {
                   std::vector<double> end;
                   for (const Run& r : relu_runs[s]) end.push_back(r.dead.back());
                   return end;
                 }())
                     .c_str(),
                 holds_at(dies).c_str()));
    }
    // Revivals: the per-seed share of dead units that came back, pooled over the settings of
    // an optimizer so that each seed has dead units to count.
    for (std::size_t o = 0; o < 2; ++o) {
      std::vector<double> margin_minus_share, shares;
      int64_t once = 0, back = 0;
      for (std::size_t i = 0; i < seeds.size(); ++i) {
        int64_t seed_once = 0, seed_back = 0;
        for (std::size_t s = o * kPerOptimizer; s < (o + 1) * kPerOptimizer; ++s) {
          seed_once += relu_runs[s][i].once_dead;
          seed_back += relu_runs[s][i].revived;
        }
        once += seed_once;
        back += seed_back;
        if (seed_once == 0) continue;
        shares.push_back(static_cast<double>(seed_back) / static_cast<double>(seed_once));
        margin_minus_share.push_back(0.01 - shares.back());
      }
      const Estimate e = bootstrap_mean(margin_minus_share);
      const std::string optimizer = o == 0 ? "SGD" : "Adam";
      report.finding(
          "dead relu units do not come back (" + optimizer + ", all three rates)",
          finding_greater(e, 0), e,
          format("rule: 1 %% minus the per-seed share of dead units that are alive at a later "
                 "checkpoint, interval above 0 (supported) or below 0 (not supported); revived "
                 "share per seed %s %% (%zu seeds with dead units), mean %s %%; pooled %s.",
                 per_seed(shares).c_str(), shares.size(), percent(average(shares)).c_str(),
                 show(wilson(static_cast<std::size_t>(back), static_cast<std::size_t>(once)))
                     .c_str()));
    }
  } else {
    report.not_tested("relu units die during training", "relu");
  }

  if (has_relu && has_leaky) {
    const auto avoided = [&](std::size_t s) {
      return paired_difference(increase(relu_runs[s]), increase(leaky_runs[s]));
    };
    const auto avoids = [&](std::size_t s) {
      return finding_greater(bootstrap_mean(avoided(s)), 0);
    };
    for (std::size_t o = 0; o < 2; ++o) {
      const std::size_t s = last_of(o);
      const std::vector<double> v = avoided(s);
      const Estimate e = bootstrap_mean(v), own = bootstrap_mean(increase(leaky_runs[s]));
      report.finding(
          "leaky relu avoids stuck units (fewer than relu's dead units, " + where(s) + ")",
          finding_greater(e, 0), e,
          format("rule: relu's increase in dead units minus leaky relu's increase in stuck "
                 "units (pre-activation <= 0 on every probe input), paired by seed, interval "
                 "above 0; %s points (%s points). Leaky relu's own increase: %s points. The "
                 "same rule at every rate: %s. Stuck leaky units still pass the slope's "
                 "gradient: of the units ever on the negative side, %s come back for leaky "
                 "relu against %s for relu (pooled over seeds).",
                 show(e, 1, 100).c_str(), power(v, 100).c_str(), show(own, 1, 100).c_str(),
                 holds_at(avoids).c_str(), revived(leaky_runs[s]).c_str(),
                 revived(relu_runs[s]).c_str()));
    }
    for (std::size_t o = 0; o < 2; ++o) {
      const std::size_t s = last_of(o);
      std::vector<double> a, b;
      std::string pairs;  // relu's dead share against its accuracy, seed by seed
      for (std::size_t i = 0; i < seeds.size(); ++i) {
        a.push_back(leaky_runs[s][i].accuracy);
        b.push_back(relu_runs[s][i].accuracy);
        pairs += format("%s%.0f/%.0f", pairs.empty() ? "" : ", ", 100 * relu_runs[s][i].dead.back(),
                        100 * b.back());
      }
      const std::vector<double> v = paired_difference(a, b);
      const Estimate e = bootstrap_mean(v);
      report.finding(
          "dying costs accuracy: leaky relu is more accurate than relu (" + where(s) + ")",
          finding_greater(e, 0.01), e,
          format("rule: leaky relu's minus relu's test accuracy, paired by seed, margin 1 "
                 "point; %s points (%s points; diverged runs, counted at chance: relu %zu, "
                 "leaky relu %zu); relu's dying there %s points; relu's dead %% / accuracy %% "
                 "per seed: %s.",
                 show(e, 2, 100).c_str(), power(v, 100).c_str(), diverged(relu_runs[s]),
                 diverged(leaky_runs[s]),
                 show(bootstrap_mean(increase(relu_runs[s])), 1, 100).c_str(), pairs.c_str()));
    }
  } else {
    report.not_tested("leaky relu avoids stuck units", has_relu ? "leaky_relu" : "relu");
  }

  if (has_prelu) {
    std::string outcomes;
    for (std::size_t s : middle) {
      std::vector<double> a, b;
      for (std::size_t i = 0; i < seeds.size(); ++i) {
        a.push_back(prelu_runs[s][i].accuracy);
        b.push_back(leaky25_runs[s][i].accuracy);
      }
      const std::vector<double> v = paired_difference(a, b);
      const Estimate e = bootstrap_mean(v);
      report.finding(
          "prelu beats leaky relu with the same initial slope 0.25 (" + where(s) + ")",
          finding_greater(e, 0.01), e,
          format("rule: PReLU's minus leaky relu (slope 0.25)'s test accuracy, paired by seed "
                 "(the same initial weights), interval above 0: supported; within +-1 point: "
                 "equivalent; %s points (%s points; diverged runs, counted at chance: PReLU "
                 "%zu, leaky relu %zu). Tested at one rate per optimizer only.",
                 show(e, 2, 100).c_str(), power(v, 100).c_str(), diverged(prelu_runs[s]),
                 diverged(leaky25_runs[s])));
      outcomes +=
          (outcomes.empty() ? "" : ", ") + where(s) + ": " + finding_name(finding_greater(e, 0.01));
    }
    report.text << "\nPReLU against leaky relu with the same initial slope, " + outcomes +
                       ". A benefit of the learned slope that shows in one setting and not in "
                       "another depends on the problem (here the optimizer), not on the "
                       "activation alone.\n";
  } else {
    report.not_tested("prelu beats leaky relu with the same initial slope", "prelu");
  }
  note(format("dying units: done, %.1f s", seconds_since(t0)));
  return report;
}

}  // namespace activation_lab
