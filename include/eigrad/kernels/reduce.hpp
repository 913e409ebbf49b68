#pragma once
// softmax's passes over a row: its maximum, and the sum of exp(x - shift).
#include "eigrad/kernels/exp.hpp"

namespace eigrad {
namespace kernels {

/// The largest of x[0..n) (n >= 1), and the sum of exp(x[i] - shift) over x[0..n), also written
/// to out[i] unless out is null: softmax's passes over a row. Four packet accumulators each, so
/// that the adds and maxima do not wait on one another (with one, a reduction is bound by the
/// latency of its adds). NaN anywhere makes the sum NaN; the maximum may skip
/// it, which changes nothing: exp(NaN - m) is NaN.
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

}  // namespace kernels
}  // namespace eigrad
