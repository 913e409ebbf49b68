// eigrad::grad, create_graph and the engine's second-order behaviour. The values are derived by
// hand (polynomials and exp, whose derivatives are known in closed form).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/function.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/ops.hpp"

using Catch::Matchers::Contains;
using eigrad::DoubleTensor;
using eigrad::Error;

namespace {
DoubleTensor leaf(std::vector<double> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return DoubleTensor::from(std::move(values), {n}, /*requires_grad=*/true);
}
DoubleTensor cube(const DoubleTensor& x) {
  return x * x * x;
}
}  // namespace

TEST_CASE("grad returns first, second and third derivatives of x^3 with create_graph",
          "[second_order]") {
  DoubleTensor x = leaf({-1.5, 0.5, 2.0});
  DoubleTensor y = eigrad::sum(cube(x));
  auto g1 = eigrad::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true);
  REQUIRE(g1.size() == 1);
  REQUIRE(g1[0].requires_grad());
  auto g2 = eigrad::grad({eigrad::sum(g1[0])}, {x}, {}, std::nullopt, true);
  auto g3 = eigrad::grad({eigrad::sum(g2[0])}, {x});
  const std::vector<double> xs{-1.5, 0.5, 2.0};
  for (int i = 0; i < 3; ++i) {
    const double v = xs[static_cast<size_t>(i)];
    CHECK(g1[0].at({i}) == Approx(3 * v * v));
    CHECK(g2[0].at({i}) == Approx(6 * v));
    CHECK(g3[0].at({i}) == Approx(6.0));
  }
}

TEST_CASE("grad leaves every leaf's .grad untouched", "[second_order]") {
  DoubleTensor x = leaf({1.0, 2.0});
  DoubleTensor w = leaf({3.0, 4.0});
  auto g = eigrad::grad({eigrad::sum(x * w)}, {x});
  CHECK(g[0].at({0}) == 3.0);
  CHECK(g[0].at({1}) == 4.0);
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("grad sums grad_outputs times the Jacobians of several outputs", "[second_order]") {
  DoubleTensor x = leaf({1.0, -2.0});
  DoubleTensor y1 = x * x;           // dy1/dx = 2x (diagonal)
  DoubleTensor y2 = eigrad::exp(x);  // dy2/dx = exp(x)
  DoubleTensor v1 = DoubleTensor::from({1.0, 2.0}, {2});
  DoubleTensor v2 = DoubleTensor::from({0.5, -1.0}, {2});
  auto g = eigrad::grad({y1, y2}, {x}, {v1, v2});
  CHECK(g[0].at({0}) == Approx(1.0 * 2 * 1.0 + 0.5 * std::exp(1.0)));
  CHECK(g[0].at({1}) == Approx(2.0 * 2 * -2.0 - 1.0 * std::exp(-2.0)));
}

TEST_CASE("backward with create_graph accumulates a gradient that can be differentiated again",
          "[second_order]") {
  DoubleTensor x = leaf({0.5, -1.0});
  eigrad::sum(eigrad::exp(x * x)).backward({}, false, /*create_graph=*/true);
  const DoubleTensor gx = x.grad();  // 2 x exp(x^2)
  REQUIRE(gx.requires_grad());
  CHECK(gx.at({0}) == Approx(2 * 0.5 * std::exp(0.25)));
  auto h = eigrad::grad({eigrad::sum(gx)}, {x});  // (2 + 4 x^2) exp(x^2)
  CHECK(h[0].at({0}) == Approx((2 + 4 * 0.25) * std::exp(0.25)));
  CHECK(h[0].at({1}) == Approx((2 + 4 * 1.0) * std::exp(1.0)));
}

TEST_CASE("a Hessian-vector product through broadcasting matches the closed form",
          "[second_order]") {
  // f(x, b) = sum((x * b)^2) with b broadcast over rows: d2f/dx2 = 2 b^2 (diagonal).
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  DoubleTensor b = DoubleTensor::from({0.5, -1, 2}, {3}, true);
  DoubleTensor z = x * b;
  auto g = eigrad::grad({eigrad::sum(z * z)}, {x, b}, {}, std::nullopt, true);
  DoubleTensor v = DoubleTensor::ones({2, 3});
  auto hv = eigrad::grad({eigrad::sum(g[0] * v)}, {x, b});
  const double bs[3] = {0.5, -1, 2};
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const double xv = x.at({i, j}), bj = bs[j];
      CHECK(hv[0].at({i, j}) == Approx(2 * bj * bj));
      (void)xv;
    }
  // d/db_j of sum_ij 2 x_ij b_j^2 = sum_i 4 x_ij b_j
  for (int64_t j = 0; j < 3; ++j)
    CHECK(hv[1].at({j}) == Approx(4 * bs[j] * (x.at({0, j}) + x.at({1, j}))));
}

