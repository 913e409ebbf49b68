#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay: exactly
// torch.optim.SGD (PyTorch 1.13). With d = grad + weight_decay * p:
//   momentum != 0: buf = d on the first step (no dampening), else buf = momentum * buf +
//                  (1 - dampening) * d; d = nesterov ? d + momentum * buf : buf
//   p -= lr * d
#include <string>
#include <vector>

#include "eigrad/optim/optimizer.hpp"

namespace eigrad::optim {

class SGDOptions {
 public:
  explicit SGDOptions(double lr) : lr_(lr) {}
  double lr() const { return lr_; }
  SGDOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  double momentum() const { return momentum_; }
  SGDOptions& momentum(double v) {
    momentum_ = v;
    return *this;
  }
  double dampening() const { return dampening_; }
  SGDOptions& dampening(double v) {
    dampening_ = v;
    return *this;
  }
  double weight_decay() const { return weight_decay_; }
  SGDOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  bool nesterov() const { return nesterov_; }
  SGDOptions& nesterov(bool v) {
    nesterov_ = v;
    return *this;
  }
  /// As named values for state dicts: lr, momentum, dampening, weight_decay, nesterov (0 or 1).
  Settings settings() const {
    return {{"lr", lr_},
            {"momentum", momentum_},
            {"dampening", dampening_},
            {"weight_decay", weight_decay_},
            {"nesterov", nesterov_ ? 1.0 : 0.0}};
  }
  /// Sets the option of that name; false if there is none (a flag takes 0 or 1 only).
  bool set(const std::string& name, double value);
  /// Throws, naming `op`, unless lr, momentum, weight_decay >= 0 and nesterov has momentum > 0
  /// and dampening 0 (as PyTorch requires).
  void validate(const std::string& op) const;

 private:
  double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false;
};

template <class T>
class BasicSGD : public OptimizerWithOptions<T, SGDOptions> {
 public:
  using Tensor = BasicTensor<T>;
  using Group = ParamGroup<T, SGDOptions>;
  BasicSGD(std::vector<Tensor> params, const SGDOptions& options)
      : BasicSGD(std::vector<Group>{Group{std::move(params), options}}) {}
  explicit BasicSGD(std::vector<Group> groups)
      : OptimizerWithOptions<T, SGDOptions>("SGD", std::move(groups)) {}
  void step() override;

 protected:
  std::vector<typename BasicOptimizer<T>::StateKey> state_keys(size_t group) const override;
};

using SGD = BasicSGD<float>;

extern template class BasicSGD<float>;
extern template class BasicSGD<double>;

}  // namespace eigrad::optim
