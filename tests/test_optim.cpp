// Optimizers against updates computed by hand from PyTorch 1.13's equations, parameter groups,
// state export and import, learning-rate schedules, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/optim/adam.hpp"
#include "eigrad/optim/lr_scheduler.hpp"
#include "eigrad/optim/sgd.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Shape;
using eigrad::test::check_close;
using V = std::vector<double>;
namespace optim = eigrad::optim;
using SGD = optim::BasicSGD<double>;
using Adam = optim::BasicAdam<double>;
using AdamW = optim::BasicAdamW<double>;

namespace {
// Makes p's gradient exactly g: the gradient of sum(p * g) with respect to p.
void set_grad(DoubleTensor& p, const V& g) {
  p.zero_grad();
  eigrad::sum(p * DoubleTensor::from(g, p.shape())).backward();
}

DoubleTensor param(const V& values = {1, -2}) {
  return DoubleTensor::from(values, {static_cast<int64_t>(values.size())}, true);
}

const V g1{0.5, 1}, g2{-0.25, 2}, g3{0, -1};
}  // namespace

// ---------------------------------------------------------------- SGD

TEST_CASE("SGD without momentum steps by -lr * (grad + weight_decay * p)", "[optim]") {
  DoubleTensor p = param();
  SGD opt({p}, optim::SGDOptions(0.1).weight_decay(0.1));
  set_grad(p, g1);
  opt.step();
  // d = [0.5 + 0.1 * 1, 1 + 0.1 * -2] = [0.6, 0.8]; p = [1 - 0.06, -2 - 0.08]
  check_close(p.to_vector(), {0.94, -2.08});
}

TEST_CASE("SGD momentum starts its buffer at the first gradient, undampened", "[optim]") {
  DoubleTensor p = param();
  SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9));
  set_grad(p, g1);
  opt.step();  // buf = [0.5, 1]; p = [1 - 0.05, -2 - 0.1]
  check_close(p.to_vector(), {0.95, -2.1});
  set_grad(p, g2);
  opt.step();  // buf = 0.9 [0.5, 1] + [-0.25, 2] = [0.2, 2.9]; p = [0.95 - 0.02, -2.1 - 0.29]
  check_close(p.to_vector(), {0.93, -2.39});
  set_grad(p, g3);
  opt.step();  // buf = 0.9 [0.2, 2.9] + [0, -1] = [0.18, 1.61]; p = [0.93 - 0.018, -2.39 - 0.161]
  check_close(p.to_vector(), {0.912, -2.551});
}

TEST_CASE("SGD with momentum, dampening and weight decay follows torch.optim.SGD", "[optim]") {
  DoubleTensor p = param();
  SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.5).weight_decay(0.1));
  set_grad(p, g1);
  opt.step();
  // d = g1 + 0.1 p = [0.6, 0.8]; buf = d (no dampening the first time); p = [0.94, -2.08]
  check_close(p.to_vector(), {0.94, -2.08});
  set_grad(p, g2);
  opt.step();
  // d = [-0.25 + 0.094, 2 - 0.208] = [-0.156, 1.792]
  // buf = 0.9 [0.6, 0.8] + 0.5 d = [0.462, 1.616]; p = [0.94 - 0.0462, -2.08 - 0.1616]
  check_close(p.to_vector(), {0.8938, -2.2416});
  set_grad(p, g3);
  opt.step();
  // d = [0 + 0.08938, -1 - 0.22416] = [0.08938, -1.22416]
  // buf = 0.9 [0.462, 1.616] + 0.5 d = [0.46049, 0.84232]; p = [0.8938 - 0.046049, -2.2416 -
  // 0.084232]
  check_close(p.to_vector(), {0.847751, -2.325832});
}

TEST_CASE("SGD with Nesterov momentum steps by -lr * (d + momentum * buf)", "[optim]") {
  DoubleTensor p = param();
  SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  set_grad(p, g1);
  opt.step();  // buf = [0.5, 1]; d = g1 + 0.9 buf = [0.95, 1.9]; p = [0.905, -2.19]
  check_close(p.to_vector(), {0.905, -2.19});
  set_grad(p, g2);
  opt.step();  // buf = [0.2, 2.9]; d = [-0.25 + 0.18, 2 + 2.61] = [-0.07, 4.61]
  check_close(p.to_vector(), {0.912, -2.651});
  set_grad(p, g3);
  opt.step();  // buf = [0.18, 1.61]; d = [0 + 0.162, -1 + 1.449] = [0.162, 0.449]
  check_close(p.to_vector(), {0.8958, -2.6959});
}

