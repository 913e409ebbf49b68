// Numerics under stress: every catalogue activation (through the catalogue) and every loss, in
// float32 and float64, on inputs of +-1e4, +-1e30 (exp overflows in float32 beyond 88.7),
// denormals, signed zeros, the largest finite values and NaN. The behaviour pinned down here:
//
//  - A finite input never gives NaN, forward or backward, for any parameter values in an entry's
//    domain, including where beta x overflows in softplus, 1 / alpha overflows in celu and 4 x
//    overflows in mish's gradient (each tested on its own below).
//  - At +-1e4 and +-1e30 every activation returns its limit, exactly to rounding: 1 and 0 for
//    sigmoid, x and 0 for relu, x and 0.01 x for leaky_relu, x and -alpha for elu, ... (table
//    `limits` below), with the limit's derivative (0 in every saturated tail).
//  - At denormals and at the smallest normal numbers, f(x) = f(0) + f'(0) x to rounding, with
//    the one-sided derivative on x's side of 0. At +0 and -0 alike the derivative is the left one:
//    x = 0 takes the negative branch (PyTorch 1.13), so relu'(0) = 0, leaky_relu'(0) = slope.
//  - NaN in gives NaN out and a NaN gradient for that element only; along an axis (softmax,
//    log_softmax) NaN makes its own slice NaN and leaves the others alone; a PReLU channel that
//    holds NaN gets a NaN slope gradient.
//  - Losses: cross_entropy, nll_loss and binary_cross_entropy_with_logits are exact at +-1e30
//    (a confident right answer costs 0, a confident wrong one |logit gap|); mse_loss overflows
//    to +inf in float32 where (input - target)^2 exceeds 3.4e38, never NaN, with a finite
//    gradient. A NaN input makes its own sample's loss and gradient NaN (nll_loss reads only the
//    label's entry, so NaN elsewhere in its row changes nothing).
//
// Expected values are the functions' limits and first-order expansions, derived by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/nn/loss.hpp"
#include "support.hpp"

using eigrad::ActivationInfo;
using eigrad::ActivationKind;
using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Tensor;
using eigrad::nn::Reduction;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

template <class T>
struct Result {
  std::vector<T> y, dx, dslopes;
};

// The entry applied to x (shape [n] for elementwise entries, [n/2, 2] along an axis, [n, 1] for
// prelu with one slope of 0.25), then backward with a gradient of ones.
template <class T>
Result<T> run(const ActivationInfo& info, const std::vector<T>& xs,
              const std::vector<double>& values = {}) {
  const int64_t n = static_cast<int64_t>(xs.size());
  const eigrad::Shape shape = info.kind == ActivationKind::Elementwise ? eigrad::Shape{n}
                              : info.kind == ActivationKind::AlongAxis ? eigrad::Shape{n / 2, 2}
                                                                       : eigrad::Shape{n, 1};
  BasicTensor<T> x = BasicTensor<T>::from(xs, shape, true);
  BasicTensor<T> slopes = BasicTensor<T>::full({1}, T(0.25), true);
  const BasicTensor<T> y =
      info.kind == ActivationKind::PerChannel ? info.apply(x, slopes) : info.apply(x, values);
  y.backward(BasicTensor<T>::ones(y.shape()));
  Result<T> r{y.to_vector(), x.grad().to_vector(), {}};
  if (info.kind == ActivationKind::PerChannel) r.dslopes = slopes.grad().to_vector();
  return r;
}

// |actual - expected| within a few ulps of T, or a few denormals near 0.
template <class T>
bool close(T actual, double expected) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return static_cast<double>(actual) == expected;
  const double eps = std::numeric_limits<T>::epsilon();
  const double tiny = std::numeric_limits<T>::denorm_min();
  return std::fabs(static_cast<double>(actual) - expected) <=
         8 * eps * std::fabs(expected) + 4 * tiny;
}

