// The activation catalogue: every entry against closed forms written here independently
// (PyTorch 1.13's definitions, scalar std:: math in double or long double), at edge points, in
// float32 and float64, forward and backward; gradcheck of every entry; the runtime catalogue.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/gradcheck.hpp"
#include "support.hpp"

using eigrad::ActivationInfo;
using eigrad::ActivationKind;
using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- closed forms: f(x; p) and f'(x; p), PyTorch 1.13's definitions and conventions at kinks ----
using Fn = double (*)(double x, const double* p);
struct Reference {
  Fn f, df;
};

long double sigmoid_ref(long double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr long double kSqrt2OverPi = 0.797884560802865355879892119868763737L;
constexpr double kInvSqrt2Pi = 0.398942280401432677939946059934381868;

// Adding an activation to the catalogue means adding its closed form here.
const std::map<std::string, Reference>& references() {
  static const std::map<std::string, Reference> r = {
      {"sigmoid",
       {[](double x, const double*) { return double(sigmoid_ref(x)); },
        [](double x, const double*) {
          const long double e = std::exp(-std::fabs(x));
          return double(e / ((1 + e) * (1 + e)));
        }}},
      // The defaults as PyTorch's hardsigmoid: relu6(x + 3) / 6, slope 1/6 for -3 < x < 3.
      {"hard_sigmoid",
       {[](double x, const double* p) {
          if (p[0] == 1.0 / 6.0 && p[1] == 0.5) return std::min(std::max(x + 3, 0.0), 6.0) / 6;
          return std::min(std::max(p[0] * x + p[1], 0.0), 1.0);
        },
        [](double x, const double* p) {
          if (p[0] == 1.0 / 6.0 && p[1] == 0.5) return x > -3 && x < 3 ? 1.0 / 6.0 : 0.0;
          const double t = p[0] * x + p[1];
          return t > 0 && t < 1 ? p[0] : 0.0;
        }}},
      {"tanh",
       {[](double x, const double*) { return std::tanh(x); },
        [](double x, const double*) {
          const long double c = std::cosh(static_cast<long double>(x));
          return double(1 / (c * c));
        }}},
      {"relu",
       {[](double x, const double*) { return x > 0 ? x : 0.0; },
        [](double x, const double*) { return x > 0 ? 1.0 : 0.0; }}},
      {"relu6",
       {[](double x, const double*) { return x > 6   ? 6.0
                                             : x > 0 ? x
                                                     : 0.0; },
        [](double x, const double*) { return x > 0 && x < 6 ? 1.0 : 0.0; }}},
      {"leaky_relu",
       {[](double x, const double* p) { return x > 0 ? x : p[0] * x; },
        [](double x, const double* p) { return x > 0 ? 1.0 : p[0]; }}},
      {"elu",
       {[](double x, const double* p) { return x > 0 ? x : p[0] * std::expm1(x); },
        [](double x, const double* p) { return x > 0 ? 1.0 : p[0] * std::exp(x); }}},
      {"selu",
       {[](double x, const double*) {
          return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x));
        },
        [](double x, const double*) {
          return kSeluScale * (x > 0 ? 1.0 : kSeluAlpha * std::exp(x));
        }}},
      {"celu",
       {[](double x, const double* p) { return x > 0 ? x : p[0] * std::expm1(x / p[0]); },
        [](double x, const double* p) { return x > 0 ? 1.0 : std::exp(x / p[0]); }}},
      {"gelu",
       {[](double x, const double*) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); },
        [](double x, const double*) {
          return 0.5 * std::erfc(-x / std::sqrt(2.0)) + x * std::exp(-0.5 * x * x) * kInvSqrt2Pi;
        }}},
      {"gelu_tanh",
       {[](double x, const double*) {
          const long double u = kSqrt2OverPi * (x + 0.044715L * x * x * x);
          return double(0.5L * x * (1 + std::tanh(u)));
        },
        [](double x, const double*) {
          const long double X = x, t = std::tanh(kSqrt2OverPi * (X + 0.044715L * X * X * X));
          return double(0.5L * (1 + t) +
                        0.5L * X * (1 - t * t) * kSqrt2OverPi * (1 + 3 * 0.044715L * X * X));
        }}},
      {"softplus",
       {[](double x, const double* p) {
          return p[0] * x > p[1] ? x : double(std::log1p(std::exp(p[0] * (long double)x)) / p[0]);
        },
        [](double x, const double* p) {
          return p[0] * x > p[1] ? 1.0 : double(sigmoid_ref(p[0] * (long double)x));
        }}},
      {"softsign",
       {[](double x, const double*) { return x / (1 + std::fabs(x)); },
        [](double x, const double*) { return 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x))); }}},
      {"swish",
       {[](double x, const double*) { return double(x * sigmoid_ref(x)); },
        [](double x, const double*) {
          const long double s = sigmoid_ref(x);
          return double(s + x * s * (1 - s));
        }}},
      {"hardswish",
       {[](double x, const double*) { return x <= -3  ? 0.0
                                             : x >= 3 ? x
                                                      : x * (x + 3) / 6; },
        [](double x, const double*) { return x < -3   ? 0.0
                                             : x <= 3 ? x / 3 + 0.5
                                                      : 1.0; }}},
      {"mish",
       {[](double x, const double*) {
          return double(x * std::tanh(std::log1p(std::exp(static_cast<long double>(x)))));
        },
        [](double x, const double*) {
          const long double t = std::tanh(std::log1p(std::exp(static_cast<long double>(x))));
          return double(t + x * (1 - t * t) * sigmoid_ref(x));
        }}},
  };
  return r;
}

