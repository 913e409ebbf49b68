// Section 2 of the activation lab: saturation and vanishing gradients through depth, measured on
// a grid of initialisation scale x depth x learning rate, so that each claim is tested where it
// can hold and where it cannot (at the usual initialisation and small inputs sigmoid never
// saturates; with large weights tanh does).
//
// The gradient is taken with respect to each hidden layer's pre-activations, per unit
// (||dL/dz_l|| / sqrt(width)), and compared between layer 2 and layer L: layer 1 has fewer
// weights and sees the 2-D inputs, which biased the first edition's weight-gradient ratio.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

// Weights are N(0, (scale / sqrt(fan_in))^2), biases zero. Scale 1 is LeCun's (and Glorot's on
// square layers, sigmoid's usual), sqrt 2 He's (relu's), 5/3 tanh's usual gain; 4 and 8 reach
// the large-weight regime where saturation can appear (8 is past N(0, 1) weights at width 32).
constexpr double kSqrt2 = 1.4142135623730951;
const std::vector<double> kScales{0.5, 1.0, kSqrt2, 5.0 / 3, 2.0, 4.0, 8.0};
const std::vector<double> kQuickScales{1.0, kSqrt2, 5.0 / 3, 4.0};
const std::vector<int64_t> kDepths{5, 10, 20, 50};
const std::vector<int64_t> kQuickDepths{5, 20};
const std::vector<double> kLearningRates{0.01, 0.1};
constexpr double kMomentum = 0.9;
constexpr int64_t kWidth = 32, kQuickWidth = 16;
constexpr int64_t kSteps = 200, kQuickSteps = 10;  // full-batch SGD steps
// A run is trained when its training accuracy reaches this (chance is 1/3 on 3 classes).
constexpr double kTargetAccuracy = 0.6;
// The cell every verdict is judged at: each activation's usual scale, this depth.
constexpr int64_t kVerdictDepth = 20;
// "Gradients vanish": layer 2's per-unit gradient more than tenfold below layer L's.
constexpr double kVanishDecades = 1.0;
// "Saturates": more than this share of the units (layers 2..L, all inputs) have |f'| < kFlat.
constexpr double kSaturatedShare = 0.05;
// The heatmaps of D colour -10..10 decades (0 in the middle of the ramp); beyond, the cell's
// text gives the value.
constexpr double kDecadesShown = 10;
// The activations this section covers, when --activations has them.
const std::vector<std::string> kCovered{"sigmoid", "tanh", "relu"};

// The scale each covered activation's usual initialisation (model.hpp's init_weight) gives on
// square layers; every grid has it.
double usual_scale(const std::string& name) {
  if (name == "tanh") return 5.0 / 3;
  if (name == "sigmoid") return 1.0;
  return kSqrt2;  // relu: He
}

double norm_of(const Tensor& t) {
  return std::sqrt(static_cast<double>(t.array().cast<double>().square().sum()));
}

// One network's state: the per-unit gradient norm ||dL/dz_l|| / sqrt(width) of each hidden
// layer (empty when the loss is not finite) and the share of units in layers 2..L with
// |f'(z)| < kFlat over the whole training set.
struct Snapshot {
  std::vector<double> grad;
  double saturated = kNaN;
  // The decades the gradient loses from layer L back to layer 2: log10(g_L / g_2); NaN when
  // either is not finite or g_L is 0. A g_2 that underflowed to 0 in float counts as the
  // smallest float, so D is then a lower bound.
  double decades() const {
    if (grad.size() < 2) return kNaN;
    const double last = grad.back(), second = grad[1];
    if (!std::isfinite(last) || !std::isfinite(second) || !(last > 0)) return kNaN;
    return std::log10(last / std::max(second, double{std::numeric_limits<float>::denorm_min()}));
  }
};

struct Trained {
  Snapshot after;
  double accuracy = 0;  // 0 for a diverged run
  bool diverged = false;
};

struct Run {
  Snapshot init;
  std::vector<Trained> trained;  // one per learning rate
};

struct Grid {
  std::vector<double> scales;
  std::vector<int64_t> depths;
  int64_t width, steps;
  // [covered activation][scale][depth][seed]
  std::vector<std::vector<std::vector<std::vector<Run>>>> runs;
};

