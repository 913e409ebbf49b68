#pragma once
// THE activation table. Each entry defines, once: its name (and aliases), parameters with
// PyTorch 1.13's defaults, the forward kernel, the backward kernel g * f'(.) beside it, what
// backward reads (the saved input or output) and the known kinks. The functional API, the runtime
// catalogue, the gradient-check tool, the tests' sweep and the benchmark all enumerate
// `Catalogue` at the end: adding an activation is one entry here.
//
// Kernels run block by block (512 elements, so a block stays in L1) on maps of the
// tensors' storage. A kernel is one Eigen array expression, or two where a costly value is
// shared: the first statement writes it into the output block, the second reads it back from
// cache instead of evaluating it again (Eigen does not share common subexpressions). Kernels
// whose exp feeds a division and a polynomial also take two statements (exp_of, below): one long
// chain per element leaves the core waiting, two short ones keep it busy (bench_kernels).
// Hot kernels use max/min, the vectorized step `positive` and vmath's pselect_lt rather than
// select(), which Eigen 3.4 does not vectorize. Operands that may be NaN come first in max/min,
// so NaN propagates. exp, expm1, tanh, Phi, softplus and sigmoid come from vector_math.hpp.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <unsupported/Eigen/SpecialFunctions>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/error.hpp"
#include "vector_math.hpp"

namespace eigrad {
namespace catalogue {

template <class T>
using In = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using Out = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Heaviside step with H(0) = 0: 1 where x > 0, 0 where x <= 0, NaN where x is NaN.
template <class T>
struct PositiveOp {
  T operator()(const T& x) const { return x > T(0) ? T(1) : (x <= T(0) ? T(0) : x); }
  template <class Packet>
  Packet packetOp(const Packet& x) const {
    return vmath::detail::pstep(x);
  }
};
template <class Derived>
auto positive(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(PositiveOp<typename Derived::Scalar>());
}

// The elu family's derivative, a for x > 0, else b exp(min(x, 0) c), in one pass with one
// comparison (x = 0 takes the negative branch, as in PyTorch 1.13; NaN gives NaN). b_lo is what
// b in T leaves of a constant given in double (selu's scale alpha): b e + b_lo e drops b's
// rounding error from the result.
template <class T>
struct EluDerivativeOp {
  T a, b, c, b_lo = T(0);
  T operator()(const T& x) const {
    const T e = std::exp(std::min(x, T(0)) * c);
    return x > T(0) ? a : b * e + b_lo * e;
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet e = vmath::ExpOp<T>().packetOp(pmul(pmin(x, pzero(x)), pset1<Packet>(c)));
    return vmath::detail::pselect_lt(pzero(x), x, pset1<Packet>(a),
                                     pmadd(pset1<Packet>(b), e, pmul(pset1<Packet>(b_lo), e)));
  }
};

// sigmoid(z) + w sigmoid'(z), accurate in either tail, from q = exp(-|z|) (in (0, 1]: it never
// overflows) and the sign of z: with r = 1 / (1 + q), sigmoid(z) = r for z > 0 and q r
// otherwise, and sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) = q r^2, where 1 - sigmoid(z)
// computed directly would cancel for large z. `from` takes q from the caller, which computes it
// in a pass of its own (exp_of, below).
template <class T>
struct SigmoidPlusScaledDerivative {
  static T from(const T& z, const T& w, const T& q) {
    const T r = T(1) / (T(1) + q);
    return r * ((z > T(0) ? T(1) : q) + w * q * r);
  }
  template <class Packet>
  static EIGEN_STRONG_INLINE Packet from(const Packet& z, const Packet& w, const Packet& q) {
    using namespace Eigen::internal;
    const Packet one = pset1<Packet>(T(1));
    const Packet r = pdiv(one, padd(one, q));
    return pmul(r, pmadd(pmul(w, q), r, vmath::detail::pselect_lt(pzero(z), z, one, q)));
  }
};

// Kernels whose costly value is an exp: pass 1 writes e = exp(Arg(x)) into the output block,
// pass 2 computes the result from x and e (the entry's *FromExp functor). In one pass the chain
// exp -> division -> polynomial is so long that the core runs out of room for independent work
// and waits: two passes over a block in L1 measured 20-30 % faster (bench/bench_kernels.cpp).
template <class T, class Arg>
struct ExpOfOp {
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::exp(Arg::apply(x)); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return vmath::ExpOp<T>().packetOp(Arg::apply(x));
  }
};
template <class Arg, class Derived>
auto exp_of(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(ExpOfOp<typename Derived::Scalar, Arg>());
}

// -|x|, for q = exp(-|x|).
struct NegAbs {
  template <class V>
  static EIGEN_STRONG_INLINE V apply(const V& x) {
    using namespace Eigen::internal;
    return pnegate(pabs(x));
  }
};

}  // namespace catalogue
}  // namespace eigrad

