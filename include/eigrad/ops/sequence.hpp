#pragma once
// Ops for token sequences (src/ops/embedding.cpp), as PyTorch 1.13's
// torch.nn.functional.embedding and torch.nn.utils.rnn.pad_sequence:
//   Tensor e = embedding(tokens, weight);                   // tokens [B, L] -> [B, L, D]
//   Tensor batch = pad_sequence({a, b, c}, /*batch_first=*/true);   // [3, L_max, *]
#include <cstdint>
#include <optional>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// The rows of weight [num_embeddings, embedding_dim] that `indices` (int64, any shape, 0-d too)
/// name: the result has shape indices.shape + [embedding_dim]. Differentiable in weight to any
/// order: its gradient is the scatter-add of the gradient's rows into the rows named, except the
/// row padding_idx, which gets none (a negative padding_idx counts from the end). An index outside
/// [0, num_embeddings) is an Error naming it and its position.
template <class T>
BasicTensor<T> embedding(const LongTensor& indices, const BasicTensor<T>& weight,
                         std::optional<int64_t> padding_idx = std::nullopt);

/// Sequences [L_i, *] (the same trailing sizes) padded with padding_value to the longest length
/// L_max and stacked: [L_max, B, *], or [B, L_max, *] with batch_first. Differentiable to any
/// order in each sequence (for float and double); int64 sequences (token ids) are padded too.
template <class T>
BasicTensor<T> pad_sequence(const std::vector<BasicTensor<T>>& sequences, bool batch_first = false,
                            double padding_value = 0.0);

}  // namespace eigrad
