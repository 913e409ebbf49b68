// layer_norm and nn::LayerNorm: values against mean and variance computed by hand in loops,
// first and second derivatives against float64 finite differences, float32 against float64,
// the module's parameters and every error message.
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

// The reference: rows of n values normalised with their mean and biased variance (written out as
// loops), then * w[j] + b[j] (w, b empty: none).
V naive_layer_norm(const V& x, int64_t n, const V& w, const V& b, double eps) {
  V y(x.size());
  for (size_t r = 0; r * static_cast<size_t>(n) < x.size(); ++r) {
    const size_t o = r * static_cast<size_t>(n);
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mean += x[o + static_cast<size_t>(j)];
    mean /= static_cast<double>(n);
    for (int64_t j = 0; j < n; ++j) {
      const double d = x[o + static_cast<size_t>(j)] - mean;
      var += d * d;
    }
    var /= static_cast<double>(n);
    for (size_t j = 0; j < static_cast<size_t>(n); ++j) {
      double v = (x[o + j] - mean) / std::sqrt(var + eps);
      if (!w.empty()) v *= w[j];
      if (!b.empty()) v += b[j];
      y[o + j] = v;
    }
  }
  return y;
}

void check_first_and_second_order(const eigrad::GradcheckFunction& f, const Ts& inputs) {
  const eigrad::GradcheckReport first = eigrad::gradcheck(f, inputs);
  INFO(first.str());
  CHECK(first.passed);
  CHECK(first.checked > 0);
  const eigrad::GradcheckReport second = eigrad::gradgradcheck(f, inputs);
  INFO(second.str());
  CHECK(second.passed);
  CHECK(second.checked > 0);
}

}  // namespace

TEST_CASE("layer_norm normalises each row over the trailing axes", "[layer_norm]") {
  // One row by hand: [1, 2, 3, 4] has mean 2.5 and biased variance 1.25.
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, Shape{1, 4});
  const double s = 1 / std::sqrt(1.25 + 1e-5);
  check_close(eigrad::layer_norm(x, {4}).to_vector(), {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s},
              1e-12);

  const DoubleTensor a = random_values(Shape{2, 3, 4}, 1, -3, 3);
  const DoubleTensor w3 = random_values(Shape{4}, 2), b3 = random_values(Shape{4}, 3);
  check_close(eigrad::layer_norm(a, {4}).to_vector(),
              naive_layer_norm(a.to_vector(), 4, {}, {}, 1e-5), 1e-12);
  check_close(eigrad::layer_norm(a, {4}, w3, b3, 1e-3).to_vector(),
              naive_layer_norm(a.to_vector(), 4, w3.to_vector(), b3.to_vector(), 1e-3), 1e-12);
  const DoubleTensor w12 = random_values(Shape{3, 4}, 4), b12 = random_values(Shape{3, 4}, 5);
  const DoubleTensor y = eigrad::layer_norm(a, {3, 4}, w12, b12);
  CHECK(y.shape() == Shape{2, 3, 4});
  check_close(y.to_vector(),
              naive_layer_norm(a.to_vector(), 12, w12.to_vector(), b12.to_vector(), 1e-5), 1e-12);
  check_close(eigrad::layer_norm(a, {2, 3, 4}).to_vector(),
              naive_layer_norm(a.to_vector(), 24, {}, {}, 1e-5), 1e-12);
  // Weight alone and bias alone.
  check_close(eigrad::layer_norm(a, {4}, w3).to_vector(),
              naive_layer_norm(a.to_vector(), 4, w3.to_vector(), {}, 1e-5), 1e-12);
  check_close(eigrad::layer_norm(a, {4}, DoubleTensor(), b3).to_vector(),
              naive_layer_norm(a.to_vector(), 4, {}, b3.to_vector(), 1e-5), 1e-12);
}

