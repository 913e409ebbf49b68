#pragma once
// The normal distribution's CDF Phi(x), vectorised in float (double goes through std::erf): from
// x alone, or from x and e = exp(-x^2 / 2), which gelu's backward computes anyway. Absolute error
// below 2.5e-7 and 3e-7 (tests/test_vector_math.cpp).
#include "eigrad/kernels/packet.hpp"

namespace eigrad {
namespace kernels {

namespace detail {

// The normal distribution's CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 in float, as one rational:
// Eigen 3.4's erf(u) = u P(u^2) / Q(u^2) on [-4, 4] (generic_fast_erf_float, its coefficients)
// with u = x / sqrt 2 and the 1/2 folded into the coefficients, Phi = (Q / 2 + x P') / Q.
// Absolute error below 2.5e-7, as Eigen's erf; NaN passes.
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

// Phi(x) in float from e = exp(-x^2 / 2), which gelu's backward computes anyway, without the
// rational above: Abramowitz and Stegun 26.2.17, 1 - Phi(t) = phi(t) (b1 u + ... + b5 u^5) with
// u = 1 / (1 + p t) for t = |x|, absolute error below 7.5e-8 in exact arithmetic; in float the
// polynomial's terms (up to 0.73 in size, summing to 0.5 at x = 0) cancel, and the error is below
// 3e-7 (tests/test_vector_math.cpp), against 2.5e-7 for the rational. Phi(x) is 1 minus that for
// x > 0. Where x^2 overflows, e = 0 and Phi is exactly 0 or 1; NaN passes.
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

}  // namespace detail

// Phi(x): the rational above for float packets; double goes through std::erf.
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

// Phi(x) from x and e = exp(-x^2 / 2): the function above for float packets; double (and the
// scalar tail) through std::erfc, which ignores e.
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

template <class Derived>
auto fast_normal_cdf(const Eigen::ArrayBase<Derived>& x) {
  return map(x, NormalCdfOp<typename Derived::Scalar>());
}

}  // namespace kernels
}  // namespace eigrad
