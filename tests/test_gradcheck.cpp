// gradcheck on user-written ops: it passes right backwards, catches wrong ones (in any input, in
// cross terms of the Jacobian), reports the worst element, throws on request; the float32 variant;
// drawing points away from kinks; gradgradcheck.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/ops.hpp"

using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;

namespace {

// y = x^3, whose backward multiplies by `factor` x^2 (3 is right).
template <class T>
BasicTensor<T> cube(const BasicTensor<T>& x, T factor = 3) {
  auto y = BasicTensor<T>::empty(x.shape());
  y.mutable_array() = x.array().cube();
  if (eigrad::detail::needs_grad(x))
    eigrad::detail::record("cube", y, {&x}, [factor, xs = x.storage()](const auto& g, auto& s) {
      s.add(0, g * factor * xs->square());
    });
  return y;
}

// y = a * b elementwise, whose gradient for b is scaled by `b_factor` (1 is right).
DoubleTensor product(const DoubleTensor& a, const DoubleTensor& b, double b_factor = 1) {
  auto y = DoubleTensor::empty(a.shape());
  y.mutable_array() = a.array() * b.array();
  if (eigrad::detail::needs_grad(a, b))
    eigrad::detail::record("product", y, {&a, &b},
                           [b_factor, as = a.storage(), bs = b.storage()](const auto& g, auto& s) {
                             s.add(0, g * *bs);
                             s.add(1, g * *as * b_factor);
                           });
  return y;
}

// y_j = x_j * sum(x), whose backward forgets the cross terms unless `full`.
DoubleTensor scaled_by_sum(const DoubleTensor& x, bool full) {
  auto y = DoubleTensor::empty(x.shape());
  const double total = x.array().sum();
  y.mutable_array() = x.array() * total;
  if (eigrad::detail::needs_grad(x))
    eigrad::detail::record("scaled_by_sum", y, {&x},
                           [full, total, xs = x.storage()](const auto& g, auto& s) {
                             // d y_j / d x_i = [i = j] total + x_j
                             if (full)
                               s.add(0, g * total + (g * *xs).sum());
                             else
                               s.add(0, g * total);
                           });
  return y;
}

DoubleTensor leaf(std::vector<double> values) {
  const Shape shape{static_cast<int64_t>(values.size())};
  return DoubleTensor::from(std::move(values), shape, true);
}

}  // namespace

TEST_CASE("gradcheck's defaults are eps 1e-6, atol 1e-5 and rtol 1e-3", "[gradcheck]") {
  const eigrad::GradcheckOptions options;
  CHECK(options.eps == 1e-6);
  CHECK(options.atol == 1e-5);
  CHECK(options.rtol == 1e-3);
  CHECK_FALSE(options.raise);
}

TEST_CASE("gradcheck passes a user-written op with a right backward", "[gradcheck]") {
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      [](const std::vector<DoubleTensor>& in) { return cube(in[0]); }, {leaf({-1.5, 0.5, 2})});
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked == 9);  // the full 3 x 3 Jacobian
  CHECK(r.max_abs_error < 1e-6);
}

TEST_CASE("gradcheck catches a wrong backward and reports the worst element", "[gradcheck]") {
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      [](const std::vector<DoubleTensor>& in) { return cube(in[0], 2.0); }, {leaf({-1.5, 0.5, 2})});
  CHECK_FALSE(r.passed);
  // The error x^2 is largest at x = 2: analytic 2 * 4, numeric 3 * 4.
  CHECK(r.worst_input == 0);
  CHECK(r.worst_element == 2);
  CHECK(r.worst_output == 2);
  CHECK(r.analytic == Approx(8));
  CHECK(r.numeric == Approx(12).epsilon(1e-6));
  CHECK(r.max_abs_error == Approx(4).epsilon(1e-6));
  CHECK(r.max_rel_error == Approx(1.0 / 3).epsilon(1e-6));
  CHECK_THAT(r.str(), Catch::Contains("FAILED") && Catch::Contains("input 0 element 2"));
}

TEST_CASE("gradcheck throws the report when asked to", "[gradcheck]") {
  eigrad::GradcheckOptions options;
  options.raise = true;
  CHECK_THROWS_WITH(
      eigrad::gradcheck([](const std::vector<DoubleTensor>& in) { return cube(in[0], 2.0); },
                        {leaf({1, 2})}, options),
      Catch::Contains("gradcheck FAILED") && Catch::Contains("analytic 8") &&
          Catch::Contains("numeric 12"));
  CHECK_NOTHROW(eigrad::gradcheck([](const std::vector<DoubleTensor>& in) { return cube(in[0]); },
                                  {leaf({1, 2})}, options));
}

