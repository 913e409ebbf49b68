// The activation catalogue differentiated more than once: every entry's derivative written in
// eigrad ops (recorded under create_graph) against its fused first-order kernel, gradgradcheck of
// every entry in float64 (a third-order check for the smooth ones), second derivatives against
// closed forms written here (PyTorch 1.13's double backwards, conventions at kinks included),
// softmax's and log_softmax's Hessian-vector products, prelu's mixed derivative, float32
// agreement, and registered activations, which are differentiable once.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/gradcheck.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using eigrad::ActivationInfo;
using eigrad::ActivationKind;
using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;

namespace {

using Values = std::vector<double>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Parameter values other than the defaults, per entry (as in tests/test_activations.cpp).
const std::vector<std::pair<std::string, Values>>& other_parameters() {
  static const std::vector<std::pair<std::string, Values>> r = {
      {"hard_sigmoid", {0.2, 0.5}}, {"leaky_relu", {0.2}},      {"elu", {0.5}}, {"celu", {2.0}},
      {"softplus", {2.0, 10.0}},    {"softplus", {-1.5, 20.0}},
  };
  return r;
}

// The parameter settings an elementwise entry is checked with: the defaults, then the others.
std::vector<Values> settings_of(const ActivationInfo& info) {
  std::vector<Values> settings = {{}};
  for (const auto& [name, values] : other_parameters())
    if (name == info.name) settings.push_back(values);
  return settings;
}

// The smooth entries: three times differentiable (the elu family and softsign away from 0,
// softplus away from its threshold).
const std::vector<std::string> kSmooth = {"sigmoid", "tanh",      "elu",        "selu",     "celu",
                                          "gelu",    "gelu_tanh", "softplus",   "softsign", "swish",
                                          "mish",    "softmax",   "log_softmax"};
bool is_smooth(const ActivationInfo& info) {
  for (const std::string& name : kSmooth)
    if (name == info.name) return true;
  return false;
}

// Points uniform in [-5, 5] (widened to a unit beyond the kinks), 1e-3 away from `avoid`.
DoubleTensor points(const Shape& shape, const std::vector<double>& avoid, Generator& gen) {
  const double lo = std::min(-5.0, avoid.empty() ? 0.0 : avoid.front() - 1);
  const double hi = std::max(5.0, avoid.empty() ? 0.0 : avoid.back() + 1);
  return eigrad::uniform_away_from(shape, lo, hi, avoid, 1e-3, gen).set_requires_grad();
}

// d sum(f(x)) / dx as a tensor in a graph (create_graph): f'(x) for an elementwise f.
template <class T, class F>
BasicTensor<T> derivative_of(const F& f, const BasicTensor<T>& x) {
  return eigrad::grad({eigrad::sum(f(x))}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
}

void check_report(const eigrad::GradcheckReport& r) {
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

bool close(double a, double b, double atol, double rtol) {
  if (std::isnan(b)) return std::isnan(a);
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

// ---- f''(x; p): closed forms, derived by hand from PyTorch 1.13's definitions ----
using Fn = long double (*)(long double x, const double* p);

long double sigmoid_ref(long double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
constexpr long double kSeluAlpha = 1.6732632423543772848170429916717L;
constexpr long double kSeluScale = 1.0507009873554804934193349852946L;
constexpr long double kInvSqrt2Pi = 0.398942280401432677939946059934381868L;
constexpr long double kSqrt2OverPi = 0.797884560802865355879892119868763737L;

const std::map<std::string, Fn>& second_derivatives() {
  static const std::map<std::string, Fn> r = {
      {"sigmoid",
       [](long double x, const double*) {
         const long double s = sigmoid_ref(x);
         return s * (1 - s) * (1 - 2 * s);
       }},
      // Piecewise linear (or constant) pieces: 0, at the kinks too.
      {"hard_sigmoid", [](long double, const double*) { return 0.0L; }},
      {"tanh",
       [](long double x, const double*) {
         const long double t = std::tanh(x);
         return -2 * t * (1 - t * t);
       }},
      {"relu", [](long double, const double*) { return 0.0L; }},
      {"relu6", [](long double, const double*) { return 0.0L; }},
      {"leaky_relu", [](long double, const double*) { return 0.0L; }},
      // alpha exp(x) where x < 0; 0 at x = 0 itself (elu_double_backward's mask is x < 0).
      {"elu", [](long double x, const double* p) { return x < 0 ? p[0] * std::exp(x) : 0.0L; }},
      {"selu", [](long double x,
                  const double*) { return x < 0 ? kSeluScale * kSeluAlpha * std::exp(x) : 0.0L; }},
      {"celu",
       [](long double x, const double* p) { return x < 0 ? std::exp(x / p[0]) / p[0] : 0.0L; }},
      {"gelu", [](long double x,
                  const double*) { return kInvSqrt2Pi * std::exp(-x * x / 2) * (2 - x * x); }},
      // f = x (1 + t) / 2, t = tanh(u), u = k (x + c x^3):
      // f'' = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2).
      {"gelu_tanh",
       [](long double x, const double*) {
         const long double c = 0.044715L, u = kSqrt2OverPi * (x + c * x * x * x);
         const long double du = kSqrt2OverPi * (1 + 3 * c * x * x), ddu = kSqrt2OverPi * 6 * c * x;
         const long double t = std::tanh(u);
         return (1 - t * t) * (du + x * (ddu - 2 * t * du * du) / 2);
       }},
      // beta s (1 - s), s = sigmoid(beta x), where beta x < threshold; 0 from the threshold on.
      {"softplus",
       [](long double x, const double* p) {
         const double z = p[0] * double(x);  // compared with the threshold as the kernel does
         const long double s = sigmoid_ref(z);
         return z < p[1] ? p[0] * s * (1 - s) : 0.0L;
       }},
      {"softsign",
       [](long double x, const double*) {
         const long double a = 1 + std::fabs(x);
         return -2 * (x > 0 ? 1 : x < 0 ? -1 : 0) / (a * a * a);
       }},
      {"swish",
       [](long double x, const double*) {
         const long double s = sigmoid_ref(x);
         return s * (1 - s) * (2 + x * (1 - 2 * s));
       }},
      // 1/3 strictly inside (-3, 3) (hardswish_backward's derivative), 0 elsewhere.
      {"hardswish", [](long double x, const double*) { return x > -3 && x < 3 ? 1.0L / 3 : 0.0L; }},
      // mish' = t + x s (1 - t^2), t = tanh(softplus(x)), t' = s (1 - t^2):
      // mish'' = s (1 - t^2) (2 + x (1 - s - 2 s t)).
      {"mish",
       [](long double x, const double*) {
         const long double s = sigmoid_ref(x), t = std::tanh(std::log1p(std::exp(x)));
         return s * (1 - t * t) * (2 + x * (1 - s - 2 * s * t));
       }},
  };
  return r;
}

}  // namespace

// ---------------------------------------------------------------- the derivative in ops

namespace {
// The first derivative from the derivative in ops (create_graph) and from the fused kernel, at
// edge points, the kinks and NaN, in T.
template <class T>
void check_graph_derivative_matches_fused(double atol, double rtol) {
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (info.kind != ActivationKind::Elementwise) continue;
    for (const Values& values : settings_of(info)) {
      std::vector<double> xs = {0,   1e-8, -1e-8, 0.5, -0.5, 1,    -1,    3,   -3,
                                6,   -6,   20,    -20, 25,   -25,  40,    -40, 88,
                                -88, 1000, -1000, 2.5, -2.5, 0.75, -0.75, kNaN};
      for (double k : info.kinks(values)) xs.push_back(k);
      std::vector<T> ts(xs.begin(), xs.end());
      const BasicTensor<T> x = BasicTensor<T>::from(ts).set_requires_grad();
      const BasicTensor<T> g = BasicTensor<T>::full(x.shape(), T(-1.5));
      const BasicTensor<T> graph =
          eigrad::grad({info.apply(x, values)}, {x}, {g}, std::nullopt, true)[0];
      const BasicTensor<T> fused = eigrad::grad({info.apply(x, values)}, {x}, {g})[0];
      for (size_t i = 0; i < ts.size(); ++i) {
        INFO(info.name << " (" << BasicTensor<T>::dtype() << ") at x = " << double(ts[i]));
        CHECK(close(graph.data()[i], fused.data()[i], atol, rtol));
      }
    }
  }
}
}  // namespace

TEST_CASE("every elementwise entry's derivative in ops equals its fused backward, kinks included",
          "[second_order][second_order_activations]") {
  check_graph_derivative_matches_fused<double>(1e-15, 1e-12);
  check_graph_derivative_matches_fused<float>(2e-6, 2e-6);
}

namespace {
// The first three derivatives of an elementwise entry are finite at every point of xs.
template <class T>
void check_finite_derivatives(const ActivationInfo& info, const Values& values,
                              const std::vector<T>& xs) {
  INFO(info.name << " (" << BasicTensor<T>::dtype() << ") with " << values.size()
                 << " parameter values given");
  const BasicTensor<T> x = BasicTensor<T>::from(xs).set_requires_grad();
  const BasicTensor<T> d1 =
      derivative_of<T>([&](const BasicTensor<T>& t) { return info.apply(t, values); }, x);
  const BasicTensor<T> d2 = eigrad::grad({eigrad::sum(d1)}, {x}, {}, std::nullopt, true)[0];
  CHECK(d1.array().allFinite());
  CHECK(d2.array().allFinite());
  // (A piecewise-linear entry's second derivative is a constant 0, as in PyTorch.)
  if (d2.requires_grad()) CHECK(eigrad::grad({eigrad::sum(d2)}, {x})[0].array().allFinite());
}
}  // namespace

TEST_CASE("no entry's first, second or third derivative is inf or NaN for a finite input",
          "[second_order][second_order_activations]") {
  const std::vector<double> xs = {0,     1e-300, -1e-300, 1,     -1,     20,      -20,     40,
                                  -40,   88,     -88,     700,   -700,   1000,    -1000,   1e30,
                                  -1e30, 1e154,  -1e154,  1e300, -1e300, 1.7e308, -1.7e308};
  const std::vector<float> xf = {0.0f,  1e-38f, 1.0f,   -1.0f,   20.0f, -20.0f, 40.0f, -40.0f,
                                 88.0f, -88.0f, 104.0f, -104.0f, 1e20f, -1e20f, 3e38f, -3e38f};
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (info.kind != ActivationKind::Elementwise) continue;
    std::vector<Values> settings = settings_of(info);
    if (info.name == "celu") settings.push_back({1e-30});  // 1 / alpha overflows in float
    for (const Values& values : settings) {
      check_finite_derivatives<double>(info, values, xs);
      check_finite_derivatives<float>(info, values, xf);
    }
  }
}

// ---------------------------------------------------------------- gradgradcheck of the table

TEST_CASE("every elementwise entry passes gradgradcheck in float64 away from its kinks",
          "[second_order][second_order_activations][gradcheck]") {
  Generator gen(7);
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (info.kind != ActivationKind::Elementwise) continue;
    for (const Values& values : settings_of(info)) {
      INFO(info.name << " with " << values.size() << " parameter values given");
      for (const Shape& shape : {Shape{3, 4}, Shape{1, 5}, Shape{7}}) {
        const DoubleTensor x = points(shape, info.kinks(values), gen);
        check_report(eigrad::gradgradcheck(
            [&](const std::vector<DoubleTensor>& in) { return info.apply(in[0], values); }, {x}));
      }
    }
  }
}

TEST_CASE("softmax and log_softmax pass gradgradcheck along every axis",
          "[second_order][second_order_activations][gradcheck]") {
  Generator gen(8);
  for (const char* name : {"softmax", "log_softmax"}) {
    const ActivationInfo& info = eigrad::find_activation(name);
    for (const auto& [shape, axis] : std::vector<std::pair<Shape, int>>{{{3, 5}, -1},
                                                                        {{3, 5}, 0},
                                                                        {{1, 5}, 1},
                                                                        {{5}, 0},
                                                                        {{2, 3, 2, 2}, 1},
                                                                        {{2, 3, 2, 2}, -1},
                                                                        {{2, 3, 2, 2}, 0}}) {
      INFO(name << " of shape " << shape.str() << " along axis " << axis);
      const DoubleTensor x = DoubleTensor::uniform(shape, -3, 3, gen).set_requires_grad();
      check_report(eigrad::gradgradcheck(
          [&, a = axis](const std::vector<DoubleTensor>& in) {
            return info.apply(in[0], {double(a)});
          },
          {x}));
    }
  }
}

TEST_CASE("prelu passes gradgradcheck in its input and slopes, shared and per channel",
          "[second_order][second_order_activations][gradcheck]") {
  Generator gen(9);
  for (const Shape& shape :
       {Shape{6}, Shape{4, 3}, Shape{1, 3, 2}, Shape{2, 3, 3}, Shape{2, 3, 4}, Shape{2, 3, 2, 2}}) {
    const int64_t channels = shape.rank() >= 2 ? shape[1] : 1;
    for (const int64_t count : {int64_t(1), channels}) {
      INFO("input " << shape.str() << ", " << count << " slope(s)");
      const DoubleTensor x = points(shape, {0}, gen);
      const DoubleTensor a = DoubleTensor::uniform({count}, -0.5, 0.5, gen).set_requires_grad();
      check_report(eigrad::gradgradcheck(
          [](const std::vector<DoubleTensor>& in) { return eigrad::prelu(in[0], in[1]); }, {x, a}));
      // Only one of them requiring grad.
      check_report(eigrad::gradgradcheck(
          [](const std::vector<DoubleTensor>& in) { return eigrad::prelu(in[0], in[1]); },
          {x, a.detach()}));
      check_report(eigrad::gradgradcheck(
          [](const std::vector<DoubleTensor>& in) { return eigrad::prelu(in[0], in[1]); },
          {x.detach(), a}));
    }
  }
}

TEST_CASE("the smooth entries are three times differentiable (gradgradcheck of f')",
          "[second_order][second_order_activations][gradcheck]") {
  Generator gen(10);
  int checked = 0;
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (!is_smooth(info)) continue;
    ++checked;
    INFO(info.name);
    if (info.kind == ActivationKind::AlongAxis) {
      for (const auto& [shape, axis] :
           std::vector<std::pair<Shape, int>>{{{3, 4}, -1}, {{2, 3, 2}, 1}}) {
        const DoubleTensor x = DoubleTensor::uniform(shape, -3, 3, gen).set_requires_grad();
        const DoubleTensor w = DoubleTensor::uniform(shape, -1, 1, gen);
        check_report(eigrad::gradgradcheck(
            [&, a = axis](const std::vector<DoubleTensor>& in) {
              return derivative_of<double>(
                  [&](const DoubleTensor& t) { return info.apply(t, {double(a)}) * w; }, in[0]);
            },
            {x}));
      }
      continue;
    }
    for (const Values& values : settings_of(info)) {
      // The second derivative jumps where the first one kinks, and softsign's at 0.
      std::vector<double> avoid = info.kinks(values);
      avoid.push_back(0);
      std::sort(avoid.begin(), avoid.end());
      const DoubleTensor x = points({3, 4}, avoid, gen);
      check_report(eigrad::gradgradcheck(
          [&](const std::vector<DoubleTensor>& in) {
            return derivative_of<double>(
                [&](const DoubleTensor& t) { return info.apply(t, values); }, in[0]);
          },
          {x}));
    }
  }
  CHECK(checked == int(kSmooth.size()));
}

