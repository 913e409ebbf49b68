// The everyday math ops: elementwise functions (sin ... round, minimum, maximum) and statistics
// (var, std, logsumexp, norm, cumsum, prod). Values against closed forms and naive loops written
// here, first and second derivatives against float64 central differences, float32 checks, and
// the error paths, with PyTorch 1.13's conventions.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::GradcheckFunction;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

const double kPi = 3.14159265358979323846;
const double kInf = std::numeric_limits<double>::infinity();

// gradcheck and gradgradcheck of f at `inputs` both pass (gradgradcheck also checks that the
// gradient recorded under create_graph equals the fused first-order one).
void check_both_orders(const GradcheckFunction& f, const Ts& inputs) {
  const eigrad::GradcheckReport first = eigrad::gradcheck(f, inputs);
  INFO("first order: " << first.str());
  CHECK(first.passed);
  CHECK(first.checked > 0);
  const eigrad::GradcheckReport second = eigrad::gradgradcheck(f, inputs);
  INFO("second order: " << second.str());
  CHECK(second.passed);
  CHECK(second.checked > 0);
}

// The float32 op's gradient against float64 differences of the float64 op.
template <class F>
void check_float32(F op, const Ts& inputs) {
  eigrad::GradcheckOptions options;
  options.atol = 1e-3;
  options.rtol = 1e-2;
  const eigrad::GradcheckReport r =
      eigrad::gradcheck_float32([op](const std::vector<Tensor>& t) { return op(t); },
                                [op](const Ts& t) { return op(t); }, inputs, options);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

DoubleTensor d(const V& values, const Shape& shape) {
  return DoubleTensor::from(values, shape);
}

// The gradient of sum(f(x) * v) at x (v = 1 by default), by backward.
V gradient(const std::function<DoubleTensor(const DoubleTensor&)>& f, const DoubleTensor& x,
           const DoubleTensor& v = {}) {
  const DoubleTensor leaf = x.detach().clone().set_requires_grad();
  const DoubleTensor y = f(leaf);
  eigrad::sum(v.defined() ? y * v : y).backward();
  return leaf.grad().to_vector();
}

// The elements of `x` ([n0, n1, n2]) at [i, j, k].
double at3(const DoubleTensor& x, int64_t i, int64_t j, int64_t k) {
  return x.at({i, j, k});
}

}  // namespace

// ---------------------------------------------------------------- elementwise functions

TEST_CASE("the trigonometric and hyperbolic functions match closed forms", "[ops-math]") {
  const double e = std::exp(1.0);
  check_close(eigrad::sin(d({kPi / 6, 0, -kPi / 2}, {3})).to_vector(), {0.5, 0, -1}, 1e-15);
  check_close(eigrad::cos(d({kPi / 3, 0, kPi}, {3})).to_vector(), {0.5, 1, -1}, 1e-15);
  check_close(eigrad::tan(d({kPi / 4, 0}, {2})).to_vector(), {1, 0}, 1e-15);
  check_close(eigrad::asin(d({0.5, -1, 0}, {3})).to_vector(), {kPi / 6, -kPi / 2, 0}, 1e-15);
  check_close(eigrad::acos(d({0.5, -1, 1}, {3})).to_vector(), {kPi / 3, kPi, 0}, 1e-15);
  check_close(eigrad::atan(d({1, -1, 0}, {3})).to_vector(), {kPi / 4, -kPi / 4, 0}, 1e-15);
  check_close(eigrad::sinh(d({1, 0}, {2})).to_vector(), {(e - 1 / e) / 2, 0}, 1e-15);
  check_close(eigrad::cosh(d({1, 0}, {2})).to_vector(), {(e + 1 / e) / 2, 1}, 1e-15);
  check_close(eigrad::reciprocal(d({4, -0.5}, {2})).to_vector(), {0.25, -2}, 1e-15);
}

TEST_CASE("log1p and expm1 keep their accuracy near 0", "[ops-math]") {
  // log(1 + x) = x - x^2 / 2 + ... and exp(x) - 1 = x + x^2 / 2 + ...: for x = 1e-10 the second
  // term is 5e-21, far below what 1 + x can hold.
  const V got_log = eigrad::log1p(d({1e-10, std::exp(2.0) - 1}, {2})).to_vector();
  CHECK(got_log[0] == Approx(1e-10 - 5e-21).epsilon(1e-15));
  CHECK(got_log[1] == Approx(2).epsilon(1e-15));
  const V got_exp = eigrad::expm1(d({1e-10, std::log(3.0)}, {2})).to_vector();
  CHECK(got_exp[0] == Approx(1e-10 + 5e-21).epsilon(1e-15));
  CHECK(got_exp[1] == Approx(2).epsilon(1e-15));
  // float32 too: log1p(1e-7f) is 1e-7, where log(1 + 1e-7f) would round 1 + 1e-7f.
  CHECK(eigrad::log1p(Tensor::from({1e-7f})).item() == Approx(1e-7f).epsilon(1e-6));
  CHECK(eigrad::expm1(Tensor::from({1e-7f})).item() == Approx(1e-7f).epsilon(1e-6));
}

