#pragma once
// Reductions over all elements or along one axis (src/ops/reduce.cpp), and statistics over any
// set of axes, cumsum and prod (src/ops/reduce_stats.cpp). Axes may be negative.
#include <cstdint>
#include <initializer_list>
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
/// Index of the first maximum (minimum) along an axis, as an int64 tensor of a's shape without
/// that axis (kept with size 1 under keepdim); without an axis, the index into the flattened
/// tensor, as a 0-d int64 tensor. NaN counts as the maximum (and the minimum), as in PyTorch.
template <class T>
LongTensor argmax(const BasicTensor<T>& a, int axis, bool keepdim = false);
template <class T>
LongTensor argmin(const BasicTensor<T>& a, int axis, bool keepdim = false);
template <class T>
LongTensor argmax(const BasicTensor<T>& a);
template <class T>
LongTensor argmin(const BasicTensor<T>& a);

// ---- statistics over a set of axes (PyTorch 1.13's semantics) ----
/// `axes`: each axis at most once, negative counted from the end; an empty list reduces over every
/// axis (PyTorch's dim=None). A braced list picks the list form: var(x, {0, 2}), var(x, {}, 0).
///
/// Variance: sum((a - mean)^2) / max(N - correction, 0), N the number of elements reduced;
/// correction 1 is the unbiased estimate (torch.var's default), 0 the population variance. Where
/// N - correction <= 0 the divisor is 0 and the result inf (NaN where all values agree, and for an
/// empty reduction), as in PyTorch, which only warns: no error.
template <class T>
BasicTensor<T> var(const BasicTensor<T>& a, const std::vector<int>& axes = {},
                   int64_t correction = 1, bool keepdim = false);
template <class T>
BasicTensor<T> var(const BasicTensor<T>& a, int axis, int64_t correction = 1, bool keepdim = false);
template <class T>
BasicTensor<T> var(const BasicTensor<T>& a, std::initializer_list<int> axes, int64_t correction = 1,
                   bool keepdim = false) {
  return var(a, std::vector<int>(axes), correction, keepdim);
}
/// sqrt(var); its gradient is 0 where the result is 0 (constant values), as in PyTorch.
template <class T>
BasicTensor<T> std(const BasicTensor<T>& a, const std::vector<int>& axes = {},
                   int64_t correction = 1, bool keepdim = false);
template <class T>
BasicTensor<T> std(const BasicTensor<T>& a, int axis, int64_t correction = 1, bool keepdim = false);
template <class T>
BasicTensor<T> std(const BasicTensor<T>& a, std::initializer_list<int> axes, int64_t correction = 1,
                   bool keepdim = false) {
  return std(a, std::vector<int>(axes), correction, keepdim);
}
/// log(sum(exp(a))) over the axes, computed as m + log(sum(exp(a - m))) with m the maximum, so
/// that it is finite for large inputs; -inf for an empty reduction.
template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& a, const std::vector<int>& axes,
                         bool keepdim = false);
template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& a, int axis, bool keepdim = false);
template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& a, std::initializer_list<int> axes,
                         bool keepdim = false) {
  return logsumexp(a, std::vector<int>(axes), keepdim);
}
/// The vector p-norm (sum |a|^p)^(1/p) of all elements or over axes (torch.norm of a vector,
/// linalg.vector_norm): p = 2 (default), 1, infinity (max |a|) or any real p > 0; other p is an
/// Error. Gradients as PyTorch 1.13's norm_backward: 0 where the norm is 0; for p = infinity shared
/// evenly among the entries that reach it; for p < 1, 0 at a = 0. The infinity norm of an empty
/// reduction is an Error (the maximum has no identity); the other norms are 0 there.
template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p = Scalar<T>(2));
template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p, const std::vector<int>& axes,
                    bool keepdim = false);
template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p, int axis, bool keepdim = false);
template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p, std::initializer_list<int> axes,
                    bool keepdim = false) {
  return norm(a, p, std::vector<int>(axes), keepdim);
}

// ---- cumulative sum and product ----
/// Running sums along an axis (same shape; a scalar takes axis 0 or -1).
template <class T>
BasicTensor<T> cumsum(const BasicTensor<T>& a, int axis);
/// Product of all elements (1 for an empty tensor), or along an axis. The gradient of each entry
/// is the product of the others (computed without division, so exact with zeros: with one zero
/// only that entry gets a gradient, with two or more none does).
template <class T>
BasicTensor<T> prod(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> prod(const BasicTensor<T>& a, int axis, bool keepdim = false);

}  // namespace eigrad