TEST_CASE("step skips parameters without a gradient and runs under no-grad", "[optim]") {
  DoubleTensor a = param(), b = param({3});
  SGD opt({a, b}, optim::SGDOptions(0.1).momentum(0.9));
  set_grad(a, g1);
  opt.step();
  CHECK(b.to_vector() == V{3});
  check_close(a.to_vector(), {0.95, -2.1});
  CHECK(eigrad::is_grad_enabled());
  CHECK(a.is_leaf());
  CHECK(a.requires_grad());
  // Only a has momentum state.
  const auto state = opt.state_dict().state;
  REQUIRE(state.size() == 1);
  CHECK(state[0].first == "0.0.momentum_buffer");
  CHECK(state[0].second.to_vector() == V{0.5, 1});
}

TEST_CASE("zero_grad drops the gradients of every parameter of every group", "[optim]") {
  DoubleTensor a = param(), b = param();
  SGD opt({{{a}, optim::SGDOptions(0.1)}, {{b}, optim::SGDOptions(0.2)}});
  set_grad(a, g1);
  set_grad(b, g2);
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("parameter groups keep their own options", "[optim]") {
  DoubleTensor weights = param(), slopes = param({0.25});
  SGD opt(
      {{{weights}, optim::SGDOptions(0.1).weight_decay(0.1)}, {{slopes}, optim::SGDOptions(0.5)}});
  set_grad(weights, g1);
  set_grad(slopes, {0.1});
  opt.step();
  check_close(weights.to_vector(), {0.94, -2.08});
  check_close(slopes.to_vector(), {0.25 - 0.5 * 0.1});  // no weight decay in this group
  CHECK(opt.group_count() == 2);
  CHECK(opt.options(1).lr() == 0.5);
  CHECK(opt.params(1)[0].same(slopes));
}

TEST_CASE("optimizers reject bad parameters and options with a clear message", "[optim]") {
  DoubleTensor p = param();
  CHECK_THROWS_WITH(SGD({}, optim::SGDOptions(0.1)), Contains("SGD: got an empty parameter list"));
  CHECK_THROWS_WITH(SGD({p, p}, optim::SGDOptions(0.1)),
                    Contains("parameter 1 of group 0 is the same tensor as parameter 0"));
  CHECK_THROWS_WITH(
      SGD({{{p}, optim::SGDOptions(0.1)}, {{p}, optim::SGDOptions(0.1)}}),
      Contains("parameter 0 of group 1 is the same tensor as parameter 0 of group 0"));
  CHECK_THROWS_WITH(SGD({p * 2.0}, optim::SGDOptions(0.1)), Contains("only leaf tensors"));
  CHECK_THROWS_WITH(SGD({p}, optim::SGDOptions(0.1).nesterov(true)),
                    Contains("SGD: invalid options: nesterov needs momentum > 0"));
  CHECK_THROWS_WITH(SGD({p}, optim::SGDOptions(-1)), Contains("lr must be >= 0"));
  CHECK_THROWS_WITH(Adam({p}, optim::AdamOptions().betas(0.9, 1.0)),
                    Contains("Adam: invalid options: betas must be in [0, 1)"));
  CHECK_THROWS_WITH(AdamW({p}, optim::AdamWOptions().eps(-1)), Contains("AdamW: invalid options"));
  SGD opt({p}, optim::SGDOptions(0.1));
  CHECK_THROWS_WITH(opt.set_lr(0.1, 1), Contains("group 1 does not exist"));
  CHECK_THROWS_WITH(opt.set_lr(-0.1), Contains("lr must be >= 0"));
  CHECK(opt.lr() == 0.1);
}

// ---------------------------------------------------------------- Adam and AdamW

TEST_CASE("Adam follows torch.optim.Adam with its bias corrections", "[optim]") {
  DoubleTensor p = param();
  Adam opt({p}, optim::AdamOptions(0.1));  // betas (0.9, 0.999), eps 1e-8
  set_grad(p, g1);
  opt.step();
  // m = 0.1 g1 = [0.05, 0.1]; v = 0.001 g1^2 = [0.00025, 0.001]
  // step size = 0.1 / (1 - 0.9) = 1; denominator = sqrt(v) / sqrt(1 - 0.999) + 1e-8
  const double a1 = 1 - 1.0 * 0.05 / (std::sqrt(0.00025) / std::sqrt(0.001) + 1e-8);
  const double b1 = -2 - 1.0 * 0.1 / (std::sqrt(0.001) / std::sqrt(0.001) + 1e-8);
  check_close(p.to_vector(), {a1, b1});
  set_grad(p, g2);
  opt.step();
  // m = 0.9 [0.05, 0.1] + 0.1 [-0.25, 2] = [0.02, 0.29]
  // v = 0.999 [0.00025, 0.001] + 0.001 [0.0625, 4] = [0.00031225, 0.004999]
  // step size = 0.1 / (1 - 0.81); bias correction 2 = 1 - 0.998001 = 0.001999
  const double a2 = a1 - 0.1 / 0.19 * 0.02 / (std::sqrt(0.00031225) / std::sqrt(0.001999) + 1e-8);
  const double b2 = b1 - 0.1 / 0.19 * 0.29 / (std::sqrt(0.004999) / std::sqrt(0.001999) + 1e-8);
  check_close(p.to_vector(), {a2, b2});
  set_grad(p, g3);
  opt.step();
  // m = 0.9 [0.02, 0.29] + 0.1 [0, -1] = [0.018, 0.161]
  // v = 0.999 [0.00031225, 0.004999] + 0.001 [0, 1] = [0.00031193775, 0.005994001]
  // step size = 0.1 / (1 - 0.729); bias correction 2 = 1 - 0.997002999 = 0.002997001
  const double a3 =
      a2 - 0.1 / 0.271 * 0.018 / (std::sqrt(0.00031193775) / std::sqrt(0.002997001) + 1e-8);
  const double b3 =
      b2 - 0.1 / 0.271 * 0.161 / (std::sqrt(0.005994001) / std::sqrt(0.002997001) + 1e-8);
  check_close(p.to_vector(), {a3, b3});

  const auto state = opt.state_dict().state;
  REQUIRE(state.size() == 3);
  CHECK(state[0].first == "0.0.step");
  CHECK(state[0].second.shape() == Shape{});
  CHECK(state[0].second.item() == 3);
  CHECK(state[1].first == "0.0.exp_avg");
  check_close(state[1].second.to_vector(), {0.018, 0.161});
  CHECK(state[2].first == "0.0.exp_avg_sq");
  check_close(state[2].second.to_vector(), {0.00031193775, 0.005994001});
}

TEST_CASE("Adam's weight decay is added to the gradient (L2)", "[optim]") {
  DoubleTensor p = param();
  Adam opt({p}, optim::AdamOptions(0.1).weight_decay(0.1));
  set_grad(p, g1);
  opt.step();
  // g = g1 + 0.1 p = [0.6, 0.8]; m = [0.06, 0.08]; v = 0.001 [0.36, 0.64]; step size 1
  check_close(p.to_vector(), {1 - 0.06 / (std::sqrt(0.00036) / std::sqrt(0.001) + 1e-8),
                              -2 - 0.08 / (std::sqrt(0.00064) / std::sqrt(0.001) + 1e-8)});
}

TEST_CASE("AdamW decays the weights by lr * weight_decay * p before the Adam step", "[optim]") {
  DoubleTensor p = param();
  AdamW opt({p}, optim::AdamWOptions(0.1).weight_decay(0.1));
  CHECK(optim::AdamWOptions().weight_decay() == 0.01);  // PyTorch's default
  set_grad(p, g1);
  opt.step();
  // p = (1 - 0.1 * 0.1) p, then the same moments as Adam without decay.
  const double a1 = 0.99 * 1 - 0.05 / (std::sqrt(0.00025) / std::sqrt(0.001) + 1e-8);
  const double b1 = 0.99 * -2 - 0.1 / (std::sqrt(0.001) / std::sqrt(0.001) + 1e-8);
  check_close(p.to_vector(), {a1, b1});
  set_grad(p, g2);
  opt.step();
  const double a2 =
      0.99 * a1 - 0.1 / 0.19 * 0.02 / (std::sqrt(0.00031225) / std::sqrt(0.001999) + 1e-8);
  const double b2 =
      0.99 * b1 - 0.1 / 0.19 * 0.29 / (std::sqrt(0.004999) / std::sqrt(0.001999) + 1e-8);
  check_close(p.to_vector(), {a2, b2});
}

TEST_CASE("Adam with amsgrad divides by the largest second moment seen", "[optim]") {
  DoubleTensor p = param({1});
  Adam opt({p}, optim::AdamOptions(0.1).amsgrad(true));
  set_grad(p, {1});
  opt.step();  // m = 0.1, v = 0.001 = v_max
  const double p1 = 1 - 0.1 / (std::sqrt(0.001) / std::sqrt(0.001) + 1e-8);
  check_close(p.to_vector(), {p1});
  set_grad(p, {0});
  opt.step();  // m = 0.09, v = 0.000999 < v_max = 0.001
  check_close(p.to_vector(),
              {p1 - 0.1 / 0.19 * 0.09 / (std::sqrt(0.001) / std::sqrt(0.001999) + 1e-8)});
  CHECK(opt.state_dict().state.back().first == "0.0.max_exp_avg_sq");
}

// ---------------------------------------------------------------- state export and import

TEST_CASE("an optimizer restored from state_dict continues exactly like the original", "[optim]") {
  DoubleTensor p = param(), q = param();
  Adam a({p}, optim::AdamOptions(0.1));
  set_grad(p, g1);
  a.step();
  set_grad(p, g2);
  a.step();
  q.mutable_array() = p.array();
  Adam b({q}, optim::AdamOptions(0.1));
  b.load_state_dict(a.state_dict());
  set_grad(p, g3);
  set_grad(q, g3);
  a.step();
  b.step();
  CHECK(q.to_vector() == p.to_vector());
  // state_dict hands out copies: changing one leaves the optimizer alone.
  auto state = a.state_dict().state;
  state[1].second.mutable_array().setConstant(7);
  CHECK(a.state_dict().state[1].second.to_vector() != V{7, 7});
}

TEST_CASE("load_state_dict checks names, shapes and completeness before changing anything",
          "[optim]") {
  DoubleTensor p = param(), r = param({5});
  Adam opt({p, r}, optim::AdamOptions(0.1));
  set_grad(p, g1);
  opt.step();
  const auto before = opt.state_dict().state;
  const DoubleTensor vec = DoubleTensor::zeros({2}), scalar = DoubleTensor::zeros({});
  using Named = optim::NamedTensors<double>;
  CHECK_THROWS_WITH(opt.load_state_dict(Named{{"exp_avg", vec}}),
                    Contains("Adam::load_state_dict: cannot read the entry name 'exp_avg'"));
  CHECK_THROWS_WITH(opt.load_state_dict(Named{{"0.2.exp_avg", vec}}),
                    Contains("refers to parameter 2 of group 0, which does not exist"));
  CHECK_THROWS_WITH(opt.load_state_dict(Named{{"1.0.exp_avg", vec}}), Contains("does not exist"));
  CHECK_THROWS_WITH(
      opt.load_state_dict(Named{{"0.0.momentum_buffer", vec}}),
      Contains("unknown key 'momentum_buffer'") && Contains("step, exp_avg, exp_avg_sq"));
  CHECK_THROWS_WITH(opt.load_state_dict(Named{{"0.1.exp_avg", vec}}),
                    Contains("'0.1.exp_avg' has shape [2] but shape [1] was expected"));
  CHECK_THROWS_WITH(opt.load_state_dict(Named{{"0.0.step", scalar}, {"0.0.exp_avg", vec}}),
                    Contains("parameter 0 of group 0 has some state entries but not 'exp_avg_sq'"));
  CHECK_THROWS_WITH(opt.load_state_dict(Named{{"0.0.step", scalar}, {"0.0.step", scalar}}),
                    Contains("appears twice"));
  const auto after = opt.state_dict().state;
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].first == before[i].first);
    CHECK(after[i].second.to_vector() == before[i].second.to_vector());
  }
  // An empty state is valid: the optimizer starts over.
  opt.load_state_dict(optim::NamedTensors<double>{});
  CHECK(opt.state_dict().state.empty());
}