// ---- limits at large |x| (default parameters; prelu with a slope of 0.25) ----
using Fn = double (*)(double);
struct Limit {
  Fn pos;  // f(x) for large positive x
  double dpos;
  Fn neg;  // f(x) for large negative x
  double dneg;
};

double zero(double) {
  return 0;
}
double one(double) {
  return 1;
}
double identity(double x) {
  return x;
}

// Adding an activation to the catalogue means adding its limits here.
const std::map<std::string, Limit>& limits() {
  static const std::map<std::string, Limit> l = {
      {"sigmoid", {one, 0, zero, 0}},
      {"hard_sigmoid", {one, 0, zero, 0}},
      {"tanh", {one, 0, [](double) { return -1.0; }, 0}},
      {"relu", {identity, 1, zero, 0}},
      {"relu6", {[](double) { return 6.0; }, 0, zero, 0}},
      {"leaky_relu", {identity, 1, [](double x) { return 0.01 * x; }, 0.01}},
      {"elu", {identity, 1, [](double) { return -1.0; }, 0}},
      {"selu",
       {[](double x) { return kSeluScale * x; }, kSeluScale,
        [](double) { return -kSeluScale * kSeluAlpha; }, 0}},
      {"celu", {identity, 1, [](double) { return -1.0; }, 0}},
      {"gelu", {identity, 1, zero, 0}},
      {"gelu_tanh", {identity, 1, zero, 0}},
      {"softplus", {identity, 1, zero, 0}},
      {"softsign", {one, 0, [](double) { return -1.0; }, 0}},  // derivative 1/(1+|x|)^2 below
      {"swish", {identity, 1, zero, 0}},
      {"hardswish", {identity, 1, zero, 0}},
      {"mish", {identity, 1, zero, 0}},
      {"prelu", {identity, 1, [](double x) { return 0.25 * x; }, 0.25}},
  };
  return l;
}

// ---- behaviour next to 0: f(0), f'(0-) and f'(0+) ----
struct AtZero {
  double f0, dleft, dright;
};
const std::map<std::string, AtZero>& at_zero() {
  static const std::map<std::string, AtZero> z = {
      {"sigmoid", {0.5, 0.25, 0.25}},
      {"hard_sigmoid", {0.5, 1.0 / 6, 1.0 / 6}},
      {"tanh", {0, 1, 1}},
      {"relu", {0, 0, 1}},
      {"relu6", {0, 0, 1}},
      {"leaky_relu", {0, 0.01, 1}},
      {"elu", {0, 1, 1}},
      {"selu", {0, kSeluScale * kSeluAlpha, kSeluScale}},
      {"celu", {0, 1, 1}},
      {"gelu", {0, 0.5, 0.5}},
      {"gelu_tanh", {0, 0.5, 0.5}},
      {"softplus", {std::log(2.0), 0.5, 0.5}},
      {"softsign", {0, 1, 1}},
      {"swish", {0, 0.5, 0.5}},
      {"hardswish", {0, 0.5, 0.5}},
      {"mish", {0, 0.6, 0.6}},  // tanh(log 2) = 3/5
      {"prelu", {0, 0.25, 1}},
  };
  return z;
}

bool elementwise_like(const ActivationInfo& info) {
  return info.kind != ActivationKind::AlongAxis;
}

template <class T>
void check_limits() {
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (!elementwise_like(info)) continue;
    REQUIRE(limits().count(info.name));
    const Limit& l = limits().at(info.name);
    const std::vector<T> xs = {T(1e4), T(-1e4), T(1e30), T(-1e30)};
    const Result<T> r = run(info, xs);
    for (size_t i = 0; i < xs.size(); ++i) {
      const double x = xs[i];
      INFO(info.name << "(" << x << ") in " << BasicTensor<T>::dtype() << ": " << r.y[i]
                     << ", derivative " << r.dx[i]);
      double f = x > 0 ? l.pos(x) : l.neg(x), d = x > 0 ? l.dpos : l.dneg;
      if (info.name == "softsign") {
        f = x / (1 + std::fabs(x));
        d = 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x)));
      }
      CHECK(close(r.y[i], f));
      CHECK(close(r.dx[i], d));
    }
  }
}