TEST_CASE("float32 second derivatives agree with float64 differences (gradgradcheck_float32)",
          "[second_order][second_order_activations][gradcheck]") {
  Generator gen(11);
  for (const auto& [name, values] :
       std::vector<std::pair<std::string, Values>>{{"sigmoid", {}},
                                                   {"tanh", {}},
                                                   {"elu", {0.5}},
                                                   {"gelu", {}},
                                                   {"gelu_tanh", {}},
                                                   {"softplus", {2.0, 10.0}},
                                                   {"softsign", {}},
                                                   {"mish", {}},
                                                   {"hardswish", {}},
                                                   {"softmax", {1}},
                                                   {"log_softmax", {0}}}) {
    INFO(name);
    const ActivationInfo& info = eigrad::find_activation(name);
    std::vector<double> avoid = info.kinks(values);
    avoid.push_back(0);
    std::sort(avoid.begin(), avoid.end());
    const DoubleTensor x = points({3, 4}, avoid, gen);
    check_report(eigrad::gradgradcheck_float32(
        [&](const std::vector<Tensor>& in) { return info.apply(in[0], values); },
        [&](const std::vector<DoubleTensor>& in) { return info.apply(in[0], values); }, {x}));
  }
  const DoubleTensor x = points({2, 3, 2}, {0}, gen);
  const DoubleTensor a = DoubleTensor::uniform({3}, -0.5, 0.5, gen).set_requires_grad();
  check_report(eigrad::gradgradcheck_float32(
      [](const std::vector<Tensor>& in) { return eigrad::prelu(in[0], in[1]); },
      [](const std::vector<DoubleTensor>& in) { return eigrad::prelu(in[0], in[1]); }, {x, a}));
}

