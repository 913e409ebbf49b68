#pragma once
// Adam and AdamW: exactly torch.optim.Adam / AdamW (PyTorch 1.13). Per parameter, with t the
// parameter's own step count:
//   Adam:  g += weight_decay * p          AdamW: p *= 1 - lr * weight_decay (decoupled)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   (amsgrad: v_max = max(v_max, v), used instead of v below)
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#include <string>
#include <vector>

#include "eigrad/optim/optimizer.hpp"

namespace eigrad::optim {

namespace detail {
/// The options of Adam and AdamW, which differ only in the default weight decay and in how it is
/// applied. Setters return the derived type so that calls chain.
template <class Self>
class AdamOptionsBase {
 public:
  double lr() const { return lr_; }
  Self& lr(double v) {
    lr_ = v;
    return self();
  }
  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  Self& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return self();
  }
  double eps() const { return eps_; }
  Self& eps(double v) {
    eps_ = v;
    return self();
  }
  double weight_decay() const { return weight_decay_; }
  Self& weight_decay(double v) {
    weight_decay_ = v;
    return self();
  }
  bool amsgrad() const { return amsgrad_; }
  Self& amsgrad(bool v) {
    amsgrad_ = v;
    return self();
  }
  /// As named values for state dicts: lr, beta1, beta2, eps, weight_decay, amsgrad (0 or 1).
  Settings settings() const {
    return {{"lr", lr_},
            {"beta1", beta1_},
            {"beta2", beta2_},
            {"eps", eps_},
            {"weight_decay", weight_decay_},
            {"amsgrad", amsgrad_ ? 1.0 : 0.0}};
  }
  /// Sets the option of that name; false if there is none (a flag takes 0 or 1 only).
  bool set(const std::string& name, double value);
  /// Throws, naming `op`, unless lr, eps, weight_decay >= 0 and 0 <= beta1, beta2 < 1.
  void validate(const std::string& op) const;

 protected:
  AdamOptionsBase(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

 private:
  Self& self() { return static_cast<Self&>(*this); }
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_;
  bool amsgrad_ = false;
};
}  // namespace detail

/// Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0, no amsgrad.
class AdamOptions : public detail::AdamOptionsBase<AdamOptions> {
 public:
  explicit AdamOptions(double lr = 1e-3) : AdamOptionsBase(lr, 0.0) {}
};

/// The same defaults but weight decay 1e-2.
class AdamWOptions : public detail::AdamOptionsBase<AdamWOptions> {
 public:
  explicit AdamWOptions(double lr = 1e-3) : AdamOptionsBase(lr, 1e-2) {}
};

template <class T, class Options, bool Decoupled>
class AdamFamily : public OptimizerWithOptions<T, Options> {
 public:
  using Tensor = BasicTensor<T>;
  using Group = ParamGroup<T, Options>;
  AdamFamily(std::vector<Tensor> params, const Options& options)
      : AdamFamily(std::vector<Group>{Group{std::move(params), options}}) {}
  explicit AdamFamily(std::vector<Group> groups)
      : OptimizerWithOptions<T, Options>(Decoupled ? "AdamW" : "Adam", std::move(groups)) {}
  void step() override;

 protected:
  std::vector<typename BasicOptimizer<T>::StateKey> state_keys(size_t group) const override;
};

template <class T>
using BasicAdam = AdamFamily<T, AdamOptions, false>;
template <class T>
using BasicAdamW = AdamFamily<T, AdamWOptions, true>;
using Adam = BasicAdam<float>;
using AdamW = BasicAdamW<float>;

extern template class detail::AdamOptionsBase<AdamOptions>;
extern template class detail::AdamOptionsBase<AdamWOptions>;
extern template class AdamFamily<float, AdamOptions, false>;
extern template class AdamFamily<double, AdamOptions, false>;
extern template class AdamFamily<float, AdamWOptions, true>;
extern template class AdamFamily<double, AdamWOptions, true>;

}  // namespace eigrad::optim
