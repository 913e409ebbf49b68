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
//
// This file reads and checks the options and runs the experiments in order, one file each
// (depth.cpp, self_norm.cpp, dying.cpp, quality.cpp, cost.cpp); the statistics, figures, report
// writer and networks they share stand beside them.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lab.hpp"

using namespace eigrad;
using namespace activation_lab;

namespace {

// The activations a comma-separated list names: known, hidden-unit ones, each once.
std::vector<const ActivationInfo*> parse_names(const std::string& option, const std::string& list) {
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
}

struct Experiment {
  const char* key;  // --only's name
  Report (*run)(const Lab&);
};
constexpr Experiment kExperiments[] = {
    {"cost", cost},
    {"depth", depth_grid},
    {"time", through_time},
    {"self_norm", self_normalisation},
    {"smoothness", smoothness},
    {"zero_centring", zero_centring},
    {"dying", dying_units},
    {"quality", quality},
    {"output", output_layer},
};

std::string experiment_keys() {
  std::string keys;
  for (const Experiment& e : kExperiments) keys += (keys.empty() ? "" : ", ") + std::string(e.key);
  return keys;
}

// --only's comma-separated list: known experiment keys.
std::vector<std::string> parse_only(const std::string& list) {
  std::vector<std::string> keys;
  std::stringstream in(list);
  std::string key;
  while (std::getline(in, key, ',')) {
    if (key.empty()) continue;
    bool known = false;
    for (const Experiment& e : kExperiments) known = known || key == e.key;
    if (!known)
      throw Error("--only: unknown experiment '" + key +
                  "' (the experiments: " + experiment_keys() + ")");
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  if (keys.empty()) throw Error("--only: no experiment named in '" + list + "'");
  return keys;
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
  std::string only_option;
  app.add_option("--only", only_option,
                 "run only these experiments, comma-separated: " + experiment_keys());
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
    if (app.count("--only")) s.only = parse_only(only_option);
    check_output_folder(s.out);
    set_num_threads(static_cast<int>(s.threads));

    const Lab lab = make_lab(s, acts, cnn_acts);
    const std::string head = header(lab.seeds, command_line(argc, argv), s.threads);

    Report report;
    for (const Experiment& e : kExperiments)
      if (s.only.empty() || std::find(s.only.begin(), s.only.end(), e.key) != s.only.end())
        report.append(e.run(lab));

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
