// nn: module registration and its errors, Linear, Sequential, Flatten, Dropout, initialisers.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/init.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/nn/module.hpp"
#include "eigrad/nn/sequential.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_gradients;
using eigrad::test::random_leaf;
using V = std::vector<double>;
namespace nn = eigrad::nn;

namespace {
// A module assembled ad hoc, as a user would write one.
struct Custom : nn::BasicModule<double> {
  std::string type_name() const override { return "Custom"; }
};

std::vector<std::string> names(const nn::NamedTensors<double>& named) {
  std::vector<std::string> out;
  for (const auto& p : named) out.push_back(p.first);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- registration

TEST_CASE("register_parameter rejects empty, dotted and duplicate names", "[nn]") {
  Custom m;
  m.register_parameter("w", DoubleTensor::zeros({2}));
  CHECK_THROWS_WITH(m.register_parameter("", DoubleTensor::zeros({2})),
                    Contains("Custom::register_parameter") && Contains("must not be empty"));
  CHECK_THROWS_WITH(m.register_parameter("a.b", DoubleTensor::zeros({2})),
                    Contains("'a.b' must not contain '.'"));
  CHECK_THROWS_WITH(m.register_parameter("w", DoubleTensor::zeros({3})),
                    Contains("'w' is already taken by a parameter of shape [2]"));
  CHECK(names(m.named_parameters()) == std::vector<std::string>{"w"});
}

TEST_CASE("register_parameter makes a leaf require grad and refuses a non-leaf", "[nn]") {
  Custom m;
  DoubleTensor w = m.register_parameter("w", DoubleTensor::zeros({2}));
  CHECK(w.requires_grad());
  DoubleTensor frozen = m.register_parameter("frozen", DoubleTensor::zeros({2}), false);
  CHECK_FALSE(frozen.requires_grad());
  DoubleTensor y = w * 2.0;
  CHECK_THROWS_WITH(m.register_parameter("y", y),
                    Contains("produced by 'affine'") && Contains("must be a leaf"));
  CHECK_THROWS_WITH(m.register_parameter("u", DoubleTensor()), Contains("undefined"));
}

TEST_CASE("register_module rejects taken names, null modules and cycles", "[nn]") {
  auto m = std::make_shared<Custom>();
  m->register_parameter("w", DoubleTensor::zeros({1}));
  auto child = m->register_module("child", std::make_shared<Custom>());
  CHECK_THROWS_WITH(m->register_module("w", std::make_shared<Custom>()),
                    Contains("Custom::register_module") && Contains("taken by a parameter"));
  CHECK_THROWS_WITH(m->register_module("child", std::make_shared<Custom>()),
                    Contains("taken by a child module"));
  CHECK_THROWS_WITH(m->register_module("x.y", std::make_shared<Custom>()),
                    Contains("must not contain '.'"));
  CHECK_THROWS_WITH(m->register_module("none", std::shared_ptr<Custom>()), Contains("is null"));
  CHECK_THROWS_WITH(child->register_module("parent", m), Contains("its own descendant"));
  CHECK_THROWS_WITH(m->register_module("self", m), Contains("its own descendant"));
}

TEST_CASE("named_parameters lists own parameters, then each child's, depth first", "[nn]") {
  auto root = std::make_shared<Custom>();
  root->register_parameter("a", DoubleTensor::zeros({1}));
  auto enc = root->register_module("enc", std::make_shared<Custom>());
  enc->register_parameter("w", DoubleTensor::zeros({2}));
  auto inner = enc->register_module("inner", std::make_shared<Custom>());
  inner->register_parameter("z", DoubleTensor::zeros({3}));
  enc->register_parameter("v", DoubleTensor::zeros({4}));
  auto dec = root->register_module("dec", std::make_shared<Custom>());
  dec->register_parameter("b", DoubleTensor::zeros({5}));
  root->register_parameter("c", DoubleTensor::zeros({6}));

  CHECK(names(root->named_parameters()) ==
        std::vector<std::string>{"a", "c", "enc.w", "enc.v", "enc.inner.z", "dec.b"});
  CHECK(names(root->named_parameters(false)) == std::vector<std::string>{"a", "c"});
  const auto params = root->parameters();
  REQUIRE(params.size() == 6);
  CHECK(params[2].same(enc->parameter("w")));
  CHECK(params[4].same(root->parameter("enc.inner.z")));
  CHECK(root->children().size() == 2);
  CHECK(root->named_children()[1].first == "dec");
}

TEST_CASE("a parameter of a module registered twice is listed once", "[nn]") {
  auto root = std::make_shared<Custom>();
  auto shared = std::make_shared<Custom>();
  shared->register_parameter("w", DoubleTensor::zeros({2}));
  root->register_module("first", shared);
  root->register_module("second", shared);
  CHECK(names(root->named_parameters()) == std::vector<std::string>{"first.w"});
}

TEST_CASE("parameter() finds dotted names and lists the names that exist", "[nn]") {
  auto root = std::make_shared<Custom>();
  auto child = root->register_module("child", std::make_shared<Custom>());
  child->register_parameter("w", DoubleTensor::ones({2}));
  CHECK(root->parameter("child.w").to_vector() == V{1, 1});
  CHECK_THROWS_WITH(root->parameter("child.q"),
                    Contains("no parameter named 'child.q'") && Contains("child.w"));
  CHECK_THROWS_WITH(root->parameter("nope.w"), Contains("'nope' is not a module"));
}

TEST_CASE("set_parameter writes into the registered tensor and checks the shape", "[nn]") {
  Generator gen(1);
  nn::BasicLinear<double> lin(3, 2, gen);
  const DoubleTensor before = lin.weight();
  lin.set_parameter("weight", DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3}));
  CHECK(lin.weight().same(before));  // the same handle: forward and parameters() agree
  CHECK(lin.weight().to_vector() == V{1, 2, 3, 4, 5, 6});
  CHECK(lin.parameters()[0].to_vector() == V{1, 2, 3, 4, 5, 6});
  CHECK(lin.weight().requires_grad());
  CHECK_THROWS_WITH(lin.set_parameter("weight", DoubleTensor::zeros({3, 2})),
                    Contains("Linear::set_parameter") && Contains("[2, 3]") && Contains("[3, 2]"));
  CHECK(lin.weight().to_vector() == V{1, 2, 3, 4, 5, 6});
}

