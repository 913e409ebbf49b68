#pragma once
// THE activation table. Each entry defines, once: its name (and aliases), its parameters with
// PyTorch 1.13's defaults, its formula, the forward kernel, the backward kernel g * f'(.) beside
// it, that backward's derivative written in eigrad ops (so that a gradient computed with
// create_graph is differentiable again, the smooth entries' to any order), what backward reads
// (the saved input or output) and the known kinks. The functional API
// (eigrad::relu, eigrad::leaky_relu, ... at the end of this file), its defaults, the runtime
// catalogue (eigrad/activations.hpp), the gradient-check tool, the tests' sweeps and the
// benchmarks all come from `Catalogue`: adding an activation is an entry, its place in
// `Catalogue` and its callable.
//
// Kernels run block by block on maps of the tensors' storage, each block small enough to stay
// in L1. A kernel is one Eigen array expression, or two where a costly value is shared: the first
// writes it into the output block, the second reads it back from cache. The vectorised building
// blocks (exp, sigmoid, Phi, the step function `positive`, ...) are in eigrad/kernels/. Hot
// kernels use max/min and `positive` rather than select(), which Eigen 3.4 does not vectorize;
// operands that may be NaN come first in max/min, so NaN propagates.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>
#include "eigrad/eigen.hpp"

#include "eigrad/error.hpp"
#include "eigrad/kernels/activations.hpp"
#include "eigrad/kernels/reduce.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

enum class ActivationKind {
  Elementwise,  ///< y_i = f(x_i; parameters)
  AlongAxis,    ///< normalises along one axis, given by the parameter "axis" (softmax, log_softmax)
  PerChannel,   ///< has learnable slopes, one per channel or shared (prelu)
};

/// The initial slope of PyTorch's nn.PReLU.
constexpr double kPReLUInitialSlope = 0.25;

namespace catalogue {

using namespace kernels;

template <class T>
using In = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using Out = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

struct Parameter {
  const char* name;
  double default_value;
};

/// Defaults that entries override by declaring the same member.
struct Entry {
  static constexpr std::array<const char*, 0> aliases{};
  static constexpr std::array<Parameter, 0> parameters{};
  static std::vector<double> kinks(const double*) { return {}; }
  static void check(const double*) {}  // throws eigrad::Error for values outside the domain
};
struct Elementwise : Entry {
  static constexpr ActivationKind kind = ActivationKind::Elementwise;
};
struct AlongAxis : Entry {
  static constexpr ActivationKind kind = ActivationKind::AlongAxis;
  static constexpr std::array<Parameter, 1> parameters{{{"axis", -1}}};
};

// ---- the building blocks of the derivatives written in eigrad ops ----
// Besides the arithmetic ops (whose derivatives are recorded too), the entries' derivatives use:

/// Entry E as an op (the functional API's node), with these parameter values (defaults for the
/// missing ones); defined after the functional API below.
template <class E, class T, class... V>
BasicTensor<T> activate(const BasicTensor<T>& x, V... values);

/// The Heaviside step of t's values, H(0) = 0 (NaN passes), as a constant: a piecewise derivative
/// is built from steps, which makes its own derivative 0 on every piece and at the kinks
/// (PyTorch's convention, e.g. relu'' = 0). It is the step the fused kernels use.
template <class T>
BasicTensor<T> step(const BasicTensor<T>& t) {
  auto h = BasicTensor<T>::empty(t.shape());
  h.mutable_array() = positive(t.array());
  return h;
}

/// x, with a zero derivative where `mask` is 1: PyTorch's second derivatives leave out a kink
/// point that the first derivative's piece includes (hardswish at -3 and 3, softplus at its
/// threshold).
template <class T>
BasicTensor<T> constant_at(const BasicTensor<T>& x, const BasicTensor<T>& mask) {
  return x * (T(1) - mask) + x.detach() * mask;
}

// Where the kernels clamp x because nothing changes beyond it in T, the derivatives clamp it too
// (eigrad::clamp, whose derivative is 0 outside): no product of large factors (x^2, or x times
// the derivative of x times ...) then overflows into inf times 0.

/// phi(x) = exp(-x^2 / 2) / sqrt(2 pi), the normal distribution's density (0 beyond |x| = 40,
/// in float and double alike).
template <class T>
BasicTensor<T> normal_pdf(const BasicTensor<T>& x) {
  const BasicTensor<T> xc = clamp(x, T(-40), T(40));
  return T(0.39894228040143267794) * eigrad::exp(T(-0.5) * (xc * xc));
}
/// Phi(x), the normal distribution's CDF, with the kernel gelu's backward uses: an op of its own
/// (src/activations.cpp) whose derivative is phi(x).
template <class T>
BasicTensor<T> normal_cdf(const BasicTensor<T>& x);

// An elementwise entry E provides
//   template <class T> static void forward(In<T> x, Out<T> y, const T* p);
//   template <class T> static void backward(In<T> g, In<T> saved, Out<T> dx, const T* p);
//   template <class T> static BasicTensor<T> derivative(const BasicTensor<T>& saved, const T* p);
// where `saved` is the output if E::saves_output, else the input, and p its parameter values.
// `derivative` is f'(x) in eigrad ops, with the same values and conventions at kinks as
// `backward` (which computes g * f'(x) fused): under create_graph the node records g * f'(x)
// with it, so that the gradient can be differentiated again. Where it is piecewise constant
// (relu) the node ties it to `saved` with a zero derivative.

struct Sigmoid : Elementwise {
  static constexpr const char* name = "sigmoid";
  static constexpr const char* formula = "1 / (1 + exp(-x))";
  static constexpr bool saves_output = true;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = fast_sigmoid(x);  // exp(1000) = inf gives 0, not NaN
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx, const T*) {
    dx = g * y * (T(1) - y);
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& y, const T*) {
    return y * (T(1) - y);
  }
};