TEST_CASE("gradcheck checks every input that requires grad", "[gradcheck]") {
  auto wrong_b = [](const std::vector<DoubleTensor>& in) { return product(in[0], in[1], 2.0); };
  const eigrad::GradcheckReport r = eigrad::gradcheck(wrong_b, {leaf({1, -2}), leaf({3, 0.5})});
  CHECK_FALSE(r.passed);
  CHECK(r.worst_input == 1);
  CHECK(r.checked == 8);

  // b held fixed: its wrong gradient is not looked at.
  const DoubleTensor fixed_b = DoubleTensor::from({3, 0.5});
  const eigrad::GradcheckReport only_a = eigrad::gradcheck(wrong_b, {leaf({1, -2}), fixed_b});
  CHECK(only_a.passed);
  CHECK(only_a.checked == 4);
}

TEST_CASE("gradcheck compares the full Jacobian, cross terms included", "[gradcheck]") {
  const std::vector<DoubleTensor> x = {leaf({0.5, -1, 2})};
  CHECK(eigrad::gradcheck(
            [](const std::vector<DoubleTensor>& in) { return scaled_by_sum(in[0], true); }, x)
            .passed);
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      [](const std::vector<DoubleTensor>& in) { return scaled_by_sum(in[0], false); }, x);
  CHECK_FALSE(r.passed);
  CHECK(r.worst_element != r.worst_output);  // an off-diagonal entry: analytic 0
  CHECK(r.analytic == 0);
}

