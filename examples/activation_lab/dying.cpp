// Section 4 of the activation lab: units that die at a high learning rate, whether they recover,
// and the slopes PReLU learns per channel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

constexpr int64_t kDyingDepth = 4;

struct DyingRun {
  std::vector<double> dead;  // fraction of dead hidden units at each check
  double stuck_negative = kNaN, recovered = kNaN;
  bool diverged = false;
  std::vector<std::vector<double>> slopes;  // PReLU: per layer, per channel, after training
};

DyingRun dying_run(const ActivationInfo& info, const data::Dataset& set, const Settings& s,
                   int64_t check_every, uint64_t seed) {
  Mlp m = make_mlp(info, 2, s.width, kDyingDepth, set.num_classes, Init::Usual, seed * 1000 + 29);
  optim::SGD optimizer(m.model->parameters(), optim::SGDOptions(s.dying_lr).momentum(0.9));
  DyingRun r;
  const size_t units = static_cast<size_t>(kDyingDepth * s.width);
  std::vector<bool> ever_dead(units, false), dead_now(units, false);
  std::vector<bool> negative_now(units, false);
  const auto check = [&] {
    std::vector<Tensor> pre;
    {
      NoGradGuard no_grad;
      forward_trace(m, set.X, &pre, nullptr);
    }
    int64_t dead = 0;
    for (size_t l = 0; l < pre.size(); ++l) {
      const Tensor d = derivative(*m.activations[l], pre[l]);
      const auto flat = d.array().abs().reshaped(s.width, set.size()).rowwise().maxCoeff();
      const auto top = pre[l].array().reshaped(s.width, set.size()).rowwise().maxCoeff();
      for (int64_t u = 0; u < s.width; ++u) {
        const size_t k = l * static_cast<size_t>(s.width) + static_cast<size_t>(u);
        dead_now[k] = flat(u) < kFlat;
        negative_now[k] = top(u) < 0;
        ever_dead[k] = ever_dead[k] || dead_now[k];
        dead += dead_now[k];
      }
    }
    r.dead.push_back(static_cast<double>(dead) / static_cast<double>(units));
  };
  for (int64_t step = 0; step <= s.dying_steps; ++step) {
    if (step % check_every == 0 || step == s.dying_steps) check();
    if (step == s.dying_steps) break;
    optimizer.zero_grad();
    nn::cross_entropy(forward_trace(m, set.X, nullptr, nullptr), set.y).backward();
    optimizer.step();
    if (!finite_model(*m.model)) {
      r.diverged = true;
      return r;
    }
  }
  int64_t ever = 0, back = 0, negative = 0;
  for (size_t k = 0; k < units; ++k) {
    ever += ever_dead[k];
    back += ever_dead[k] && !dead_now[k];
    negative += negative_now[k];
  }
  r.stuck_negative = static_cast<double>(negative) / static_cast<double>(units);
  if (ever > 0) r.recovered = static_cast<double>(back) / static_cast<double>(ever);
  if (info.kind == ActivationKind::PerChannel)
    for (const auto& act : m.activations) {
      const std::vector<float> w = act->weight().to_vector();
      r.slopes.emplace_back(w.begin(), w.end());
    }
  return r;
}

}  // namespace