template <class T>
void check_next_to_zero() {
  const T tiny = std::numeric_limits<T>::denorm_min(), small = std::numeric_limits<T>::min();
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (!elementwise_like(info)) continue;
    REQUIRE(at_zero().count(info.name));
    const AtZero& z = at_zero().at(info.name);
    const std::vector<T> xs = {tiny, -tiny, small, -small, T(0), -T(0)};
    const Result<T> r = run(info, xs);
    for (size_t i = 0; i < xs.size(); ++i) {
      const double x = xs[i];
      INFO(info.name << "(" << (std::signbit(x) ? "-" : "+") << std::fabs(x) << ") in "
                     << BasicTensor<T>::dtype() << ": " << r.y[i] << ", derivative " << r.dx[i]);
      const double d = x > 0 ? z.dright : z.dleft;  // +0 and -0 take the left derivative
      CHECK(close(r.y[i], z.f0 + d * x));
      CHECK(close(r.dx[i], d));
    }
  }
}

// Finite inputs from 0 to the largest finite value, both signs.
template <class T>
std::vector<T> finite_inputs() {
  std::vector<T> xs;
  for (T v : {T(0), std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::min(), T(1e-30),
              T(0.5), T(1), T(3), T(6), T(10), T(20), T(50), T(88.7), T(89), T(100), T(710), T(1e4),
              T(1e15), T(1e30), std::numeric_limits<T>::max()}) {
    xs.push_back(v);
    xs.push_back(-v);
  }
  return xs;
}

// Parameter values to try, per entry (the defaults and the far ends of each domain).
std::vector<std::vector<double>> parameter_grid(const ActivationInfo& info) {
  if (info.name == "hard_sigmoid") return {{}, {0.2, 0.5}, {-1, 0}, {0, 0.5}, {5, 3}, {1e4, -2}};
  if (info.name == "leaky_relu") return {{}, {0.2}, {0}, {-0.5}, {5}};
  if (info.name == "elu") return {{}, {0.5}, {2}, {0}, {-1}, {100}};
  if (info.name == "celu") return {{}, {0.5}, {2}, {1e-3}, {100}};
  if (info.name == "softplus") return {{}, {0.5}, {-1}, {1, 0}, {1, 1e4}, {2}, {10, 5}};
  if (info.kind == ActivationKind::AlongAxis) return {{-1}, {0}};
  return {{}};
}

// Known bugs, each tested on its own below: softplus computes beta x, which overflows for
// |x| > max / |beta|; mish's backward computes 4 x, which overflows for x < -max / 4.
template <class T>
bool known_bug(const ActivationInfo& info, const std::vector<double>& values, T x) {
  const T max = std::numeric_limits<T>::max();
  if (info.name == "softplus")
    return !values.empty() && !(std::fabs(static_cast<T>(values[0]) * x) <= max);
  return info.name == "mish" && x < -max / 4;
}

template <class T>
void check_close(const std::vector<T>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    INFO("element " << i << ": " << actual[i] << ", expected " << expected[i]);
    CHECK(close(actual[i], expected[i]));
  }
}

