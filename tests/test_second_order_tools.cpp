// The second-order helpers: hessian_vector_product, jacobian_vector_product, gradgradcheck and
// gradgradcheck_module. Products are checked against Hessians and Jacobians derived by hand, and
// against central differences in float64.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/nn/module.hpp"
#include "eigrad/nn/sequential.hpp"
#include "eigrad/ops.hpp"

using Catch::Matchers::Contains;
using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::ModuleGradcheckReport;
using eigrad::Shape;
using eigrad::Tensor;
namespace nn = eigrad::nn;

namespace {

template <class T>
using Tensors = std::vector<BasicTensor<T>>;

// f(x, y) = sum(x^4) + sum(x * y): H = [[diag(12 x^2), I], [I, 0]].
template <class T>
BasicTensor<T> quartic_plus_product(const Tensors<T>& in) {
  const BasicTensor<T>& x = in[0];
  return eigrad::sum(x * x * x * x) + eigrad::sum(x * in[1]);
}

// x * w with w broadcast along x's last axis, whose graph backward is wrong on purpose: the
// gradient for x reads w as a constant (detached), so that gradient's derivative with respect to
// w is lost. Its values, and the first-order kernel, are right.
template <class T>
BasicTensor<T> mul_detached(const BasicTensor<T>& x, const BasicTensor<T>& w) {
  BasicTensor<T> y;
  {
    eigrad::NoGradGuard no_grad;
    y = x * w;
  }
  const int64_t n = w.numel(), rows = x.numel() / n;
  if (eigrad::detail::needs_grad(x, w))
    eigrad::detail::record(
        "mul_detached", y, {&x, &w}, eigrad::detail::Saves().input(0).input(1),
        [n, rows, xs = x.storage(), ws = w.storage()](const auto& g, auto& s) {
          auto gm = g.reshaped(n, rows);
          if (s.needs(0)) {
            typename BasicTensor<T>::Array gx = (gm.colwise() * *ws).reshaped();
            s.add(0, gx);
          }
          if (s.needs(1)) {
            typename BasicTensor<T>::Array gw = (gm * xs->reshaped(n, rows)).rowwise().sum();
            s.add(1, gw);
          }
        },
        [wshape = w.shape()](eigrad::detail::GraphContext<T>& c, const BasicTensor<T>& g) {
          return Tensors<T>{
              c.needs(0) ? g * c.input(1).detach() : BasicTensor<T>(),
              c.needs(1) ? eigrad::sum_to_size(g * c.input(0), wshape) : BasicTensor<T>()};
        });
  return y;
}

// An op recorded without a graph backward: differentiable once.
template <class T>
BasicTensor<T> square_once(const BasicTensor<T>& x) {
  BasicTensor<T> y = BasicTensor<T>::empty(x.shape());
  y.mutable_array() = x.array().square();
  if (eigrad::detail::needs_grad(x))
    eigrad::detail::record("square_once", y, {&x}, eigrad::detail::Saves().input(0),
                           [xs = x.storage()](const auto& g, auto& s) { s.add(0, 2 * g * *xs); });
  return y;
}

enum class Variant { right, wrong_graph_backward, wrong_in_float32_only, once_differentiable };

// y = exp(x * weight) + bias, weight and bias along x's last axis, as a user's module. It counts
// its forward calls in a buffer, as BatchNorm counts batches.
template <class T>
class ExpScale : public nn::BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit ExpScale(int64_t n, Variant variant = Variant::right) : n_(n), variant_(variant) {
    weight_ = this->register_parameter("weight", Tensor::linspace(T(-0.6), T(0.9), n));
    bias_ = this->register_parameter("bias", Tensor::full(Shape{n}, T(0.1)));
    calls_ = this->register_buffer("calls", Tensor::scalar(T(0)));
  }
  Tensor forward(const Tensor& x) override {
    calls_.mutable_data()[0] += 1;
    const bool wrong = variant_ == Variant::wrong_graph_backward ||
                       (variant_ == Variant::wrong_in_float32_only && std::is_same<T, float>());
    const Tensor z = wrong ? mul_detached(x, weight_) : x * weight_;
    const Tensor e = variant_ == Variant::once_differentiable ? square_once(z) : eigrad::exp(z);
    return e + bias_;
  }
  std::string type_name() const override { return "ExpScale"; }
  std::shared_ptr<nn::BasicModule<double>> make_double() const override {
    return std::make_shared<ExpScale<double>>(n_, variant_);
  }

