// Section 5 of the activation lab: speed of convergence and held-out accuracy on the spiral, a
// Fashion-MNIST MLP and a Fashion-MNIST CNN.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

struct QualityRun {
  std::vector<double> test_curve;  // held-out accuracy after each epoch
  double final_test = kNaN, epochs_to_target = kNaN;
  bool reached = false;
  bool diverged = false;  // non-finite weights at the end (the accuracy is what they give)
};

void finish_quality(QualityRun& r, double target) {
  r.final_test = r.test_curve.empty() ? kNaN : r.test_curve.back();
  r.epochs_to_target = static_cast<double>(r.test_curve.size() + 1);  // censored: never reached
  for (size_t e = 0; e < r.test_curve.size(); ++e)
    if (r.test_curve[e] >= target) {
      r.epochs_to_target = static_cast<double>(e + 1);
      r.reached = true;
      break;
    }
}

double evaluate(nn::Module& model, const data::Dataset& set) {
  NoGradGuard no_grad;
  model.eval();
  int64_t right = 0;
  data::BatchLoader loader(set, 500, {/*shuffle=*/false});
  for (const data::Batch& b : loader.epoch()) {
    const std::vector<int64_t> predicted = argmax(model.forward(b.X), 1).to_vector();
    for (size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == b.y[i];
  }
  model.train();
  return static_cast<double>(right) / static_cast<double>(set.size());
}

constexpr double kSpiralTarget = 0.90, kFashionTarget = 0.80;

QualityRun spiral_run(const ActivationInfo& info, const data::Dataset& train,
                      const data::Dataset& test, const Settings& s, uint64_t seed) {
  Mlp m = make_mlp(info, 2, s.width, 3, train.num_classes, Init::Usual, seed * 1000 + 41);
  optim::SGD optimizer(m.model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  QualityRun r;
  for (int64_t epoch = 0; epoch < s.spiral_epochs; ++epoch) {
    optimizer.zero_grad();
    nn::cross_entropy(m.model->forward(train.X), train.y).backward();
    optimizer.step();
    r.test_curve.push_back(evaluate(*m.model, test));
  }
  r.diverged = !finite_model(*m.model);
  finish_quality(r, kSpiralTarget);
  return r;
}

QualityRun minibatch_run(nn::Module& model, const data::Dataset& train, const data::Dataset& test,
                         int64_t epochs, double lr, uint64_t seed) {
  optim::SGD optimizer(model.parameters(), optim::SGDOptions(lr).momentum(0.9).nesterov(true));
  data::BatchLoader loader(train, 64, {/*shuffle=*/true, /*drop_last=*/false, seed});
  QualityRun r;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (const data::Batch& b : loader.epoch()) {
      optimizer.zero_grad();
      nn::cross_entropy(model.forward(b.X), b.y).backward();
      optimizer.step();
    }
    r.test_curve.push_back(evaluate(model, test));
  }
  r.diverged = !finite_model(model);
  finish_quality(r, kFashionTarget);
  return r;
}

QualityRun fashion_mlp_run(const ActivationInfo& info, const data::Dataset& train,
                           const data::Dataset& test, const Settings& s, uint64_t seed) {
  Mlp m = make_mlp(info, 784, s.fashion_width, 2, 10, Init::Usual, seed * 1000 + 43);
  return minibatch_run(*m.model, train, test, s.fashion_epochs, 0.05, seed);
}

// conv(1->8, 3x3) - f - pool 2 - conv(8->16, 3x3) - f - pool 2 - linear(784->10).
QualityRun fashion_cnn_run(const ActivationInfo& info, const data::Dataset& train,
                           const data::Dataset& test, const Settings& s, uint64_t seed) {
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
  return minibatch_run(model, train, test, s.cnn_epochs, s.cnn_lr, seed);
}

}  // namespace