namespace Eigen {
namespace internal {
template <class T>
struct functor_traits<eigrad::catalogue::EluDerivativeOp<T>> {
  enum {
    Cost = functor_traits<eigrad::vmath::ExpOp<T>>::Cost + 4 * NumTraits<T>::MulCost,
    PacketAccess = functor_traits<eigrad::vmath::ExpOp<T>>::PacketAccess
  };
};
template <class T, class Arg>
struct functor_traits<eigrad::catalogue::ExpOfOp<T, Arg>> {
  enum {
    Cost = functor_traits<eigrad::vmath::ExpOp<T>>::Cost + 4 * NumTraits<T>::MulCost,
    PacketAccess = functor_traits<eigrad::vmath::ExpOp<T>>::PacketAccess
  };
};
template <class T>
struct functor_traits<eigrad::catalogue::PositiveOp<T>> {
  enum { Cost = 4 * NumTraits<T>::AddCost, PacketAccess = packet_traits<T>::HasCmp };
};
}  // namespace internal
}  // namespace Eigen

namespace eigrad {
namespace catalogue {

struct Parameter {
  const char* name;
  double default_value;
};

// Defaults that entries override by declaring the same member.
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

// An elementwise entry E provides
//   template <class T> static void forward(In<T> x, Out<T> y, const T* p);
//   template <class T> static void backward(In<T> g, In<T> saved, Out<T> dx, const T* p);
// where `saved` is the output if E::saves_output, else the input, and p its parameter values.

struct Sigmoid : Elementwise {
  static constexpr const char* name = "sigmoid";
  static constexpr const char* formula = "1 / (1 + exp(-x))";
  static constexpr bool saves_output = true;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = vmath::fast_sigmoid(x);  // exp(1000) = inf gives 0, not NaN
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx, const T*) {
    dx = g * y * (T(1) - y);
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
  // The defaults as PyTorch computes them, relu6(x + 3) / 6: exact at the corners (x + 3 is exact
  // near -3), where slope x + offset leaves 2.8e-17 at x = -3 in double (1/6 is inexact) and
  // loses most digits near it.
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    if (p[0] == T(1.0 / 6.0) && p[1] == T(0.5))
      y = (x + T(3)).max(T(0)).min(T(6)) / T(6);
    else
      y = (x * p[0] + p[1]).max(T(0)).min(T(1));
  }
  // `slope` strictly inside the linear part (PyTorch: 0 at the corners), decided on the input:
  // y rounds to 1 already at x = 3 - 1 ulp, where the slope is still 1/6. The defaults test
  // -3 < x < 3 exactly, as PyTorch does.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    if (p[0] == T(1.0 / 6.0) && p[1] == T(0.5))
      dx = g * p[0] * positive(x + T(3)) * positive(T(3) - x);
    else
      dx = g * p[0] * positive(x * p[0] + p[1]) * positive(T(1) - (x * p[0] + p[1]));
  }
};

struct Tanh : Elementwise {
  static constexpr const char* name = "tanh";
  static constexpr const char* formula = "tanh(x)";
  static constexpr bool saves_output = true;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = vmath::fast_tanh(x);
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx, const T*) {
    dx = g * (T(1) - y.square());
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
  // x = 0 takes the negative branch. step + slope (1 - step) is exactly 1 or exactly slope.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * (positive(x) + p[0] * (T(1) - positive(x)));
  }
};

