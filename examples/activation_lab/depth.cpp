// Sections 1 and 2 of the activation lab: gradients through depth, and the mean and saturation
// of each layer's values, from the same deep networks trained on the spiral.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

double mean_of(const Tensor& t) {
  return static_cast<double>(t.array().cast<double>().mean());
}
double norm_of(const Tensor& t) {
  return t.defined() ? std::sqrt(static_cast<double>(t.array().cast<double>().square().sum()))
                     : kNaN;
}
double accuracy(const Tensor& logits, const std::vector<int64_t>& labels) {
  const std::vector<int64_t> predicted = argmax(logits, 1).to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

struct LayerStats {
  std::vector<double> pre_mean, post_mean, saturated;  // per hidden layer
  std::vector<double> beyond_two;                      // share of pre-activations with |z| > 2
};

LayerStats layer_stats(const Mlp& m, const Tensor& x) {
  std::vector<Tensor> pre, post;
  {
    NoGradGuard no_grad;
    forward_trace(m, x, &pre, &post);
  }
  LayerStats s;
  for (size_t l = 0; l < pre.size(); ++l) {
    s.pre_mean.push_back(mean_of(pre[l]));
    s.post_mean.push_back(mean_of(post[l]));
    s.beyond_two.push_back(static_cast<double>((pre[l].array().abs() > 2.0f).count()) /
                           static_cast<double>(pre[l].numel()));
    const Tensor d = derivative(*m.activations[l], pre[l]);
    s.saturated.push_back(static_cast<double>((d.array().abs() < kFlat).count()) /
                          static_cast<double>(d.numel()));
  }
  return s;
}

struct DeepRun {
  std::vector<double> grad_init, grad_trained;  // ||dL/dW_l|| per hidden layer
  double train_accuracy = kNaN;
  LayerStats init, trained;
};

std::vector<double> hidden_grad_norms(const Mlp& m) {
  std::vector<double> g;
  for (const auto& linear : m.hidden) g.push_back(norm_of(linear->weight().grad()));
  return g;
}

DeepRun deep_run(const ActivationInfo& info, const data::Dataset& set, int64_t depth,
                 const Settings& s, uint64_t seed, bool with_stats) {
  Mlp m = make_mlp(info, 2, s.width, depth, set.num_classes, Init::Usual, seed * 1000 + 17);
  DeepRun r;
  if (with_stats) r.init = layer_stats(m, set.X);
  optim::SGD optimizer(m.model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
  for (int64_t step = 0; step <= s.deep_steps; ++step) {
    optimizer.zero_grad();
    nn::cross_entropy(forward_trace(m, set.X, nullptr, nullptr), set.y).backward();
    if (step == 0) r.grad_init = hidden_grad_norms(m);
    if (step == s.deep_steps) {
      r.grad_trained = hidden_grad_norms(m);
      break;
    }
    optimizer.step();
  }
  if (!finite_model(*m.model)) return r;  // diverged: accuracy and statistics unknown
  {
    NoGradGuard no_grad;
    r.train_accuracy = accuracy(forward_trace(m, set.X, nullptr, nullptr), set.y);
  }
  if (with_stats) r.trained = layer_stats(m, set.X);
  return r;
}

// log10(||dW_1|| / ||dW_L||): how many decades the gradient shrinks from the last hidden layer
// back to the first.
double decades(const std::vector<double>& norms) {
  if (norms.empty()) return kNaN;
  return std::log10(norms.front() / norms.back());
}

using DeepRuns = std::vector<std::vector<std::vector<DeepRun>>>;  // [activation][depth index][seed]

// Section 1: the gradient's shrinkage through depth at initialisation and after training.
void vanishing(const Lab& lab, const DeepRuns& deep, Report& report) {
  const Settings& s = lab.settings;
  const int64_t deepest = s.depths.back();
  const auto per_seed = [&](size_t a, size_t d, const auto& f) {
    std::vector<double> v;
    for (const DeepRun& r : deep[a][d]) v.push_back(f(r));
    return v;
  };
  const auto decades_at_init = [&](size_t a, size_t d) {
    return per_seed(a, d, [](const DeepRun& r) { return decades(r.grad_init); });
  };
  const size_t last = s.depths.size() - 1;
  std::string method =
      format("MLPs 2 - %lld x depth - 3 on a 3-class spiral (%lld points), depths ",
             static_cast<long long>(s.width), static_cast<long long>(lab.spiral.size()));
  for (size_t d = 0; d < s.depths.size(); ++d)
    method += (d ? ", " : "") + std::to_string(s.depths[d]);
  method += format(
      ", each activation with its usual initialisation (He normal for the relu family and "
      "the smooth relu-likes, Glorot normal for sigmoid, hard_sigmoid, softsign and tanh "
      "with gain 5/3, LeCun normal for selu; zero biases). Full-batch cross-entropy "
      "gradients at initialisation and after %lld SGD steps (lr 0.01, momentum 0.9). "
      "r = log10(||dL/dW_1|| / ||dL/dW_L||), the decades by which the weight gradient "
      "shrinks from the last hidden layer back to the first (0: none; -1: tenfold). Runs "
      "whose weights became non-finite are counted as diverged and left out of the trained "
      "columns.",
      static_cast<long long>(s.deep_steps));
  report.section("1. Vanishing gradients through depth",
                 "sigmoid (and tanh) gradients vanish through depth, so deep networks learn "
                 "slowly or not at all; relu does not suffer from it.",
                 method, lab.names);
  std::vector<std::string> cols{"activation"};
  for (int64_t d : s.depths) cols.push_back("r at init, depth " + std::to_string(d));
  cols.push_back("r trained, depth " + std::to_string(deepest));
  cols.push_back("train accuracy, depth " + std::to_string(deepest));
  cols.push_back("diverged runs, depth " + std::to_string(deepest));
  cols.push_back("figure");
  report.table_header(cols);
  std::vector<plot::Image> tiles;
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<std::string> cells{lab.acts[a]->name};
    for (size_t d = 0; d < s.depths.size(); ++d)
      cells.push_back(show(mean_interval(decades_at_init(a, d)), 2));
    cells.push_back(show(mean_interval(finite(per_seed(
                             a, last, [](const DeepRun& r) { return decades(r.grad_trained); }))),
                         2));
    cells.push_back(show(
        mean_interval(finite(per_seed(a, last, [](const DeepRun& r) { return r.train_accuracy; }))),
        1, 100));
    int diverged = 0;
    for (const DeepRun& r : deep[a][last]) diverged += !std::isfinite(r.train_accuracy);
    cells.push_back(format("%d of %zu", diverged, lab.seeds.size()));
    std::vector<std::vector<double>> at_init, trained;
    for (const DeepRun& r : deep[a][last]) {
      std::vector<double> li, lt;
      for (double g : r.grad_init) li.push_back(std::log10(g));
      for (double g : r.grad_trained) lt.push_back(std::log10(g));
      at_init.push_back(li);
      trained.push_back(lt);
    }
    const auto x = iota_curve(static_cast<size_t>(deepest));
    plot::Image image =
        small_plot({{"init", x, mean_curve(at_init), {}}, {"trained", x, mean_curve(trained), {}}},
                   lab.acts[a]->name + ": log10 |dW| vs layer, depth " + std::to_string(deepest));
    tiles.push_back(image);
    cells.push_back(link(report.figures.add("vanishing_" + lab.acts[a]->name + ".png", image)));
    report.row(cells);
  }
  report.text << "\n![log10 gradient norm against layer](" +
                     report.figures.add("vanishing.png", plot::tile_images(tiles, 4)) + ")\n";
  const size_t relu = index_of(lab.names, "relu");
  for (const char* claim : {"sigmoid", "tanh"}) {
    const std::string title = std::string(claim) + " gradients vanish through depth";
    const size_t a = index_of(lab.names, claim);
    if (a == lab.names.size() || relu == lab.names.size()) {
      report.not_tested(title, a == lab.names.size() ? claim : "relu");
      continue;
    }
    const Interval own = mean_interval(decades_at_init(a, last));
    const Interval diff =
        mean_interval(paired_difference(decades_at_init(a, last), decades_at_init(relu, last)));
    const Verdict v = verdict_all({verdict_less(own, -1.0), verdict_less(diff, 0.0)});
    report.verdict(
        title, v,
        format("rule: r at init at depth %lld below -1 (tenfold shrinkage) and "
               "below relu's (paired); r = %s, r - r_relu = %s.",
               static_cast<long long>(deepest), show(own, 2).c_str(), show(diff, 2).c_str()));
  }
}

// Section 2: each layer's mean and saturated share, from the shallow depth's runs.
void saturation(const Lab& lab, const DeepRuns& deep, Report& report) {
  const Settings& s = lab.settings;
  const int64_t shallow = s.depths.front();
  report.section(
      "2. Zero-centredness and saturation",
      "sigmoid's outputs are not zero-centred, tanh's are; sigmoid and tanh saturate "
      "(|f'(x)| tiny for large |x|).",
      format("The depth-%lld networks of section 1 on the spiral: per hidden layer, the mean "
             "pre-activation and post-activation value and the fraction of values where "
             "|f'(x)| < 1e-3 (f' through the activation's own backward), at initialisation "
             "and after training, and the share of pre-activations with |z| > 2 (where "
             "sigmoid's output is within 0.12 of 0 or 1) after training. The table averages "
             "the layers (abs post mean averages the absolute per-layer means).",
             static_cast<long long>(shallow)),
      lab.names);
  report.table_header({"activation", "pre mean, trained", "post mean, trained",
                       "abs post mean, trained", "abs z > 2 %, trained", "saturated % at init",
                       "saturated % trained", "figure"});
  const size_t d0 = 0;
  const auto over_layers = [&](size_t a, const auto& f) {
    std::vector<double> v;
    for (const DeepRun& r : deep[a][d0]) v.push_back(f(r));
    return mean_interval(v);
  };
  const auto abs_post = [](const DeepRun& r) {
    std::vector<double> v;
    for (double m : r.trained.post_mean) v.push_back(std::abs(m));
    return average(v);
  };
  std::vector<plot::Image> tiles;
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<std::string> cells{lab.acts[a]->name};
    cells.push_back(
        show(over_layers(a, [](const DeepRun& r) { return average(r.trained.pre_mean); })));
    cells.push_back(
        show(over_layers(a, [](const DeepRun& r) { return average(r.trained.post_mean); })));
    cells.push_back(show(over_layers(a, abs_post)));
    cells.push_back(show(
        over_layers(a, [](const DeepRun& r) { return average(r.trained.beyond_two); }), 1, 100));
    cells.push_back(
        show(over_layers(a, [](const DeepRun& r) { return average(r.init.saturated); }), 1, 100));
    cells.push_back(show(
        over_layers(a, [](const DeepRun& r) { return average(r.trained.saturated); }), 1, 100));
    std::vector<std::vector<double>> pre, post, sat;
    for (const DeepRun& r : deep[a][d0]) {
      pre.push_back(r.trained.pre_mean);
      post.push_back(r.trained.post_mean);
      sat.push_back(r.trained.saturated);
    }
    const auto x = iota_curve(static_cast<size_t>(shallow));
    plot::Image image = small_plot({{"pre mean", x, mean_curve(pre), {}},
                                    {"post mean", x, mean_curve(post), {}},
                                    {"saturated", x, mean_curve(sat), {}}},
                                   lab.acts[a]->name + ": per layer, trained");
    tiles.push_back(image);
    cells.push_back(link(report.figures.add("centred_" + lab.acts[a]->name + ".png", image)));
    report.row(cells);
  }
  report.text << "\n![mean and saturation per layer](" +
                     report.figures.add("centred.png", plot::tile_images(tiles, 4)) + ")\n";
  const size_t sig = index_of(lab.names, "sigmoid"), tanh_ = index_of(lab.names, "tanh");
  if (sig < lab.names.size())
    report.verdict("sigmoid is not zero-centred", verdict_greater(over_layers(sig, abs_post), 0.1),
                   "rule: mean |post-activation mean| after training above 0.1; it is " +
                       show(over_layers(sig, abs_post)) + ".");
  else
    report.not_tested("sigmoid is not zero-centred", "sigmoid");
  if (tanh_ < lab.names.size())
    report.verdict("tanh is zero-centred", verdict_less(over_layers(tanh_, abs_post), 0.1),
                   "rule: mean |post-activation mean| after training below 0.1; it is " +
                       show(over_layers(tanh_, abs_post)) + ".");
  else
    report.not_tested("tanh is zero-centred", "tanh");
  for (size_t a : {sig, tanh_}) {
    if (a >= lab.names.size()) continue;
    const Interval i =
        over_layers(a, [](const DeepRun& r) { return average(r.trained.saturated); });
    report.verdict(lab.names[a] + " saturates", verdict_greater(i, 0.05),
                   "rule: after training, more than 5 % of the values have |f'| < 1e-3; " +
                       show(i, 1, 100) + " %.");
  }
}

}  // namespace

Report depth_grid(const Lab& lab) {
  const Settings& s = lab.settings;
  const int64_t shallow = s.depths.front();
  DeepRuns deep(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    note("deep networks: " + lab.acts[a]->name);
    deep[a].resize(s.depths.size());
    for (size_t d = 0; d < s.depths.size(); ++d)
      for (uint64_t seed : lab.seeds)
        deep[a][d].push_back(
            deep_run(*lab.acts[a], lab.spiral, s.depths[d], s, seed, s.depths[d] == shallow));
  }
  Report report;
  vanishing(lab, deep, report);
  saturation(lab, deep, report);
  return report;
}

}  // namespace activation_lab
