#pragma once
// Reductions over all elements or along one axis (src/ops/reduce.cpp). Axes may be negative.
#include <cstdint>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a, int axis, bool keepdim = false);
/// The sum of `a` over the axes along which `shape` broadcasts to a's shape, with the result of
/// `shape` (PyTorch's sum_to_size): a broadcast op's gradient summed back to an operand.
template <class T>
BasicTensor<T> sum_to_size(const BasicTensor<T>& a, const Shape& shape);
template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a, int axis, bool keepdim = false);
/// Maximum (minimum) of all elements; the gradient is shared evenly among the entries that reach
/// it, as in PyTorch 1.13. NaN propagates.
template <class T>
BasicTensor<T> max(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> min(const BasicTensor<T>& a);
/// Maximum (minimum) along an axis; the gradient goes to the first extreme entry (as argmax and
/// argmin pick it).
template <class T>
BasicTensor<T> max(const BasicTensor<T>& a, int axis, bool keepdim = false);
template <class T>
BasicTensor<T> min(const BasicTensor<T>& a, int axis, bool keepdim = false);
/// Index of the first maximum (minimum) along an axis, flattened in row-major order of the other
/// axes.
template <class T>
std::vector<int64_t> argmax(const BasicTensor<T>& a, int axis);
template <class T>
std::vector<int64_t> argmin(const BasicTensor<T>& a, int axis);

}  // namespace eigrad
