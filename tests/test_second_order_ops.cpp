// The graph backwards of the elementwise, reduction and shape ops: second derivatives against
// float64 central differences of the gradient (gradgradcheck), closed forms derived by hand, and
// third derivatives of a few smooth ops.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>
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

// The gradient that the graph backwards compute (create_graph) equals the fused kernels' one,
// which the first-order tests check against finite differences. gradgradcheck alone would accept
// a graph backward that is wrong in a way consistent with its own derivative.
void check_graph_gradient(const GradcheckFunction& f, const Ts& inputs) {
  Ts leaves, wrt;
  for (const DoubleTensor& t : inputs) {
    leaves.push_back(t.detach().clone().set_requires_grad(t.requires_grad()));
    if (t.requires_grad()) wrt.push_back(leaves.back());
  }
  const DoubleTensor y = f(leaves);
  const DoubleTensor v = eigrad::test::random_values(y.shape(), 99, -1, 1);
  const Ts fused = eigrad::grad({y}, wrt, {v}, true, false, /*allow_unused=*/true);
  const Ts graph = eigrad::grad({y}, wrt, {v}, true, /*create_graph=*/true, true);
  for (size_t i = 0; i < wrt.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(graph[i].defined() == fused[i].defined());
    if (!fused[i].defined()) continue;
    CHECK(graph[i].shape() == fused[i].shape());
    check_close(graph[i].to_vector(), fused[i].to_vector(), 1e-10);
  }
}