Mlp build(const ActivationInfo& info, const data::Dataset& set, int64_t width, int64_t depth,
          double scale, uint64_t seed) {
  Mlp m = make_mlp(info, set.X.size(1), width, depth, set.num_classes, Init::Usual, seed);
  // The same draws for every activation and scale: the scale only stretches them, so cells pair
  // by seed.
  Generator gen(seed + 7919);
  for (const auto& linear : m.hidden) {
    Tensor w = linear->weight();
    const double fan_in = nn::init::calculate_fans(w).fan_in;
    nn::init::normal_(w, 0.0, scale / std::sqrt(fan_in), gen);
  }
  return m;
}

Snapshot measure(const Mlp& m, const data::Dataset& set, int64_t width) {
  std::vector<Tensor> pre;
  const Tensor loss = nn::cross_entropy(forward_trace(m, set.X, &pre, nullptr), set.y);
  Snapshot s;
  if (!std::isfinite(loss.item())) return s;  // the forward pass overflowed
  for (const Tensor& g : grad({loss}, pre))
    s.grad.push_back(norm_of(g) / std::sqrt(static_cast<double>(width)));
  int64_t flat = 0, total = 0;
  for (size_t l = 1; l < pre.size(); ++l) {
    const Tensor d = derivative(*m.activations[l], pre[l]);
    flat += (d.array().abs() < kFlat).count();
    total += d.numel();
  }
  if (total > 0) s.saturated = static_cast<double>(flat) / static_cast<double>(total);
  return s;
}

Trained train(const ActivationInfo& info, const data::Dataset& set, const Grid& g, int64_t depth,
              double scale, double lr, uint64_t seed) {
  Mlp m = build(info, set, g.width, depth, scale, seed);
  Trained r;
  optim::SGD optimizer(m.model->parameters(), optim::SGDOptions(lr).momentum(kMomentum));
  for (int64_t step = 0; step < g.steps; ++step) {
    optimizer.zero_grad();
    const Tensor loss = nn::cross_entropy(forward_trace(m, set.X, nullptr, nullptr), set.y);
    if (!std::isfinite(loss.item())) {
      r.diverged = true;
      return r;
    }
    loss.backward();
    optimizer.step();
  }
  if (!finite_model(*m.model)) {
    r.diverged = true;
    return r;
  }
  r.after = measure(m, set, g.width);
  if (r.after.grad.empty()) {
    r.diverged = true;
    return r;
  }
  NoGradGuard no_grad;
  const std::vector<int64_t> predicted =
      argmax(forward_trace(m, set.X, nullptr, nullptr), 1).to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < set.y.size(); ++i) right += predicted[i] == set.y[i];
  r.accuracy = static_cast<double>(right) / static_cast<double>(set.y.size());
  return r;
}

std::string scale_label(double s) {
  if (std::abs(s - kSqrt2) < 1e-12) return "1.41 (sqrt 2)";
  if (std::abs(s - 5.0 / 3) < 1e-12) return "1.67 (5/3)";
  return format("%g", s);
}

size_t index_near(const std::vector<double>& values, double v) {
  for (size_t i = 0; i < values.size(); ++i)
    if (std::abs(values[i] - v) < 1e-12) return i;
  return values.size();
}

// A claim "the quantity exceeds `threshold`" judged per cell: the per-seed values (a value that
// is not finite, e.g. from a diverged run, takes `fallback`, the value least favourable to the
// claim) minus the threshold, their bootstrap mean and the rule of inference.hpp without
// equivalence.
struct CellTest {
  Estimate excess;  // of the quantity over the threshold
  Finding finding = Finding::Inconclusive;
  std::size_t replaced = 0;  // non-finite values set to the fallback
  double detectable = kNaN;  // the smallest mean excess 80 % power detects
};

CellTest cell_test(const std::vector<double>& values, double threshold, double fallback) {
  CellTest t;
  std::vector<double> excess;
  for (double v : values) {
    if (!std::isfinite(v)) {
      v = fallback;
      ++t.replaced;
    }
    excess.push_back(v - threshold);
  }
  t.excess = bootstrap_mean(excess);
  t.finding = finding_greater(t.excess, 0);
  t.detectable = detectable_difference(sample_sd(excess), excess.size());
  return t;
}

