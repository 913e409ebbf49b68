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
// A program can add its own elementwise activations at run time (register_activation, at the
// end); they join the runtime view, not the functional API.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eigrad/activation_catalogue.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

struct ActivationParameter {
  std::string name;  ///< as in the functional API, e.g. "negative_slope"
  double default_value;
};

struct ActivationDefinition;

/// One entry of the catalogue. Parameter values are given as doubles, in the order of
/// `parameters`; missing trailing values take their defaults. For AlongAxis the one parameter is
/// the axis; for PerChannel the parameters describe the learnable slopes (num_parameters: 1 or C,
/// init: their initial value) and the call takes the slopes as a tensor.
class ActivationInfo {
 public:
  std::string name;                  ///< the functional API's name, e.g. "leaky_relu"
  std::vector<std::string> aliases;  ///< other names find_activation() accepts, e.g. "silu"
  ActivationKind kind = ActivationKind::Elementwise;
  std::string formula;                          ///< one line, for documentation and tools
  std::vector<ActivationParameter> parameters;  ///< in call order, with PyTorch 1.13's defaults
  bool saves_output = false;  ///< backward reads the saved output (else the saved input)

  /// `values` completed with the defaults; throws eigrad::Error if there are too many or one is
  /// out of its domain (e.g. celu's alpha = 0).
  std::vector<double> resolve(const std::vector<double>& values = {}) const;
  /// Sorted points where the derivative is discontinuous, for these parameter values (gradient
  /// checks draw their points away from them).
  std::vector<double> kinks(const std::vector<double>& values = {}) const;

  /// Elementwise and AlongAxis entries: the activation of x with these parameter values.
  template <class T>
  BasicTensor<T> apply(const BasicTensor<T>& x, const std::vector<double>& values = {}) const;
  /// PerChannel entries: the activation of x with learnable `slopes`.
  template <class T>
  BasicTensor<T> apply(const BasicTensor<T>& x, const BasicTensor<T>& slopes) const;

  /// Internal: how the table fills in the type-erased calls.
  struct Calls {
    void (*check)(const double* values);
    std::vector<double> (*kinks)(const double* values);
    Tensor (*apply_f32)(const Tensor& x, const double* values, const Tensor& slopes);
    DoubleTensor (*apply_f64)(const DoubleTensor& x, const double* values,
                              const DoubleTensor& slopes);
  };
  Calls calls{};
  /// Internal: a registered activation's definition, which `calls` cannot carry (null for the
  /// built-ins).
  std::shared_ptr<const ActivationDefinition> definition;

  /// True for an activation added by register_activation(), false for the catalogue's own.
  bool registered() const { return definition != nullptr; }
};

/// Every activation: the catalogue's, in its order, then the registered ones in the order of
/// registration. References into it stay valid for the life of the program, also across later
/// registrations (which publish a new list rather than change this one).
const std::vector<ActivationInfo>& activation_catalogue();
/// The entry with this name or alias; throws eigrad::Error listing the known names.
const ActivationInfo& find_activation(const std::string& name);

// ---------------------------------------------------------------- registered activations

/// An elementwise activation y_i = f(x_i; parameters) defined by the program. Its node saves the
/// input and its backward is g * f'(x). Give f and f' as scalar callables (computed in double,
/// for float32 and float64 alike) or, so that the kernel can vectorise, as array callables that
/// write f(x) or f'(x) of a block of x into y, one per precision; where both are given for a
/// precision, its array callable is used. Callables may run on several threads at once (large
/// tensors are split), so they must not change shared state; an exception they throw reaches the
/// caller of the activation.
struct ActivationDefinition {
  template <class T>
  using In = catalogue::In<T>;  ///< a block of x (Eigen::Map of a column array)
  template <class T>
  using Out = catalogue::Out<T>;
  using ScalarCallable = std::function<double(double x, const double* values)>;
  template <class T>
  using ArrayCallable = std::function<void(In<T> x, Out<T> y, const T* values)>;

  std::string name;                             ///< unique among all activations' names and aliases
  std::vector<std::string> aliases;             ///< other names find_activation() accepts
  std::string formula;                          ///< one line, for documentation and tools
  std::vector<ActivationParameter> parameters;  ///< in call order, with their defaults
  /// Throws eigrad::Error for parameter values outside the domain (as a built-in's check);
  /// optional. register_activation() checks the defaults with it.
  std::function<void(const double* values)> check;
  /// The points where f' is discontinuous for these parameter values; optional (none).
  std::function<std::vector<double>(const double* values)> kinks;

  ScalarCallable function, derivative;  ///< f(x; values), f'(x; values)
  ArrayCallable<float> array_function_f32, array_derivative_f32;
  ArrayCallable<double> array_function_f64, array_derivative_f64;

  /// Sets the array callables of both precisions from generic ones, e.g.
  ///   def.set_array_callables([](auto x, auto y, auto) { y = x.cube(); },
  ///                           [](auto x, auto y, auto) { y = 3 * x.square(); });
  template <class F, class D>
  ActivationDefinition& set_array_callables(const F& f, const D& df) {
    array_function_f32 = f;
    array_function_f64 = f;
    array_derivative_f32 = df;
    array_derivative_f64 = df;
    return *this;
  }
};

/// Adds `definition` to the runtime catalogue, where find_activation(), ActivationInfo::apply,
/// nn::Activation and the tools find it; its nodes are named after it. Throws eigrad::Error,
/// changing nothing, for an empty or taken name or alias, a parameter without a name, a missing
/// function or derivative in either precision, or defaults that its check rejects. Safe to call
/// from several threads; an activation cannot be unregistered.
const ActivationInfo& register_activation(ActivationDefinition definition);

}  // namespace eigrad