 private:
  int64_t n_;
  Variant variant_;
  Tensor weight_, bias_, calls_;
};

std::vector<std::string> names_of(const ModuleGradcheckReport& r) {
  std::vector<std::string> names;
  for (const auto& entry : r.tensors) names.push_back(entry.first);
  return names;
}

const eigrad::GradcheckReport& report_of(const ModuleGradcheckReport& r, const std::string& name) {
  for (const auto& entry : r.tensors)
    if (entry.first == name) return entry.second;
  FAIL("no report for " << name);
  throw;
}

}  // namespace

// ---------------------------------------------------------------- hessian_vector_product

TEMPLATE_TEST_CASE("hessian_vector_product of sum(x^4) + sum(x * y) is the closed-form H v",
                   "[second_order][second_order_tools]", float, double) {
  using T = TestType;
  const std::vector<T> x{1.5, -0.5, 2}, y{0.3, -1, 2}, vx{1, -2, 0.5}, vy{0.25, 1, -1};
  const auto [out, hv] =
      eigrad::hessian_vector_product(eigrad::TensorFunction<T>(quartic_plus_product<T>),
                                     {BasicTensor<T>::from(x), BasicTensor<T>::from(y)},
                                     {BasicTensor<T>::from(vx), BasicTensor<T>::from(vy)});
  // f = 1.5^4 + 0.5^4 + 2^4 + (0.45 + 0.5 + 4)
  CHECK(out.item() == Approx(5.0625 + 0.0625 + 16 + 4.95));
  CHECK_FALSE(out.requires_grad());
  REQUIRE(hv.size() == 2);
  for (int64_t i = 0; i < 3; ++i) {
    const size_t k = static_cast<size_t>(i);
    CHECK(hv[0].at({i}) == Approx(12 * x[k] * x[k] * vx[k] + vy[k]));  // 12 x^2 v_x + v_y
    CHECK(hv[1].at({i}) == Approx(vx[k]));                             // v_x
  }
  CHECK_FALSE(hv[0].requires_grad());
}

TEST_CASE("hessian_vector_product of 0.5 x^T A x is the symmetric part of A times v",
          "[second_order][second_order_tools]") {
  const std::vector<double> a{2, 1, 0, -1, 3, 0.5, 0, 2, 1};  // row-major 3 x 3
  const DoubleTensor A = DoubleTensor::from(a, {3, 3});
  const auto quadratic = [&A](const std::vector<DoubleTensor>& in) {
    const DoubleTensor outer = eigrad::reshape(in[0], {3, 1}) * eigrad::reshape(in[0], {1, 3});
    return 0.5 * eigrad::sum(A * outer);
  };
  const std::vector<double> x{0.5, -1, 2}, v{1, 0.5, -2};
  const auto [out, hv] =
      eigrad::hessian_vector_product(quadratic, {DoubleTensor::from(x)}, {DoubleTensor::from(v)});
  double xax = 0;
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) xax += x[i] * a[3 * i + j] * x[j];
  CHECK(out.item() == Approx(0.5 * xax));
  // H = (A + A^T) / 2
  for (size_t i = 0; i < 3; ++i) {
    double expected = 0;
    for (size_t j = 0; j < 3; ++j) expected += 0.5 * (a[3 * i + j] + a[3 * j + i]) * v[j];
    CHECK(hv[0].at({static_cast<int64_t>(i)}) == Approx(expected));
  }
}