// ---------------------------------------------------------------- closed forms

TEST_CASE("second derivatives of the elementwise entries match closed forms, kinks included",
          "[second_order][second_order_activations]") {
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (info.kind != ActivationKind::Elementwise) continue;
    const auto ref = second_derivatives().find(info.name);
    REQUIRE(ref != second_derivatives().end());
    for (const Values& given : settings_of(info)) {
      const Values p = info.resolve(given);
      std::vector<double> xs = {-4.5, -2.5, -0.7, 0.3, 1.9, 2.9, 4.2};
      for (double k : info.kinks(given)) xs.push_back(k);
      const DoubleTensor x = DoubleTensor::from(xs).set_requires_grad();
      const DoubleTensor d1 =
          derivative_of<double>([&](const DoubleTensor& t) { return info.apply(t, given); }, x);
      const DoubleTensor d2 = eigrad::grad({eigrad::sum(d1)}, {x})[0];
      for (size_t i = 0; i < xs.size(); ++i) {
        INFO(info.name << " with " << given.size() << " parameter values given, at x = " << xs[i]);
        CHECK(close(d2.data()[i], double(ref->second(xs[i], p.data())), 1e-13, 1e-10));
      }
    }
  }
}

TEST_CASE("at x = 0 elu keeps f'(0) = alpha but takes f''(0) = 0, as PyTorch's elu_double_backward",
          "[second_order][second_order_activations]") {
  const DoubleTensor x = DoubleTensor::from({0.0, -1e-300}).set_requires_grad();
  const DoubleTensor d1 =
      derivative_of<double>([](const DoubleTensor& t) { return eigrad::elu(t, 0.5); }, x);
  CHECK(d1.data()[0] == 0.5);
  const DoubleTensor d2 = eigrad::grad({eigrad::sum(d1)}, {x})[0];
  CHECK(d2.data()[0] == 0.0);
  CHECK(d2.data()[1] == 0.5);  // alpha exp(x) just left of 0
}

