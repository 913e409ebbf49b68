#pragma once
// Comparisons, boolean logic and selection (src/ops/compare.cpp). Comparisons broadcast like
// NumPy and return bool tensors, which are never part of the graph; `where` selects by a bool
// condition and is differentiable in its two value inputs.
#include <cstdint>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

// ---- comparisons: float32, float64, int64 and bool tensors ----
template <class T>
BoolTensor eq(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BoolTensor ne(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BoolTensor lt(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BoolTensor le(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BoolTensor gt(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BoolTensor ge(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T>
BoolTensor eq(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BoolTensor ne(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BoolTensor lt(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BoolTensor le(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BoolTensor gt(const BasicTensor<T>& a, Scalar<T> b);
template <class T>
BoolTensor ge(const BasicTensor<T>& a, Scalar<T> b);
/// True where both tensors have the same shape and every element is equal (torch.equal).
template <class T>
bool equal(const BasicTensor<T>& a, const BasicTensor<T>& b);

// ---- boolean logic (bool tensors; broadcasting) ----
BoolTensor logical_and(const BoolTensor& a, const BoolTensor& b);
BoolTensor logical_or(const BoolTensor& a, const BoolTensor& b);
BoolTensor logical_xor(const BoolTensor& a, const BoolTensor& b);
BoolTensor logical_not(const BoolTensor& a);
/// Whether any (every) element is true, as a 0-d bool tensor (true for all() of an empty tensor).
BoolTensor any(const BoolTensor& a);
BoolTensor all(const BoolTensor& a);
/// The number of true (non-zero) elements, as a 0-d int64 tensor. sum() of a bool or int64
/// tensor is an int64 tensor as in PyTorch.
template <class T>
LongTensor count_nonzero(const BasicTensor<T>& a);
LongTensor sum(const BoolTensor& a);
LongTensor sum(const LongTensor& a);

// ---- selection ----
/// a where the condition holds, else b; the three broadcast together. The gradient goes to a
/// where the condition holds and to b elsewhere; the condition gets none.
template <class T>
BasicTensor<T> where(const BoolTensor& condition, const BasicTensor<T>& a, const BasicTensor<T>& b);

// ---- operators, as libtorch spells them ----
template <class T>
BoolTensor operator==(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return eq(a, b);
}
template <class T>
BoolTensor operator!=(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return ne(a, b);
}
template <class T>
BoolTensor operator<(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return lt(a, b);
}
template <class T>
BoolTensor operator<=(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return le(a, b);
}
template <class T>
BoolTensor operator>(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return gt(a, b);
}
template <class T>
BoolTensor operator>=(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return ge(a, b);
}
template <class T>
BoolTensor operator==(const BasicTensor<T>& a, Scalar<T> b) {
  return eq(a, b);
}
template <class T>
BoolTensor operator!=(const BasicTensor<T>& a, Scalar<T> b) {
  return ne(a, b);
}
template <class T>
BoolTensor operator<(const BasicTensor<T>& a, Scalar<T> b) {
  return lt(a, b);
}
template <class T>
BoolTensor operator<=(const BasicTensor<T>& a, Scalar<T> b) {
  return le(a, b);
}
template <class T>
BoolTensor operator>(const BasicTensor<T>& a, Scalar<T> b) {
  return gt(a, b);
}
template <class T>
BoolTensor operator>=(const BasicTensor<T>& a, Scalar<T> b) {
  return ge(a, b);
}
inline BoolTensor operator&(const BoolTensor& a, const BoolTensor& b) {
  return logical_and(a, b);
}
inline BoolTensor operator|(const BoolTensor& a, const BoolTensor& b) {
  return logical_or(a, b);
}
inline BoolTensor operator^(const BoolTensor& a, const BoolTensor& b) {
  return logical_xor(a, b);
}
inline BoolTensor operator~(const BoolTensor& a) {
  return logical_not(a);
}

}  // namespace eigrad
