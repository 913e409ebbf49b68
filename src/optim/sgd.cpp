#include "eigrad/optim/sgd.hpp"

#include "eigrad/autograd.hpp"

namespace eigrad::optim {

void SGDOptions::validate(const std::string& op) const {
  auto fail = [&](const std::string& what) { throw Error(op + ": invalid options: " + what); };
  if (!(lr_ >= 0)) fail("lr must be >= 0, got " + std::to_string(lr_));
  if (!(momentum_ >= 0)) fail("momentum must be >= 0, got " + std::to_string(momentum_));
  if (!(weight_decay_ >= 0))
    fail("weight_decay must be >= 0, got " + std::to_string(weight_decay_));
  if (nesterov_ && (momentum_ <= 0 || dampening_ != 0))
    fail("nesterov needs momentum > 0 and dampening 0, got momentum " + std::to_string(momentum_) +
         " and dampening " + std::to_string(dampening_));
}

template <class T>
std::vector<typename BasicOptimizer<T>::StateKey> BasicSGD<T>::state_keys(size_t group) const {
  if (this->options_[group].momentum() == 0) return {};
  return {{"momentum_buffer", false}};
}

template <class T>
void BasicSGD<T>::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < this->params_.size(); ++g) {
    const SGDOptions& o = this->options_[g];
    const T lr = static_cast<T>(o.lr()), wd = static_cast<T>(o.weight_decay()),
            mu = static_cast<T>(o.momentum()), damp = static_cast<T>(o.dampening());
    for (size_t i = 0; i < this->params_[g].size(); ++i) {
      Tensor p = this->params_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      auto& x = p.array();
      const auto& dx = grad.array();
      if (mu == 0) {
        if (wd == 0)
          x -= lr * dx;
        else
          x -= lr * (dx + wd * x);
        continue;
      }
      const bool first = !this->has_state(g, i);
      auto& buf = this->state(g, i)[0].array();
      if (first)  // PyTorch: the first buffer is d itself, not dampened
        buf = dx + wd * x;
      else
        buf = mu * buf + (T(1) - damp) * (dx + wd * x);
      if (o.nesterov())
        x -= lr * (dx + wd * x + mu * buf);
      else
        x -= lr * buf;
    }
  }
}

template class BasicSGD<float>;
template class BasicSGD<double>;

}  // namespace eigrad::optim