struct HardSigmoid : Elementwise {
  static constexpr const char* name = "hard_sigmoid";
  static constexpr std::array<const char*, 1> aliases{{"hardsigmoid"}};
  static constexpr const char* formula = "clamp(slope x + offset, 0, 1)";
  static constexpr std::array<Parameter, 2> parameters{{{"slope", 1.0 / 6.0}, {"offset", 0.5}}};
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double* p) {
    if (p[0] == 0) return {};
    const double a = -p[1] / p[0], b = (1 - p[1]) / p[0];
    return {std::min(a, b), std::max(a, b)};
  }
  /// The defaults, as PyTorch computes them: min(max(x + 3, 0), 6) / 6, exactly 0 and 1 at the
  /// corners (slope x + offset would give 2.8e-17 at -3, 1/6 not being a binary fraction).
  template <class T>
  static bool is_default(const T* p) {
    return p[0] == T(1.0 / 6.0) && p[1] == T(0.5);
  }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    if (is_default(p))
      y = (x + T(3)).max(T(0)).min(T(6)) / T(6);
    else
      y = (x * p[0] + p[1]).max(T(0)).min(T(1));
  }
  /// `slope` strictly inside the linear part (PyTorch: 0 at the corners, -3 < x < 3 for the
  /// defaults, decided on x itself).
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    if (is_default(p))
      dx = g * (positive(x + T(3)) * positive(T(3) - x) / T(6));
    else
      dx = g * p[0] * positive(x * p[0] + p[1]) * positive(T(1) - (x * p[0] + p[1]));
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T* p) {
    if (is_default(p)) return step(x + T(3)) * step(T(3) - x) / T(6);
    return p[0] * step(x * p[0] + p[1]) * step(T(1) - (x * p[0] + p[1]));
  }
};

