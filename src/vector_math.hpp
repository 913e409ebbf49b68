#pragma once
// Vectorized exp, expm1, softplus, sigmoid, tanh (float) and the normal CDF (float) as Eigen
// functors, softmax's row passes (max_of, exp_shifted_sum), and packet helpers (pselect_lt,
// pstep). An expression such as fast_exp(x) evaluates packetOp on every full SIMD packet (any
// width, float or double) and operator() (the standard library) on the scalar tail. Eigen 3.4's
// own vectorized exp spends much of its time in pldexp (2^n as three or four multiplications with
// clamping); here 2^n p is one vscalef on AVX-512, else an integer addition into p's exponent
// field and one multiplication.
//
// Accuracy, checked by tests/test_vector_math.cpp against long double: exp and expm1 within
// 2 ulp over their whole range, with exact 0 below half the smallest denormal, inf above the
// largest finite value, NaN kept and gradual underflow (the last step rounds once into the
// denormals); softplus within 2 ulp, sigmoid within 4 ulp until exp(-x) overflows, tanh within
// 5 ulp, the normal CDF within 2.5e-7 (absolute, as Eigen's erf) and within 3e-7 when computed
// from exp(-x^2 / 2) (gelu's backward).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>

namespace eigrad {
namespace vmath {

namespace detail {

using Eigen::internal::padd;
using Eigen::internal::pmadd;
using Eigen::internal::pmax;
using Eigen::internal::pmin;
using Eigen::internal::pmul;
using Eigen::internal::preinterpret;
using Eigen::internal::pset1;
using Eigen::internal::psub;

template <class Packet>
using Scalar = typename Eigen::internal::unpacket_traits<Packet>::type;

// 2^n p for integral n (a packet of them, as T).
template <class Packet>
EIGEN_STRONG_INLINE Packet pscale2(const Packet& p, const Packet& n) {
  using T = Scalar<Packet>;
#if defined(EIGEN_VECTORIZE_AVX512)
  // vscalef rounds 2^n p once: to 0, into the denormals or to inf where it should.
  if constexpr (std::is_same<T, float>::value && sizeof(Packet) == sizeof(__m512))
    return _mm512_scalef_ps(p, n);
  if constexpr (std::is_same<T, double>::value && sizeof(Packet) == sizeof(__m512d))
    return _mm512_scalef_pd(p, n);
#endif
  if constexpr (std::is_same<T, float>::value) {
    // n = n1 + n2 with n1, n2 in [-75, 64] (n in [-150, 128]): 2^n1 p is normal and exact (an
    // integer addition to p's exponent field), and multiplying by 2^n2 rounds once.
    using Eigen::internal::parithmetic_shift_right;
    using Eigen::internal::plogical_shift_left;
    using PacketI = typename Eigen::internal::unpacket_traits<Packet>::integer_packet;
    const PacketI ni = Eigen::internal::pcast<Packet, PacketI>(n);
    const PacketI n1 = parithmetic_shift_right<1>(ni);
    const PacketI n2 = psub(ni, n1);
    const Packet p_n1 =
        preinterpret<Packet>(padd(preinterpret<PacketI>(p), plogical_shift_left<23>(n1)));
    return pmul(p_n1, preinterpret<Packet>(plogical_shift_left<23>(padd(n2, pset1<PacketI>(127)))));
  } else {
    return Eigen::internal::pldexp(p, n);  // Eigen 3.4 has no 64-bit integer packets here
  }
}

// a < b ? x : y, false where a or b is NaN. On AVX-512 a compare into a mask register and a
// blend; Eigen 3.4's pcmp_lt + pselect turn the mask into a vector and back (four instructions).
template <class Packet>
EIGEN_STRONG_INLINE Packet pselect_lt(const Packet& a, const Packet& b, const Packet& x,
                                      const Packet& y) {
#if defined(EIGEN_VECTORIZE_AVX512)
  using T = Scalar<Packet>;
  if constexpr (std::is_same<T, float>::value && sizeof(Packet) == sizeof(__m512))
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x);
  if constexpr (std::is_same<T, double>::value && sizeof(Packet) == sizeof(__m512d))
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ), y, x);
#endif
  return Eigen::internal::pselect(Eigen::internal::pcmp_lt(a, b), x, y);
}