bool close(double got, double expected, double atol, double rtol) {
  if (std::isnan(expected)) return std::isnan(got);
  return std::fabs(got - expected) <= atol + rtol * std::fabs(expected);
}

template <class T>
struct Tolerance;
// float32: Eigen's vectorized exp/tanh/erf are within a few ulp; a derivative taken from the
// saved output (sigmoid, tanh) inherits the output's rounding in absolute terms.
template <>
struct Tolerance<float> {
  static constexpr double atol = 1e-6, rtol = 1e-5;
};
template <>
struct Tolerance<double> {
  static constexpr double atol = 1e-14, rtol = 1e-12;
};

template <class T>
std::vector<double> as_seen_by(const std::vector<double>& values) {
  std::vector<double> r;
  for (double v : values) r.push_back(static_cast<T>(v));
  return r;
}

// Forward and g * f' of an elementwise entry at the edge points and its kinks, each point alone
// (Eigen's scalar path) and tiled (its vectorized path), against the closed form.
template <class T>
void check_against_closed_form(const ActivationInfo& info, const std::vector<double>& values) {
  const auto ref = references().find(info.name);
  REQUIRE(ref != references().end());
  const std::vector<double> p = as_seen_by<T>(info.resolve(values));
  std::vector<double> points = {0, 1e-8, -1e-8, 1, -1, 3, -3, 20, -20, 88, -88, 1000, -1000, kNaN};
  for (double k : info.kinks(values)) points.push_back(k);
  for (const int copies : {1, 40}) {
    for (size_t start = 0; start < points.size(); start += copies == 1 ? 1 : points.size()) {
      const size_t count = copies == 1 ? 1 : points.size();
      std::vector<T> xs;
      for (int c = 0; c < copies; ++c)
        for (size_t i = start; i < start + count; ++i) xs.push_back(static_cast<T>(points[i]));
      BasicTensor<T> x = BasicTensor<T>::from(xs);
      x.set_requires_grad();
      const BasicTensor<T> y = info.apply(x, values);
      y.backward(BasicTensor<T>::full(x.shape(), T(-1.5)));
      for (size_t i = 0; i < xs.size(); ++i) {
        const double xi = xs[i];
        // NaN in, NaN out (the closed forms' branches would turn it into a number).
        const double f = std::isnan(xi) ? kNaN : ref->second.f(xi, p.data());
        const double df = std::isnan(xi) ? kNaN : -1.5 * ref->second.df(xi, p.data());
        INFO(info.name << " (" << BasicTensor<T>::dtype() << (copies == 1 ? ", alone" : ", tiled")
                       << ") at x = " << xi);
        CHECK(close(y.data()[i], f, Tolerance<T>::atol, Tolerance<T>::rtol));
        CHECK(close(x.grad().data()[i], df, Tolerance<T>::atol, Tolerance<T>::rtol));
      }
    }
  }
}

// Parameter values other than the defaults, per entry.
const std::vector<std::pair<std::string, std::vector<double>>>& other_parameters() {
  static const std::vector<std::pair<std::string, std::vector<double>>> r = {
      {"hard_sigmoid", {0.2, 0.5}},  // Keras 2
      {"leaky_relu", {0.2}},        {"elu", {0.5}}, {"celu", {2.0}}, {"softplus", {2.0, 10.0}},
  };
  return r;
}

