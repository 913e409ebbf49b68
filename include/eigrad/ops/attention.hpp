#pragma once
// Scaled dot-product attention (src/ops/attention.cpp), built from differentiable ops (a batched
// product, masked_fill or add, softmax, dropout, a batched product), so it differentiates to any
// order.
//
// MASK CONVENTION: a bool mask is true where attention is NOT allowed (masked out), as in
// PyTorch 1.13's nn.MultiheadAttention and nn.Transformer. PyTorch 2's
// F.scaled_dot_product_attention uses the opposite (true = may attend); eigrad does not.
#include <cstdint>
#include <string>
#include <utility>

#include "eigrad/autograd.hpp"
#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// An optional attention mask of either kind: a BoolTensor (true = masked, the score becomes
/// -inf) or a float tensor of the scores' dtype (added to the scores). Both convert implicitly,
/// and the default is no mask, so one parameter takes either: sdpa(q, k, v, bool_mask),
/// sdpa(q, k, v, float_mask), sdpa(q, k, v).
template <class T>
class AttentionMask {
 public:
  AttentionMask() = default;
  AttentionMask(BasicTensor<T> additive) : additive_(std::move(additive)) {}
  AttentionMask(BoolTensor masked) : masked_(std::move(masked)) {}

  bool defined() const { return additive_.defined() || masked_.defined(); }
  bool is_bool() const { return masked_.defined(); }
  const BoolTensor& masked() const { return masked_; }          ///< the bool mask (or undefined)
  const BasicTensor<T>& additive() const { return additive_; }  ///< the float mask (or undefined)
  /// The mask's shape (an empty shape when undefined).
  Shape shape() const {
    return is_bool() ? masked_.shape() : additive_.defined() ? additive_.shape() : Shape();
  }
  /// "bool [2, 3]", "float32 [2, 3]" or "none", for messages.
  std::string str() const {
    if (!defined()) return "none";
    return std::string(is_bool() ? "bool " : BasicTensor<T>::dtype()) + (is_bool() ? "" : " ") +
           shape().str();
  }

 private:
  BasicTensor<T> additive_;
  BoolTensor masked_;
};

namespace detail {
template <class T>
struct NoDeduce {
  using type = T;
};
}  // namespace detail
/// A parameter type that does not take part in template argument deduction (C++20's
/// std::type_identity_t), so that a BoolTensor converts to AttentionMask<T> with T taken from q.
template <class T>
using NonDeduced = typename detail::NoDeduce<T>::type;

/// softmax(q k^T / sqrt(E) + mask) v, as PyTorch's scaled dot-product attention:
/// q [..., L, E], k [..., S, E], v [..., S, Ev] -> [..., L, Ev]; the leading axes of q, k and v
/// must be equal. `attn_mask` broadcasts to [..., L, S]: a bool mask is true where masked
/// (PyTorch 1.13 nn.MultiheadAttention's convention), a float mask is added. is_causal masks
/// key j for query i where j > i (not together with attn_mask, as in PyTorch 2). dropout_p > 0
/// drops attention weights (after the softmax) with `gen`, which is then required. A row whose
/// keys are all masked is NaN, as in PyTorch 1.13 (no error). L, S and E must be positive.
template <class T>
BasicTensor<T> scaled_dot_product_attention(const BasicTensor<T>& query, const BasicTensor<T>& key,
                                            const BasicTensor<T>& value,
                                            const NonDeduced<AttentionMask<T>>& attn_mask = {},
                                            double dropout_p = 0.0, bool is_causal = false,
                                            Generator* gen = nullptr);

/// The same, also returning the attention weights softmax(q k^T / sqrt(E) + mask) [..., L, S]
/// after dropout (the weights that multiply v), as PyTorch 1.13's nn.MultiheadAttention returns
/// them.
template <class T>
std::pair<BasicTensor<T>, BasicTensor<T>> scaled_dot_product_attention_with_weights(
    const BasicTensor<T>& query, const BasicTensor<T>& key, const BasicTensor<T>& value,
    const NonDeduced<AttentionMask<T>>& attn_mask = {}, double dropout_p = 0.0,
    bool is_causal = false, Generator* gen = nullptr);

/// [size, size], true above the diagonal (j > i): the bool form of
/// nn::generate_square_subsequent_mask, for attn_mask.
BoolTensor causal_mask(int64_t size);

}  // namespace eigrad