TEST_CASE("third derivatives of sigmoid, tanh, softsign and elu match closed forms",
          "[second_order][second_order_activations]") {
  const std::vector<double> xs = {-2.5, -0.4, 0.6, 1.7};
  const DoubleTensor x = DoubleTensor::from(xs).set_requires_grad();
  auto third = [&](auto f) {
    const DoubleTensor d1 = derivative_of<double>(f, x);
    const DoubleTensor d2 = eigrad::grad({eigrad::sum(d1)}, {x}, {}, std::nullopt, true)[0];
    return eigrad::grad({eigrad::sum(d2)}, {x})[0];
  };
  const DoubleTensor sig = third([](const DoubleTensor& t) { return eigrad::sigmoid(t); });
  const DoubleTensor th = third([](const DoubleTensor& t) { return eigrad::tanh(t); });
  const DoubleTensor ss = third([](const DoubleTensor& t) { return eigrad::softsign(t); });
  const DoubleTensor el = third([](const DoubleTensor& t) { return eigrad::elu(t, 2.0); });
  for (size_t i = 0; i < xs.size(); ++i) {
    const long double v = xs[i], s = sigmoid_ref(v), t = std::tanh(v), a = 1 + std::fabs(v);
    INFO("x = " << xs[i]);
    CHECK(sig.data()[i] == Approx(double(s * (1 - s) * (1 - 6 * s + 6 * s * s))).epsilon(1e-12));
    CHECK(th.data()[i] == Approx(double(-2 * (1 - t * t) * (1 - 3 * t * t))).epsilon(1e-12));
    CHECK(ss.data()[i] == Approx(double(6 / (a * a * a * a))).epsilon(1e-12));
    CHECK(el.data()[i] == Approx(v < 0 ? double(2 * std::exp(v)) : 0.0).epsilon(1e-12));
  }
}