// Heaviside step with H(0) = 0: 1 where x > 0, 0 where x <= 0, NaN where x is NaN.
template <class Packet>
EIGEN_STRONG_INLINE Packet pstep(const Packet& x) {
  using T = Scalar<Packet>;
  using namespace Eigen::internal;
#if defined(EIGEN_VECTORIZE_AVX512)
  if constexpr (std::is_same<T, float>::value && sizeof(Packet) == sizeof(__m512))
    return _mm512_mask_mov_ps(
        _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(pzero(x), x, _CMP_LT_OQ), pset1<Packet>(T(1))),
        _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
  if constexpr (std::is_same<T, double>::value && sizeof(Packet) == sizeof(__m512d))
    return _mm512_mask_mov_pd(
        _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(pzero(x), x, _CMP_LT_OQ), pset1<Packet>(T(1))),
        _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), x);
#endif
  const Packet one_where_positive = pand(pcmp_lt(pzero(x), x), pset1<Packet>(T(1)));
  const Packet nan_bits_where_nan = pandnot(ptrue(x), pcmp_eq(x, x));  // all-ones is a NaN
  return por(one_where_positive, nan_bits_where_nan);
}

// The reduction x = n ln 2 + r, |r| <= ln 2 / 2, n integral: adding 1.5 2^(digits - 1) rounds
// x / ln 2 to an integer, and ln 2 comes in two parts (Cody and Waite; the high part has 16
// bits, so n ln2_hi is exact). For x already clamped to a range where that holds (|x| < 2^20).
template <class Packet>
EIGEN_STRONG_INLINE void reduce_clamped(const Packet& x, Packet& n, Packet& r) {
  using T = Scalar<Packet>;
  constexpr bool is_float = std::is_same<T, float>::value;
  const Packet magic = pset1<Packet>(is_float ? T(12582912.0) : T(6755399441055744.0));
  n = psub(pmadd(x, pset1<Packet>(T(1.4426950408889634074)), magic), magic);
  r = pmadd(n, pset1<Packet>(T(-0.693145751953125)), x);
  r = pmadd(
      n, pset1<Packet>(is_float ? T(-1.428606765330187045e-6) : T(-1.42860682030941723212e-6)), r);
}

// The same for any x, clamped first (NaN passes: it is the first operand of min and max) to
// where 2^n e^r still rounds to 0 or overflows to inf: exp(-104) < denorm_min / 2 and
// exp(88.8) > FLT_MAX in float; exp(-746) and exp(709.8) in double.
template <class Packet>
EIGEN_STRONG_INLINE void reduce(const Packet& x_in, Packet& n, Packet& r,
                                bool nonpositive = false) {
  using T = Scalar<Packet>;
  constexpr bool is_float = std::is_same<T, float>::value;
  const T upper = nonpositive ? T(0) : is_float ? T(88.8) : T(709.8);
  reduce_clamped(
      pmax(pmin(x_in, pset1<Packet>(upper)), pset1<Packet>(is_float ? T(-104) : T(-746))), n, r);
}

// exp(x) = 2^n e^r.
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

// expm1(x) = 2^n (e^r - 1) + (2^n - 1): e^r - 1 = r + r^2 (1/2 + r/6 + ...) keeps its relative
// accuracy as r -> 0 (n = 0 there), and 2^n - 1 is exact. With `nonpositive`, expm1(min(x, 0)):
// the clamp to x <= 0 costs nothing, and n <= 0 needs no care for overflow.
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

