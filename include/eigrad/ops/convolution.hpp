#pragma once
// Convolutions (src/ops/convolution.cpp), with PyTorch 1.13's semantics, argument names and
// defaults. Lowered to matrix products (im2col + Eigen's GEMM); the backward, beside the forward,
// gives the input, weight and bias gradients by the transposed products (col2im for the input).
// Differentiable to any order: the input's and the weight's gradients are ops of their own,
// recorded under create_graph.
#include <cstdint>

#include "eigrad/autograd.hpp"
#include "eigrad/ops/expanding_array.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// input [N, C, H, W], weight [O, C / groups, kH, kW], bias [O] or undefined (no bias) ->
/// [N, O, H_out, W_out] with H_out = (H + 2 padding - dilation (kH - 1) - 1) / stride + 1.
/// C and O must be divisible by groups; stride and dilation >= 1, padding >= 0.
template <class T>
BasicTensor<T> conv2d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias = BasicTensor<T>(), ExpandingArray<2> stride = 1,
                      ExpandingArray<2> padding = 0, ExpandingArray<2> dilation = 1,
                      int64_t groups = 1);

/// input [N, C, L], weight [O, C / groups, K], bias [O] or undefined -> [N, O, L_out].
template <class T>
BasicTensor<T> conv1d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias = BasicTensor<T>(), int64_t stride = 1,
                      int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// The transposed convolution (the gradient of conv2d with respect to its input), PyTorch's
// argument order: input [N, C_in, H, W], weight [C_in, C_out / groups, kH, kW], bias [C_out] or
// undefined -> [N, C_out, H_out, W_out] with
// H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
// C_in must be divisible by groups; output_padding must be smaller than stride or dilation.
template <class T>
BasicTensor<T> conv_transpose2d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                                const BasicTensor<T>& bias = BasicTensor<T>(),
                                ExpandingArray<2> stride = 1, ExpandingArray<2> padding = 0,
                                ExpandingArray<2> output_padding = 0, int64_t groups = 1,
                                ExpandingArray<2> dilation = 1);

// input [N, C_in, L], weight [C_in, C_out / groups, K], bias [C_out] or undefined ->
// [N, C_out, L_out].
template <class T>
BasicTensor<T> conv_transpose1d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                                const BasicTensor<T>& bias = BasicTensor<T>(), int64_t stride = 1,
                                int64_t padding = 0, int64_t output_padding = 0, int64_t groups = 1,
                                int64_t dilation = 1);

}  // namespace eigrad
