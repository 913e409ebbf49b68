#pragma once
// Indexing, gathering, scattering and sorting (src/ops/indexing.cpp), with PyTorch 1.13's
// semantics. Every result is a new tensor (eigrad has no strided views). The differentiable ones
// are differentiable to any order: each is built on a gather by flat offsets whose adjoint is a
// scatter-add by the same offsets, and the other way round.
//
//   using namespace eigrad::indexing;
//   x.index({0, Slice(1, None, 2), Ellipsis, None});   // x[0, 1::2, ..., None]
//   x.index({mask});                                     // x[mask], mask a BoolTensor
//   x.index({Slice(), idx});                             // x[:, idx], idx a LongTensor
//   x.index_put_({Slice(), 0}, 1.0f);                    // x[:, 0] = 1
//   x[2];                                                // x.index({2})
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

namespace indexing {

/// `None` as an index adds an axis of size 1; as a Slice bound it means "to the end".
inline constexpr std::nullopt_t None = std::nullopt;

struct EllipsisIndexType {};
/// As many full slices as the other indices leave axes.
inline constexpr EllipsisIndexType Ellipsis{};

/// start:stop:step with Python's rules: negative bounds count from the end, out-of-range bounds
/// are clamped, an omitted bound means the whole axis. The step must be positive (as in PyTorch).
class Slice {
 public:
  Slice(std::optional<int64_t> start = std::nullopt, std::optional<int64_t> stop = std::nullopt,
        std::optional<int64_t> step = std::nullopt);
  std::optional<int64_t> start() const { return start_; }
  std::optional<int64_t> stop() const { return stop_; }
  int64_t step() const { return step_; }

 private:
  std::optional<int64_t> start_, stop_;
  int64_t step_;
};

/// One entry of an index list: an integer, a Slice, Ellipsis, None, a bool mask or int64 indices.
class TensorIndex {
 public:
  enum class Kind { Integer, Slice, Ellipsis, None, Bool, Long };
  TensorIndex(int i) : kind_(Kind::Integer), integer_(i) {}
  TensorIndex(int64_t i) : kind_(Kind::Integer), integer_(i) {}
  TensorIndex(std::nullopt_t) : kind_(Kind::None) {}
  TensorIndex(EllipsisIndexType) : kind_(Kind::Ellipsis) {}
  TensorIndex(Slice s) : kind_(Kind::Slice), slice_(s) {}
  TensorIndex(BoolTensor mask) : kind_(Kind::Bool), mask_(std::move(mask)) {}
  TensorIndex(LongTensor indices) : kind_(Kind::Long), indices_(std::move(indices)) {}

  Kind kind() const { return kind_; }
  int64_t integer() const { return integer_; }
  const Slice& slice() const { return slice_; }
  const BoolTensor& mask() const { return mask_; }
  const LongTensor& indices() const { return indices_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  Slice slice_;
  BoolTensor mask_;
  LongTensor indices_;
};

}  // namespace indexing

// ---- masks ----
/// The elements of `a` where `mask` is true (the two broadcast together), as a rank-1 tensor in
/// row-major order. Differentiable in a.
template <class T>
BasicTensor<T> masked_select(const BasicTensor<T>& a, const BoolTensor& mask);
/// `a` with `value` where `mask` is true (mask broadcasts to a's shape). Differentiable in a (and
/// in a 0-d value tensor).
template <class T>
BasicTensor<T> masked_fill(const BasicTensor<T>& a, const BoolTensor& mask, Scalar<T> value);
template <class T>
BasicTensor<T> masked_fill(const BasicTensor<T>& a, const BoolTensor& mask,
                           const BasicTensor<T>& value);
/// The indices of the true (non-zero) elements, [count, rank] (torch.nonzero).
template <class T>
LongTensor nonzero(const BasicTensor<T>& a);

// ---- gather and scatter ----
/// out[i][j][k] = a[index[i][j][k]][j][k] for axis 0 (and likewise for the others): index has a's
/// rank and is no larger than a along the other axes; out has index's shape. Differentiable in a.
template <class T>
BasicTensor<T> gather(const BasicTensor<T>& a, int axis, const LongTensor& index);
/// a with src's entries added at the positions index names along `axis` (out[index[i][j][k]][j][k]
/// += src[i][j][k] for axis 0); index no larger than src, and than a on the other axes.
/// Differentiable in a and src.
template <class T>
BasicTensor<T> scatter_add(const BasicTensor<T>& a, int axis, const LongTensor& index,
                           const BasicTensor<T>& src);

// ---- sorting ----
/// The k largest (smallest) entries along an axis and their indices; sorted from the largest
/// (smallest) down unless sorted is false (then in index order). NaN counts as the largest.
/// The values are differentiable (a gather by the indices).
template <class T>
std::pair<BasicTensor<T>, LongTensor> topk(const BasicTensor<T>& a, int64_t k, int axis = -1,
                                           bool largest = true, bool sorted = true);
/// Sorted along an axis (stable: equal entries keep their order; NaN last ascending, first
/// descending, as in PyTorch), with the permutation as int64 indices.
template <class T>
std::pair<BasicTensor<T>, LongTensor> sort(const BasicTensor<T>& a, int axis = -1,
                                           bool descending = false);
template <class T>
LongTensor argsort(const BasicTensor<T>& a, int axis = -1, bool descending = false);

}  // namespace eigrad
