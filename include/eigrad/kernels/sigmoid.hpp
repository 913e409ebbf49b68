#pragma once
// The logistic family, vectorised: sigmoid, tanh (float), softplus, and sigmoid plus a multiple
// of its derivative (swish's and gelu_tanh's backward). Accuracy (tests/test_kernels.cpp and
// tests/test_activation_accuracy.cpp): softplus within 1.5 ulp, sigmoid within 4 ulp until exp(-x)
// overflows, tanh (float) within 0.8 ulp.
#include "eigrad/kernels/exp.hpp"

namespace eigrad {
namespace kernels {

namespace detail {

/// log(1 + exp(z)) = max(z, 0) + log1p(e) with e = exp(-|z|) in [0, 1], and log1p(e) =
/// 2 atanh(s) = 2 s + s w h(w) with s = e / (2 + e) in [0, 1/3], w = s^2 and h(w) =
/// (atanh(sqrt w) / sqrt w - 1) 2 / w = sum_k 2 w^(k-1) / (2k + 1) on [0, 1/9]: in float a degree-4
/// fit (interpolation at Chebyshev nodes), in double the series to w^14. s's rounding error s_lo is
/// recovered (2 + e as a sum of two floats, and the exact residual e - s (2 + e)), so that the sum
/// 2 (s + s_lo) + s w h rounds once where max(z, 0) is 0: the result carries the input e's error
/// and about half an ulp more.
template <class Packet>
EIGEN_STRONG_INLINE Packet psoftplus_from_exp(const Packet& z, const Packet& e) {
  using T = Scalar<Packet>;
  using namespace Eigen::internal;
  const Packet one = pset1<Packet>(T(1)), two = pset1<Packet>(T(2));
  const Packet d = padd(two, e);
  const Packet d_lo = padd(psub(two, d), e);  // exact: 2 >= e
  const Packet s = pdiv(e, d);
  const Packet residual = pmadd(pnegate(s), d_lo, pmadd(pnegate(s), d, e));
  // 2 s_lo = 2 residual / (2 + e), and 2 / (2 + e) = 1 - s.
  const Packet two_s_lo = pmul(residual, psub(one, s));
  const Packet w = pmul(s, s);
  Packet h;
  if constexpr (std::is_same<T, float>::value) {
    h = pmadd(w, pset1<Packet>(0x1.dba260p-3f), pset1<Packet>(0x1.bc8cf8p-3f));
    h = pmadd(h, w, pset1<Packet>(0x1.24c926p-2f));
    h = pmadd(h, w, pset1<Packet>(0x1.9998d4p-2f));
    h = pmadd(h, w, pset1<Packet>(0x1.555556p-1f));
  } else {
    h = pset1<Packet>(2.0 / 31);
    for (int k = 14; k >= 1; --k) h = pmadd(h, w, pset1<Packet>(2.0 / (2 * k + 1)));
  }
  const Packet log1p_e = pmadd(s, two, pmadd(pmul(s, w), h, two_s_lo));
  // max(z, 0) with z first: NaN passes.
  return padd(pmax(z, pzero(z)), log1p_e);
}
template <class Packet>
EIGEN_STRONG_INLINE Packet psoftplus(const Packet& z) {
  using namespace Eigen::internal;
  return psoftplus_from_exp(z, pexp(pnegate(pabs(z))));
}

/// tanh in float: Eigen 3.4's rational approximation x P(x^2) / Q(x^2) on [-7.99881, 7.99881]
/// (generic_fast_tanh_float, its coefficients), and x itself below 2^-12 (as Eigen below
/// 0.0004). Within 5 ulp overall (tests/test_kernels.cpp); NaN passes (it is the first operand of
/// min and max).
template <class Packet>
EIGEN_STRONG_INLINE Packet ptanh_float(const Packet& a) {
  using namespace Eigen::internal;
  const Packet c = pset1<Packet>(7.99881172180175781f);
  const Packet x = pmax(pmin(a, c), pnegate(c));
  const Packet x2 = pmul(x, x);
  Packet p = pmadd(x2, pset1<Packet>(-2.76076847742355e-16f), pset1<Packet>(2.00018790482477e-13f));
  p = pmadd(x2, p, pset1<Packet>(-8.60467152213735e-11f));
  p = pmadd(x2, p, pset1<Packet>(5.12229709037114e-08f));
  p = pmadd(x2, p, pset1<Packet>(1.48572235717979e-05f));
  p = pmadd(x2, p, pset1<Packet>(6.37261928875436e-04f));
  p = pmadd(x2, p, pset1<Packet>(4.89352455891786e-03f));
  p = pmul(x, p);
  Packet q = pmadd(x2, pset1<Packet>(1.19825839466702e-06f), pset1<Packet>(1.18534705686654e-04f));
  q = pmadd(x2, q, pset1<Packet>(2.26843463243900e-03f));
  q = pmadd(x2, q, pset1<Packet>(4.89352518554385e-03f));
  // tanh(x) = x below 2^-12 (x^2 / 3 is below 2^-25 there): x p for a denormal x loses its digits
  // (p(0) = 4.9e-3), and p(0) / q(0) is 1 - 1.3e-7.
  return pselect_lt(pabs(a), pset1<Packet>(0x1p-12f), a, pdiv(p, q));
}

}  // namespace detail

/// sigmoid(x) = 1 / (1 + exp(-x)). Below -88.7 (float) exp(-x) is inf and the result 0, not the
/// denormal it should be. (1 / (1 + q) with q = exp(-|x|) would keep that tail, but it needs a
/// select, and that costs more than the division here.)
template <class T>
struct SigmoidOp {
  static constexpr int cost = 28;
  static constexpr bool vectorized =
      Eigen::internal::packet_traits<T>::HasExp && Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return T(1) / (T(1) + std::exp(-x)); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet one = pset1<Packet>(T(1));
    return pdiv(one, padd(one, detail::pexp(pnegate(x))));
  }
};

/// tanh: the rational above for float packets; double goes through std::tanh.
template <class T>
struct TanhOp {
  static constexpr int cost = 24;
  static constexpr bool vectorized =
      std::is_same<T, float>::value && Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::tanh(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::ptanh_float(x);
  }
};

/// softplus(z) = log(1 + exp(z)), without overflow for any z.
template <class T>
struct SoftplusOp {
  static constexpr int cost = 30;
  static constexpr bool vectorized =
      Eigen::internal::packet_traits<T>::HasExp && Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& z) const {
    return std::max(z, T(0)) + std::log1p(std::exp(-std::abs(z)));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& z) const {
    return detail::psoftplus(z);
  }
};

