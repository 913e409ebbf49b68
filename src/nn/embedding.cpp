#include "eigrad/nn/embedding.hpp"

#include <string>

#include "eigrad/nn/init.hpp"
#include "eigrad/ops/sequence.hpp"

namespace eigrad::nn {

template <class T>
BasicEmbedding<T>::BasicEmbedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen,
                                  std::optional<int64_t> padding_idx)
    : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  if (num_embeddings < 1 || embedding_dim < 1)
    throw Error("Embedding: expected positive num_embeddings and embedding_dim, got " +
                std::to_string(num_embeddings) + " and " + std::to_string(embedding_dim));
  if (padding_idx) {
    if (*padding_idx < -num_embeddings || *padding_idx >= num_embeddings)
      throw Error("Embedding: padding_idx " + std::to_string(*padding_idx) +
                  " is out of range for num_embeddings " + std::to_string(num_embeddings) +
                  " (expected " + std::to_string(-num_embeddings) + " to " +
                  std::to_string(num_embeddings - 1) + ")");
    padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
  }
  weight_ = this->register_parameter("weight", Tensor::empty(Shape{num_embeddings, embedding_dim}));
  init::normal_(weight_, 0.0, 1.0, gen);
  if (padding_idx_) {
    NoGradGuard no_grad;
    weight_.mutable_array().segment(*padding_idx_ * embedding_dim, embedding_dim).setZero();
  }
}

template <class T>
std::shared_ptr<BasicEmbedding<T>> BasicEmbedding<T>::from_pretrained(
    const Tensor& embeddings, bool freeze, std::optional<int64_t> padding_idx) {
  if (embeddings.rank() != 2)
    throw Error(
        "Embedding::from_pretrained: expected embeddings of rank 2 [num_embeddings, "
        "embedding_dim], got " +
        embeddings.shape().str());
  Generator gen;  // (the values drawn are overwritten)
  auto e = std::make_shared<BasicEmbedding>(embeddings.shape()[0], embeddings.shape()[1], gen,
                                            padding_idx);
  {
    NoGradGuard no_grad;
    e->weight_.mutable_array() = embeddings.array();
  }
  e->weight_.set_requires_grad(!freeze);
  return e;
}

template <class T>
BasicTensor<T> BasicEmbedding<T>::forward(const LongTensor& indices) {
  return embedding(indices, weight_, padding_idx_);
}

template <class T>
BasicTensor<T> BasicEmbedding<T>::forward(const Tensor& input) {
  throw Error(std::string("Embedding: expected int64 indices (a LongTensor), got a ") +
              Tensor::dtype() + " tensor of shape " + input.shape().str() +
              "; call forward with a LongTensor");
}

template <class T>
std::string BasicEmbedding<T>::extra_repr() const {
  std::string s = std::to_string(num_embeddings_) + ", " + std::to_string(embedding_dim_);
  if (padding_idx_) s += ", padding_idx=" + std::to_string(*padding_idx_);
  return s;
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicEmbedding<T>::make_double() const {
  Generator gen;  // (the copy's values are overwritten by to_double)
  return std::make_shared<BasicEmbedding<double>>(num_embeddings_, embedding_dim_, gen,
                                                  padding_idx_);
}

template class BasicEmbedding<float>;
template class BasicEmbedding<double>;

}  // namespace eigrad::nn
