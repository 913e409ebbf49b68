#pragma once
// Layout, joining, slicing and indexing (src/ops/tensor_shape.cpp). Axes may be negative
// (counted from the end).
#include <cstdint>
#include <initializer_list>
#include <type_traits>
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
/// The same with a rank-1 int64 tensor of indices (a braced list still means the vector form).
template <class T, class Index, class = std::enable_if_t<std::is_same_v<Index, LongTensor>>>
BasicTensor<T> index_select(const BasicTensor<T>& a, int axis, const Index& index) {
  return index_select(a, axis, detail::index_vector("index_select", "index", index));
}

// ---- src/ops/rearrange.cpp ----
/// The pieces of `a` along `axis` (torch.chunk): ceil(n / chunks) entries each, the last piece
/// smaller, so there may be fewer than `chunks` pieces; an axis of size 0 gives `chunks` empty
/// pieces. Each piece is a narrow (a copy: eigrad has no views).
template <class T>
std::vector<BasicTensor<T>> chunk(const BasicTensor<T>& a, int64_t chunks, int axis = 0);
/// Pieces of split_size entries along `axis`, the last one smaller (torch.split); split_size 0
/// only for an axis of size 0.
template <class T>
std::vector<BasicTensor<T>> split(const BasicTensor<T>& a, int64_t split_size, int axis = 0);
/// Pieces of the given sizes, which must sum to the axis' size (torch.split with a list; a
/// one-element braced list {5} means split_size 5, so pass std::vector<int64_t>{5} for one piece).
template <class T>
std::vector<BasicTensor<T>> split(const BasicTensor<T>& a, const std::vector<int64_t>& sizes,
                                  int axis = 0);
/// torch.Tensor.expand: `sizes` may add leading axes; -1 keeps an existing axis' size, and only
/// size-1 axes take another size. Always a copy (eigrad has no strides), so writes to it do not
/// reach a; its gradient is sum_to_size.
template <class T>
BasicTensor<T> expand(const BasicTensor<T>& a, const std::vector<int64_t>& sizes);
/// torch.Tensor.repeat: tiles `a` repeats[i] times along axis i; more repeats than axes add
/// leading axes (a is read as [1, ..., 1, a's shape]). Fewer repeats than axes is an error.
template <class T>
BasicTensor<T> repeat(const BasicTensor<T>& a, const std::vector<int64_t>& repeats);
/// Reverses the order of the entries along each of `axes` (each at most once).
template <class T>
BasicTensor<T> flip(const BasicTensor<T>& a, const std::vector<int>& axes);
/// torch.roll: entry i along axes[k] moves to (i + shifts[k]) mod size, one shift per axis (an
/// axis may appear again: it rolls again); with no axes, one shift rolls the flattened tensor
/// and the result has a's shape.
template <class T>
BasicTensor<T> roll(const BasicTensor<T>& a, const std::vector<int64_t>& shifts,
                    const std::vector<int>& axes = {});
/// The lower (upper) triangle of the last two axes, batched over the others: entry [i, j] is kept
/// when j - i <= diagonal (>= diagonal for triu) and zero otherwise, as torch.tril/torch.triu.
template <class T>
BasicTensor<T> tril(const BasicTensor<T>& a, int64_t diagonal = 0);
template <class T>
BasicTensor<T> triu(const BasicTensor<T>& a, int64_t diagonal = 0);

}  // namespace eigrad