struct Tanh : Elementwise {
  static constexpr const char* name = "tanh";
  static constexpr const char* formula = "tanh(x)";
  static constexpr bool saves_output = true;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = fast_tanh(x);
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx, const T*) {
    dx = g * (T(1) - y.square());
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& y, const T*) {
    return T(1) - y * y;
  }
};

struct Relu : Elementwise {
  static constexpr const char* name = "relu";
  static constexpr const char* formula = "max(0, x)";
  static constexpr bool saves_output = true;
  static std::vector<double> kinks(const double*) { return {0}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x.max(T(0));
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx, const T*) {
    dx = g * positive(y);  // PyTorch 1.13: relu'(0) = 0
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& y, const T*) {
    return step(y);
  }
};

struct Relu6 : Elementwise {
  static constexpr const char* name = "relu6";
  static constexpr const char* formula = "min(max(0, x), 6)";
  static constexpr bool saves_output = true;
  static std::vector<double> kinks(const double*) { return {0, 6}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x.max(T(0)).min(T(6));
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx, const T*) {
    dx = g * positive(y) * positive(T(6) - y);  // PyTorch (hardtanh): 0 at 0 and at 6
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& y, const T*) {
    return step(y) * step(T(6) - y);
  }
};

struct LeakyRelu : Elementwise {
  static constexpr const char* name = "leaky_relu";
  static constexpr const char* formula = "x if x > 0 else negative_slope x";
  static constexpr std::array<Parameter, 1> parameters{{{"negative_slope", 0.01}}};
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double*) { return {0}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    y = x.max(T(0)) + p[0] * x.min(T(0));
  }
  /// x = 0 takes the negative branch. step + slope (1 - step) is exactly 1 or exactly slope.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * (positive(x) + p[0] * (T(1) - positive(x)));
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T* p) {
    return step(x) + p[0] * (T(1) - step(x));
  }
};

/// The elu family's derivative in eigrad ops, as EluDerivativeOp: a where x > 0, else
/// b exp(c x). x = 0 takes the exponential branch, but PyTorch's elu_double_backward takes its
/// derivative there as 0 (a mask x < 0): hence exp(c x H(-x)).
template <class T>
BasicTensor<T> elu_derivative(const BasicTensor<T>& x, T a, T b, T c) {
  const BasicTensor<T> positive_part = step(x);
  return a * positive_part + b * (T(1) - positive_part) * eigrad::exp(c * (x * step(-x)));
}

struct Elu : Elementwise {
  static constexpr const char* name = "elu";
  static constexpr const char* formula = "x if x > 0 else alpha (exp(x) - 1)";
  static constexpr std::array<Parameter, 1> parameters{{{"alpha", 1.0}}};
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double*) { return {0}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    y = x.max(T(0)) + p[0] * fast_expm1_of_min0(x);
  }
  /// 1 if x > 0 else alpha exp(x); PyTorch 1.13: x = 0 takes the negative branch.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * map(x, EluDerivativeOp<T>{T(1), p[0], T(1)});
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T* p) {
    return elu_derivative(x, T(1), p[0], T(1));
  }
};

struct Selu : Elementwise {
  static constexpr const char* name = "selu";
  static constexpr const char* formula = "scale (x if x > 0 else alpha (exp(x) - 1))";
  static constexpr bool saves_output = false;
  static constexpr double alpha = 1.6732632423543772848170429916717;
  static constexpr double scale = 1.0507009873554804934193349852946;
  static std::vector<double> kinks(const double*) { return {0}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = T(scale) * (x.max(T(0)) + T(alpha) * fast_expm1_of_min0(x));
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = g * map(x, EluDerivativeOp<T>{T(scale), T(scale * alpha), T(1),
                                       T(scale * alpha - double(T(scale * alpha)))});
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    return elu_derivative(x, T(scale), T(scale * alpha), T(1));
  }
};