TEST_CASE("gradcheck leaves its inputs and their gradients untouched", "[gradcheck]") {
  DoubleTensor x = leaf({1, 2});
  eigrad::gradcheck([](const std::vector<DoubleTensor>& in) { return cube(in[0]); }, {x});
  CHECK(x.to_vector() == std::vector<double>{1, 2});
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("gradcheck rejects a non-positive eps", "[gradcheck]") {
  eigrad::GradcheckOptions options;
  options.eps = 0;
  CHECK_THROWS_WITH(eigrad::gradcheck([](const std::vector<DoubleTensor>& in) { return in[0]; },
                                      {leaf({1})}, options),
                    Catch::Contains("eps must be positive"));
}

TEST_CASE("gradcheck_float32 checks a float32 backward against float64 differences",
          "[gradcheck]") {
  const std::vector<DoubleTensor> x = {leaf({-1.5, 0.3, 2})};
  auto f64 = [](const std::vector<DoubleTensor>& in) { return cube(in[0]); };
  const eigrad::GradcheckReport right =
      eigrad::gradcheck_float32([](const std::vector<Tensor>& in) { return cube(in[0]); }, f64, x);
  INFO(right.str());
  CHECK(right.passed);
  CHECK(right.checked == 9);
  const eigrad::GradcheckReport wrong = eigrad::gradcheck_float32(
      [](const std::vector<Tensor>& in) { return cube(in[0], 2.0f); }, f64, x);
  CHECK_FALSE(wrong.passed);
}

TEST_CASE("uniform_away_from keeps every value a margin away from the points to avoid",
          "[gradcheck]") {
  Generator a(1), b(1);
  const std::vector<double> avoid = {-1, 0, 0.5};
  const DoubleTensor x = eigrad::uniform_away_from({50, 20}, -2, 2, avoid, 0.1, a);
  for (double v : x.to_vector()) {
    CHECK(v >= -2);
    CHECK(v <= 2);
    for (double k : avoid) CHECK(std::fabs(v - k) >= 0.1);
  }
  CHECK(eigrad::uniform_away_from({50, 20}, -2, 2, avoid, 0.1, b).to_vector() == x.to_vector());
  CHECK_THROWS_WITH(eigrad::uniform_away_from({2}, -1, 1, {0}, 2, a),
                    Catch::Contains("uniform_away_from: found no value"));
}

TEST_CASE("gradcheck refuses to run when no input requires grad", "[gradcheck]") {
  const auto f = [](const std::vector<DoubleTensor>& in) { return cube(in[0]); };
  const DoubleTensor x = DoubleTensor::from({1.0, 2.0});  // requires_grad is false
  CHECK_THROWS_AS(eigrad::gradcheck(f, {x}), Error);
  CHECK_THROWS_WITH(eigrad::gradcheck(f, {x}), Catch::Contains("gradcheck") &&
                                                   Catch::Contains("none of the 1 inputs") &&
                                                   Catch::Contains("set_requires_grad"));
  const auto f32 = [](const std::vector<Tensor>& in) { return cube(in[0]); };
  CHECK_THROWS_WITH(eigrad::gradcheck_float32(f32, f, {x}),
                    Catch::Contains("gradcheck_float32") && Catch::Contains("requires grad"));
}

TEST_CASE("a passing gradcheck reports the entry with the largest error as its worst",
          "[gradcheck]") {
  // y = x^3 with backward 3.0001 x^2: at x = (0, 10) the Jacobian is diag(0, 300); only the
  // entry of element 1 has an error (0.01, within rtol 1e-3 of 300), the other entries are
  // exactly 0 on both sides.
  const auto f = [](const std::vector<DoubleTensor>& in) { return cube(in[0], 3.0001); };
  const eigrad::GradcheckReport r = eigrad::gradcheck(f, {leaf({0.0, 10.0})});
  REQUIRE(r.passed);
  CHECK(r.worst_element == 1);
  CHECK(r.worst_output == 1);
  CHECK(r.analytic == Approx(300.01).epsilon(1e-9));
  CHECK(std::fabs(r.analytic - r.numeric) == Approx(r.max_abs_error));
}

TEST_CASE("a failing gradcheck reports the failing entry with the largest error", "[gradcheck]") {
  // backward 4 x^2 instead of 3 x^2 at x = (1, 0.001, 2): errors 1, 1e-6 (passes atol) and 4.
  const auto f = [](const std::vector<DoubleTensor>& in) { return cube(in[0], 4.0); };
  const eigrad::GradcheckReport r = eigrad::gradcheck(f, {leaf({1.0, 0.001, 2.0})});
  REQUIRE_FALSE(r.passed);
  CHECK(r.worst_element == 2);
  CHECK(r.analytic == Approx(16));
  CHECK(r.numeric == Approx(12).epsilon(1e-6));
}

namespace {
// y = x^3 with a graph backward g * 3 x^2, where x^2 is either computed in eigrad ops or (wrong)
// a constant outside the graph, so that the gradient's own derivative in x is lost.
DoubleTensor cube_graph(const DoubleTensor& x, bool constant_square) {
  auto y = DoubleTensor::empty(x.shape());
  y.mutable_array() = x.array().cube();
  if (eigrad::detail::needs_grad(x))
    eigrad::detail::record(
        "cube_graph", y, {&x}, eigrad::detail::Saves().input(0),
        [xs = x.storage()](const auto& g, auto& s) { s.add(0, g * 3 * xs->square()); },
        [constant_square, shape = x.shape(), xs = x.storage()](
            eigrad::detail::GraphContext<double>& c, const DoubleTensor& g) {
          const DoubleTensor in = c.input(0);
          const DoubleTensor square =
              constant_square ? DoubleTensor::from_storage(
                                    std::make_shared<DoubleTensor::Array>(xs->square()), shape)
                              : in * in;
          return std::vector<DoubleTensor>{g * square * 3.0};
        });
  return y;
}
}  // namespace

TEST_CASE("gradgradcheck passes a right graph backward and catches one that drops a dependence",
          "[gradcheck][second_order]") {
  const std::vector<DoubleTensor> x = {leaf({-1.5, 0.3, 2})};
  const eigrad::GradcheckReport right = eigrad::gradgradcheck(
      [](const std::vector<DoubleTensor>& in) { return cube_graph(in[0], false); }, x);
  INFO(right.str());
  CHECK(right.passed);
  CHECK(right.checked == 18);  // 3 gradient entries by 3 inputs and 3 grad_outputs
  const eigrad::GradcheckReport wrong = eigrad::gradgradcheck(
      [](const std::vector<DoubleTensor>& in) { return cube_graph(in[0], true); }, x);
  CHECK_FALSE(wrong.passed);
  CHECK(wrong.analytic == 0);  // d(3 x^2 v)/dx = 6 x v, lost
  CHECK(wrong.numeric != 0);
}

TEST_CASE("gradgradcheck checks a third derivative through a function that takes a gradient",
          "[gradcheck][second_order]") {
  // x -> d sum(x^4) / dx = 4 x^3, recorded; no grad_outputs, so gradgradcheck evaluates it once
  // to find its shape.
  const auto first = [](const std::vector<DoubleTensor>& in) {
    const DoubleTensor& x = in[0];
    return eigrad::grad({eigrad::sum(x * x * x * x)}, {x}, {}, std::nullopt, true)[0];
  };
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(first, {leaf({-1.5, 0.3, 2})});
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked == 18);
}
