// The self-normalisation experiment: whether an activation drives the activations' mean to 0 and
// variance to 1 through depth with LeCun-normal weights, from inputs that start there and from
// inputs that do not (the property's claim is an attracting fixed point, so it must also pull
// badly scaled inputs back; with standardised inputs a merely variance-preserving activation
// would pass too).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

struct InputCase {
  const char* name;
  float mean, sd;
};
// Standardised inputs, and inputs off the fixed point on both moments.
constexpr InputCase kInputs[] = {{"N(0, 1) inputs", 0.0f, 1.0f}, {"N(1, 2^2) inputs", 1.0f, 2.0f}};

// The margins of "near": |mean| below 0.1, variance within a factor 1.25 of 1.
constexpr double kMeanMargin = 0.1;
const double kLogVarMargin = std::log(1.25);

struct SelfNormRun {
  std::vector<double> mean, variance;  // of the post-activation values, per layer
};

SelfNormRun self_norm_run(const ActivationInfo& info, int64_t width, int64_t depth,
                          const InputCase& input, uint64_t seed) {
  Generator data_gen(seed * 1000 + 3);
  const Tensor x = Tensor::normal({512, width}, input.mean, input.sd, data_gen);
  const Mlp m = make_mlp(info, width, width, depth, 2, Init::LeCun, seed * 1000 + 5);
  std::vector<Tensor> post;
  NoGradGuard no_grad;
  forward_trace(m, x, nullptr, &post);
  SelfNormRun r;
  for (const Tensor& h : post) {
    const auto a = h.array().cast<double>();
    const double mu = a.mean();
    r.mean.push_back(mu);
    r.variance.push_back((a - mu).square().mean());
  }
  return r;
}

// "Near the fixed point" as two equivalences: the mean's interval within (-0.1, 0.1) and the log
// variance's within (-log 1.25, log 1.25). Supported when both hold; not supported when either
// interval lies wholly outside its margin (the moment is away from the fixed point for sure);
// inconclusive otherwise.
Finding near_fixed_point(const Estimate& mean, const Estimate& log_var) {
  const auto inside = [](const Estimate& e, double m) {
    return e.known() && e.lo > -m && e.hi < m;
  };
  const auto outside = [](const Estimate& e, double m) {
    return e.known() && (e.lo >= m || e.hi <= -m);
  };
  if (inside(mean, kMeanMargin) && inside(log_var, kLogVarMargin)) return Finding::Supported;
  if (outside(mean, kMeanMargin) || outside(log_var, kLogVarMargin)) return Finding::NotSupported;
  return Finding::Inconclusive;
}

}  // namespace

Report self_normalisation(const Lab& lab) {
  const bool quick = lab.settings.quick;
  const int64_t width = quick ? 16 : 64, depth = quick ? 10 : 50;
  Report report;
  note("self-normalisation");
  report.section(
      "4. Self-normalisation",
      "with LeCun-normal initialisation, selu drives the activations' mean to 0 and variance "
      "to 1 through depth (an attracting fixed point); the others do not.",
      format("MLPs %lld - %lld x %lld, every activation with LeCun normal weights (std "
             "1/sqrt(fan_in)) and zero biases, forward only, on 512 inputs drawn from N(0, 1) and "
             "from N(1, 2^2): the second start is off the fixed point on both moments, so only an "
             "activation that pulls the moments back passes there. Per seed, the mean and the "
             "variance of the last layer's post-activation values. Rule, written before the "
             "numbers: near the fixed point when the bootstrap interval (over %zu seeds) of the "
             "mean lies within (-0.1, 0.1) and that of log(variance) within (-log 1.25, "
             "log 1.25): supported; not supported when either lies wholly outside; else "
             "inconclusive. The claim holds for selu when it is near from both starts. The "
             "moments are deterministic given the weights, so the seeds' spread is the weights' "
             "draw; with %zu seeds an interval half-width of a few hundredths is typical (see the "
             "table).",
             static_cast<long long>(width), static_cast<long long>(width),
             static_cast<long long>(depth), lab.seeds.size(), lab.seeds.size()),
      lab.names);
  report.table_header({"activation", "mean, last layer (N(0,1) in)", "variance (N(0,1) in)",
                       "mean (N(1,4) in)", "variance (N(1,4) in)", "figure"});
  std::vector<plot::Image> tiles;
  // finding[a][input]
  std::vector<std::vector<Finding>> found(lab.acts.size());
  std::vector<std::vector<std::string>> shown(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<std::string> cells{lab.acts[a]->name};
    std::vector<Band> bands;
    for (const InputCase& input : kInputs) {
      std::vector<double> m, log_v;
      std::vector<std::vector<double>> curves;
      for (uint64_t seed : lab.seeds) {
        const SelfNormRun r = self_norm_run(*lab.acts[a], width, depth, input, seed);
        m.push_back(r.mean.back());
        log_v.push_back(std::log(r.variance.back()));
        std::vector<double> lv;
        for (double v : r.variance) lv.push_back(std::log10(v));
        curves.push_back(lv);
      }
      const Estimate em = bootstrap_mean(m, 11), ev = bootstrap_mean(log_v, 13);
      Estimate var{std::exp(ev.mean), std::exp(ev.lo), std::exp(ev.hi), ev.p, ev.n};
      cells.push_back(show(em));
      cells.push_back(show(var));
      found[a].push_back(near_fixed_point(em, ev));
      shown[a].push_back(format("mean %s, variance %s", show(em).c_str(), show(var).c_str()));
      bands.push_back(seed_band(input.name, iota_curve(static_cast<size_t>(depth)), curves));
    }
    plot::Image image = band_plot(bands, lab.acts[a]->name + ": variance through depth", "layer",
                                  "log10 variance", {}, {}, 360, 240);
    tiles.push_back(image);
    cells.push_back(link(report.figures.add("selfnorm_" + lab.acts[a]->name + ".png", image)));
    report.row(cells);
  }
  report.text << "\n![variance through depth](" +
                     report.figures.add("selfnorm.png", plot::tile_images(tiles, 4)) + ")\n";
  const size_t selu = index_of(lab.names, "selu");
  if (selu < lab.names.size()) {
    const Finding standard = found[selu][0], off = found[selu][1];
    Finding f = Finding::Inconclusive;
    if (standard == Finding::Supported && off == Finding::Supported) f = Finding::Supported;
    if (standard == Finding::NotSupported || off == Finding::NotSupported)
      f = Finding::NotSupported;
    std::string others;
    for (size_t a = 0; a < lab.acts.size(); ++a)
      if (a != selu && found[a][0] == Finding::Supported && found[a][1] == Finding::Supported)
        others += (others.empty() ? "" : ", ") + lab.names[a];
    report.finding("selu self-normalises", f,
                   format("at layer %lld: from N(0, 1) inputs %s (%s); from N(1, 2^2) inputs %s "
                          "(%s). Others near the fixed point from both starts: %s. No p-value: "
                          "an equivalence on two moments, outside the Holm family.",
                          static_cast<long long>(depth), finding_name(standard),
                          shown[selu][0].c_str(), finding_name(off), shown[selu][1].c_str(),
                          others.empty() ? "none" : others.c_str()));
  } else {
    report.not_tested("selu self-normalises", "selu");
  }
  return report;
}

}  // namespace activation_lab