TEST_CASE("a piecewise-linear activation's gradient differentiates to zeros, not to an error",
          "[second_order][second_order_activations]") {
  for (const char* name : {"relu", "relu6", "leaky_relu", "hard_sigmoid"}) {
    INFO(name);
    const ActivationInfo& info = eigrad::find_activation(name);
    const DoubleTensor x = DoubleTensor::from({-2.0, 0.0, 1.5, 7.0}).set_requires_grad();
    const DoubleTensor d1 =
        derivative_of<double>([&](const DoubleTensor& t) { return info.apply(t); }, x);
    REQUIRE(d1.requires_grad());
    const DoubleTensor d2 = eigrad::grad({eigrad::sum(d1)}, {x})[0];
    REQUIRE(d2.defined());
    CHECK(d2.to_vector() == std::vector<double>(4, 0.0));
  }
}

// ---------------------------------------------------------------- along an axis

namespace {
// Row-wise along `axis` of a [rows, n] view: calls f(row indices).
template <class F>
void for_each_row(const Shape& shape, int axis, F&& f) {
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < shape.rank(); ++i) {
    if (i < axis) outer *= shape[i];
    if (i > axis) inner *= shape[i];
  }
  const int64_t n = shape[axis];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      std::vector<int64_t> at;
      for (int64_t i = 0; i < n; ++i) at.push_back((o * n + i) * inner + k);
      f(at);
    }
}
}  // namespace

