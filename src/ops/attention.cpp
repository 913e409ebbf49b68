#include "eigrad/ops/attention.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/nn/functional.hpp"
#include "eigrad/ops.hpp"
#include "matmul_transposed.hpp"

namespace eigrad {

namespace {

// [rows, cols], true where j > i.
BoolTensor upper_triangle(int64_t rows, int64_t cols) {
  BoolTensor m = BoolTensor::empty(Shape{rows, cols});
  bool* p = m.mutable_data();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) p[i * cols + j] = j > i;
  return m;
}

// True when `mask` broadcasts to `target` without changing it (each axis 1 or equal, from the
// right, and no more axes).
bool broadcasts_to(const Shape& mask, const Shape& target) {
  if (mask.rank() > target.rank()) return false;
  for (int i = 1; i <= mask.rank(); ++i) {
    const int64_t m = mask[mask.rank() - i], t = target[target.rank() - i];
    if (m != 1 && m != t) return false;
  }
  return true;
}

}  // namespace

BoolTensor causal_mask(int64_t size) {
  if (size < 0) throw Error("causal_mask: expected a size >= 0, got " + std::to_string(size));
  return upper_triangle(size, size);
}

template <class T>
std::pair<BasicTensor<T>, BasicTensor<T>> scaled_dot_product_attention_with_weights(
    const BasicTensor<T>& query, const BasicTensor<T>& key, const BasicTensor<T>& value,
    const NonDeduced<AttentionMask<T>>& attn_mask, double dropout_p, bool is_causal,
    Generator* gen) {
  const char* op = "scaled_dot_product_attention";
  const Shape &qs = query.shape(), &ks = key.shape(), &vs = value.shape();
  const std::string shapes = "query " + qs.str() + ", key " + ks.str() + ", value " + vs.str();
  const int r = qs.rank();
  if (r < 2 || ks.rank() != r || vs.rank() != r)
    throw Error(std::string(op) + ": expected query [..., L, E], key [..., S, E] and value " +
                "[..., S, Ev] of one rank >= 2, got " + shapes);
  Shape lead;
  for (int i = 0; i < r - 2; ++i) {
    if (ks[i] != qs[i] || vs[i] != qs[i])
      throw Error(std::string(op) + ": the leading (batch) axes of query, key and value must " +
                  "be equal, got " + shapes);
    lead.push_back(qs[i]);
  }
  const int64_t L = qs[r - 2], E = qs[r - 1], S = ks[r - 2], Ev = vs[r - 1];
  if (ks[r - 1] != E)
    throw Error(std::string(op) + ": query and key must have the same embedding size E, got " +
                shapes);
  if (vs[r - 2] != S)
    throw Error(std::string(op) + ": key and value must have the same sequence length S, got " +
                shapes);
  if (L == 0 || S == 0 || E == 0)
    throw Error(std::string(op) + ": empty sequence or embedding: expected L, S and E > 0, got " +
                shapes);
  if (!(dropout_p >= 0 && dropout_p <= 1))
    throw Error(std::string(op) + ": dropout_p must be in [0, 1], got " +
                std::to_string(dropout_p));
  if (dropout_p > 0 && gen == nullptr)
    throw Error(std::string(op) + ": dropout_p = " + std::to_string(dropout_p) +
                " needs a generator (gen is null)");
  if (attn_mask.defined() && is_causal)
    throw Error(std::string(op) + ": give either attn_mask or is_causal, not both");
  Shape scores_shape = lead;
  scores_shape.push_back(L);
  scores_shape.push_back(S);
  if (attn_mask.defined() && !broadcasts_to(attn_mask.shape(), scores_shape))
    throw Error(std::string(op) + ": attn_mask " + attn_mask.str() +
                " does not broadcast to the scores' shape " + scores_shape.str() +
                " ([..., L, S]) for " + shapes);

  const int64_t batches = lead.numel();
  const auto q = reshape(query, {batches, L, E});
  const auto k = reshape(key, {batches, S, E});
  const auto v = reshape(value, {batches, S, Ev});
  // q is scaled before the product (L E multiplications rather than L S), as PyTorch 1.13 does.
  const T scale = T(1) / std::sqrt(static_cast<T>(E));
  auto scores = detail::matmul_transposed(q * scale, k, false, true);  // [B, L, S]
  constexpr T minus_inf = -std::numeric_limits<T>::infinity();
  if (attn_mask.defined()) {
    scores = reshape(scores, scores_shape.vec());
    scores = attn_mask.is_bool() ? masked_fill(scores, attn_mask.masked(), minus_inf)
                                 : scores + attn_mask.additive();
    scores = reshape(scores, {batches, L, S});
  } else if (is_causal) {
    scores = masked_fill(scores, upper_triangle(L, S), minus_inf);
  }
  const auto weights = softmax(scores, -1);
  const auto dropped = dropout_p > 0 ? nn::dropout(weights, dropout_p, true, *gen) : weights;
  Shape out_shape = lead;
  out_shape.push_back(L);
  out_shape.push_back(Ev);
  return {reshape(matmul(dropped, v), out_shape.vec()), reshape(dropped, scores_shape.vec())};
}

template <class T>
BasicTensor<T> scaled_dot_product_attention(const BasicTensor<T>& query, const BasicTensor<T>& key,
                                            const BasicTensor<T>& value,
                                            const NonDeduced<AttentionMask<T>>& attn_mask,
                                            double dropout_p, bool is_causal, Generator* gen) {
  return scaled_dot_product_attention_with_weights(query, key, value, attn_mask, dropout_p,
                                                   is_causal, gen)
      .first;
}

#define EIGRAD_INSTANTIATE_ATTENTION(T)                                                         \
  template BasicTensor<T> scaled_dot_product_attention(                                         \
      const BasicTensor<T>&, const BasicTensor<T>&, const BasicTensor<T>&,                      \
      const NonDeduced<AttentionMask<T>>&, double, bool, Generator*);                           \
  template std::pair<BasicTensor<T>, BasicTensor<T>> scaled_dot_product_attention_with_weights( \
      const BasicTensor<T>&, const BasicTensor<T>&, const BasicTensor<T>&,                      \
      const NonDeduced<AttentionMask<T>>&, double, bool, Generator*);

EIGRAD_INSTANTIATE_ATTENTION(float)
EIGRAD_INSTANTIATE_ATTENTION(double)

}  // namespace eigrad