DoubleTensor softmax_reference(const DoubleTensor& x, int axis, bool log) {
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < s.rank(); ++i) {
    if (i < axis) outer *= s[i];
    if (i > axis) inner *= s[i];
  }
  const int64_t n = s[axis];
  DoubleTensor y = DoubleTensor::empty(s);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      auto at = [&](int64_t i) { return (o * n + i) * inner + k; };
      long double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<long double>(x.data()[at(i)]));
      for (int64_t i = 0; i < n; ++i)
        y.mutable_data()[at(i)] =
            log ? double(x.data()[at(i)] - std::log(sum))
                : double(std::exp(static_cast<long double>(x.data()[at(i)])) / sum);
    }
  return y;
}

}  // namespace

// ---------------------------------------------------------------- closed forms at edge points

TEST_CASE("every elementwise catalogue entry has a closed form in this file", "[activations]") {
  for (const ActivationInfo& info : eigrad::test::builtin_activations())
    if (info.kind == ActivationKind::Elementwise) {
      INFO(info.name);
      CHECK(references().count(info.name) == 1);
    }
}

TEST_CASE("elementwise activations match their closed forms at edge points in float32",
          "[activations]") {
  for (const ActivationInfo& info : eigrad::test::builtin_activations())
    if (info.kind == ActivationKind::Elementwise) check_against_closed_form<float>(info, {});
}

TEST_CASE("elementwise activations match their closed forms at edge points in float64",
          "[activations]") {
  for (const ActivationInfo& info : eigrad::test::builtin_activations())
    if (info.kind == ActivationKind::Elementwise) check_against_closed_form<double>(info, {});
}

TEST_CASE("the vectorized float32 kernels match the closed forms on a dense sweep of [-30, 30]",
          "[activations]") {
  // 2^14 evenly spaced points (every 16-float packet of them goes through the SIMD kernels),
  // forward and g * f' against the closed form evaluated in double at the same float input.
  constexpr int count = 1 << 14;
  std::vector<float> xs(count);
  for (int i = 0; i < count; ++i) xs[i] = float(-30.0 + 60.0 * i / (count - 1));
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    if (info.kind != ActivationKind::Elementwise) continue;
    const auto ref = references().find(info.name);
    REQUIRE(ref != references().end());
    const std::vector<double> p = as_seen_by<float>(info.resolve({}));
    Tensor x = Tensor::from(xs);
    x.set_requires_grad();
    const Tensor y = info.apply(x, std::vector<double>{});
    y.backward(Tensor::full(x.shape(), -1.5f));
    int bad = 0;
    for (int i = 0; i < count && bad < 3; ++i) {
      const double f = ref->second.f(xs[i], p.data()), df = -1.5 * ref->second.df(xs[i], p.data());
      const bool ok = close(y.data()[i], f, Tolerance<float>::atol, Tolerance<float>::rtol) &&
                      close(x.grad().data()[i], df, Tolerance<float>::atol, Tolerance<float>::rtol);
      if (!ok) {
        ++bad;
        INFO(info.name << " at x = " << xs[i] << ": f " << y.data()[i] << " against " << f
                       << ", g f' " << x.grad().data()[i] << " against " << df);
        CHECK(ok);
      }
    }
    INFO(info.name);
    CHECK(bad == 0);
  }
}

TEST_CASE("activations with parameters other than the defaults match their closed forms",
          "[activations]") {
  for (const auto& [name, values] : other_parameters()) {
    check_against_closed_form<float>(eigrad::find_activation(name), values);
    check_against_closed_form<double>(eigrad::find_activation(name), values);
  }
}