struct Elu : Elementwise {
  static constexpr const char* name = "elu";
  static constexpr const char* formula = "x if x > 0 else alpha (exp(x) - 1)";
  static constexpr std::array<Parameter, 1> parameters{{{"alpha", 1.0}}};
  static constexpr bool saves_output = false;
  static std::vector<double> kinks(const double*) { return {0}; }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    y = x.max(T(0)) + p[0] * vmath::fast_expm1_of_min0(x);
  }
  // PyTorch 1.13: x = 0 takes the negative branch, alpha exp(0).
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * x.unaryExpr(EluDerivativeOp<T>{T(1), p[0], T(1)});
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
    y = T(scale) * (x.max(T(0)) + T(alpha) * vmath::fast_expm1_of_min0(x));
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = g * x.unaryExpr(EluDerivativeOp<T>{T(scale), T(scale * alpha), T(1),
                                            T(scale * alpha - double(T(scale * alpha)))});
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
  // 1 / alpha, capped at the largest finite value: for a tiny alpha it overflows, and
  // min(x, 0) = 0 times inf would be NaN (x min(x, 0) / alpha is -inf all the same for x < 0).
  template <class T>
  static T inverse(const T* p) {
    return std::min(T(1) / p[0], std::numeric_limits<T>::max());
  }
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    y = x.max(T(0)) + p[0] * vmath::fast_expm1_of_min0(x * inverse(p));
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * x.unaryExpr(EluDerivativeOp<T>{T(1), T(1), inverse(p)});
  }
};

struct Gelu : Elementwise {
  static constexpr const char* name = "gelu";
  static constexpr const char* formula = "x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))";
  static constexpr bool saves_output = false;
  static constexpr double inv_sqrt2pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = vmath::fast_gelu(x);
  }
  // Phi(x) + x phi(x), in two passes: e = exp(-x^2 / 2), then the rest from x and e. x^2 may
  // overflow to inf for huge |x|, where exp(-inf) = 0 is right.
  struct NegHalfSquare {
    template <class V>
    static EIGEN_STRONG_INLINE V apply(const V& x) {
      using namespace Eigen::internal;
      using T = typename unpacket_traits<V>::type;
      return pmul(pmul(x, x), pset1<V>(T(-0.5)));
    }
  };
  // Phi comes from e too (vmath::NormalCdfFromExpOp), without a second rational.
  template <class T>
  struct DerivativeFromExp {
    T operator()(const T& x, const T& e) const {
      return vmath::NormalCdfFromExpOp<T>()(x, e) + x * T(inv_sqrt2pi) * e;
    }
    template <class Packet>
    EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& e) const {
      using namespace Eigen::internal;
      return pmadd(pmul(x, pset1<Packet>(T(inv_sqrt2pi))), e,
                   vmath::NormalCdfFromExpOp<T>().packetOp(x, e));
    }
  };
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<NegHalfSquare>(x);
    dx = g * x.binaryExpr(dx, DerivativeFromExp<T>());
  }
};