TEST_CASE("load_parameters checks every name and shape before writing anything", "[nn]") {
  Generator gen(2);
  nn::BasicLinear<double> lin(2, 2, gen);
  const V w0 = lin.weight().to_vector(), b0 = lin.bias().to_vector();
  const DoubleTensor w = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  const DoubleTensor b = DoubleTensor::from({5, 6}, {2});

  CHECK_THROWS_WITH(lin.load_parameters({{"weight", w}}), Contains("missing parameter 'bias'"));
  CHECK_THROWS_WITH(lin.load_parameters({{"weight", w}, {"bias", b}, {"extra", b}}),
                    Contains("unexpected parameter 'extra'"));
  CHECK_THROWS_WITH(lin.load_parameters({{"weight", w}, {"bias", DoubleTensor::zeros({3})}}),
                    Contains("'bias' has shape [2]") && Contains("[3]"));
  CHECK_THROWS_WITH(lin.load_parameters({{"weight", w}, {"weight", w}}), Contains("twice"));
  CHECK(lin.weight().to_vector() == w0);
  CHECK(lin.bias().to_vector() == b0);

  lin.load_parameters({{"bias", b}, {"weight", w}});
  CHECK(lin.weight().to_vector() == V{1, 2, 3, 4});
  CHECK(lin.bias().to_vector() == V{5, 6});
}

