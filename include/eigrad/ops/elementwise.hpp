#pragma once
// Elementwise ops (src/ops/elementwise.cpp; the math beyond exp and log in
// src/ops/elementwise_math.cpp). Binary ops broadcast like NumPy; their gradients are summed back
// to each input's shape.
#include <cstdint>

#include "eigrad/autograd.hpp"
#include "eigrad/ops/compare.hpp"
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

// ---- trigonometric, hyperbolic and other functions (PyTorch 1.13's derivatives) ----
/// Outside a function's domain (asin and acos beyond [-1, 1], log1p below -1) the value and
/// gradient are NaN (or infinite), as in PyTorch: no error.
template <class T>
BasicTensor<T> sin(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> cos(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> tan(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> asin(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> acos(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> atan(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> sinh(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> cosh(const BasicTensor<T>& a);
/// log(1 + a), accurate for small a.
template <class T>
BasicTensor<T> log1p(const BasicTensor<T>& a);
/// exp(a) - 1, accurate for small a.
template <class T>
BasicTensor<T> expm1(const BasicTensor<T>& a);
/// 1 / a.
template <class T>
BasicTensor<T> reciprocal(const BasicTensor<T>& a);
/// Piecewise constant: the gradient is 0 everywhere, at the jumps too (PyTorch's convention).
/// sign is -1, 0 or 1 (0 for NaN, as PyTorch 1.13); round halves to even, as torch.round
/// (round(0.5) = 0, round(1.5) = 2, round(-2.5) = -2).
template <class T>
BasicTensor<T> sign(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> floor(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> ceil(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> round(const BasicTensor<T>& a);
/// Elementwise maximum (minimum) with broadcasting; NaN propagates. The gradient goes to the
/// larger (smaller) input; on a tie a == b each input gets half of it, as in PyTorch 1.13.
template <class T>
BasicTensor<T> maximum(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> minimum(const BasicTensor<T>& a, const BasicTensor<T>& b);

// Comparisons (returning bool tensors), boolean logic and `where`: eigrad/ops/compare.hpp.

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