// gelu(x, GeluApproximate::Tanh).
struct GeluTanh : Elementwise {
  static constexpr const char* name = "gelu_tanh";
  static constexpr const char* formula = "0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))";
  static constexpr bool saves_output = false;
  static constexpr double k = 0.79788456080286535588;  // sqrt(2 / pi)
  static constexpr double c = 0.044715;
  // Computed as x s with s = (1 + tanh u) / 2 = sigmoid(2 u): unlike 1 + tanh(u), it keeps its
  // relative accuracy where it is tiny (x < -3). Beyond |x| = 25, exp(-2 |u|) underflows and s is
  // exactly 0 or 1, so clamping x there keeps x^3 finite and changes nothing.
  // gelu' = s + 2 x u'(x) s (1 - s), u' = sqrt(2 / pi) (1 + 3 0.044715 x^2). In two passes:
  // q = exp(-|z|) with z = 2 u, then the rest from x and q (z and w = 2 x u'(x) again: cheap).
  template <class V>  // T or a packet of T
  static EIGEN_STRONG_INLINE void z_w(const V& x, V& z, V& w) {
    using namespace Eigen::internal;
    using T = typename unpacket_traits<V>::type;
    const V clamped = pmin(pmax(x, pset1<V>(T(-25))), pset1<V>(T(25)));  // NaN passes
    const V square = pmul(clamped, clamped);
    z = pmul(clamped, pmadd(pset1<V>(T(2 * k * c)), square, pset1<V>(T(2 * k))));
    w = pmul(clamped, pmadd(pset1<V>(T(6 * k * c)), square, pset1<V>(T(2 * k))));
  }
  struct NegAbsZ {
    template <class V>
    static EIGEN_STRONG_INLINE V apply(const V& x) {
      V z, w;
      z_w(x, z, w);
      return NegAbs::apply(z);
    }
  };
  // The forward, x sigmoid(z), in one pass (two measured slower: the chain is shorter).
  template <class T>
  struct Forward {
    T operator()(const T& x) const {
      T z, w;
      z_w(x, z, w);
      return x * vmath::SigmoidOp<T>()(z);
    }
    template <class Packet>
    EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
      Packet z, w;
      z_w(x, z, w);
      return Eigen::internal::pmul(x, vmath::SigmoidOp<T>().packetOp(z));
    }
  };
  template <class T>
  struct DerivativeFromExp {
    template <class V>
    EIGEN_STRONG_INLINE V packetOp(const V& x, const V& q) const {
      V z, w;
      z_w(x, z, w);
      return SigmoidPlusScaledDerivative<T>::from(z, w, q);
    }
    T operator()(const T& x, const T& q) const { return packetOp(x, q); }
  };
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x.unaryExpr(Forward<T>());
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<NegAbsZ>(x);
    dx = g * x.binaryExpr(dx, DerivativeFromExp<T>());
  }
};

struct Softplus : Elementwise {
  static constexpr const char* name = "softplus";
  static constexpr const char* formula =
      "log(1 + exp(beta x)) / beta, or x where beta x > threshold";
  static constexpr std::array<Parameter, 2> parameters{{{"beta", 1.0}, {"threshold", 20.0}}};
  static constexpr bool saves_output = false;
  // The switch to x at beta x = threshold is a (tiny) jump.
  static std::vector<double> kinks(const double* p) { return {p[1] / p[0]}; }
  static void check(const double* p) {
    if (p[0] == 0) throw Error("softplus: beta must be non-zero (it divides the result), got 0");
  }
  // The derivative: 1 where z = beta x > threshold, else sigmoid(z). One pass, one comparison.
  template <class T>
  struct Derivative {
    T beta, threshold;
    // sigmoid(z) = e / (1 + e) with e = exp(min(z, 80)): keeps the denormal tail below z = -88
    // that 1 / (1 + exp(-z)) flushes to 0 (beyond 80 it is 1 either way; NaN passes min).
    T operator()(const T& x) const {
      const T z = x * beta, e = std::exp(std::min(z, T(80)));
      return z > threshold ? T(1) : e / (T(1) + e);
    }
    template <class Packet>
    EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
      using namespace Eigen::internal;
      const Packet z = pmul(x, pset1<Packet>(beta));  // z > threshold is false where z is NaN
      const Packet e = vmath::ExpOp<T>().packetOp(pmin(z, pset1<Packet>(T(80))));
      return vmath::detail::pselect_lt(pset1<Packet>(threshold), z, pset1<Packet>(T(1)),
                                       pdiv(e, padd(pset1<Packet>(T(1)), e)));
    }
  };
  // The forward: x where z = beta x > threshold (exactly x), else log(1 + exp(z)) / beta, which
  // vector_math.hpp computes as max(z, 0) + log1p(e) with e = exp(-|z|), without overflow (where
  // z overflows to inf, the threshold picks x). In two passes: y = e, then the rest from x and y.
  // With beta = 1 (the default) z is x: the multiplications by beta (one in each pass) and by
  // 1 / beta go, 3 of about 20 multiply-adds per element.
  template <class T, bool unit_beta>
  struct FromExp {
    T beta, threshold;
    T operator()(const T& x, const T& e) const {
      const T z = unit_beta ? x : x * beta;
      const T smooth = vmath::SoftplusFromExpOp<T>()(z, e);
      return z > threshold ? x : unit_beta ? smooth : smooth * (T(1) / beta);
    }
    template <class Packet>
    EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& e) const {
      using namespace Eigen::internal;
      const Packet z = unit_beta ? x : pmul(x, pset1<Packet>(beta));
      Packet smooth = vmath::SoftplusFromExpOp<T>().packetOp(z, e);
      if (!unit_beta) smooth = pmul(smooth, pset1<Packet>(T(1) / beta));
      return vmath::detail::pselect_lt(pset1<Packet>(threshold), z, x, smooth);  // NaN: smooth
    }
  };
  template <class T>
  static void forward(In<T> x, Out<T> y, const T* p) {
    if (p[0] == T(1)) {
      y = vmath::fast_exp(-x.abs());
      y = x.binaryExpr(y, FromExp<T, true>{p[0], p[1]});
    } else {
      y = vmath::fast_exp(-(x * p[0]).abs());
      y = x.binaryExpr(y, FromExp<T, false>{p[0], p[1]});
    }
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T* p) {
    dx = g * x.unaryExpr(Derivative<T>{p[0], p[1]});
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
};