TEST_CASE("the functional API uses PyTorch 1.13's defaults", "[activations]") {
  const std::vector<double> xs = {-4, -3, -1.5, -0.25, 0, 0.25, 1.5, 3, 4, 7};
  const DoubleTensor x = DoubleTensor::from(xs);
  auto check = [&](const char* name, const DoubleTensor& y, std::vector<double> p) {
    const Reference& ref = references().at(name);
    for (size_t i = 0; i < xs.size(); ++i) {
      INFO(name << " at x = " << xs[i]);
      CHECK(close(y.data()[i], ref.f(xs[i], p.data()), 1e-14, 1e-12));
    }
  };
  check("sigmoid", eigrad::sigmoid(x), {});
  check("hard_sigmoid", eigrad::hard_sigmoid(x), {1.0 / 6.0, 0.5});
  check("tanh", eigrad::tanh(x), {});
  check("relu", eigrad::relu(x), {});
  check("relu6", eigrad::relu6(x), {});
  check("leaky_relu", eigrad::leaky_relu(x), {0.01});
  check("elu", eigrad::elu(x), {1.0});
  check("selu", eigrad::selu(x), {});
  check("celu", eigrad::celu(x), {1.0});
  check("gelu", eigrad::gelu(x), {});
  check("gelu_tanh", eigrad::gelu(x, eigrad::GeluApproximate::Tanh), {});
  check("softplus", eigrad::softplus(x), {1.0, 20.0});
  check("softsign", eigrad::softsign(x), {});
  check("swish", eigrad::swish(x), {});
  check("swish", eigrad::silu(x), {});
  check("hardswish", eigrad::hardswish(x), {});
  check("mish", eigrad::mish(x), {});
  // ... and the catalogue's defaults are the same.
  for (const ActivationInfo& info : eigrad::test::builtin_activations())
    if (info.kind == ActivationKind::Elementwise) {
      const std::vector<double> p = info.resolve();
      check(info.name.c_str(), info.apply(x), p);
    }
}

TEST_CASE("named parameters of the functional API reach the kernels", "[activations]") {
  const DoubleTensor x = DoubleTensor::from({-2.0, -0.5, 0.5, 2.0});
  const std::vector<double> leaky = eigrad::leaky_relu(x, 0.2).to_vector();
  const std::vector<double> keras = eigrad::hard_sigmoid(x, 0.2, 0.5).to_vector();
  const std::vector<double> leaky_expected = {-0.4, -0.1, 0.5, 2.0},
                            keras_expected = {0.1, 0.4, 0.6, 0.9};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(leaky[i] == Approx(leaky_expected[i]));
    CHECK(keras[i] == Approx(keras_expected[i]));
  }
  CHECK(eigrad::elu(x, 2.0).data()[0] == Approx(2 * std::expm1(-2.0)));
  CHECK(eigrad::celu(x, 2.0).data()[0] == Approx(2 * std::expm1(-1.0)));
  CHECK(eigrad::softplus(x, 2.0, 3.0).data()[3] == 2.0);  // beta x = 4 > 3: x itself
  CHECK(eigrad::softplus(x, 2.0, 3.0).data()[2] == Approx(std::log1p(std::exp(1.0)) / 2));
}

// ---------------------------------------------------------------- numerics

TEST_CASE(
    "the issue's numerics: sigmoid(-1000) is 0, softplus(1000) is 1000, softmax([1000, 0]) "
    "is [1, 0]",
    "[activations]") {
  const Tensor big = Tensor::from({-1000.0f, 1000.0f});
  CHECK(eigrad::sigmoid(big).to_vector() == std::vector<float>{0, 1});
  CHECK(eigrad::softplus(big).to_vector() == std::vector<float>{0, 1000});
  CHECK(eigrad::softmax(Tensor::from({1000.0f, 0.0f})).to_vector() == std::vector<float>{1, 0});
  const std::vector<float> ls = eigrad::log_softmax(Tensor::from({1000.0f, 0.0f})).to_vector();
  CHECK(ls == std::vector<float>{0, -1000});  // log(0) would be -inf
  const std::vector<double> lsd =
      eigrad::log_softmax(DoubleTensor::from({-1000.0, 1000.0, 0.0})).to_vector();
  CHECK(lsd == std::vector<double>{-2000, 0, -1000});
}

template <class T>
void check_finite_everywhere() {
  const T tiny = std::numeric_limits<T>::denorm_min(), small = std::numeric_limits<T>::min();
  std::vector<T> xs;
  for (T v : {T(0), tiny, small, T(1e-30), T(0.5), T(10), T(50), T(88.7), T(89), T(100), T(710),
              T(1e5), T(1e15), T(1e30)}) {
    xs.push_back(v);
    xs.push_back(-v);
  }
  const int64_t n = static_cast<int64_t>(xs.size());
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    INFO(info.name << " in " << BasicTensor<T>::dtype());
    BasicTensor<T> x = BasicTensor<T>::from(
        xs, info.kind == ActivationKind::Elementwise ? Shape{n} : Shape{n / 2, 2});
    x.set_requires_grad();
    BasicTensor<T> slopes = BasicTensor<T>::full({1}, T(0.25), true);
    const BasicTensor<T> y =
        info.kind == ActivationKind::PerChannel ? info.apply(x, slopes) : info.apply(x);
    y.backward(BasicTensor<T>::ones(y.shape()));
    CHECK(y.array().allFinite());
    CHECK(x.grad().array().allFinite());
  }
}

