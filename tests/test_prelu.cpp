// PReLU: shared and per-channel slopes on inputs of rank 1 to 4, hand-computed values, gradcheck of
// both inputs, errors, and training the slopes with plain gradient steps.
#include <catch2/catch.hpp>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/ops.hpp"

using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using V = std::vector<double>;

TEST_CASE("prelu with one shared slope on a rank-1 input", "[prelu]") {
  DoubleTensor x = DoubleTensor::from({-2, -0.5, 0, 1.5}, {4}, true);
  DoubleTensor a = DoubleTensor::full({1}, eigrad::kPReLUInitialSlope, true);
  const DoubleTensor y = eigrad::prelu(x, a);
  CHECK(y.to_vector() == V{-0.5, -0.125, 0, 1.5});
  y.backward(DoubleTensor::from({1, 2, 3, 4}, {4}));
  CHECK(x.grad().to_vector() == V{0.25, 0.5, 0.75, 4});  // x = 0 takes the slope
  CHECK(a.grad().to_vector() == V{-3});                  // 1 (-2) + 2 (-0.5) + 3 (0)
}

TEST_CASE("prelu with a slope per channel on an [N, C] input", "[prelu]") {
  DoubleTensor x = DoubleTensor::from({-1, 2, -3, 4, -5, 0}, {2, 3}, true);
  DoubleTensor a = DoubleTensor::from({0.1, 0.2, 0.3}, {3}, true);
  const DoubleTensor y = eigrad::prelu(x, a);
  const V expected = {-0.1, 2, -0.9, 4, -1.0, 0};
  for (size_t i = 0; i < expected.size(); ++i) CHECK(y.to_vector()[i] == Approx(expected[i]));
  y.backward(DoubleTensor::ones({2, 3}));
  CHECK(x.grad().to_vector() == V{0.1, 1, 0.3, 1, 0.2, 0.3});
  CHECK(a.grad().to_vector() == V{-1, -5, -3});
}

TEST_CASE("prelu with a slope per channel on an [N, C, H, W] input", "[prelu]") {
  // n0: c0 [-2, 3], c1 [-1, -4]; n1: c0 [1, -6], c1 [2, 0]
  DoubleTensor x = DoubleTensor::from({-2, 3, -1, -4, 1, -6, 2, 0}, {2, 2, 1, 2}, true);
  DoubleTensor a = DoubleTensor::from({0.5, -1}, {2}, true);
  const DoubleTensor y = eigrad::prelu(x, a);
  CHECK(y.to_vector() == V{-1, 3, 1, 4, 1, -3, 2, 0});
  y.backward(DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2}));
  CHECK(x.grad().to_vector() == V{0.5, 2, -3, -4, 5, 3, 7, -8});
  CHECK(a.grad().to_vector() == V{1 * -2 + 6 * -6, 3 * -1 + 4 * -4 + 8 * 0});
}

TEST_CASE("a shared slope gets the gradient summed over every channel", "[prelu]") {
  DoubleTensor x = DoubleTensor::from({-2, 3, -1, -4, 1, -6, 2, 0}, {2, 2, 1, 2}, true);
  DoubleTensor a = DoubleTensor::full({1}, 0.25, true);
  eigrad::prelu(x, a).backward(DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2}));
  CHECK(a.grad().to_vector() == V{-38 + -19});
  CHECK(a.grad().shape() == Shape{1});
}

TEST_CASE("prelu's gradients of input and slopes pass gradcheck", "[prelu][gradcheck]") {
  Generator gen(5);
  const std::vector<double> kinks = eigrad::find_activation("prelu").kinks();
  for (const Shape& shape : {Shape{6}, Shape{4, 3}, Shape{2, 3, 4}, Shape{2, 3, 2, 2}}) {
    const int64_t channels = shape.rank() >= 2 ? shape[1] : 1;
    for (const int64_t count : {int64_t(1), channels}) {
      INFO("input " << shape.str() << ", " << count << " slopes");
      const DoubleTensor x =
          eigrad::uniform_away_from(shape, -2, 2, kinks, 1e-3, gen).set_requires_grad();
      const DoubleTensor a = DoubleTensor::uniform({count}, -0.5, 0.5, gen).set_requires_grad();
      const eigrad::GradcheckReport r = eigrad::gradcheck(
          [](const std::vector<DoubleTensor>& in) { return eigrad::prelu(in[0], in[1]); }, {x, a});
      INFO(r.str());
      CHECK(r.passed);
    }
  }
}

