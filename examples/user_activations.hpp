#pragma once
// Two activations defined by a program rather than by eigrad, registered at run time (README,
// "Registering an activation"); gradcheck_activations and compare_activations take them in
// with --register-examples, as a program of yours would register its own.
#include <cmath>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/error.hpp"

namespace examples {

// Registers, once per process:
//  - squareplus (So, 2021), a smooth relu, with scalar callables: (x + sqrt(x^2 + b)) / 2, whose
//    parameter b >= 0 sets the smoothing; b = 0 is relu, with its kink at 0;
//  - isrlu (Carlile et al., 2017) with array callables, which vectorise: x for x >= 0, else
//    x / sqrt(1 + alpha x^2).
inline void register_example_activations() {
  static const bool registered = [] {
    eigrad::ActivationDefinition squareplus;
    squareplus.name = "squareplus";
    squareplus.formula = "(x + sqrt(x^2 + b)) / 2";
    squareplus.parameters = {{"b", 4.0}};
    squareplus.check = [](const double* p) {
      if (!(p[0] >= 0))
        throw eigrad::Error("squareplus: b must be >= 0, got " + std::to_string(p[0]));
    };
    squareplus.kinks = [](const double* p) {
      return p[0] == 0 ? std::vector<double>{0} : std::vector<double>{};
    };
    squareplus.function = [](double x, const double* p) {
      return (x + std::sqrt(x * x + p[0])) / 2;
    };
    squareplus.derivative = [](double x, const double* p) {
      const double r = std::sqrt(x * x + p[0]);
      return r == 0 ? 0.0 : (1 + x / r) / 2;  // relu'(0) = 0 when b = 0
    };
    eigrad::register_activation(squareplus);

    // With m = min(x, 0): f = max(x, 0) + m / sqrt(1 + alpha m^2), f' = (1 + alpha m^2)^(-3/2).
    eigrad::ActivationDefinition isrlu;
    isrlu.name = "isrlu";
    isrlu.formula = "x if x >= 0 else x / sqrt(1 + alpha x^2)";
    isrlu.parameters = {{"alpha", 1.0}};
    isrlu.check = [](const double* p) {
      if (!(p[0] >= 0))
        throw eigrad::Error("isrlu: alpha must be >= 0, got " + std::to_string(p[0]));
    };
    isrlu.set_array_callables(
        [](auto x, auto y, const auto* p) {
          y = x.max(0) + x.min(0) * (x.min(0).square() * p[0] + 1).rsqrt();
        },
        [](auto x, auto y, const auto* p) { y = (x.min(0).square() * p[0] + 1).rsqrt().cube(); });
    eigrad::register_activation(isrlu);
    return true;
  }();
  (void)registered;
}

}  // namespace examples