TEST_CASE("grad rejects bad arguments with errors naming them and writes no .grad",
          "[second_order][errors]") {
  DoubleTensor x = leaf({1.0, 2.0});
  DoubleTensor y = x * x;
  CHECK_THROWS_WITH(eigrad::grad({y}, {x}),
                    Contains("output 0 has shape [2]") && Contains("grad_outputs"));
  CHECK_THROWS_WITH(eigrad::grad({y}, {x}, {DoubleTensor::ones({3})}),
                    Contains("grad_outputs[0] has shape [3]") && Contains("[2]"));
  CHECK_THROWS_WITH(eigrad::grad({y, y}, {x}, {DoubleTensor::ones({2})}),
                    Contains("2 output(s) but 1 grad_outputs"));
  DoubleTensor c = DoubleTensor::from({1.0, 2.0}, {2});
  CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(y)}, {c}),
                    Contains("input 0") && Contains("does not require grad"));
  DoubleTensor unused = leaf({5.0});
  CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(y)}, {x, unused}),
                    Contains("input 1") && Contains("allow_unused"));
  auto g = eigrad::grad({eigrad::sum(y)}, {x, unused}, {}, true, false, /*allow_unused=*/true);
  CHECK(g[0].at({1}) == 4.0);
  CHECK_FALSE(g[1].defined());
  {
    eigrad::NoGradGuard guard;
    CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(y)}, {x}, {}, std::nullopt, true),
                      Contains("create_graph") && Contains("NoGradGuard"));
  }
  DoubleTensor s = eigrad::sum(y);
  eigrad::grad({s}, {x});  // frees the graph
  CHECK_THROWS_WITH(eigrad::grad({s}, {x}), Contains("a second time"));
  CHECK_FALSE(x.grad().defined());
}

namespace {
// An op recorded without a graph backward, as a registered activation is: differentiable once.
DoubleTensor square_once(const DoubleTensor& x) {
  DoubleTensor y = DoubleTensor::empty(x.shape());
  y.mutable_array() = x.array().square();
  if (eigrad::detail::needs_grad(x))
    eigrad::detail::record("square_once", y, {&x}, eigrad::detail::Saves().input(0),
                           [xs = x.storage()](const auto& g, auto& s) { s.add(0, 2 * g * *xs); });
  return y;
}
}  // namespace

TEST_CASE("a second backward through an op without a graph backward is an error naming it",
          "[second_order][errors]") {
  DoubleTensor x = leaf({1.5, -0.5});
  auto g = eigrad::grad({eigrad::sum(square_once(x))}, {x}, {}, std::nullopt, true);
  CHECK(g[0].at({0}) == Approx(3.0));  // the first derivative is still right
  CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(g[0])}, {x}),
                    Contains("square_once") && Contains("cannot be differentiated"));
  CHECK_THROWS_WITH(eigrad::sum(g[0] * g[0]).backward(), Contains("square_once"));
}