TEST_CASE("sign floor ceil and round match PyTorch, round halving to even", "[ops-math]") {
  const DoubleTensor x = d({-2.5, -1.5, -0.5, 0, 0.5, 1.5, 2.5, 2.7, -2.7}, {9});
  CHECK(eigrad::sign(x).to_vector() == V{-1, -1, -1, 0, 1, 1, 1, 1, -1});
  CHECK(eigrad::floor(x).to_vector() == V{-3, -2, -1, 0, 0, 1, 2, 2, -3});
  CHECK(eigrad::ceil(x).to_vector() == V{-2, -1, -0.0, 0, 1, 2, 3, 3, -2});
  CHECK(eigrad::round(x).to_vector() == V{-2, -2, -0.0, 0, 0, 2, 2, 3, -3});
  CHECK(eigrad::round(Tensor::from({0.5f, 1.5f, 2.5f, 3.5f})).to_vector() ==
        std::vector<float>{0, 2, 2, 4});
  // sign(NaN) is 0 in PyTorch 1.13; floor, ceil and round keep NaN.
  const DoubleTensor nan = DoubleTensor::from({std::nan("")});
  CHECK(eigrad::sign(nan).item() == 0);
  CHECK(std::isnan(eigrad::round(nan).item()));
}

TEST_CASE("asin and acos outside [-1, 1] and log1p below -1 give NaN, not an error", "[ops-math]") {
  const DoubleTensor x = d({1.5, -2}, {2}).set_requires_grad();
  const DoubleTensor y = eigrad::asin(x);
  CHECK(std::isnan(y.to_vector()[0]));
  CHECK(std::isnan(y.to_vector()[1]));
  CHECK(std::isnan(eigrad::acos(x).to_vector()[0]));
  CHECK(std::isnan(eigrad::log1p(d({-2}, {1})).item()));
  CHECK(eigrad::log1p(d({-1}, {1})).item() == -kInf);
  eigrad::sum(y).backward();
  CHECK(std::isnan(x.grad().to_vector()[0]));
}

TEST_CASE("the smooth elementwise functions have the derivatives of the textbook", "[ops-math]") {
  const DoubleTensor x = d({-0.7, 0.2, 0.9}, {3});
  V want;
  for (double v : x.to_vector()) want.push_back(std::cos(v));
  check_close(gradient([](const DoubleTensor& t) { return eigrad::sin(t); }, x), want, 1e-14);
  want.clear();
  for (double v : x.to_vector()) want.push_back(1 / (std::cos(v) * std::cos(v)));
  check_close(gradient([](const DoubleTensor& t) { return eigrad::tan(t); }, x), want, 1e-14);
  want.clear();
  for (double v : x.to_vector()) want.push_back(-1 / std::sqrt(1 - v * v));
  check_close(gradient([](const DoubleTensor& t) { return eigrad::acos(t); }, x), want, 1e-14);
  want.clear();
  for (double v : x.to_vector()) want.push_back(1 / (1 + v * v));
  check_close(gradient([](const DoubleTensor& t) { return eigrad::atan(t); }, x), want, 1e-14);
  want.clear();
  for (double v : x.to_vector()) want.push_back(std::exp(v));
  check_close(gradient([](const DoubleTensor& t) { return eigrad::expm1(t); }, x), want, 1e-14);
  want.clear();
  for (double v : x.to_vector()) want.push_back(-1 / (v * v));
  check_close(gradient([](const DoubleTensor& t) { return eigrad::reciprocal(t); }, x), want,
              1e-13);
}

TEST_CASE("the smooth elementwise functions pass gradcheck and gradgradcheck", "[ops-math]") {
  using F = std::function<DoubleTensor(const DoubleTensor&)>;
  struct Case {
    std::string name;
    F f;
    double lo, hi;  // inside the domain, away from its edges
  };
  const std::vector<Case> cases = {
      {"sin", [](const DoubleTensor& t) { return eigrad::sin(t); }, -3, 3},
      {"cos", [](const DoubleTensor& t) { return eigrad::cos(t); }, -3, 3},
      {"tan", [](const DoubleTensor& t) { return eigrad::tan(t); }, -1.2, 1.2},
      {"asin", [](const DoubleTensor& t) { return eigrad::asin(t); }, -0.9, 0.9},
      {"acos", [](const DoubleTensor& t) { return eigrad::acos(t); }, -0.9, 0.9},
      {"atan", [](const DoubleTensor& t) { return eigrad::atan(t); }, -3, 3},
      {"sinh", [](const DoubleTensor& t) { return eigrad::sinh(t); }, -2, 2},
      {"cosh", [](const DoubleTensor& t) { return eigrad::cosh(t); }, -2, 2},
      {"log1p", [](const DoubleTensor& t) { return eigrad::log1p(t); }, -0.8, 3},
      {"expm1", [](const DoubleTensor& t) { return eigrad::expm1(t); }, -2, 2},
      {"reciprocal", [](const DoubleTensor& t) { return eigrad::reciprocal(t); }, 0.5, 3},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const F f = c.f;
    check_both_orders([f](const Ts& t) { return f(t[0]); }, {random_leaf({2, 3}, 7, c.lo, c.hi)});
  }
  // reciprocal on the negative side too
  check_both_orders([](const Ts& t) { return eigrad::reciprocal(t[0]); },
                    {random_leaf({4}, 8, -3, -0.5)});
}

