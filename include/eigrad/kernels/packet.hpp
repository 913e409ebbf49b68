#pragma once
// The building blocks of the activation kernels: packet helpers (2^n p, a compare-and-blend, the
// step function, the argument reduction of exp) and the two wrappers through which Eigen applies
// a kernel functor elementwise.
//
// A kernel functor F gives, for its scalar type T:
//   T operator()(const T&...)                    the scalar tail, through the standard library;
//   Packet packetOp(const Packet&...)           every full SIMD packet (any width);
//   static constexpr int cost                   operations per element, for Eigen's evaluator;
//   static constexpr bool vectorized            whether packetOp exists for T on this target.
// kernels::map(x, F{}) and kernels::map(x, y, F{}) apply it; the functor says its own cost, so no
// Eigen traits are specialised far from it.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include "eigrad/eigen.hpp"

namespace eigrad {
namespace kernels {

template <class F>
struct Unary {
  F f;
  template <class T>
  EIGEN_STRONG_INLINE T operator()(const T& x) const {
    return f(x);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return f.packetOp(x);
  }
};
template <class F>
struct Binary {
  F f;
  template <class T>
  EIGEN_STRONG_INLINE T operator()(const T& x, const T& y) const {
    return f(x, y);
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x, const Packet& y) const {
    return f.packetOp(x, y);
  }
};

template <class Derived, class F>
auto map(const Eigen::ArrayBase<Derived>& x, F f) {
  return x.unaryExpr(Unary<F>{f});
}
template <class A, class B, class F>
auto map(const Eigen::ArrayBase<A>& x, const Eigen::ArrayBase<B>& y, F f) {
  return x.binaryExpr(y, Binary<F>{f});
}

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

/// 2^n p for integral n (a packet of them, as T).
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

/// a < b ? x : y, false where a or b is NaN. On AVX-512 a compare into a mask register and a
/// blend; Eigen 3.4's pcmp_lt + pselect turn the mask into a vector and back (four instructions).
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

/// Heaviside step with H(0) = 0: 1 where x > 0, 0 where x <= 0, NaN where x is NaN.
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

/// The reduction x = n ln 2 + r, |r| <= ln 2 / 2, n integral: adding 1.5 2^(digits - 1) rounds
/// x / ln 2 to an integer, and ln 2 comes in two parts (Cody and Waite; the high part has 16
/// bits, so n ln2_hi is exact). For x already clamped to a range where that holds (|x| < 2^20).
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

/// The same for any x, clamped first (NaN passes: it is the first operand of min and max) to
/// where 2^n e^r still rounds to 0 or overflows to inf: exp(-104) < denorm_min / 2 and
/// exp(88.8) > FLT_MAX in float; exp(-746) and exp(709.8) in double.
template <class Packet>
EIGEN_STRONG_INLINE void reduce(const Packet& x_in, Packet& n, Packet& r,
                                bool nonpositive = false) {
  using T = Scalar<Packet>;
  constexpr bool is_float = std::is_same<T, float>::value;
  const T upper = nonpositive ? T(0) : is_float ? T(88.8) : T(709.8);
  reduce_clamped(
      pmax(pmin(x_in, pset1<Packet>(upper)), pset1<Packet>(is_float ? T(-104) : T(-746))), n, r);
}

}  // namespace detail

/// Heaviside step with H(0) = 0: 1 where x > 0, 0 where x <= 0, NaN where x is NaN.
template <class T>
struct StepOp {
  static constexpr int cost = 4;
  static constexpr bool vectorized = Eigen::internal::packet_traits<T>::HasCmp;
  T operator()(const T& x) const { return x > T(0) ? T(1) : (x <= T(0) ? T(0) : x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return detail::pstep(x);
  }
};
template <class Derived>
auto positive(const Eigen::ArrayBase<Derived>& x) {
  return map(x, StepOp<typename Derived::Scalar>());
}

}  // namespace kernels
}  // namespace eigrad

namespace Eigen {
namespace internal {
template <class F>
struct functor_traits<eigrad::kernels::Unary<F>> {
  enum { Cost = F::cost, PacketAccess = F::vectorized };
};
template <class F>
struct functor_traits<eigrad::kernels::Binary<F>> {
  enum { Cost = F::cost, PacketAccess = F::vectorized };
};
}  // namespace internal
}  // namespace Eigen
