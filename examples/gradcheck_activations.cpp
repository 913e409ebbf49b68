// Gradient-checks every activation of the catalogue: the backward's full Jacobian against central
// differences in float64, at random points drawn away from each activation's kinks. Then, for the
// built-in activations, the second order (gradgradcheck: the gradient computed with create_graph,
// differentiated again) and the third (gradgradcheck of the first derivative), at points away
// from the kinks and from 0 (where softsign's second derivative jumps). A registered activation
// is differentiable once ("once" in those columns). Prints one row per activation and exits
// non-zero if any check fails.
//
//   gradcheck_activations [--name NAME] [--points N] [--seed S] [--dtype float64|float32]
//                         [--register-examples]
//
// --points: input elements per check (elementwise: N points; softmax and log_softmax: 2-D and
// 4-D inputs of about N elements, along two axes each; prelu: an [N/6, 3, 2]-ish input with
// shared and per-channel slopes, both inputs checked). --dtype float32 checks the float32
// backward against float64 differences of the same activation. --register-examples first
// registers the example user activations of user_activations.hpp (squareplus, isrlu), which
// are then checked with the rest: a program checks its own registered activations the same way,
// with check_activation() below or eigrad::gradcheck on info.apply (README).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/gradcheck.hpp"
#include "user_activations.hpp"