struct Celu : Elementwise {
  static constexpr const char* name = "celu";
  static constexpr const char* formula = "max(0, x) + min(0, alpha (exp(x / alpha) - 1))";
  static constexpr std::array<Parameter, 1> parameters{{{"alpha", 1.0}}};
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double*) { return {0}; }
  static void check(const double* p) {
    // (PyTorch also takes alpha < 0, where celu grows like exp(|x|) for x < 0; eigrad does not.)
    if (!(p[0] > 0)) throw Error("celu: alpha must be positive, got " + std::to_string(p[0]));
  }
  /// 1 / alpha, capped at the largest finite value: for a tiny alpha it overflows, and
  /// min(x, 0) = 0 times inf would be NaN (x min(x, 0) / alpha is -inf all the same for x < 0).
  template <class T>
  static T inverse(const T* p) {
    return std::min(T(1) / p[0], std::numeric_limits<T>::max());
  }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    y = x.max(T(0)) + p[0] * fast_expm1_of_min0(x * inverse(p));
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * map(x, EluDerivativeOp<T>{T(1), T(1), inverse(p)});
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T* p) {
    return elu_derivative(x, T(1), T(1), inverse(p));
  }
};

struct Gelu : Elementwise {
  static constexpr const char* name = "gelu";
  static constexpr const char* formula = "x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))";
  static constexpr bool saves_output = false;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = fast_gelu(x);  // x Phi(x), relatively accurate in the left tail
  }
  /// Phi(x) + x phi(x), with e = exp(-x^2 / 2) first.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<NegHalfSquare>(x);
    dx = g * map(x, dx, GeluDerivativeFromExp<T>());
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    return normal_cdf(x) + x * normal_pdf(x);
  }
};

/// gelu(x, GeluApproximate::Tanh).
struct GeluTanh : Elementwise {
  static constexpr const char* name = "gelu_tanh";
  static constexpr const char* formula = "0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))";
  static constexpr bool saves_output = false;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = map(x, GeluTanhOp<T>());
  }
  /// s + 2 x u'(x) s (1 - s), s = sigmoid(2 u), with q = exp(-2 |u|) first.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<GeluTanhTerms>(x);
    dx = g * map(x, dx, GeluTanhDerivativeFromExp<T>());
  }
  /// The same from x clamped to [-25, 25] as the kernels clamp it (its derivative 0 outside).
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    constexpr double k = GeluTanhTerms::k, c = GeluTanhTerms::c;
    const BasicTensor<T> xc = clamp(x, T(-25), T(25));
    const BasicTensor<T> square = xc * xc;
    const BasicTensor<T> z = xc * affine(square, T(2 * k * c), T(2 * k));  // 2 u
    const BasicTensor<T> w = xc * affine(square, T(6 * k * c), T(2 * k));  // 2 x u'(x)
    const BasicTensor<T> s = activate<Sigmoid>(z);
    return s + w * (s * activate<Sigmoid>(-z));  // s (1 - s), accurate where s rounds to 1
  }
};

struct Softplus : Elementwise {
  static constexpr const char* name = "softplus";
  static constexpr const char* formula =
      "log(1 + exp(beta x)) / beta, or x where beta x > threshold";
  static constexpr std::array<Parameter, 2> parameters{{{"beta", 1.0}, {"threshold", 20.0}}};
  static constexpr bool saves_output = false;
  /// The switch to x at beta x = threshold is a (tiny) jump.
  static std::vector<double> kinks(const double* p) { return {p[1] / p[0]}; }
  static void check(const double* p) {
    if (p[0] == 0) throw Error("softplus: beta must be non-zero (it divides the result), got 0");
  }
  /// With e = exp(-|beta x|) first.
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    if (p[0] == T(1)) {
      y = fast_exp(-x.abs());
      y = map(x, y, SoftplusFromExp<T, true>{p[0], p[1]});
    } else {
      y = fast_exp(-(x * p[0]).abs());
      y = map(x, y, SoftplusFromExp<T, false>{p[0], p[1]});
    }
  }
  /// sigmoid(beta x), or 1 where beta x > threshold.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * map(x, SoftplusDerivative<T>{p[0], p[1]});
  }
  /// PyTorch's second derivative is beta s (1 - s) only where beta x < threshold (strictly).
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T* p) {
    const BasicTensor<T> z = x.detach() * p[0];
    const BasicTensor<T> linear = step(z - p[1]);
    const BasicTensor<T> smooth_x = constant_at(x, T(1) - step(p[1] - z));
    return linear + (T(1) - linear) * activate<Sigmoid>(smooth_x * p[0]);
  }
};