TEST_CASE("hessian_vector_product matches central differences of the gradient in float64",
          "[second_order][second_order_tools]") {
  // Broadcasting: b [3] along the rows of x [2, 3].
  const auto f = [](const std::vector<DoubleTensor>& in) {
    const DoubleTensor& x = in[0];
    const DoubleTensor& b = in[1];
    return eigrad::sum(eigrad::exp(x * b)) + eigrad::sum(x * x * b);
  };
  Generator gen(11);
  const DoubleTensor x = DoubleTensor::uniform(Shape{2, 3}, -1, 1, gen);
  const DoubleTensor b = DoubleTensor::uniform(Shape{3}, -1, 1, gen);
  const DoubleTensor vx = DoubleTensor::uniform(Shape{2, 3}, -1, 1, gen);
  const DoubleTensor vb = DoubleTensor::uniform(Shape{3}, -1, 1, gen);
  const auto [out, hv] = eigrad::hessian_vector_product(f, {x, b}, {vx, vb});

  // (grad f(p + eps v) - grad f(p - eps v)) / (2 eps)
  const double eps = 1e-5;
  const auto gradient_at = [&](double step) {
    DoubleTensor xs = (x + step * vx).detach().set_requires_grad(true);
    DoubleTensor bs = (b + step * vb).detach().set_requires_grad(true);
    return eigrad::grad({f({xs, bs})}, {xs, bs});
  };
  const std::vector<DoubleTensor> plus = gradient_at(eps), minus = gradient_at(-eps);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(hv[i].shape() == plus[i].shape());
    for (int64_t k = 0; k < hv[i].numel(); ++k)
      CHECK(hv[i].data()[k] ==
            Approx((plus[i].data()[k] - minus[i].data()[k]) / (2 * eps)).margin(1e-7));
  }
}

TEST_CASE("hessian_vector_product implies v = 1 for one-element inputs",
          "[second_order][second_order_tools]") {
  // f(x) = x^3: H v = 6 x.
  const auto cube = [](const std::vector<DoubleTensor>& in) { return in[0] * in[0] * in[0]; };
  const auto [out, hv] = eigrad::hessian_vector_product(cube, {DoubleTensor::scalar(-1.5)}, {});
  CHECK(out.item() == Approx(-3.375));
  CHECK(hv[0].item() == Approx(-9.0));
}

TEST_CASE(
    "the products are zero where f does not depend on an input, or not twice, and leave the "
    "inputs alone",
    "[second_order][second_order_tools]") {
  DoubleTensor x = DoubleTensor::from({1.0, -2.0}, {2}, /*requires_grad=*/true);
  const DoubleTensor c = DoubleTensor::from({3.0, 4.0});
  const DoubleTensor unused = DoubleTensor::from({5.0});
  // f = sum(x^2) + sum(c): the gradient for c is a constant, the one for `unused` never exists.
  const auto f = [](const std::vector<DoubleTensor>& in) {
    return eigrad::sum(in[0] * in[0]) + eigrad::sum(in[1]);
  };
  const DoubleTensor vx = DoubleTensor::from({0.5, 1.0}), vc = DoubleTensor::from({1.0, 1.0});
  const DoubleTensor vu = DoubleTensor::from({2.0});
  {
    eigrad::NoGradGuard no_grad;  // the helpers turn grad mode on for themselves
    const auto [out, hv] = eigrad::hessian_vector_product(f, {x, c, unused}, {vx, vc, vu});
    CHECK(out.item() == Approx(12.0));
    CHECK(hv[0].to_vector() == std::vector<double>{1.0, 2.0});  // 2 v_x
    CHECK(hv[1].to_vector() == std::vector<double>{0.0, 0.0});
    CHECK(hv[2].to_vector() == std::vector<double>{0.0});
    // J v of g(x, c) = 2 x + c along (v_x, v_c) is 2 v_x + v_c.
    const auto [y, jv] = eigrad::jacobian_vector_product(
        [](const std::vector<DoubleTensor>& in) { return 2.0 * in[0] + in[1]; }, {x, c, unused},
        {vx, vc, vu});
    CHECK(y.to_vector() == std::vector<double>{5.0, 0.0});
    CHECK(jv.to_vector() == std::vector<double>{2.0, 3.0});
    CHECK_FALSE(eigrad::is_grad_enabled());
  }
  // A constant function: both products are zero.
  const auto constant = [&c](const std::vector<DoubleTensor>&) { return eigrad::sum(c); };
  CHECK(eigrad::hessian_vector_product(constant, {x}, {vx}).product[0].to_vector() ==
        std::vector<double>{0.0, 0.0});
  CHECK(eigrad::jacobian_vector_product(constant, {x}, {vx}).product.to_vector() ==
        std::vector<double>{0.0});
  CHECK_FALSE(x.grad().defined());
  CHECK(x.is_leaf());
}

// ---------------------------------------------------------------- jacobian_vector_product

