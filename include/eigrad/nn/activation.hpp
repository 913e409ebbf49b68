#pragma once
// Activation modules, built from the activation catalogue (eigrad/activations.hpp) so that every
// catalogue entry has a module without a class per activation:
//   std::make_shared<nn::Activation>("leaky_relu", std::vector<double>{0.2})
//   std::make_shared<nn::Activation>("softmax")            // along the last axis
//   std::make_shared<nn::PReLU>(64)                        // 64 learnable slopes, 0.25 each
// An entry with learnable slopes (prelu) registers them as the parameter "weight".
#include <cstdint>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/nn/module.hpp"

namespace eigrad::nn {

template <class T>
class BasicActivation : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  /// `name` is a catalogue name or alias; `values` its parameters in the catalogue's order
  /// (missing trailing ones take their defaults). Unknown names and bad values throw.
  explicit BasicActivation(const std::string& name, const std::vector<double>& values = {});

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Activation"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;  ///< "leaky_relu, negative_slope=0.2"

  const ActivationInfo& info() const { return *info_; }
  const std::vector<double>& values() const { return values_; }  // resolved, defaults included
  /// The learnable slopes of a per-channel entry (undefined otherwise).
  const Tensor& weight() const { return weight_; }

 private:
  const ActivationInfo* info_;
  std::vector<double> values_;
  Tensor weight_;
};

/// PyTorch's nn.PReLU: `num_parameters` slopes (1, shared, or one per channel on axis 1), all
/// starting at `init`, registered as the parameter "weight".
template <class T>
class BasicPReLU : public BasicActivation<T> {
 public:
  explicit BasicPReLU(int64_t num_parameters = 1, double init = kPReLUInitialSlope)
      : BasicActivation<T>("prelu",
                           {static_cast<double>(num_parameters), static_cast<double>(init)}) {}
  std::string type_name() const override { return "PReLU"; }
  std::shared_ptr<BasicModule<double>> make_double() const override {
    return std::make_shared<BasicPReLU<double>>(static_cast<int64_t>(this->values()[0]),
                                                this->values()[1]);
  }
};

using Activation = BasicActivation<float>;
using PReLU = BasicPReLU<float>;

extern template class BasicActivation<float>;
extern template class BasicActivation<double>;

}  // namespace eigrad::nn
