#pragma once
// The normal distribution's CDF Phi(x), vectorised in float (double goes through std::erf): from
// x alone, or from x and e = exp(-x^2 / 2), which gelu's backward computes anyway. Absolute error
// below 2.5e-7 and 3e-7 (tests/test_kernels.cpp).
#include "eigrad/kernels/exp.hpp"

namespace eigrad {
namespace kernels {

namespace detail {

/// The normal distribution's CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 in float, as one rational:
/// Eigen 3.4's erf(u) = u P(u^2) / Q(u^2) on [-4, 4] (generic_fast_erf_float, its coefficients)
/// with u = x / sqrt 2 and the 1/2 folded into the coefficients, Phi = (Q / 2 + x P') / Q.
/// Absolute error below 2.5e-7, as Eigen's erf; NaN passes.
template <class Packet>
EIGEN_STRONG_INLINE Packet pnormal_cdf_float(const Packet& a) {
  using namespace Eigen::internal;
  constexpr double s = 0.70710678118654752440;  // u = s x; u^2 = x^2 / 2
  // alpha_(2k+1) s^(2k+1) / 2 and beta_(2k) s^(2k)
  constexpr double a1 = -1.60960333262415e-02 * s / 2, a3 = -2.95459980854025e-03 * s / 4,
                   a5 = -7.34990630326855e-04 * s / 8, a7 = -5.69250639462346e-05 * s / 16,
                   a9 = -2.10102402082508e-06 * s / 32, a11 = 2.77068142495902e-08 * s / 64,
                   a13 = -2.72614225801306e-10 * s / 128;
  constexpr double b0 = -1.42647390514189e-02, b2 = -7.37332916720468e-03 / 2,
                   b4 = -1.68282697438203e-03 / 4, b6 = -2.13374055278905e-04 / 8,
                   b8 = -1.45660718464996e-05 / 16;
  const Packet c = pset1<Packet>(5.65685424949238f);  // 4 sqrt 2: erf(4) is 1 in float
  const Packet x = pmax(pmin(a, c), pnegate(c));
  const Packet x2 = pmul(x, x);
  Packet p = pmadd(x2, pset1<Packet>(float(a13)), pset1<Packet>(float(a11)));
  p = pmadd(x2, p, pset1<Packet>(float(a9)));
  p = pmadd(x2, p, pset1<Packet>(float(a7)));
  p = pmadd(x2, p, pset1<Packet>(float(a5)));
  p = pmadd(x2, p, pset1<Packet>(float(a3)));
  p = pmadd(x2, p, pset1<Packet>(float(a1)));
  Packet q = pmadd(x2, pset1<Packet>(float(b8)), pset1<Packet>(float(b6)));
  q = pmadd(x2, q, pset1<Packet>(float(b4)));
  q = pmadd(x2, q, pset1<Packet>(float(b2)));
  q = pmadd(x2, q, pset1<Packet>(float(b0)));
  const Packet phi = pdiv(pmadd(pset1<Packet>(0.5f), q, pmul(x, p)), q);
  // At the clamp the rational overshoots to -5e-8 and 1: limited to [0, 1], Phi is exactly 0 and
  // 1 beyond it, as 0.5 (1 + erf) is in float (so that gelu(-1000) is 0). NaN passes.
  return pmin(pmax(phi, pzero(a)), pset1<Packet>(1.0f));
}

/// Phi(x) in float from e = exp(-x^2 / 2), which gelu's backward computes anyway, without the
/// rational above: Abramowitz and Stegun 26.2.17, 1 - Phi(t) = phi(t) (b1 u + ... + b5 u^5) with
/// u = 1 / (1 + p t) for t = |x|, absolute error below 7.5e-8 in exact arithmetic; in float the
/// polynomial's terms (up to 0.73 in size, summing to 0.5 at x = 0) cancel, and the error is below
/// 3e-7 (tests/test_kernels.cpp), against 2.5e-7 for the rational. Phi(x) is 1 minus that for
/// x > 0. Where x^2 overflows, e = 0 and Phi is exactly 0 or 1; NaN passes.
template <class Packet>
EIGEN_STRONG_INLINE Packet pnormal_cdf_from_exp_float(const Packet& x, const Packet& e) {
  using namespace Eigen::internal;
  const Packet one = pset1<Packet>(1.0f);
  const Packet u = pdiv(one, pmadd(pabs(x), pset1<Packet>(0.2316419f), one));
  // b_k / sqrt(2 pi), so that 1 - Phi(|x|) = e u poly(u)
  Packet poly = pmadd(u, pset1<Packet>(0.5307027142649737f), pset1<Packet>(-0.7265760130580615f));
  poly = pmadd(poly, u, pset1<Packet>(0.7107068706716199f));
  poly = pmadd(poly, u, pset1<Packet>(-0.14224836829963933f));
  poly = pmadd(poly, u, pset1<Packet>(0.1274147958962986f));
  const Packet tail = pmul(pmul(poly, u), e);  // 1 - Phi(|x|)
  return pselect_lt(pzero(x), x, psub(one, tail), tail);
}

/// gelu(x) = x Phi(x) in float, relatively accurate in the left tail. Below x = -1, x Phi(x) from
/// Phi's rational (absolute error 2.5e-7) loses its digits, and below -5.66 it is 0 where the
/// true value is a normal float down to -13. There, with t = -x, x Phi(x) = -phi(t) G(1 / t^2),
/// where G(w) = t (1 - Phi(t)) / phi(t) (t times Mills' ratio: near 1, no cancellation) is a
/// (5, 5) rational fit on t in [1, 15] (relative error 3e-9), and phi(t) = exp(-t^2 / 2) /
/// sqrt(2 pi) takes t^2 = h + l exactly (l from an fma): exp(-h / 2) has an exact argument, and
/// exp(-l / 2) = 1 - l / 2. Only packets with a lane below -4 take that path, so that the usual
/// inputs pay one comparison (the path costs as much as the rational again); between -4 and -1 the
/// rational's absolute error stays (relative 4e-3 near -4). Beyond t = 15 the result is 0 either
/// way (so -inf gives 0, not NaN).
template <class Packet>
EIGEN_STRONG_INLINE Packet pgelu_float(const Packet& x) {
  using namespace Eigen::internal;
  const Packet y = pmul(x, pnormal_cdf_float(x));
  const Packet in_tail = pcmp_lt(x, pset1<Packet>(-4.0f));
  if (!predux_any(in_tail)) return y;
  const Packet t = pmin(pnegate(x), pset1<Packet>(15.0f));
  const Packet h = pmul(t, t);
  const Packet l = pmadd(t, t, pnegate(h));  // t^2 - h exactly (0 without an fma: 1e-5 worse)
  Packet e = pexp(pmul(h, pset1<Packet>(-0.5f)));
  e = pmadd(pmul(e, l), pset1<Packet>(-0.5f), e);
  const Packet w = pdiv(pset1<Packet>(1.0f), h);
  Packet p = pmadd(w, pset1<Packet>(2.8231526499782635f), pset1<Packet>(61.00358499532419f));
  p = pmadd(w, p, pset1<Packet>(148.2446052849965f));
  p = pmadd(w, p, pset1<Packet>(92.65671530589358f));
  p = pmadd(w, p, pset1<Packet>(18.17278970897484f));
  p = pmadd(w, p, pset1<Packet>(0.9999999738687275f));
  Packet q = pmadd(w, pset1<Packet>(17.31553128865428f), pset1<Packet>(133.16339273449134f));
  q = pmadd(w, q, pset1<Packet>(214.51053239761833f));
  q = pmadd(w, q, pset1<Packet>(108.83037074138711f));
  q = pmadd(w, q, pset1<Packet>(19.172781416254985f));
  q = pmadd(w, q, pset1<Packet>(1.0f));
  const Packet tail = pmul(pmul(e, pset1<Packet>(-0.3989422804014327f)), pdiv(p, q));
  return pselect(in_tail, tail, y);
}

}  // namespace detail

/// Phi(x): the rational above for float packets; double goes through std::erf.
template <class T>
struct NormalCdfOp {
  static constexpr int cost = 24;
  static constexpr bool vectorized =
      std::is_same<T, float>::value && Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& x) const {
    return T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pnormal_cdf_float(x);
  }
};

/// Phi(x) from x and e = exp(-x^2 / 2): the function above for float packets; double (and the
/// scalar tail) through std::erfc, which ignores e.
template <class T>
struct NormalCdfFromExpOp {
  static constexpr int cost = 12;
  static constexpr bool vectorized =
      std::is_same<T, float>::value && Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& x, const T&) const {
    return T(0.5) * std::erfc(-x * T(0.70710678118654752440));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& e) const {
    return detail::pnormal_cdf_from_exp_float(x, e);
  }
};

/// gelu(x) = x Phi(x): the function above for float packets; scalars through erfc, relatively
/// accurate in the left tail (a float's argument in double: x / sqrt 2 rounded to float would
/// cost 2 x^2 2^-24 in relative error).
template <class T>
struct GeluOp {
  static constexpr int cost = 28;
  static constexpr bool vectorized =
      std::is_same<T, float>::value && Eigen::internal::packet_traits<T>::HasDiv;
  EIGEN_STRONG_INLINE T operator()(const T& x) const {
    using W = std::conditional_t<std::is_same<T, float>::value, double, T>;
    return T(W(x) * W(0.5) * std::erfc(-W(x) * W(0.70710678118654752440)));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pgelu_float(x);
  }
};

template <class Derived>
auto fast_gelu(const Eigen::ArrayBase<Derived>& x) {
  return map(x, GeluOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_normal_cdf(const Eigen::ArrayBase<Derived>& x) {
  return map(x, NormalCdfOp<typename Derived::Scalar>());
}

}  // namespace kernels
}  // namespace eigrad