// Where in the grid a finding was reached: "scale 4: depth 10, 20, 50; scale 8: every depth".
std::string cells_where(const Grid& g, const std::vector<std::vector<CellTest>>& tests,
                        Finding which) {
  std::string out;
  for (size_t s = 0; s < g.scales.size(); ++s) {
    std::string depths;
    size_t count = 0;
    for (size_t d = 0; d < g.depths.size(); ++d)
      if (tests[s][d].finding == which) {
        depths += (count++ ? ", " : "") + std::to_string(g.depths[d]);
      }
    if (count == 0) continue;
    out += (out.empty() ? "" : "; ") + ("scale " + scale_label(g.scales[s])) + ": " +
           (count == g.depths.size() ? std::string("every depth") : "depth " + depths);
  }
  return out.empty() ? "no cell" : out;
}

enum class Quantity { DecadesInit, DecadesTrained, SaturatedInit, SaturatedTrained };

// The quantity's per-seed values of one run; the trained ones at learning rate `lr`.
double value_of(const Run& r, Quantity q, size_t lr) {
  switch (q) {
    case Quantity::DecadesInit:
      return r.init.decades();
    case Quantity::DecadesTrained:
      return r.trained[lr].after.decades();
    case Quantity::SaturatedInit:
      return r.init.saturated;
    case Quantity::SaturatedTrained:
      return r.trained[lr].after.saturated;
  }
  return kNaN;
}

std::vector<double> seed_values(const std::vector<Run>& runs, Quantity q, size_t lr) {
  std::vector<double> v;
  for (const Run& r : runs) v.push_back(value_of(r, q, lr));
  return v;
}

}  // namespace