TEST_CASE("softmax's Hessian-vector product matches its closed form along every axis",
          "[second_order][second_order_activations]") {
  // L = sum(w y), y = softmax(x): dL/dx_j = y_j (w_j - wbar), wbar = sum(w y), and
  // (H v)_j = y_j (w_j - wbar) (v_j - y.v) - y_j sum_k y_k (w_k - wbar) v_k.
  Generator gen(12);
  for (const auto& [shape, axis] :
       std::vector<std::pair<Shape, int>>{{{3, 5}, 1}, {{3, 5}, 0}, {{2, 3, 4}, 1}}) {
    INFO(shape.str() << " along axis " << axis);
    const DoubleTensor x = DoubleTensor::uniform(shape, -2, 2, gen).set_requires_grad();
    const DoubleTensor w = DoubleTensor::uniform(shape, -1, 1, gen);
    const DoubleTensor v = DoubleTensor::uniform(shape, -1, 1, gen);
    const DoubleTensor g =
        eigrad::grad({eigrad::sum(eigrad::softmax(x, axis) * w)}, {x}, {}, std::nullopt, true)[0];
    const DoubleTensor hv = eigrad::grad({eigrad::sum(g * v)}, {x})[0];
    for_each_row(shape, axis, [&](const std::vector<int64_t>& at) {
      long double sum = 0, wbar = 0, yv = 0, ywv = 0;
      std::vector<long double> y;
      for (int64_t i : at) sum += std::exp(static_cast<long double>(x.data()[i]));
      for (int64_t i : at) y.push_back(std::exp(static_cast<long double>(x.data()[i])) / sum);
      for (size_t j = 0; j < at.size(); ++j) {
        wbar += y[j] * w.data()[at[j]];
        yv += y[j] * v.data()[at[j]];
      }
      for (size_t j = 0; j < at.size(); ++j)
        ywv += y[j] * (w.data()[at[j]] - wbar) * v.data()[at[j]];
      for (size_t j = 0; j < at.size(); ++j) {
        const long double expected =
            y[j] * (w.data()[at[j]] - wbar) * (v.data()[at[j]] - yv) - y[j] * ywv;
        CHECK(hv.data()[at[j]] == Approx(double(expected)).margin(1e-15).epsilon(1e-12));
      }
    });
  }
}