template <class T>
void check_no_nan_from_finite() {
  const std::vector<T> all = finite_inputs<T>();
  for (const ActivationInfo& info : eigrad::test::builtin_activations())
    for (const std::vector<double>& values : parameter_grid(info)) {
      std::vector<T> xs;
      for (T x : all)
        if (!known_bug(info, values, x)) xs.push_back(x);
      const Result<T> r = run(info, xs, values);
      for (size_t i = 0; i < xs.size(); ++i) {
        INFO(info.name << " with " << values.size() << " parameter(s)"
                       << (values.empty() ? 0.0 : values[0]) << " at " << xs[i] << " in "
                       << BasicTensor<T>::dtype() << ": " << r.y[i] << ", derivative " << r.dx[i]);
        CHECK_FALSE(std::isnan(r.y[i]));
        CHECK_FALSE(std::isnan(r.dx[i]));
      }
      for (T d : r.dslopes) CHECK_FALSE(std::isnan(d));
    }
}

template <class T>
void check_nan_stays_put() {
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    INFO(info.name << " in " << BasicTensor<T>::dtype());
    // Along an axis the slices are rows of two: NaN poisons row 0 only.
    const std::vector<T> xs = {T(kNaN), T(1), T(-1), T(2)};
    const Result<T> r = run(info, xs);
    CHECK(std::isnan(r.y[0]));
    CHECK(std::isnan(r.dx[0]));
    const size_t first_clean = info.kind == ActivationKind::AlongAxis ? 2 : 1;
    for (size_t i = first_clean; i < xs.size(); ++i) {
      CHECK(std::isfinite(r.y[i]));
      CHECK(std::isfinite(r.dx[i]));
    }
    if (info.kind == ActivationKind::AlongAxis) {
      CHECK(std::isnan(r.y[1]));
      CHECK(std::isnan(r.dx[1]));
    }
    for (T d : r.dslopes) CHECK(std::isnan(d));
  }
}

}  // namespace

TEST_CASE("every activation returns its limit and the limit's derivative at +-1e4 and +-1e30",
          "[numerics]") {
  check_limits<float>();
  check_limits<double>();
}

TEST_CASE("at denormals every activation is its first-order expansion around 0", "[numerics]") {
  check_next_to_zero<float>();
  check_next_to_zero<double>();
}

TEST_CASE("+0 and -0 give every activation the same value and the left derivative", "[numerics]") {
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (!elementwise_like(info)) continue;
    INFO(info.name);
    const Result<double> r = run(info, std::vector<double>{0.0, -0.0});
    CHECK(r.y[0] == r.y[1]);
    CHECK(r.dx[0] == r.dx[1]);
    CHECK(r.dx[0] == Approx(at_zero().at(info.name).dleft).epsilon(1e-15));
  }
}

TEST_CASE("no activation turns a finite input into NaN, for parameters across their domains",
          "[numerics]") {
  check_no_nan_from_finite<float>();
  check_no_nan_from_finite<double>();
}

// Softplus::forward computes step(z - threshold) x + (1 - step(z - threshold)) smooth(z) with
// z = beta x; where z overflows to inf, smooth(z) must still be finite (0 inf would be NaN).
TEST_CASE("softplus stays finite where beta x overflows", "[numerics]") {
  const Tensor y = eigrad::softplus(Tensor::from({3e38f, -3e38f}), 2.0f);
  CHECK(y.to_vector() == std::vector<float>{3e38f, 0.0f});
  const DoubleTensor yd = eigrad::softplus(DoubleTensor::from({1e308, -1e308}), 10.0);
  CHECK(yd.to_vector() == std::vector<double>{1e308, 0.0});
}

// Celu multiplies min(x, 0) by 1 / alpha, which overflows to inf for a tiny alpha; min(x, 0) = 0
// times inf would be NaN for every x >= 0.
TEST_CASE("celu stays finite when 1 / alpha overflows", "[numerics]") {
  const auto& celu = eigrad::find_activation("celu");
  Tensor x = Tensor::from({0.0f, 2.0f, -2.0f}, {3}, true);
  const Tensor y = celu.apply(x, {1e-39});  // a float32 denormal: 1 / alpha is inf
  y.backward(Tensor::ones({3}));
  CHECK(y.to_vector() == std::vector<float>{0.0f, 2.0f, -1e-39f});
  CHECK(x.grad().to_vector() == std::vector<float>{1.0f, 1.0f, 0.0f});  // 0: exp(0 / alpha)
  DoubleTensor xd = DoubleTensor::from({0.0, 2.0}, {2}, true);
  const DoubleTensor yd = celu.apply(xd, {1e-310});
  yd.backward(DoubleTensor::ones({2}));
  CHECK(yd.to_vector() == std::vector<double>{0.0, 2.0});
  CHECK(xd.grad().to_vector() == std::vector<double>{1.0, 1.0});
}

