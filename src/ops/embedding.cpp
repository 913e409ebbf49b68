#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/indexing.hpp"
#include "eigrad/ops/sequence.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// "[1, 2]": the position of flat element f in a tensor of shape s (row-major).
std::string position(const Shape& s, int64_t f) {
  std::vector<int64_t> at(static_cast<size_t>(s.rank()));
  for (int d = s.rank() - 1; d >= 0; --d) {
    at[static_cast<size_t>(d)] = f % s[d];
    f /= s[d];
  }
  std::string out = "[";
  for (size_t d = 0; d < at.size(); ++d) out += (d ? ", " : "") + std::to_string(at[d]);
  return out + "]";
}

}  // namespace

template <class T>
BasicTensor<T> embedding(const LongTensor& indices, const BasicTensor<T>& weight,
                         std::optional<int64_t> padding_idx) {
  if (weight.rank() != 2)
    throw Error("embedding: expected a 2-d weight [num_embeddings, embedding_dim], got " +
                weight.shape().str());
  const int64_t v = weight.shape()[0], d = weight.shape()[1];
  if (padding_idx) {
    if (*padding_idx < -v || *padding_idx >= v)
      throw Error("embedding: padding_idx " + std::to_string(*padding_idx) +
                  " is out of range for num_embeddings " + std::to_string(v) + " (expected " +
                  std::to_string(-v) + " to " + std::to_string(v - 1) + ")");
    if (*padding_idx < 0) *padding_idx += v;
  }
  if (indices.rank() + 1 > Shape::kMaxRank)
    throw Error("embedding: indices of shape " + indices.shape().str() +
                " would give a result of rank " + std::to_string(indices.rank() + 1) +
                "; the maximum is " + std::to_string(Shape::kMaxRank));
  const int64_t m = indices.numel();
  // A copy of the indices, shared by the backward passes (a later in-place change of the
  // caller's tensor cannot reach them).
  auto idx = std::make_shared<const std::vector<int64_t>>(indices.data(), indices.data() + m);
  for (int64_t f = 0; f < m; ++f) {
    const int64_t i = (*idx)[static_cast<size_t>(f)];
    if (i < 0 || i >= v)
      throw Error("embedding: index " + std::to_string(i) + " at position " +
                  position(indices.shape(), f) + " is out of range for num_embeddings " +
                  std::to_string(v) + " (weight " + weight.shape().str() + ")");
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(d);
  auto out = BasicTensor<T>::empty(out_shape);
  if (m * d > 0) {
    const T* w = weight.data();
    T* y = out.mutable_data();
    parallel_for(
        m,
        [&](int64_t begin, int64_t end) {
          for (int64_t f = begin; f < end; ++f)
            Eigen::Map<Array<T>>(y + f * d, d) =
                Eigen::Map<const Array<T>>(w + (*idx)[static_cast<size_t>(f)] * d, d);
        },
        m * d);
  }
  if (!needs_grad(weight)) return out;

  const int64_t pad = padding_idx.value_or(-1);  // -1: no padding row
  record(
      "embedding", out, {&weight}, Saves(),
      [idx, m, v, d, pad](const Array<T>& g, GradSink<T>& s) {
        // Sequential: repeated indices add into the same row.
        Array<T> gw = Array<T>::Zero(v * d);
        for (int64_t f = 0; f < m; ++f) {
          const int64_t i = (*idx)[static_cast<size_t>(f)];
          if (i != pad) gw.segment(i * d, d) += g.segment(f * d, d);
        }
        s.add(0, std::move(gw));
      },
      // In ops: scatter_add of the rows (those of the padding row zeroed), linear in g, so the
      // gradient of the gradient is an embedding of its own.
      [idx, m, v, d, pad](GraphContext<T>&, const BasicTensor<T>& g) {
        BasicTensor<T> rows = reshape(g, {m, d});
        std::vector<int64_t> where(static_cast<size_t>(m * d));
        std::vector<T> keep(static_cast<size_t>(m), T(1));
        for (int64_t f = 0; f < m; ++f) {
          const int64_t i = (*idx)[static_cast<size_t>(f)];
          for (int64_t j = 0; j < d; ++j) where[static_cast<size_t>(f * d + j)] = i;
          if (i == pad) keep[static_cast<size_t>(f)] = T(0);
        }
        if (pad >= 0) rows = rows * BasicTensor<T>::from(std::move(keep), Shape{m, 1});
        return std::vector<BasicTensor<T>>{
            scatter_add(BasicTensor<T>::zeros(Shape{v, d}), 0,
                        LongTensor::from(std::move(where), Shape{m, d}), rows)};
      });
  return out;
}

template <class T>
BasicTensor<T> pad_sequence(const std::vector<BasicTensor<T>>& sequences, bool batch_first,
                            double padding_value) {
  if (sequences.empty())
    throw Error("pad_sequence: expected at least one sequence [L, *], got an empty list");
  const Shape& first = sequences[0].shape();
  int64_t longest = 0;
  for (size_t k = 0; k < sequences.size(); ++k) {
    const Shape& s = sequences[k].shape();
    if (s.rank() == 0)
      throw Error("pad_sequence: sequence " + std::to_string(k) +
                  " is 0-d; expected a tensor [L, *] with a sequence axis");
    bool same = s.rank() == first.rank();
    for (int i = 1; same && i < s.rank(); ++i) same = s[i] == first[i];
    if (!same)
      throw Error("pad_sequence: sequence " + std::to_string(k) + " of shape " + s.str() +
                  " and sequence 0 of shape " + first.str() +
                  " differ after the first axis; expected [L_i, *] with the same trailing sizes");
    longest = std::max(longest, s[0]);
  }
  if (first.rank() + 1 > Shape::kMaxRank)
    throw Error("pad_sequence: sequences of shape " + first.str() +
                " would give a result of rank " + std::to_string(first.rank() + 1) +
                "; the maximum is " + std::to_string(Shape::kMaxRank));
  const int64_t count = static_cast<int64_t>(sequences.size());
  if constexpr (is_floating_dtype_v<T>) {
    // pad each to L_max along axis 0, then stack: both differentiable to any order.
    std::vector<BasicTensor<T>> padded;
    padded.reserve(sequences.size());
    for (const BasicTensor<T>& s : sequences) {
      if (s.shape()[0] == longest) {
        padded.push_back(s);
        continue;
      }
      std::vector<int64_t> amounts(static_cast<size_t>(2 * s.rank()), 0);
      amounts.back() = longest - s.shape()[0];  // after axis 0 (pairs start from the last axis)
      padded.push_back(pad(s, amounts, static_cast<T>(padding_value)));
    }
    (void)count;
    return stack(padded, batch_first ? 0 : 1);
  } else {
    // int64 token ids: a copy, outside the graph.
    int64_t row = 1;  // elements per step of a sequence
    for (int i = 1; i < first.rank(); ++i) row *= first[i];
    std::vector<int64_t> dims = first.vec();
    dims[0] = longest;
    dims.insert(dims.begin() + (batch_first ? 0 : 1), count);
    auto out = BasicTensor<T>::full(Shape(dims), static_cast<T>(padding_value));
    T* o = out.mutable_data();
    for (int64_t b = 0; b < count; ++b) {
      const BasicTensor<T>& s = sequences[static_cast<size_t>(b)];
      const T* src = s.data();
      for (int64_t t = 0; t < s.shape()[0]; ++t) {
        const int64_t at = batch_first ? b * longest + t : t * count + b;
        std::copy(src + t * row, src + (t + 1) * row, o + at * row);
      }
    }
    return out;
  }
}

#define EIGRAD_INSTANTIATE_EMBEDDING(T)                                       \
  template BasicTensor<T> embedding(const LongTensor&, const BasicTensor<T>&, \
                                    std::optional<int64_t>);                  \
  template BasicTensor<T> pad_sequence(const std::vector<BasicTensor<T>>&, bool, double);

EIGRAD_INSTANTIATE_EMBEDDING(float)
EIGRAD_INSTANTIATE_EMBEDDING(double)
template BasicTensor<int64_t> pad_sequence(const std::vector<BasicTensor<int64_t>>&, bool, double);

}  // namespace eigrad
