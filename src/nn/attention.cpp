// nn::MultiheadAttention and nn::generate_square_subsequent_mask (PyTorch 1.13's
// F.multi_head_attention_forward, without kdim/vdim, bias_k/bias_v and add_zero_attn).
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/init.hpp"
#include "eigrad/nn/transformer.hpp"
#include "eigrad/ops.hpp"

namespace eigrad::nn {

template <class T>
BasicTensor<T> generate_square_subsequent_mask(int64_t size) {
  if (size < 0)
    throw Error("generate_square_subsequent_mask: expected a size >= 0, got " +
                std::to_string(size));
  auto m = BasicTensor<T>::zeros(Shape{size, size});
  T* p = m.mutable_data();
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = i + 1; j < size; ++j) p[i * size + j] = -std::numeric_limits<T>::infinity();
  return m;
}

namespace {

// The mask with another shape of the same number of elements (a bool mask shares its storage).
template <class T>
AttentionMask<T> reshaped(const AttentionMask<T>& m, const Shape& shape) {
  if (m.is_bool()) return AttentionMask<T>(BoolTensor::from_storage(m.masked().storage(), shape));
  return AttentionMask<T>(reshape(m.additive(), shape.vec()));
}

// The float form of a mask: -inf where a bool mask is true, 0 elsewhere.
template <class T>
BasicTensor<T> additive(const AttentionMask<T>& m) {
  if (!m.is_bool()) return m.additive();
  return masked_fill(BasicTensor<T>::zeros(m.shape()), m.masked(),
                     -std::numeric_limits<T>::infinity());
}

// Both masks in one, as PyTorch 1.13 merges attn_mask and key_padding_mask: a logical or of
// two bool masks, else the sum of their float forms.
template <class T>
AttentionMask<T> merge(const AttentionMask<T>& a, const AttentionMask<T>& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  if (a.is_bool() && b.is_bool()) return AttentionMask<T>(logical_or(a.masked(), b.masked()));
  return AttentionMask<T>(additive(a) + additive(b));
}

}  // namespace

template <class T>
BasicMultiheadAttention<T>::BasicMultiheadAttention(const MultiheadAttentionOptions& options,
                                                    Generator& gen)
    : options_(options) {
  const int64_t E = options.embed_dim(), H = options.num_heads();
  if (E < 1 || H < 1)
    throw Error("MultiheadAttention: expected positive embed_dim and num_heads, got embed_dim = " +
                std::to_string(E) + " and num_heads = " + std::to_string(H));
  if (E % H != 0)
    throw Error("MultiheadAttention: embed_dim = " + std::to_string(E) +
                " must be divisible by num_heads = " + std::to_string(H));
  if (!(options.dropout() >= 0 && options.dropout() <= 1))
    throw Error("MultiheadAttention: dropout must be in [0, 1], got " +
                std::to_string(options.dropout()));
  in_proj_weight_ = this->register_parameter("in_proj_weight", Tensor::empty(Shape{3 * E, E}));
  if (options.bias())
    in_proj_bias_ = this->register_parameter("in_proj_bias", Tensor::zeros(Shape{3 * E}));
  // PyTorch builds out_proj (drawing its weight and bias) before it resets in_proj_weight.
  out_proj_ = this->register_module("out_proj",
                                    std::make_shared<BasicLinear<T>>(E, E, gen, options.bias()));
  init::xavier_uniform_(in_proj_weight_, gen);
  if (options.bias()) init::zeros_(out_proj_->bias());
  gen_ = Generator(gen.randint(std::numeric_limits<uint64_t>::max()));
}