TEST_CASE("log_softmax's Hessian-vector product matches its closed form along every axis",
          "[second_order][second_order_activations]") {
  // L = sum(w z), z = log_softmax(x): dL/dx_j = w_j - y_j W, W = sum(w), y = softmax(x), and
  // (H v)_j = -W y_j (v_j - y.v).
  Generator gen(13);
  for (const auto& [shape, axis] :
       std::vector<std::pair<Shape, int>>{{{3, 5}, 1}, {{3, 5}, 0}, {{2, 3, 4}, 2}}) {
    INFO(shape.str() << " along axis " << axis);
    const DoubleTensor x = DoubleTensor::uniform(shape, -2, 2, gen).set_requires_grad();
    const DoubleTensor w = DoubleTensor::uniform(shape, -1, 1, gen);
    const DoubleTensor v = DoubleTensor::uniform(shape, -1, 1, gen);
    const DoubleTensor g = eigrad::grad({eigrad::sum(eigrad::log_softmax(x, axis) * w)}, {x}, {},
                                        std::nullopt, true)[0];
    const DoubleTensor hv = eigrad::grad({eigrad::sum(g * v)}, {x})[0];
    for_each_row(shape, axis, [&](const std::vector<int64_t>& at) {
      long double sum = 0, total = 0, yv = 0;
      std::vector<long double> y;
      for (int64_t i : at) sum += std::exp(static_cast<long double>(x.data()[i]));
      for (int64_t i : at) y.push_back(std::exp(static_cast<long double>(x.data()[i])) / sum);
      for (size_t j = 0; j < at.size(); ++j) {
        total += w.data()[at[j]];
        yv += y[j] * v.data()[at[j]];
      }
      for (size_t j = 0; j < at.size(); ++j) {
        const long double expected = -total * y[j] * (v.data()[at[j]] - yv);
        CHECK(hv.data()[at[j]] == Approx(double(expected)).margin(1e-15).epsilon(1e-12));
      }
    });
  }
}

TEST_CASE("softmax, log_softmax and prelu differentiate twice on empty tensors and scalars",
          "[second_order][second_order_activations]") {
  for (const Shape& shape : {Shape{0, 3}, Shape{}}) {
    INFO(shape.str());
    const DoubleTensor x = DoubleTensor::zeros(shape, true);
    for (const DoubleTensor& y : {eigrad::softmax(x), eigrad::log_softmax(x)}) {
      const DoubleTensor g =
          eigrad::grad({y}, {x}, {DoubleTensor::ones(shape)}, std::nullopt, true)[0];
      const DoubleTensor h = eigrad::grad({eigrad::sum(g)}, {x}, {}, std::nullopt, false, true)[0];
      CHECK(g.shape() == shape);
      if (h.defined()) CHECK(h.shape() == shape);
    }
  }
  const DoubleTensor x = DoubleTensor::zeros({0, 3, 2}, true);
  const DoubleTensor a = DoubleTensor::from({0.1, 0.2, 0.3}, {3}, true);
  const DoubleTensor y = eigrad::prelu(x, a);
  const auto g = eigrad::grad({y}, {x, a}, {DoubleTensor::ones(y.shape())}, std::nullopt, true);
  CHECK(g[1].to_vector() == std::vector<double>(3, 0.0));
  const auto h = eigrad::grad({eigrad::sum(g[0])}, {a})[0];
  CHECK(h.to_vector() == std::vector<double>(3, 0.0));
}

// ---------------------------------------------------------------- prelu

