// batch_norm: values against a naive reference loop, running statistics by hand, gradients
// against float64 finite differences, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::check_gradients;
using eigrad::test::random_values;
using V = std::vector<double>;
using Ts = std::vector<DoubleTensor>;

namespace {

// Naive batch norm of [N, C, S...] (S = product of the rest), one element at a time.
V reference(const DoubleTensor& x, const V& weight, const V& bias, bool training, const V& rmean,
            const V& rvar, double eps) {
  const int64_t n = x.shape()[0], c = x.shape()[1], s = x.numel() / (n * c);
  const V v = x.to_vector();
  V out(v.size());
  for (int64_t ch = 0; ch < c; ++ch) {
    double mean = 0, var = 0;
    if (training) {
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) mean += v[static_cast<size_t>((i * c + ch) * s + k)];
      mean /= static_cast<double>(n * s);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) {
          const double d = v[static_cast<size_t>((i * c + ch) * s + k)] - mean;
          var += d * d;
        }
      var /= static_cast<double>(n * s);
    } else {
      mean = rmean[static_cast<size_t>(ch)];
      var = rvar[static_cast<size_t>(ch)];
    }
    const double w = weight.empty() ? 1 : weight[static_cast<size_t>(ch)];
    const double b = bias.empty() ? 0 : bias[static_cast<size_t>(ch)];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) {
        const size_t at = static_cast<size_t>((i * c + ch) * s + k);
        out[at] = (v[at] - mean) / std::sqrt(var + eps) * w + b;
      }
  }
  return out;
}

}  // namespace

TEST_CASE("batch_norm in training normalises each channel with the batch statistics",
          "[batchnorm]") {
  for (const Shape& shape : {Shape{5, 3}, Shape{2, 3, 7}, Shape{2, 3, 4, 5}, Shape{1, 3, 3, 3}}) {
    INFO(shape.str());
    const DoubleTensor x = random_values(shape, 1, -3, 5);
    const DoubleTensor w = random_values({3}, 2), b = random_values({3}, 3);
    const DoubleTensor none;
    check_close(eigrad::batch_norm(x, none, none, w, b, true).to_vector(),
                reference(x, w.to_vector(), b.to_vector(), true, {}, {}, 1e-5), 1e-12);
    check_close(eigrad::batch_norm(x, none, none, none, none, true, 0.1, 0.5).to_vector(),
                reference(x, {}, {}, true, {}, {}, 0.5), 1e-12);
    // float32 agrees with the float64 reference to float precision.
    check_close(DoubleTensor(eigrad::batch_norm(x.to<float>(), Tensor(), Tensor(), w.to<float>(),
                                                b.to<float>(), true)
                                 .to<double>())
                    .to_vector(),
                reference(x, w.to_vector(), b.to_vector(), true, {}, {}, 1e-5), 1e-5);
  }
}

TEST_CASE("batch_norm in training updates the running statistics in place", "[batchnorm]") {
  // Channel 0 holds 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
  // Channel 1 holds 0, 0, 2, 2: mean 1, biased variance 1, unbiased 4/3.
  const DoubleTensor x = DoubleTensor::from({1, 2, 0, 0, 3, 4, 2, 2}, {2, 2, 2});
  DoubleTensor rm = DoubleTensor::from({0, 10}), rv = DoubleTensor::from({1, 2});
  const auto* storage = rm.storage().get();
  const DoubleTensor y = eigrad::batch_norm(x, rm, rv, DoubleTensor(), DoubleTensor(), true, 0.1);
  CHECK(rm.storage().get() == storage);
  check_close(rm.to_vector(), {0.9 * 0 + 0.1 * 2.5, 0.9 * 10 + 0.1 * 1}, 1e-15);
  check_close(rv.to_vector(), {0.9 * 1 + 0.1 * 5.0 / 3.0, 0.9 * 2 + 0.1 * 4.0 / 3.0}, 1e-15);
  // The output used the biased variance.
  CHECK(y.to_vector()[0] == Approx((1 - 2.5) / std::sqrt(1.25 + 1e-5)));
  // A second step with momentum 0.5 moves halfway.
  eigrad::batch_norm(x, rm, rv, DoubleTensor(), DoubleTensor(), true, 0.5);
  check_close(rm.to_vector(), {0.5 * 0.25 + 0.5 * 2.5, 0.5 * 9.1 + 0.5 * 1}, 1e-14);
  // Evaluation leaves them alone.
  const V before = rm.to_vector();
  eigrad::batch_norm(x, rm, rv);
  CHECK(rm.to_vector() == before);
}

