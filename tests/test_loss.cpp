// Losses: values by hand, gradients by hand and against float64 finite differences, stability,
// errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/nn/loss.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::nn::Reduction;
using eigrad::test::check_close;
using eigrad::test::check_gradients;
using eigrad::test::random_leaf;
using V = std::vector<double>;
using Labels = std::vector<int64_t>;
namespace nn = eigrad::nn;

namespace {
const Reduction kReductions[] = {Reduction::Mean, Reduction::Sum, Reduction::None};
}  // namespace

// ---------------------------------------------------------------- cross_entropy

TEST_CASE("cross_entropy is log-sum-exp minus the label's logit", "[loss]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 1, 1, 1}, {2, 3});
  const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  const double l1 = std::log(3.0);
  CHECK(nn::cross_entropy(x, {2, 0}).item() == Approx((l0 + l1) / 2));
  CHECK(nn::cross_entropy(x, {2, 0}).shape() == Shape{});
  CHECK(nn::cross_entropy(x, {2, 0}, Reduction::Sum).item() == Approx(l0 + l1));
  const DoubleTensor none = nn::cross_entropy(x, {2, 0}, Reduction::None);
  CHECK(none.shape() == Shape{2});
  check_close(none.to_vector(), {l0, l1});
}

TEST_CASE("cross_entropy's gradient is (softmax - onehot) / N", "[loss]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 1, 1, 1}, {2, 3}, true);
  nn::cross_entropy(x, {2, 0}).backward();
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  check_close(x.grad().to_vector(),
              {std::exp(1.0) / z / 2, std::exp(2.0) / z / 2, (std::exp(3.0) / z - 1) / 2,
               (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6});
}

TEST_CASE("cross_entropy stays finite for logits of +-1000 in float32", "[loss]") {
  const Tensor x = Tensor::from({1000, 0, -1000, 0}, {2, 2}, true);
  const Tensor loss = nn::cross_entropy(x, {1, 0}, Reduction::None);
  CHECK(loss.to_vector() == std::vector<float>{1000, 1000});
  eigrad::sum(loss).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{1, -1, -1, 1});
  CHECK(nn::cross_entropy(x, {0, 1}).item() == 0.0f);
}

TEST_CASE("cross_entropy matches finite differences in float64 for every reduction", "[loss]") {
  const DoubleTensor x = random_leaf({4, 5}, 1, -3, 3);
  for (Reduction r : kReductions)
    check_gradients(
        [r](const std::vector<DoubleTensor>& in) {
          return nn::cross_entropy(in[0], {0, 4, 2, 2}, r);
        },
        {x});
}

TEST_CASE("cross_entropy equals nll_loss of a log-softmax built from core ops", "[loss]") {
  const DoubleTensor x = random_leaf({3, 4}, 2);
  const Labels labels{3, 0, 1};
  const DoubleTensor log_probs = x - eigrad::log(eigrad::sum(eigrad::exp(x), 1, /*keepdim=*/true));
  for (Reduction r : kReductions)
    check_close(nn::cross_entropy(x, labels, r).to_vector(),
                nn::nll_loss(log_probs, labels, r).to_vector(), 1e-12);
}

// ---------------------------------------------------------------- nll_loss

TEST_CASE("nll_loss picks minus the label's log-probability", "[loss]") {
  const DoubleTensor lp = DoubleTensor::from({-0.5, -1, -2, -3, -0.1, -4}, {2, 3}, true);
  CHECK(nn::nll_loss(lp, {0, 1}).item() == Approx(0.3));
  CHECK(nn::nll_loss(lp, {0, 1}, Reduction::Sum).item() == Approx(0.6));
  check_close(nn::nll_loss(lp, {0, 1}, Reduction::None).to_vector(), {0.5, 0.1});
  nn::nll_loss(lp, {0, 1}).backward();
  CHECK(lp.grad().to_vector() == V{-0.5, 0, 0, 0, -0.5, 0});
}

TEST_CASE("nll_loss matches finite differences in float64 for every reduction", "[loss]") {
  const DoubleTensor lp = random_leaf({3, 4}, 3);
  for (Reduction r : kReductions)
    check_gradients(
        [r](const std::vector<DoubleTensor>& in) {
          return nn::nll_loss(in[0], {1, 1, 3}, r);
        },
        {lp});
}

// ---------------------------------------------------------------- mse_loss

TEST_CASE("mse_loss averages squared differences and differentiates both inputs", "[loss]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  const DoubleTensor y = DoubleTensor::from({0, 2, 5}, {3}, true);
  CHECK(nn::mse_loss(x, y).item() == Approx(5.0 / 3));
  CHECK(nn::mse_loss(x, y, Reduction::Sum).item() == 5.0);
  CHECK(nn::mse_loss(x, y, Reduction::None).to_vector() == V{1, 0, 4});
  nn::mse_loss(x, y).backward();
  check_close(x.grad().to_vector(), {2.0 / 3, 0, -4.0 / 3});
  check_close(y.grad().to_vector(), {-2.0 / 3, 0, 4.0 / 3});
}

