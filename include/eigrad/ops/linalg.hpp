#pragma once
// Matrix products (src/ops/linalg.cpp) and contractions (src/ops/einsum.cpp).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// [n, k] x [k, m]; [B, n, k] x [B, k, m]; [B, n, k] x [k, m].
template <class T>
BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b);

/// The outer product of two rank-1 tensors: [n] x [m] -> [n, m].
template <class T>
BasicTensor<T> outer(const BasicTensor<T>& a, const BasicTensor<T>& b);
/// torch.einsum for one or two operands: "ij,jk->ik", "bij,bjk->bik", "i,i->", "ii->i", "ii",
/// "...ij,...jk->...ik". Subscripts are the letters a-z and A-Z; without "->" the output holds the
/// subscripts that appear once, ellipsis axes first, then in ASCII order (upper case first); a
/// subscript repeated in one operand takes the diagonal; sizes must agree or be 1 (broadcast);
/// subscripts and ellipsis axes missing from the output are summed. Built from permute, reshape,
/// index_select, sum and a batched matmul, so it differentiates to any order.
template <class T>
BasicTensor<T> einsum(const std::string& equation, const std::vector<BasicTensor<T>>& operands);
template <class T>
BasicTensor<T> einsum(const std::string& equation, std::initializer_list<BasicTensor<T>> operands) {
  return einsum(equation, std::vector<BasicTensor<T>>(operands));
}

}  // namespace eigrad
