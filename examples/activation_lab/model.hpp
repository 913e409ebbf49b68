#pragma once
// The networks the activation lab trains: each activation's usual initialisation, the MLP with
// its hidden layers at hand, a forward pass that keeps every layer's values, and f' through the
// activation's own backward.
#include <cstdint>
#include <memory>
#include <vector>

#include "eigrad/eigrad.hpp"

namespace activation_lab {

// |f'(x)| below this counts as saturated; a unit saturated on every training input is dead.
inline constexpr double kFlat = 1e-3;

enum class Init { Usual, LeCun };

// The initialisation each activation is usually given: LeCun normal for selu, Glorot (Xavier)
// normal for the sigmoid-like ones (gain 5/3 for tanh), He (Kaiming) normal for the rest, with
// the negative slope for leaky_relu and prelu. Biases are zero.
void init_weight(const eigrad::ActivationInfo& info, Init init, eigrad::Tensor w,
                 eigrad::Generator& gen);

std::shared_ptr<eigrad::nn::Activation> make_activation(const eigrad::ActivationInfo& info,
                                                        int64_t channels);

struct Mlp {
  std::shared_ptr<eigrad::nn::Sequential> model = std::make_shared<eigrad::nn::Sequential>();
  std::vector<std::shared_ptr<eigrad::nn::Linear>> hidden;
  std::vector<std::shared_ptr<eigrad::nn::Activation>> activations;
  std::shared_ptr<eigrad::nn::Linear> output;
};

// in - width x depth - classes. The same seed draws the same initial weights for every
// activation (the shapes agree and the draws come in the same order), so runs pair by seed.
Mlp make_mlp(const eigrad::ActivationInfo& info, int64_t in, int64_t width, int64_t depth,
             int64_t classes, Init init, uint64_t seed);

// The logits, keeping each hidden layer's pre- and post-activation values when asked.
eigrad::Tensor forward_trace(const Mlp& m, const eigrad::Tensor& x,
                             std::vector<eigrad::Tensor>* pre, std::vector<eigrad::Tensor>* post);

// f'(z) element by element, through the activation's own backward.
eigrad::Tensor derivative(const eigrad::nn::Activation& act, const eigrad::Tensor& z);

bool finite_model(const eigrad::nn::Module& model);

}  // namespace activation_lab