// gradgradcheck of f at `inputs` passes and compared some Jacobian entries, and the gradient it
// differentiates is f's.
void check_second_order(const GradcheckFunction& f, const Ts& inputs) {
  check_graph_gradient(f, inputs);
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(f, inputs);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// The third derivative of f (one input), after its second: gradgradcheck of x -> d sum(f(x)) / dx,
// recorded. grad_outputs is given so that gradgradcheck does not call it under NoGradGuard to find
// the output's shape.
void check_third_order(const GradcheckFunction& f, const DoubleTensor& x) {
  const GradcheckFunction first = [f](const Ts& t) {
    return eigrad::grad({eigrad::sum(f(t))}, {t[0]}, {}, std::nullopt, /*create_graph=*/true)[0];
  };
  check_second_order(f, {x});
  check_graph_gradient(first, {x});
  const DoubleTensor v = eigrad::test::random_values(x.shape(), 77, -1, 1);
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(first, {x}, {v});
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// A linear op L checked through L(x) * L(x), whose gradient 2 L^T(v L(x)) depends on both x
// and v: the graph backward of L is then differentiated with respect to each.
template <class L>
GradcheckFunction squared(L op) {
  return [op](const Ts& t) {
    const DoubleTensor y = op(t);
    return y * y;
  };
}

// Values in [lo, hi] at least 0.1 away from every point of `avoid` (kinks).
DoubleTensor leaf_away(const Shape& shape, double lo, double hi, const V& avoid, uint64_t seed) {
  eigrad::Generator gen(seed);
  return eigrad::uniform_away_from(shape, lo, hi, avoid, 0.1, gen).set_requires_grad();
}

// d/dx of sum(f(x)) with create_graph, then d/dx of sum(that): the diagonal of the Hessian for an
// elementwise f.
std::pair<DoubleTensor, DoubleTensor> first_and_second(
    const std::function<DoubleTensor(const DoubleTensor&)>& f, const DoubleTensor& x) {
  const DoubleTensor g1 = eigrad::grad({eigrad::sum(f(x))}, {x}, {}, std::nullopt, true)[0];
  const DoubleTensor g2 = eigrad::grad({eigrad::sum(g1)}, {x}, {}, std::nullopt, true)[0];
  return {g1, g2};
}

DoubleTensor leaf(V values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return DoubleTensor::from(std::move(values), {n}, /*requires_grad=*/true);
}

}  // namespace

// ---------------------------------------------------------------- elementwise arithmetic

TEST_CASE("div's second derivatives match finite differences, broadcasting either side",
          "[second_order][second_order_ops]") {
  const auto f = [](const Ts& t) { return t[0] / t[1]; };
  const struct {
    Shape a, b;
  } cases[] = {{{2, 3}, {3}}, {{3}, {2, 3}},    {{2, 1}, {1, 3}},   {{}, {2, 2}},
               {{2, 2}, {}},  {{1, 3}, {1, 3}}, {{1, 2, 1}, {2, 2}}};
  uint64_t seed = 1;
  for (const auto& c : cases) {
    INFO("a " << c.a.str() << " b " << c.b.str());
    const DoubleTensor b = leaf_away(c.b, -2, 2, {-0.5, 0, 0.5}, seed + 1);  // |b| >= 0.5
    check_second_order(f, {random_leaf(c.a, seed), b});
    seed += 2;
  }
}

TEST_CASE("div's second derivatives have the closed forms 0, 2a/b^3 and -1/b^2",
          "[second_order][second_order_ops]") {
  DoubleTensor a = leaf({1.5, -2.0}), b = leaf({0.5, 4.0});
  const auto g = eigrad::grad({eigrad::sum(a / b)}, {a, b}, {}, std::nullopt, true);
  // d/da = 1/b, d/db = -a/b^2
  check_close(g[0].to_vector(), V{2.0, 0.25});
  CHECK(g[1].at({0}) == Approx(-6.0));
  CHECK(g[1].at({1}) == Approx(0.125));
  // Of d/db: d/da = -1/b^2, d/db = 2a/b^3.
  const auto h = eigrad::grad({eigrad::sum(g[1])}, {a, b});
  CHECK(h[0].at({0}) == Approx(-4.0));
  CHECK(h[0].at({1}) == Approx(-1.0 / 16));
  CHECK(h[1].at({0}) == Approx(2 * 1.5 / 0.125));
  CHECK(h[1].at({1}) == Approx(2 * -2.0 / 64));
  // Of d/da = 1/b: nothing in a, -1/b^2 in b.
  const auto k = eigrad::grad({eigrad::sum(g[0])}, {a, b}, {}, std::nullopt, false, true);
  CHECK_FALSE(k[0].defined());
  CHECK(k[1].at({0}) == Approx(-4.0));
  CHECK(k[1].at({1}) == Approx(-1.0 / 16));
}

TEST_CASE("rdiv's second derivative is 2c/x^3", "[second_order][second_order_ops]") {
  check_second_order([](const Ts& t) { return 2.5 / t[0]; },
                     {leaf_away({2, 3}, -2, 2, {-0.5, 0, 0.5}, 11)});
  check_second_order([](const Ts& t) { return -1.0 / t[0]; },
                     {leaf_away({1, 4}, -2, 2, {-0.5, 0, 0.5}, 12)});
  DoubleTensor x = leaf({0.5, -2.0});
  const auto [g1, g2] = first_and_second([](const DoubleTensor& t) { return 3.0 / t; }, x);
  CHECK(g1.at({0}) == Approx(-12.0));  // -c/x^2
  CHECK(g1.at({1}) == Approx(-0.75));
  CHECK(g2.at({0}) == Approx(48.0));  // 2c/x^3
  CHECK(g2.at({1}) == Approx(-0.75));
}

TEST_CASE("neg, affine and the scalar operators have zero second derivatives",
          "[second_order][second_order_ops]") {
  check_second_order([](const Ts& t) { return (-t[0] * 3.0 + 1.0) * (2.0 - t[0]); },
                     {random_leaf({2, 3}, 13)});
  // Their gradients are constants: nothing is left to differentiate.
  DoubleTensor x = leaf({1.0, -2.0});
  const DoubleTensor g =
      eigrad::grad({eigrad::sum(3.0 - (-x) * 2.0)}, {x}, {}, std::nullopt, true)[0];
  check_close(g.to_vector(), V{2, 2});
  CHECK_FALSE(g.requires_grad());
}

// ---------------------------------------------------------------- elementwise functions

TEST_CASE("log's second derivative matches finite differences and -1/x^2",
          "[second_order][second_order_ops]") {
  check_second_order([](const Ts& t) { return eigrad::log(t[0]); },
                     {random_leaf({2, 3}, 21, 0.3, 3)});
  check_second_order([](const Ts& t) { return eigrad::log(t[0] * t[0] + 1.0); },
                     {random_leaf({1, 5}, 22)});
  DoubleTensor x = leaf({0.5, 2.0, 4.0});
  const auto [g1, g2] = first_and_second([](const DoubleTensor& t) { return eigrad::log(t); }, x);
  check_close(g1.to_vector(), V{2.0, 0.5, 0.25});
  check_close(g2.to_vector(), V{-4.0, -0.25, -1.0 / 16});
}

TEST_CASE("log's third derivative matches finite differences and 2/x^3",
          "[second_order][second_order_ops]") {
  check_third_order([](const Ts& t) { return eigrad::log(t[0]); }, random_leaf({2, 2}, 23, 0.3, 3));
  DoubleTensor x = leaf({0.5, 2.0});
  const auto [g1, g2] = first_and_second([](const DoubleTensor& t) { return eigrad::log(t); }, x);
  const DoubleTensor g3 = eigrad::grad({eigrad::sum(g2)}, {x})[0];
  CHECK(g3.at({0}) == Approx(16.0));
  CHECK(g3.at({1}) == Approx(0.25));
}

TEST_CASE("pow's second derivatives match finite differences for every kind of exponent",
          "[second_order][second_order_ops]") {
  // Positive bases for every exponent; negative ones for the integer exponents.
  for (double p : {2.0, 3.0, 0.5, 2.5, -1.0, -1.5, 1.0, 1.5}) {
    INFO("p " << p);
    check_second_order([p](const Ts& t) { return eigrad::pow(t[0], p); },
                       {random_leaf({2, 3}, 31, 0.3, 2)});
  }
  for (double p : {2.0, 3.0, -1.0, -2.0}) {
    INFO("p " << p);
    check_second_order([p](const Ts& t) { return eigrad::pow(t[0], p); },
                       {leaf_away({1, 4}, -2, 2, {-0.4, 0, 0.4}, 32)});
  }
}

TEST_CASE("pow's second derivative is p (p - 1) x^(p - 2)", "[second_order][second_order_ops]") {
  const V xs{0.5, 2.0, 3.0};
  for (double p : {3.0, 0.5, -1.0, 2.5}) {
    INFO("p " << p);
    DoubleTensor x = leaf(xs);
    const auto [g1, g2] =
        first_and_second([p](const DoubleTensor& t) { return eigrad::pow(t, p); }, x);
    for (int64_t i = 0; i < 3; ++i) {
      const double v = xs[static_cast<size_t>(i)];
      CHECK(g1.at({i}) == Approx(p * std::pow(v, p - 1)));
      CHECK(g2.at({i}) == Approx(p * (p - 1) * std::pow(v, p - 2)));
    }
  }
}

TEST_CASE("pow's derivatives at 0 follow x^(p - 1): x^2 has 2 there and x^3 has 0",
          "[second_order][second_order_ops]") {
  DoubleTensor x = leaf({0.0, -1.0});
  auto [g1, g2] = first_and_second([](const DoubleTensor& t) { return eigrad::pow(t, 2.0); }, x);
  check_close(g1.to_vector(), V{0, -2});
  check_close(g2.to_vector(), V{2, 2});
  std::tie(g1, g2) = first_and_second([](const DoubleTensor& t) { return eigrad::pow(t, 3.0); }, x);
  check_close(g1.to_vector(), V{0, 3});
  check_close(g2.to_vector(), V{0, -6});
  // x^1: x^0 = 1 everywhere, 0 included, and its derivative is 0.
  std::tie(g1, g2) =
      first_and_second([](const DoubleTensor& t) { return eigrad::pow(t, 1.0) * t; }, x);
  check_close(g1.to_vector(), V{0, -2});
  check_close(g2.to_vector(), V{2, 2});
}

TEST_CASE("pow with exponent 0 has zero derivatives of every order, at 0 too",
          "[second_order][second_order_ops]") {
  DoubleTensor x = leaf({0.0, 2.0, -3.0});
  const DoubleTensor y = eigrad::pow(x, 0.0) * x;  // = x, with x^0's derivatives taken at 0
  const DoubleTensor g1 = eigrad::grad({eigrad::sum(y * y)}, {x}, {}, std::nullopt, true)[0];
  check_close(g1.to_vector(), V{0, 4, -6});  // 2x
  const DoubleTensor g2 = eigrad::grad({eigrad::sum(g1)}, {x})[0];
  check_close(g2.to_vector(), V{2, 2, 2});
  const DoubleTensor d =
      eigrad::grad({eigrad::sum(eigrad::pow(x, 0.0))}, {x}, {}, std::nullopt, true)[0];
  check_close(d.to_vector(), V{0, 0, 0});
}

TEST_CASE("pow's third derivative matches finite differences and p (p - 1) (p - 2) x^(p - 3)",
          "[second_order][second_order_ops]") {
  check_third_order([](const Ts& t) { return eigrad::pow(t[0], 2.5); },
                    random_leaf({2, 2}, 33, 0.3, 2));
  check_third_order([](const Ts& t) { return eigrad::pow(t[0], -1.5); },
                    random_leaf({3}, 34, 0.3, 2));
  DoubleTensor x = leaf({0.5, 2.0});
  const auto [g1, g2] =
      first_and_second([](const DoubleTensor& t) { return eigrad::pow(t, 2.5); }, x);
  const DoubleTensor g3 = eigrad::grad({eigrad::sum(g2)}, {x})[0];
  for (int64_t i = 0; i < 2; ++i) {
    const double v = i ? 2.0 : 0.5;
    CHECK(g3.at({i}) == Approx(2.5 * 1.5 * 0.5 * std::pow(v, -0.5)));
  }
}

TEST_CASE("sqrt's second derivative matches finite differences and -1/(4 x^(3/2))",
          "[second_order][second_order_ops]") {
  check_second_order([](const Ts& t) { return eigrad::sqrt(t[0]); },
                     {random_leaf({2, 3}, 41, 0.3, 3)});
  DoubleTensor x = leaf({0.25, 4.0});
  const auto [g1, g2] = first_and_second([](const DoubleTensor& t) { return eigrad::sqrt(t); }, x);
  check_close(g1.to_vector(), V{1.0, 0.25});  // 1/(2 sqrt x)
  CHECK(g2.at({0}) == Approx(-2.0));
  CHECK(g2.at({1}) == Approx(-1.0 / 32));
}

TEST_CASE("abs's second derivative is 0, at the kink too, where its first is 0",
          "[second_order][second_order_ops]") {
  check_second_order([](const Ts& t) { return eigrad::abs(t[0]) * t[0]; },
                     {leaf_away({2, 3}, -2, 2, {0}, 51)});
  DoubleTensor x = leaf({-1.5, 0.0, 2.0});
  const DoubleTensor g1 =
      eigrad::grad({eigrad::sum(eigrad::abs(x))}, {x}, {}, std::nullopt, true)[0];
  check_close(g1.to_vector(), V{-1, 0, 1});
  // x |x| has derivative 2|x| and second derivative 2 sign(x) (0 at 0).
  const auto [d1, d2] =
      first_and_second([](const DoubleTensor& t) { return eigrad::abs(t) * t; }, x);
  check_close(d1.to_vector(), V{3, 0, 4});
  check_close(d2.to_vector(), V{-2, 0, 2});
}

TEST_CASE("clamp passes the gradient where lo <= x <= hi and has second derivative 0",
          "[second_order][second_order_ops]") {
  check_second_order([](const Ts& t) { return eigrad::clamp(t[0], -1.0, 1.0) * t[0]; },
                     {leaf_away({2, 3}, -2, 2, {-1, 1}, 52)});
  DoubleTensor x = leaf({-2.0, -1.0, 0.5, 1.0, 3.0});
  // x clamp(x): derivative clamp(x) + x [lo <= x <= hi], second derivative 2 [lo <= x <= hi].
  const auto [g1, g2] =
      first_and_second([](const DoubleTensor& t) { return eigrad::clamp(t, -1.0, 1.0) * t; }, x);
  check_close(g1.to_vector(), V{-1, -2, 1, 2, 1});
  check_close(g2.to_vector(), V{0, 2, 2, 2, 0});
}

// ---------------------------------------------------------------- where

TEST_CASE("where's second derivatives go to the chosen side, broadcasting all three",
          "[second_order][second_order_ops]") {
  const struct {
    Shape c, a, b;
  } cases[] = {{{3}, {2, 3}, {2, 3}}, {{2, 1}, {3}, {2, 3}}, {{2, 3}, {}, {2, 1}},
               {{1, 3}, {2, 1}, {3}}, {{}, {2, 2}, {2, 2}},  {{1, 2, 2}, {1, 2, 2}, {2}}};
  uint64_t seed = 61;
  for (const auto& s : cases) {
    INFO("condition " << s.c.str() << " a " << s.a.str() << " b " << s.b.str());
    const eigrad::BoolTensor c = eigrad::gt(eigrad::test::random_values(s.c, seed), 0.0);
    check_second_order(squared([c](const Ts& t) { return eigrad::where(c, t[0], t[1]); }),
                       {random_leaf(s.a, seed + 1), random_leaf(s.b, seed + 2)});
    seed += 3;
  }
}

TEST_CASE("where's condition gets no gradient of any order", "[second_order][second_order_ops]") {
  // The condition is a bool tensor, which cannot require grad: no gradient to give it.
  const eigrad::BoolTensor c = eigrad::BoolTensor::from({true, false, true}, {3});
  DoubleTensor a = leaf({1, 2, 3}), b = leaf({4, 5, 6});
  const DoubleTensor y = eigrad::where(c, a * a, b * b * b);
  const auto g = eigrad::grad({eigrad::sum(y)}, {a, b}, {}, std::nullopt, true);
  check_close(g[0].to_vector(), V{2, 0, 6});
  check_close(g[1].to_vector(), V{0, 75, 0});
  const auto h = eigrad::grad({eigrad::sum(g[0] + g[1])}, {a, b});
  check_close(h[0].to_vector(), V{2, 0, 2});
  check_close(h[1].to_vector(), V{0, 30, 0});
}

// ---------------------------------------------------------------- reductions

TEST_CASE("sum and mean have second derivatives over all elements and along any axis",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 3, 2}, 71);
  check_second_order(squared([](const Ts& t) { return eigrad::sum(t[0]); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::mean(t[0]); }), {x});
  for (int axis : {0, 1, 2, -1, -3})
    for (bool keepdim : {false, true}) {
      INFO("axis " << axis << " keepdim " << keepdim);
      check_second_order(
          squared([axis, keepdim](const Ts& t) { return eigrad::sum(t[0], axis, keepdim); }), {x});
      check_second_order(
          squared([axis, keepdim](const Ts& t) { return eigrad::mean(t[0], axis, keepdim); }), {x});
    }
  // Batch 1, a size-1 axis reduced, and a scalar along axis 0.
  check_second_order(squared([](const Ts& t) { return eigrad::mean(t[0], 0); }),
                     {random_leaf({1, 5}, 72)});
  check_second_order(squared([](const Ts& t) { return eigrad::sum(t[0], -1, true); }),
                     {random_leaf({3, 1}, 73)});
  check_second_order(squared([](const Ts& t) { return eigrad::mean(t[0], 0); }),
                     {random_leaf({}, 74)});
}