struct Softsign : Elementwise {
  static constexpr const char* name = "softsign";
  static constexpr const char* formula = "x / (1 + |x|)";
  static constexpr bool saves_output = false;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x / (T(1) + x.abs());
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = g / (T(1) + x.abs()).square();
  }
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    const BasicTensor<T> r = T(1) / (T(1) + eigrad::abs(x));
    return r * r;
  }
};

struct Swish : Elementwise {
  static constexpr const char* name = "swish";
  static constexpr std::array<const char*, 1> aliases{{"silu"}};
  static constexpr const char* formula = "x sigmoid(x)";
  static constexpr bool saves_output = false;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x * fast_sigmoid(x);
  }
  /// s + x s (1 - s), s = sigmoid(x), with q = exp(-|x|) first.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<NegAbs>(x);
    dx = g * map(x, dx, SwishDerivativeFromExp<T>());
  }
  /// With 1 - s = sigmoid(-x), accurate where s rounds to 1.
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    const BasicTensor<T> s = activate<Sigmoid>(x);
    return s + x * s * activate<Sigmoid>(-x);
  }
};

struct Hardswish : Elementwise {
  static constexpr const char* name = "hardswish";
  static constexpr const char* formula = "x relu6(x + 3) / 6";
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double*) { return {-3, 3}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x * ((x + T(3)).max(T(0)).min(T(6)) / T(6));
  }
  /// PyTorch 1.13: 0 for x < -3, x / 3 + 1/2 for -3 <= x <= 3, 1 for x > 3.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = g * (T(1) - positive(T(-3) - x)) *
         (positive(x - T(3)) + (T(1) - positive(x - T(3))) * (x / T(3) + T(0.5)));
  }
  /// PyTorch's second derivative is 1/3 strictly inside (-3, 3), 0 at -3 and 3.
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    const BasicTensor<T> above = step(x - T(3));
    const BasicTensor<T> inner_x = constant_at(x, T(1) - step(x + T(3)) * step(T(3) - x));
    return (T(1) - step(T(-3) - x)) * (above + (T(1) - above) * (inner_x / T(3) + T(0.5)));
  }
};

struct Mish : Elementwise {
  static constexpr const char* name = "mish";
  static constexpr const char* formula = "x tanh(softplus(x))";
  static constexpr bool saves_output = false;
  /// With e = exp(min(x, cap)) first, forward and backward.
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = exp_of<MishCap>(x);
    y = map(x, y, MishFromExp<T, false>());
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<MishCap>(x);
    dx = g * map(x, dx, MishFromExp<T, true>());
  }
  /// As PyTorch's infinitely_differentiable_mish_backward: t + x s (1 - t^2), t the tanh of
  /// softplus(x), with x capped in the product as in the kernel (beyond the cap 1 - t^2 is 0 in T).
  template <class T>
  static BasicTensor<T> derivative(const BasicTensor<T>& x, const T*) {
    const BasicTensor<T> t = activate<Tanh>(activate<Softplus>(x)), s = activate<Sigmoid>(x);
    const BasicTensor<T> capped = clamp(x, -std::numeric_limits<T>::infinity(), MishCap::cap<T>);
    return t + capped * s * (T(1) - t * t);
  }
};