// ---------------------------------------------------------------- learning-rate schedules

TEST_CASE("StepLR multiplies every group's rate by gamma every step_size epochs", "[optim]") {
  DoubleTensor a = param(), b = param();
  SGD opt({{{a}, optim::SGDOptions(0.1)}, {{b}, optim::SGDOptions(0.4)}});
  optim::StepLR schedule(opt, 2, 0.5);
  const V expected_a{0.1, 0.05, 0.05, 0.025, 0.025}, expected_b{0.4, 0.2, 0.2, 0.1, 0.1};
  CHECK(opt.lr(0) == 0.1);
  for (size_t e = 0; e < expected_a.size(); ++e) {
    schedule.step();  // epoch e + 1
    CHECK(opt.lr(0) == Approx(expected_a[e]));
    CHECK(opt.lr(1) == Approx(expected_b[e]));
  }
  CHECK(schedule.epoch() == 5);
  schedule.set_epoch(0);
  CHECK(schedule.last_lr() == V{0.1, 0.4});
  CHECK_THROWS_WITH(optim::StepLR(opt, 0), Contains("StepLR: step_size must be >= 1"));
}

TEST_CASE("CosineAnnealingLR follows half a cosine from the base rate to eta_min", "[optim]") {
  DoubleTensor a = param();
  SGD opt({a}, optim::SGDOptions(0.1));
  optim::CosineAnnealingLR schedule(opt, 4, 0.01);
  const double pi = std::acos(-1.0);
  // eta_min + (0.1 - eta_min) (1 + cos(pi e / 4)) / 2
  const V expected{0.01 + 0.09 * (1 + std::cos(pi / 4)) / 2, 0.055,
                   0.01 + 0.09 * (1 + std::cos(3 * pi / 4)) / 2, 0.01};
  for (double lr : expected) {
    schedule.step();
    CHECK(opt.lr() == Approx(lr));
  }
  CHECK_THROWS_WITH(optim::CosineAnnealingLR(opt, 0), Contains("t_max must be >= 1"));
}