TEST_CASE("mean along an axis has the Hessian of its closed form",
          "[second_order][second_order_ops]") {
  // f = sum_i (mean_j x_ij)^2: df/dx_ij = 2 m_i / n, d2f/dx_ij dx_ik = 2 / n^2.
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  const DoubleTensor m = eigrad::mean(x, 1);
  const DoubleTensor g = eigrad::grad({eigrad::sum(m * m)}, {x}, {}, std::nullopt, true)[0];
  check_close(g.to_vector(), V{4.0 / 3, 4.0 / 3, 4.0 / 3, 10.0 / 3, 10.0 / 3, 10.0 / 3});
  const DoubleTensor h = eigrad::grad({eigrad::sum(g)}, {x})[0];  // row sums of the Hessian
  for (double v : h.to_vector()) CHECK(v == Approx(2.0 / 3));
}

TEST_CASE("sum and mean over an empty axis record empty second derivatives",
          "[second_order][second_order_ops]") {
  DoubleTensor x = DoubleTensor::zeros({3, 0, 2}, true);
  for (bool average : {false, true}) {
    const DoubleTensor s = average ? eigrad::mean(x, 1, true) : eigrad::sum(x, 1);
    const DoubleTensor g =
        eigrad::grad({s}, {x}, {DoubleTensor::ones(s.shape(), true)}, std::nullopt, true)[0];
    CHECK(g.shape() == Shape{3, 0, 2});
  }
}

