// Section 6 of the activation lab: the time of each activation's forward and backward against a
// streaming kernel over the same bytes.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lab.hpp"

namespace activation_lab {

using namespace eigrad;

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

Report cost(const Lab& lab) {
  const Settings& s = lab.settings;
  Report report;
  note("cost");
  set_num_threads(1);  // single-threaded, like the ceiling
  const Cost ceiling = ceiling_cost(s);
  std::vector<Cost> costs;
  for (const ActivationInfo* a : lab.acts) costs.push_back(cost_of(*a, s));
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
             static_cast<long long>(s.cost_elements), static_cast<long long>(s.cost_repetitions),
             ceiling.forward_ns, ceiling.backward_ns,
             static_cast<long long>(s.cost_elements * 20 / 1000000)),

      lab.names);
  report.table_header(
      {"activation", "forward ns/element", "ratio", "fwd+bwd ns/element", "ratio", "figure"});
  std::vector<double> x, fwd, fb;
  for (size_t a = 0; a < lab.acts.size(); ++a) {
    x.push_back(static_cast<double>(a));
    fwd.push_back(costs[a].forward_ns / ceiling.forward_ns);
    fb.push_back(costs[a].backward_ns / ceiling.backward_ns);
  }
  plot::LinePlotOptions o;
  o.title = "time / ceiling per activation (x: row of the table)";
  const std::string figure = report.figures.add(
      "cost.png", plot::render_line_plot({{"forward", x, fwd, {}}, {"fwd+bwd", x, fb, {}}}, o));
  for (size_t a = 0; a < lab.acts.size(); ++a)
    report.row({lab.acts[a]->name, format("%.3f", costs[a].forward_ns), format("%.2fx", fwd[a]),
                format("%.3f", costs[a].backward_ns), format("%.2fx", fb[a]), link(figure)});
  report.text << "\n![time against the ceiling](" + figure + ")\n";
  const size_t sig = index_of(lab.names, "sigmoid"), relu = index_of(lab.names, "relu"),
               swish = index_of(lab.names, "swish");
  if (sig < lab.names.size())
    report.verdict("sigmoid is computationally expensive",
                   fb[sig] > 1.5 ? Verdict::Supported : Verdict::NotSupported,
                   format("rule: forward+backward above 1.5x the ceiling (the benchmark's "
                          "target); %.2fx. A timing, no interval.",
                          fb[sig]));
  else
    report.not_tested("sigmoid is computationally expensive", "sigmoid");
  if (relu < lab.names.size())
    report.verdict("relu is computationally efficient",
                   fb[relu] <= 1.5 ? Verdict::Supported : Verdict::NotSupported,
                   format("rule: forward+backward within 1.5x the ceiling; %.2fx.", fb[relu]));
  else
    report.not_tested("relu is computationally efficient", "relu");
  if (relu < lab.names.size() && swish < lab.names.size())
    report.verdict("swish is about as efficient as relu",
                   costs[swish].backward_ns <= 1.5 * costs[relu].backward_ns
                       ? Verdict::Supported
                       : Verdict::NotSupported,
                   format("rule: forward+backward time within 1.5x relu's; %.2fx.",
                          costs[swish].backward_ns / costs[relu].backward_ns));
  else
    report.not_tested("swish is about as efficient as relu", "swish or relu");
  return report;
}

}  // namespace activation_lab
