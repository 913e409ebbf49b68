#pragma once
// Pooling over the last two axes of [N, C, H, W] (or [C, H, W]) (src/ops/pooling.cpp), with
// PyTorch 1.13's semantics and defaults. ceil_mode is not supported (always floor).
// Differentiable to any order: each backward is a linear map (a scatter to the argmax, or the
// adjoint of the averages), recorded under create_graph with the forward map as its own backward.
#include <cstdint>

#include "eigrad/autograd.hpp"
#include "eigrad/ops/expanding_array.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// Maximum of each window; stride defaults to the kernel size; padding (at most half the kernel)
/// counts as -infinity. The gradient goes to the first maximum of each window in row-major order,
/// as in PyTorch.
template <class T>
BasicTensor<T> max_pool2d(const BasicTensor<T>& input, ExpandingArray<2> kernel_size,
                          ExpandingArray<2> stride = {}, ExpandingArray<2> padding = 0,
                          ExpandingArray<2> dilation = 1);

/// Mean of each window; with count_include_pad (PyTorch's default) the zeros of the padding count
/// in the divisor, otherwise only the input elements the window covers.
template <class T>
BasicTensor<T> avg_pool2d(const BasicTensor<T>& input, ExpandingArray<2> kernel_size,
                          ExpandingArray<2> stride = {}, ExpandingArray<2> padding = 0,
                          bool count_include_pad = true);

/// Mean over PyTorch's adaptive windows: output cell i along an axis of size L covers
/// [floor(i L / out), ceil((i + 1) L / out)). output_size (1, 1) is global average pooling.
template <class T>
BasicTensor<T> adaptive_avg_pool2d(const BasicTensor<T>& input, ExpandingArray<2> output_size);

}  // namespace eigrad
