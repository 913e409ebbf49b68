// Section 5 of the activation lab: where the loss holds the network's second derivative (a
// physics-informed network), a smooth activation is needed; relu, whose second derivative is 0
// almost everywhere, cannot fit the equation. The PINN is that of examples/pinn.cpp, cut to what
// the lab needs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kHidden = 32;
constexpr int64_t kPoints = 64;        // collocation points, a uniform grid with both ends
constexpr int64_t kEvalPoints = 1000;  // the fine grid of the error
// The residual's scale is pi^4 times u's: the boundary term is weighted up to match.
constexpr double kBoundaryWeight = 100.0;
constexpr double kLr = 3e-3, kLrMin = 1e-5;  // Adam, cosine-annealed from kLr to kLrMin
constexpr int64_t kSteps = 3000, kQuickSteps = 60;
// Rules, fixed before the runs: a smooth activation "solves" the problem when its relative L2
// error is below kTarget; relu's error is "greater" than a smooth one's by the paired log10
// difference, with kMargin decades (a factor 2) as the smallest difference that matters.
constexpr double kTarget = 1e-2;
constexpr double kMargin = 0.3;
// The activations the claim names: relu against the smooth ones.
const char* const kSmooth[] = {"gelu", "swish", "softplus", "tanh"};

struct PinnRun {
  double rel_l2 = kNaN;   // NaN: the run diverged
  std::vector<double> u;  // on the fine grid
};

// n evenly spaced points of [0, 1], both ends included, as a column [n, 1].
Tensor unit_grid(int64_t n, bool requires_grad = false) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] =
        static_cast<float>(static_cast<double>(i) / static_cast<double>(n - 1));
  return Tensor::from(std::move(v), {n, 1}, requires_grad);
}

// mean_i (u''(x_i) + pi^2 sin(pi x_i))^2 + kBoundaryWeight (u(0)^2 + u(1)^2). Each u_i depends
// only on x_i, so the gradient of sum(u) with respect to x is the pointwise u'.
Tensor pinn_loss(nn::Module& net, const Tensor& x, const Tensor& forcing, const Tensor& ends) {
  const Tensor u = net.forward(x);
  const Tensor du = grad({sum(u)}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  // A piecewise-linear network (relu) has u' piecewise constant: u'' does not reach x, and is 0.
  Tensor d2u = grad({sum(du)}, {x}, {}, std::nullopt, /*create_graph=*/true,
                    /*allow_unused=*/true)[0];
  if (!d2u.defined()) d2u = Tensor::zeros(x.shape());
  const Tensor residual = d2u + forcing;
  const Tensor u_ends = net.forward(ends);
  return mean(residual * residual) + sum(u_ends * u_ends) * static_cast<float>(kBoundaryWeight);
}

PinnRun train_pinn(const ActivationInfo& info, uint64_t seed, int64_t steps) {
  // The same seed draws the same initial weights for every activation, layer by layer in order
  // (named first: the order in which function arguments are evaluated is unspecified).
  Generator gen(seed);
  auto first = std::make_shared<nn::Linear>(1, kHidden, gen);
  auto second = std::make_shared<nn::Linear>(kHidden, kHidden, gen);
  auto last = std::make_shared<nn::Linear>(kHidden, 1, gen);
  auto net = std::make_shared<nn::Sequential>(first, make_activation(info, kHidden), second,
                                              make_activation(info, kHidden), last);
  const Tensor x = unit_grid(kPoints, /*requires_grad=*/true);
  Tensor forcing = Tensor::empty(x.shape());
  forcing.mutable_array() =
      (x.array() * static_cast<float>(kPi)).sin() * static_cast<float>(kPi * kPi);
  const Tensor ends = Tensor::from({0.0f, 1.0f}, {2, 1});

  optim::Adam adam(net->parameters(), optim::AdamOptions(kLr));
  optim::CosineAnnealingLR schedule(adam, steps, kLrMin);
  PinnRun run;
  for (int64_t step = 0; step < steps; ++step) {
    adam.zero_grad();
    const Tensor loss = pinn_loss(*net, x, forcing, ends);
    if (!std::isfinite(loss.item())) return run;  // diverged: counted, never averaged
    loss.backward();
    adam.step();
    schedule.step();
  }
  NoGradGuard no_grad;
  const std::vector<float> u = net->forward(unit_grid(kEvalPoints)).to_vector();
  double err = 0, norm = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    const double x_i = static_cast<double>(i) / static_cast<double>(kEvalPoints - 1);
    const double exact = std::sin(kPi * x_i);
    err += (static_cast<double>(u[i]) - exact) * (static_cast<double>(u[i]) - exact);
    norm += exact * exact;
    run.u.push_back(static_cast<double>(u[i]));
  }
  if (std::isfinite(err)) run.rel_l2 = std::sqrt(err / norm);
  return run;
}

