#pragma once
// Layout, joining, slicing and indexing (src/ops/tensor_shape.cpp). Axes may be negative
// (counted from the end).
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

template <class T>
BasicTensor<T> transpose(const BasicTensor<T>& a, int axis0, int axis1);
/// One size may be -1 (inferred).
template <class T>
BasicTensor<T> reshape(const BasicTensor<T>& a, const std::vector<int64_t>& shape);
/// Merges axes start..end (inclusive) into one; flatten(x) gives rank 1, flatten(x, 1) [N, -1].
template <class T>
BasicTensor<T> flatten(const BasicTensor<T>& a, int start_axis = 0, int end_axis = -1);
template <class T>
BasicTensor<T> cat(const std::vector<BasicTensor<T>>& tensors, int axis = 0);
/// Joins tensors of one shape along a new axis (stack({a, b}, 0) of [3] is [2, 3]).
template <class T>
BasicTensor<T> stack(const std::vector<BasicTensor<T>>& tensors, int axis = 0);
/// The same from a braced list, whose element type a std::vector parameter cannot deduce:
/// cat({a, b}, 1), stack({a, b}).
template <class T>
BasicTensor<T> cat(std::initializer_list<BasicTensor<T>> tensors, int axis = 0) {
  return cat(std::vector<BasicTensor<T>>(tensors), axis);
}
template <class T>
BasicTensor<T> stack(std::initializer_list<BasicTensor<T>> tensors, int axis = 0) {
  return stack(std::vector<BasicTensor<T>>(tensors), axis);
}
/// Reorders the axes: result axis i is input axis dims[i] (dims is a permutation of the axes).
template <class T>
BasicTensor<T> permute(const BasicTensor<T>& a, const std::vector<int>& dims);
/// Inserts a size-1 axis at `axis` (in [-rank - 1, rank]).
template <class T>
BasicTensor<T> unsqueeze(const BasicTensor<T>& a, int axis);
/// Removes every size-1 axis, or only `axis` when it has size 1 (otherwise returns a as it is,
/// as PyTorch does).
template <class T>
BasicTensor<T> squeeze(const BasicTensor<T>& a);
template <class T>
BasicTensor<T> squeeze(const BasicTensor<T>& a, int axis);
/// The slice [start, start + length) along `axis` (a copy); start may be negative (counted from
/// the end, in [-size, size] as in PyTorch).
template <class T>
BasicTensor<T> narrow(const BasicTensor<T>& a, int axis, int64_t start, int64_t length);
/// Constant padding, as torch.nn.functional.pad: `pad` holds (before, after) pairs starting from
/// the last axis, e.g. {1, 1, 2, 2} pads the last axis by 1 and the one before by 2. Negative
/// amounts crop (a size below 0 is an error).
template <class T>
BasicTensor<T> pad(const BasicTensor<T>& a, const std::vector<int64_t>& pad,
                   Scalar<T> value = Scalar<T>(0));
/// Selects entries along `axis` by index (index_select(x, 0, rows) takes a minibatch).
/// `a` repeated along its size-1 (or missing leading) axes to `shape`, NumPy's broadcast_to; its
/// gradient is sum_to_size.
template <class T>
BasicTensor<T> broadcast_to(const BasicTensor<T>& a, const Shape& shape);
template <class T>
BasicTensor<T> index_select(const BasicTensor<T>& a, int axis, const std::vector<int64_t>& index);

}  // namespace eigrad