// log(1 + exp(z)) = max(z, 0) + log1p(e) with e = exp(-|z|) in [0, 1], and log1p(e) =
// 2 atanh(s) = 2 s f(s^2) with s = e / (2 + e) in [0, 1/3] and f(w) = atanh(sqrt w) / sqrt w =
// sum_k w^k / (2k + 1) on [0, 1/9]: in float a degree-4 fit (interpolation at Chebyshev nodes,
// relative error 4e-9), in double the series to w^15 (remainder below 1e-17).
template <class Packet>
EIGEN_STRONG_INLINE Packet psoftplus_from_exp(const Packet& z, const Packet& e) {
  using T = Scalar<Packet>;
  using namespace Eigen::internal;
  const Packet s = pdiv(e, padd(pset1<Packet>(T(2)), e));
  const Packet w = pmul(s, s);
  Packet f;
  if constexpr (std::is_same<T, float>::value) {
    f = pmadd(pset1<Packet>(2 * 0x1.2055ecp-3f), w, pset1<Packet>(2 * 0x1.1e5cfcp-3f));
    f = pmadd(f, w, pset1<Packet>(2 * 0x1.99da14p-3f));
    f = pmadd(f, w, pset1<Packet>(2 * 0x1.5554e2p-2f));
    f = pmadd(f, w, pset1<Packet>(2.0f));
  } else {
    f = pset1<Packet>(2.0 / 31);
    for (int k = 14; k >= 0; --k) f = pmadd(f, w, pset1<Packet>(2.0 / (2 * k + 1)));
  }
  // max(z, 0) with z first: NaN passes.
  return pmadd(s, f, pmax(z, pzero(z)));
}
template <class Packet>
EIGEN_STRONG_INLINE Packet psoftplus(const Packet& z) {
  using namespace Eigen::internal;
  return psoftplus_from_exp(z, pexp(pnegate(pabs(z))));
}

// tanh in float: Eigen 3.4's rational approximation x P(x^2) / Q(x^2) on [-7.99881, 7.99881]
// (generic_fast_tanh_float, its coefficients), and x itself below 2^-12 (as Eigen below
// 0.0004). Within 5 ulp overall (tests/test_vector_math.cpp); NaN passes (it is the first
// operand of min and max).
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

// gelu(x) = x Phi(x) in float, relatively accurate in the left tail. Below x = -1, x Phi(x) from
// Phi's rational (absolute error 2.5e-7) loses its digits, and below -5.66 it is 0 where the
// true value is a normal float down to -13. There, with t = -x, x Phi(x) = -phi(t) G(1 / t^2),
// where G(w) = t (1 - Phi(t)) / phi(t) (t times Mills' ratio: near 1, no cancellation) is a
// (5, 5) rational fit on t in [1, 15] (relative error 3e-9), and phi(t) = exp(-t^2 / 2) /
// sqrt(2 pi) takes t^2 = h + l exactly (l from an fma): exp(-h / 2) has an exact argument, and
// exp(-l / 2) = 1 - l / 2. Only packets with a lane below -4 take that path, so that the usual
// inputs pay one comparison (the path costs as much as the rational again); between -4 and -1 the
// rational's absolute error stays (relative 4e-3 near -4). Beyond t = 15 the result is 0 either
// way (so -inf gives 0, not NaN).
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

// Phi(x), the normal CDF: the rational above for float packets; double goes through std::erf.
template <class T>
struct NormalCdfOp {
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
  EIGEN_STRONG_INLINE T operator()(const T& x, const T&) const {
    return T(0.5) * std::erfc(-x * T(0.70710678118654752440));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& e) const {
    return detail::pnormal_cdf_from_exp_float(x, e);
  }
};

// gelu(x) = x Phi(x): the function above for float packets; scalars through erfc, relatively
// accurate in the left tail (a float's argument in double: x / sqrt 2 rounded to float would
// cost 2 x^2 2^-24 in relative error).
template <class T>
struct GeluOp {
  EIGEN_STRONG_INLINE T operator()(const T& x) const {
    using W = std::conditional_t<std::is_same<T, float>::value, double, T>;
    return T(W(x) * W(0.5) * std::erfc(-W(x) * W(0.70710678118654752440)));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pgelu_float(x);
  }
};

