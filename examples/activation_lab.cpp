// The activation lab: puts the usual claims about activation functions to the test, with several
// seeds, 95 % intervals and pictures, and writes the report activation_lab.md with its PNG figures
// into --out. One section per claim: vanishing gradients through depth, zero-centredness and
// saturation, self-normalisation, dying units (and PReLU's learned slopes), speed of convergence
// and final quality (spiral, Fashion-MNIST MLP and CNN), and cost against the bandwidth ceiling.
//
// Every input is checked (names, depths, widths, the output folder, the data) before anything is
// trained; figures and report are written only at the end, each file atomically (temporary name
// in the same folder, then rename). The same command and seeds give the same report, except the
// lines that depend on the clock: the header's date, the Cost section and the run time.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "activation_lab/lab.hpp"
#include "activation_lab/model.hpp"
#include "activation_lab/report.hpp"
#include "activation_lab/stats.hpp"
#include "eigrad/io.hpp"
#include "eigrad/plot.hpp"

using namespace eigrad;
using namespace activation_lab;

namespace {

template <class F>
double fastest(int64_t repetitions, F run) {
  run();  // warm-up: the allocator's heap grows once
  double best = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < repetitions; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

struct Cost {
  double forward_ns = kNaN, backward_ns = kNaN;  // per element; backward: forward + backward
};

// What bench_activations times: y = f(x) and y = f(x); y.backward(g), single-threaded; prelu on
// [n / 4096, 64, 64] with 64 slopes.
Cost cost_of(const ActivationInfo& info, const Settings& s) {
  const bool per_channel = info.kind == ActivationKind::PerChannel;
  const Shape shape =
      per_channel ? Shape{s.cost_elements / 4096, 64, 64} : Shape{s.cost_elements / 1024, 1024};
  Generator gen(1);
  Tensor x = Tensor::uniform(shape, -4, 4, gen);
  Tensor slopes = Tensor::full({64}, 0.25f);
  const Tensor g = Tensor::uniform(shape, -1, 1, gen);
  const auto apply = [&] { return per_channel ? info.apply(x, slopes) : info.apply(x); };
  const double n = static_cast<double>(x.numel());
  Cost c;
  c.forward_ns = 1e9 / n * fastest(s.cost_repetitions, [&] {
                   const Tensor y = apply();
                   if (!y.defined()) throw Error("activation_lab: no output");
                 });
  x.set_requires_grad();
  slopes.set_requires_grad();
  c.backward_ns = 1e9 / n * fastest(s.cost_repetitions, [&] {
                    apply().backward(g);
                    x.zero_grad();
                    slopes.zero_grad();
                  });
  return c;
}

// The ceilings of bench_activations: a streaming kernel over the same bytes (forward: read x,
// write y; forward+backward: then read g and y, write dx).
Cost ceiling_cost(const Settings& s) {
  Generator gen(1);
  const Tensor x = Tensor::uniform({s.cost_elements}, -4, 4, gen);
  const Tensor g = Tensor::uniform({s.cost_elements}, -1, 1, gen);
  Tensor y = Tensor::empty({s.cost_elements}), dx = Tensor::empty({s.cost_elements});
  const double n = static_cast<double>(s.cost_elements);
  Cost c;
  c.forward_ns =
      1e9 / n * fastest(s.cost_repetitions, [&] { y.mutable_array() = x.array() * 1.5f + 0.25f; });
  c.backward_ns = 1e9 / n * fastest(s.cost_repetitions, [&] {
                    y.mutable_array() = x.array() * 1.5f + 0.25f;
                    dx.mutable_array() = g.array() * 1.5f + y.array() * 0.25f;
                  });
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Test the usual claims about activation functions, with seeds, intervals and "
      "figures; writes OUT/activation_lab.md and OUT/figures/*.png"};
  Settings s;
  std::string activations_option;
  app.add_flag("--quick", s.quick,
               "a short run (small networks, few steps and seeds) for tests; explicit options "
               "still win");
  app.add_option("--seeds", s.seeds, "number of seeds, 2..100 (the seeds are 1..N)")
      ->check(CLI::Range(2, 100));
  app.add_option("--out", s.out, "folder of the report and its figures");
  app.add_option("--activations", activations_option,
                 "comma-separated names (default: every hidden-unit activation of the catalogue)");
  app.add_option("--depths", s.depths, "depths of the deep networks (sections 1-3)")
      ->delimiter(',')
      ->check(CLI::Range(1, 200));
  app.add_option("--width", s.width, "units per hidden layer")->check(CLI::Range(1, 4096));
  app.add_option("--deep-steps", s.deep_steps, "training steps of the deep networks")
      ->check(CLI::Range(1, 100000));
  app.add_option("--dying-steps", s.dying_steps, "training steps of the dying-units runs")
      ->check(CLI::Range(1, 100000));
  app.add_option("--dying-lr", s.dying_lr, "the high learning rate of the dying-units runs")
      ->check(CLI::Range(1e-6, 100.0));
  app.add_option("--spiral-epochs", s.spiral_epochs, "full-batch epochs on the spiral")
      ->check(CLI::Range(1, 100000));
  app.add_option("--fashion-epochs", s.fashion_epochs, "epochs of the Fashion-MNIST MLP")
      ->check(CLI::Range(1, 1000));
  app.add_option("--fashion-train", s.fashion_train, "training images of the MLP")
      ->check(CLI::Range(1, 60000));
  app.add_option("--fashion-test", s.fashion_test, "test images of the MLP and the CNN")
      ->check(CLI::Range(1, 10000));
  app.add_option("--cnn-epochs", s.cnn_epochs, "epochs of the Fashion-MNIST CNN (0: no CNN)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--cnn-train", s.cnn_train, "training images of the CNN")
      ->check(CLI::Range(1, 60000));
  app.add_option("--cnn-lr", s.cnn_lr, "learning rate of the CNN runs")
      ->check(CLI::Range(1e-6, 10.0));
  std::string cnn_option;
  app.add_option("--cnn-activations", cnn_option,
                 "activations of the CNN runs, comma-separated (default: all of --activations; "
                 "--quick: relu,swish)");
  app.add_option("--cost-repetitions", s.cost_repetitions, "timed runs per kernel (fastest kept)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--threads", s.threads, "threads for the kernels (1 keeps reports identical)")
      ->check(CLI::Range(1, 256));
  app.add_option("--data", s.data, "Fashion-MNIST folder");
  CLI11_PARSE(app, argc, argv);

  const auto quick_default = [&](const char* option, auto& value, auto quick_value) {
    if (s.quick && app.count(option) == 0) value = quick_value;
  };
  quick_default("--seeds", s.seeds, 3);
  quick_default("--width", s.width, 16);
  quick_default("--deep-steps", s.deep_steps, 10);
  quick_default("--dying-steps", s.dying_steps, 30);
  quick_default("--spiral-epochs", s.spiral_epochs, 30);
  quick_default("--fashion-epochs", s.fashion_epochs, 1);
  quick_default("--fashion-train", s.fashion_train, 256);
  quick_default("--fashion-test", s.fashion_test, 200);
  quick_default("--cnn-epochs", s.cnn_epochs, 1);
  quick_default("--cnn-train", s.cnn_train, 128);
  quick_default("--cost-repetitions", s.cost_repetitions, 2);
  if (s.quick) {
    s.spiral_points = 50;
    s.fashion_width = 32;
    s.cost_elements = int64_t(1) << 16;
    if (cnn_option.empty()) s.cnn_activations = {"relu", "swish"};
  }

  const auto t_start = std::chrono::steady_clock::now();
  try {
    // Every input is checked here, before any training.
    std::vector<const ActivationInfo*> acts;
    const auto parse_names = [](const std::string& option, const std::string& list) {
      std::vector<const ActivationInfo*> found;
      std::stringstream in(list);
      std::string name;
      while (std::getline(in, name, ',')) {
        if (name.empty()) continue;
        const ActivationInfo* info = nullptr;
        try {
          info = &find_activation(name);
        } catch (const Error& e) {
          throw Error(option + ": unknown activation '" + name + "' (" + e.what() + ")");
        }
        if (info->kind == ActivationKind::AlongAxis)
          throw Error(option + ": '" + name +
                      "' normalises along an axis; it is not a hidden-unit activation");
        if (!find_in(found, info->name)) found.push_back(info);
      }
      if (found.empty()) throw Error(option + ": no activation named in '" + list + "'");
      return found;
    };
    if (app.count("--activations"))
      acts = parse_names("--activations", activations_option);
    else
      for (const ActivationInfo& info : activation_catalogue())
        if (info.kind != ActivationKind::AlongAxis) acts.push_back(&info);
    std::vector<const ActivationInfo*> cnn_acts;
    if (!cnn_option.empty()) {
      cnn_acts = parse_names("--cnn-activations", cnn_option);
      for (const ActivationInfo* a : cnn_acts)
        if (!find_in(acts, a->name))
          throw Error("--cnn-activations: '" + a->name + "' is not among --activations");
    } else if (s.cnn_activations.empty()) {
      cnn_acts = acts;
    } else {
      for (const std::string& n : s.cnn_activations)
        if (const ActivationInfo* a = find_in(acts, n)) cnn_acts.push_back(a);
    }
    if (s.cnn_epochs == 0) cnn_acts.clear();
    std::sort(s.depths.begin(), s.depths.end());
    s.depths.erase(std::unique(s.depths.begin(), s.depths.end()), s.depths.end());
    if (s.depths.empty()) throw Error("--depths: give at least one depth");
    check_output_folder(s.out);
    set_num_threads(static_cast<int>(s.threads));

    const Lab lab = make_lab(s, acts, cnn_acts);
    const std::vector<uint64_t>& seeds = lab.seeds;
    const std::vector<std::string>& names = lab.names;

    Report report;
    const std::string head = header(seeds, command_line(argc, argv), s.threads);

    report.append(vanishing_and_saturation(lab));

    report.append(self_normalisation(lab));

    report.append(dying_units(lab));

    report.append(convergence_and_quality(lab));

    // ---------------------------------------------------------------- 6
    {
      note("cost");
      set_num_threads(1);  // single-threaded, like the ceiling
      const Cost ceiling = ceiling_cost(s);
      std::vector<Cost> costs;
      for (const ActivationInfo* a : acts) costs.push_back(cost_of(*a, s));
      set_num_threads(static_cast<int>(s.threads));
      report.section(
          "6. Cost",
          "sigmoid is computationally expensive; relu is computationally efficient; swish has "
          "an efficiency similar to relu's.",
          format("Timings, so machine-dependent and left out of the reproducibility promise. "
                 "The calls bench_activations times: y = f(x), and y = f(x) then y.backward(g), "
                 "on %lld float32 elements (prelu: [n/4096, 64, 64], 64 slopes), one thread, "
                 "the fastest of %lld runs after a warm-up, in ns per element. The ceilings are "
                 "streaming kernels over the same bytes: y = a x + b (8 B/element, %.3f "
                 "ns/element) and then dx = c g + d y (20 B/element, %.3f ns/element); ratio = "
                 "time / ceiling. The operands take %lld MB per forward+backward; the ceiling "
                 "moves the same bytes the same way, so the ratio compares like with like "
                 "whichever cache level or memory serves them.",
                 static_cast<long long>(s.cost_elements),
                 static_cast<long long>(s.cost_repetitions), ceiling.forward_ns,
                 ceiling.backward_ns, static_cast<long long>(s.cost_elements * 20 / 1000000)),

          names);
      report.table_header(
          {"activation", "forward ns/element", "ratio", "fwd+bwd ns/element", "ratio", "figure"});
      std::vector<double> x, fwd, fb;
      for (size_t a = 0; a < acts.size(); ++a) {
        x.push_back(static_cast<double>(a));
        fwd.push_back(costs[a].forward_ns / ceiling.forward_ns);
        fb.push_back(costs[a].backward_ns / ceiling.backward_ns);
      }
      plot::LinePlotOptions o;
      o.title = "time / ceiling per activation (x: row of the table)";
      const std::string figure = report.figures.add(
          "cost.png", plot::render_line_plot({{"forward", x, fwd, {}}, {"fwd+bwd", x, fb, {}}}, o));
      for (size_t a = 0; a < acts.size(); ++a)
        report.row({acts[a]->name, format("%.3f", costs[a].forward_ns), format("%.2fx", fwd[a]),
                    format("%.3f", costs[a].backward_ns), format("%.2fx", fb[a]), link(figure)});
      report.text << "\n![time against the ceiling](" + figure + ")\n";
      const auto index = [&](const char* n) {
        return static_cast<size_t>(std::find(names.begin(), names.end(), n) - names.begin());
      };
      const size_t sig = index("sigmoid"), relu = index("relu"), swish = index("swish");
      if (sig < names.size())
        report.verdict("sigmoid is computationally expensive",
                       fb[sig] > 1.5 ? Verdict::Supported : Verdict::NotSupported,
                       format("rule: forward+backward above 1.5x the ceiling (the benchmark's "
                              "target); %.2fx. A timing, no interval.",
                              fb[sig]));
      else
        report.not_tested("sigmoid is computationally expensive", "sigmoid");
      if (relu < names.size())
        report.verdict("relu is computationally efficient",
                       fb[relu] <= 1.5 ? Verdict::Supported : Verdict::NotSupported,
                       format("rule: forward+backward within 1.5x the ceiling; %.2fx.", fb[relu]));
      else
        report.not_tested("relu is computationally efficient", "relu");
      if (relu < names.size() && swish < names.size())
        report.verdict("swish is about as efficient as relu",
                       costs[swish].backward_ns <= 1.5 * costs[relu].backward_ns
                           ? Verdict::Supported
                           : Verdict::NotSupported,
                       format("rule: forward+backward time within 1.5x relu's; %.2fx.",
                              costs[swish].backward_ns / costs[relu].backward_ns));
      else
        report.not_tested("swish is about as efficient as relu", "swish or relu");
    }

    report.closing_note(seconds_since(t_start));
    const std::string report_path = write_report(s.out, head, report);
    std::cout << "wrote " << report_path << " and " << report.figures.files.size() << " figures in "
              << format("%.1f", seconds_since(t_start)) << " s\n";
    return 0;
  } catch (const Error& e) {
    std::cerr << "activation_lab: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "activation_lab: " << e.what() << "\n";
    return 2;
  }
}