namespace {

using eigrad::ActivationInfo;
using eigrad::ActivationKind;
using eigrad::DoubleTensor;
using eigrad::Shape;
using eigrad::Tensor;

struct Options {
  std::string name;  // empty: every activation
  int points = 12;
  uint64_t seed = 0;
  bool float32 = false;
  bool register_examples = false;
};

// One activation's checks, summed up: first order in numbers, the second and third order as
// passed or not (unset where not checked).
struct Row {
  int64_t points = 0, entries = 0;
  double max_abs = 0, max_rel = 0;
  bool passed = true;
  std::optional<bool> second, third;
  void add(const eigrad::GradcheckReport& r, int64_t input_elements) {
    points += input_elements;
    entries += r.checked;
    max_abs = std::max(max_abs, r.max_abs_error);
    max_rel = std::max(max_rel, r.max_rel_error);
    passed = passed && r.passed;
  }
  static void add(std::optional<bool>& order, const eigrad::GradcheckReport& r) {
    order = order.value_or(true) && r.passed;
  }
  bool all_passed() const { return passed && second.value_or(true) && third.value_or(true); }
};

// Checks x -> call(x, ...) in the chosen dtype; `call` is generic over float and double.
template <class Call>
eigrad::GradcheckReport check(const Options& o, const std::vector<DoubleTensor>& inputs,
                              const Call& call) {
  auto f64 = [&](const std::vector<DoubleTensor>& in) { return call(in); };
  if (!o.float32) return eigrad::gradcheck(f64, inputs);
  return eigrad::gradcheck_float32([&](const std::vector<Tensor>& in) { return call(in); }, f64,
                                   inputs);
}

// The same for the gradient of x -> call(x) (gradgradcheck).
template <class Call>
eigrad::GradcheckReport check_second(const Options& o, const std::vector<DoubleTensor>& inputs,
                                     const Call& call) {
  auto f64 = [&](const std::vector<DoubleTensor>& in) { return call(in); };
  if (!o.float32) return eigrad::gradgradcheck(f64, inputs);
  return eigrad::gradgradcheck_float32([&](const std::vector<Tensor>& in) { return call(in); }, f64,
                                       inputs);
}

// The first derivative of sum(call(x)) with respect to x (the first input), as a tensor in a graph
// (create_graph): gradgradcheck of it checks the third derivatives.
template <class Call>
auto first_derivative(const Call& call) {
  return [call](const auto& in) {
    return eigrad::grad({eigrad::sum(call(in))}, {in[0]}, {}, std::nullopt, true)[0];
  };
}

Row check_activation(const ActivationInfo& info, const Options& o, eigrad::Generator& gen) {
  Row row;
  const int64_t n = std::max(1, o.points);
  const std::vector<double> kinks = info.kinks();
  // Higher orders also avoid 0, where softsign's second derivative jumps.
  std::vector<double> avoid = kinks;
  avoid.push_back(0);
  std::sort(avoid.begin(), avoid.end());
  const double lo = std::min(-5.0, kinks.empty() ? 0.0 : kinks.front() - 1);
  const double hi = std::max(5.0, kinks.empty() ? 0.0 : kinks.back() + 1);
  const bool higher = !info.registered();  // a registered activation is differentiable once
  auto points = [&](const Shape& shape, const std::vector<double>& away_from) {
    DoubleTensor x = eigrad::uniform_away_from(shape, lo, hi, away_from, 1e-3, gen);
    x.set_requires_grad();
    return x;
  };
  switch (info.kind) {
    case ActivationKind::Elementwise: {
      const auto f = [&](const auto& in) { return info.apply(in[0]); };
      row.add(check(o, {points({n}, kinks)}, f), n);
      if (higher) {
        Row::add(row.second, check_second(o, {points({n}, avoid)}, f));
        Row::add(row.third, check_second(o, {points({n}, avoid)}, first_derivative(f)));
      }
      break;
    }
    case ActivationKind::AlongAxis: {
      const int64_t half = std::max<int64_t>(1, (n + 1) / 2), eighth = std::max<int64_t>(1, n / 8);
      for (const auto& [shape, axis] : std::vector<std::pair<Shape, int>>{
               {{2, half}, -1}, {{2, half}, 0}, {{2, eighth, 2, 2}, 1}, {{2, eighth, 2, 2}, -1}}) {
        const auto f = [&, a = axis](const auto& in) { return info.apply(in[0], {double(a)}); };
        const DoubleTensor x = points(shape, kinks);
        row.add(check(o, {x}, f), x.numel());
        if (higher) {
          Row::add(row.second, check_second(o, {x}, f));
          // sum(softmax(x)) is constant: weigh the outputs first.
          const DoubleTensor w = DoubleTensor::uniform(shape, -1, 1, gen);
          const auto weighted = [&](const auto& in) {
            using T = typename std::decay_t<decltype(in[0])>::Scalar;
            return f(in) * w.template to<T>();
          };
          Row::add(row.third, check_second(o, {x}, first_derivative(weighted)));
        }
      }
      break;
    }
    case ActivationKind::PerChannel: {
      const int64_t length = std::max<int64_t>(1, n / 6);
      for (const int64_t slopes : {int64_t(3), int64_t(1)}) {
        const auto f = [&](const auto& in) { return info.apply(in[0], in[1]); };
        const DoubleTensor x = points({2, 3, length}, avoid);
        DoubleTensor a = DoubleTensor::uniform({slopes}, -0.5, 0.5, gen);
        a.set_requires_grad();
        row.add(check(o, {x, a}, f), x.numel() + a.numel());
        if (higher) {
          Row::add(row.second, check_second(o, {x, a}, f));
          Row::add(row.third, check_second(o, {x, a}, first_derivative(f)));
        }
      }
      break;
    }
  }
  return row;
}

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: gradcheck_activations [--name NAME] [--points N] [--seed S] "
               "[--dtype float64|float32] [--register-examples]\n",
               message);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("Gradient-checks every activation.");
    if (arg == "--register-examples") {
      o.register_examples = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const std::string value = argv[++i];
    try {
      if (arg == "--name")
        o.name = value;
      else if (arg == "--points")
        o.points = std::stoi(value);
      else if (arg == "--seed")
        o.seed = std::stoull(value);
      else if (arg == "--dtype" && (value == "float64" || value == "float32"))
        o.float32 = value == "float32";
      else
        usage(("unknown option or value: " + arg + " " + value).c_str());
    } catch (const std::logic_error&) {  // stoi / stoull
      usage(("not a number: " + arg + " " + value).c_str());
    }
  }
  if (o.points < 1) usage("--points must be at least 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<const ActivationInfo*> selected;
  try {
    if (o.register_examples) examples::register_example_activations();
    if (o.name.empty())
      for (const ActivationInfo& info : eigrad::activation_catalogue()) selected.push_back(&info);
    else
      selected.push_back(&eigrad::find_activation(o.name));
  } catch (const eigrad::Error& e) {
    std::fprintf(stderr, "%s%s\n", e.what(),
                 o.register_examples ? "" : " (--register-examples adds squareplus and isrlu)");
    return 2;
  }

  std::printf(
      "gradcheck of the activation catalogue: %s backward against float64 central "
      "differences (eps 1e-6, atol 1e-5, rtol 1e-3), seed %llu; 2nd and 3rd order: "
      "gradgradcheck of the gradient and of the first derivative\n\n",
      o.float32 ? "float32" : "float64", static_cast<unsigned long long>(o.seed));
  std::printf("%-14s %8s %10s %14s %14s  %-6s %-6s %-6s\n", "activation", "points", "entries",
              "max abs err", "max rel err", "result", "2nd", "3rd");
  auto verdict = [](const std::optional<bool>& r) { return r ? (*r ? "PASS" : "FAIL") : "once"; };
  eigrad::Generator gen(o.seed);
  int failed = 0;
  for (const ActivationInfo* info : selected) {
    const Row row = check_activation(*info, o, gen);
    failed += !row.all_passed();
    std::printf("%-14s %8lld %10lld %14.3e %14.3e  %-6s %-6s %-6s%s\n", info->name.c_str(),
                static_cast<long long>(row.points), static_cast<long long>(row.entries),
                row.max_abs, row.max_rel, row.passed ? "PASS" : "FAIL", verdict(row.second),
                verdict(row.third), info->registered() ? " (registered)" : "");
  }
  std::printf("\n%d of %zu activations %s\n", failed ? failed : int(selected.size()),
              selected.size(), failed ? "FAILED" : "passed");
  return failed ? 1 : 0;
}