// tanh: the rational above for float packets; double goes through std::tanh.
template <class T>
struct TanhOp {
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::tanh(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::ptanh_float(x);
  }
};

template <class T>
struct ExpOp {
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::exp(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexp(x);
  }
};

template <class T>
struct ExpM1Op {
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::expm1(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexpm1(x);
  }
};

// softplus(z) = log(1 + exp(z)), without overflow for any z.
template <class T>
struct SoftplusOp {
  EIGEN_STRONG_INLINE T operator()(const T& z) const {
    return std::max(z, T(0)) + std::log1p(std::exp(-std::abs(z)));
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& z) const {
    return detail::psoftplus(z);
  }
};

// softplus(z) from z and e = exp(-|z|), for a kernel that computes e in a pass of its own: the
// chain exp -> division -> polynomial is long enough that, in one pass, the core runs out of
// room for independent work and waits (two passes over a block in L1 measured 25 % faster).
template <class T>
struct SoftplusFromExpOp {
  EIGEN_STRONG_INLINE T operator()(const T& z, const T& e) const {
    return std::max(z, T(0)) + std::log1p(e);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& z, const Packet& e) const {
    return detail::psoftplus_from_exp(z, e);
  }
};

// expm1(min(x, 0)), the negative part of elu and its kin, in one pass.
template <class T>
struct ExpM1OfMin0Op {
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return std::expm1(std::min(x, T(0))); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pexpm1(x, /*nonpositive=*/true);
  }
};

// sigmoid(x) = 1 / (1 + exp(-x)). Below -88.7 (float) exp(-x) is inf and the result 0, not the
// denormal it should be. (1 / (1 + q) with q = exp(-|x|) would keep that tail, but it needs a
// select, and that costs more than the division here.)
template <class T>
struct SigmoidOp {
  EIGEN_STRONG_INLINE T operator()(const T& x) const { return T(1) / (T(1) + std::exp(-x)); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet one = pset1<Packet>(T(1));
    return pdiv(one, padd(one, detail::pexp(pnegate(x))));
  }
};

// The largest of x[0..n) (n >= 1), and the sum of exp(x[i] - shift) over x[0..n), also written
// to out[i] unless out is null: softmax's passes over a row. Four packet accumulators each, so
// that the adds and maxima do not wait on one another (one accumulator makes a reduction
// latency-bound, about 3x slower here). NaN anywhere makes the sum NaN; the maximum may skip
// it, which changes nothing: exp(NaN - m) is NaN.
template <class T>
T max_of(const T* x, Eigen::Index n) {
  using namespace Eigen::internal;
  using Packet = typename packet_traits<T>::type;
  constexpr Eigen::Index k = packet_traits<T>::size;
  const Eigen::Index full = n - n % (4 * k);
  T result = x[0];
  if (full > 0) {
    Packet m0 = ploadu<Packet>(x), m1 = ploadu<Packet>(x + k), m2 = ploadu<Packet>(x + 2 * k),
           m3 = ploadu<Packet>(x + 3 * k);
    for (Eigen::Index i = 4 * k; i < full; i += 4 * k) {
      m0 = pmax(m0, ploadu<Packet>(x + i));
      m1 = pmax(m1, ploadu<Packet>(x + i + k));
      m2 = pmax(m2, ploadu<Packet>(x + i + 2 * k));
      m3 = pmax(m3, ploadu<Packet>(x + i + 3 * k));
    }
    result = predux_max(pmax(pmax(m0, m1), pmax(m2, m3)));
  }
  for (Eigen::Index i = full; i < n; ++i) result = std::max(result, x[i]);
  return result;
}