TEST_CASE("the elementwise functions' float32 gradients agree with float64 differences",
          "[ops-math]") {
  const Ts x = {random_leaf({5}, 11, -0.8, 0.8)};
  check_float32([](const auto& t) { return eigrad::sin(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::tan(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::asin(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::atan(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::cosh(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::log1p(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::expm1(t[0]); }, x);
  check_float32([](const auto& t) { return eigrad::reciprocal(eigrad::exp(t[0])); }, x);
}

TEST_CASE("sign floor ceil and round have zero gradient at every order", "[ops-math]") {
  using F = std::function<DoubleTensor(const DoubleTensor&)>;
  const std::vector<F> ops = {[](const DoubleTensor& t) { return eigrad::sign(t); },
                              [](const DoubleTensor& t) { return eigrad::floor(t); },
                              [](const DoubleTensor& t) { return eigrad::ceil(t); },
                              [](const DoubleTensor& t) { return eigrad::round(t); }};
  const DoubleTensor x = d({-1.3, 0, 0.5, 2.5}, {4});
  for (const F& f : ops) {
    const DoubleTensor leaf = x.clone().set_requires_grad();
    const DoubleTensor y = f(leaf);
    CHECK(y.requires_grad());
    // Through a smooth op, so that the second derivative has a path: d/dx (f(x) * x) = f(x).
    const Ts g = eigrad::grad({eigrad::sum(y * leaf)}, {leaf}, {}, std::nullopt, true);
    check_close(g[0].to_vector(), f(x).to_vector(), 0);
    const Ts h = eigrad::grad({eigrad::sum(g[0] * g[0])}, {leaf}, {}, std::nullopt, false, true);
    if (h[0].defined()) check_close(h[0].to_vector(), {0, 0, 0, 0}, 0);
    // gradcheck away from the jumps: the finite differences are 0 too.
    check_both_orders([f](const Ts& t) { return f(t[0]) * t[0]; },
                      {d({-1.3, 0.2, 0.7, 2.2}, {4}).set_requires_grad()});
  }
}

// ---------------------------------------------------------------- minimum and maximum

TEST_CASE("maximum and minimum broadcast and propagate NaN", "[ops-math]") {
  const DoubleTensor a = d({1, 5, -2, 4, 0, 3}, {2, 3});
  const DoubleTensor b = d({2, 2, 2}, {3});
  CHECK(eigrad::maximum(a, b).shape() == Shape{2, 3});
  CHECK(eigrad::maximum(a, b).to_vector() == V{2, 5, 2, 4, 2, 3});
  CHECK(eigrad::minimum(a, b).to_vector() == V{1, 2, -2, 2, 0, 2});
  const DoubleTensor nan = d({std::nan(""), 1}, {2});
  const DoubleTensor other = d({0, std::nan("")}, {2});
  for (const DoubleTensor& r : {eigrad::maximum(nan, other), eigrad::minimum(nan, other),
                                eigrad::maximum(other, nan), eigrad::minimum(other, nan)}) {
    CHECK(std::isnan(r.to_vector()[0]));
    CHECK(std::isnan(r.to_vector()[1]));
  }
  REQUIRE_THROWS_WITH(eigrad::maximum(a, d({1, 2}, {2})), Catch::Contains("maximum") &&
                                                              Catch::Contains("[2, 3]") &&
                                                              Catch::Contains("[2]"));
  REQUIRE_THROWS_WITH(eigrad::minimum(a, d({1, 2}, {2})), Catch::Contains("minimum"));
}

TEST_CASE("maximum and minimum split the gradient half and half on a tie", "[ops-math]") {
  // PyTorch 1.13's derivatives.yaml: where(a == b, g / 2, g), masked to 0 where the other wins.
  DoubleTensor a = d({1, 3, 2}, {3}).set_requires_grad();
  DoubleTensor b = d({2, 3, 1}, {3}).set_requires_grad();
  const DoubleTensor v = d({10, 20, 30}, {3});
  eigrad::sum(eigrad::maximum(a, b) * v).backward();
  CHECK(a.grad().to_vector() == V{0, 10, 30});
  CHECK(b.grad().to_vector() == V{10, 10, 0});
  a.zero_grad();
  b.zero_grad();
  eigrad::sum(eigrad::minimum(a, b) * v).backward();
  CHECK(a.grad().to_vector() == V{10, 10, 0});
  CHECK(b.grad().to_vector() == V{0, 10, 30});
  // A broadcast operand collects its shares: b = 2 against [1, 2, 3]: 0 + 1/2 + 1 for minimum.
  const DoubleTensor s = DoubleTensor::scalar(2, true);
  eigrad::sum(eigrad::minimum(d({1, 2, 3}, {3}), s)).backward();
  CHECK(s.grad().item() == 1.5);
}

TEST_CASE("maximum and minimum pass gradcheck and gradgradcheck away from ties", "[ops-math]") {
  // a and b in disjoint interleaved sets: no tie within eps.
  const DoubleTensor a = d({0.1, 1.3, -0.8, 2.1, -1.7, 0.6}, {2, 3}).set_requires_grad();
  const DoubleTensor b = d({0.9, -0.4, 0.4}, {3}).set_requires_grad();
  check_both_orders([](const Ts& t) { return eigrad::maximum(t[0], t[1]); }, {a, b});
  check_both_orders([](const Ts& t) { return eigrad::minimum(t[0], t[1]); }, {a, b});
  // Through a smooth op, so that the second derivative is not identically 0.
  check_both_orders([](const Ts& t) { return eigrad::maximum(t[0] * t[0], t[1]); }, {a, b});
  check_float32([](const auto& t) { return eigrad::minimum(t[0], t[1]); }, Ts{a, b});
}

// ---------------------------------------------------------------- var and std

TEST_CASE("var and std match hand-computed values", "[ops-math]") {
  const DoubleTensor x = d({1, 2, 3, 4}, {4});
  // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5
  CHECK(eigrad::var(x).item() == Approx(5.0 / 3).epsilon(1e-15));
  CHECK(eigrad::var(x, {}, 0).item() == Approx(1.25).epsilon(1e-15));
  CHECK(eigrad::var(x, 0, 0).item() == Approx(1.25).epsilon(1e-15));
  CHECK(eigrad::std(x).item() == Approx(std::sqrt(5.0 / 3)).epsilon(1e-15));
  CHECK(eigrad::std(x, {}, 0).item() == Approx(std::sqrt(1.25)).epsilon(1e-15));
  CHECK(eigrad::var(Tensor::from({1, 2, 3, 4})).item() == Approx(5.0f / 3).epsilon(1e-6));
  // Rows [1, 2, 3, 4] and [2, 4, 6, 8] (var 4 * 5 / 3), columns pairs (var (d / 2)^2 * 2).
  const DoubleTensor m = d({1, 2, 3, 4, 2, 4, 6, 8}, {2, 4});
  check_close(eigrad::var(m, 1).to_vector(), {5.0 / 3, 20.0 / 3}, 1e-14);
  check_close(eigrad::var(m, -1, 1, true).to_vector(), {5.0 / 3, 20.0 / 3}, 1e-14);
  CHECK(eigrad::var(m, -1, 1, true).shape() == Shape{2, 1});
  check_close(eigrad::var(m, 0).to_vector(), {0.5, 2, 4.5, 8}, 1e-14);
  check_close(eigrad::std(m, {0}, 0).to_vector(), {0.5, 1, 1.5, 2}, 1e-14);
  CHECK(eigrad::var(m, {0, 1}).item() == Approx(eigrad::var(eigrad::flatten(m)).item()));
}

TEST_CASE("var over a list of axes matches a naive loop", "[ops-math]") {
  const DoubleTensor x = eigrad::test::random_values({2, 3, 4}, 5);
  // Over axes 0 and 2 (not trailing: the data is permuted), for each j.
  const DoubleTensor got = eigrad::var(x, {2, 0}, 1, true);
  CHECK(got.shape() == Shape{1, 3, 1});
  const DoubleTensor std_got = eigrad::std(x, {-1, 0}, 0);
  CHECK(std_got.shape() == Shape{3});
  for (int64_t j = 0; j < 3; ++j) {
    double mean = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) mean += at3(x, i, j, k) / 8;
    double m2 = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) m2 += (at3(x, i, j, k) - mean) * (at3(x, i, j, k) - mean);
    CHECK(got.to_vector()[static_cast<size_t>(j)] == Approx(m2 / 7).epsilon(1e-13));
    CHECK(std_got.to_vector()[static_cast<size_t>(j)] == Approx(std::sqrt(m2 / 8)).epsilon(1e-13));
  }
}

TEST_CASE("var with N - correction <= 0 gives inf or NaN as PyTorch, not an error", "[ops-math]") {
  // PyTorch divides by max(N - correction, 0) and only warns.
  CHECK(eigrad::var(d({1, 2}, {2}), {}, 2).item() == kInf);
  CHECK(eigrad::var(d({1, 2}, {2}), {}, 5).item() == kInf);
  CHECK(std::isnan(eigrad::var(d({3}, {1})).item()));  // 0 / 0
  CHECK(std::isnan(eigrad::std(DoubleTensor::zeros({0})).item()));
  CHECK(eigrad::var(DoubleTensor::zeros({0, 3}), 0).to_vector().size() == 3);
  // A negative correction is allowed: divisor N + 1.
  CHECK(eigrad::var(d({1, 2, 3, 4}, {4}), {}, -1).item() == Approx(1.0));
}

TEST_CASE("var and std name the op and the axes in their errors", "[ops-math]") {
  const DoubleTensor x = DoubleTensor::zeros({2, 3});
  REQUIRE_THROWS_WITH(eigrad::var(x, 2), Catch::Contains("var: axis 2 is out of range"));
  REQUIRE_THROWS_WITH(eigrad::std(x, {0, -3}), Catch::Contains("std: axis -3 is out of range"));
  REQUIRE_THROWS_WITH(eigrad::var(x, {1, -1}),
                      Catch::Contains("var: axis 1 appears more than once in [1, -1]") &&
                          Catch::Contains("[2, 3]"));
  REQUIRE_THROWS_WITH(eigrad::logsumexp(x, {0, 0}), Catch::Contains("logsumexp: axis 0 appears"));
}

TEST_CASE("var and std gradients: closed form, gradcheck and gradgradcheck", "[ops-math]") {
  // d var / dx_i = 2 (x_i - mean) / (N - 1): for [1, 2, 3, 4], (2 / 3) [-1.5, -0.5, 0.5, 1.5].
  check_close(gradient([](const DoubleTensor& t) { return eigrad::var(t); }, d({1, 2, 3, 4}, {4})),
              {-1, -1.0 / 3, 1.0 / 3, 1}, 1e-15);
  // std of constant values has gradient 0 (PyTorch masks it), not NaN.
  check_close(gradient([](const DoubleTensor& t) { return eigrad::std(t); }, d({2, 2, 2}, {3})),
              {0, 0, 0}, 0);
  const DoubleTensor x = random_leaf({2, 3, 4}, 21);
  check_both_orders([](const Ts& t) { return eigrad::var(t[0]); }, {x});
  check_both_orders([](const Ts& t) { return eigrad::var(t[0], {0, 2}, 0, true); }, {x});
  check_both_orders([](const Ts& t) { return eigrad::var(t[0], -1); }, {x});
  check_both_orders([](const Ts& t) { return eigrad::std(t[0], {1}, 1, false); }, {x});
  check_both_orders([](const Ts& t) { return eigrad::std(t[0], {2, 0}, 0, false); }, {x});
  check_float32([](const auto& t) { return eigrad::std(t[0], {0, 2}); }, Ts{x});
  check_float32([](const auto& t) { return eigrad::var(t[0], 1, 0, true); }, Ts{x});
}

TEST_CASE("std's second derivative is finite where std is 0", "[ops-math]") {
  const DoubleTensor x = d({1, 1, 1, 2, 3, 5}, {2, 3}).set_requires_grad();
  const Ts g = eigrad::grad({eigrad::sum(eigrad::std(x, 1))}, {x}, {}, std::nullopt, true);
  const V first_row = g[0].to_vector();
  check_close(V(first_row.begin(), first_row.begin() + 3), {0, 0, 0}, 0);
  const Ts h = eigrad::grad({eigrad::sum(g[0] * g[0])}, {x});
  for (double v : h[0].to_vector()) CHECK(std::isfinite(v));
}

// ---------------------------------------------------------------- logsumexp

TEST_CASE("logsumexp is exact and finite for large and infinite inputs", "[ops-math]") {
  CHECK(eigrad::logsumexp(d({1000, 1000}, {2}), 0).item() ==
        Approx(1000 + std::log(2.0)).epsilon(1e-15));
  CHECK(eigrad::logsumexp(Tensor::from({1000, 1000}), 0).item() ==
        Approx(1000 + std::log(2.0f)).epsilon(1e-6));
  CHECK(eigrad::logsumexp(d({-1000, -1000}, {2}), 0).item() ==
        Approx(-1000 + std::log(2.0)).epsilon(1e-15));
  CHECK(eigrad::logsumexp(d({0, std::log(3.0)}, {2}), {}).item() ==
        Approx(std::log(4.0)).epsilon(1e-15));
  CHECK(eigrad::logsumexp(d({-kInf, -kInf}, {2}), 0).item() == -kInf);
  CHECK(eigrad::logsumexp(d({kInf, 1}, {2}), 0).item() == kInf);
  CHECK(eigrad::logsumexp(d({-kInf, 0}, {2}), 0).item() == 0);
  CHECK(eigrad::logsumexp(DoubleTensor::zeros({0}), 0).item() == -kInf);
}

TEST_CASE("logsumexp over axes matches a naive loop, keepdim or not", "[ops-math]") {
  const DoubleTensor x = eigrad::test::random_values({2, 3, 4}, 9);
  const DoubleTensor got = eigrad::logsumexp(x, {0, 2}, true);
  CHECK(got.shape() == Shape{1, 3, 1});
  CHECK(eigrad::logsumexp(x, {0, 2}).shape() == Shape{3});
  CHECK(eigrad::logsumexp(x, 1).shape() == Shape{2, 4});
  for (int64_t j = 0; j < 3; ++j) {
    double s = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) s += std::exp(at3(x, i, j, k));
    CHECK(got.to_vector()[static_cast<size_t>(j)] == Approx(std::log(s)).epsilon(1e-14));
  }
}

TEST_CASE("logsumexp's gradient is the softmax, and passes gradgradcheck", "[ops-math]") {
  // d/dx log(e^0 + e^log3) = [1/4, 3/4]
  check_close(gradient([](const DoubleTensor& t) { return eigrad::logsumexp(t, 0); },
                       d({0, std::log(3.0)}, {2})),
              {0.25, 0.75}, 1e-15);
  // Large inputs: the gradient is finite (to the 1e-13 that 1000 + log 2 keeps of log 2).
  check_close(
      gradient([](const DoubleTensor& t) { return eigrad::logsumexp(t, 0); }, d({1000, 1000}, {2})),
      {0.5, 0.5}, 1e-12);
  const DoubleTensor x = random_leaf({2, 3, 4}, 13);
  check_both_orders([](const Ts& t) { return eigrad::logsumexp(t[0], {0, 2}); }, {x});
  check_both_orders([](const Ts& t) { return eigrad::logsumexp(t[0], -1, true); }, {x});
  check_both_orders([](const Ts& t) { return eigrad::logsumexp(t[0], {}); }, {x});
  check_float32([](const auto& t) { return eigrad::logsumexp(t[0], 1); }, Ts{x});
}

// ---------------------------------------------------------------- norm

TEST_CASE("norm matches hand-computed values for p = 1, 2, infinity and other p", "[ops-math]") {
  const DoubleTensor x = d({3, -4}, {2});
  CHECK(eigrad::norm(x).item() == Approx(5).epsilon(1e-15));
  CHECK(eigrad::norm(x, 1).item() == 7);
  CHECK(eigrad::norm(x, kInf).item() == 4);
  CHECK(eigrad::norm(x, 3).item() == Approx(std::cbrt(91.0)).epsilon(1e-15));
  CHECK(eigrad::norm(x, 0.5).item() == Approx(std::pow(std::sqrt(3.0) + 2, 2)).epsilon(1e-14));
  CHECK(eigrad::norm(Tensor::from({3, -4})).item() == Approx(5.0f).epsilon(1e-6));
  const DoubleTensor m = d({3, 4, 0, -6, 8, 0}, {2, 3});
  check_close(eigrad::norm(m, 2, 1).to_vector(), {5, 10}, 1e-15);
  check_close(eigrad::norm(m, 1, {0}).to_vector(), {9, 12, 0}, 1e-15);
  check_close(eigrad::norm(m, kInf, -1, true).to_vector(), {4, 8}, 0);
  CHECK(eigrad::norm(m, kInf, -1, true).shape() == Shape{2, 1});
  CHECK(eigrad::norm(m, 2, {0, 1}).item() == Approx(std::sqrt(125.0)).epsilon(1e-15));
  CHECK(eigrad::norm(DoubleTensor::zeros({0})).item() == 0);
  CHECK(std::isnan(eigrad::norm(d({1, std::nan("")}, {2}), kInf).item()));
}

TEST_CASE("norm rejects p <= 0 and the infinity norm of nothing", "[ops-math]") {
  const DoubleTensor x = DoubleTensor::ones({3});
  REQUIRE_THROWS_WITH(eigrad::norm(x, 0), Catch::Contains("norm: expected p > 0"));
  REQUIRE_THROWS_WITH(eigrad::norm(x, -2, 0), Catch::Contains("got p = -2"));
  REQUIRE_THROWS_WITH(eigrad::norm(x, -kInf), Catch::Contains("norm: expected p > 0"));
  REQUIRE_THROWS_WITH(eigrad::norm(x, std::nan("")), Catch::Contains("norm: expected p > 0"));
  REQUIRE_THROWS_WITH(eigrad::norm(x, 2, 1), Catch::Contains("norm: axis 1 is out of range"));
  REQUIRE_THROWS_WITH(eigrad::norm(DoubleTensor::zeros({0}), kInf),
                      Catch::Contains("infinity norm") && Catch::Contains("[0]"));
}

TEST_CASE("norm's gradients follow PyTorch at 0 and at ties", "[ops-math]") {
  using eigrad::norm;
  // p = 2: x / |x|; at 0 the gradient is 0, not NaN.
  check_close(gradient([](const DoubleTensor& t) { return norm(t); }, d({3, -4}, {2})), {0.6, -0.8},
              1e-15);
  check_close(gradient([](const DoubleTensor& t) { return norm(t); }, d({0, 0}, {2})), {0, 0}, 0);
  // Along an axis, one row zero: its gradient is 0, the other row's is x / |x|.
  check_close(
      gradient([](const DoubleTensor& t) { return norm(t, 2, 1); }, d({0, 0, 3, 4}, {2, 2})),
      {0, 0, 0.6, 0.8}, 1e-15);
  // p = 1: sign(x), 0 at 0.
  check_close(gradient([](const DoubleTensor& t) { return norm(t, 1); }, d({2, 0, -1}, {3})),
              {1, 0, -1}, 0);
  // p = infinity: shared evenly among the entries reaching the maximum, with their signs.
  check_close(gradient([](const DoubleTensor& t) { return norm(t, kInf); }, d({-3, 1, 3}, {3})),
              {-0.5, 0, 0.5}, 0);
  // p = 3: sign(x) |x|^2 / n^2 with n^3 = 27 + 64.
  const double n = std::cbrt(91.0);
  check_close(gradient([](const DoubleTensor& t) { return norm(t, 3); }, d({3, -4}, {2})),
              {9 / (n * n), -16 / (n * n)}, 1e-14);
  // p = 0.5 at an entry 0: that entry's gradient is 0 (PyTorch masks it).
  const V g = gradient([](const DoubleTensor& t) { return norm(t, 0.5); }, d({0, 4}, {2}));
  CHECK(g[0] == 0);
  CHECK(g[1] == Approx(1).epsilon(1e-15));  // n = 4: n^0.5 / sqrt(4) = 1
  // The second derivative of the 2-norm at 0 is 0 too (finite).
  const DoubleTensor z = DoubleTensor::zeros({3}).set_requires_grad();
  const Ts gz = eigrad::grad({norm(z)}, {z}, {}, std::nullopt, true);
  const Ts hz = eigrad::grad({eigrad::sum(gz[0])}, {z}, {}, std::nullopt, false, true);
  if (hz[0].defined()) check_close(hz[0].to_vector(), {0, 0, 0}, 0);
}

TEST_CASE("norm passes gradcheck and gradgradcheck for every kind of p", "[ops-math]") {
  // Values away from 0 (and, for p = infinity, without ties).
  const DoubleTensor x =
      d({0.5, -1.2, 0.8, 1.7, -0.3, 2.2, -0.9, 1.1, 0.4, -1.5, 0.7, 1.3}, {2, 3, 2})
          .set_requires_grad();
  for (double p : {2.0, 1.0, kInf, 3.0, 1.5, 0.5}) {
    INFO("p = " << p);
    check_both_orders([p](const Ts& t) { return eigrad::norm(t[0], p); }, {x});
    check_both_orders([p](const Ts& t) { return eigrad::norm(t[0], p, {0, 2}, true); }, {x});
    check_both_orders([p](const Ts& t) { return eigrad::norm(t[0], p, -1); }, {x});
  }
  check_float32([](const auto& t) { return eigrad::norm(t[0], 2, 1); }, Ts{x});
  check_float32([](const auto& t) { return eigrad::norm(t[0], 3); }, Ts{x});
}

// ---------------------------------------------------------------- cumsum

TEST_CASE("cumsum adds up along an axis and its gradient sums from the end", "[ops-math]") {
  const DoubleTensor x = d({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::cumsum(x, 1).to_vector() == V{1, 3, 6, 4, 9, 15});
  CHECK(eigrad::cumsum(x, -2).to_vector() == V{1, 2, 3, 5, 7, 9});
  CHECK(eigrad::cumsum(x, 0).shape() == Shape{2, 3});
  CHECK(eigrad::cumsum(DoubleTensor::scalar(4), 0).item() == 4);
  CHECK(eigrad::cumsum(DoubleTensor::zeros({0, 2}), 0).shape() == Shape{0, 2});
  // d/dx_j sum_i v_i y_i = sum_{i >= j} v_i: [10 + 20 + 30, 20 + 30, 30] per row.
  check_close(gradient([](const DoubleTensor& t) { return eigrad::cumsum(t, 1); }, x,
                       d({10, 20, 30, 1, 2, 3}, {2, 3})),
              {60, 50, 30, 6, 5, 3}, 0);
  REQUIRE_THROWS_WITH(eigrad::cumsum(x, 2), Catch::Contains("cumsum: axis 2 is out of range"));
  const DoubleTensor r = random_leaf({3, 4}, 3);
  check_both_orders([](const Ts& t) { return eigrad::cumsum(t[0], 1) * t[0]; }, {r});
  check_both_orders([](const Ts& t) { return eigrad::cumsum(t[0] * t[0], 0); }, {r});
  check_float32([](const auto& t) { return eigrad::cumsum(t[0], 0); }, Ts{r});
}

// ---------------------------------------------------------------- prod

TEST_CASE("prod multiplies all elements or along an axis", "[ops-math]") {
  const DoubleTensor x = d({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::prod(x).item() == 720);
  CHECK(eigrad::prod(x, 1).to_vector() == V{6, 120});
  CHECK(eigrad::prod(x, 0, true).to_vector() == V{4, 10, 18});
  CHECK(eigrad::prod(x, 0, true).shape() == Shape{1, 3});
  CHECK(eigrad::prod(DoubleTensor::zeros({0})).item() == 1);
  CHECK(eigrad::prod(DoubleTensor::scalar(3)).item() == 3);
  CHECK(eigrad::prod(DoubleTensor::scalar(3), -1).item() == 3);
  CHECK(eigrad::prod(Tensor::from({1.5f, -2, 4})).item() == -12);
  REQUIRE_THROWS_WITH(eigrad::prod(x, -3), Catch::Contains("prod: axis -3 is out of range"));
}

TEST_CASE("prod's gradient is the product of the others, with zeros too", "[ops-math]") {
  const auto f = [](const DoubleTensor& t) { return eigrad::prod(t); };
  // No zero: [2 * 3 * 4, 1 * 3 * 4, 1 * 2 * 4, 1 * 2 * 3]
  check_close(gradient(f, d({1, 2, 3, 4}, {4})), {24, 12, 8, 6}, 0);
  // One zero: only the zero's entry gets a gradient, the product of the others.
  check_close(gradient(f, d({2, 0, 3, 4}, {4})), {0, 24, 0, 0}, 0);
  // Two zeros: every product of others contains a zero.
  check_close(gradient(f, d({2, 0, 3, 0}, {4})), {0, 0, 0, 0}, 0);
  // Along an axis, per line: row [0, 5] and row [2, 3]; column-wise the same rule.
  check_close(
      gradient([](const DoubleTensor& t) { return eigrad::prod(t, 1); }, d({0, 5, 2, 3}, {2, 2})),
      {5, 0, 3, 2}, 0);
  check_close(gradient([](const DoubleTensor& t) { return eigrad::prod(t, 0); },
                       d({0, 5, 0, 3, 2, 1}, {3, 2})),
              {0, 3, 0, 5, 0, 15}, 0);
}

TEST_CASE("prod's second derivative is the product of all but two entries, zeros included",
          "[ops-math]") {
  // d^2 prod / dx_i dx_j = prod of the others (i != j), 0 on the diagonal. At [2, 0, 3, 0]:
  // only pairs containing both zeros survive, (1, 3): 2 * 3 = 6. The Hessian's row sums:
  const DoubleTensor x = d({2, 0, 3, 0}, {4}).set_requires_grad();
  const Ts g = eigrad::grad({eigrad::prod(x)}, {x}, {}, std::nullopt, true);
  const Ts h = eigrad::grad({eigrad::sum(g[0])}, {x});
  check_close(h[0].to_vector(), {0, 6, 0, 6}, 0);
  // prod is a polynomial, smooth everywhere: gradcheck at zeros is valid.
  check_both_orders([](const Ts& t) { return eigrad::prod(t[0]); },
                    {d({0.5, 0, -1.5, 2, 0, 1.2}, {2, 3}).set_requires_grad()});
  check_both_orders([](const Ts& t) { return eigrad::prod(t[0]); },
                    {d({0.5, 0, -1.5, 2, 0.7, 1.2}, {2, 3}).set_requires_grad()});
  const DoubleTensor r = random_leaf({3, 4, 2}, 17);
  check_both_orders([](const Ts& t) { return eigrad::prod(t[0], 1); }, {r});
  check_both_orders([](const Ts& t) { return eigrad::prod(t[0], -1, true); }, {r});
  check_both_orders([](const Ts& t) { return eigrad::prod(t[0], 0); },
                    {d({0, 1.5, 0, -2, 0.5, 0}, {3, 2}).set_requires_grad()});
  check_float32([](const auto& t) { return eigrad::prod(t[0], 1); }, Ts{r});
}

TEST_CASE("a braced list of axes picks the list overload, {} meaning every axis", "[ops-math]") {
  const DoubleTensor x = d({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::var(x, {}, 0).shape() == Shape{});
  CHECK(eigrad::var(x, {}, 0).item() == Approx(35.0 / 12).epsilon(1e-15));
  CHECK(eigrad::var(x, {1}).shape() == Shape{2});
  CHECK(eigrad::std(x, {}, 1, true).shape() == Shape{1, 1});
  CHECK(eigrad::norm(x, 2, {}).item() == Approx(std::sqrt(91.0)).epsilon(1e-15));
  CHECK(eigrad::logsumexp(x, {}, true).shape() == Shape{1, 1});
}