TEST_CASE("layer_norm of a constant row is the bias", "[layer_norm]") {
  const DoubleTensor x = DoubleTensor::full(Shape{2, 3}, 7.0);
  const DoubleTensor b = DoubleTensor::from({1, 2, 3});
  check_close(eigrad::layer_norm(x, {3}, DoubleTensor(), b).to_vector(), {1, 2, 3, 1, 2, 3}, 0);
}

TEST_CASE("layer_norm splits large inputs across threads with the same values", "[layer_norm]") {
  // 600 rows of 512: above the parallel threshold (2^18 elements).
  const DoubleTensor x = random_values(Shape{600, 512}, 6, -5, 5);
  const DoubleTensor w = random_values(Shape{512}, 7), b = random_values(Shape{512}, 8);
  check_close(eigrad::layer_norm(x, {512}, w, b).to_vector(),
              naive_layer_norm(x.to_vector(), 512, w.to_vector(), b.to_vector(), 1e-5), 1e-11);
  // Its gradient: sum(y * v) for a fixed v against the graph backward's (also the
  // per-row identity: the gradient of each row sums to 0 without weight).
  const DoubleTensor xl = x.detach().clone().set_requires_grad();
  const DoubleTensor v = random_values(Shape{600, 512}, 9);
  const DoubleTensor gx = eigrad::grad({eigrad::layer_norm(xl, {512})}, {xl}, {v})[0];
  const DoubleTensor row_sums = eigrad::sum(gx, 1);
  for (double s : row_sums.to_vector()) CHECK(std::abs(s) < 1e-9);
  const DoubleTensor gx_graph =
      eigrad::grad({eigrad::layer_norm(xl, {512})}, {xl}, {v}, false, /*create_graph=*/true)[0];
  check_close(gx_graph.to_vector(), gx.to_vector(), 1e-10);
}

TEST_CASE("layer_norm's gradients match finite differences to second order", "[layer_norm]") {
  SECTION("without affine, normalized_shape of rank 1, 2 and 3") {
    const DoubleTensor x = random_leaf(Shape{2, 3, 4}, 10);
    for (const std::vector<int64_t>& ns :
         {std::vector<int64_t>{4}, std::vector<int64_t>{3, 4}, std::vector<int64_t>{2, 3, 4}}) {
      INFO("normalized_shape " << Shape(ns).str());
      check_first_and_second_order([ns](const Ts& in) { return eigrad::layer_norm(in[0], ns); },
                                   {x});
    }
  }
  SECTION("with weight and bias") {
    const DoubleTensor x = random_leaf(Shape{3, 2, 3}, 11);
    check_first_and_second_order(
        [](const Ts& in) { return eigrad::layer_norm(in[0], {3}, in[1], in[2]); },
        {x, random_leaf(Shape{3}, 12), random_leaf(Shape{3}, 13)});
    check_first_and_second_order(
        [](const Ts& in) {
          return eigrad::layer_norm(in[0], {2, 3}, in[1], in[2], 1e-2);
        },
        {x, random_leaf(Shape{2, 3}, 14), random_leaf(Shape{2, 3}, 15)});
  }
  SECTION("weight alone, bias alone, and only the parameters requiring grad") {
    const DoubleTensor x = random_leaf(Shape{4, 3}, 16);
    check_first_and_second_order([](const Ts& in) { return eigrad::layer_norm(in[0], {3}, in[1]); },
                                 {x, random_leaf(Shape{3}, 17)});
    check_first_and_second_order(
        [](const Ts& in) { return eigrad::layer_norm(in[0], {3}, DoubleTensor(), in[1]); },
        {x, random_leaf(Shape{3}, 18)});
    check_first_and_second_order(
        [](const Ts& in) { return eigrad::layer_norm(in[0], {3}, in[1], in[2]); },
        {random_values(Shape{4, 3}, 19), random_leaf(Shape{3}, 20), random_leaf(Shape{3}, 21)});
  }
}