Report dying_units(const Lab& lab) {
  const Settings& s = lab.settings;
  Report report;
  const int64_t check_every = std::max<int64_t>(1, s.dying_steps / 20);
  std::vector<std::vector<DyingRun>> runs(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    note("dying units: " + lab.acts[a]->name);
    for (uint64_t seed : lab.seeds)
      runs[a].push_back(dying_run(*lab.acts[a], lab.spiral, s, check_every, seed));
  }
  report.section(
      "4. Dying units",
      "relu units die (their gradient is zero on every input) and never recover; leaky_relu "
      "prevents it; prelu learns its negative slope per channel.",
      format("MLPs 2 - %lld x %lld - 3 on the spiral, usual initialisation, %lld full-batch "
             "SGD steps at the high learning rate %g (momentum 0.9) to provoke dying. A unit "
             "is dead when |f'(z)| < 1e-3 for every training point, checked every %lld "
             "steps; 'stuck negative': z < 0 on every point; 'recovered': the share of units "
             "ever dead that are alive at the end. A run whose weights became non-finite "
             "counts as diverged and is left out of the statistics.",
             static_cast<long long>(s.width), static_cast<long long>(kDyingDepth),
             static_cast<long long>(s.dying_steps), s.dying_lr,
             static_cast<long long>(check_every)),
      lab.names);
  report.table_header({"activation", "dead % at end", "stuck negative % at end", "recovered %",
                       "diverged runs", "figure"});
  std::vector<plot::Image> tiles;
  std::vector<std::vector<double>> final_dead(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<double> stuck, recovered;
    std::vector<std::vector<double>> curves;
    int diverged = 0;
    for (const DyingRun& r : runs[a]) {
      if (r.diverged) {
        ++diverged;
        final_dead[a].push_back(kNaN);
        continue;
      }
      final_dead[a].push_back(r.dead.back());
      stuck.push_back(r.stuck_negative);
      if (std::isfinite(r.recovered)) recovered.push_back(r.recovered);
      curves.push_back(r.dead);
    }
    std::vector<double> finite_dead;
    for (double d : final_dead[a])
      if (std::isfinite(d)) finite_dead.push_back(d);
    std::vector<double> x;
    for (size_t i = 0; !curves.empty() && i < curves[0].size(); ++i)
      x.push_back(static_cast<double>(
          std::min<int64_t>(static_cast<int64_t>(i) * check_every, s.dying_steps)));
    plot::Image image = small_plot({{"dead fraction", x, mean_curve(curves), {}}},
                                   lab.acts[a]->name + ": dead units vs step", 0.0, 1.0);
    tiles.push_back(image);
    report.row({lab.acts[a]->name, show(mean_interval(finite_dead), 1, 100),
                show(mean_interval(stuck), 1, 100),
                recovered.empty() ? "none died" : show(mean_interval(recovered), 1, 100),
                format("%d of %zu", diverged, lab.seeds.size()),
                link(report.figures.add("dying_" + lab.acts[a]->name + ".png", image))});
  }
  report.text << "\n![dead units over training](" +
                     report.figures.add("dying.png", plot::tile_images(tiles, 4)) + ")\n";
  const size_t relu = index_of(lab.names, "relu"), leaky = index_of(lab.names, "leaky_relu"),
               prelu = index_of(lab.names, "prelu");
  if (relu < lab.names.size()) {
    const Interval i = mean_interval(final_dead[relu]);
    report.verdict("relu units die", verdict_greater(i, 0.01),
                   "rule: more than 1 % of the units dead at the end; " + show(i, 1, 100) + " %.");
  } else {
    report.not_tested("relu units die", "relu");
  }
  if (relu < lab.names.size() && leaky < lab.names.size()) {
    const Interval own = mean_interval(final_dead[leaky]);
    const Interval diff = mean_interval(paired_difference(final_dead[relu], final_dead[leaky]));
    report.verdict(
        "leaky_relu prevents dying units",
        verdict_all({verdict_less(own, 0.01), verdict_greater(diff, 0)}),
        "rule: leaky_relu's dead share below 1 % and below relu's (paired); " + show(own, 1, 100) +
            " %, relu minus leaky_relu " + show(diff, 1, 100) +
            " points. (Its derivative is 0.01 on the negative side, so no unit can be dead "
            "by this definition; 'stuck negative' in the table shows how many sit there.)");
  } else {
    report.not_tested("leaky_relu prevents dying units",
                      relu < lab.names.size() ? "leaky_relu" : "relu");
  }
  if (prelu < lab.names.size()) {
    // Slopes per layer and channel: the table's spread, and a figure of the first seed's.
    std::vector<double> spread;
    std::vector<std::vector<std::vector<double>>> per_layer(kDyingDepth);
    for (const DyingRun& r : runs[prelu]) {
      if (r.slopes.empty()) continue;
      std::vector<double> layer_sd;
      for (size_t l = 0; l < r.slopes.size(); ++l) {
        const double m = average(r.slopes[l]);
        double ss = 0;
        for (double v : r.slopes[l]) ss += (v - m) * (v - m);
        layer_sd.push_back(std::sqrt(ss / static_cast<double>(r.slopes[l].size())));
        per_layer[l].push_back(r.slopes[l]);
      }
      spread.push_back(average(layer_sd));
    }
    report.text << "\nPReLU's learned slopes after training (per layer: mean over channels, "
                   "and the spread across channels as a standard deviation; intervals over "
                   "seeds; initial value 0.25 everywhere):\n\n";
    report.table_header({"layer", "mean slope", "spread across channels", "min", "max"});
    std::vector<plot::Curve> curves;
    for (size_t l = 0; l < per_layer.size(); ++l) {
      std::vector<double> means, sds, mins, maxs;
      for (const auto& w : per_layer[l]) {
        const double m = average(w);
        double ss = 0;
        for (double v : w) ss += (v - m) * (v - m);
        means.push_back(m);
        sds.push_back(std::sqrt(ss / static_cast<double>(w.size())));
        mins.push_back(*std::min_element(w.begin(), w.end()));
        maxs.push_back(*std::max_element(w.begin(), w.end()));
      }
      report.row({std::to_string(l + 1), show(mean_interval(means)), show(mean_interval(sds)),
                  show(mean_interval(mins)), show(mean_interval(maxs))});
      if (!per_layer[l].empty())
        curves.push_back({"layer " + std::to_string(l + 1),
                          iota_curve(per_layer[l][0].size(), 0),
                          per_layer[l][0],
                          {}});
    }
    if (curves.empty())  // every run diverged
      curves.push_back({"initial", {0.0, static_cast<double>(s.width - 1)}, {0.25, 0.25}, {}});
    report.text << "\n![PReLU slopes](" +
                       report.figures.add("prelu_slopes.png",
                                          small_plot(curves, "PReLU slopes per channel, seed 1")) +
                       ")\n";
    const Interval i = mean_interval(spread);
    report.verdict("prelu learns its slope per channel", verdict_greater(i, 0.01),
                   "rule: the spread of the slopes across channels (mean over layers) above "
                   "0.01 after training, from 0 at initialisation; " +
                       show(i) + ".");
  } else {
    report.not_tested("prelu learns its slope per channel", "prelu");
  }
  return report;
}

}  // namespace activation_lab
