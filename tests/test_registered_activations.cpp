// Activations registered at run time (register_activation): values, gradients against float64
// finite differences, a wrong derivative caught by gradcheck, the runtime catalogue, modules,
// and every misuse. Registrations are process-global and permanent, so each case registers
// names of its own ("reg_" + what the case checks).
#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/nn/activation.hpp"
#include "parallel_for.hpp"

using Catch::Contains;
using eigrad::ActivationDefinition;
using eigrad::ActivationInfo;
using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Tensor;
namespace nn = eigrad::nn;

namespace {

// y = x^3 with a parameter-free derivative 3 x^2 times `factor` (3 is right).
ActivationDefinition cube(const std::string& name, double factor = 3) {
  ActivationDefinition d;
  d.name = name;
  d.formula = "x^3";
  d.function = [](double x, const double*) { return x * x * x; };
  d.derivative = [factor](double x, const double*) { return factor * x * x; };
  return d;
}

// softsign scaled: y = scale x / (1 + |x|), y' = scale / (1 + |x|)^2, as array callables.
ActivationDefinition scaled_softsign(const std::string& name) {
  ActivationDefinition d;
  d.name = name;
  d.formula = "scale x / (1 + |x|)";
  d.parameters = {{"scale", 2.0}};
  d.set_array_callables([](auto x, auto y, const auto* p) { y = p[0] * x / (1 + x.abs()); },
                        [](auto x, auto y, const auto* p) { y = p[0] / (1 + x.abs()).square(); });
  return d;
}

// A leaky ramp with its kink at `at`: y = x - at for x > at, else slope (x - at).
ActivationDefinition shifted_leaky(const std::string& name) {
  ActivationDefinition d;
  d.name = name;
  d.formula = "x - at if x > at else slope (x - at)";
  d.parameters = {{"at", 0.5}, {"slope", 0.1}};
  d.kinks = [](const double* p) { return std::vector<double>{p[0]}; };
  d.check = [](const double* p) {
    if (!(p[1] >= 0)) throw Error("shifted_leaky: slope must be >= 0");
  };
  d.function = [](double x, const double* p) { return x > p[0] ? x - p[0] : p[1] * (x - p[0]); };
  d.derivative = [](double x, const double* p) { return x > p[0] ? 1.0 : p[1]; };
  return d;
}
template <class T>
std::vector<double> values_of(const BasicTensor<T>& t) {
  std::vector<double> r;
  for (int64_t i = 0; i < t.numel(); ++i) r.push_back(t.data()[i]);
  return r;
}

DoubleTensor away_from_kinks(const ActivationInfo& info, int64_t n, uint64_t seed) {
  Generator gen(seed);
  DoubleTensor x = eigrad::uniform_away_from({n}, -3, 3, info.kinks(), 1e-3, gen);
  x.set_requires_grad();
  return x;
}

}  // namespace

TEST_CASE("a registered activation gives its closed-form values and gradient in both precisions",
          "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(cube("reg_cube_values"));
  CHECK(info.registered());
  CHECK(info.kind == eigrad::ActivationKind::Elementwise);
  CHECK_FALSE(info.saves_output);
  // x^3 and g * 3 x^2 with g = 0.5, by hand.
  const std::vector<double> xs = {-2, -0.5, 0, 1, 3};
  const std::vector<double> y = {-8, -0.125, 0, 1, 27}, dx = {6, 0.375, 0, 1.5, 13.5};
  {
    DoubleTensor x = DoubleTensor::from(xs).set_requires_grad();
    const DoubleTensor out = info.apply(x);
    out.backward(DoubleTensor::full(x.shape(), 0.5));
    CHECK(values_of(out) == y);
    CHECK(values_of(x.grad()) == dx);
  }
  {
    Tensor x = Tensor::from(std::vector<float>(xs.begin(), xs.end())).set_requires_grad();
    const Tensor out = info.apply(x);
    out.backward(Tensor::full(x.shape(), 0.5f));
    CHECK(values_of(out) == y);  // exact in float32 too
    CHECK(values_of(x.grad()) == dx);
  }
}