Report quality(const Lab& lab) {
  const Settings& s = lab.settings;
  Report report;
  const data::Dataset spiral_train = data::make_spiral(3, s.spiral_points, 11);
  const data::Dataset spiral_test = data::make_spiral(3, s.spiral_points, 12);
  struct Task {
    std::string name;
    std::vector<std::vector<QualityRun>> runs;  // [act][seed]; empty: not run
  };
  std::vector<Task> tasks{{"spiral", {}}, {"Fashion-MNIST MLP", {}}, {"Fashion-MNIST CNN", {}}};
  for (Task& t : tasks) t.runs.resize(lab.acts.size());
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    note("convergence: " + lab.acts[a]->name);
    for (uint64_t seed : lab.seeds) {
      tasks[0].runs[a].push_back(spiral_run(*lab.acts[a], spiral_train, spiral_test, s, seed));
      tasks[1].runs[a].push_back(
          fashion_mlp_run(*lab.acts[a], lab.fashion_train, lab.fashion_test, s, seed));
      if (find_in(lab.cnn_acts, lab.acts[a]->name))
        tasks[2].runs[a].push_back(
            fashion_cnn_run(*lab.acts[a], lab.cnn_train, lab.cnn_test, s, seed));
    }
  }
  std::string cnn_names;
  for (const ActivationInfo* a : lab.cnn_acts)
    cnn_names += (cnn_names.empty() ? "" : ", ") + a->name;
  report.section(
      "5. Speed of convergence and final quality",
      "relu converges quickly (faster than sigmoid and tanh); swish is better than relu "
      "(+0.6 to 0.9 % top-1 on ImageNet in its paper).",
      format("Held-out test accuracy after each epoch, and the epochs until it first reaches "
             "a target (a run that never does counts as epochs + 1). Spiral: 2 - %lld x 3 - "
             "3, %lld training points and %lld independent test points (other noise draws), "
             "%lld full-batch SGD epochs (lr 0.05, momentum 0.9), target %.0f %%. "
             "Fashion-MNIST MLP: 784 - %lld x 2 - 10 on the first %lld training images, "
             "tested on the first %lld of the test set, %lld epochs of SGD (batch 64, lr "
             "0.05, Nesterov momentum 0.9), target %.0f %%. Fashion-MNIST CNN: conv 8 - f - "
             "pool - conv 16 - f - pool - linear, on the first %lld training images, the "
             "same test images, %lld epochs, the same optimiser with lr %g (at 0.05 the He "
             "initialisation without batch norm made prelu diverge), same target; run for %s "
             "only (its cost). Inputs standardised; usual initialisation as in section 1.",
             static_cast<long long>(s.width), static_cast<long long>(spiral_train.size()),
             static_cast<long long>(spiral_test.size()), static_cast<long long>(s.spiral_epochs),
             100 * kSpiralTarget, static_cast<long long>(s.fashion_width),
             static_cast<long long>(s.fashion_train), static_cast<long long>(s.fashion_test),
             static_cast<long long>(s.fashion_epochs), 100 * kFashionTarget,
             static_cast<long long>(s.cnn_train), static_cast<long long>(s.cnn_epochs), s.cnn_lr,
             cnn_names.empty() ? "no activation" : cnn_names.c_str()),
      lab.names);
  report.table_header({"activation", "spiral: epochs to 90 %", "spiral: test %",
                       "MLP: epochs to 80 %", "MLP: test %", "CNN: test %",
                       "diverged runs (spiral/MLP/CNN)", "figure"});
  const auto values = [&](size_t task, size_t a, bool epochs) {
    std::vector<double> v;
    for (const QualityRun& r : tasks[task].runs[a])
      v.push_back(epochs ? r.epochs_to_target : r.final_test);
    return v;
  };
  const auto diverged = [&](size_t a) {
    std::string cell;
    for (size_t t = 0; t < tasks.size(); ++t) {
      int n = 0;
      for (const QualityRun& r : tasks[t].runs[a]) n += r.diverged;
      cell += (t ? "/" : "") + (tasks[t].runs[a].empty() ? std::string("-") : std::to_string(n));
    }
    return cell;
  };
  std::vector<plot::Image> tiles;
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<plot::Curve> curves;
    for (size_t t = 0; t < tasks.size(); ++t) {
      std::vector<std::vector<double>> c;
      for (const QualityRun& r : tasks[t].runs[a]) c.push_back(r.test_curve);
      if (c.empty()) continue;
      const std::vector<double> m = mean_curve(c);
      std::vector<double> x;  // fraction of the training done
      for (size_t i = 0; i < m.size(); ++i)
        x.push_back(static_cast<double>(i + 1) / static_cast<double>(m.size()));
      curves.push_back({tasks[t].name, x, m, {}});
    }
    plot::Image image =
        small_plot(curves, lab.acts[a]->name + ": test accuracy vs training done", 0.0, 1.0);
    tiles.push_back(image);
    report.row(
        {lab.acts[a]->name, show(mean_interval(values(0, a, true)), 1),
         show(mean_interval(values(0, a, false)), 1, 100),
         show(mean_interval(values(1, a, true)), 2),
         show(mean_interval(values(1, a, false)), 1, 100),
         tasks[2].runs[a].empty() ? "not run" : show(mean_interval(values(2, a, false)), 1, 100),
         diverged(a),
         link(report.figures.add("convergence_" + lab.acts[a]->name + ".png", image))});
  }
  report.text << "\n![test accuracy during training](" +
                     report.figures.add("convergence.png", plot::tile_images(tiles, 4)) + ")\n";
  const size_t relu = index_of(lab.names, "relu"), swish = index_of(lab.names, "swish");
  // relu converges faster than sigmoid and tanh: epochs to target, paired differences.
  if (relu < lab.names.size() && index_of(lab.names, "sigmoid") < lab.names.size() &&
      index_of(lab.names, "tanh") < lab.names.size()) {
    std::vector<Verdict> parts;
    std::string reason =
        "rule: (epochs to target of sigmoid, tanh) minus relu's above 0 on "
        "the spiral and the MLP;";
    for (size_t task : {size_t{0}, size_t{1}})
      for (const char* other : {"sigmoid", "tanh"}) {
        const Interval d = mean_interval(paired_difference(
            values(task, index_of(lab.names, other), true), values(task, relu, true)));
        parts.push_back(verdict_greater(d, 0));
        reason += " " + tasks[task].name + " " + other + " " + show(d, 1) + ";";
      }
    report.verdict("relu converges faster than sigmoid and tanh", verdict_all(parts), reason);
  } else {
    report.not_tested("relu converges faster than sigmoid and tanh", "relu, sigmoid or tanh");
  }
  if (relu < lab.names.size() && swish < lab.names.size()) {
    int better = 0, tested = 0;
    std::string reason =
        "rule: supported when swish minus relu (test accuracy, paired) lies "
        "above 0 on every task, not supported when on none, else mixed;";
    std::string rows;
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (tasks[t].runs[swish].empty() || tasks[t].runs[relu].empty()) continue;
      const Interval d =
          mean_interval(paired_difference(values(t, swish, false), values(t, relu, false)));
      ++tested;
      better += d.above(0);
      reason += " " + tasks[t].name + " " + show(d, 2, 100) + " points;";
      rows += "| " + tasks[t].name + " | " + show(d, 2, 100) + " |\n";
    }
    report.text << "\nswish minus relu, held-out test accuracy in percentage points (paired "
                   "by seed):\n\n| task | swish - relu |\n|---|---|\n"
                << rows;
    report.verdict("swish is better than relu",
                   better == tested ? Verdict::Supported
                   : better == 0    ? Verdict::NotSupported
                                    : Verdict::Mixed,
                   reason);
  } else {
    report.not_tested("swish is better than relu", relu < lab.names.size() ? "swish" : "relu");
  }
  return report;
}

}  // namespace activation_lab