TEST_CASE("layer_norm's parameter gradients are sums over the rows", "[layer_norm]") {
  // d sum(y) / d bias = the number of rows; d sum(y) / d weight = sum of xhat over rows.
  const DoubleTensor x = random_values(Shape{5, 3}, 22);
  const DoubleTensor w = DoubleTensor::ones(Shape{3}, true),
                     b = DoubleTensor::zeros(Shape{3}, true);
  eigrad::sum(eigrad::layer_norm(x, {3}, w, b)).backward();
  check_close(b.grad().to_vector(), {5, 5, 5}, 0);
  const V xhat = naive_layer_norm(x.to_vector(), 3, {}, {}, 1e-5);
  V want(3, 0.0);
  for (size_t i = 0; i < xhat.size(); ++i) want[i % 3] += xhat[i];
  check_close(w.grad().to_vector(), want, 1e-12);
}

TEST_CASE("layer_norm in float32 agrees with float64", "[layer_norm]") {
  const DoubleTensor x = random_values(Shape{3, 4, 5}, 23, -3, 3);
  const DoubleTensor w = random_values(Shape{4, 5}, 24), b = random_values(Shape{4, 5}, 25);
  const Tensor y32 = eigrad::layer_norm(x.to<float>(), {4, 5}, w.to<float>(), b.to<float>());
  check_close(y32.to<double>().to_vector(),
              naive_layer_norm(x.to_vector(), 20, w.to_vector(), b.to_vector(), 1e-5), 1e-5);
  const eigrad::GradcheckFunction f64 = [](const Ts& in) {
    return eigrad::layer_norm(in[0], {4, 5}, in[1], in[2]);
  };
  const eigrad::GradcheckFunction32 f32 = [](const std::vector<Tensor>& in) {
    return eigrad::layer_norm(in[0], {4, 5}, in[1], in[2]);
  };
  const Ts inputs{x.detach().set_requires_grad(), w.detach().set_requires_grad(),
                  b.detach().set_requires_grad()};
  const eigrad::GradcheckReport r = eigrad::gradcheck_float32(f32, f64, inputs);
  INFO(r.str());
  CHECK(r.passed);
}

TEST_CASE("layer_norm of an empty batch is empty, with zero parameter gradients", "[layer_norm]") {
  const DoubleTensor x = DoubleTensor::zeros(Shape{0, 3}, true);
  const DoubleTensor w = DoubleTensor::ones(Shape{3}, true),
                     b = DoubleTensor::zeros(Shape{3}, true);
  const DoubleTensor y = eigrad::layer_norm(x, {3}, w, b);
  CHECK(y.shape() == Shape{0, 3});
  eigrad::sum(y).backward();
  check_close(w.grad().to_vector(), {0, 0, 0}, 0);
  check_close(b.grad().to_vector(), {0, 0, 0}, 0);
  CHECK(x.grad().shape() == Shape{0, 3});
  // The same through the graph backward (create_graph).
  const DoubleTensor v = DoubleTensor::zeros(Shape{0, 3});
  const Ts g = eigrad::grad({eigrad::layer_norm(x, {3}, w, b)}, {x, w, b}, {v}, std::nullopt, true);
  CHECK(g[0].shape() == Shape{0, 3});
  check_close(g[1].to_vector(), {0, 0, 0}, 0);
  check_close(g[2].to_vector(), {0, 0, 0}, 0);
}

TEST_CASE("layer_norm names the shapes it expected", "[layer_norm]") {
  const DoubleTensor x = DoubleTensor::zeros(Shape{2, 4});
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {3}),
                      Catch::Contains("layer_norm: expected an input of shape [*, 3] for "
                                      "normalized_shape [3], got [2, 4]"));
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {1, 2, 4}),
                      Catch::Contains("layer_norm: expected an input of shape [*, 1, 2, 4] for "
                                      "normalized_shape [1, 2, 4], got [2, 4]"));
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {}),
                      Catch::Contains("layer_norm: expected a non-empty normalized_shape, got [] "
                                      "for an input of shape [2, 4]"));
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {4}, DoubleTensor::ones(Shape{2, 4})),
                      Catch::Contains("layer_norm: expected weight of shape [4] (normalized_shape) "
                                      "for an input of shape [2, 4], got [2, 4]"));
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {4}, DoubleTensor(), DoubleTensor::ones(Shape{3})),
                      Catch::Contains("layer_norm: expected bias of shape [4] (normalized_shape) "
                                      "for an input of shape [2, 4], got [3]"));
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {4}, DoubleTensor(), DoubleTensor(), 0.0),
                      Catch::Contains("layer_norm: eps must be positive, got 0"));
  REQUIRE_THROWS_WITH(eigrad::layer_norm(x, {4}, DoubleTensor(), DoubleTensor(), -1e-5),
                      Catch::Contains("layer_norm: eps must be positive, got -1e-05"));
}

