#pragma once
// The fused steps of the recurrent layers (src/ops/recurrent.cpp), with PyTorch 1.13's gate
// formulas: one node per time step that turns the step's pre-activation gates and the previous
// state into the new state in one pass, with a fused first-order backward and a graph backward
// written in eigrad ops (differentiable to any order). nn::LSTM and nn::GRU
// (eigrad/nn/recurrent.hpp) call them once per step.
#include <cstdint>
#include <utility>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// One LSTM step. gates_x and gates_h are [N, 4H], the input's and the state's projections
/// (x W_ih^T + b_ih and h W_hh^T + b_hh), summed inside; c is [N, H]. With a = gates_x + gates_h
/// cut into i, f, g, o: i, f, o = sigmoid, g = tanh, c' = f * c + i * g, h' = o * tanh(c').
/// Returns (h', c'), both [N, H]; one node computes both, and each is taken from it by time_step().
template <class T>
std::pair<BasicTensor<T>, BasicTensor<T>> lstm_cell_gates(const BasicTensor<T>& gates_x,
                                                          const BasicTensor<T>& gates_h,
                                                          const BasicTensor<T>& c);

/// The same node's output as one tensor [2, N, H]: h' at step 0, c' at step 1.
template <class T>
BasicTensor<T> lstm_cell_state(const BasicTensor<T>& gates_x, const BasicTensor<T>& gates_h,
                               const BasicTensor<T>& c);

/// One GRU step. gates_x = x W_ih^T + b_ih and gates_h = h W_hh^T + b_hh are [N, 3H], cut into
/// r, z, n; h is [N, H]. r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z),
/// n = tanh(x_n + r * h_n), h' = (1 - z) * n + z * h. Returns h' [N, H].
template <class T>
BasicTensor<T> gru_cell_gates(const BasicTensor<T>& gates_x, const BasicTensor<T>& gates_h,
                              const BasicTensor<T>& h);

/// x[t] of a tensor [L, ...]: a tensor of shape [...] (the leading axis dropped) holding a copy of
/// step t. Same values as reshape(narrow(x, 0, t, 1), ...), but its backward adds into step t of
/// the gradient alone, so that taking all L steps of a sequence costs O(L) steps in backward
/// rather than a whole zero gradient per call. 0 <= t < L.
template <class T>
BasicTensor<T> time_step(const BasicTensor<T>& x, int64_t t);

}  // namespace eigrad