TEST_CASE("prelu's mixed second derivative d2/(dx da) is g where x <= 0 and 0 where x > 0",
          "[second_order][second_order_activations]") {
  // dL/dx = g (H(x) + a (1 - H(x))), dL/da_c = sum over channel c of g x (1 - H(x)); x = 0 takes
  // the slope (as the fused backward, and PyTorch's prelu_double_backward's x <= 0 mask).
  const DoubleTensor x =
      DoubleTensor::from({-2, 3, 0, -4, 1, -6, 2, -0.5, 0.5, -1, 4, 0}, {2, 3, 2}, true);
  const DoubleTensor g = DoubleTensor::from({1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}, {2, 3, 2});
  const DoubleTensor v =
      DoubleTensor::from({0.5, 1, -1, 2, 0.25, -3, 1, 1, 2, -2, 3, 0.75}, {2, 3, 2});
  for (const int64_t count : {int64_t(1), int64_t(3)}) {
    INFO(count << " slope(s)");
    const DoubleTensor a = DoubleTensor::full({count}, 0.25, true);
    const DoubleTensor y = eigrad::prelu(x, a);
    // d/da of sum(v * dL/dx): sum over each channel of v g (x <= 0).
    const DoubleTensor dx = eigrad::grad({y}, {x}, {g}, std::nullopt, true)[0];
    const DoubleTensor mixed =
        eigrad::grad({eigrad::sum(dx * v)}, {a}, {}, /*retain_graph=*/true)[0];
    std::vector<double> expected(size_t(count), 0.0);
    for (int64_t i = 0; i < 12; ++i)
      if (x.data()[i] <= 0)
        expected[size_t(count == 1 ? 0 : (i / 2) % 3)] += v.data()[i] * g.data()[i];
    CHECK(mixed.to_vector() == expected);
    // The other order: d/dx of sum(u * dL/da) = u_c g (x <= 0), element by element.
    const DoubleTensor da = eigrad::grad({y}, {a}, {g}, std::nullopt, true)[0];
    const DoubleTensor u =
        count == 1 ? DoubleTensor::from({1.5}, {1}) : DoubleTensor::from({1.5, -2, 0.5}, {3});
    const DoubleTensor other = eigrad::grad({eigrad::sum(da * u)}, {x})[0];
    for (int64_t i = 0; i < 12; ++i) {
      const double uc = u.data()[count == 1 ? 0 : (i / 2) % 3];
      CHECK(other.data()[i] == (x.data()[i] <= 0 ? uc * g.data()[i] : 0.0));
    }
    // d2/dx2 and d2/da2 are 0 (defined, not an error).
    const DoubleTensor xx = eigrad::grad({eigrad::sum(dx * v)}, {x})[0];
    CHECK(xx.to_vector() == std::vector<double>(12, 0.0));
    const DoubleTensor aa = eigrad::grad({eigrad::sum(da * u)}, {a}, {}, std::nullopt, false,
                                         /*allow_unused=*/true)[0];
    if (aa.defined()) CHECK(aa.to_vector() == std::vector<double>(size_t(count), 0.0));
  }
}

TEST_CASE("prelu's gradient under create_graph uses the slopes of its forward",
          "[second_order][second_order_activations]") {
  DoubleTensor x = DoubleTensor::from({-2, 1}, {2}, true);
  DoubleTensor a = DoubleTensor::full({1}, 0.25, true);
  const DoubleTensor y = eigrad::prelu(x, a);
  a.mutable_array() *= 4;  // an optimizer step between forward and backward
  const DoubleTensor dx = eigrad::grad({y}, {x}, {DoubleTensor::ones({2})}, std::nullopt, true)[0];
  CHECK(dx.to_vector() == std::vector<double>{0.25, 1});
  CHECK(eigrad::grad({eigrad::sum(dx)}, {a})[0].to_vector() == std::vector<double>{1});
}

// ---------------------------------------------------------------- registered activations

namespace {
eigrad::ActivationDefinition cube(const std::string& name) {
  eigrad::ActivationDefinition d;
  d.name = name;
  d.function = [](double x, const double*) { return x * x * x; };
  d.derivative = [](double x, const double*) { return 3 * x * x; };
  return d;
}
}  // namespace

TEST_CASE("a registered activation is differentiable once, and a second backward names it",
          "[second_order][second_order_activations][errors]") {
  static const ActivationInfo& info = eigrad::register_activation(cube("second_order_cube"));
  const DoubleTensor x = DoubleTensor::from({1.5, -2.0}).set_requires_grad();
  const DoubleTensor d1 =
      derivative_of<double>([&](const DoubleTensor& t) { return info.apply(t); }, x);
  CHECK(d1.to_vector() == std::vector<double>{6.75, 12.0});
  CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(d1)}, {x}),
                    Contains("second_order_cube") && Contains("cannot be differentiated"));
  // Composed with built-in activations, the error still names it.
  const DoubleTensor d2 = derivative_of<double>(
      [&](const DoubleTensor& t) { return eigrad::tanh(info.apply(eigrad::sigmoid(t))); }, x);
  CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(d2)}, {x}), Contains("second_order_cube"));
}