TEST_CASE("batch_norm in evaluation normalises with the running statistics", "[batchnorm]") {
  const DoubleTensor x = random_values({3, 2, 2, 2}, 4);
  const DoubleTensor rm = DoubleTensor::from({0.5, -1}), rv = DoubleTensor::from({4, 0.25});
  const DoubleTensor w = DoubleTensor::from({2, 3}), b = DoubleTensor::from({-1, 1});
  const DoubleTensor y = eigrad::batch_norm(x, rm, rv, w, b, false, 0.1, 1e-5);
  check_close(y.to_vector(), reference(x, {2, 3}, {-1, 1}, false, {0.5, -1}, {4, 0.25}, 1e-5),
              1e-12);
  // By hand for one element: (x - 0.5) / sqrt(4 + 1e-5) * 2 - 1.
  CHECK(y.to_vector()[0] == Approx((x.to_vector()[0] - 0.5) / std::sqrt(4 + 1e-5) * 2 - 1));
  // A batch of one is fine in evaluation.
  const DoubleTensor one = DoubleTensor::from({1, 2}, {1, 2});
  check_close(eigrad::batch_norm(one, rm, rv).to_vector(),
              {(1 - 0.5) / std::sqrt(4 + 1e-5), (2 + 1) / std::sqrt(0.25 + 1e-5)}, 1e-12);
}

TEST_CASE("batch_norm's gradients match finite differences in training", "[batchnorm]") {
  for (const Shape& shape : {Shape{4, 3}, Shape{2, 3, 5}, Shape{2, 3, 3, 2}, Shape{1, 3, 2, 2}}) {
    INFO(shape.str());
    const DoubleTensor x = random_values(shape, 5).set_requires_grad();
    const DoubleTensor w = random_values({3}, 6).set_requires_grad(),
                       b = random_values({3}, 7).set_requires_grad();
    // The output is weighted so that the gradient of its sum is not zero by symmetry.
    const DoubleTensor mix = random_values(shape, 8);
    check_gradients(
        [&](const Ts& t) {
          return eigrad::batch_norm(t[0], DoubleTensor(), DoubleTensor(), t[1], t[2], true) * mix;
        },
        {x, w, b});
    check_gradients(
        [&](const Ts& t) {
          return eigrad::batch_norm(t[0], DoubleTensor(), DoubleTensor(), DoubleTensor(),
                                    DoubleTensor(), true, 0.1, 0.01) *
                 mix;
        },
        {x});
    // With running statistics given (and updated by every evaluation of f).
    DoubleTensor rm = DoubleTensor::zeros({3}), rv = DoubleTensor::ones({3});
    check_gradients(
        [&](const Ts& t) { return eigrad::batch_norm(t[0], rm, rv, t[1], DoubleTensor(), true); },
        {x, w});
  }
}

TEST_CASE("batch_norm's gradients match finite differences in evaluation", "[batchnorm]") {
  const DoubleTensor x = random_values({3, 2, 3}, 9).set_requires_grad();
  const DoubleTensor w = random_values({2}, 10).set_requires_grad(),
                     b = random_values({2}, 11).set_requires_grad();
  const DoubleTensor rm = DoubleTensor::from({0.3, -0.2}), rv = DoubleTensor::from({1.5, 0.7});
  check_gradients([&](const Ts& t) { return eigrad::batch_norm(t[0], rm, rv, t[1], t[2]); },
                  {x, w, b});
  // The input's gradient is g * weight / sqrt(running_var + eps).
  const DoubleTensor y = eigrad::batch_norm(x, rm, rv, w, b);
  y.backward(DoubleTensor::ones(y.shape()));
  const V gx = x.grad().to_vector(), wv = w.to_vector();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t k = 0; k < 3; ++k)
        CHECK(gx[static_cast<size_t>((i * 2 + c) * 3 + k)] ==
              Approx(wv[static_cast<size_t>(c)] /
                     std::sqrt(rv.to_vector()[static_cast<size_t>(c)] + 1e-5)));
}