Report depth_grid(const Lab& lab) {
  const bool quick = lab.settings.quick;
  Grid g;
  g.scales = quick ? kQuickScales : kScales;
  g.depths = quick ? kQuickDepths : kDepths;
  g.width = quick ? kQuickWidth : kWidth;
  g.steps = quick ? kQuickSteps : kSteps;
  const data::Dataset& set = lab.spiral;
  const size_t n_seeds = lab.seeds.size();
  const size_t high_lr = kLearningRates.size() - 1;
  const size_t verdict_depth = static_cast<size_t>(
      std::find(g.depths.begin(), g.depths.end(), kVerdictDepth) - g.depths.begin());

  std::vector<const ActivationInfo*> acts;
  for (const std::string& name : kCovered)
    if (const ActivationInfo* a = find_in(lab.acts, name)) acts.push_back(a);
  std::vector<std::string> names;
  for (const ActivationInfo* a : acts) names.push_back(a->name);

  note("depth grid: saturation and vanishing gradients");
  g.runs.resize(acts.size());
  for (size_t a = 0; a < acts.size(); ++a) {
    const auto t0 = std::chrono::steady_clock::now();
    g.runs[a].assign(g.scales.size(), std::vector<std::vector<Run>>(g.depths.size()));
    for (size_t s = 0; s < g.scales.size(); ++s)
      for (size_t d = 0; d < g.depths.size(); ++d)
        for (uint64_t seed : lab.seeds) {
          Run r;
          r.init =
              measure(build(*acts[a], set, g.width, g.depths[d], g.scales[s], seed), set, g.width);
          for (double lr : kLearningRates)
            r.trained.push_back(train(*acts[a], set, g, g.depths[d], g.scales[s], lr, seed));
          g.runs[a][s][d].push_back(std::move(r));
        }
    note(format("depth grid: %s done in %.1f s", acts[a]->name.c_str(), seconds_since(t0)));
  }

  // Per activation and cell: the vanishing test at initialisation and the saturation test after
  // training at the higher learning rate (diverged or overflowed runs count as no vanishing and
  // no saturation: the value least favourable to the claim).
  const auto tests_of = [&](size_t a, Quantity q, double threshold) {
    std::vector<std::vector<CellTest>> t(g.scales.size(), std::vector<CellTest>(g.depths.size()));
    for (size_t s = 0; s < g.scales.size(); ++s)
      for (size_t d = 0; d < g.depths.size(); ++d)
        t[s][d] = cell_test(seed_values(g.runs[a][s][d], q, high_lr), threshold, 0.0);
    return t;
  };

  const std::string lr_text = format("lr %g", kLearningRates[high_lr]);
  const auto base_map = [&] {
    Heatmap h;
    for (double s : g.scales) h.row_labels.push_back(scale_label(s));
    for (int64_t d : g.depths) h.column_labels.push_back(std::to_string(d));
    h.x_label = "depth (hidden layers)";
    h.y_label = "init scale (std x sqrt(fan_in))";
    h.values.assign(g.scales.size(), std::vector<double>(g.depths.size(), kNaN));
    h.cell_text.assign(g.scales.size(), std::vector<std::string>(g.depths.size()));
    return h;
  };
  // A cell's mean over its finite values; "*" marks a cell where some runs had none.
  const auto mean_map = [&](size_t a, Quantity q, size_t lr, double scale, int digits, Heatmap h) {
    for (size_t s = 0; s < g.scales.size(); ++s)
      for (size_t d = 0; d < g.depths.size(); ++d) {
        const std::vector<double> all = seed_values(g.runs[a][s][d], q, lr);
        const std::vector<double> ok = finite(all);
        if (ok.empty()) {
          h.cell_text[s][d] = "none";
          continue;
        }
        h.values[s][d] = scale * average(ok);
        h.cell_text[s][d] =
            format("%.*f", digits, h.values[s][d]) + (ok.size() < all.size() ? "*" : "");
      }
    return heatmap(h);
  };
  const auto trained_map = [&](size_t a, size_t lr, Heatmap h) {
    for (size_t s = 0; s < g.scales.size(); ++s)
      for (size_t d = 0; d < g.depths.size(); ++d) {
        size_t reached = 0, diverged = 0;
        for (const Run& r : g.runs[a][s][d]) {
          reached += r.trained[lr].accuracy >= kTargetAccuracy;
          diverged += r.trained[lr].diverged;
        }
        h.values[s][d] = 100.0 * static_cast<double>(reached) / static_cast<double>(n_seeds);
        h.cell_text[s][d] = format("%zu/%zu", reached, n_seeds) +
                            (diverged ? format(" x%zu", diverged) : std::string());
      }
    return heatmap(h);
  };
  // The per-unit gradient of each layer from 2 to L at the verdict depth, one band per scale
  // (mean of log10 g_l over the seeds with a finite value, bootstrap interval).
  const auto profile = [&](size_t a, const std::string& upper, bool after) {
    std::vector<Band> bands;
    for (size_t s = 0; s < g.scales.size(); ++s) {
      std::vector<std::vector<double>> logs;
      for (const Run& r : g.runs[a][s][verdict_depth]) {
        const Snapshot& snap = after ? r.trained[high_lr].after : r.init;
        logs.emplace_back();
        for (size_t l = 1; l < static_cast<size_t>(kVerdictDepth); ++l)
          logs.back().push_back(l < snap.grad.size() ? std::log10(snap.grad[l]) : kNaN);
      }
      std::vector<double> layers;
      for (size_t l = 1; l < static_cast<size_t>(kVerdictDepth); ++l)
        layers.push_back(static_cast<double>(l + 1));
      bands.push_back(seed_band("scale " + scale_label(g.scales[s]), layers, logs));
    }
    return band_plot(
        bands,
        format("%s, depth %lld, %s", upper.c_str(), static_cast<long long>(kVerdictDepth),
               after ? ("after training, " + lr_text).c_str() : "at init"),
        "hidden layer l; g_l = ||dL/dz_l|| / sqrt(width), per unit", "log10 g_l", {}, {}, 520, 340);
  };
  const double power_factor = detectable_difference(1.0, n_seeds);
  Report report;
  std::string scales_text, depths_text;
  for (double s : g.scales) scales_text += (scales_text.empty() ? "" : ", ") + scale_label(s);
  for (int64_t d : g.depths) depths_text += (depths_text.empty() ? "" : ", ") + std::to_string(d);
  const std::string method = format(
      "MLPs 2 - %lld x depth - 3 on the 3-class spiral (%lld training points), depth in {%s} "
      "hidden layers; hidden weights N(0, (scale / sqrt(fan_in))^2) with scale in {%s} (1: "
      "LeCun, and Glorot's on square layers, sigmoid's usual; sqrt 2: He, relu's usual; 5/3: "
      "tanh's usual gain; above 2: large weights, where saturation can appear), zero "
      "biases, the output layer Glorot normal. A seed draws the same standard normals for every "
      "activation and scale. Measured at initialisation, and after %lld full-batch SGD steps "
      "(momentum %.1f) from that initialisation at each of lr %g and %g, on the whole training "
      "set: g_l = ||dL/dz_l|| / sqrt(%lld), the cross-entropy's gradient with respect to hidden "
      "layer l's pre-activations per unit; D = log10(g_L / g_2), the decades the gradient loses "
      "from the last hidden layer back to the second (0: none; positive: vanishing; negative: "
      "growing; a layer-2 gradient that underflowed to 0 in float counts as the smallest float, "
      "1.4e-45, so D is then a lower bound; layer 1 is left out because it sees the 2-D inputs, so "
      "its size reflects the "
      "data rather than the depth); the saturated share, the fraction of (point, unit) pairs of "
      "layers 2..L with |f'(z)| < %g (f' through the activation's own backward: sigmoid needs "
      "|z| > 6.9, tanh |z| > 4.1; for relu it counts the inactive side, f' = 0 for z < 0, which "
      "is not saturation); trainability, whether the training accuracy reached %.0f %% (chance "
      "33 %%), as the share of seeds with its Wilson interval. A run whose loss or weights "
      "become non-finite has diverged: it counts as not trained, its D and saturated share are "
      "unknown (marked * in the heatmaps, which average the finite values), and in a verdict it "
      "takes the value least favourable to the claim (D = 0, 0 %% saturated). %zu seeds "
      "(1..%zu) per cell. Rules, fixed before the numbers: \"X gradients vanish through depth\" "
      "is supported when the whole 95 %% interval (expanded percentile bootstrap over seeds) of "
      "D - %g lies above 0 at initialisation (more than tenfold loss), not supported when it "
      "lies below 0, inconclusive otherwise; \"X saturates\" is the same rule on the saturated "
      "share after training at lr %g minus %.0f %%. Each verdict is judged at the activation's "
      "usual scale and depth %lld, and the same rule applied to every cell of the grid says "
      "where the claim holds and where not. Power: with %zu seeds the smallest mean effect "
      "detectable at 80 %% power (two-sided 5 %%) is %.2f times the per-seed standard deviation "
      "(each verdict gives it in its units); a trainability share of %zu runs has a Wilson "
      "interval some 50 to 60 points wide, so the trainability maps show only large contrasts "
      "(all or none).",
      static_cast<long long>(g.width), static_cast<long long>(set.size()), depths_text.c_str(),
      scales_text.c_str(), static_cast<long long>(g.steps), kMomentum, kLearningRates[0],
      kLearningRates[high_lr], static_cast<long long>(g.width), kFlat, 100 * kTargetAccuracy,
      n_seeds, n_seeds, kVanishDecades, kLearningRates[high_lr], 100 * kSaturatedShare,
      static_cast<long long>(kVerdictDepth), n_seeds, power_factor, n_seeds);
  report.section("2. Saturation and vanishing gradients through depth",
                 "sigmoid and tanh saturate (|f'(x)| tiny for large |x|), and their gradients "
                 "vanish through depth, so deep networks learn slowly or not at all; relu's "
                 "gradients do not vanish.",
                 method, names);
  report.text << format(
      "The table gives each activation's values at its usual scale and depth %lld, the cell its "
      "verdicts are judged at: means over the seeds with their 95 %% bootstrap intervals (values "
      "that are not finite left out and counted as unknown), trainability as a proportion with "
      "its Wilson interval; the heatmaps give the whole grid.\n\n",
      static_cast<long long>(kVerdictDepth));
  report.table_header(
      {"activation", "usual scale",
       format("D at init, depth %lld (decades)", static_cast<long long>(kVerdictDepth)),
       "D after training, " + lr_text, "saturated % at init",
       format("saturated %% after training, lr %g", kLearningRates[0]),
       "saturated % after training, " + lr_text,
       format("trained (accuracy >= %.0f %%), lr %g", 100 * kTargetAccuracy, kLearningRates[0]),
       "trained, " + lr_text, "diverged runs (whole grid)",
       format("gradient by layer, depth %lld", static_cast<long long>(kVerdictDepth)), "heatmaps"});
  const size_t vd = verdict_depth;
  for (size_t a = 0; a < acts.size(); ++a) {
    const std::string& name = acts[a]->name;
    const size_t vs = index_near(g.scales, usual_scale(name));
    const std::vector<Run>& cell = g.runs[a][vs][vd];
    const auto shown = [&](Quantity q, size_t lr, double scale) {
      const std::vector<double> all = seed_values(cell, q, lr), ok = finite(all);
      std::string text = show(bootstrap_mean(ok), 2, scale);
      if (ok.size() < all.size()) text += format(" (%zu unknown)", all.size() - ok.size());
      return text;
    };
    const auto trained_share = [&](size_t lr) {
      size_t reached = 0;
      for (const Run& r : cell) reached += r.trained[lr].accuracy >= kTargetAccuracy;
      return show(wilson(reached, cell.size()));
    };
    size_t diverged = 0, total = 0;
    for (const auto& by_scale : g.runs[a])
      for (const auto& runs : by_scale)
        for (const Run& r : runs)
          for (const Trained& t : r.trained) {
            diverged += t.diverged;
            ++total;
          }
    const std::string upper = [&] {
      std::string u = name;
      for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return u;
    }();
    Heatmap decades = base_map();
    decades.lo = -kDecadesShown;
    decades.hi = kDecadesShown;
    decades.colour_label = format(
        "colour: D = log10(g_L / g_2), decades lost layer L -> 2 (clamped at -+%g)", kDecadesShown);
    Heatmap share = base_map();
    share.lo = 0;
    share.hi = 100;
    share.colour_label = format("colour: %% of units in layers 2..L with abs(f') < %g", kFlat);
    Heatmap trained = base_map();
    trained.lo = 0;
    trained.hi = 100;
    trained.colour_label = format("colour: %% of seeds reaching %.0f %% accuracy (xK: K diverged)",
                                  100 * kTargetAccuracy);
    const auto titled = [&](Heatmap h, const std::string& title) {
      h.title = upper + ": " + title;
      return h;
    };
    // Two columns: at initialisation and the trainability at the lower rate on the left, after
    // training and the trainability at the higher rate on the right; then the lower rate's
    // trained state.
    const std::string low_lr_text = format("lr %g", kLearningRates[0]);
    const auto trained_title = [&](size_t lr) {
      return format("trained after %lld steps, lr %g", static_cast<long long>(g.steps),
                    kLearningRates[lr]);
    };
    const std::vector<plot::Image> panels{
        mean_map(a, Quantity::DecadesInit, 0, 1, 1, titled(decades, "D at init")),
        mean_map(a, Quantity::DecadesTrained, high_lr, 1, 1,
                 titled(decades, "D after training, " + lr_text)),
        mean_map(a, Quantity::SaturatedInit, 0, 100, 1, titled(share, "saturated at init")),
        mean_map(a, Quantity::SaturatedTrained, high_lr, 100, 1,
                 titled(share, "saturated after training, " + lr_text)),
        trained_map(a, 0, titled(trained, trained_title(0))),
        trained_map(a, high_lr, titled(trained, trained_title(high_lr))),
        mean_map(a, Quantity::DecadesTrained, 0, 1, 1,
                 titled(decades, "D after training, " + low_lr_text)),
        mean_map(a, Quantity::SaturatedTrained, 0, 100, 1,
                 titled(share, "saturated after training, " + low_lr_text))};
    const std::string path =
        report.figures.add("depth_grid_" + name + ".png", plot::tile_images(panels, 2));
    const std::string profile_path = report.figures.add(
        "depth_profile_" + name + ".png",
        plot::tile_images({profile(a, upper, false), profile(a, upper, true)}, 2));
    report.row({name, scale_label(g.scales[vs]), shown(Quantity::DecadesInit, 0, 1),
                shown(Quantity::DecadesTrained, high_lr, 1), shown(Quantity::SaturatedInit, 0, 100),
                shown(Quantity::SaturatedTrained, 0, 100),
                shown(Quantity::SaturatedTrained, high_lr, 100), trained_share(0),
                trained_share(high_lr), format("%zu of %zu", diverged, total), link(profile_path),
                link(path)});
  }
  report.text << "\nThe heatmaps (scale x depth) give each cell's mean over the seeds; * marks "
                 "a cell where some runs had no finite value, 'none' one where no run had.\n";

  const auto judge = [&](const std::string& name, bool vanishing) {
    const std::string claim = name + (vanishing ? " gradients vanish through depth" : " saturates");
    const size_t a = index_of(names, name);
    if (a == names.size()) {
      report.not_tested(claim, name);
      return;
    }
    const Quantity q = vanishing ? Quantity::DecadesInit : Quantity::SaturatedTrained;
    const double threshold = vanishing ? kVanishDecades : kSaturatedShare;
    const double unit = vanishing ? 1 : 100;
    const char* units = vanishing ? "decades" : "points";
    const auto tests = tests_of(a, q, threshold);
    const size_t vs = index_near(g.scales, usual_scale(name));
    const CellTest& t = tests[vs][vd];
    const std::vector<double> values = seed_values(g.runs[a][vs][vd], q, high_lr);
    std::vector<double> counted;  // as the rule counts them: unknown values at the fallback
    for (double v : values) counted.push_back(std::isfinite(v) ? v : 0.0);
    const Estimate value = bootstrap_mean(counted);
    const std::string what =
        vanishing ? "D at initialisation" : "the saturated share (%) after training at " + lr_text;
    const std::string rule =
        vanishing ? format(
                        "rule: the whole interval of D - %g above 0 (more than tenfold loss from "
                        "layer L back to layer 2, at initialisation)",
                        kVanishDecades)
                  : format(
                        "rule: the whole interval of the saturated share after training at %s "
                        "minus %.0f %% above 0",
                        lr_text.c_str(), 100 * kSaturatedShare);
    // The rule's learning rate is the higher one; the lower rate's value is given beside it.
    const std::string also =
        vanishing
            ? std::string()
            : format("; after training at lr %g instead: %s", kLearningRates[0],
                     show(bootstrap_mean(finite(seed_values(g.runs[a][vs][vd], q, 0))), 2, unit)
                         .c_str());
    // Rounding aside, the seeds may agree exactly (every one 0 % saturated): no spread to power.
    const std::string power =
        t.detectable > 1e-9
            ? format("the design detects a mean excess of %.2f %s at 80 %% power",
                     unit * t.detectable, units)
            : std::string("the seeds agree exactly, so any excess would have shown");
    const std::string reason = format(
        "%s. At %s's usual init (scale %s), depth %lld: %s = %s over %zu seeds (%zu without a "
        "finite value, counted as %s)%s; %s. Across the grid (scale x depth, the same rule per "
        "cell): holds at %s; does not "
        "hold at %s; inconclusive at %s.",
        rule.c_str(), name.c_str(), scale_label(g.scales[vs]).c_str(),
        static_cast<long long>(kVerdictDepth), what.c_str(), show(value, 2, unit).c_str(),
        values.size(), t.replaced, vanishing ? "D = 0" : "0 %", also.c_str(), power.c_str(),
        cells_where(g, tests, Finding::Supported).c_str(),
        cells_where(g, tests, Finding::NotSupported).c_str(),
        cells_where(g, tests, Finding::Inconclusive).c_str());
    report.finding(claim, t.finding, t.excess, reason);
  };
  judge("sigmoid", false);
  judge("tanh", false);
  judge("sigmoid", true);
  judge("tanh", true);
  judge("relu", true);
  return report;
}

}  // namespace activation_lab
