#include "eigrad/optim/sgd.hpp"

#include <algorithm>

#include "eigrad/autograd.hpp"
#include "parallel_for.hpp"

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

bool SGDOptions::set(const std::string& name, double value) {
  if (name == "lr")
    lr_ = value;
  else if (name == "momentum")
    momentum_ = value;
  else if (name == "dampening")
    dampening_ = value;
  else if (name == "weight_decay")
    weight_decay_ = value;
  else if (name == "nesterov" && (value == 0 || value == 1))
    nesterov_ = value == 1;
  else
    return false;
  return true;
}

template <class T>
std::vector<typename BasicOptimizer<T>::StateKey> BasicSGD<T>::state_keys(size_t group) const {
  if (this->options_[group].momentum() == 0) return {};
  return {{"momentum_buffer", false}};
}

template <class T>
void BasicSGD<T>::step() {
  using Segment = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using ConstSegment = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  // Each parameter is updated in blocks small enough for the L1 cache, momentum buffer and
  // parameter together, so that the update reads each array once; a large parameter's blocks
  // are split across threads (the update is memory-bound: its work counts 4 per element).
  constexpr int64_t kBlock = 1024;
  NoGradGuard no_grad;
  for (size_t g = 0; g < this->params_.size(); ++g) {
    const SGDOptions& o = this->options_[g];
    const T lr = static_cast<T>(o.lr()), wd = static_cast<T>(o.weight_decay()),
            mu = static_cast<T>(o.momentum()), damp = static_cast<T>(o.dampening());
    const bool nesterov = o.nesterov();
    for (size_t i = 0; i < this->params_[g].size(); ++i) {
      Tensor p = this->params_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      const int64_t n = p.numel();
      T* xd = p.mutable_data();
      const T* dd = grad.data();
      T* bd = nullptr;
      bool first = false;
      if (mu != 0) {
        first = !this->has_state(g, i);  // PyTorch: the first buffer is d itself, undampened
        bd = this->state(g, i)[0].mutable_data();
      }
      parallel_for(
          n,
          [&](int64_t begin, int64_t end) {
            for (int64_t b = begin; b < end; b += kBlock) {
              const int64_t len = std::min(kBlock, end - b);
              Segment x(xd + b, len);
              const ConstSegment dx(dd + b, len);
              if (mu == 0) {
                if (wd == 0)
                  x -= lr * dx;
                else
                  x -= lr * (dx + wd * x);
                continue;
              }
              Segment buf(bd + b, len);
              if (first)
                buf = dx + wd * x;
              else
                buf = mu * buf + (T(1) - damp) * (dx + wd * x);
              if (nesterov)
                x -= lr * (dx + wd * x + mu * buf);
              else
                x -= lr * buf;
            }
          },
          4 * n);
    }
  }
}

template class BasicSGD<float>;
template class BasicSGD<double>;

}  // namespace eigrad::optim
