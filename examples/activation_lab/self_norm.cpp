// Section 3 of the activation lab: whether an activation keeps the mean near 0 and the variance
// near 1 through depth, with LeCun-normal weights.
#include <cstdint>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

struct SelfNormRun {
  std::vector<double> mean, variance;  // of the post-activation values, per layer
};

SelfNormRun self_norm_run(const ActivationInfo& info, int64_t depth, const Settings& s,
                          uint64_t seed) {
  Generator data_gen(seed * 1000 + 3);
  const Tensor x = Tensor::normal({512, s.width}, 0.0f, 1.0f, data_gen);
  const Mlp m = make_mlp(info, s.width, s.width, depth, 2, Init::LeCun, seed * 1000 + 5);
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

}  // namespace

Report self_normalisation(const Lab& lab) {
  const Settings& s = lab.settings;
  const int64_t deepest = s.depths.back();
  Report report;
  note("self-normalisation");
  report.section(
      "3. Self-normalisation",
      "with LeCun-normal initialisation, selu keeps the activations' mean near 0 and "
      "variance near 1 through depth; the others do not.",
      format("MLPs %lld - %lld x %lld, every activation with LeCun normal weights "
             "(std 1/sqrt(fan_in)) and zero biases, on 512 inputs drawn from N(0, 1); mean "
             "and variance of the post-activation values of each layer (forward only).",
             static_cast<long long>(s.width), static_cast<long long>(s.width),
             static_cast<long long>(deepest)),
      lab.names);
  report.table_header(
      {"activation", "mean, last layer", "variance, last layer", "variance, layer 1", "figure"});
  std::vector<plot::Image> tiles;
  std::vector<Interval> last_mean(lab.acts.size()), last_var(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<SelfNormRun> runs;
    for (uint64_t seed : lab.seeds) runs.push_back(self_norm_run(*lab.acts[a], deepest, s, seed));
    std::vector<double> m, v, v1;
    std::vector<std::vector<double>> mc, vc;
    for (const SelfNormRun& r : runs) {
      m.push_back(r.mean.back());
      v.push_back(r.variance.back());
      v1.push_back(r.variance.front());
      mc.push_back(r.mean);
      vc.push_back(r.variance);
    }
    last_mean[a] = mean_interval(m);
    last_var[a] = mean_interval(v);
    const auto x = iota_curve(static_cast<size_t>(deepest));
    plot::Image image =
        small_plot({{"mean", x, mean_curve(mc), {}}, {"variance", x, mean_curve(vc), {}}},
                   lab.acts[a]->name + ": LeCun init, per layer");
    tiles.push_back(image);
    report.row({lab.acts[a]->name, show(last_mean[a]), show(last_var[a]), show(mean_interval(v1)),
                link(report.figures.add("selfnorm_" + lab.acts[a]->name + ".png", image))});
  }
  report.text << "\n![mean and variance through depth](" +
                     report.figures.add("selfnorm.png", plot::tile_images(tiles, 4)) + ")\n";
  const size_t selu = index_of(lab.names, "selu");
  if (selu < lab.names.size()) {
    const Verdict v = verdict_all(
        {verdict_within(last_mean[selu], -0.1, 0.1), verdict_within(last_var[selu], 0.8, 1.25)});
    std::string others;
    for (size_t a = 0; a < lab.acts.size(); ++a)
      if (a != selu && verdict_within(last_mean[a], -0.1, 0.1) == Verdict::Supported &&
          verdict_within(last_var[a], 0.8, 1.25) == Verdict::Supported)
        others += (others.empty() ? "" : ", ") + lab.names[a];
    report.verdict(
        "selu self-normalises", v,
        format("rule: at layer %lld the mean's interval inside [-0.1, 0.1] and the "
               "variance's inside [0.8, 1.25]; selu: mean %s, variance %s. Others meeting the "
               "same rule: %s.",
               static_cast<long long>(deepest), show(last_mean[selu]).c_str(),
               show(last_var[selu]).c_str(), others.empty() ? "none" : others.c_str()));
  } else {
    report.not_tested("selu self-normalises", "selu");
  }
  return report;
}

}  // namespace activation_lab
