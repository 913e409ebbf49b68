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
#include "eigrad/nn/normalization.hpp"
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

/// TransformerEncoderLayerOptions(d_model, nhead).dim_feedforward(2048).dropout(0.1)
/// .activation("relu").layer_norm_eps(1e-5).batch_first(false).norm_first(false). The activation
/// is any elementwise or along-axis activation catalogue name ("relu", "gelu", "gelu_tanh", ...),
/// with its default parameters.
class TransformerEncoderLayerOptions {
 public:
  TransformerEncoderLayerOptions(int64_t d_model, int64_t nhead)
      : d_model_(d_model), nhead_(nhead) {}
  TransformerEncoderLayerOptions& dim_feedforward(int64_t v) {
    dim_feedforward_ = v;
    return *this;
  }
  TransformerEncoderLayerOptions& dropout(double v) {
    dropout_ = v;
    return *this;
  }
  TransformerEncoderLayerOptions& activation(std::string v) {
    activation_ = std::move(v);
    return *this;
  }
  TransformerEncoderLayerOptions& layer_norm_eps(double v) {
    layer_norm_eps_ = v;
    return *this;
  }
  TransformerEncoderLayerOptions& batch_first(bool v) {
    batch_first_ = v;
    return *this;
  }
  TransformerEncoderLayerOptions& norm_first(bool v) {
    norm_first_ = v;
    return *this;
  }
  int64_t d_model() const { return d_model_; }
  int64_t nhead() const { return nhead_; }
  int64_t dim_feedforward() const { return dim_feedforward_; }
  double dropout() const { return dropout_; }
  const std::string& activation() const { return activation_; }
  double layer_norm_eps() const { return layer_norm_eps_; }
  bool batch_first() const { return batch_first_; }
  bool norm_first() const { return norm_first_; }

 private:
  int64_t d_model_, nhead_;
  int64_t dim_feedforward_ = 2048;
  double dropout_ = 0.1;
  std::string activation_ = "relu";
  double layer_norm_eps_ = 1e-5;
  bool batch_first_ = false;
  bool norm_first_ = false;
};

/// PyTorch 1.13's nn.TransformerEncoderLayer: children self_attn, linear1, dropout, linear2,
/// norm1, norm2, dropout1, dropout2 (the activation is a function, not a child, as in PyTorch).
/// Post-norm: x = norm1(x + sa(x)); x = norm2(x + ff(x)). norm_first: x = x + sa(norm1(x));
/// x = x + ff(norm2(x)). The three Dropout children and self_attn's attention dropout have
/// generators seeded from `gen`.
template <class T>
class BasicTransformerEncoderLayer : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  using Mask = AttentionMask<T>;
  BasicTransformerEncoderLayer(const TransformerEncoderLayerOptions& options, Generator& gen);
  BasicTransformerEncoderLayer(int64_t d_model, int64_t nhead, Generator& gen)
      : BasicTransformerEncoderLayer(TransformerEncoderLayerOptions(d_model, nhead), gen) {}

  /// src: [S, N, E] ([N, S, E] with batch_first) or [S, E]; src_mask and src_key_padding_mask
  /// as MultiheadAttention's attn_mask and key_padding_mask.
  Tensor forward(const Tensor& src, const Mask& src_mask, const Mask& src_key_padding_mask = {});
  Tensor forward(const Tensor& src) override { return forward(src, Mask()); }

  std::string type_name() const override { return "TransformerEncoderLayer"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;

  const TransformerEncoderLayerOptions& options() const { return options_; }
  const std::shared_ptr<BasicMultiheadAttention<T>>& self_attn() const { return self_attn_; }

 private:
  Tensor self_attention_block(const Tensor& x, const Mask& mask, const Mask& key_padding_mask);
  Tensor feed_forward_block(const Tensor& x);

  TransformerEncoderLayerOptions options_;
  const ActivationInfo* activation_;
  std::shared_ptr<BasicMultiheadAttention<T>> self_attn_;
  std::shared_ptr<BasicLinear<T>> linear1_, linear2_;
  std::shared_ptr<BasicDropout<T>> dropout_, dropout1_, dropout2_;
  std::shared_ptr<BasicLayerNorm<T>> norm1_, norm2_;
};

/// PyTorch 1.13's nn.TransformerEncoder: num_layers deep copies of `layer` (all with the layer's
/// weights, as copy.deepcopy), children layers.0, layers.1, ..., and an optional final `norm`.
/// The copies' dropout generators are NOT copies of the layer's: copy i is seeded from the
/// layer's generator states and i, so the layers draw different dropout masks (and two encoders
/// built from the same layer draw the same ones).
template <class T>
class BasicTransformerEncoder : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  using Mask = AttentionMask<T>;
  BasicTransformerEncoder(const BasicTransformerEncoderLayer<T>& layer, int64_t num_layers,
                          std::shared_ptr<BasicModule<T>> norm = nullptr);

  Tensor forward(const Tensor& src, const Mask& mask, const Mask& src_key_padding_mask = {});
  Tensor forward(const Tensor& src) override { return forward(src, Mask()); }

  std::string type_name() const override { return "TransformerEncoder"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;

  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  const std::shared_ptr<BasicTransformerEncoderLayer<T>>& layer(size_t i) const {
    return layers_.at(i);
  }

 private:
  std::vector<std::shared_ptr<BasicTransformerEncoderLayer<T>>> layers_;
  std::shared_ptr<BasicModule<T>> norm_;
};

using MultiheadAttention = BasicMultiheadAttention<float>;
using TransformerEncoderLayer = BasicTransformerEncoderLayer<float>;
using TransformerEncoder = BasicTransformerEncoder<float>;

extern template class BasicMultiheadAttention<float>;
extern template class BasicMultiheadAttention<double>;
extern template class BasicTransformerEncoderLayer<float>;
extern template class BasicTransformerEncoderLayer<double>;
extern template class BasicTransformerEncoder<float>;
extern template class BasicTransformerEncoder<double>;

}  // namespace eigrad::nn
