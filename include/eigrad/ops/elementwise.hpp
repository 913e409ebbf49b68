#pragma once
// Elementwise ops (src/ops/elementwise.cpp). Binary ops broadcast like NumPy; their gradients
// are summed back to each input's shape.
#include <cstdint>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

// ---- elementwise arithmetic ----
template <class T>
BasicTensor<T> add(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> sub(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> mul(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> div(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> neg(const BasicTensor<T>& a);
/// a * scale + shift, one node (the scalar forms of add, sub, mul and div).
template <class T>
BasicTensor<T> affine(const BasicTensor<T>& a, Scalar<T> scale, Scalar<T> shift);
/// s / a
template <class T>
BasicTensor<T> rdiv(Scalar<T> s, const BasicTensor<T>& a);

// ---- elementwise functions ----
template <class T>
BasicTensor<T> exp(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> log(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> pow(const BasicTensor<T>& a, Scalar<T> exponent);
template <class T>
BasicTensor<T> sqrt(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> abs(const BasicTensor<T>& a);
/// Gradient passes where lo <= a <= hi (PyTorch's convention); use +-infinity for one side.
template <class T>
BasicTensor<T> clamp(const BasicTensor<T>& a, Scalar<T> lo, Scalar<T> hi);

// ---- comparisons and selection ----
/// Elementwise comparisons with broadcasting. eigrad has no bool dtype: the result holds 1 where
/// the comparison is true and 0 elsewhere, in the inputs' dtype, and is never part of the graph.
template <class T>
BasicTensor<T> eq(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> ne(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> lt(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> le(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> gt(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> ge(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> eq(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BasicTensor<T> ne(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BasicTensor<T> lt(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BasicTensor<T> le(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BasicTensor<T> gt(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BasicTensor<T> ge(const BasicTensor<T>& a, Scalar<T> b);
/// a where condition is non-zero, else b; the three broadcast together. The gradient goes to a
/// where the condition holds and to b elsewhere; the condition is not an input of the graph.
template <class T>
BasicTensor<T> where(const BasicTensor<T>& condition, const BasicTensor<T>& a,
                     const BasicTensor<T>& b);

// ---- operators ----
template <class T>
BasicTensor<T> operator+(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return add(a, b);
}
template <class T>
BasicTensor<T> operator-(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return sub(a, b);
}
template <class T>
BasicTensor<T> operator*(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return mul(a, b);
}
template <class T>
BasicTensor<T> operator/(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return div(a, b);
}
template <class T>
BasicTensor<T> operator-(const BasicTensor<T>& a) {
  return neg(a);
}
template <class T>
BasicTensor<T> operator+(const BasicTensor<T>& a, Scalar<T> s) {
  return affine(a, Scalar<T>(1), s);
}
template <class T>
BasicTensor<T> operator+(Scalar<T> s, const BasicTensor<T>& a) {
  return affine(a, Scalar<T>(1), s);
}
template <class T>
BasicTensor<T> operator-(const BasicTensor<T>& a, Scalar<T> s) {
  return affine(a, Scalar<T>(1), -s);
}
template <class T>
BasicTensor<T> operator-(Scalar<T> s, const BasicTensor<T>& a) {
  return affine(a, Scalar<T>(-1), s);
}
template <class T>
BasicTensor<T> operator*(const BasicTensor<T>& a, Scalar<T> s) {
  return affine(a, s, Scalar<T>(0));
}
template <class T>
BasicTensor<T> operator*(Scalar<T> s, const BasicTensor<T>& a) {
  return affine(a, s, Scalar<T>(0));
}
template <class T>
BasicTensor<T> operator/(const BasicTensor<T>& a, Scalar<T> s) {
  return affine(a, Scalar<T>(1) / s, Scalar<T>(0));
}
template <class T>
BasicTensor<T> operator/(Scalar<T> s, const BasicTensor<T>& a) {
  return rdiv(s, a);
}

}  // namespace eigrad