TEST_CASE("max and min over all elements have second derivatives where no entries tie",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 3}, 81);
  check_second_order(squared([](const Ts& t) { return eigrad::max(t[0]); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::min(t[0]); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::max(t[0]); }), {random_leaf({}, 82)});
}

TEST_CASE("max over all elements shares the second derivative evenly among ties",
          "[second_order][second_order_ops]") {
  // f = max(x)^2 with two maxima: df/dx = 2 m s where s = (0, 1/2, 1/2), d2f/dx2 = 2 s s^T.
  DoubleTensor x = leaf({1.0, 3.0, 3.0});
  const DoubleTensor m = eigrad::max(x);
  const DoubleTensor g = eigrad::grad({m * m}, {x}, {}, std::nullopt, true)[0];
  check_close(g.to_vector(), V{0, 3, 3});
  const DoubleTensor h = eigrad::grad({eigrad::sum(g)}, {x})[0];  // 2 s (sum of s = 1)
  check_close(h.to_vector(), V{0, 1, 1});
  DoubleTensor y = leaf({-2.0, 5.0, -2.0, -2.0});
  const DoubleTensor n = eigrad::min(y);
  const DoubleTensor gy = eigrad::grad({n * n * n}, {y}, {}, std::nullopt, true)[0];
  CHECK(gy.at({0}) == Approx(4.0));  // 3 n^2 / 3
  CHECK(gy.at({1}) == 0.0);
  const DoubleTensor hy = eigrad::grad({eigrad::sum(gy)}, {y})[0];  // 6 n s
  CHECK(hy.at({0}) == Approx(-4.0));
  CHECK(hy.at({1}) == 0.0);
}

