#pragma once
// exp and expm1, vectorised. Eigen 3.4's own exp spends much of its time in pldexp (2^n as three
// or four multiplications with clamping); here 2^n p is one vscalef on AVX-512, else an integer
// addition into p's exponent field and one multiplication. Within 2 ulp over the whole range
// (tests/test_kernels.cpp; float32 exp within 0.9 ulp), with exact 0 below half the smallest
// denormal, inf above the largest finite value, NaN kept and gradual underflow.
#include "eigrad/kernels/packet.hpp"

namespace eigrad {
namespace kernels {

namespace detail {

/// exp(x) = 2^n e^r.
template <class Packet>
EIGEN_STRONG_INLINE Packet pexp(const Packet& x) {
  using T = Scalar<Packet>;
  Packet n, r;
  reduce(x, n, r);
  Packet p;
  if constexpr (std::is_same<T, float>::value) {
    // e^r = 1 + r + r^2 / 2 + r^3 (c3 + ... + c7 r^4), minimax on [-ln 2 / 2, ln 2 / 2] (the
    // coefficients of SLEEF's expf_u10), by Horner's rule: within 0.9 ulp, where the degree-5
    // fit of ARM optimized-routines' expf (made for double arithmetic) reached 1.8 in float.
    p = pmadd(pset1<Packet>(0.000198527617612853646278381f), r,
              pset1<Packet>(0.00139304355252534151077271f));
    p = pmadd(p, r, pset1<Packet>(0.00833336077630519866943359f));
    p = pmadd(p, r, pset1<Packet>(0.0416664853692054748535156f));
    p = pmadd(p, r, pset1<Packet>(0.166666671633720397949219f));
    p = pmadd(p, r, pset1<Packet>(0.5f));
    p = pmadd(p, r, pset1<Packet>(1.0f));
    p = pmadd(p, r, pset1<Packet>(1.0f));
  } else {
    // Taylor series to r^13 / 13!: the remainder is below 0.02 ulp.
    p = pset1<Packet>(1.0 / 6227020800.0);
    for (const double c :
         {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
          1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0})
      p = pmadd(p, r, pset1<Packet>(c));
  }
  return pscale2(p, n);
}

/// expm1(x) = 2^n (e^r - 1) + (2^n - 1): e^r - 1 = r + r^2 (1/2 + r/6 + ...) keeps its relative
/// accuracy as r -> 0 (n = 0 there), and 2^n - 1 is exact. With `nonpositive`, expm1(min(x, 0)):
/// the clamp to x <= 0 costs nothing, and n <= 0 needs no care for overflow.
template <class Packet>
EIGEN_STRONG_INLINE Packet pexpm1(const Packet& x, bool nonpositive = false) {
  using T = Scalar<Packet>;
  constexpr bool is_float = std::is_same<T, float>::value;
  Packet n, r;
  // expm1(min(x, 0)) is exactly -1 in T below -17.5 (float) or -38 (double): clamping there
  // keeps 2^n normal, so that it is an integer addition into 1's exponent field (float).
  if (nonpositive)
    reduce_clamped(
        pmax(pmin(x, Eigen::internal::pzero(x)), pset1<Packet>(is_float ? T(-17.5) : T(-38))), n,
        r);
  else
    reduce(x, n, r);
  // Taylor series of (e^r - 1 - r) / r^2 to r^5 / 7! (float; remainder below 0.05 ulp) or to
  // r^11 / 13! (double).
  constexpr int terms = std::is_same<T, float>::value ? 6 : 12;
  double factorial = 1;
  for (int k = 2; k <= terms + 1; ++k) factorial *= k;
  Packet q = pset1<Packet>(T(1 / factorial));
  for (int k = terms + 1; k > 2; --k) {
    factorial /= k;
    q = pmadd(q, r, pset1<Packet>(T(1 / factorial)));
  }
  const Packet em1 = pmadd(pmul(r, r), q, r);
  const Packet one = pset1<Packet>(T(1));
  if (nonpositive) {
    Packet two_n;
    if constexpr (is_float) {
      using PacketI = typename Eigen::internal::unpacket_traits<Packet>::integer_packet;
      two_n = preinterpret<Packet>(Eigen::internal::plogical_shift_left<23>(
          padd(Eigen::internal::pcast<Packet, PacketI>(n), pset1<PacketI>(127))));
    } else {
      two_n = pscale2(one, n);
    }
    return pmadd(two_n, em1, psub(two_n, one));  // one rounding
  }
  const Packet accurate = padd(pscale2(em1, n), psub(pscale2(one, n), one));
  // Where 2^n overflows (n = 128 in float) but 2^n e^r does not, accurate is inf and expm1 is
  // exp to rounding; elsewhere accurate is the smaller one (by about 1, or a rounding error for
  // n > digits). NaN is the first operand of min: it passes.
  return pmin(accurate, pscale2(padd(em1, one), n));
}

}  // namespace detail

template <class T>
struct ExpOp {
  static constexpr int cost = 20;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasExp;
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::exp(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexp(x);
  }
};

template <class T>
struct ExpM1Op {
  static constexpr int cost = 24;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasExp;
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::expm1(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexpm1(x);
  }
};

/// expm1(min(x, 0)), the negative part of elu and its kin, in one pass.
template <class T>
struct ExpM1OfMin0Op {
  static constexpr int cost = 20;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasExp;
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::expm1(std::min(x, T(0))); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexpm1(x, /*nonpositive=*/true);
  }
};

/// exp(Arg::apply(x)), where Arg maps a scalar or a packet (e.g. -|x|, -x^2 / 2): the first pass
/// of the two-pass kernels, whose second pass reads the exp back from the output block (Eigen does
/// not share common subexpressions, and one long chain exp -> division -> polynomial per element
/// leaves the core waiting).
template <class T, class Arg>
struct ExpOfOp {
  static constexpr int cost = ExpOp<T>::cost + 4;
  static constexpr bool vectorized = ExpOp<T>::vectorized;
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::exp(Arg::apply(x)); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexp(Arg::apply(x));
  }
};

/// -|x|
struct NegAbs {
  template <class V>
  static EIGEN_STRONG_INLINE V apply(const V& x) {
    using namespace Eigen::internal;
    return pnegate(pabs(x));
  }
};

template <class Derived>
auto fast_exp(const Eigen::ArrayBase<Derived>& x) {
  return map(x, ExpOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_expm1(const Eigen::ArrayBase<Derived>& x) {
  return map(x, ExpM1Op<typename Derived::Scalar>());
}
template <class Derived>
auto fast_expm1_of_min0(const Eigen::ArrayBase<Derived>& x) {
  return map(x, ExpM1OfMin0Op<typename Derived::Scalar>());
}
template <class Arg, class Derived>
auto exp_of(const Eigen::ArrayBase<Derived>& x) {
  return map(x, ExpOfOp<typename Derived::Scalar, Arg>());
}

}  // namespace kernels
}  // namespace eigrad
