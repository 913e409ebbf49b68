#pragma once
// Attention and the transformer encoder, as PyTorch 1.13's nn.MultiheadAttention,
// nn.TransformerEncoderLayer and nn.TransformerEncoder: the same argument names, defaults,
// initialisation and parameter names, so that state dicts load into the PyTorch modules
// (strict) and back. The modules only call ops (eigrad/ops/attention.hpp, nn::linear,
// nn::dropout, layer_norm); they implement no backward passes.
//
// Masks: a bool mask is true where attention is NOT allowed (PyTorch 1.13's convention; PyTorch
// 2's F.scaled_dot_product_attention uses the opposite); a float mask is added to the scores.
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/nn/module.hpp"
#include "eigrad/ops/attention.hpp"
#include "eigrad/random.hpp"

namespace eigrad::nn {

/// [size, size] float mask for attn_mask: -inf above the diagonal, 0 elsewhere, as
/// nn.Transformer.generate_square_subsequent_mask (causal_mask(size) is its bool form).
template <class T = float>
BasicTensor<T> generate_square_subsequent_mask(int64_t size);

/// MultiheadAttentionOptions(embed_dim, num_heads).dropout(0.0).bias(true).batch_first(false).
/// PyTorch's kdim and vdim (keys and values of other sizes), add_bias_kv and add_zero_attn are not
/// supported: key and value have embed_dim features.
class MultiheadAttentionOptions {
 public:
  MultiheadAttentionOptions(int64_t embed_dim, int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads) {}
  MultiheadAttentionOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  MultiheadAttentionOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  MultiheadAttentionOptions& batch_first(bool on) {
    batch_first_ = on;
    return *this;
  }
  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return num_heads_; }
  double dropout() const { return dropout_; }
  bool bias() const { return bias_; }
  bool batch_first() const { return batch_first_; }

 private:
  int64_t embed_dim_, num_heads_;
  double dropout_ = 0.0;
  bool bias_ = true;
  bool batch_first_ = false;
};

/// PyTorch 1.13's nn.MultiheadAttention. Parameters: in_proj_weight [3E, E] (xavier_uniform_),
/// in_proj_bias [3E] (zeros), and the child out_proj, a Linear(E, E) (kaiming-uniform weight as
/// Linear's, bias zeroed). Inputs are [L, N, E] ([N, L, E] with batch_first) or unbatched [L, E].
/// Attention dropout draws from the module's own generator, seeded from `gen` at construction.
template <class T>
class BasicMultiheadAttention : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  using Mask = AttentionMask<T>;
  BasicMultiheadAttention(const MultiheadAttentionOptions& options, Generator& gen);
  BasicMultiheadAttention(int64_t embed_dim, int64_t num_heads, Generator& gen)
      : BasicMultiheadAttention(MultiheadAttentionOptions(embed_dim, num_heads), gen) {}

  /// (attn_output, attn_weights): the output has the query's shape; the weights are [N, L, S]
  /// averaged over the heads, [N, num_heads, L, S] without averaging ([L, S] / [num_heads, L, S]
  /// unbatched), undefined when !need_weights. key_padding_mask: [N, S] ([S] unbatched), true
  /// (bool) = ignore that key, or float (added). attn_mask: [L, S] or [N * num_heads, L, S]
  /// ([num_heads, L, S] unbatched), bool (true = masked) or float (added).
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Mask& key_padding_mask = {}, bool need_weights = true,
                                     const Mask& attn_mask = {}, bool average_attn_weights = true);
  /// Self-attention: forward(x, x, x) without weights; returns the output.
  Tensor forward(const Tensor& x) override;

  std::string type_name() const override { return "MultiheadAttention"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;
  Generator* generator() override { return &gen_; }

  const MultiheadAttentionOptions& options() const { return options_; }
  const Tensor& in_proj_weight() const { return in_proj_weight_; }
  const Tensor& in_proj_bias() const { return in_proj_bias_; }  ///< undefined without bias
  const std::shared_ptr<BasicLinear<T>>& out_proj() const { return out_proj_; }

 private:
  MultiheadAttentionOptions options_;
  Tensor in_proj_weight_, in_proj_bias_;
  std::shared_ptr<BasicLinear<T>> out_proj_;
  Generator gen_;
};

using MultiheadAttention = BasicMultiheadAttention<float>;

extern template class BasicMultiheadAttention<float>;
extern template class BasicMultiheadAttention<double>;

}  // namespace eigrad::nn
