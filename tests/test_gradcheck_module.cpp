// gradcheck_module: a float32 module checked in float64 through nn::to_double, per tensor.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/nn/activation.hpp"
#include "eigrad/nn/convolution.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/nn/normalization.hpp"
#include "eigrad/nn/pooling.hpp"
#include "eigrad/nn/sequential.hpp"
#include "eigrad/ops.hpp"

using eigrad::BasicTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::ModuleGradcheckReport;
using eigrad::Shape;
using eigrad::Tensor;
namespace nn = eigrad::nn;

namespace {

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

// y = x * scale (scale: [n], broadcast along the last axis) as a user's op; the gradient for
// `scale` is multiplied by `scale_error`, the one for x by `input_error` (1 and 1 are right).
template <class T>
class Scale : public nn::BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  Scale(int64_t n, double scale_error = 1, double input_error = 1)
      : n_(n), scale_error_(scale_error), input_error_(input_error) {
    scale_ = this->register_parameter("scale", Tensor::full(Shape{n}, T(0.5)));
  }
  Tensor forward(const Tensor& x) override {
    const int64_t rows = x.numel() / n_;
    Tensor y = Tensor::empty(x.shape());
    auto xs = x.array().reshaped(n_, rows);
    y.mutable_array().reshaped(n_, rows) = xs.colwise() * scale_.array();
    if (eigrad::detail::needs_grad(x, scale_))
      eigrad::detail::record(
          "scale", y, {&x, &scale_},
          [n = n_, rows, ks = scale_error_, kx = input_error_, xd = x.storage(),
           sd = scale_.storage()](const auto& g, auto& s) {
            auto gm = g.reshaped(n, rows);
            if (s.needs(0)) {
              typename Tensor::Array gx = (gm.colwise() * *sd).reshaped() * T(kx);
              s.add(0, gx);
            }
            if (s.needs(1)) {
              typename Tensor::Array gs = (gm * xd->reshaped(n, rows)).rowwise().sum() * T(ks);
              s.add(1, gs);
            }
          });
    return y;
  }
  std::string type_name() const override { return "Scale"; }
  std::shared_ptr<nn::BasicModule<double>> make_double() const override {
    return std::make_shared<Scale<double>>(n_, scale_error_, input_error_);
  }

 private:
  int64_t n_;
  double scale_error_, input_error_;
  Tensor scale_;
};

// A user's module that does not implement make_double().
class Unconvertible : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Unconvertible"; }
};

}  // namespace

TEST_CASE(
    "gradcheck_module passes a float32 Linear-PReLU-Linear for the input and every "
    "parameter",
    "[gradcheck][gradcheck_module]") {
  Generator gen(7);
  nn::Sequential net(std::make_shared<nn::Linear>(3, 4, gen), std::make_shared<nn::PReLU>(),
                     std::make_shared<nn::Linear>(4, 2, gen));
  const Tensor x = Tensor::uniform(Shape{5, 3}, -1.f, 1.f, gen);
  const std::vector<float> weight_before = net.parameter("0.weight").to_vector();

  const ModuleGradcheckReport r = eigrad::gradcheck_module(net, x);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(names_of(r) ==
        std::vector<std::string>{"input", "0.weight", "0.bias", "1.weight", "2.weight", "2.bias"});
  // Every entry of each Jacobian (10 outputs times the tensor's elements) twice: the float64
  // copy's backward, then the float32 module's own, each against the float64 differences.
  CHECK(report_of(r, "input").checked == 2 * 10 * 15);
  CHECK(report_of(r, "0.weight").checked == 2 * 10 * 12);
  CHECK(report_of(r, "1.weight").checked == 2 * 10 * 1);
  CHECK(report_of(r, "2.bias").checked == 2 * 10 * 2);
  // The float32 module is untouched.
  CHECK(net.parameter("0.weight").to_vector() == weight_before);
  CHECK_FALSE(net.parameter("0.weight").grad().defined());
}

TEST_CASE("gradcheck_module passes a float32 Conv2d-PReLU-MaxPool-Flatten-Linear network",
          "[gradcheck][gradcheck_module]") {
  Generator gen(3);
  nn::Sequential cnn(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 2, 3).padding(1), gen),
                     std::make_shared<nn::PReLU>(2), std::make_shared<nn::MaxPool2d>(2),
                     std::make_shared<nn::Flatten>(),
                     std::make_shared<nn::Linear>(2 * 2 * 2, 3, gen));
  const Tensor x = Tensor::uniform(Shape{2, 1, 4, 4}, -1.f, 1.f, gen);
  const ModuleGradcheckReport r = eigrad::gradcheck_module(cnn, x);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(names_of(r) ==
        std::vector<std::string>{"input", "0.weight", "0.bias", "1.weight", "4.weight", "4.bias"});
  CHECK(report_of(r, "0.weight").checked == 2 * 6 * 18);  // in float64, then in float32
}

