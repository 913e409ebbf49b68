// nn::TransformerEncoderLayer and nn::TransformerEncoder, as PyTorch 1.13's (without the
// inference fast path and nested tensors, which compute the same values).
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "eigrad/nn/sequential.hpp"
#include "eigrad/nn/transformer.hpp"
#include "eigrad/ops.hpp"

namespace eigrad::nn {

namespace {

uint64_t draw_seed(Generator& gen) {
  return gen.randint(std::numeric_limits<uint64_t>::max());
}

// Copies the generator state of every module in `from` to the module of the same place in `to`
// (two trees of the same structure), so that a converted copy draws the masks the original
// would.
template <class T>
void copy_generators(BasicModule<T>& from, BasicModule<double>& to) {
  if (from.generator() && to.generator()) to.generator()->set_state(from.generator()->state());
  const auto a = from.named_children();
  const auto b = to.named_children();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) copy_generators(*a[i].second, *b[i].second);
}

}  // namespace

template <class T>
BasicTransformerEncoderLayer<T>::BasicTransformerEncoderLayer(
    const TransformerEncoderLayerOptions& options, Generator& gen)
    : options_(options), activation_(&find_activation(options.activation())) {
  const std::string layer = "TransformerEncoderLayer: ";
  if (activation_->kind == ActivationKind::PerChannel)
    throw Error(layer + "activation \"" + options.activation() +
                "\" has learnable slopes; expected an elementwise or along-axis activation");
  if (options.dim_feedforward() < 1)
    throw Error(layer + "expected a positive dim_feedforward, got " +
                std::to_string(options.dim_feedforward()));
  if (!(options.dropout() >= 0 && options.dropout() <= 1))
    throw Error(layer + "dropout must be in [0, 1], got " + std::to_string(options.dropout()));
  const int64_t d = options.d_model();
  // PyTorch's order of construction (and of the children): self_attn, linear1, dropout, linear2,
  // norm1, norm2, dropout1, dropout2.
  self_attn_ = this->register_module("self_attn", std::make_shared<BasicMultiheadAttention<T>>(
                                                      MultiheadAttentionOptions(d, options.nhead())
                                                          .dropout(options.dropout())
                                                          .batch_first(options.batch_first()),
                                                      gen));
  linear1_ = this->register_module(
      "linear1", std::make_shared<BasicLinear<T>>(d, options.dim_feedforward(), gen));
  dropout_ = this->register_module(
      "dropout", std::make_shared<BasicDropout<T>>(options.dropout(), draw_seed(gen)));
  linear2_ = this->register_module(
      "linear2", std::make_shared<BasicLinear<T>>(options.dim_feedforward(), d, gen));
  norm1_ = this->register_module("norm1", std::make_shared<BasicLayerNorm<T>>(
                                              std::vector<int64_t>{d}, options.layer_norm_eps()));
  norm2_ = this->register_module("norm2", std::make_shared<BasicLayerNorm<T>>(
                                              std::vector<int64_t>{d}, options.layer_norm_eps()));
  dropout1_ = this->register_module(
      "dropout1", std::make_shared<BasicDropout<T>>(options.dropout(), draw_seed(gen)));
  dropout2_ = this->register_module(
      "dropout2", std::make_shared<BasicDropout<T>>(options.dropout(), draw_seed(gen)));
}

template <class T>
BasicTensor<T> BasicTransformerEncoderLayer<T>::self_attention_block(const Tensor& x,
                                                                     const Mask& mask,
                                                                     const Mask& key_padding_mask) {
  const Tensor y = std::get<0>(self_attn_->forward(x, x, x, key_padding_mask, false, mask));
  return (*dropout1_)(y);
}

template <class T>
BasicTensor<T> BasicTransformerEncoderLayer<T>::feed_forward_block(const Tensor& x) {
  const Tensor h = (*dropout_)(activation_->apply((*linear1_)(x)));
  return (*dropout2_)((*linear2_)(h));
}