TEMPLATE_TEST_CASE("jacobian_vector_product of exp(x) * b + x^2 is the closed-form J v",
                   "[second_order][second_order_tools]", float, double) {
  using T = TestType;
  // x [2, 3], b [3] broadcast along the rows: (J v)_ij = (exp(x_ij) b_j + 2 x_ij) vx_ij +
  // exp(x_ij) vb_j.
  const std::vector<T> x{0.5, -1, 0.25, 1.5, 0, -0.75}, b{2, -1, 0.5};
  const std::vector<T> vx{1, 0.5, -1, 2, -0.5, 0.25}, vb{-1, 3, 0.5};
  const auto f = [](const Tensors<T>& in) { return eigrad::exp(in[0]) * in[1] + in[0] * in[0]; };
  const auto [out, jv] = eigrad::jacobian_vector_product(
      eigrad::TensorFunction<T>(f), {BasicTensor<T>::from(x, {2, 3}), BasicTensor<T>::from(b)},
      {BasicTensor<T>::from(vx, {2, 3}), BasicTensor<T>::from(vb)});
  REQUIRE(out.shape() == Shape{2, 3});
  REQUIRE(jv.shape() == Shape{2, 3});
  CHECK_FALSE(jv.requires_grad());
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 3; ++j) {
      const size_t k = 3 * i + j;
      const double e = std::exp(double(x[k]));
      const std::initializer_list<int64_t> at{int64_t(i), int64_t(j)};
      CHECK(out.at(at) == Approx(e * b[j] + x[k] * x[k]));
      CHECK(jv.at(at) == Approx((e * b[j] + 2 * x[k]) * vx[k] + e * vb[j]));
    }
}

TEST_CASE("jacobian_vector_product matches central differences of f in float64",
          "[second_order][second_order_tools]") {
  // An output of another shape than the inputs: sum_to_size over the rows, after broadcast_to.
  const auto f = [](const std::vector<DoubleTensor>& in) {
    const DoubleTensor w = eigrad::broadcast_to(in[1], Shape{4, 3});
    return eigrad::sum_to_size(eigrad::exp(in[0] * w) - in[0], Shape{1, 3});
  };
  Generator gen(12);
  const DoubleTensor x = DoubleTensor::uniform(Shape{4, 3}, -1, 1, gen);
  const DoubleTensor w = DoubleTensor::uniform(Shape{3}, -1, 1, gen);
  const DoubleTensor vx = DoubleTensor::uniform(Shape{4, 3}, -1, 1, gen);
  const DoubleTensor vw = DoubleTensor::uniform(Shape{3}, -1, 1, gen);
  const auto [out, jv] = eigrad::jacobian_vector_product(f, {x, w}, {vx, vw});
  REQUIRE(jv.shape() == Shape{1, 3});
  const double eps = 1e-6;
  const DoubleTensor plus = f({x + eps * vx, w + eps * vw});
  const DoubleTensor minus = f({x - eps * vx, w - eps * vw});
  for (int64_t j = 0; j < 3; ++j)
    CHECK(jv.data()[j] == Approx((plus.data()[j] - minus.data()[j]) / (2 * eps)).margin(1e-7));
}

TEST_CASE("jacobian_vector_product of the identity is v", "[second_order][second_order_tools]") {
  const DoubleTensor v = DoubleTensor::from({1.0, -2.0, 0.5});
  const auto [out, jv] = eigrad::jacobian_vector_product(
      [](const std::vector<DoubleTensor>& in) { return in[0]; }, {DoubleTensor::zeros({3})}, {v});
  CHECK(jv.to_vector() == v.to_vector());
}

