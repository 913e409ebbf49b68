#include "eigrad/optim/adam.hpp"

#include <cmath>

#include "eigrad/autograd.hpp"

namespace eigrad::optim {

template <class Self>
void detail::AdamOptionsBase<Self>::validate(const std::string& op) const {
  auto fail = [&](const std::string& what) { throw Error(op + ": invalid options: " + what); };
  if (!(lr_ >= 0)) fail("lr must be >= 0, got " + std::to_string(lr_));
  if (!(eps_ >= 0)) fail("eps must be >= 0, got " + std::to_string(eps_));
  if (!(beta1_ >= 0 && beta1_ < 1) || !(beta2_ >= 0 && beta2_ < 1))
    fail("betas must be in [0, 1), got (" + std::to_string(beta1_) + ", " + std::to_string(beta2_) +
         ")");
  if (!(weight_decay_ >= 0))
    fail("weight_decay must be >= 0, got " + std::to_string(weight_decay_));
}

template <class Self>
bool detail::AdamOptionsBase<Self>::set(const std::string& name, double value) {
  if (name == "lr")
    lr_ = value;
  else if (name == "beta1")
    beta1_ = value;
  else if (name == "beta2")
    beta2_ = value;
  else if (name == "eps")
    eps_ = value;
  else if (name == "weight_decay")
    weight_decay_ = value;
  else if (name == "amsgrad" && (value == 0 || value == 1))
    amsgrad_ = value == 1;
  else
    return false;
  return true;
}

template <class T, class Options, bool Decoupled>
std::vector<typename BasicOptimizer<T>::StateKey> AdamFamily<T, Options, Decoupled>::state_keys(
    size_t group) const {
  std::vector<typename BasicOptimizer<T>::StateKey> keys{
      {"step", true}, {"exp_avg", false}, {"exp_avg_sq", false}};
  if (this->options_[group].amsgrad()) keys.push_back({"max_exp_avg_sq", false});
  return keys;
}

template <class T, class Options, bool Decoupled>
void AdamFamily<T, Options, Decoupled>::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < this->params_.size(); ++g) {
    const Options& o = this->options_[g];
    const T lr = static_cast<T>(o.lr()), wd = static_cast<T>(o.weight_decay()),
            b1 = static_cast<T>(o.beta1()), b2 = static_cast<T>(o.beta2()),
            eps = static_cast<T>(o.eps());
    for (size_t i = 0; i < this->params_[g].size(); ++i) {
      Tensor p = this->params_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      std::vector<Tensor>& s = this->state(g, i);
      T& step = s[0].mutable_data()[0];
      step += T(1);
      auto& x = p.mutable_array();
      const auto& dx = grad.array();
      auto& m = s[1].mutable_array();
      auto& v = s[2].mutable_array();
      // Bias corrections in double, as PyTorch computes them in Python floats.
      const double t = static_cast<double>(step);
      const T step_size = static_cast<T>(o.lr() / (1 - std::pow(o.beta1(), t)));
      const T bc2_sqrt = static_cast<T>(std::sqrt(1 - std::pow(o.beta2(), t)));
      if (Decoupled) {
        if (wd != 0) x *= T(1) - lr * wd;
        m = b1 * m + (T(1) - b1) * dx;
        v = b2 * v + (T(1) - b2) * dx.square();
      } else if (wd != 0) {
        m = b1 * m + (T(1) - b1) * (dx + wd * x);
        v = b2 * v + (T(1) - b2) * (dx + wd * x).square();
      } else {
        m = b1 * m + (T(1) - b1) * dx;
        v = b2 * v + (T(1) - b2) * dx.square();
      }
      if (o.amsgrad()) {
        auto& vmax = s[3].mutable_array();
        vmax = vmax.max(v);
        x -= step_size * m / (vmax.sqrt() / bc2_sqrt + eps);
      } else {
        x -= step_size * m / (v.sqrt() / bc2_sqrt + eps);
      }
    }
  }
}

template class detail::AdamOptionsBase<AdamOptions>;
template class detail::AdamOptionsBase<AdamWOptions>;
template class AdamFamily<float, AdamOptions, false>;
template class AdamFamily<double, AdamOptions, false>;
template class AdamFamily<float, AdamWOptions, true>;
template class AdamFamily<double, AdamWOptions, true>;

}  // namespace eigrad::optim
