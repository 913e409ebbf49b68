#include "eigrad/nn/normalization.hpp"

#include <sstream>

#include "eigrad/ops/normalization.hpp"

namespace eigrad::nn {

template <class T, int D>
BasicBatchNorm<T, D>::BasicBatchNorm(const BatchNormOptions& options) : options_(options) {
  const BatchNormOptions& o = options;
  const int64_t c = o.num_features();
  if (c < 1)
    throw Error(type_name() + ": expected a positive num_features, got " + std::to_string(c));
  if (!(o.eps() > 0))
    throw Error(type_name() + ": expected a positive eps, got " + std::to_string(o.eps()));
  if (o.momentum() && !(*o.momentum() >= 0 && *o.momentum() <= 1))
    throw Error(type_name() + ": expected a momentum in [0, 1] (or none), got " +
                std::to_string(*o.momentum()));
  if (o.affine()) {
    weight_ = this->register_parameter("weight", Tensor::ones(Shape{c}));
    bias_ = this->register_parameter("bias", Tensor::zeros(Shape{c}));
  }
  if (o.track_running_stats()) {
    running_mean_ = this->register_buffer("running_mean", Tensor::zeros(Shape{c}));
    running_var_ = this->register_buffer("running_var", Tensor::ones(Shape{c}));
    num_batches_tracked_ =
        this->register_buffer("num_batches_tracked", Tensor::scalar(0), SavedAs::Int64);
  }
}

template <class T, int D>
BasicTensor<T> BasicBatchNorm<T, D>::forward(const Tensor& input) {
  const Shape& s = input.shape();
  if (D == 1 ? s.rank() != 2 && s.rank() != 3 : s.rank() != 4)
    throw Error(type_name() + ": expected an input " +
                (D == 1 ? "[N, C] or [N, C, L]" : "[N, C, H, W]") + ", got " + s.str());
  if (s[1] != options_.num_features())
    throw Error(type_name() + ": expected " + std::to_string(options_.num_features()) +
                " channels (axis 1) in the input, got " + s.str());
  const bool tracking = options_.track_running_stats();
  const bool update = this->is_training() && tracking;
  double momentum = options_.momentum().value_or(0.0);
  // PyTorch's momentum None: the cumulative average over the batches seen, this one included.
  if (update && !options_.momentum())
    momentum = 1.0 / (static_cast<double>(num_batches_tracked_.item()) + 1.0);
  Tensor out =
      batch_norm(input, tracking ? running_mean_ : Tensor(), tracking ? running_var_ : Tensor(),
                 weight_, bias_, this->is_training() || !tracking, momentum, options_.eps());
  if (update) num_batches_tracked_.mutable_array() += T(1);
  return out;
}

template <class T, int D>
std::string BasicBatchNorm<T, D>::extra_repr() const {
  const BatchNormOptions& o = options_;
  std::ostringstream os;
  os << o.num_features() << ", eps=" << o.eps() << ", momentum=";
  if (o.momentum())
    os << *o.momentum();
  else
    os << "None";
  os << ", affine=" << (o.affine() ? "true" : "false")
     << ", track_running_stats=" << (o.track_running_stats() ? "true" : "false");
  return os.str();
}

template <class T, int D>
std::shared_ptr<BasicModule<double>> BasicBatchNorm<T, D>::make_double() const {
  return std::make_shared<BasicBatchNorm<double, D>>(options_);
}

template class BasicBatchNorm<float, 1>;
template class BasicBatchNorm<double, 1>;
template class BasicBatchNorm<float, 2>;
template class BasicBatchNorm<double, 2>;

}  // namespace eigrad::nn
