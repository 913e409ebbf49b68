// gradcheck's zero-Jacobian warning, and gradcheck_module's float32 pass catching a wrong float32
// derivative that the float64 twin does not have.
#include <catch2/catch.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/nn/activation.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/nn/sequential.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Tensor;
using Ts = std::vector<DoubleTensor>;

TEST_CASE("a function that ignores its inputs gets a zero-Jacobian warning", "[gradcheck]") {
  const DoubleTensor x = eigrad::test::random_leaf({3}, 1);
  const auto constant = [](const Ts& t) { return DoubleTensor::ones(t[0].shape()); };
  const eigrad::GradcheckReport r = eigrad::gradcheck(constant, {x});
  CHECK(r.passed);  // by default a warning, not a failure
  CHECK(r.zero_jacobian);
  CHECK_THAT(r.str(), Contains("WARNING") && Contains("zero everywhere"));
  eigrad::GradcheckOptions strict;
  strict.fail_on_zero_jacobian = true;
  CHECK_FALSE(eigrad::gradcheck(constant, {x}, strict).passed);
  // A real function has no warning, even where some entries are 0 (a diagonal Jacobian).
  const eigrad::GradcheckReport s = eigrad::gradcheck([](const Ts& t) { return t[0] * t[0]; }, {x});
  CHECK(s.passed);
  CHECK_FALSE(s.zero_jacobian);
  CHECK_THAT(s.str(), !Contains("WARNING"));
}

TEST_CASE("gradcheck_module checks a float32 module's own float32 backward", "[gradcheck]") {
  // x^3 whose float32 derivative is wrong (2.9 x^2) and whose float64 one is right (3 x^2).
  eigrad::ActivationDefinition d;
  d.name = "warn_cube_wrong_in_float32";
  d.formula = "x^3";
  d.set_array_callables([](auto x, auto y, const auto*) { y = x * x * x; },
                        [](auto x, auto y, const auto*) {
                          using S = typename std::decay_t<decltype(x)>::Scalar;
                          const S k = std::is_same<S, float>::value ? S(2.9) : S(3);
                          y = k * x * x;
                        });
  eigrad::register_activation(d);
  eigrad::Generator g(4);
  eigrad::nn::Sequential model;
  model.push_back(std::make_shared<eigrad::nn::Linear>(3, 2, true, g));
  model.push_back(std::make_shared<eigrad::nn::Activation>("warn_cube_wrong_in_float32"));
  const Tensor input = Tensor::uniform({2, 3}, -1, 1, g);
  const eigrad::ModuleGradcheckReport r = eigrad::gradcheck_module(model, input);
  INFO(r.str());
  CHECK_FALSE(r.passed);
  // The float64 twin alone is right: the same model in float64 passes.
  CHECK(eigrad::gradcheck_module(*eigrad::nn::to_double(model), input.to<double>()).passed);
  eigrad::GradcheckOptions raise;
  raise.raise = true;
  CHECK_THROWS_WITH(eigrad::gradcheck_module(model, input, raise), Contains("(in float32)"));
}