TEST_CASE("mse_loss matches finite differences in float64 for every reduction", "[loss]") {
  const DoubleTensor x = random_leaf({2, 3}, 4), y = random_leaf({2, 3}, 5);
  for (Reduction r : kReductions)
    check_gradients(
        [r](const std::vector<DoubleTensor>& in) { return nn::mse_loss(in[0], in[1], r); }, {x, y});
}

// ---------------------------------------------------------------- binary_cross_entropy_with_logits

TEST_CASE("binary_cross_entropy_with_logits is -y log s(x) - (1 - y) log(1 - s(x))", "[loss]") {
  const V xs{0, 2, -1}, ys{1, 0, 0.5};
  V expected, grad;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double s = 1 / (1 + std::exp(-xs[i]));
    expected.push_back(-ys[i] * std::log(s) - (1 - ys[i]) * std::log(1 - s));
    grad.push_back((s - ys[i]) / 3);
  }
  const DoubleTensor x = DoubleTensor::from(xs, {3}, true), y = DoubleTensor::from(ys, {3});
  check_close(nn::binary_cross_entropy_with_logits(x, y, Reduction::None).to_vector(), expected);
  CHECK(nn::binary_cross_entropy_with_logits(x, y, Reduction::Sum).item() ==
        Approx(expected[0] + expected[1] + expected[2]));
  nn::binary_cross_entropy_with_logits(x, y).backward();
  check_close(x.grad().to_vector(), grad);
}

TEST_CASE("binary_cross_entropy_with_logits stays finite for logits of +-1000", "[loss]") {
  const Tensor x = Tensor::from({1000, -1000}, {2}, true);
  const Tensor loss =
      nn::binary_cross_entropy_with_logits(x, Tensor::from({0, 1}, {2}), Reduction::None);
  CHECK(loss.to_vector() == std::vector<float>{1000, 1000});
  eigrad::sum(loss).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{1, -1});
  CHECK(nn::binary_cross_entropy_with_logits(x, Tensor::from({1, 0}, {2})).item() == 0.0f);
}

TEST_CASE("binary_cross_entropy_with_logits matches finite differences for both inputs", "[loss]") {
  const DoubleTensor x = random_leaf({2, 3}, 6, -4, 4), y = random_leaf({2, 3}, 7, 0, 1);
  for (Reduction r : kReductions)
    check_gradients(
        [r](const std::vector<DoubleTensor>& in) {
          return nn::binary_cross_entropy_with_logits(in[0], in[1], r);
        },
        {x, y});
}

// ---------------------------------------------------------------- errors

TEST_CASE("losses reject wrong shapes and labels, naming the op and the shapes", "[loss]") {
  const DoubleTensor x = DoubleTensor::zeros({3, 2});
  CHECK_THROWS_WITH(nn::cross_entropy(x, {0, 1}),
                    Contains("cross_entropy: expected logits of shape [N, C] and N labels, got "
                             "logits of shape [3, 2] and 2 labels"));
  CHECK_THROWS_WITH(nn::cross_entropy(DoubleTensor::zeros({3}), {0, 1, 0}),
                    Contains("cross_entropy") && Contains("shape [3]"));
  CHECK_THROWS_WITH(nn::cross_entropy(x, {0, 2, 1}),
                    Contains("cross_entropy: label 2 of sample 1 is out of range for 2 classes") &&
                        Contains("[3, 2]"));
  CHECK_THROWS_WITH(nn::nll_loss(x, {0, -1, 1}),
                    Contains("nll_loss: label -1 of sample 1 is out of range"));
  CHECK_THROWS_WITH(nn::mse_loss(DoubleTensor::zeros({3}), DoubleTensor::zeros({1, 3})),
                    Contains("mse_loss: the input has shape [3] but the target has shape [1, 3]"));
  CHECK_THROWS_WITH(
      nn::binary_cross_entropy_with_logits(DoubleTensor::zeros({2}), DoubleTensor::zeros({3})),
      Contains("binary_cross_entropy_with_logits: the input has shape [2]") && Contains("[3]"));
}

// Found by fuzz/fuzz_ops: logits of shape [0, 0] hit an Eigen assertion (the maximum of an empty
// row). An empty batch gives what PyTorch gives: an empty loss, a sum of 0, a mean of 0/0 = NaN.
TEST_CASE("cross_entropy of an empty batch, even with no classes, is empty, 0 or NaN", "[loss]") {
  for (const int64_t classes : {0, 3}) {
    DoubleTensor x = DoubleTensor::zeros({0, classes}, /*requires_grad=*/true);
    CHECK(nn::cross_entropy(x, {}, nn::Reduction::None).shape() == eigrad::Shape{0});
    const DoubleTensor total = nn::cross_entropy(x, {}, nn::Reduction::Sum);
    CHECK(total.item() == 0.0);
    total.backward();
    CHECK(x.grad().shape() == eigrad::Shape{0, classes});
    CHECK(std::isnan(nn::cross_entropy(x, {}).item()));
  }
  CHECK_THROWS_WITH(nn::cross_entropy(DoubleTensor::zeros({1, 0}), {0}),
                    Contains("label 0 of sample 0 is out of range for 0 classes"));
}