TEST_CASE("max and min along an axis have second derivatives along any axis, keepdim or not",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 3, 2}, 83);
  for (int axis : {0, 1, -1})
    for (bool keepdim : {false, true}) {
      INFO("axis " << axis << " keepdim " << keepdim);
      check_second_order(
          squared([axis, keepdim](const Ts& t) { return eigrad::max(t[0], axis, keepdim); }), {x});
      check_second_order(
          squared([axis, keepdim](const Ts& t) { return eigrad::min(t[0], axis, keepdim); }), {x});
    }
  check_second_order(squared([](const Ts& t) { return eigrad::max(t[0], 1); }),
                     {random_leaf({1, 4}, 84)});
  check_second_order(squared([](const Ts& t) { return eigrad::min(t[0], -1); }),
                     {random_leaf({}, 85)});
}

TEST_CASE("max along an axis sends the second derivative to the first maximum",
          "[second_order][second_order_ops]") {
  // f = sum_i max_j(x_ij)^3: the gradient 3 m_i^2 and the second derivative 6 m_i go to the
  // first maximum of each row.
  DoubleTensor x = DoubleTensor::from({1, 2, 2, -1, -3, -1}, {2, 3}, true);
  const DoubleTensor m = eigrad::max(x, 1);
  const DoubleTensor g = eigrad::grad({eigrad::sum(m * m * m)}, {x}, {}, std::nullopt, true)[0];
  check_close(g.to_vector(), V{0, 12, 0, 3, 0, 0});
  const DoubleTensor h = eigrad::grad({eigrad::sum(g)}, {x})[0];
  check_close(h.to_vector(), V{0, 12, 0, -6, 0, 0});
}