// An along-axis entry provides, for one contiguous slice along the axis,
//   template <class T> static void forward(In<T> x, Out<T> y);
//   template <class T> static void backward(In<T> g, In<T> saved, Out<T> dx);
// and its backward in eigrad ops, on the whole tensor, where sum_to_size(t, kept) sums t along
// the axis (`kept` is the shape with the axis' size 1):
//   template <class T> static BasicTensor<T> graph_backward(const BasicTensor<T>& g,
//                                                          const BasicTensor<T>& saved,
//                                                          const Shape& kept);

struct Softmax : AlongAxis {
  static constexpr const char* name = "softmax";
  static constexpr const char* formula = "exp(x - max) / sum(exp(x - max)) along an axis";
  static constexpr bool saves_output = true;
  /// The maximum, then y = exp(x - max) with its sum (the largest term is exp(0) = 1: no
  /// overflow), then y /= sum.
  template <class T>
  static void forward(In<T> x, Out<T> y) {
    const T sum = exp_shifted_sum(x.data(), max_of(x.data(), x.size()), y.data(), x.size());
    y *= T(1) / sum;
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx) {
    dx = y * (g - (g * y).sum());
  }
  template <class T>
  static BasicTensor<T> graph_backward(const BasicTensor<T>& g, const BasicTensor<T>& y,
                                       const Shape& kept) {
    return y * (g - sum_to_size(g * y, kept));
  }
};

struct LogSoftmax : AlongAxis {
  static constexpr const char* name = "log_softmax";
  static constexpr const char* formula = "x - max - log(sum(exp(x - max))) along an axis";
  static constexpr bool saves_output = true;
  /// (x - max) is exact near the maximum, so it is subtracted before log(sum), which is at least
  /// log(1) = 0: never log(0).
  template <class T>
  static void forward(In<T> x, Out<T> y) {
    const T max = max_of(x.data(), x.size());
    const T log_sum = std::log(exp_shifted_sum(x.data(), max, static_cast<T*>(nullptr), x.size()));
    y = (x - max) - log_sum;
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx) {
    dx = g - fast_exp(y) * g.sum();
  }
  template <class T>
  static BasicTensor<T> graph_backward(const BasicTensor<T>& g, const BasicTensor<T>& y,
                                       const Shape& kept) {
    return g - eigrad::exp(y) * sum_to_size(g, kept);
  }
};

/// Learnable slopes, one per channel (axis 1) or shared; the node is prelu_node() in
/// src/activations.cpp, with its backward both fused and in eigrad ops.
struct PReLU : Entry {
  static constexpr ActivationKind kind = ActivationKind::PerChannel;
  static constexpr const char* name = "prelu";
  static constexpr const char* formula = "x if x > 0 else a_c x, a learnable per channel";
  static constexpr std::array<Parameter, 2> parameters{
      {{"num_parameters", 1}, {"init", kPReLUInitialSlope}}};
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double*) { return {0}; }
  static void check(const double* p) {
    if (!(p[0] >= 1) || p[0] != std::floor(p[0]))
      throw Error(
          "prelu: num_parameters must be a positive integer (1 or the channel count), got " +
          std::to_string(p[0]));
  }
};

using Catalogue =
    std::tuple<Sigmoid, HardSigmoid, Tanh, Relu, Relu6, LeakyRelu, Elu, Selu, Celu, Gelu, GeluTanh,
               Softplus, Softsign, Swish, Hardswish, Mish, Softmax, LogSoftmax, PReLU>;

template <class E, class Tuple>
struct IndexOf;
template <class E, class... Es>
struct IndexOf<E, std::tuple<E, Es...>> : std::integral_constant<std::size_t, 0> {};
template <class E, class F, class... Es>
struct IndexOf<E, std::tuple<F, Es...>>
    : std::integral_constant<std::size_t, 1 + IndexOf<E, std::tuple<Es...>>::value> {};

}  // namespace catalogue

