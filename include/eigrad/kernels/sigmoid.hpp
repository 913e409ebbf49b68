#pragma once
// The logistic family, vectorised: sigmoid, tanh (float), softplus, and sigmoid plus a multiple
// of its derivative (swish's and gelu_tanh's backward). Accuracy (tests/test_kernels.cpp and
// tests/test_activation_accuracy.cpp): softplus within 1.5 ulp, sigmoid within 4 ulp until exp(-x)
// overflows, tanh (float) within one float step of the correctly rounded result.
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

/// tanh in float, on a = |x| with x's sign put back at the end (tanh(-0) = -0). Within one float
/// step of the correctly rounded tanh for every float (at most 1.08 ulp from tanh itself, at
/// x = 0.7011; every float checked by a [long] case of tests/test_kernels.cpp); NaN
/// passes, +-inf gives +-1. Both branches are computed for every packet:
/// - a < 0.7: a + a^3 P(a^2), P a degree-5 fit (Chebyshev interpolation, float coefficients, by
///   scripts/tanh_coefficients.py) of (tanh(a) - a) / a^3: within 0.2 ulp with exact arithmetic,
///   0.78 ulp as evaluated. a^3 underflows first, so tiny and denormal x come back exactly.
/// - a >= 0.7: 1 - 2 / (e + 1), e = exp(2a) in [4, 6.6e7] (a clamped at 9.02, above which tanh
///   rounds to 1 and 2 / (e + 1) < 2^-25). e + 1 is exact for e in [4, 7), the error of e (about
///   1 ulp) reaches the result damped by t = 2 / (e + 1) <= 0.4, and 1 - t rounds once. Switching
///   at 0.55 instead (t = 0.5, e + 1 rounded in [4, 5)) gave 2 steps.
///   exp(2a) = 2^n e^(2r), r = a - n ln2 / 2 in [-ln2 / 4, ln2 / 4]: one constant for ln2 / 2 is
///   enough, as n <= 26 and its error (n 9.5e-10) is damped by t ~ 2^-n; e^(2r) by a degree-6
///   fit (relative error 0.34 2^-24 with float coefficients). Leaner than pexp (no lower clamp,
///   one ln2 constant, one degree less): the two branches together cost 1.4x Eigen's rational
///   in cache (2^14 floats) and 1.03-1.1x from memory (2^22 floats), on an AVX-512 Xeon.
template <class Packet>
EIGEN_STRONG_INLINE Packet ptanh_float(const Packet& x) {
  using namespace Eigen::internal;
  const Packet one = pset1<Packet>(1.0f);
  const Packet a = pabs(x);
  const Packet w = pmul(a, a);
  Packet p = pmadd(w, pset1<Packet>(0x1.0e16fcp-9f), pset1<Packet>(-0x1.09dd08p-7f));
  p = pmadd(p, w, pset1<Packet>(0x1.635bf6p-6f));
  p = pmadd(p, w, pset1<Packet>(-0x1.b9f184p-5f));
  p = pmadd(p, w, pset1<Packet>(0x1.1110a2p-3f));
  p = pmadd(p, w, pset1<Packet>(-0x1.555554p-2f));
  const Packet small = pmadd(pmul(a, w), p, a);
  // NaN passes: it is the first operand of min.
  const Packet clamped = pmin(a, pset1<Packet>(9.02f));
  const Packet magic = pset1<Packet>(12582912.0f);  // 1.5 2^23: adding it rounds to an integer
  const Packet n = psub(pmadd(clamped, pset1<Packet>(0x1.715476p+1f), magic), magic);  // 2 / ln2
  const Packet r = pmadd(n, pset1<Packet>(-0x1.62e430p-2f), clamped);                  // ln2 / 2
  Packet q = pmadd(r, pset1<Packet>(0x1.6d7532p-4f), pset1<Packet>(0x1.126fa6p-2f));
  q = pmadd(q, r, pset1<Packet>(0x1.5554acp-1f));
  q = pmadd(q, r, pset1<Packet>(0x1.555404p+0f));
  q = pmadd(q, r, pset1<Packet>(2.0f));
  q = pmadd(q, r, pset1<Packet>(2.0f));
  q = pmadd(q, r, one);
  const Packet e = pscale2(q, n);
  const Packet large = psub(one, pdiv(pset1<Packet>(2.0f), padd(e, one)));
  const Packet tanh_a = pselect_lt(a, pset1<Packet>(0.7f), small, large);
  return pxor(tanh_a, pand(x, pset1<Packet>(-0.0f)));
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

/// tanh: ptanh_float above for float packets; double goes through std::tanh.
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
