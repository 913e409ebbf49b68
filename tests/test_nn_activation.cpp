// Activation modules built from the catalogue, PReLU's learnable slopes, and a short training run.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/eigrad.hpp"
#include "eigrad/nn/activation.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/nn/loss.hpp"
#include "eigrad/nn/sequential.hpp"
#include "eigrad/optim/sgd.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using V = std::vector<double>;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;

TEST_CASE("every catalogue entry has a module that computes the functional form", "[nn]") {
  Generator gen(1);
  const DoubleTensor x = DoubleTensor::uniform({3, 4}, -3, 3, gen);
  for (const eigrad::ActivationInfo& info : eigrad::test::builtin_activations()) {
    INFO(info.name);
    nn::BasicActivation<double> module(info.name);
    CHECK(module.info().name == info.name);
    if (info.kind == eigrad::ActivationKind::PerChannel) {
      REQUIRE(module.parameters().size() == 1);
      CHECK(module(x).to_vector() == info.apply(x, module.weight()).to_vector());
    } else {
      CHECK(module.parameters().empty());
      CHECK(module(x).to_vector() == info.apply(x).to_vector());
    }
  }
}

TEST_CASE("an Activation module passes its parameter values to the catalogue", "[nn]") {
  nn::BasicActivation<double> leaky("leaky_relu", {0.2});
  CHECK(leaky(DoubleTensor::from({-1, 0, 2})).to_vector() == V{-0.2, 0, 2});
  CHECK(leaky.values() == V{0.2});
  CHECK(leaky.str() == "Activation(leaky_relu, negative_slope=0.2)");
  // Defaults are filled in: softmax along the last axis.
  nn::BasicActivation<double> softmax("softmax");
  const V p = softmax(DoubleTensor::from({0, std::log(3.0)}, {1, 2})).to_vector();
  CHECK(p[0] == Approx(0.25));
  CHECK(p[1] == Approx(0.75));
  CHECK_THROWS_WITH(nn::Activation("relu7"), Contains("relu7"));
  CHECK_THROWS_WITH(nn::Activation("celu", {0.0}), Contains("celu"));
}

TEST_CASE("PReLU registers its slopes as the parameter 'weight', all at init", "[nn]") {
  nn::PReLU shared;
  CHECK(shared.weight().shape() == Shape{1});
  CHECK(shared.weight().item() == 0.25f);
  nn::PReLU per_channel(64, 0.1);
  const auto named = per_channel.named_parameters();
  REQUIRE(named.size() == 1);
  CHECK(named[0].first == "weight");
  CHECK(named[0].second.same(per_channel.weight()));
  CHECK(named[0].second.shape() == Shape{64});
  CHECK((per_channel.weight().array() == 0.1f).all());
  CHECK(per_channel.weight().requires_grad());
  CHECK(per_channel.str() == "PReLU(num_parameters=64, init=0.1)");
  CHECK_THROWS_WITH(nn::PReLU(0), Contains("prelu: num_parameters"));
}

TEST_CASE("PReLU slopes trained by SGD move by exactly -lr * grad", "[nn][optim]") {
  nn::BasicPReLU<double> act(3);
  optim::BasicSGD<double> opt(act.parameters(), optim::SGDOptions(0.1));
  // Columns are channels. loss = sum(prelu(x)): d loss / d a_c = the sum of x <= 0 in column c.
  const DoubleTensor x = DoubleTensor::from({-1, 2, -0.5, -3, -4, 1, 0, 5, -2}, {3, 3});
  const double loss_before = eigrad::sum(act(x)).item();
  eigrad::sum(act(x)).backward();
  const V grad = act.weight().grad().to_vector();
  CHECK(grad == V{-4, -4, -2.5});
  opt.step();
  const V slopes = act.weight().to_vector();
  for (size_t c = 0; c < 3; ++c) CHECK(slopes[c] == Approx(0.25 - 0.1 * grad[c]).epsilon(1e-15));
  CHECK(eigrad::sum(act(x)).item() < loss_before);
}

namespace {
// The 3-class spiral of CS231n: class k's points at radius r in [0, 1] and angle
// 4k + 4r + noise.
void spiral(int per_class, Generator& gen, Tensor& points, std::vector<int64_t>& labels) {
  points = Tensor::empty({3 * per_class, 2});
  labels.clear();
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < per_class; ++i) {
      const double r = static_cast<double>(i) / (per_class - 1);
      const double t = 4.0 * k + 4.0 * r + 0.2 * gen.normal();
      points.mutable_at({k * per_class + i, 0}) = static_cast<float>(r * std::sin(t));
      points.mutable_at({k * per_class + i, 1}) = static_cast<float>(r * std::cos(t));
      labels.push_back(k);
    }
}
}  // namespace

TEST_CASE("a 2-64-PReLU-64-PReLU-3 network learns the spiral to 97% accuracy", "[nn][optim]") {
  Generator gen(0);
  Tensor points;
  std::vector<int64_t> labels;
  spiral(100, gen, points, labels);
  auto l1 = std::make_shared<nn::Linear>(2, 64, gen);
  auto a1 = std::make_shared<nn::PReLU>(64);
  auto l2 = std::make_shared<nn::Linear>(64, 64, gen);
  auto a2 = std::make_shared<nn::PReLU>(64);
  auto l3 = std::make_shared<nn::Linear>(64, 3, gen);
  nn::Sequential net(l1, a1, l2, a2, l3);
  optim::SGD opt({{{l1->weight(), l1->bias(), l2->weight(), l2->bias(), l3->weight(), l3->bias()},
                   optim::SGDOptions(0.2).momentum(0.9).weight_decay(1e-4)},
                  {{a1->weight(), a2->weight()}, optim::SGDOptions(0.2).momentum(0.9)}});
  double accuracy = 0;
  for (int epoch = 0; epoch < 1000 && accuracy < 0.97; ++epoch) {
    opt.zero_grad();
    const Tensor logits = net(points);
    nn::cross_entropy(logits, labels).backward();
    opt.step();
    const std::vector<int64_t> predicted = eigrad::argmax(logits, 1).to_vector();
    int correct = 0;
    for (size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
    accuracy = static_cast<double>(correct) / static_cast<double>(labels.size());
  }
  CHECK(accuracy >= 0.97);
}