namespace detail {
/// Runs the catalogue's entry number `index` on x, with all its parameter values (checked there)
/// or, for PReLU, its slopes (src/activations.cpp).
Tensor run_activation(std::size_t index, const Tensor& x, const double* values,
                      const Tensor& slopes);
DoubleTensor run_activation(std::size_t index, const DoubleTensor& x, const double* values,
                            const DoubleTensor& slopes);
}  // namespace detail

/// The functional form of entry E: f(x, values...) takes E's parameters in order, and missing
/// trailing values take E's defaults, e.g. leaky_relu(x) and leaky_relu(x, 0.2); f(x, slopes) for
/// a PerChannel entry.
template <class E>
struct Activation {
  static constexpr std::size_t index = catalogue::IndexOf<E, catalogue::Catalogue>::value;

  template <class T, class... V,
            class = std::enable_if_t<(std::is_arithmetic<V>::value && ...) &&
                                     E::kind != ActivationKind::PerChannel>>
  BasicTensor<T> operator()(const BasicTensor<T>& x, V... values) const {
    constexpr std::size_t n = E::parameters.size();
    static_assert(sizeof...(V) <= n, "more parameter values than the activation takes");
    std::array<double, n + 1> all{};
    for (std::size_t i = 0; i < n; ++i) all[i] = E::parameters[i].default_value;
    std::size_t i = 0;
    ((all[i++] = static_cast<double>(values)), ...);
    return detail::run_activation(index, x, all.data(), BasicTensor<T>());
  }

  template <class T, class = std::enable_if_t<E::kind == ActivationKind::PerChannel, T>>
  BasicTensor<T> operator()(const BasicTensor<T>& x, const BasicTensor<T>& slopes) const {
    return detail::run_activation(index, x, nullptr, slopes);
  }
};

template <class E, class T, class... V>
BasicTensor<T> catalogue::activate(const BasicTensor<T>& x, V... values) {
  return Activation<E>()(x, values...);
}

enum class GeluApproximate {
  None,  ///< x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); catalogue entry "gelu"
  Tanh,  ///< 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))); catalogue entry "gelu_tanh"
};
/// gelu(x) and gelu(x, GeluApproximate::Tanh), as torch.nn.functional.gelu's `approximate`.
struct GeluActivation : Activation<catalogue::Gelu> {
  template <class T>
  BasicTensor<T> operator()(const BasicTensor<T>& x,
                            GeluApproximate approximate = GeluApproximate::None) const {
    return approximate == GeluApproximate::Tanh ? Activation<catalogue::GeluTanh>()(x)
                                                : Activation<catalogue::Gelu>()(x);
  }
};

// ---- the functional API: one callable per entry (and per alias) ----
inline constexpr Activation<catalogue::Sigmoid> sigmoid{};
inline constexpr Activation<catalogue::HardSigmoid> hard_sigmoid{}, hardsigmoid{};
inline constexpr Activation<catalogue::Tanh> tanh{};
inline constexpr Activation<catalogue::Relu> relu{};
inline constexpr Activation<catalogue::Relu6> relu6{};
inline constexpr Activation<catalogue::LeakyRelu> leaky_relu{};
inline constexpr Activation<catalogue::Elu> elu{};
inline constexpr Activation<catalogue::Selu> selu{};
inline constexpr Activation<catalogue::Celu> celu{};
inline constexpr GeluActivation gelu{};
inline constexpr Activation<catalogue::Softplus> softplus{};
inline constexpr Activation<catalogue::Softsign> softsign{};
inline constexpr Activation<catalogue::Swish> swish{}, silu{};
inline constexpr Activation<catalogue::Hardswish> hardswish{};
inline constexpr Activation<catalogue::Mish> mish{};
inline constexpr Activation<catalogue::Softmax> softmax{};
inline constexpr Activation<catalogue::LogSoftmax> log_softmax{};
inline constexpr Activation<catalogue::PReLU> prelu{};

}  // namespace eigrad