TEST_CASE("prelu gives the slopes a gradient when only they require it", "[prelu]") {
  const DoubleTensor x = DoubleTensor::from({-1, 2, -3, 4}, {2, 2});
  DoubleTensor a = DoubleTensor::from({0.5, 0.5}, {2}, true);
  eigrad::prelu(x, a).backward(DoubleTensor::ones({2, 2}));
  CHECK(a.grad().to_vector() == V{-1 + -3, 0});  // channel 0 holds -1 and -3
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("prelu's backward uses the slopes of its forward", "[prelu]") {
  DoubleTensor x = DoubleTensor::from({-2, 1}, {2}, true);
  DoubleTensor a = DoubleTensor::full({1}, 0.25, true);
  const DoubleTensor y = eigrad::prelu(x, a);
  a.mutable_array() *= 4;  // an optimizer step between forward and backward
  y.backward(DoubleTensor::ones({2}));
  CHECK(x.grad().to_vector() == V{0.25, 1});
}

TEST_CASE("prelu rejects a scalar input and slope counts other than 1 or C", "[prelu]") {
  const Tensor a1 = Tensor::full({1}, 0.25f);
  CHECK_THROWS_WITH(eigrad::prelu(Tensor::scalar(1.0f), a1),
                    Catch::Contains("prelu") && Catch::Contains("at least one dimension"));
  CHECK_THROWS_WITH(eigrad::prelu(Tensor::zeros({4, 3}), Tensor::zeros({2})),
                    Catch::Contains("prelu: slopes of shape [2]") &&
                        Catch::Contains("input of shape [4, 3]") && Catch::Contains("3 channels") &&
                        Catch::Contains("1 (shared) or 3"));
  CHECK_THROWS_WITH(eigrad::prelu(Tensor::zeros({5}), Tensor::zeros({5})),
                    Catch::Contains("1 channel (rank 1)") && Catch::Contains("1 (shared) or 1"));
  CHECK_THROWS_WITH(eigrad::prelu(Tensor::zeros({2, 3, 4}), Tensor::zeros({1, 3})),
                    Catch::Contains("slopes of shape [1, 3]") && Catch::Contains("a vector"));
  CHECK_THROWS_AS(eigrad::prelu(Tensor::zeros({2, 3}), Tensor()), Error);
}

TEST_CASE("the catalogue's prelu entry takes its slopes as a tensor", "[prelu]") {
  const eigrad::ActivationInfo& info = eigrad::find_activation("prelu");
  CHECK(info.resolve() == V{1, eigrad::kPReLUInitialSlope});  // num_parameters, init
  const Tensor x = Tensor::from({-1.0f, 2.0f, -3.0f, 4.0f}, {2, 2});
  const Tensor a = Tensor::from({0.5f, 0.25f}, {2});
  CHECK(info.apply(x, a).to_vector() == eigrad::prelu(x, a).to_vector());
  CHECK_THROWS_WITH(info.apply(x), Catch::Contains("prelu: takes learnable slopes"));
}

TEST_CASE("gradient steps on prelu's slopes move them by -lr grad and lower the loss", "[prelu]") {
  // Targets come from slopes 0.5; the slopes start at 0.25 per channel.
  Generator gen(9);
  const Tensor x = Tensor::uniform({8, 3, 4}, -2, 1, gen);
  const Tensor target = eigrad::prelu(x, Tensor::full({3}, 0.5f));
  Tensor a = Tensor::full({3}, float(eigrad::kPReLUInitialSlope), true);
  auto loss_of = [&] {
    const Tensor d = eigrad::prelu(x, a) - target;
    return eigrad::sum(d * d);
  };
  const float lr = 0.005f;
  float previous = loss_of().item();
  for (int step = 0; step < 10; ++step) {
    a.zero_grad();
    loss_of().backward();
    const std::vector<float> grad = a.grad().to_vector(), before = a.to_vector();
    // dL/da_c = sum over x <= 0 in channel c of 2 (a_c x - 0.5 x) x
    for (int64_t c = 0; c < 3; ++c) {
      double expected = 0;
      for (int64_t n = 0; n < 8; ++n)
        for (int64_t k = 0; k < 4; ++k) {
          const double v = x.at({n, c, k});
          if (v <= 0) expected += 2 * (before[size_t(c)] - 0.5) * v * v;
        }
      CHECK(grad[size_t(c)] == Approx(expected).epsilon(1e-4));
      CHECK(grad[size_t(c)] < 0);  // the loss falls as the slope rises towards 0.5
    }
    {
      eigrad::NoGradGuard no_grad;
      a.mutable_array() -= lr * a.grad().array();
    }
    for (size_t c = 0; c < 3; ++c)  // exactly, up to float32 rounding
      CHECK(a.to_vector()[c] == Approx(double(before[c]) - double(lr) * grad[c]).epsilon(1e-6));
    const float loss = loss_of().item();
    CHECK(loss < previous);
    previous = loss;
  }
  for (float s : a.to_vector()) CHECK(s == Approx(0.5).margin(0.05));
}

// Found by fuzz/fuzz_ops: the slope gradient of an empty batch reduced an empty map.
TEST_CASE("prelu on an empty batch gives zero slope gradients", "[prelu]") {
  for (const Shape& shape : {Shape{0, 3}, Shape{0, 3, 2}}) {
    DoubleTensor x = DoubleTensor::zeros(shape, true);
    DoubleTensor slopes = DoubleTensor::from({0.1, 0.2, 0.3}, {3}, true);
    const DoubleTensor y = eigrad::prelu(x, slopes);
    CHECK(y.shape() == shape);
    y.backward(DoubleTensor::zeros(shape));
    CHECK(slopes.grad().to_vector() == V(3, 0.0));
    CHECK(x.grad().shape() == shape);
  }
}

// Found by fuzz/fuzz_ops: softmax of an empty tensor recorded no node, so the graph lost x.
TEST_CASE("softmax and log_softmax of an empty tensor record their node", "[activations]") {
  Tensor x = Tensor::zeros({0, 3}, true);
  const Tensor y = eigrad::softmax(x), z = eigrad::log_softmax(x, 0);
  CHECK(y.requires_grad());
  CHECK(z.requires_grad());
  eigrad::sum(y).backward();
  eigrad::sum(z).backward();
  CHECK(x.grad().shape() == Shape{0, 3});
}