TEST_CASE("a registered activation's gradient matches float64 finite differences", "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(cube("reg_cube_gradcheck"));
  const DoubleTensor x = away_from_kinks(info, 20, 1);
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      [&](const std::vector<DoubleTensor>& in) { return info.apply(in[0]); }, {x});
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked == 20 * 20);
}

TEST_CASE("gradcheck catches a registered activation whose derivative is wrong", "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(cube("reg_cube_wrong", 2.9));
  const DoubleTensor x = away_from_kinks(info, 8, 2);
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      [&](const std::vector<DoubleTensor>& in) { return info.apply(in[0]); }, {x});
  CHECK_FALSE(r.passed);
  // The worst entry is on the diagonal, where 2.9 x^2 stands for 3 x^2.
  CHECK(r.worst_output == r.worst_element);
  const double xw = x.data()[r.worst_element];
  CHECK(r.analytic == Approx(2.9 * xw * xw));
  CHECK(r.numeric == Approx(3 * xw * xw).epsilon(1e-6));
}

TEST_CASE("array callables run in float32 and float64 and pass gradcheck in both", "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(scaled_softsign("reg_softsign_array"));
  CHECK(info.parameters.size() == 1);
  // 2 x / (1 + |x|) and g * 2 / (1 + |x|)^2 at hand-picked points, scale 2 and then 3.
  const std::vector<double> xs = {-3, -1, 0, 1, 4};
  const std::vector<double> y2 = {-1.5, -1, 0, 1, 1.6}, d2 = {0.125, 0.5, 2, 0.5, 0.08};
  for (const double scale : {2.0, 3.0}) {
    const double k = scale / 2;
    DoubleTensor x = DoubleTensor::from(xs).set_requires_grad();
    info.apply(x, {scale}).backward(DoubleTensor::ones({5}));
    Tensor xf = Tensor::from(std::vector<float>(xs.begin(), xs.end())).set_requires_grad();
    const Tensor yf = info.apply(xf, {scale});
    yf.backward(Tensor::ones({5}));
    for (size_t i = 0; i < xs.size(); ++i) {
      INFO("scale " << scale << " at x = " << xs[i]);
      CHECK(info.apply(x.detach(), {scale}).data()[i] == Approx(k * y2[i]).epsilon(1e-15));
      CHECK(x.grad().data()[i] == Approx(k * d2[i]).epsilon(1e-15));
      CHECK(yf.data()[i] == Approx(k * y2[i]).epsilon(1e-6));
      CHECK(xf.grad().data()[i] == Approx(k * d2[i]).epsilon(1e-6));
    }
  }
  const DoubleTensor x = away_from_kinks(info, 16, 3);
  auto f64 = [&](const std::vector<DoubleTensor>& in) { return info.apply(in[0]); };
  CHECK(eigrad::gradcheck(f64, {x}).passed);
  CHECK(eigrad::gradcheck_float32([&](const std::vector<Tensor>& in) { return info.apply(in[0]); },
                                  f64, {x})
            .passed);
}

TEST_CASE("a registered activation's parameters, kinks and domain work as a built-in's",
          "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(shifted_leaky("reg_shifted_leaky"));
  CHECK(info.resolve() == std::vector<double>{0.5, 0.1});
  CHECK(info.resolve({2}) == std::vector<double>{2, 0.1});
  CHECK(info.kinks() == std::vector<double>{0.5});
  CHECK(info.kinks({-1}) == std::vector<double>{-1});
  // Values at the defaults, by hand: 1.5 - 0.5 = 1; 0.1 (-1 - 0.5) = -0.15; x = at is left.
  const DoubleTensor y = info.apply(DoubleTensor::from({1.5, -1.0, 0.5}));
  CHECK(y.data()[0] == Approx(1.0));
  CHECK(y.data()[1] == Approx(-0.15));
  CHECK(y.data()[2] == 0);
  CHECK_THROWS_WITH(info.apply(DoubleTensor::zeros({2}), {0.0, -1.0}),
                    "shifted_leaky: slope must be >= 0");
  // Points away from the kink at the given `at`, where gradcheck passes.
  Generator gen(4);
  DoubleTensor x = eigrad::uniform_away_from({24}, -3, 3, info.kinks({1.0}), 1e-3, gen);
  x.set_requires_grad();
  CHECK(eigrad::gradcheck(
            [&](const std::vector<DoubleTensor>& in) { return info.apply(in[0], {1.0}); }, {x})
            .passed);
}