template <class T>
BasicTensor<T> BasicTransformerEncoderLayer<T>::forward(const Tensor& src, const Mask& src_mask,
                                                        const Mask& src_key_padding_mask) {
  Tensor x = src;
  if (options_.norm_first()) {
    x = x + self_attention_block((*norm1_)(x), src_mask, src_key_padding_mask);
    x = x + feed_forward_block((*norm2_)(x));
  } else {
    x = (*norm1_)(x + self_attention_block(x, src_mask, src_key_padding_mask));
    x = (*norm2_)(x + feed_forward_block(x));
  }
  return x;
}

template <class T>
std::string BasicTransformerEncoderLayer<T>::extra_repr() const {
  const auto& o = options_;
  return "d_model=" + std::to_string(o.d_model()) + ", nhead=" + std::to_string(o.nhead()) +
         ", dim_feedforward=" + std::to_string(o.dim_feedforward()) +
         ", activation=" + o.activation() +
         ", batch_first=" + (o.batch_first() ? "true" : "false") +
         ", norm_first=" + (o.norm_first() ? "true" : "false");
}

// The copy's initial values are overwritten by to_double(); its generators continue these.
template <class T>
std::shared_ptr<BasicModule<double>> BasicTransformerEncoderLayer<T>::make_double() const {
  Generator gen;
  auto copy = std::make_shared<BasicTransformerEncoderLayer<double>>(options_, gen);
  copy_generators(const_cast<BasicTransformerEncoderLayer&>(*this), *copy);
  return copy;
}

template <class T>
BasicTransformerEncoder<T>::BasicTransformerEncoder(const BasicTransformerEncoderLayer<T>& layer,
                                                    int64_t num_layers,
                                                    std::shared_ptr<BasicModule<T>> norm)
    : norm_(std::move(norm)) {
  if (num_layers < 0)
    throw Error("TransformerEncoder: expected num_layers >= 0, got " + std::to_string(num_layers));
  // The copies' generators are seeded from the layer's generator states and the copy's index.
  std::string states;
  for (const auto& [name, child] : layer.named_children())
    if (child->generator()) states += child->generator()->state();
  if (const auto attn = layer.self_attn(); attn->generator()) states += attn->generator()->state();
  const uint64_t base = std::hash<std::string>()(states);
  auto list = this->register_module("layers", std::make_shared<BasicSequential<T>>());
  const auto original = layer.state_dict();
  for (int64_t i = 0; i < num_layers; ++i) {
    Generator gen(base + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1));
    auto copy = std::make_shared<BasicTransformerEncoderLayer<T>>(layer.options(), gen);
    NamedTensors<T> values;
    for (const auto& e : original) values.emplace_back(e.name, e.tensor);
    copy->load_state_dict(values);
    copy->train(layer.is_training());
    list->push_back(copy);
    layers_.push_back(copy);
  }
  if (norm_) this->register_module("norm", norm_);
}

template <class T>
BasicTensor<T> BasicTransformerEncoder<T>::forward(const Tensor& src, const Mask& mask,
                                                   const Mask& src_key_padding_mask) {
  Tensor x = src;
  for (const auto& layer : layers_) x = layer->forward(x, mask, src_key_padding_mask);
  if (norm_) x = (*norm_)(x);
  return x;
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicTransformerEncoder<T>::make_double() const {
  // The copy is built from a float64 layer of the same options (there is none to copy when
  // num_layers is 0, so any will do); to_double() then copies every layer's values.
  Generator gen;
  const auto first = layers_.empty()
                         ? std::make_shared<BasicTransformerEncoderLayer<double>>(
                               TransformerEncoderLayerOptions(1, 1), gen)
                         : std::static_pointer_cast<BasicTransformerEncoderLayer<double>>(
                               layers_[0]->make_double());
  auto copy = std::make_shared<BasicTransformerEncoder<double>>(
      *first, num_layers(), norm_ ? norm_->make_double() : nullptr);
  copy_generators(const_cast<BasicTransformerEncoder&>(*this), *copy);
  return copy;
}

template class BasicTransformerEncoderLayer<float>;
template class BasicTransformerEncoderLayer<double>;
template class BasicTransformerEncoder<float>;
template class BasicTransformerEncoder<double>;

}  // namespace eigrad::nn