TEST_CASE("no activation returns inf or NaN for a finite input, forward or backward",
          "[activations]") {
  check_finite_everywhere<float>();
  check_finite_everywhere<double>();
}

TEST_CASE("a NaN input gives a NaN output and a NaN gradient", "[activations]") {
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    INFO(info.name);
    Tensor x = Tensor::from({1.0f, float(kNaN), -1.0f}, {1, 3}, true);
    const Tensor slopes = Tensor::full({1}, 0.25f, true);
    const Tensor y =
        info.kind == ActivationKind::PerChannel ? info.apply(x, slopes) : info.apply(x);
    y.backward(Tensor::ones(y.shape()));
    CHECK(std::isnan(y.data()[1]));
    CHECK(std::isnan(x.grad().data()[1]));
  }
}

// ---------------------------------------------------------------- softmax and log_softmax

TEST_CASE("softmax and log_softmax match closed forms along every axis", "[activations]") {
  Generator gen(7);
  for (const Shape& shape : {Shape{5}, Shape{3, 4}, Shape{2, 3, 2, 4}}) {
    const DoubleTensor x = DoubleTensor::uniform(shape, -5, 5, gen);
    for (int axis = -shape.rank(); axis < shape.rank(); ++axis) {
      INFO("shape " << shape.str() << ", axis " << axis);
      const int a = axis < 0 ? axis + shape.rank() : axis;
      const DoubleTensor s = eigrad::softmax(x, axis), l = eigrad::log_softmax(x, axis);
      const DoubleTensor rs = softmax_reference(x, a, false), rl = softmax_reference(x, a, true);
      CHECK(s.shape() == shape);
      for (int64_t i = 0; i < x.numel(); ++i) {
        CHECK(s.data()[i] == Approx(rs.data()[i]).epsilon(1e-13));
        CHECK(l.data()[i] == Approx(rl.data()[i]).epsilon(1e-12).margin(1e-14));
      }
      const Tensor s32 = eigrad::softmax(x.to<float>(), axis);
      for (int64_t i = 0; i < x.numel(); ++i)
        CHECK(s32.data()[i] == Approx(rs.data()[i]).epsilon(1e-5).margin(1e-7));
    }
  }
}

TEST_CASE("softmax's backward is y (g - sum(g y)) and log_softmax's is g - exp(y) sum(g)",
          "[activations]") {
  Generator gen(3);
  for (const int axis : {-1, 0, 1}) {
    INFO("axis " << axis);
    DoubleTensor x = DoubleTensor::uniform({3, 4, 2}, -3, 3, gen).set_requires_grad();
    const DoubleTensor g = DoubleTensor::uniform({3, 4, 2}, -1, 1, gen);
    const int a = axis < 0 ? axis + 3 : axis;
    const int64_t n = x.size(a), inner = a == 2 ? 1 : (a == 1 ? 2 : 8), outer = 24 / (n * inner);
    for (const bool log : {false, true}) {
      x.zero_grad();
      const DoubleTensor y = log ? eigrad::log_softmax(x, axis) : eigrad::softmax(x, axis);
      y.backward(g);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < inner; ++k) {
          auto at = [&](int64_t i) { return (o * n + i) * inner + k; };
          double gy = 0, gs = 0;
          for (int64_t i = 0; i < n; ++i) {
            gy += g.data()[at(i)] * y.data()[at(i)];
            gs += g.data()[at(i)];
          }
          for (int64_t i = 0; i < n; ++i) {
            const double yi = y.data()[at(i)], gi = g.data()[at(i)];
            const double expected = log ? gi - std::exp(yi) * gs : yi * (gi - gy);
            CHECK(x.grad().data()[at(i)] == Approx(expected).epsilon(1e-12).margin(1e-15));
          }
        }
    }
  }
}