template <class T>
T exp_shifted_sum(const T* x, T shift, T* out, Eigen::Index n) {
  using namespace Eigen::internal;
  using Packet = typename packet_traits<T>::type;
  constexpr Eigen::Index k = packet_traits<T>::size;
  const Packet s = pset1<Packet>(shift);
  Packet a[4] = {pzero(s), pzero(s), pzero(s), pzero(s)};
  const Eigen::Index full = n - n % (4 * k);
  for (Eigen::Index i = 0; i < full; i += 4 * k)
    for (int j = 0; j < 4; ++j) {
      const Packet e = detail::pexp(psub(ploadu<Packet>(x + i + j * k), s));
      if (out) pstoreu(out + i + j * k, e);
      a[j] = padd(a[j], e);
    }
  T sum = predux(padd(padd(a[0], a[1]), padd(a[2], a[3])));
  for (Eigen::Index i = full; i < n; ++i) {
    const T e = std::exp(x[i] - shift);
    if (out) out[i] = e;
    sum += e;
  }
  return sum;
}

template <class Derived>
auto fast_normal_cdf(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(NormalCdfOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_gelu(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(GeluOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_tanh(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(TanhOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_exp(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(ExpOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_expm1(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(ExpM1Op<typename Derived::Scalar>());
}
template <class Derived>
auto fast_expm1_of_min0(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(ExpM1OfMin0Op<typename Derived::Scalar>());
}
template <class Derived>
auto fast_softplus(const Eigen::ArrayBase<Derived>& z) {
  return z.unaryExpr(SoftplusOp<typename Derived::Scalar>());
}
template <class Derived>
auto fast_sigmoid(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(SigmoidOp<typename Derived::Scalar>());
}

}  // namespace vmath
}  // namespace eigrad

namespace Eigen {
namespace internal {
template <class T>
struct functor_traits<eigrad::vmath::NormalCdfOp<T>> {
  enum {
    Cost = 24 * NumTraits<T>::MulCost,
    PacketAccess = std::is_same<T, float>::value && packet_traits<T>::HasDiv
  };
};
template <class T>
struct functor_traits<eigrad::vmath::GeluOp<T>> {
  enum {
    Cost = 28 * NumTraits<T>::MulCost,
    PacketAccess = std::is_same<T, float>::value && packet_traits<T>::HasDiv
  };
};
template <class T>
struct functor_traits<eigrad::vmath::NormalCdfFromExpOp<T>> {
  enum {
    Cost = 12 * NumTraits<T>::MulCost,
    PacketAccess = std::is_same<T, float>::value && packet_traits<T>::HasDiv
  };
};
template <class T>
struct functor_traits<eigrad::vmath::TanhOp<T>> {
  enum {
    Cost = 24 * NumTraits<T>::MulCost,
    PacketAccess = std::is_same<T, float>::value && packet_traits<T>::HasDiv
  };
};
template <class T>
struct functor_traits<eigrad::vmath::ExpOp<T>> {
  enum { Cost = 20 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasExp };
};
template <class T>
struct functor_traits<eigrad::vmath::ExpM1Op<T>> {
  enum { Cost = 24 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasExp };
};
template <class T>
struct functor_traits<eigrad::vmath::ExpM1OfMin0Op<T>> {
  enum { Cost = 20 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasExp };
};
template <class T>
struct functor_traits<eigrad::vmath::SoftplusOp<T>> {
  enum {
    Cost = 30 * NumTraits<T>::MulCost,
    PacketAccess = packet_traits<T>::HasExp && packet_traits<T>::HasDiv
  };
};
template <class T>
struct functor_traits<eigrad::vmath::SoftplusFromExpOp<T>> {
  enum { Cost = 12 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasDiv };
};
template <class T>
struct functor_traits<eigrad::vmath::SigmoidOp<T>> {
  enum {
    Cost = 28 * NumTraits<T>::MulCost,
    PacketAccess = packet_traits<T>::HasExp && packet_traits<T>::HasDiv
  };
};
}  // namespace internal
}  // namespace Eigen