namespace {
struct CubeOps : eigrad::Function<CubeOps> {
  static constexpr const char* name = "cube_ops";
  template <class T>
  static eigrad::BasicTensor<T> forward(eigrad::AutogradContext<T>& ctx,
                                        const eigrad::BasicTensor<T>& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  template <class T>
  static std::vector<eigrad::BasicTensor<T>> backward(
      eigrad::AutogradContext<T>& ctx, const std::vector<eigrad::BasicTensor<T>>& grads) {
    const eigrad::BasicTensor<T> x = ctx.get_saved_variables()[0];
    return {grads[0] * x * x * 3.0};
  }
};
struct CubeRaw : eigrad::Function<CubeRaw> {
  static constexpr const char* name = "cube_raw";
  template <class T>
  static eigrad::BasicTensor<T> forward(eigrad::AutogradContext<T>& ctx,
                                        const eigrad::BasicTensor<T>& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  template <class T>
  static std::vector<eigrad::BasicTensor<T>> backward(
      eigrad::AutogradContext<T>& ctx, const std::vector<eigrad::BasicTensor<T>>& grads) {
    const eigrad::BasicTensor<T> x = ctx.get_saved_variables()[0];
    auto dx = eigrad::BasicTensor<T>::empty(x.shape());
    dx.mutable_array() = grads[0].array() * x.array().square() * 3.0;
    return {dx};
  }
};
}  // namespace

TEST_CASE("a Function whose backward uses eigrad ops is differentiable twice",
          "[second_order][function]") {
  DoubleTensor x = leaf({2.0, -1.0});
  auto g = eigrad::grad({eigrad::sum(CubeOps::apply(x))}, {x}, {}, std::nullopt, true);
  CHECK(g[0].at({0}) == Approx(12.0));
  auto h = eigrad::grad({eigrad::sum(g[0])}, {x});
  CHECK(h[0].at({0}) == Approx(12.0));  // 6 x
  CHECK(h[0].at({1}) == Approx(-6.0));
}

TEST_CASE("a Function whose backward computes outside eigrad's ops fails a second backward",
          "[second_order][function][errors]") {
  DoubleTensor x = leaf({2.0, -1.0});
  auto g = eigrad::grad({eigrad::sum(CubeRaw::apply(x))}, {x}, {}, std::nullopt, true);
  CHECK(g[0].at({0}) == Approx(12.0));
  CHECK_THROWS_WITH(eigrad::grad({eigrad::sum(g[0])}, {x}),
                    Contains("cube_raw") && Contains("cannot be differentiated"));
}

namespace {
// Right first-order kernel, graph backward off by a factor: 3 g x instead of 2 g x.
DoubleTensor square_wrong_graph(const DoubleTensor& x) {
  DoubleTensor y = DoubleTensor::empty(x.shape());
  y.mutable_array() = x.array().square();
  if (eigrad::detail::needs_grad(x))
    eigrad::detail::record(
        "square_wrong_graph", y, {&x}, eigrad::detail::Saves().input(0),
        [xs = x.storage()](const auto& g, auto& s) { s.add(0, 2 * g * *xs); },
        [](eigrad::detail::GraphContext<double>& c, const DoubleTensor& g) {
          return std::vector<DoubleTensor>{g * c.input(0) * 3.0};
        });
  return y;
}
}  // namespace

TEST_CASE("gradgradcheck passes true second derivatives and fails a wrong graph backward",
          "[second_order][gradcheck]") {
  const DoubleTensor x = leaf({0.5, -1.25, 2.0});
  auto f = [](const std::vector<DoubleTensor>& in) { return cube(in[0]) * eigrad::exp(in[0]); };
  CHECK(eigrad::gradgradcheck(f, {x}).passed);
  // Third order: the first derivative, taken with create_graph inside the function.
  auto first = [](const std::vector<DoubleTensor>& in) {
    return eigrad::grad({eigrad::sum(cube(in[0]))}, {in[0]}, {}, std::nullopt, true)[0];
  };
  CHECK(eigrad::gradgradcheck(first, {x}).passed);
  auto wrong = [](const std::vector<DoubleTensor>& in) { return square_wrong_graph(in[0]); };
  const eigrad::GradcheckReport report = eigrad::gradgradcheck(wrong, {x});
  CHECK_FALSE(report.passed);
  CHECK(report.analytic == Approx(1.5 * report.numeric));  // 3 g x against 2 g x
  eigrad::GradcheckOptions raise;
  raise.raise = true;
  CHECK_THROWS_WITH(eigrad::gradgradcheck(wrong, {x}, {}, raise),
                    Contains("differs from the first-order"));
}
