// The activation lab, second edition: puts the usual claims about activation functions to the
// test where each is known to bite, with paired seeds, bootstrap intervals, power statements and
// pictures, and writes the report activation_lab.md with its PNG figures into --out. One
// experiment per file, run in kExperiments' order: cost per element in cache and from memory,
// saturation and vanishing gradients through depth, through time, self-normalisation,
// smoothness (a physics-informed network), zero-centring, dying units, convergence and final
// quality, the output layer. --only runs some of them.
//
// Every input is checked (names, the experiments, the output folder, the data) before anything is
// trained; figures and report are written only at the end, each file atomically (temporary name
// in the same folder, then rename). The same command and seeds give the same report, except the
// lines that depend on the clock: the header's date, the Cost section and the run time.
//
// This file reads and checks the options and runs the experiments; the statistics (stats.hpp,
// inference.hpp), figures, report writer and networks they share stand beside them.
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
  app.add_option("--seeds", s.seeds,
                 "number of seeds, 2..100 (the seeds are 1..N; experiments whose power needs "
                 "more use more, and say so)")
      ->check(CLI::Range(2, 100));
  app.add_option("--out", s.out, "folder of the report and its figures");
  app.add_option("--activations", activations_option,
                 "comma-separated names (default: every hidden-unit activation of the catalogue)");
  app.add_option("--threads", s.threads,
                 "threads for the kernels (the report is reproducible for a given count)")
      ->check(CLI::Range(1, 256));
  app.add_option("--data", s.data, "Fashion-MNIST folder");
  std::string only_option;
  app.add_option("--only", only_option,
                 "run only these experiments, comma-separated: " + experiment_keys());
  CLI11_PARSE(app, argc, argv);

  if (s.quick && app.count("--seeds") == 0) s.seeds = 3;

  const auto t_start = std::chrono::steady_clock::now();
  try {
    // Every input is checked here, before any training.
    std::vector<const ActivationInfo*> acts;
    if (app.count("--activations"))
      acts = parse_names("--activations", activations_option);
    else
      for (const ActivationInfo& info : activation_catalogue())
        if (info.kind != ActivationKind::AlongAxis) acts.push_back(&info);
    if (app.count("--only")) s.only = parse_only(only_option);
    check_output_folder(s.out);
    set_num_threads(static_cast<int>(s.threads));

    const Lab lab = make_lab(s, acts);
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
