#include "eigrad/nn/activation.hpp"

#include <sstream>

namespace eigrad::nn {

template <class T>
BasicActivation<T>::BasicActivation(const std::string& name, const std::vector<double>& values)
    : info_(&find_activation(name)), values_(info_->resolve(values)) {
  if (info_->kind == ActivationKind::PerChannel)
    // Parameters of a per-channel entry: the slope count, then their initial value.
    weight_ = this->register_parameter(
        "weight",
        Tensor::full(Shape{static_cast<int64_t>(values_[0])}, static_cast<T>(values_[1])));
}

template <class T>
BasicTensor<T> BasicActivation<T>::forward(const Tensor& input) {
  if (info_->kind == ActivationKind::PerChannel) return info_->apply(input, weight_);
  return info_->apply(input, values_);
}

template <class T>
std::string BasicActivation<T>::extra_repr() const {
  std::ostringstream os;
  if (type_name() == "Activation") os << info_->name;
  for (size_t i = 0; i < values_.size(); ++i)
    os << (os.tellp() > 0 ? ", " : "") << info_->parameters[i].name << '=' << values_[i];
  return os.str();
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicActivation<T>::make_double() const {
  return std::make_shared<BasicActivation<double>>(info_->name, values_);
}

template class BasicActivation<float>;
template class BasicActivation<double>;

}  // namespace eigrad::nn