TEST_CASE("nn::LayerNorm holds weight = 1 and bias = 0 of normalized_shape", "[layer_norm]") {
  eigrad::nn::LayerNorm ln(64);
  const auto state = ln.state_dict();
  REQUIRE(state.size() == 2);
  CHECK(state[0].name == "weight");
  CHECK(state[0].tensor.shape() == Shape{64});
  CHECK(state[1].name == "bias");
  CHECK(state[1].tensor.shape() == Shape{64});
  for (float v : ln.weight().to_vector()) CHECK(v == 1.0f);
  for (float v : ln.bias().to_vector()) CHECK(v == 0.0f);
  CHECK(ln.str() == "LayerNorm((64,), eps=1e-05, elementwise_affine=True)");
  CHECK(ln.type_name() == "LayerNorm");

  eigrad::nn::BasicLayerNorm<double> plain({3, 4}, 1e-6, false);
  CHECK(plain.state_dict().empty());
  CHECK(!plain.weight().defined());
  CHECK(plain.extra_repr() == "(3, 4), eps=1e-06, elementwise_affine=False");

  const auto copy = eigrad::nn::to_double(ln);
  CHECK(copy->str() == ln.str());
  CHECK(copy->state_dict().size() == 2);
}

TEST_CASE("nn::LayerNorm's forward is layer_norm with its parameters", "[layer_norm]") {
  eigrad::nn::BasicLayerNorm<double> ln(std::vector<int64_t>{2, 3}, 1e-3);
  const DoubleTensor w = random_values(Shape{2, 3}, 26), b = random_values(Shape{2, 3}, 27);
  ln.load_state_dict(eigrad::nn::NamedTensors<double>{{"weight", w}, {"bias", b}});
  const DoubleTensor x = random_values(Shape{4, 2, 3}, 28);
  check_close(ln(x).to_vector(),
              naive_layer_norm(x.to_vector(), 6, w.to_vector(), b.to_vector(), 1e-3), 1e-12);
  eigrad::sum(ln(x) * x).backward();
  CHECK(ln.weight().grad().shape() == Shape{2, 3});
  CHECK(ln.bias().grad().shape() == Shape{2, 3});
  const eigrad::ModuleGradcheckReport r = eigrad::gradcheck_module(ln, x);
  INFO(r.str());
  CHECK(r.passed);
}

TEST_CASE("nn::LayerNorm rejects a bad configuration and a mismatched input", "[layer_norm]") {
  REQUIRE_THROWS_WITH(eigrad::nn::LayerNorm(std::vector<int64_t>{}),
                      Catch::Contains("LayerNorm: expected a non-empty normalized_shape, got []"));
  REQUIRE_THROWS_WITH(eigrad::nn::LayerNorm(std::vector<int64_t>{3, 0}),
                      Catch::Contains("LayerNorm: expected positive sizes in normalized_shape, got "
                                      "[3, 0]"));
  REQUIRE_THROWS_WITH(eigrad::nn::LayerNorm(3, 0.0),
                      Catch::Contains("LayerNorm: expected a positive eps, got 0"));
  eigrad::nn::LayerNorm ln(3);
  REQUIRE_THROWS_WITH(ln(Tensor::zeros(Shape{2, 4})),
                      Catch::Contains("layer_norm: expected an input of shape [*, 3]"));
}