// ---------------------------------------------------------------- shape ops

TEST_CASE("transpose and permute have second derivatives", "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 3, 2}, 91);
  check_second_order(squared([](const Ts& t) { return eigrad::transpose(t[0], 0, 2); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::transpose(t[0], -1, 1); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::transpose(t[0], 1, 1); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::permute(t[0], {2, 0, 1}); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::permute(t[0], {-1, -2, 0}); }), {x});
  check_second_order(squared([](const Ts& t) {
                       return eigrad::permute(t[0], {1, 0, 2});
                     }),
                     {random_leaf({1, 3, 2}, 92)});
}

TEST_CASE("reshape, flatten, unsqueeze and squeeze have second derivatives",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 1, 3}, 93);
  check_second_order(squared([](const Ts& t) { return eigrad::reshape(t[0], {3, -1}); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::flatten(t[0]); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::flatten(t[0], 1); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::unsqueeze(t[0], -1); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::unsqueeze(t[0], 0); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::squeeze(t[0]); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::squeeze(t[0], 1); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::squeeze(t[0], -2); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::squeeze(t[0], 0); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::flatten(t[0]); }),
                     {random_leaf({}, 94)});
}

TEST_CASE("broadcast_to and sum_to_size have second derivatives",
          "[second_order][second_order_ops]") {
  check_second_order(squared([](const Ts& t) {
                       return eigrad::broadcast_to(t[0], {2, 3, 2});
                     }),
                     {random_leaf({3, 1}, 95)});
  check_second_order(squared([](const Ts& t) {
                       return eigrad::sum_to_size(t[0], {1, 2});
                     }),
                     {random_leaf({3, 2}, 96)});
}

