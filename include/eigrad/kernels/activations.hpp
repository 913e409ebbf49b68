#pragma once
// Kernel functors of single activations, kept out of the catalogue so that its entries read as
// their formulas. Several are the second pass of a two-pass kernel: the first pass writes
// e = exp(...) into the output block (kernels::exp_of), the second computes the result from x and
// e, reading e back from cache.
#include <limits>

#include "eigrad/kernels/normal_cdf.hpp"
#include "eigrad/kernels/sigmoid.hpp"

namespace eigrad {
namespace kernels {

/// The elu family's derivative, a for x > 0, else b exp(c min(x, 0)), in one pass with one
/// comparison (x = 0 takes the negative branch, as in PyTorch 1.13; NaN gives NaN). b_lo is what
/// b in T leaves of a constant given in double (selu's scale alpha): b e + b_lo e drops b's
/// rounding error from the result.
template <class T>
struct EluDerivativeOp {
  static constexpr int cost = ExpOp<T>::cost + 6;
  static constexpr bool vectorized = ExpOp<T>::vectorized;
  T a, b, c, b_lo = T(0);
  T operator()(const T& x) const {
    const T e = std::exp(std::min(x, T(0)) * c);
    return x > T(0) ? a : b * e + b_lo * e;
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet e = detail::pexp(pmul(pmin(x, pzero(x)), pset1<Packet>(c)));
    return detail::pselect_lt(pzero(x), x, pset1<Packet>(a),
                              pmadd(pset1<Packet>(b), e, pmul(pset1<Packet>(b_lo), e)));
  }
};

/// -x^2 / 2. x^2 may overflow to inf for huge |x|, where exp(-inf) = 0 is right.
struct NegHalfSquare {
  template <class V>
  static EIGEN_STRONG_INLINE V apply(const V& x) {
    using namespace Eigen::internal;
    using T = typename unpacket_traits<V>::type;
    return pmul(pmul(x, x), pset1<V>(T(-0.5)));
  }
};

/// gelu'(x) = Phi(x) + x phi(x) from x and e = exp(-x^2 / 2); Phi comes from e too.
template <class T>
struct GeluDerivativeFromExp {
  static constexpr int cost = 16;
  static constexpr bool vectorized = NormalCdfFromExpOp<T>::vectorized;
  static constexpr double inv_sqrt2pi = 0.39894228040143267794;  ///< 1 / sqrt(2 pi)
  T operator()(const T& x, const T& e) const {
    return NormalCdfFromExpOp<T>()(x, e) + x * T(inv_sqrt2pi) * e;
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& e) const {
    using namespace Eigen::internal;
    return pmadd(pmul(x, pset1<Packet>(T(inv_sqrt2pi))), e, NormalCdfFromExpOp<T>().packetOp(x, e));
  }
};

/// gelu with the tanh approximation, computed as x s with s = (1 + tanh u) / 2 = sigmoid(2 u),
/// u = sqrt(2 / pi) (x + 0.044715 x^3): unlike 1 + tanh(u), s keeps its relative accuracy where it
/// is tiny (x < -3). Beyond |x| = 25, exp(-2 |u|) underflows and s is exactly 0 or 1, so clamping
/// x there keeps x^3 finite and changes nothing.
struct GeluTanhTerms {
  static constexpr double k = 0.79788456080286535588;  ///< sqrt(2 / pi)
  static constexpr double c = 0.044715;
  /// z = 2 u and w = 2 x u'(x), u' = sqrt(2 / pi) (1 + 3 0.044715 x^2), for T or a packet of T.
  template <class V>
  static EIGEN_STRONG_INLINE void z_w(const V& x, V& z, V& w) {
    using namespace Eigen::internal;
    using T = typename unpacket_traits<V>::type;
    const V clamped = pmin(pmax(x, pset1<V>(T(-25))), pset1<V>(T(25)));  // NaN passes
    const V square = pmul(clamped, clamped);
    z = pmul(clamped, pmadd(pset1<V>(T(2 * k * c)), square, pset1<V>(T(2 * k))));
    w = pmul(clamped, pmadd(pset1<V>(T(6 * k * c)), square, pset1<V>(T(2 * k))));
  }
  /// -|z|, for q = exp(-|z|) in the derivative's first pass.
  template <class V>
  static EIGEN_STRONG_INLINE V apply(const V& x) {
    V z, w;
    z_w(x, z, w);
    return NegAbs::apply(z);
  }
};

/// x sigmoid(z), in one pass (the chain is short enough).
template <class T>
struct GeluTanhOp {
  static constexpr int cost = SigmoidOp<T>::cost + 6;
  static constexpr bool vectorized = SigmoidOp<T>::vectorized;
  T operator()(const T& x) const {
    T z, w;
    GeluTanhTerms::z_w(x, z, w);
    return x * SigmoidOp<T>()(z);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    Packet z, w;
    GeluTanhTerms::z_w(x, z, w);
    return Eigen::internal::pmul(x, SigmoidOp<T>().packetOp(z));
  }
};

/// gelu_tanh'(x) = s + 2 x u'(x) s (1 - s) from x and q = exp(-|z|).
template <class T>
struct GeluTanhDerivativeFromExp {
  static constexpr int cost = 16;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasDiv;
  template <class V>
  EIGEN_STRONG_INLINE V packetOp(const V& x, const V& q) const {
    V z, w;
    GeluTanhTerms::z_w(x, z, w);
    return SigmoidPlusScaledDerivative<T>::from(z, w, q);
  }
  T operator()(const T& x, const T& q) const { return packetOp(x, q); }
};

/// swish'(x) = s + x s (1 - s), s = sigmoid(x), from x and q = exp(-|x|).
template <class T>
struct SwishDerivativeFromExp {
  static constexpr int cost = 10;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasDiv;
  template <class V>
  EIGEN_STRONG_INLINE V packetOp(const V& x, const V& q) const {
    return SigmoidPlusScaledDerivative<T>::from(x, x, q);
  }
  T operator()(const T& x, const T& q) const { return packetOp(x, q); }
};

/// softplus with beta and threshold, from x and e = exp(-|beta x|): x where z = beta x >
/// threshold (exactly x), else log(1 + exp(z)) / beta = (max(z, 0) + log1p(e)) / beta, without
/// overflow (where z overflows to inf, the threshold picks x). With beta = 1 (the default) the
/// multiplications by beta and 1 / beta go.
template <class T, bool unit_beta>
struct SoftplusFromExp {
  static constexpr int cost = SoftplusFromExpOp<T>::cost + 4;
  static constexpr bool vectorized = SoftplusFromExpOp<T>::vectorized;
  T beta, threshold;
  T operator()(const T& x, const T& e) const {
    const T z = unit_beta ? x : x * beta;
    const T smooth = SoftplusFromExpOp<T>()(z, e);
    return z > threshold ? x : unit_beta ? smooth : smooth * (T(1) / beta);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& e) const {
    using namespace Eigen::internal;
    const Packet z = unit_beta ? x : pmul(x, pset1<Packet>(beta));
    Packet smooth = SoftplusFromExpOp<T>().packetOp(z, e);
    if (!unit_beta) smooth = pmul(smooth, pset1<Packet>(T(1) / beta));
    return detail::pselect_lt(pset1<Packet>(threshold), z, x, smooth);  // NaN: smooth
  }
};

/// softplus's derivative: 1 where z = beta x > threshold, else sigmoid(z), computed as
/// e / (1 + e) with e = exp(min(z, 80)): that keeps the denormal tail below z = -88 which
/// 1 / (1 + exp(-z)) flushes to 0 (beyond 80 it is 1 either way; NaN passes min). One pass.
template <class T>
struct SoftplusDerivative {
  static constexpr int cost = SigmoidOp<T>::cost + 4;
  static constexpr bool vectorized = SigmoidOp<T>::vectorized;
  T beta, threshold;
  T operator()(const T& x) const {
    const T z = x * beta, e = std::exp(std::min(z, T(80)));
    return z > threshold ? T(1) : e / (T(1) + e);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet z = pmul(x, pset1<Packet>(beta));  // z > threshold is false where z is NaN
    const Packet e = detail::pexp(pmin(z, pset1<Packet>(T(80))));
    return detail::pselect_lt(pset1<Packet>(threshold), z, pset1<Packet>(T(1)),
                              pdiv(e, padd(pset1<Packet>(T(1)), e)));
  }
};

/// mish from x and e = exp(min(x, cap)): with n = e (e + 2), tanh(softplus(x)) = n / (n + 2), one
/// exp and no cancellation for negative x. Beyond x = 20 (float) or 40 (double) it is exactly 1,
/// so e is taken at min(x, cap) to keep e^4 finite. The derivative,
/// mish' = t + x (1 - t^2) sigmoid(x) = (n (n + 2) + 4 x e (1 + e)) / (n + 2)^2, multiplies by x
/// last: 4 x overflows for x < -max / 4, and -inf times e = 0 would be NaN.
struct MishCap {
  template <class T>
  static constexpr T cap = sizeof(T) == sizeof(float) ? T(20) : T(40);
  template <class V>
  static EIGEN_STRONG_INLINE V apply(const V& x) {
    using T = typename Eigen::internal::unpacket_traits<V>::type;
    return Eigen::internal::pmin(x, Eigen::internal::pset1<V>(cap<T>));
  }
};
template <class T, bool derivative>
struct MishFromExp {
  static constexpr int cost = 12;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasDiv;
  template <class V>  // T or a packet of T
  EIGEN_STRONG_INLINE V packetOp(const V& x, const V& e) const {
    using namespace Eigen::internal;
    const V two = pset1<V>(T(2)), n = pmul(e, padd(e, two)), d = padd(n, two);
    if constexpr (!derivative) return pmul(x, pdiv(n, d));
    const V four_e_1_e = pmul(pmul(pset1<V>(T(4)), e), padd(e, pset1<V>(T(1))));
    return pdiv(pmadd(n, d, pmul(MishCap::apply(x), four_e_1_e)), pmul(d, d));
  }
  T operator()(const T& x, const T& e) const { return packetOp(x, e); }
};

}  // namespace kernels
}  // namespace eigrad