TEST_CASE("a registered activation records a node named after it", "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(cube("reg_cube_node"));
  const DoubleTensor x = DoubleTensor::ones({3}).set_requires_grad();
  CHECK(info.apply(x).grad_fn_name() == "reg_cube_node");
  const Tensor xf = Tensor::ones({3}).set_requires_grad();
  CHECK(info.apply(xf).grad_fn_name() == "reg_cube_node");
  eigrad::NoGradGuard no_grad;
  CHECK(info.apply(x).is_leaf());
}

TEST_CASE("a registered activation is in the catalogue, find_activation and nn::Activation",
          "[registered]") {
  ActivationDefinition d = cube("reg_cube_found");
  d.aliases = {"reg_cube_found_alias"};
  const ActivationInfo& info = eigrad::register_activation(d);
  const std::vector<ActivationInfo>& all = eigrad::activation_catalogue();
  int found = 0;
  for (const ActivationInfo& entry : all) found += entry.name == "reg_cube_found";
  CHECK(found == 1);
  CHECK(all.front().name == "sigmoid");  // the built-ins come first, in their order
  CHECK_FALSE(eigrad::find_activation("relu").registered());
  CHECK(eigrad::find_activation("reg_cube_found").formula == "x^3");
  CHECK(eigrad::find_activation("reg_cube_found_alias").name == "reg_cube_found");
  CHECK_THROWS_WITH(eigrad::find_activation("reg_cube_missing"), Contains("reg_cube_found"));

  // References stay valid after later registrations.
  eigrad::register_activation(cube("reg_cube_found_later"));
  CHECK(info.name == "reg_cube_found");
  CHECK(eigrad::activation_catalogue().size() == all.size() + 1);

  nn::Activation module("reg_cube_found");
  CHECK(module.extra_repr() == "reg_cube_found");
  Tensor x = Tensor::from({-1.0f, 2.0f}).set_requires_grad();
  const Tensor y = module(x);
  CHECK(values_of(y) == std::vector<double>{-1, 8});
  y.backward(Tensor::ones({2}));
  CHECK(values_of(x.grad()) == std::vector<double>{3, 12});
  nn::BasicActivation<double> module64("reg_cube_found_alias");
  CHECK(values_of(module64(DoubleTensor::from({0.5}))) == std::vector<double>{0.125});
}

TEST_CASE("registering a name or alias that is taken throws and changes nothing", "[registered]") {
  eigrad::register_activation(cube("reg_twice"));
  const size_t count = eigrad::activation_catalogue().size();
  CHECK_THROWS_WITH(eigrad::register_activation(cube("reg_twice")),
                    "register_activation: 'reg_twice': the name 'reg_twice' is already taken by "
                    "the registered activation 'reg_twice'; expected a name no activation uses");
  CHECK_THROWS_WITH(eigrad::register_activation(cube("relu")),
                    Contains("register_activation") && Contains("built-in activation 'relu'"));
  CHECK_THROWS_WITH(eigrad::register_activation(cube("silu")),  // an alias of swish
                    Contains("built-in activation 'swish'"));
  ActivationDefinition d = cube("reg_twice_other");
  d.aliases = {"hardsigmoid"};
  CHECK_THROWS_WITH(eigrad::register_activation(d), Contains("built-in activation 'hard_sigmoid'"));
  d.aliases = {"reg_twice_other"};
  CHECK_THROWS_WITH(eigrad::register_activation(d), Contains("is given twice"));
  CHECK(eigrad::activation_catalogue().size() == count);
  CHECK_THROWS(eigrad::find_activation("reg_twice_other"));
}

