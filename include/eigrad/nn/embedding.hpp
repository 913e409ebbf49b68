#pragma once
// A lookup table of embeddings, after PyTorch's nn.Embedding (the op is eigrad/ops/sequence.hpp):
//   nn::Embedding emb(10000, 64, gen, /*padding_idx=*/0);
//   Tensor e = emb(tokens);            // tokens: a LongTensor [B, L] -> [B, L, 64]
// Parameter "weight" [num_embeddings, embedding_dim], drawn from N(0, 1) as PyTorch does, with the
// padding_idx row zeroed; that row gets no gradient.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "eigrad/nn/module.hpp"
#include "eigrad/random.hpp"

namespace eigrad::nn {

template <class T>
class BasicEmbedding : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  /// A negative padding_idx counts from the end (stored as the non-negative row).
  BasicEmbedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen,
                 std::optional<int64_t> padding_idx = std::nullopt);
  /// The table `embeddings` [num_embeddings, embedding_dim] (copied), as PyTorch's
  /// Embedding.from_pretrained: frozen (no gradient) unless freeze is false. The padding row is
  /// kept as given.
  static std::shared_ptr<BasicEmbedding> from_pretrained(
      const Tensor& embeddings, bool freeze = true,
      std::optional<int64_t> padding_idx = std::nullopt);

  /// embedding(indices, weight, padding_idx): indices.shape + [embedding_dim].
  Tensor forward(const LongTensor& indices);
  /// The same (forward hooks apply to BasicModule's tensor call only, which an Embedding refuses).
  Tensor operator()(const LongTensor& indices) { return forward(indices); }
  /// An Error: an Embedding takes int64 indices (a LongTensor), not float values.
  Tensor forward(const Tensor& input) override;

  std::string type_name() const override { return "Embedding"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  /// "10, 3, padding_idx=0", as PyTorch prints it.
  std::string extra_repr() const override;

  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  std::optional<int64_t> padding_idx() const { return padding_idx_; }
  const Tensor& weight() const { return weight_; }

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;
  Tensor weight_;
};

using Embedding = BasicEmbedding<float>;

extern template class BasicEmbedding<float>;
extern template class BasicEmbedding<double>;

}  // namespace eigrad::nn
