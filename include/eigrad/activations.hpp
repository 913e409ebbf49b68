#pragma once
// The activation catalogue: every activation is a graph node whose hand-written, fused backward
// sits beside its forward in ONE table (src/activation_catalogue.hpp). Semantics and defaults
// follow PyTorch 1.13. No inf or NaN comes out for a finite input, in forward or backward; a NaN
// input gives a NaN output.
//
// Two ways in:
//  - the functional API below (eigrad::relu(x), eigrad::leaky_relu(x, 0.2), ...);
//  - the runtime view of the table, activation_catalogue() / find_activation(name), for code that
//    enumerates activations (modules, gradient checks, benchmarks, tools).
#include <cstdint>
#include <string>
#include <vector>

#include "eigrad/ops.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

// ---- elementwise activations ----
// 1 / (1 + exp(-x)); backward from the saved output: y (1 - y).
template <class T>
BasicTensor<T> sigmoid(const BasicTensor<T>& x);
// clamp(slope x + offset, 0, 1); the defaults give relu6(x + 3) / 6 and slope 0.2 gives Keras 2's
// hard_sigmoid. The derivative is `slope` strictly inside the linear part, 0 at and beyond the
// corners.
template <class T>
BasicTensor<T> hard_sigmoid(const BasicTensor<T>& x, Scalar<T> slope = Scalar<T>(1.0 / 6.0),
                            Scalar<T> offset = Scalar<T>(0.5));
template <class T>
BasicTensor<T> tanh(const BasicTensor<T>& x);
// max(0, x); derivative 0 at x = 0.
template <class T>
BasicTensor<T> relu(const BasicTensor<T>& x);
// min(max(0, x), 6); derivative 0 at 0 and 6.
template <class T>
BasicTensor<T> relu6(const BasicTensor<T>& x);
// x if x > 0 else negative_slope x (x = 0 takes the negative branch).
template <class T>
BasicTensor<T> leaky_relu(const BasicTensor<T>& x, Scalar<T> negative_slope = Scalar<T>(0.01));
// x if x > 0 else alpha (exp(x) - 1).
template <class T>
BasicTensor<T> elu(const BasicTensor<T>& x, Scalar<T> alpha = Scalar<T>(1));
// scale elu(x, alpha) with the self-normalising constants alpha = 1.67326..., scale = 1.05070...
template <class T>
BasicTensor<T> selu(const BasicTensor<T>& x);
// max(0, x) + min(0, alpha (exp(x / alpha) - 1)); alpha must be positive.
template <class T>
BasicTensor<T> celu(const BasicTensor<T>& x, Scalar<T> alpha = Scalar<T>(1));
enum class GeluApproximate {
  None,  // x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); catalogue entry "gelu"
  Tanh,  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))); catalogue entry "gelu_tanh"
};
template <class T>
BasicTensor<T> gelu(const BasicTensor<T>& x, GeluApproximate approximate = GeluApproximate::None);
// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold; beta must be non-zero.
template <class T>
BasicTensor<T> softplus(const BasicTensor<T>& x, Scalar<T> beta = Scalar<T>(1),
                        Scalar<T> threshold = Scalar<T>(20));
// x / (1 + |x|)
template <class T>
BasicTensor<T> softsign(const BasicTensor<T>& x);
// x sigmoid(x); silu is the same function under PyTorch's name.
template <class T>
BasicTensor<T> swish(const BasicTensor<T>& x);
template <class T>
BasicTensor<T> silu(const BasicTensor<T>& x);
// x relu6(x + 3) / 6
template <class T>
BasicTensor<T> hardswish(const BasicTensor<T>& x);
// x tanh(softplus(x))
template <class T>
BasicTensor<T> mish(const BasicTensor<T>& x);

// ---- along an axis (negative axes count from the end) ----
// exp(x - max) / sum(exp(x - max)); backward y (g - sum(g y)).
template <class T>
BasicTensor<T> softmax(const BasicTensor<T>& x, int axis = -1);
// x - max - log(sum(exp(x - max))); backward g - exp(y) sum(g).
template <class T>
BasicTensor<T> log_softmax(const BasicTensor<T>& x, int axis = -1);

// ---- learnable ----
// PReLU: x if x > 0 else a x, with `slopes` a holding 1 value (shared) or one per channel. The
// channel axis is axis 1 for inputs of rank 2 or more ([N, C], [N, C, L], [N, C, H, W]); a rank-1
// input has one channel. Backward gives both the input's and the slopes' gradients.
template <class T>
BasicTensor<T> prelu(const BasicTensor<T>& x, const BasicTensor<T>& slopes);
// The initial slope of PyTorch's nn.PReLU.
constexpr double kPReLUInitialSlope = 0.25;

// ---- the runtime view of the catalogue ----
enum class ActivationKind {
  Elementwise,  // y_i = f(x_i; parameters)
  AlongAxis,    // normalises along one axis, given by the parameter "axis" (softmax, log_softmax)
  PerChannel,   // has learnable slopes, one per channel or shared (prelu)
};

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