// log10 of the errors, a diverged run taking the worst value seen in the whole experiment (and
// at least 0, the error of u = 0), so that it counts as a failure without poisoning the mean.
std::vector<double> log_errors(const std::vector<PinnRun>& runs, double worst) {
  std::vector<double> v;
  for (const PinnRun& r : runs) v.push_back(std::isfinite(r.rel_l2) ? std::log10(r.rel_l2) : worst);
  return v;
}

}  // namespace

Report smoothness(const Lab& lab) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t steps = lab.settings.quick ? kQuickSteps : kSteps;
  note("smoothness: a PINN per activation");
  Report report;
  std::vector<std::string> covered;
  for (const ActivationInfo* info : lab.acts) covered.push_back(info->name);
  report.section(
      "5. Smoothness: a physics-informed network",
      "smooth activations (gelu, swish, softplus, tanh) are needed where the loss holds the "
      "network's second derivative; relu, whose second derivative is zero almost everywhere, "
      "fails.",
      format("A physics-informed network (as examples/pinn.cpp) for u''(x) = -pi^2 sin(pi x) on "
             "[0, 1], u(0) = u(1) = 0 (exact u = sin(pi x)): a 1-%lld-%lld-1 network, float32, "
             "PyTorch's default Linear initialisation from the seed (the same initial weights for "
             "every activation), loss mean((u'' + pi^2 sin(pi x))^2) + %g (u(0)^2 + u(1)^2) on "
             "%lld uniform collocation points, u'' by eigrad::grad with create_graph; Adam, lr "
             "%g annealed (cosine) to %g over %lld steps; seeds %zu. Error: the relative L2 "
             "error of u against sin(pi x) on %lld points. Rules written before the runs: a "
             "smooth activation solves the problem when its Wilson interval of the share of "
             "seeds with error < %g lies above 50 %% (supported), below 50 %% (not supported), "
             "else inconclusive; relu's error is greater than a smooth activation's when the "
             "95 %% bootstrap interval of log10(error_relu) - log10(error_smooth), paired by "
             "seed, lies above 0 (equivalence margin %g decades). A diverged run (non-finite "
             "loss) counts as a failure and takes the worst log10 error seen (at least 0). "
             "Figures: u(x), the mean over the seeds with its 95 %% interval, against sin(pi x). "
             "Power: %zu paired seeds detect (80 %%, two-sided 5 %%) a mean difference of %.2f "
             "standard deviations of the per-seed differences; each verdict states it in "
             "decades.",
             static_cast<long long>(kHidden), static_cast<long long>(kHidden), kBoundaryWeight,
             static_cast<long long>(kPoints), kLr, kLrMin, static_cast<long long>(steps),
             lab.seeds.size(), static_cast<long long>(kEvalPoints), kTarget, kMargin,
             lab.seeds.size(), detectable_difference(1.0, lab.seeds.size())),
      covered);

  std::vector<std::vector<PinnRun>> runs(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a)
    for (uint64_t seed : lab.seeds) runs[a].push_back(train_pinn(*lab.acts[a], seed, steps));
  double worst = 0;
  for (const auto& per_act : runs)
    for (const PinnRun& r : per_act)
      if (std::isfinite(r.rel_l2)) worst = std::max(worst, std::log10(r.rel_l2));

  report.table_header({"activation", "relative L2 error, median [min, max]",
                       "log10 error, mean [95 % interval]",
                       format("seeds with error < %g", kTarget), "diverged runs", "figure"});
  std::vector<double> fine_x;
  for (int64_t i = 0; i < kEvalPoints; ++i)
    fine_x.push_back(static_cast<double>(i) / static_cast<double>(kEvalPoints - 1));
  Band exact{"exact sin(pi x)", fine_x, {}, {}, {}};
  for (double x : fine_x) exact.mean.push_back(std::sin(kPi * x));
  std::vector<plot::Image> tiles;
  std::vector<Proportion> solved(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    const std::string& name = lab.acts[a]->name;
    std::vector<double> errors;
    size_t diverged = 0, below = 0;
    for (const PinnRun& r : runs[a]) {
      if (!std::isfinite(r.rel_l2)) ++diverged;
      errors.push_back(std::isfinite(r.rel_l2) ? r.rel_l2 : kNaN);
      below += r.rel_l2 < kTarget;
    }
    std::vector<double> sorted = finite(errors);
    std::sort(sorted.begin(), sorted.end());
    const std::string spread = sorted.empty()
                                   ? "n/a"
                                   : format("%.2e [%.2e, %.2e]", quantile_sorted(sorted, 0.5),
                                            sorted.front(), sorted.back());
    solved[a] = wilson(below, runs[a].size());
    const Estimate log_error = bootstrap_mean(log_errors(runs[a], worst));
    // u(x) over the seeds that did not diverge: the mean and its 95 % interval at each x.
    std::vector<std::vector<double>> solutions;
    for (const PinnRun& r : runs[a])
      if (std::isfinite(r.rel_l2)) solutions.push_back(r.u);
    const Band solution = seed_band(
        format("%s, %zu seeds", name.c_str(), runs[a].size() - diverged), fine_x, solutions);
    plot::Image image = band_plot(
        {exact, solution}, format("%s, %lld steps", name.c_str(), static_cast<long long>(steps)),
        "x (dimensionless)", "u (dimensionless)", -0.1, 1.3);
    tiles.push_back(image);
    report.row({name, spread, show(log_error, 2), show(solved[a]),
                format("%zu of %zu", diverged, runs[a].size()),
                link(report.figures.add("pinn_" + name + ".png", image))});
  }
  report.text << "\n![PINN solutions per activation](" +
                     report.figures.add("pinn.png", plot::tile_images(tiles, 3)) + ")\n";

  const size_t relu = index_of(lab.names, "relu");
  for (const char* smooth : kSmooth) {
    const size_t s = index_of(lab.names, smooth);
    const std::string solves = std::string(smooth) + " solves the PINN problem";
    const std::string beats = std::string("relu's PINN error is greater than ") + smooth + "'s";
    if (s == lab.names.size()) {
      report.not_tested(solves, smooth);
      report.not_tested(beats, smooth);
      continue;
    }
    const Proportion& p = solved[s];
    const Finding f = p.lo > 0.5   ? Finding::Supported
                      : p.hi < 0.5 ? Finding::NotSupported
                                   : Finding::Inconclusive;
    report.finding(solves, f,
                   format("rule: Wilson interval of the share of seeds with relative L2 error < "
                          "%g above 50 %%; %s, %lld steps, 1-%lld-%lld-1 network.",
                          kTarget, show(p).c_str(), static_cast<long long>(steps),
                          static_cast<long long>(kHidden), static_cast<long long>(kHidden)));
    if (relu == lab.names.size()) {
      report.not_tested(beats, "relu");
      continue;
    }
    const std::vector<double> diff =
        paired_difference(log_errors(runs[relu], worst), log_errors(runs[s], worst));
    const Estimate e = bootstrap_mean(diff);
    report.finding(
        beats, finding_greater(e, kMargin), e,
        format("rule: the 95 %% interval of log10(error_relu) - log10(error_%s), paired by seed, "
               "above 0 (equivalence within %g decades); difference %s decades over %zu seeds "
               "(smallest difference detectable at 80 %% power: %.2f decades); relu solved %s.",
               smooth, kMargin, show(e, 2).c_str(), diff.size(),
               detectable_difference(sample_sd(diff), diff.size()), show(solved[relu]).c_str()));
  }
  note(format("smoothness: %.1f s", seconds_since(t0)));
  return report;
}

}  // namespace activation_lab
