#pragma once
// Core differentiable ops. Each op's backward is written beside its forward in src/ops.cpp.
// Binary elementwise ops broadcast like NumPy; their gradients are summed back to each input's
// shape. Axes may be negative (counted from the end).
#include <cstdint>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

template <class T>
using Scalar = typename BasicTensor<T>::Scalar;  // keeps T deduced from the tensor alone

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
// a * scale + shift, one node (the scalar forms of add, sub, mul and div).
template <class T>
BasicTensor<T> affine(const BasicTensor<T>& a, Scalar<T> scale, Scalar<T> shift);
// s / a
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
// Gradient passes where lo <= a <= hi (PyTorch's convention); use +-infinity for one side.
template <class T>
BasicTensor<T> clamp(const BasicTensor<T>& a, Scalar<T> lo, Scalar<T> hi);

// ---- linear algebra and layout ----
// [n, k] x [k, m]; [B, n, k] x [B, k, m]; [B, n, k] x [k, m].
template <class T>
BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BasicTensor<T> transpose(const BasicTensor<T>& a, int axis0, int axis1);
// One size may be -1 (inferred).
template <class T>
BasicTensor<T> reshape(const BasicTensor<T>& a, const std::vector<int64_t>& shape);
// Merges axes start..end (inclusive) into one; flatten(x) gives rank 1, flatten(x, 1) [N, -1].
template <class T>
BasicTensor<T> flatten(const BasicTensor<T>& a, int start_axis = 0, int end_axis = -1);
template <class T>
BasicTensor<T> cat(const std::vector<BasicTensor<T>>& tensors, int axis = 0);
// Selects entries along `axis` by index (index_select(x, 0, rows) takes a minibatch).
template <class T>
BasicTensor<T> index_select(const BasicTensor<T>& a, int axis, const std::vector<int64_t>& index);

// ---- reductions ----
template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a, int axis, bool keepdim = false);
template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a, int axis, bool keepdim = false);
// Maximum along an axis; the gradient goes to the first maximal entry (as argmax picks it).
template <class T>
BasicTensor<T> max(const BasicTensor<T>& a, int axis, bool keepdim = false);
// Index of the first maximum along an axis, flattened in row-major order of the other axes.
template <class T>
std::vector<int64_t> argmax(const BasicTensor<T>& a, int axis);

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
