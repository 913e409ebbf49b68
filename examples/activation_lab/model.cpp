#include "model.hpp"

#include <cmath>
#include <string>

namespace activation_lab {

using namespace eigrad;

void init_weight(const ActivationInfo& info, Init init, Tensor w, Generator& gen) {
  const double fan_in = nn::init::calculate_fans(w).fan_in;
  const std::string& n = info.name;
  if (init == Init::LeCun || n == "selu")
    nn::init::normal_(w, 0.0, 1.0 / std::sqrt(fan_in), gen);
  else if (n == "sigmoid" || n == "hard_sigmoid" || n == "softsign")
    nn::init::xavier_normal_(w, gen, 1.0);
  else if (n == "tanh")
    nn::init::xavier_normal_(w, gen, nn::init::calculate_gain("tanh"));
  else if (n == "leaky_relu")
    nn::init::kaiming_normal_(w, gen, 0.01);
  else if (n == "prelu")
    nn::init::kaiming_normal_(w, gen, kPReLUInitialSlope);
  else
    nn::init::kaiming_normal_(w, gen, 0.0, nn::init::FanMode::FanIn, "relu");
}

std::shared_ptr<nn::Activation> make_activation(const ActivationInfo& info, int64_t channels) {
  if (info.kind == ActivationKind::PerChannel) return std::make_shared<nn::PReLU>(channels);
  return std::make_shared<nn::Activation>(info.name);
}

Mlp make_mlp(const ActivationInfo& info, int64_t in, int64_t width, int64_t depth, int64_t classes,
             Init init, uint64_t seed) {
  Generator gen(seed);
  Mlp m;
  for (int64_t l = 0; l < depth; ++l) {
    auto linear = std::make_shared<nn::Linear>(in, width, gen);
    init_weight(info, init, linear->weight(), gen);
    nn::init::zeros_(Tensor(linear->bias()));
    m.hidden.push_back(linear);
    m.activations.push_back(make_activation(info, width));
    m.model->push_back(linear);
    m.model->push_back(m.activations.back());
    in = width;
  }
  m.output = std::make_shared<nn::Linear>(in, classes, gen);
  nn::init::xavier_normal_(Tensor(m.output->weight()), gen);
  nn::init::zeros_(Tensor(m.output->bias()));
  m.model->push_back(m.output);
  return m;
}

Tensor forward_trace(const Mlp& m, const Tensor& x, std::vector<Tensor>* pre,
                     std::vector<Tensor>* post) {
  Tensor h = x;
  for (size_t l = 0; l < m.hidden.size(); ++l) {
    const Tensor z = m.hidden[l]->forward(h);
    h = m.activations[l]->forward(z);
    if (pre) pre->push_back(z);
    if (post) post->push_back(h);
  }
  return m.output->forward(h);
}

Tensor derivative(const nn::Activation& act, const Tensor& z) {
  Tensor p = z.detach().clone();
  p.set_requires_grad();
  const ActivationInfo& info = act.info();
  const Tensor y = info.kind == ActivationKind::PerChannel ? info.apply(p, act.weight().detach())
                                                           : info.apply(p, act.values());
  y.backward(Tensor::ones(p.shape()));
  return p.grad();
}

bool finite_model(const nn::Module& model) {
  for (const Tensor& p : model.parameters())
    if (!p.array().allFinite()) return false;
  return true;
}

}  // namespace activation_lab