TEST_CASE("train and eval reach every descendant", "[nn]") {
  auto root = std::make_shared<Custom>();
  auto child = root->register_module("child", std::make_shared<Custom>());
  auto grandchild = child->register_module("g", std::make_shared<Custom>());
  CHECK(grandchild->is_training());
  root->eval();
  CHECK_FALSE(root->is_training());
  CHECK_FALSE(grandchild->is_training());
  root->train();
  CHECK(grandchild->is_training());
}

TEST_CASE("zero_grad drops the gradients of every parameter", "[nn]") {
  Generator gen(3);
  nn::BasicSequential<double> net(std::make_shared<nn::BasicLinear<double>>(2, 3, gen),
                                  std::make_shared<nn::BasicLinear<double>>(3, 1, gen));
  eigrad::sum(net(DoubleTensor::ones({4, 2}))).backward();
  for (const auto& p : net.parameters()) CHECK(p.grad().defined());
  net.zero_grad();
  for (const auto& p : net.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("a module without forward says so", "[nn]") {
  Custom m;
  CHECK_THROWS_WITH(m(DoubleTensor::zeros({1})), Contains("Custom::forward"));
}

// ---------------------------------------------------------------- Linear

TEST_CASE("Linear computes x W^T + b", "[nn]") {
  Generator gen(4);
  nn::BasicLinear<double> lin(3, 2, gen);
  lin.set_parameter("weight", DoubleTensor::from({1, 2, 3, -1, 0, 1}, {2, 3}));
  lin.set_parameter("bias", DoubleTensor::from({0.5, -0.5}, {2}));
  const DoubleTensor x = DoubleTensor::from({1, 1, 1, 2, 0, -1}, {2, 3});
  // row 0: [1+2+3, -1+0+1] + b = [6.5, -0.5]; row 1: [2+0-3, -2+0-1] + b = [-0.5, -3.5]
  CHECK(lin(x).to_vector() == V{6.5, -0.5, -0.5, -3.5});
  CHECK(lin(x).shape() == Shape{2, 2});
  // Rank 1 and rank 3 inputs apply to the last axis.
  CHECK(lin(DoubleTensor::from({1, 1, 1})).to_vector() == V{6.5, -0.5});
  CHECK(lin(DoubleTensor::from({1, 1, 1, 2, 0, -1}, {2, 1, 3})).shape() == Shape{2, 1, 2});

  nn::BasicLinear<double> nobias(3, 2, gen, /*bias=*/false);
  nobias.set_parameter("weight", DoubleTensor::from({1, 2, 3, -1, 0, 1}, {2, 3}));
  CHECK(nobias(x).to_vector() == V{6, 0, -1, -3});
  CHECK(nobias.parameters().size() == 1);
  CHECK_FALSE(nobias.bias().defined());
}

TEST_CASE("Linear initialises W then b from U(-1/sqrt(in), 1/sqrt(in)) like PyTorch", "[nn]") {
  Generator gen(5);
  nn::BasicLinear<double> lin(16, 4, gen);
  // kaiming_uniform_(a = sqrt 5): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / 16) = 1 / 4.
  Generator expected(5);
  for (double w : lin.weight().to_vector()) CHECK(w == Approx(expected.uniform(-0.25, 0.25)));
  for (double b : lin.bias().to_vector()) CHECK(b == Approx(expected.uniform(-0.25, 0.25)));

  Generator big(6);
  nn::Linear wide(400, 100, big);
  const Tensor::Array w = wide.weight().array();
  CHECK(w.abs().maxCoeff() <= 0.05f);  // 1 / sqrt(400)
  CHECK(w.abs().maxCoeff() > 0.0499f);
  CHECK(std::abs(w.mean()) < 0.001f);
}

TEST_CASE("Linear matches finite differences in float64, with and without bias", "[nn]") {
  const DoubleTensor x = random_leaf({4, 3}, 10, -1, 1), w = random_leaf({2, 3}, 11, -1, 1),
                     b = random_leaf({2}, 12, -1, 1);
  auto with_bias = [](const std::vector<DoubleTensor>& in) {
    return nn::linear(in[0], in[1], in[2]);
  };
  check_gradients(with_bias, {x, w, b});
  check_gradients([](const std::vector<DoubleTensor>& in) { return nn::linear(in[0], in[1]); },
                  {x, w});
  check_gradients(with_bias, {random_leaf({2, 2, 3}, 13, -1, 1), w, b});
  check_gradients(with_bias, {random_leaf({3}, 14, -1, 1), w, b});
  // Only some inputs requiring grad.
  check_gradients(with_bias, {x.detach(), w, b.detach()});
}

TEST_CASE("a Linear module's parameter gradients are g^T x and the column sums of g", "[nn]") {
  Generator gen(7);
  nn::BasicLinear<double> lin(2, 2, gen);
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  const DoubleTensor g = DoubleTensor::from({1, 0, -1, 2}, {2, 2});
  lin(x).backward(g);
  // g^T x = [[1*1 + -1*3, 1*2 + -1*4], [0*1 + 2*3, 0*2 + 2*4]]
  CHECK(lin.weight().grad().to_vector() == V{-2, -2, 6, 8});
  CHECK(lin.bias().grad().to_vector() == V{0, 2});
}

TEST_CASE("linear rejects mismatched shapes, naming them", "[nn]") {
  const DoubleTensor w = DoubleTensor::zeros({2, 3});
  CHECK_THROWS_WITH(
      nn::linear(DoubleTensor::zeros({4, 5}), w),
      Contains("linear") && Contains("[2, 3]") && Contains("[4, 5]") && Contains("must be 3"));
  CHECK_THROWS_WITH(nn::linear(DoubleTensor::zeros({4, 3}), DoubleTensor::zeros({3})),
                    Contains("linear: expected a weight of shape [out_features, in_features]"));
  CHECK_THROWS_WITH(nn::linear(DoubleTensor::zeros({4, 3}), w, DoubleTensor::zeros({3})),
                    Contains("expected a bias of shape [2]") && Contains("got [3]"));
  Generator gen(0);
  CHECK_THROWS_WITH(nn::Linear(0, 3, gen), Contains("Linear: expected positive"));
}

// ---------------------------------------------------------------- containers and layers

TEST_CASE("Sequential applies its modules in order and names them by position", "[nn]") {
  Generator gen(8);
  auto first = std::make_shared<nn::BasicLinear<double>>(3, 4, gen);
  auto second = std::make_shared<nn::BasicLinear<double>>(4, 2, gen);
  nn::BasicSequential<double> net(first, std::make_shared<nn::BasicFlatten<double>>(), second);
  const DoubleTensor x = random_leaf({5, 3}, 9, -1, 1);
  CHECK(net(x).to_vector() == (*second)((*first)(x)).to_vector());
  CHECK(names(net.named_parameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(net.size() == 3);
  CHECK(net.at<nn::BasicLinear<double>>(2) == second);
  CHECK(net.at<nn::BasicLinear<double>>(1) == nullptr);
  CHECK_THROWS_WITH(net[3], Contains("index 3 is out of range for 3 modules"));
}

TEST_CASE("str prints the module tree like PyTorch", "[nn]") {
  Generator gen(0);
  nn::Sequential net(std::make_shared<nn::Linear>(2, 3, gen), std::make_shared<nn::Dropout>(0.25),
                     std::make_shared<nn::Linear>(3, 1, gen, false));
  CHECK(net.str() ==
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=true)\n"
        "  (1): Dropout(p=0.25)\n"
        "  (2): Linear(in_features=3, out_features=1, bias=false)\n"
        ")");
}

TEST_CASE("Flatten merges all axes but the batch axis", "[nn]") {
  nn::BasicFlatten<double> flat;
  const DoubleTensor x = random_leaf({2, 3, 4}, 15, -1, 1);
  const DoubleTensor y = flat(x);
  CHECK(y.shape() == Shape{2, 12});
  CHECK(y.to_vector() == x.to_vector());
  CHECK(nn::BasicFlatten<double>(0, 1)(x).shape() == Shape{6, 4});
}

TEST_CASE("Dropout zeroes elements with probability p and scales the rest by 1/(1-p)", "[nn]") {
  nn::BasicDropout<double> drop(0.25, 42);
  const DoubleTensor x = DoubleTensor::full({10000}, 3.0, true);
  const DoubleTensor y = drop(x);
  int64_t zeros = 0;
  bool only_two_values = true;
  for (double v : y.to_vector()) {
    zeros += v == 0;
    only_two_values = only_two_values && (v == 0 || v == Approx(4.0));  // 3 / (1 - 0.25)
  }
  CHECK(only_two_values);
  // 2500 expected, binomial standard deviation sqrt(10000 * 0.25 * 0.75) ~ 43: within 5 sigma.
  CHECK(zeros > 2500 - 217);
  CHECK(zeros < 2500 + 217);
  eigrad::sum(y).backward();
  // d y / d x is the mask: 0 or 1 / (1 - p), exactly where y is.
  const V g = x.grad().to_vector(), yv = y.to_vector();
  bool mask_is_gradient = true;
  for (size_t i = 0; i < g.size(); ++i) mask_is_gradient = mask_is_gradient && g[i] == yv[i] / 3.0;
  CHECK(mask_is_gradient);
}

TEST_CASE("Dropout is the identity in eval mode and repeats itself for a seed", "[nn]") {
  const DoubleTensor x = random_leaf({100}, 16, -1, 1);
  nn::BasicDropout<double> a(0.5, 7), b(0.5, 7);
  CHECK(a(x).to_vector() == b(x).to_vector());
  a.eval();
  CHECK(a(x).same(x));
  CHECK(nn::BasicDropout<double>(0.0, 1)(x).same(x));
  CHECK(nn::BasicDropout<double>(1.0, 1)(x).to_vector() == V(100, 0.0));
  CHECK_THROWS_WITH(nn::Dropout(1.5), Contains("Dropout: the probability p must be in [0, 1]"));
  Generator gen(0);
  CHECK_THROWS_WITH(nn::dropout(x, -0.1, true, gen), Contains("dropout: the probability p"));
}

TEST_CASE("dropout's mask is the documented counter-based stream, and its pairs are independent",
          "[nn]") {
  // The stream as nn/functional.hpp documents it: seed = two 32-bit draws, word k =
  // SplitMix64(seed + (k + 1) * golden), high 32 bits for element 2k, low for 2k + 1.
  const auto mix = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  const double p = 0.3;
  const int64_t n = 100001;  // odd: the last element takes a word of its own
  Generator gen(5), replay(5);
  const DoubleTensor y = nn::dropout(DoubleTensor::ones({n}), p, true, gen);
  const uint64_t seed =
      (replay.randint(uint64_t{1} << 32) << 32) | replay.randint(uint64_t{1} << 32);
  const std::vector<double> v = y.to_vector();
  int64_t mismatches = 0, kept = 0, both = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t z = mix(seed + static_cast<uint64_t>(i / 2 + 1) * 0x9E3779B97F4A7C15ull);
    const uint64_t u = i % 2 == 0 ? z >> 32 : z & 0xFFFFFFFFull;
    const bool keep = static_cast<double>(u) / 4294967296.0 >= p;
    mismatches += (v[static_cast<size_t>(i)] != 0) != keep;
    kept += keep;
    if (i % 2 == 1) both += keep && v[static_cast<size_t>(i - 1)] != 0;
  }
  CHECK(mismatches == 0);
  // The generator moved by exactly the two seed draws, whatever the size.
  CHECK(gen.uniform() == replay.uniform());
  // Kept: 70000 expected, sd sqrt(n p (1 - p)) ~ 145; the two halves of a word together:
  // 50000 pairs x 0.49 = 24500, sd ~ 112. Both within 5 sd.
  CHECK(std::abs(static_cast<double>(kept) - 0.7 * n) < 5 * 145);
  CHECK(std::abs(static_cast<double>(both) - 0.49 * 50000) < 5 * 112);
}

// ---------------------------------------------------------------- initialisers

TEST_CASE("calculate_gain follows PyTorch's table", "[nn]") {
  CHECK(nn::init::calculate_gain("linear") == 1.0);
  CHECK(nn::init::calculate_gain("sigmoid") == 1.0);
  CHECK(nn::init::calculate_gain("tanh") == Approx(5.0 / 3.0));
  CHECK(nn::init::calculate_gain("relu") == Approx(std::sqrt(2.0)));
  CHECK(nn::init::calculate_gain("leaky_relu", 0.2) == Approx(std::sqrt(2.0 / 1.04)));
  CHECK(nn::init::calculate_gain("selu") == 0.75);
  CHECK_THROWS_WITH(nn::init::calculate_gain("swishy"), Contains("unknown nonlinearity 'swishy'"));
}

TEST_CASE("xavier and kaiming initialisers draw with PyTorch's bounds and deviations", "[nn]") {
  Generator gen(17);
  // [out, in, k] = [200, 50, 2]: fan_in = 100, fan_out = 400.
  DoubleTensor t = DoubleTensor::empty({200, 50, 2});
  auto fans = nn::init::calculate_fans(t);
  CHECK(fans.fan_in == 100);
  CHECK(fans.fan_out == 400);
  auto stddev = [](const DoubleTensor& x) {
    const DoubleTensor::Array a = x.array();
    return std::sqrt((a - a.mean()).square().mean());
  };
  const double xavier_bound = 2.0 * std::sqrt(6.0 / 500.0);
  nn::init::xavier_uniform_(t, gen, 2.0);
  CHECK(t.array().abs().maxCoeff() <= xavier_bound);
  CHECK(t.array().abs().maxCoeff() > 0.99 * xavier_bound);
  nn::init::xavier_normal_(t, gen);
  CHECK(stddev(t) == Approx(std::sqrt(2.0 / 500.0)).epsilon(0.03));
  nn::init::kaiming_uniform_(t, gen, 0.0, nn::init::FanMode::FanOut, "relu");
  CHECK(t.array().abs().maxCoeff() <= std::sqrt(2.0) * std::sqrt(3.0 / 400.0));
  nn::init::kaiming_normal_(t, gen);  // leaky_relu with a = 0: gain sqrt 2, fan_in
  CHECK(stddev(t) == Approx(std::sqrt(2.0) / 10.0).epsilon(0.03));
  // The same generator state gives the same numbers.
  Generator g1(3), g2(3);
  CHECK(nn::init::kaiming_normal_(DoubleTensor::empty({4, 4}), g1).to_vector() ==
        nn::init::kaiming_normal_(DoubleTensor::empty({4, 4}), g2).to_vector());
  CHECK_THROWS_WITH(nn::init::xavier_uniform_(DoubleTensor::empty({5}), gen),
                    Contains("rank 2 or more") && Contains("[5]"));
}

// Found by fuzz/fuzz_ops: the bias gradient of an empty batch read through a null pointer.
TEST_CASE("linear on an empty batch gives zero weight and bias gradients", "[nn]") {
  DoubleTensor x = DoubleTensor::zeros({0, 2}, true);
  DoubleTensor w = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {3, 2}, true);
  DoubleTensor b = DoubleTensor::from({1, 2, 3}, {3}, true);
  const DoubleTensor y = nn::linear(x, w, b);
  CHECK(y.shape() == Shape{0, 3});
  y.backward(DoubleTensor::zeros({0, 3}));
  CHECK(w.grad().to_vector() == V(6, 0.0));
  CHECK(b.grad().to_vector() == V(3, 0.0));
  CHECK(x.grad().shape() == Shape{0, 2});
}