TEST_CASE("the vector-product helpers reject bad arguments with errors naming them",
          "[second_order][second_order_tools][errors]") {
  const DoubleTensor x = DoubleTensor::ones({2, 3}), y = DoubleTensor::ones({3});
  const auto f = [](const std::vector<DoubleTensor>& in) { return in[0] * in[1]; };
  const auto scalar_f = [](const std::vector<DoubleTensor>& in) {
    return eigrad::sum(in[0] * in[1]);
  };
  CHECK_THROWS_WITH(
      eigrad::hessian_vector_product(f, {x, y}, {x, y}),
      Contains("hessian_vector_product: f's output has shape [2, 3]") && Contains("one element"));
  CHECK_THROWS_WITH(eigrad::hessian_vector_product(scalar_f, {x, y}, {x}),
                    Contains("hessian_vector_product: v has 1 tensor(s) for 2 input(s)"));
  CHECK_THROWS_WITH(eigrad::jacobian_vector_product(f, {x, y}, {x, x}),
                    Contains("jacobian_vector_product: v[1] has shape [2, 3]") &&
                        Contains("inputs[1] has shape [3]"));
  CHECK_THROWS_WITH(eigrad::jacobian_vector_product(f, {x, y}, {}),
                    Contains("v is empty but inputs[0] has shape [2, 3]"));
  CHECK_THROWS_WITH(eigrad::jacobian_vector_product(f, {x, y}, {x, DoubleTensor()}),
                    Contains("v[1] is undefined"));
  CHECK_THROWS_WITH(eigrad::hessian_vector_product(scalar_f, {DoubleTensor(), y}, {x, y}),
                    Contains("hessian_vector_product: inputs[0] is undefined"));
  CHECK_THROWS_WITH(eigrad::jacobian_vector_product(f, {}, {}),
                    Contains("jacobian_vector_product: no inputs"));
}

// ---------------------------------------------------------------- gradgradcheck

TEST_CASE("gradgradcheck passes for functions whose second derivatives are not zero",
          "[second_order][second_order_tools][gradcheck]") {
  Generator gen(13);
  const DoubleTensor x = DoubleTensor::uniform(Shape{2, 3}, -1, 1, gen).set_requires_grad(true);
  const DoubleTensor w = DoubleTensor::uniform(Shape{3}, -1, 1, gen).set_requires_grad(true);
  const auto f = [](const std::vector<DoubleTensor>& in) {
    return eigrad::exp(in[0] * in[1]) + in[0] * in[0] * in[0];
  };
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(f, {x, w});
  INFO(r.str());
  CHECK(r.passed);
  // The gradient (6 + 3 values) against x, w and v (6 + 3 + 6 values).
  CHECK(r.checked == 9 * 15);
  const eigrad::GradcheckReport r32 = eigrad::gradgradcheck_float32(
      [](const std::vector<Tensor>& in) {
        return eigrad::exp(in[0] * in[1]) + in[0] * in[0] * in[0];
      },
      f, {x, w});
  INFO(r32.str());
  CHECK(r32.passed);
}

TEST_CASE("gradgradcheck fails for an op whose graph backward reads a saved input as a constant",
          "[second_order][second_order_tools][gradcheck]") {
  Generator gen(14);
  const DoubleTensor x = DoubleTensor::uniform(Shape{2, 3}, -1, 1, gen).set_requires_grad(true);
  const DoubleTensor w = DoubleTensor::uniform(Shape{3}, -1, 1, gen).set_requires_grad(true);
  const auto f = [](const std::vector<DoubleTensor>& in) {
    return eigrad::exp(mul_detached(in[0], in[1]));
  };
  CHECK(eigrad::gradcheck(f, {x, w}).passed);  // the first derivatives are right
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(f, {x, w});
  INFO(r.str());
  CHECK_FALSE(r.passed);
  // The lost term: d (dy/dx) / dw, the gradient's first 6 entries against input 1.
  CHECK(r.worst_input == 1);
  CHECK(r.worst_output < 6);
}

// ---------------------------------------------------------------- gradgradcheck_module

TEST_CASE("gradgradcheck_module passes a float64 user module for the input, weight, bias and v",
          "[second_order][second_order_tools][gradcheck_module]") {
  Generator gen(15);
  ExpScale<double> module(3);
  const DoubleTensor x = DoubleTensor::uniform(Shape{2, 3}, -1, 1, gen);
  const ModuleGradcheckReport r = eigrad::gradgradcheck_module(module, x);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(names_of(r) == std::vector<std::string>{"input", "weight", "bias", "grad_output"});
  // The gradient has 6 + 3 + 3 entries; each tensor's Jacobian is 12 x its size.
  CHECK(report_of(r, "input").checked == 12 * 6);
  CHECK(report_of(r, "weight").checked == 12 * 3);
  CHECK(report_of(r, "bias").checked == 12 * 3);
  CHECK(report_of(r, "grad_output").checked == 12 * 6);
  // Nothing depends on the bias twice: its Jacobian is zero, analytic and numeric.
  CHECK(report_of(r, "bias").max_abs_error == 0);
}