// Mish's gradient has a term 4 x e (1 + e) with e = exp(x); for x < -max / 4, 4 x overflows to
// -inf, and -inf * 0 would be NaN.
TEST_CASE("mish's gradient stays finite at the most negative inputs", "[numerics]") {
  const auto& mish = eigrad::find_activation("mish");
  Tensor x = Tensor::from({-std::numeric_limits<float>::max(), -1e38f}, {2}, true);
  mish.apply(x).backward(Tensor::ones({2}));
  CHECK(x.grad().to_vector() == std::vector<float>{0.0f, 0.0f});
  DoubleTensor xd = DoubleTensor::from({-std::numeric_limits<double>::max()}, {1}, true);
  mish.apply(xd).backward(DoubleTensor::ones({1}));
  CHECK(xd.grad().item() == 0.0);
}

TEST_CASE("NaN gives NaN in its own element or slice and nowhere else", "[numerics]") {
  check_nan_stays_put<float>();
  check_nan_stays_put<double>();
}

TEST_CASE("softmax and log_softmax of rows spanning +-1e30 are exact", "[numerics]") {
  const float tiny = std::numeric_limits<float>::denorm_min();
  Tensor x = Tensor::from({1e30f, -1e30f, 1e30f, 1e30f, tiny, -tiny, 0.0f, -0.0f}, {4, 2}, true);
  const Tensor s = eigrad::softmax(x);
  check_close(s.to_vector(), {1, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
  const Tensor l = eigrad::log_softmax(x);
  const double log2 = std::log(2.0);
  check_close(l.to_vector(), {0, -2e30, -log2, -log2, -log2, -log2, -log2, -log2});
  // With g = [1, 0] per row: softmax's y (g - sum(g y)) and log_softmax's g - exp(y) sum(g).
  const Tensor g = Tensor::from({1, 0, 1, 0, 1, 0, 1, 0}, {4, 2});
  s.backward(g);
  check_close(x.grad().to_vector(), {0, 0, 0.25, -0.25, 0.25, -0.25, 0.25, -0.25});
  x.zero_grad();
  l.backward(g);
  check_close(x.grad().to_vector(), {0, 0, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5});
}

TEST_CASE("log_softmax gives -inf where the true value is below float32's range, never NaN",
          "[numerics]") {
  // [3e38, -3e38]: x - max = -6e38 overflows; softmax is exactly [1, 0] and its gradient finite.
  Tensor x = Tensor::from({3e38f, -3e38f}, {1, 2}, true);
  const Tensor l = eigrad::log_softmax(x);
  CHECK(l.to_vector() == std::vector<float>{0, -std::numeric_limits<float>::infinity()});
  l.backward(Tensor::from({1, 1}, {1, 2}));
  CHECK(x.grad().to_vector() == std::vector<float>{-1, 1});  // g - exp(y) sum(g)
}

// ---------------------------------------------------------------- losses

TEST_CASE("cross_entropy is exact at logits of +-1e30, denormals and signed zeros", "[numerics]") {
  const float tiny = std::numeric_limits<float>::denorm_min();
  // Row 0: confident and right (loss 0); row 1: confident and wrong (loss = the logit gap);
  // rows 2 and 3: a tie (loss log 2).
  Tensor x = Tensor::from({1e30f, -1e30f, 1e30f, -1e30f, tiny, -tiny, 0.0f, -0.0f}, {4, 2}, true);
  const Tensor loss = eigrad::nn::cross_entropy(x, {0, 1, 0, 1}, Reduction::None);
  check_close(loss.to_vector(), {0, 2e30, std::log(2.0), std::log(2.0)});
  loss.backward(Tensor::ones({4}));  // softmax - onehot
  check_close(x.grad().to_vector(), {0, 0, 1, -1, -0.5, 0.5, 0.5, -0.5});

  DoubleTensor xd = DoubleTensor::from({1e4, -1e4, -1e4, 1e4}, {2, 2}, true);
  const DoubleTensor mean = eigrad::nn::cross_entropy(xd, {1, 1});
  CHECK(mean.item() == 1e4);  // (2e4 + 0) / 2
  mean.backward();
  CHECK(xd.grad().to_vector() == std::vector<double>{0.5, -0.5, 0, 0});
}

TEST_CASE("cross_entropy and nll_loss keep NaN inside its own sample", "[numerics]") {
  Tensor x = Tensor::from({float(kNaN), 1, 2, 3}, {2, 2}, true);
  const Tensor ce = eigrad::nn::cross_entropy(x, {1, 0}, Reduction::None);
  ce.backward(Tensor::ones({2}));
  CHECK(std::isnan(ce.to_vector()[0]));
  CHECK(std::isfinite(ce.to_vector()[1]));
  const std::vector<float> g = x.grad().to_vector();
  CHECK((std::isnan(g[0]) && std::isnan(g[1]) && std::isfinite(g[2]) && std::isfinite(g[3])));

  // nll_loss reads only the label's entry: NaN elsewhere in the row changes nothing.
  DoubleTensor lp = DoubleTensor::from({kNaN, -1e30, -2, kNaN}, {2, 2}, true);
  const DoubleTensor nll = eigrad::nn::nll_loss(lp, {1, 0});
  CHECK(nll.item() == (1e30 + 2) / 2);
  nll.backward();
  CHECK(lp.grad().to_vector() == std::vector<double>{0, -0.5, -0.5, 0});
}

TEST_CASE("mse_loss overflows to inf in float32 beyond its range and is never NaN", "[numerics]") {
  const float tiny = std::numeric_limits<float>::denorm_min();
  Tensor input = Tensor::from({1e30f, 1e4f, tiny, -0.0f}, {4}, true);
  Tensor target = Tensor::from({-1e30f, -1e4f, -tiny, 0.0f}, {4}, true);
  const Tensor loss = eigrad::nn::mse_loss(input, target, Reduction::None);
  // (2e30)^2 = 4e60 exceeds float32's 3.4e38; (2e4)^2 = 4e8; (2 tiny)^2 underflows to 0.
  CHECK(loss.to_vector() == std::vector<float>{std::numeric_limits<float>::infinity(), 4e8f, 0, 0});
  loss.backward(Tensor::ones({4}));
  CHECK(input.grad().to_vector() == std::vector<float>{4e30f, 4e4f, 4 * tiny, 0});
  CHECK(target.grad().to_vector() == std::vector<float>{-4e30f, -4e4f, -4 * tiny, 0});

  DoubleTensor a = DoubleTensor::from({1e30, kNaN}, {2}, true);
  const DoubleTensor b = DoubleTensor::from({-1e30, 0}, {2});
  const DoubleTensor per = eigrad::nn::mse_loss(a, b, Reduction::None);
  const double gap = 1e30 + 1e30;
  CHECK(per.to_vector()[0] == gap * gap);
  CHECK(std::isnan(per.to_vector()[1]));
  per.backward(DoubleTensor::ones({2}));
  CHECK(a.grad().to_vector()[0] == 2 * gap);
  CHECK(std::isnan(a.grad().to_vector()[1]));
}

TEST_CASE("binary_cross_entropy_with_logits is exact at logits of +-1e30 and keeps NaN local",
          "[numerics]") {
  // Confident right answers cost 0, confident wrong ones |x|; a target of 1/2 costs |x| / 2.
  Tensor x = Tensor::from({1e30f, 1e30f, -1e30f, -1e30f, 1e30f, -0.0f}, {6}, true);
  Tensor y = Tensor::from({1, 0, 0, 1, 0.5f, 1}, {6}, true);
  const Tensor loss = eigrad::nn::binary_cross_entropy_with_logits(x, y, Reduction::None);
  check_close(loss.to_vector(), {0, 1e30, 0, 1e30, 5e29, std::log(2.0)});
  loss.backward(Tensor::ones({6}));
  check_close(x.grad().to_vector(), {0, 1, 0, -1, 0.5, -0.5});              // sigmoid(x) - y
  check_close(y.grad().to_vector(), {-1e30, -1e30, 1e30, 1e30, -1e30, 0});  // -x

  DoubleTensor xd = DoubleTensor::from({kNaN, 1e4}, {2}, true);
  const DoubleTensor yd = DoubleTensor::from({1, 1}, {2});
  const DoubleTensor per = eigrad::nn::binary_cross_entropy_with_logits(xd, yd, Reduction::None);
  per.backward(DoubleTensor::ones({2}));
  CHECK(std::isnan(per.to_vector()[0]));
  CHECK(per.to_vector()[1] == 0);
  CHECK(std::isnan(xd.grad().to_vector()[0]));
  CHECK(xd.grad().to_vector()[1] == 0);
}

TEST_CASE("no loss turns finite inputs into NaN, in either dtype", "[numerics]") {
  const auto sweep = [](auto zero) {
    using T = decltype(zero);
    const std::vector<T> values = finite_inputs<T>();
    const int64_t n = static_cast<int64_t>(values.size());
    BasicTensor<T> x = BasicTensor<T>::from(values, {n / 2, 2}, true);
    // Every second target is 0, 1 or 1/2; the labels alternate between the two classes.
    std::vector<T> targets;
    for (int64_t i = 0; i < n; ++i) targets.push_back(T(0.5) * static_cast<T>(i % 3));
    BasicTensor<T> t = BasicTensor<T>::from(targets, {n / 2, 2}, true);
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < n / 2; ++i) labels.push_back(i % 2);
    // (Not nll_loss's mean: +-max are no log-probabilities, and their sum overflows both ways.)
    const std::vector<BasicTensor<T>> losses = {
        eigrad::nn::cross_entropy(x, labels, Reduction::None),
        eigrad::nn::cross_entropy(x, labels),
        eigrad::nn::nll_loss(x, labels, Reduction::None),
        eigrad::nn::mse_loss(x, t, Reduction::None),
        eigrad::nn::mse_loss(x, t),
        eigrad::nn::binary_cross_entropy_with_logits(x, t, Reduction::None),
        eigrad::nn::binary_cross_entropy_with_logits(x, t)};
    const char* names[] = {"cross_entropy",
                           "cross_entropy (mean)",
                           "nll_loss",
                           "mse_loss",
                           "mse_loss (mean)",
                           "binary_cross_entropy_with_logits",
                           "binary_cross_entropy_with_logits (mean)"};
    for (size_t k = 0; k < losses.size(); ++k) {
      INFO(names[k] << " in " << BasicTensor<T>::dtype());
      x.zero_grad();
      t.zero_grad();
      losses[k].backward(BasicTensor<T>::ones(losses[k].shape()));
      for (T v : losses[k].to_vector()) CHECK_FALSE(std::isnan(v));
      for (T v : x.grad().to_vector()) CHECK_FALSE(std::isnan(v));
      if (t.grad().defined())
        for (T v : t.grad().to_vector()) CHECK_FALSE(std::isnan(v));
    }
  };
  sweep(0.0f);
  sweep(0.0);
}