TEST_CASE("narrow has second derivatives along any axis, from negative starts too",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 4, 3}, 101);
  check_second_order(squared([](const Ts& t) { return eigrad::narrow(t[0], 1, 1, 2); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::narrow(t[0], -1, -2, 2); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::narrow(t[0], 0, 1, 1); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::narrow(t[0], 2, 0, 0); }), {x});
  check_second_order(squared([](const Ts& t) { return eigrad::narrow(t[0], 0, 0, 1); }),
                     {random_leaf({1, 5}, 102)});
}

TEST_CASE("pad has second derivatives where it pads, crops or both",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({2, 3}, 103);
  for (const std::vector<int64_t>& amounts : std::vector<std::vector<int64_t>>{
           {1, 2}, {-1, 0}, {-1, 2, 1, 0}, {0, -2, -1, 1}, {-5, 3}, {}, {2, -3}}) {
    INFO("pad " << amounts.size());
    check_second_order(squared([amounts](const Ts& t) { return eigrad::pad(t[0], amounts, 1.5); }),
                       {x});
  }
  check_second_order(squared([](const Ts& t) {
                       return eigrad::pad(t[0], {1, 1, 0, 0, 1, 0});
                     }),
                     {random_leaf({1, 2, 2}, 104)});
}

TEST_CASE("pad's gradient is pad by the opposite amounts, to every order",
          "[second_order][second_order_ops]") {
  // The first derivative's graph backward is itself a pad: the third derivative goes through
  // pad's adjoint twice.
  check_third_order(
      [](const Ts& t) {
        const DoubleTensor p = eigrad::pad(t[0], {-1, 2, 1, -1}, 0.5);
        return p * p * p;
      },
      random_leaf({3, 3}, 105));
}

TEST_CASE("cat has second derivatives along any axis, inputs of different sizes",
          "[second_order][second_order_ops]") {
  const DoubleTensor a = random_leaf({2, 2}, 111), b = random_leaf({2, 3}, 112),
                     c = random_leaf({1, 3}, 113);
  check_second_order(squared([](const Ts& t) {
                       return eigrad::cat<double>({t[0], t[1]}, 1);
                     }),
                     {a, b});
  check_second_order(squared([](const Ts& t) {
                       return eigrad::cat<double>({t[0], t[1], t[0]}, -1);
                     }),
                     {a, b});
  check_second_order(squared([](const Ts& t) {
                       return eigrad::cat<double>({t[0], t[1]}, 0);
                     }),
                     {b, c});
  // An input that does not require grad, and a single input.
  const DoubleTensor fixed = random_leaf({2, 1}, 114).detach();
  check_second_order(squared([fixed](const Ts& t) {
                       return eigrad::cat<double>({fixed, t[0]}, 1);
                     }),
                     {b});
  check_second_order(squared([](const Ts& t) { return eigrad::cat<double>({t[0]}, 0); }), {c});
}