TEST_CASE("gradgradcheck_module passes a float32 Sequential of user modules in both dtypes",
          "[second_order][second_order_tools][gradcheck_module]") {
  Generator gen(16);
  nn::Sequential net(std::make_shared<ExpScale<float>>(3), std::make_shared<ExpScale<float>>(3));
  const Tensor x = Tensor::uniform(Shape{2, 3}, -1.f, 1.f, gen);
  const std::vector<float> weight = net.parameter("1.weight").to_vector();
  const ModuleGradcheckReport r = eigrad::gradgradcheck_module(net, x);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(names_of(r) == std::vector<std::string>{"input", "0.weight", "0.bias", "1.weight", "1.bias",
                                                "grad_output"});
  // Checked twice, in float64 and in float32: the gradient has 6 + 4 * 3 entries.
  CHECK(report_of(r, "input").checked == 2 * 18 * 6);
  CHECK(report_of(r, "1.weight").checked == 2 * 18 * 3);
  // The module is untouched: values, gradients and the buffers its forward changes.
  CHECK(net.parameter("1.weight").to_vector() == weight);
  CHECK_FALSE(net.parameter("1.weight").grad().defined());
  CHECK(net.buffer("0.calls").item() == 0.f);
  CHECK(net.buffer("1.calls").item() == 0.f);
}

TEST_CASE("gradgradcheck_module names the parameter whose second derivatives an op gets wrong",
          "[second_order][second_order_tools][gradcheck_module]") {
  Generator gen(17);
  nn::Sequential net(std::make_shared<ExpScale<float>>(3),
                     std::make_shared<ExpScale<float>>(3, Variant::wrong_graph_backward));
  const Tensor x = Tensor::uniform(Shape{2, 3}, -1.f, 1.f, gen);
  CHECK(eigrad::gradcheck_module(net, x).passed);  // the first derivatives are right
  const ModuleGradcheckReport r = eigrad::gradgradcheck_module(net, x);
  INFO(r.str());
  CHECK_FALSE(r.passed);
  // The gradients through layer 1's input lose their dependence on 1.weight; nothing else.
  CHECK_FALSE(report_of(r, "1.weight").passed);
  for (const char* name : {"input", "0.weight", "0.bias", "1.bias", "grad_output"})
    CHECK(report_of(r, name).passed);
  CHECK_THAT(r.str(), Contains("1.weight: gradcheck FAILED"));

  eigrad::GradcheckOptions raise;
  raise.raise = true;
  CHECK_THROWS_WITH(eigrad::gradgradcheck_module(net, x, raise),
                    Contains("gradgradcheck_module: Sequential: the second derivatives of "
                             "1.weight are wrong"));
}

TEST_CASE("gradgradcheck_module checks a float32 module's own second derivatives in float32",
          "[second_order][second_order_tools][gradcheck_module]") {
  // Right in float64 (the copy that make_double builds), wrong in float32.
  Generator gen(18);
  ExpScale<float> module(3, Variant::wrong_in_float32_only);
  const Tensor x = Tensor::uniform(Shape{2, 3}, -1.f, 1.f, gen);
  const ModuleGradcheckReport r = eigrad::gradgradcheck_module(module, x);
  INFO(r.str());
  CHECK_FALSE(report_of(r, "weight").passed);
  CHECK(report_of(r, "input").passed);
  CHECK(eigrad::gradgradcheck_module(*nn::to_double(module), x.to<double>()).passed);
  eigrad::GradcheckOptions raise;
  raise.raise = true;
  CHECK_THROWS_WITH(eigrad::gradgradcheck_module(module, x, raise),
                    Contains("the second derivatives of weight (in float32) are wrong"));
}

TEST_CASE("gradgradcheck_module through an op without a graph backward is an error naming it",
          "[second_order][second_order_tools][gradcheck_module][errors]") {
  ExpScale<double> module(3, Variant::once_differentiable);
  const DoubleTensor x = DoubleTensor::ones({1, 3});
  CHECK(eigrad::gradcheck_module(module, x).passed);
  CHECK_THROWS_WITH(eigrad::gradgradcheck_module(module, x),
                    Contains("square_once") && Contains("cannot be differentiated"));
  CHECK_THROWS_WITH(eigrad::gradgradcheck_module(module, DoubleTensor()),
                    Contains("gradgradcheck_module: the input is undefined"));
}