TEST_CASE("register_activation rejects an incomplete definition", "[registered]") {
  const size_t count = eigrad::activation_catalogue().size();
  CHECK_THROWS_WITH(eigrad::register_activation(cube("")),
                    "register_activation: the name is empty; expected a non-empty name unique "
                    "among the activations");
  ActivationDefinition d = cube("reg_incomplete");
  d.aliases = {""};
  CHECK_THROWS_WITH(eigrad::register_activation(d), Contains("an alias is empty"));

  d = cube("reg_incomplete");
  d.function = nullptr;
  CHECK_THROWS_WITH(eigrad::register_activation(d),
                    "register_activation: 'reg_incomplete': no function for float32; expected "
                    "`function` (a scalar callable) or `array_function_f32`");
  d = cube("reg_incomplete");
  d.derivative = nullptr;
  CHECK_THROWS_WITH(eigrad::register_activation(d),
                    "register_activation: 'reg_incomplete': no derivative for float32; expected "
                    "`derivative` (a scalar callable) or `array_derivative_f32`");
  // Array callables for float32 only: float64 lacks both.
  d = scaled_softsign("reg_incomplete");
  d.array_function_f64 = nullptr;
  CHECK_THROWS_WITH(eigrad::register_activation(d), Contains("no function for float64"));
  d = scaled_softsign("reg_incomplete");
  d.array_derivative_f64 = nullptr;
  CHECK_THROWS_WITH(eigrad::register_activation(d), Contains("no derivative for float64"));

  d = cube("reg_incomplete");
  d.parameters = {{"", 1.0}};
  CHECK_THROWS_WITH(eigrad::register_activation(d), Contains("a parameter has an empty name"));
  d = shifted_leaky("reg_incomplete");
  d.parameters[1].default_value = -0.5;
  CHECK_THROWS_WITH(eigrad::register_activation(d),
                    "register_activation: 'reg_incomplete': its check rejects the parameters' "
                    "defaults: shifted_leaky: slope must be >= 0; expected defaults inside "
                    "the domain");
  CHECK(eigrad::activation_catalogue().size() == count);
}

TEST_CASE("a registered activation rejects too many parameter values at call time",
          "[registered]") {
  const ActivationInfo& info = eigrad::register_activation(cube("reg_cube_arity"));
  CHECK_THROWS_WITH(info.apply(DoubleTensor::zeros({2}), {1.0}),
                    "reg_cube_arity: got 1 parameter values but it takes 0");
  CHECK_THROWS_WITH(nn::Activation("reg_cube_arity", {1.0, 2.0}),
                    "reg_cube_arity: got 2 parameter values but it takes 0");
}

TEST_CASE("an exception thrown by a registered activation's callable reaches the caller",
          "[registered]") {
  ActivationDefinition d = cube("reg_throws");
  d.function = [](double x, const double*) -> double {
    if (x > 0.5) throw std::runtime_error("reg_throws: positive input");
    return x;
  };
  const ActivationInfo& info = eigrad::register_activation(d);
  // Large enough to be split over threads.
  const int previous = eigrad::num_threads();
  eigrad::set_num_threads(2);
  DoubleTensor x = DoubleTensor::zeros({eigrad::kParallelThreshold * 2});
  x.mutable_data()[x.numel() - 1] = 1;
  CHECK_THROWS_WITH(info.apply(x), "reg_throws: positive input");
  eigrad::set_num_threads(previous);
}

TEST_CASE("activations can be registered and looked up from several threads at once",
          "[registered][threads]") {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 25; ++i) {
        eigrad::register_activation(
            cube("reg_thread_" + std::to_string(t) + "_" + std::to_string(i)));
        (void)eigrad::find_activation("relu");
        (void)eigrad::activation_catalogue().size();
      }
    });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 25; ++i)
      CHECK(eigrad::find_activation("reg_thread_" + std::to_string(t) + "_" + std::to_string(i))
                .registered());
}