struct Swish : Elementwise {
  static constexpr const char* name = "swish";
  static constexpr std::array<const char*, 1> aliases{{"silu"}};
  static constexpr const char* formula = "x sigmoid(x)";
  static constexpr bool saves_output = false;
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = x * vmath::fast_sigmoid(x);
  }
  // swish' = s + x s (1 - s), s = sigmoid(x): q = exp(-|x|) in a pass of its own.
  template <class T>
  struct DerivativeFromExp {
    template <class V>
    EIGEN_STRONG_INLINE V packetOp(const V& x, const V& q) const {
      return SigmoidPlusScaledDerivative<T>::from(x, x, q);
    }
    T operator()(const T& x, const T& q) const { return packetOp(x, q); }
  };
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<NegAbs>(x);
    dx = g * x.binaryExpr(dx, DerivativeFromExp<T>());
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
  // PyTorch 1.13: 0 for x < -3, x / 3 + 1/2 for -3 <= x <= 3, 1 for x > 3.
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = g * (T(1) - positive(T(-3) - x)) *
         (positive(x - T(3)) + (T(1) - positive(x - T(3))) * (x / T(3) + T(0.5)));
  }
};

struct Mish : Elementwise {
  static constexpr const char* name = "mish";
  static constexpr const char* formula = "x tanh(softplus(x))";
  static constexpr bool saves_output = false;
  // With e = exp(x), tanh(softplus(x)) = n / (n + 2) where n = e (e + 2): one exp, no
  // cancellation for negative x. Beyond x = 20 (float) or 40 (double) it is exactly 1, so e is
  // taken at min(x, that) to keep e^4 finite.
  template <class T>
  static constexpr T cap = sizeof(T) == sizeof(float) ? T(20) : T(40);
  // mish' = t + x (1 - t^2) sigmoid(x) = (n (n + 2) + 4 x e (1 + e)) / (n + 2)^2, with x
  // multiplied last: 4 x overflows for x < -max / 4, and -inf times e = 0 would be NaN.
  // In two passes: e = exp(min(x, cap)), then the rest from x and e.
  struct MinCap {
    template <class V>
    static EIGEN_STRONG_INLINE V apply(const V& x) {
      using T = typename Eigen::internal::unpacket_traits<V>::type;
      return Eigen::internal::pmin(x, Eigen::internal::pset1<V>(cap<T>));
    }
  };
  template <class T, bool derivative>
  struct FromExp {
    template <class V>  // T or a packet of T
    EIGEN_STRONG_INLINE V packetOp(const V& x, const V& e) const {
      using namespace Eigen::internal;
      const V two = pset1<V>(T(2)), n = pmul(e, padd(e, two)), d = padd(n, two);
      if constexpr (!derivative) return pmul(x, pdiv(n, d));
      const V four_e_1_e = pmul(pmul(pset1<V>(T(4)), e), padd(e, pset1<V>(T(1))));
      return pdiv(pmadd(n, d, pmul(pmin(x, pset1<V>(cap<T>)), four_e_1_e)), pmul(d, d));
    }
    T operator()(const T& x, const T& e) const { return packetOp(x, e); }
  };
  template <class T>
  static void forward(In<T> x, Out<T> y, const T*) {
    y = exp_of<MinCap>(x);
    y = x.binaryExpr(y, FromExp<T, false>());
  }
  template <class T>
  static void backward(In<T> g, In<T> x, Out<T> dx, const T*) {
    dx = exp_of<MinCap>(x);
    dx = g * x.binaryExpr(dx, FromExp<T, true>());
  }
};