TEST_CASE("gradcheck_module names the parameter whose gradient a user's op gets wrong",
          "[gradcheck][gradcheck_module]") {
  Generator gen(5);
  nn::Sequential net(std::make_shared<nn::Linear>(3, 2, gen),
                     std::make_shared<Scale<float>>(2, /*scale_error=*/2.0));
  const Tensor x = Tensor::uniform(Shape{4, 3}, -1.f, 1.f, gen);
  const ModuleGradcheckReport r = eigrad::gradcheck_module(net, x);
  INFO(r.str());
  CHECK_FALSE(r.passed);
  CHECK(report_of(r, "input").passed);
  CHECK(report_of(r, "0.weight").passed);
  CHECK(report_of(r, "0.bias").passed);
  const eigrad::GradcheckReport& scale = report_of(r, "1.scale");
  CHECK_FALSE(scale.passed);
  // d y[b, j] / d scale[j] = h[b, j], reported twice over.
  CHECK(scale.analytic == Approx(2 * scale.numeric).margin(1e-6));
  CHECK_THAT(r.str(), Catch::Contains("1.scale: gradcheck FAILED"));

  eigrad::GradcheckOptions raise;
  raise.raise = true;
  CHECK_THROWS_WITH(eigrad::gradcheck_module(net, x, raise),
                    Catch::Contains("gradcheck_module: Sequential: the gradients of 1.scale are "
                                    "wrong"));
}

TEST_CASE("gradcheck_module names the input when a user's op gets the input's gradient wrong",
          "[gradcheck][gradcheck_module]") {
  Generator gen(6);
  Scale<float> scale(3, /*scale_error=*/1.0, /*input_error=*/-1.0);
  const Tensor x = Tensor::uniform(Shape{2, 3}, -1.f, 1.f, gen);
  const ModuleGradcheckReport r = eigrad::gradcheck_module(scale, x);
  INFO(r.str());
  CHECK_FALSE(report_of(r, "input").passed);
  CHECK(report_of(r, "scale").passed);
}

TEST_CASE("a module that cannot be converted to float64 is an error naming its type",
          "[gradcheck][gradcheck_module]") {
  Generator gen(1);
  nn::Sequential net(std::make_shared<nn::Linear>(2, 2, gen), std::make_shared<Unconvertible>());
  const Tensor x = Tensor::uniform(Shape{1, 2}, -1.f, 1.f, gen);
  CHECK_THROWS_AS(eigrad::gradcheck_module(net, x), Error);
  CHECK_THROWS_WITH(eigrad::gradcheck_module(net, x),
                    Catch::Contains("Unconvertible") && Catch::Contains("make_double()"));
  CHECK_THROWS_WITH(nn::to_double(Unconvertible()), Catch::Contains("Unconvertible"));
}

TEST_CASE("to_double copies parameters, buffers, requires_grad and modes", "[gradcheck_module]") {
  Generator gen(2);
  nn::Sequential net(std::make_shared<nn::Linear>(2, 3, gen), std::make_shared<nn::BatchNorm1d>(3),
                     std::make_shared<nn::Dropout>(0.5));
  net.parameter("0.bias").set_requires_grad(false);
  net.buffer("1.running_mean").mutable_array() << 0.25f, -0.5f, 1.5f;
  net.eval();
  net[2]->train();

  const std::shared_ptr<nn::BasicModule<double>> copy = nn::to_double(net);
  CHECK(copy->type_name() == "Sequential");
  CHECK(copy->str() == net.str());
  for (const auto& [name, p] : net.named_parameters()) {
    const DoubleTensor q = copy->parameter(name);
    CHECK(q.requires_grad() == p.requires_grad());
    for (int64_t i = 0; i < p.numel(); ++i) CHECK(q.data()[i] == double(p.data()[i]));
  }
  CHECK(copy->buffer("1.running_mean").to_vector() == std::vector<double>{0.25, -0.5, 1.5});
  CHECK_FALSE(copy->is_training());
  CHECK_FALSE(copy->children()[1]->is_training());
  CHECK(copy->children()[2]->is_training());
  // The copy is separate storage.
  copy->parameter("0.weight").mutable_data()[0] = 42;
  CHECK(net.parameter("0.weight").data()[0] != 42.f);
}

TEST_CASE("gradcheck_module skips frozen parameters", "[gradcheck][gradcheck_module]") {
  Generator gen(4);
  nn::Linear linear(2, 2, gen);
  linear.parameter("bias").set_requires_grad(false);
  const Tensor x = Tensor::uniform(Shape{3, 2}, -1.f, 1.f, gen);
  const ModuleGradcheckReport r = eigrad::gradcheck_module(linear, x);
  CHECK(r.passed);
  CHECK(names_of(r) == std::vector<std::string>{"input", "weight"});
}