TEST_CASE("batch_norm's float32 gradients agree with float64", "[batchnorm]") {
  DoubleTensor x = random_values({4, 2, 3}, 12), w = random_values({2}, 13),
               b = random_values({2}, 14);
  const DoubleTensor mix = random_values({4, 2, 3}, 15);
  const eigrad::GradcheckReport r = eigrad::gradcheck_float32(
      [&](const std::vector<Tensor>& t) {
        return eigrad::batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], true) * mix.to<float>();
      },
      [&](const Ts& t) {
        return eigrad::batch_norm(t[0], DoubleTensor(), DoubleTensor(), t[1], t[2], true) * mix;
      },
      {x.set_requires_grad(), w.set_requires_grad(), b.set_requires_grad()},
      {1e-6, 1e-3, 1e-2, false});
  INFO(r.str());
  CHECK(r.passed);
}

TEST_CASE("batch_norm refuses bad shapes, naming the op and the shapes", "[batchnorm]") {
  const DoubleTensor none;
  const DoubleTensor c4 = DoubleTensor::ones({4}), c3 = DoubleTensor::ones({3});
  CHECK_THROWS_AS(eigrad::batch_norm(DoubleTensor::ones({1, 4}), none, none, none, none, true),
                  Error);
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({1, 4}), none, none, none, none, true),
                    "batch_norm: expected more than 1 value per channel when training, got input "
                    "of shape [1, 4]");
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({1, 4, 1, 1}), c4, c4, none, none, true),
                    Contains("more than 1 value per channel") && Contains("[1, 4, 1, 1]"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({4}), c4, c4),
                    Contains("batch_norm") && Contains("[N, C]") && Contains("got [4]"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({2, 4, 1, 1, 1}), c4, c4),
                    Contains("batch_norm") && Contains("[2, 4, 1, 1, 1]"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({2, 4, 3}), c3, c4),
                    Contains("batch_norm: expected running_mean of shape [4]") &&
                        Contains("[2, 4, 3]") && Contains("got [3]"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({2, 4, 3}), c4, c3),
                    Contains("running_var of shape [4]") && Contains("got [3]"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({2, 4}), c4, c4, c3),
                    Contains("weight of shape [4]") && Contains("[2, 4]") && Contains("got [3]"));
  CHECK_THROWS_WITH(
      eigrad::batch_norm(DoubleTensor::ones({2, 4}), c4, c4, c4, DoubleTensor::ones({2, 2})),
      Contains("bias of shape [4]") && Contains("got [2, 2]"));
  CHECK_THROWS_WITH(
      eigrad::batch_norm(DoubleTensor::ones({2, 4}), none, none),
      Contains("batch_norm: evaluation") && Contains("running_mean") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({2, 4}), c4, none, none, none, true),
                    Contains("batch_norm") && Contains("both") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(
      eigrad::batch_norm(DoubleTensor::ones({2, 4}), none, none, none, none, true, 0.1, 0.0),
      Contains("batch_norm: eps"));
  CHECK_THROWS_WITH(eigrad::batch_norm(DoubleTensor::ones({2, 4}), c4, c4, none, none, true, 1.5),
                    Contains("batch_norm: momentum"));
}

TEST_CASE("batch_norm of an empty batch is empty", "[batchnorm]") {
  const DoubleTensor rm = DoubleTensor::zeros({3}), rv = DoubleTensor::ones({3});
  CHECK(eigrad::batch_norm(DoubleTensor::zeros({0, 3, 2}), rm, rv, DoubleTensor(), DoubleTensor(),
                           true)
            .shape() == Shape{0, 3, 2});
  CHECK(rm.to_vector() == V{0, 0, 0});
}

TEST_CASE("batch_norm of an empty batch stays in the graph with zero gradients", "[batchnorm]") {
  // (fuzz finding: the empty result was not recorded, so backward never reached the weights)
  const DoubleTensor x = DoubleTensor::zeros({0, 3}, true);
  const DoubleTensor w = DoubleTensor::from({1, 2, 3}, {3}, true);
  const DoubleTensor b = DoubleTensor::from({0, 0, 0}, {3}, true);
  const DoubleTensor y = eigrad::batch_norm(x, DoubleTensor::zeros({3}), DoubleTensor::ones({3}), w,
                                            b, /*training=*/false);
  REQUIRE(y.requires_grad());
  eigrad::sum(y).backward();
  CHECK(w.grad().to_vector() == V{0, 0, 0});
  CHECK(b.grad().to_vector() == V{0, 0, 0});
  CHECK(x.grad().numel() == 0);
}