// An along-axis entry provides, for one contiguous slice along the axis,
//   template <class T> static void forward(In<T> x, Out<T> y);
//   template <class T> static void backward(In<T> g, In<T> saved, Out<T> dx);

struct Softmax : AlongAxis {
  static constexpr const char* name = "softmax";
  static constexpr const char* formula = "exp(x - max) / sum(exp(x - max)) along an axis";
  static constexpr bool saves_output = true;
  // Two passes over x and one over y: the maximum, then y = exp(x - max) with its sum (the
  // largest term is exp(0) = 1: no overflow), then y /= sum.
  template <class T>
  static void forward(In<T> x, Out<T> y) {
    const T sum =
        vmath::exp_shifted_sum(x.data(), vmath::max_of(x.data(), x.size()), y.data(), x.size());
    y *= T(1) / sum;
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx) {
    dx = y * (g - (g * y).sum());
  }
};

struct LogSoftmax : AlongAxis {
  static constexpr const char* name = "log_softmax";
  static constexpr const char* formula = "x - max - log(sum(exp(x - max))) along an axis";
  static constexpr bool saves_output = true;
  // exp is taken once per element, in the pass that sums it; y is written once. (x - max) is
  // exact near the maximum, so it is subtracted before log(sum), which is at least log(1) = 0:
  // never log(0).
  template <class T>
  static void forward(In<T> x, Out<T> y) {
    const T max = vmath::max_of(x.data(), x.size());
    const T log_sum =
        std::log(vmath::exp_shifted_sum(x.data(), max, static_cast<T*>(nullptr), x.size()));
    y = (x - max) - log_sum;
  }
  template <class T>
  static void backward(In<T> g, In<T> y, Out<T> dx) {
    dx = g - vmath::fast_exp(y) * g.sum();
  }
};

// Learnable slopes, one per channel (axis 1) or shared; the node is prelu() in activations.cpp.
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

}  // namespace catalogue
}  // namespace eigrad

namespace Eigen {
namespace internal {
template <class T>
struct functor_traits<eigrad::catalogue::GeluTanh::Forward<T>> {
  enum {
    Cost = functor_traits<eigrad::vmath::SigmoidOp<T>>::Cost + 6 * NumTraits<T>::MulCost,
    PacketAccess = functor_traits<eigrad::vmath::SigmoidOp<T>>::PacketAccess
  };
};
template <class T>
struct functor_traits<eigrad::catalogue::GeluTanh::DerivativeFromExp<T>> {
  enum { Cost = 16 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasDiv };
};
template <class T>
struct functor_traits<eigrad::catalogue::Gelu::DerivativeFromExp<T>> {
  enum {
    Cost = 16 * NumTraits<T>::MulCost,
    PacketAccess = functor_traits<eigrad::vmath::NormalCdfFromExpOp<T>>::PacketAccess
  };
};
template <class T>
struct functor_traits<eigrad::catalogue::Swish::DerivativeFromExp<T>> {
  enum { Cost = 10 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasDiv };
};
template <class T, bool derivative>
struct functor_traits<eigrad::catalogue::Mish::FromExp<T, derivative>> {
  enum { Cost = 12 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasDiv };
};
template <class T, bool unit_beta>
struct functor_traits<eigrad::catalogue::Softplus::FromExp<T, unit_beta>> {
  enum {
    Cost = functor_traits<eigrad::vmath::SoftplusFromExpOp<T>>::Cost + 4 * NumTraits<T>::MulCost,
    PacketAccess = functor_traits<eigrad::vmath::SoftplusFromExpOp<T>>::PacketAccess
  };
};
template <class T>
struct functor_traits<eigrad::catalogue::Softplus::Derivative<T>> {
  enum {
    Cost = functor_traits<eigrad::vmath::SigmoidOp<T>>::Cost + 4 * NumTraits<T>::MulCost,
    PacketAccess = functor_traits<eigrad::vmath::SigmoidOp<T>>::PacketAccess
  };
};
}  // namespace internal
}  // namespace Eigen