TEST_CASE("softmax of a scalar is 1 and of an empty tensor is empty", "[activations]") {
  CHECK(eigrad::softmax(DoubleTensor::scalar(3.0)).item() == 1.0);
  CHECK(eigrad::log_softmax(DoubleTensor::scalar(3.0)).item() == 0.0);
  const DoubleTensor empty = eigrad::softmax(DoubleTensor::zeros({0, 3}), 0);
  CHECK(empty.shape() == Shape{0, 3});
}

TEST_CASE("a softmax row holding NaN is NaN", "[activations]") {
  const Tensor y =
      eigrad::softmax(Tensor::from({1.0f, float(kNaN), 2.0f, 1.0f, 2.0f, 3.0f}, {2, 3}));
  for (int i = 0; i < 3; ++i) CHECK(std::isnan(y.data()[i]));
  for (int i = 3; i < 6; ++i) CHECK(std::isfinite(y.data()[i]));
}

TEST_CASE("softmax rejects an axis out of range, naming the op and the rank", "[activations]") {
  CHECK_THROWS_WITH(eigrad::softmax(Tensor::zeros({2, 3}), 2), Catch::Contains("softmax") &&
                                                                   Catch::Contains("axis 2") &&
                                                                   Catch::Contains("rank 2"));
  CHECK_THROWS_AS(eigrad::log_softmax(Tensor::zeros({2, 3}), -3), Error);
}

// ---------------------------------------------------------------- gradcheck of the table

TEST_CASE("every catalogue entry passes gradcheck in float64 away from its kinks",
          "[activations][gradcheck]") {
  Generator gen(42);
  auto check = [](const eigrad::GradcheckFunction& f, const std::vector<DoubleTensor>& inputs) {
    const eigrad::GradcheckReport r = eigrad::gradcheck(f, inputs);
    INFO(r.str());
    CHECK(r.passed);
  };
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) {
    INFO(info.name);
    if (info.kind == ActivationKind::Elementwise) {
      std::vector<std::vector<double>> settings = {{}};
      for (const auto& [name, values] : other_parameters())
        if (name == info.name) settings.push_back(values);
      for (const std::vector<double>& values : settings) {
        const std::vector<double> kinks = info.kinks(values);
        const double lo = std::min(-5.0, kinks.empty() ? 0 : kinks.front() - 1);
        const double hi = std::max(5.0, kinks.empty() ? 0 : kinks.back() + 1);
        const DoubleTensor x =
            eigrad::uniform_away_from({3, 4}, lo, hi, kinks, 1e-3, gen).set_requires_grad();
        check([&](const std::vector<DoubleTensor>& in) { return info.apply(in[0], values); }, {x});
      }
    } else if (info.kind == ActivationKind::AlongAxis) {
      for (const auto& [shape, axis] : std::vector<std::pair<Shape, int>>{
               {{3, 5}, -1}, {{3, 5}, 0}, {{2, 3, 2, 2}, 1}, {{2, 3, 2, 2}, -1}}) {
        const DoubleTensor x = DoubleTensor::uniform(shape, -3, 3, gen).set_requires_grad();
        check([&, a = axis](
                  const std::vector<DoubleTensor>& in) { return info.apply(in[0], {double(a)}); },
              {x});
      }
    } else {
      const DoubleTensor x =
          eigrad::uniform_away_from({2, 3, 4}, -3, 3, info.kinks(), 1e-3, gen).set_requires_grad();
      const DoubleTensor slopes = DoubleTensor::uniform({3}, -0.5, 0.5, gen).set_requires_grad();
      check([&](const std::vector<DoubleTensor>& in) { return info.apply(in[0], in[1]); },
            {x, slopes});
    }
  }
}

// ---------------------------------------------------------------- the runtime catalogue

TEST_CASE("the catalogue lists every activation of the issue once", "[activations]") {
  std::vector<std::string> names;
  for (const ActivationInfo& info : eigrad::test::builtin_activations()) names.push_back(info.name);
  const std::vector<std::string> expected = {
      "sigmoid",   "hard_sigmoid", "tanh",    "relu",        "relu6",    "leaky_relu", "elu",
      "selu",      "celu",         "gelu",    "gelu_tanh",   "softplus", "softsign",   "swish",
      "hardswish", "mish",         "softmax", "log_softmax", "prelu"};
  CHECK(names == expected);
  CHECK(eigrad::find_activation("softmax").kind == ActivationKind::AlongAxis);
  CHECK(eigrad::find_activation("prelu").kind == ActivationKind::PerChannel);
  CHECK(eigrad::find_activation("sigmoid").saves_output);
  CHECK_FALSE(eigrad::find_activation("mish").saves_output);
}