template <class T>
std::tuple<BasicTensor<T>, BasicTensor<T>> BasicMultiheadAttention<T>::forward(
    const Tensor& query, const Tensor& key, const Tensor& value, const Mask& key_padding_mask,
    bool need_weights, const Mask& attn_mask, bool average_attn_weights) {
  const int64_t E = options_.embed_dim(), H = options_.num_heads(), D = E / H;
  const bool bf = options_.batch_first();
  const Shape &qs = query.shape(), &ks = key.shape(), &vs = value.shape();
  const std::string shapes = "query " + qs.str() + ", key " + ks.str() + ", value " + vs.str();
  const std::string layout =
      bf ? "[N, L, E] (batch_first = true)" : "[L, N, E] (batch_first = false)";
  const int r = qs.rank();
  if (r != 2 && r != 3)
    throw Error("MultiheadAttention: expected a query " + layout + " or unbatched [L, E], got " +
                shapes);
  if (ks.rank() != r || vs.rank() != r)
    throw Error(
        "MultiheadAttention: query, key and value must all be batched (rank 3) or all "
        "unbatched (rank 2), got " +
        shapes);
  if (qs[r - 1] != E)
    throw Error("MultiheadAttention: the query has " + std::to_string(qs[r - 1]) +
                " features, expected embed_dim = " + std::to_string(E) + " (" + shapes +
                ", read as " + layout + ")");
  if (ks[r - 1] != E || vs[r - 1] != E)
    throw Error("MultiheadAttention: key and value must have embed_dim = " + std::to_string(E) +
                " features (kdim and vdim are not supported), got " + shapes);
  for (int i = 0; i < r - 1; ++i)
    if (ks[i] != vs[i])
      throw Error(
          "MultiheadAttention: key and value must have the same sequence length and "
          "batch size, got " +
          shapes);
  const bool batched = r == 3;
  const int batch_axis = bf ? 0 : 1, seq_axis = batched && bf ? 1 : 0;
  if (batched && qs[batch_axis] != ks[batch_axis])
    throw Error("MultiheadAttention: the query's batch size " + std::to_string(qs[batch_axis]) +
                " and the key's " + std::to_string(ks[batch_axis]) + " differ (" + shapes +
                ", read as " + layout + "; for inputs laid out the other way set batch_first = " +
                (bf ? "false" : "true") + ")");
  const int64_t N = batched ? qs[batch_axis] : 1, L = qs[seq_axis], S = ks[seq_axis];
  if (L == 0 || S == 0 || N == 0)
    throw Error("MultiheadAttention: empty sequence or batch (" + shapes + ", read as " + layout +
                "): expected L, S and N > 0");

  // Masks, checked against PyTorch 1.13's shapes and brought to broadcast to [N, H, L, S].
  Mask mask;
  if (attn_mask.defined()) {
    const Shape& m = attn_mask.shape();
    const Shape two{L, S}, three{batched ? N * H : H, L, S};
    if (m == two)
      mask = attn_mask;
    else if (m == three)
      mask = reshaped(attn_mask, Shape{N, H, L, S});
    else
      throw Error("MultiheadAttention: attn_mask " + attn_mask.str() +
                  " has the wrong shape: " + "expected [L, S] = " + two.str() + " or [" +
                  (batched ? "N * " : "") + "num_heads, L, S] = " + three.str() + " for " + shapes);
  }
  if (key_padding_mask.defined()) {
    const Shape want = batched ? Shape{N, S} : Shape{S};
    if (key_padding_mask.shape() != want)
      throw Error("MultiheadAttention: key_padding_mask " + key_padding_mask.str() +
                  " has the wrong shape: expected " + (batched ? "[N, S] = " : "[S] = ") +
                  want.str() + " for " + shapes);
    mask = merge(mask, reshaped(key_padding_mask, Shape{N, 1, 1, S}));
  }

  const Tensor q_in = batched ? query : unsqueeze(query, batch_axis);
  const Tensor k_in = batched ? key : unsqueeze(key, batch_axis);
  const Tensor v_in = batched ? value : unsqueeze(value, batch_axis);
  // [A, B, E] -> [N, H, len, D], where [A, B] is [N, len] or [len, N].
  const auto heads = [&](const Tensor& x, int64_t len) {
    return bf ? permute(reshape(x, {N, len, H, D}), {0, 2, 1, 3})
              : permute(reshape(x, {len, N, H, D}), {1, 2, 0, 3});
  };
  // Three products with row blocks of in_proj_weight, also for self-attention: one product with
  // the packed weight would need a split into q, k and v, whose copies (and zero-padded gradients)
  // cost more than the three products save (measured: about 20% of an attention step).
  const auto rows = [&](const Tensor& t, int64_t i) {
    return t.defined() ? narrow(t, 0, i * E, E) : Tensor();
  };
  const Tensor q = heads(linear(q_in, rows(in_proj_weight_, 0), rows(in_proj_bias_, 0)), L);
  const Tensor k = heads(linear(k_in, rows(in_proj_weight_, 1), rows(in_proj_bias_, 1)), S);
  const Tensor v = heads(linear(v_in, rows(in_proj_weight_, 2), rows(in_proj_bias_, 2)), S);
  const double p = this->is_training() ? options_.dropout() : 0.0;
  auto [attended, weights] =
      scaled_dot_product_attention_with_weights(q, k, v, mask, p, false, &gen_);
  // [N, H, L, D] -> [N, L, E] or [L, N, E]
  Tensor out = bf ? reshape(permute(attended, {0, 2, 1, 3}), {N, L, E})
                  : reshape(permute(attended, {2, 0, 1, 3}), {L, N, E});
  out = out_proj_->forward(out);
  if (!batched) out = squeeze(out, batch_axis);
  Tensor w;
  if (need_weights) {
    w = average_attn_weights ? mean(weights, 1) : weights;
    if (!batched) w = squeeze(w, 0);
  }
  return {out, w};
}

template <class T>
BasicTensor<T> BasicMultiheadAttention<T>::forward(const Tensor& x) {
  return std::get<0>(forward(x, x, x, Mask(), false));
}

template <class T>
std::string BasicMultiheadAttention<T>::extra_repr() const {
  std::ostringstream os;
  os << "embed_dim=" << options_.embed_dim() << ", num_heads=" << options_.num_heads()
     << ", dropout=" << options_.dropout() << ", bias=" << (options_.bias() ? "true" : "false")
     << ", batch_first=" << (options_.batch_first() ? "true" : "false");
  return os.str();
}

// The copy's initial values are overwritten by to_double(); its generator continues this one's.
template <class T>
std::shared_ptr<BasicModule<double>> BasicMultiheadAttention<T>::make_double() const {
  Generator gen;
  auto copy = std::make_shared<BasicMultiheadAttention<double>>(options_, gen);
  copy->generator()->set_state(gen_.state());
  return copy;
}

template class BasicMultiheadAttention<float>;
template class BasicMultiheadAttention<double>;
template BasicTensor<float> generate_square_subsequent_mask<float>(int64_t);
template BasicTensor<double> generate_square_subsequent_mask<double>(int64_t);

}  // namespace eigrad::nn
