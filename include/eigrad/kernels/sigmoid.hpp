#pragma once
// The logistic family, vectorised: sigmoid, tanh (float), softplus, and sigmoid plus a multiple
// of its derivative (swish's and gelu_tanh's backward). Accuracy (tests/test_kernels.cpp and
// tests/test_activation_accuracy.cpp): softplus within 1.5 ulp, sigmoid within 4 ulp until exp(-x)
// overflows, tanh (float) within 0.8 ulp.
#include "eigrad/kernels/exp.hpp"

namespace eigrad {
namespace kernels {

namespace detail {

// log(1 + exp(z)) = max(z, 0) + log1p(e) with e = exp(-|z|) in [0, 1], and log1p(e) =
// 2 atanh(s) = 2 s + s w h(w) with s = e / (2 + e) in [0, 1/3], w = s^2 and h(w) =
// (atanh(sqrt w) / sqrt w - 1) 2 / w = sum_k 2 w^(k-1) / (2k + 1) on [0, 1/9]: in float a degree-4
// fit (interpolation at Chebyshev nodes), in double the series to w^14. s's rounding error s_lo is
// recovered (2 + e as a sum of two floats, and the exact residual e - s (2 + e)), so that the sum
// 2 (s + s_lo) + s w h rounds once where max(z, 0) is 0: the result carries the input e's error
// and about half an ulp more.
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

// tanh in float, on a = |x| with x's sign put back at the end (so that tanh(-0) = -0):
// - a < 0.7: a + a^3 c(a^2), c a degree-5 fit (interpolation at Chebyshev nodes on [0, 0.75]) of
//   (tanh(a) - a) / a^3; the correction a^3 c is below 1/8 in magnitude, so its rounding errors
//   are in ulps 8 times finer than the result's (in [0.5, 1) near the threshold);
// - a >= 0.7: q = (1 - e) / (1 + e) with e = exp(-2a) in (0, 0.25), corrected by the exact
//   residual (1 - q) - e - e q (1 - q and then subtracting e are exact there) times
//   1 / (1 + e) = (1 + q) / 2: the result carries e's error, times at most 1.4, and one rounding.
// NaN passes (through exp).
template <class Packet>
EIGEN_STRONG_INLINE Packet ptanh_float(const Packet& x) {
  using namespace Eigen::internal;
  const Packet a = pabs(x);
  const Packet w = pmul(a, a);
  Packet c = pmadd(w, pset1<Packet>(0x1.f4908ap-10f), pset1<Packet>(-0x1.03f99ap-7f));
  c = pmadd(c, w, pset1<Packet>(0x1.622538p-6f));
  c = pmadd(c, w, pset1<Packet>(-0x1.b9d7aep-5f));
  c = pmadd(c, w, pset1<Packet>(0x1.111042p-3f));
  c = pmadd(c, w, pset1<Packet>(-0x1.555554p-2f));
  const Packet small = pmadd(pmul(a, w), c, a);
  const Packet one = pset1<Packet>(1.0f);
  const Packet e = pexp(pmul(a, pset1<Packet>(-2.0f)));
  const Packet q = pdiv(psub(one, e), padd(one, e));
  const Packet residual = pmadd(pnegate(e), q, psub(psub(one, q), e));
  const Packet large = pmadd(residual, pmadd(q, pset1<Packet>(0.5f), pset1<Packet>(0.5f)), q);
  const Packet tanh_a = pselect_lt(a, pset1<Packet>(0.7f), small, large);
  return pxor(tanh_a, pand(x, pset1<Packet>(-0.0f)));
}

}  // namespace detail

// sigmoid(x) = 1 / (1 + exp(-x)). Below -88.7 (float) exp(-x) is inf and the result 0, not the
// denormal it should be. (1 / (1 + q) with q = exp(-|x|) would keep that tail, but it needs a
// select, and that costs more than the division here.)
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

// tanh: the rational above for float packets; double goes through std::tanh.
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

// softplus(z) = log(1 + exp(z)), without overflow for any z.
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

// softplus(z) from z and e = exp(-|z|), for a kernel that computes e in a pass of its own.
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

// sigmoid(z) + w sigmoid'(z), accurate in either tail, from q = exp(-|z|) (in (0, 1]: it never
// overflows) and the sign of z: with r = 1 / (1 + q), sigmoid(z) = r for z > 0 and q r
// otherwise, and sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) = q r^2, where 1 - sigmoid(z)
// computed directly would cancel for large z.
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