TEST_CASE("find_activation accepts aliases and lists the known names when it fails",
          "[activations]") {
  CHECK(eigrad::find_activation("silu").name == "swish");
  CHECK(eigrad::find_activation("hardsigmoid").name == "hard_sigmoid");
  CHECK_THROWS_WITH(eigrad::find_activation("swishy"),
                    Catch::Contains("unknown activation 'swishy'") && Catch::Contains("relu6") &&
                        Catch::Contains("log_softmax") && Catch::Contains("silu"));
}

TEST_CASE("parameter values resolve to the defaults and are checked", "[activations]") {
  const ActivationInfo& softplus = eigrad::find_activation("softplus");
  REQUIRE(softplus.parameters.size() == 2);
  CHECK(softplus.parameters[0].name == "beta");
  CHECK(softplus.resolve() == std::vector<double>{1, 20});
  CHECK(softplus.resolve({2}) == std::vector<double>{2, 20});
  CHECK_THROWS_WITH(softplus.resolve({1, 2, 3}), Catch::Contains("softplus") &&
                                                     Catch::Contains("3 parameter values") &&
                                                     Catch::Contains("beta, threshold"));
  CHECK_THROWS_WITH(softplus.apply(Tensor::zeros({2}), {0.0}), Catch::Contains("beta"));
  CHECK_THROWS_WITH(eigrad::celu(Tensor::zeros({2}), 0.0f), Catch::Contains("celu: alpha"));
  CHECK_THROWS_WITH(eigrad::celu(Tensor::zeros({2}), -1.0f), Catch::Contains("must be positive"));
  CHECK_THROWS_WITH(eigrad::find_activation("softmax").apply(Tensor::zeros({2}), {0.5}),
                    Catch::Contains("softmax: axis must be an integer"));
  CHECK_THROWS_WITH(eigrad::find_activation("relu").apply(Tensor::zeros({2}), Tensor::ones({1})),
                    Catch::Contains("relu: takes no slopes"));
}

TEST_CASE("kinks come from the table and follow the parameter values", "[activations]") {
  const ActivationInfo& hs = eigrad::find_activation("hard_sigmoid");
  const std::vector<double> k = hs.kinks();
  REQUIRE(k.size() == 2);
  CHECK(k[0] == Approx(-3));
  CHECK(k[1] == Approx(3));
  CHECK(hs.kinks({0.2, 0.5}) == std::vector<double>{-2.5, 2.5});
  CHECK(eigrad::find_activation("softplus").kinks({2, 10}) == std::vector<double>{5});
  CHECK(eigrad::find_activation("relu6").kinks() == std::vector<double>{0, 6});
  CHECK(eigrad::find_activation("sigmoid").kinks().empty());
}

TEST_CASE("an activation records a node only when its input requires grad", "[activations]") {
  const Tensor plain = Tensor::from({-1.0f, 2.0f});
  CHECK_FALSE(eigrad::relu(plain).requires_grad());
  Tensor leaf = Tensor::from({-1.0f, 2.0f}, {2}, true);
  CHECK(eigrad::mish(leaf).requires_grad());
  eigrad::NoGradGuard no_grad;
  CHECK_FALSE(eigrad::mish(leaf).requires_grad());
}

TEST_CASE("an input used by two activations gets the sum of both gradients", "[activations]") {
  DoubleTensor x = DoubleTensor::from({-0.5, 0.75}, {2}, true);
  const DoubleTensor y = eigrad::sum(eigrad::tanh(x) + eigrad::relu(x));
  y.backward();
  const double t0 = std::tanh(-0.5), t1 = std::tanh(0.75);
  CHECK(x.grad().data()[0] == Approx(1 - t0 * t0));
  CHECK(x.grad().data()[1] == Approx(1 - t1 * t1 + 1));
}

TEST_CASE("activations compose with each other and with the core ops under backward",
          "[activations][gradcheck]") {
  Generator gen(11);
  const DoubleTensor x = eigrad::uniform_away_from({4, 3}, -2, 2, {0}, 1e-3, gen);
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      [](const std::vector<DoubleTensor>& in) {
        return eigrad::log_softmax(eigrad::gelu(eigrad::relu(in[0]) * 2.0 - 1.0) + in[0], 1);
      },
      {x.detach().set_requires_grad()});
  INFO(r.str());
  CHECK(r.passed);
}