/// softplus(z) from z and e = exp(-|z|), for a kernel that computes e in a pass of its own.
template <class T>
struct SoftplusFromExpOp {
  static constexpr int cost = 12;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& z, const T& e) const {
    return std::max(z, T(0)) + std::log1p(e);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& z, const Packet& e) const {
    return detail::psoftplus_from_exp(z, e);
  }
};

/// sigmoid(z) + w sigmoid'(z), accurate in either tail, from q = exp(-|z|) (in (0, 1]: it never
/// overflows) and the sign of z: with r = 1 / (1 + q), sigmoid(z) = r for z > 0 and q r
/// otherwise, and sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) = q r^2, where 1 - sigmoid(z)
/// computed directly would cancel for large z.
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
    return pmul(r, pmadd(pmul(w, q), r, detail::pselect_lt(pzero(z), z, one, q)));
  }
};

template <class Derived>
auto fast_sigmoid(const Eigen::ArrayBase<Derived>& x) {
  return map(x, SigmoidOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_tanh(const Eigen::ArrayBase<Derived>& x) {
  return map(x, TanhOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_softplus(const Eigen::ArrayBase<Derived>& z) {
  return map(z, SoftplusOp<typename Derived::Scalar>());
}

}  // namespace kernels
}  // namespace eigrad
