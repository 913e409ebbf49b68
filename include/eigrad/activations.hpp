#pragma once
// The activation catalogue: every activation is a graph node whose hand-written, fused backward
// sits beside its forward in ONE table (eigrad/activation_catalogue.hpp). Semantics and defaults
// follow PyTorch 1.13. No inf or NaN comes out for a finite input, in forward or backward; a NaN
// input gives a NaN output.
//
// Two ways in:
//  - the functional API (eigrad::relu(x), eigrad::leaky_relu(x, 0.2), ...), one callable per
//    entry, at the end of eigrad/activation_catalogue.hpp;
//  - the runtime view of the table, activation_catalogue() / find_activation(name), for code that
//    enumerates activations (modules, gradient checks, benchmarks, tools).
#include <cstdint>
#include <string>
#include <vector>

#include "eigrad/activation_catalogue.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

struct ActivationParameter {
  std::string name;  // as in the functional API, e.g. "negative_slope"
  double default_value;
};

// One entry of the catalogue. Parameter values are given as doubles, in the order of
// `parameters`; missing trailing values take their defaults. For AlongAxis the one parameter is
// the axis; for PerChannel the parameters describe the learnable slopes (num_parameters: 1 or C,
// init: their initial value) and the call takes the slopes as a tensor.
class ActivationInfo {
 public:
  std::string name;                  // the functional API's name, e.g. "leaky_relu"
  std::vector<std::string> aliases;  // other names find_activation() accepts, e.g. "silu"
  ActivationKind kind = ActivationKind::Elementwise;
  std::string formula;                          // one line, for documentation and tools
  std::vector<ActivationParameter> parameters;  // in call order, with PyTorch 1.13's defaults
  bool saves_output = false;  // backward reads the saved output (else the saved input)

  // `values` completed with the defaults; throws eigrad::Error if there are too many or one is
  // out of its domain (e.g. celu's alpha = 0).
  std::vector<double> resolve(const std::vector<double>& values = {}) const;
  // Sorted points where the derivative is discontinuous, for these parameter values (gradient
  // checks draw their points away from them).
  std::vector<double> kinks(const std::vector<double>& values = {}) const;

  // Elementwise and AlongAxis entries: the activation of x with these parameter values.
  template <class T>
  BasicTensor<T> apply(const BasicTensor<T>& x, const std::vector<double>& values = {}) const;
  // PerChannel entries: the activation of x with learnable `slopes`.
  template <class T>
  BasicTensor<T> apply(const BasicTensor<T>& x, const BasicTensor<T>& slopes) const;

  // Internal: how the table fills in the type-erased calls.
  struct Calls {
    void (*check)(const double* values);
    std::vector<double> (*kinks)(const double* values);
    Tensor (*apply_f32)(const Tensor& x, const double* values, const Tensor& slopes);
    DoubleTensor (*apply_f64)(const DoubleTensor& x, const double* values,
                              const DoubleTensor& slopes);
  };
  Calls calls{};
};

// Every activation, in the catalogue's order.
const std::vector<ActivationInfo>& activation_catalogue();
// The entry with this name or alias; throws eigrad::Error listing the known names.
const ActivationInfo& find_activation(const std::string& name);

}  // namespace eigrad