TEST_CASE("cat's third derivative goes through narrow and pad",
          "[second_order][second_order_ops]") {
  check_third_order(
      [](const Ts& t) {
        const DoubleTensor y = eigrad::cat<double>({t[0], t[0] * t[0]}, -1);
        return y * y * y;
      },
      random_leaf({2, 2}, 115));
}

TEST_CASE("stack has second derivatives along any new axis", "[second_order][second_order_ops]") {
  const DoubleTensor a = random_leaf({2, 3}, 121), b = random_leaf({2, 3}, 122);
  for (int axis : {0, 1, 2, -1, -3}) {
    INFO("axis " << axis);
    check_second_order(squared([axis](const Ts& t) {
                         return eigrad::stack<double>({t[0], t[1], t[0]}, axis);
                       }),
                       {a, b});
  }
  check_second_order(squared([](const Ts& t) {
                       return eigrad::stack<double>({t[0], t[1]}, 0);
                     }),
                     {random_leaf({}, 123), random_leaf({}, 124)});
}

TEST_CASE("index_select has second derivatives with repeated and skipped indices",
          "[second_order][second_order_ops]") {
  const DoubleTensor x = random_leaf({3, 2, 2}, 131);
  check_second_order(squared([](const Ts& t) {
                       return eigrad::index_select(t[0], 0, {2, 0, 2});
                     }),
                     {x});
  check_second_order(squared([](const Ts& t) { return eigrad::index_select(t[0], -1, {1}); }), {x});
  check_second_order(squared([](const Ts& t) {
                       return eigrad::index_select(t[0], 1, {1, 1, 0, 1});
                     }),
                     {x});
  check_second_order(squared([](const Ts& t) { return eigrad::index_select(t[0], 0, {}); }), {x});
  check_second_order(squared([](const Ts& t) {
                       return eigrad::index_select(t[0], 0, {0, 0});
                     }),
                     {random_leaf({1, 3}, 132)});
}

TEST_CASE("index_select's gradient scatters by index and is differentiable to every order",
          "[second_order][second_order_ops]") {
  // f = sum(index_select(x, 0, {1, 1, 0})^3): rows 0 and 1 of the [2, 2] x appear 1 and 2 times.
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, {2, 2}, true);
  const DoubleTensor y = eigrad::index_select(x, 0, {1, 1, 0});
  const DoubleTensor g = eigrad::grad({eigrad::sum(y * y * y)}, {x}, {}, std::nullopt, true)[0];
  check_close(g.to_vector(), V{3, 12, 54, 96});  // count * 3 x^2
  const DoubleTensor h = eigrad::grad({eigrad::sum(g)}, {x}, {}, std::nullopt, true)[0];
  check_close(h.to_vector(), V{6, 12, 36, 48});  // count * 6 x
  const DoubleTensor k = eigrad::grad({eigrad::sum(h)}, {x})[0];
  check_close(k.to_vector(), V{6, 6, 12, 12});  // count * 6
  check_third_order(
      [](const Ts& t) {
        const DoubleTensor s = eigrad::index_select(t[0], 1, {2, 0, 0, 1});
        return s * s * s;
      },
      random_leaf({2, 3}, 133));
}

// ---------------------------------------------------------------- float32

TEST_CASE("float32 second derivatives match float64 finite differences",
          "[second_order][second_order_ops]") {
  const auto f32 = [](const std::vector<Tensor>& t) {
    return eigrad::log(eigrad::sum(t[0] / t[1], 1) * eigrad::sum(t[0] / t[1], 1) + 1.0f);
  };
  const auto f64 = [](const Ts& t) {
    return eigrad::log(eigrad::sum(t[0] / t[1], 1) * eigrad::sum(t[0] / t[1], 1) + 1.0);
  };
  eigrad::GradcheckOptions options;
  options.atol = 1e-3;
  options.rtol = 1e-2;
  const eigrad::GradcheckReport r = eigrad::gradgradcheck_float32(
      f32, f64, {random_leaf({2, 3}, 141), random_leaf({3}, 142, 0.5, 2)}, {}, options);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}
