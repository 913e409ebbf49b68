// Training utilities: gradient clipping against PyTorch 1.13's formulas worked by hand,
// parameter counts and nn::summary against counts done by hand, module hooks, and the state
// dicts of optimizers, schedules and generators.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using V = std::vector<double>;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;
namespace utils = eigrad::nn::utils;

namespace {
// Makes p's gradient exactly g: the gradient of sum(p * g) with respect to p.
template <class T>
void set_grad(eigrad::BasicTensor<T>& p, const std::vector<T>& g) {
  p.zero_grad();
  eigrad::sum(p * eigrad::BasicTensor<T>::from(g, p.shape())).backward();
}

DoubleTensor param(const V& values) {
  return DoubleTensor::from(values, {static_cast<int64_t>(values.size())}, true);
}
}  // namespace

// ---------------------------------------------------------------- clip_grad_norm_

TEST_CASE("clip_grad_norm_ scales gradients {3, 4} by 1 / (5 + 1e-6) and returns 5",
          "[training-utils]") {
  DoubleTensor p = param({1, 1}), q = param({2}), r = param({7, 7});
  SECTION("one parameter") {
    set_grad(p, {3.0, 4.0});
    CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 1.0) == 5.0);
    const double coef = 1.0 / (5.0 + 1e-6);
    CHECK(p.grad().to_vector() == V{3 * coef, 4 * coef});
  }
  SECTION("the norm is over all gradients together, and parameters without one are skipped") {
    DoubleTensor a = param({0}), b = param({0});
    set_grad(a, {3.0});
    set_grad(b, {-4.0});
    CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{a, r, b}, 2.0) == 5.0);
    const double coef = 2.0 / (5.0 + 1e-6);
    CHECK(a.grad().to_vector() == V{3 * coef});
    CHECK(b.grad().to_vector() == V{-4 * coef});
    CHECK_FALSE(r.grad().defined());
  }
  SECTION("a norm below max_norm leaves the gradients alone") {
    set_grad(p, {3.0, 4.0});
    CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 10.0) == 5.0);
    CHECK(p.grad().to_vector() == V{3, 4});
  }
  SECTION("no gradient at all: total 0") {
    CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{q, r}, 1.0) == 0.0);
  }
}

TEST_CASE("clip_grad_norm_ takes the infinity norm and other orders", "[training-utils]") {
  DoubleTensor p = param({0, 0, 0});
  set_grad(p, {3.0, -4.0, 1.0});
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 2.0, inf) == 4.0);
  const double c = 2.0 / (4.0 + 1e-6);
  CHECK(p.grad().to_vector() == V{3 * c, -4 * c, 1 * c});
  set_grad(p, {3.0, -4.0, 1.0});
  CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 100.0, 1.0) == 8.0);
  set_grad(p, {1.0, -1.0, 2.0});  // (1 + 1 + 8)^(1/3)
  CHECK(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 100.0, 3.0) ==
        Approx(std::cbrt(10.0)).epsilon(1e-14));
  CHECK_THROWS_WITH(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 1.0, 0.0),
                    Contains("clip_grad_norm_: norm_type must be > 0"));
}

TEST_CASE("clip_grad_norm_ with error_if_nonfinite names the norm and changes nothing",
          "[training-utils]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  DoubleTensor p = param({0, 0});
  set_grad(p, {nan, 1.0});
  CHECK_THROWS_WITH(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 1.0, 2.0, true),
                    Contains("total norm of order 2") && Contains("nan") &&
                        Contains("non-finite") && Contains("error_if_nonfinite"));
  CHECK(p.grad().to_vector()[1] == 1.0);
  CHECK_THROWS_WITH(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 1.0, inf, true),
                    Contains("order inf") && Contains("is nan"));
  set_grad(p, {inf, 1.0});
  CHECK_THROWS_WITH(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 1.0, inf, true),
                    Contains("order inf") && Contains("is inf"));
  CHECK(p.grad().to_vector() == V{inf, 1.0});
  // Without the flag the gradients are scaled by the non-finite norm, as in PyTorch.
  CHECK(std::isinf(utils::clip_grad_norm_(std::vector<DoubleTensor>{p}, 1.0)));
}

TEST_CASE("clip_grad_norm_ in float32", "[training-utils]") {
  Tensor p = Tensor::from({1, 1}, {2}, true);
  set_grad(p, std::vector<float>{3.0f, 4.0f});
  CHECK(utils::clip_grad_norm_(std::vector<Tensor>{p}, 1.0) == Approx(5.0));
  CHECK(p.grad().to_vector()[0] == Approx(0.6).epsilon(1e-6));
  CHECK(p.grad().to_vector()[1] == Approx(0.8).epsilon(1e-6));
}

TEST_CASE("clip_grad_value_ clamps each gradient into [-c, c]", "[training-utils]") {
  DoubleTensor p = param({0, 0, 0, 0}), r = param({1});
  set_grad(p, {-3.0, 0.5, 2.0, -1.0});
  utils::clip_grad_value_(std::vector<DoubleTensor>{p, r}, 1.0);
  CHECK(p.grad().to_vector() == V{-1.0, 0.5, 1.0, -1.0});
  CHECK_FALSE(r.grad().defined());
  Tensor f = Tensor::from({0, 0}, {2}, true);
  set_grad(f, std::vector<float>{0.25f, -7.0f});
  utils::clip_grad_value_(std::vector<Tensor>{f}, 0.5);
  CHECK(f.grad().to_vector() == std::vector<float>{0.25f, -0.5f});
  CHECK_THROWS_WITH(utils::clip_grad_value_(std::vector<DoubleTensor>{p}, -1.0),
                    Contains("clip_grad_value_: clip_value must be >= 0"));
}

// ---------------------------------------------------------------- counts and summary

namespace {
// Linear(4, 8) -> relu -> Dropout -> Sequential(Linear(8, 3), Linear(3, 2, no bias)).
std::shared_ptr<nn::Sequential> small_net() {
  Generator gen(1);
  auto head = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(8, 3, gen),
                                               std::make_shared<nn::Linear>(3, 2, false, gen));
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8, gen),
                                          std::make_shared<nn::Activation>("relu"),
                                          std::make_shared<nn::Dropout>(0.5, 3), head);
}
}  // namespace

TEST_CASE("parameters_count counts elements, trainable or all", "[training-utils]") {
  auto net = small_net();
  // 4*8 + 8, 8*3 + 3, 3*2
  CHECK(utils::parameters_count(*net) == 40 + 27 + 6);
  CHECK(utils::parameters_count(*net, true) == 73);
  net->parameter("3.0.bias").set_requires_grad(false);
  CHECK(utils::parameters_count(*net) == 73);
  CHECK(utils::parameters_count(*net, true) == 70);
  CHECK(utils::numel(std::vector<Tensor>{Tensor::zeros({2, 3}), Tensor::zeros({5})}) == 11);
}

TEST_CASE("summary lists the leaf modules with their output shapes and counts",
          "[training-utils]") {
  auto net = small_net();
  net->parameter("3.0.bias").set_requires_grad(false);
  auto dropout = net->at<nn::Dropout>(2);
  const std::string generator_before = dropout->generator()->state();
  const nn::Summary s = nn::summary(*net, Shape{5, 4});
  REQUIRE(s.rows.size() == 5);
  const std::vector<std::string> names{"0", "1", "2", "3.0", "3.1"};
  const std::vector<std::string> types{"Linear", "Activation(relu)", "Dropout", "Linear", "Linear"};
  const std::vector<std::string> shapes{"[5, 8]", "[5, 8]", "[5, 8]", "[5, 3]", "[5, 2]"};
  const std::vector<int64_t> params{40, 0, 0, 27, 6}, trainable{40, 0, 0, 24, 6};
  for (size_t i = 0; i < 5; ++i) {
    CHECK(s.rows[i].name == names[i]);
    CHECK(s.rows[i].type == types[i]);
    CHECK(s.rows[i].output_shape == shapes[i]);
    CHECK(s.rows[i].params == params[i]);
    CHECK(s.rows[i].trainable_params == trainable[i]);
  }
  CHECK(s.total_params == 73);
  CHECK(s.trainable_params == 70);
  CHECK(s.non_trainable_params() == 3);
  const std::string table = s.str();
  CHECK_THAT(table, Contains("3.0 (Linear)") && Contains("[5, 3]") && Contains("partly") &&
                        Contains("Total params: 73") && Contains("Trainable params: 70") &&
                        Contains("Non-trainable params: 3") && Contains("Input shape: [5, 4]"));
  // The run changed nothing: modes, the dropout's generator, the hooks are gone.
  CHECK(net->is_training());
  CHECK(dropout->is_training());
  CHECK(dropout->generator()->state() == generator_before);
  int calls = 0;
  net->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor&) { ++calls; });
  (*net)(Tensor::zeros({1, 4}));
  CHECK(calls == 1);
}

TEST_CASE("summary of a wrongly shaped input names the shape and restores the modes",
          "[training-utils]") {
  auto net = small_net();
  CHECK_THROWS_WITH(nn::summary(*net, Shape{5, 7}), Contains("summary") && Contains("[5, 7]"));
  CHECK(net->at<nn::Dropout>(2)->is_training());
  const nn::Summary s = nn::summary(*net, Shape{1, 4});  // no hook left over from the failure
  CHECK(s.rows[4].output_shape == "[1, 2]");
}

// ---------------------------------------------------------------- hooks

TEST_CASE("forward hooks run in registration order around forward", "[training-utils]") {
  Generator gen(2);
  nn::Linear lin(2, 1, gen);
  std::vector<std::string> log;
  lin.register_forward_pre_hook([&](nn::Module&, const Tensor&) { log.push_back("pre1"); });
  lin.register_forward_hook([&](nn::Module& m, const Tensor& x, const Tensor& y) {
    log.push_back("post1 " + m.type_name() + " " + x.shape().str() + "->" + y.shape().str());
  });
  lin.register_forward_pre_hook([&](nn::Module&, const Tensor&) { log.push_back("pre2"); });
  lin.register_forward_hook(
      [&](nn::Module&, const Tensor&, const Tensor&) { log.push_back("post2"); });
  lin(Tensor::zeros({3, 2}));
  CHECK(log == std::vector<std::string>{"pre1", "pre2", "post1 Linear [3, 2]->[3, 1]", "post2"});
  log.clear();
  lin.forward(Tensor::zeros({3, 2}));  // forward() itself bypasses the hooks, as in PyTorch
  CHECK(log.empty());
}

TEST_CASE("a pre-hook replaces the input and a forward hook the output", "[training-utils]") {
  Generator gen(3);
  nn::BasicLinear<double> lin(2, 1, gen);
  const double w0 = lin.weight().at({0, 0}), w1 = lin.weight().at({0, 1}), b = lin.bias().at({0});
  std::vector<double> seen_by_forward_hook;
  auto pre = lin.register_forward_pre_hook(
      [](nn::BasicModule<double>&, const DoubleTensor& x) -> std::optional<DoubleTensor> {
        return x * DoubleTensor::scalar(2.0);
      });
  auto post = lin.register_forward_hook([&](nn::BasicModule<double>&, const DoubleTensor& x,
                                            const DoubleTensor& y) -> std::optional<DoubleTensor> {
    seen_by_forward_hook = x.to_vector();
    return y + DoubleTensor::scalar(10.0);
  });
  const DoubleTensor x = DoubleTensor::from({1.0, -3.0}, {1, 2});
  check_close(lin(x).to_vector(), {w0 * 2 - w1 * 6 + b + 10});
  CHECK(seen_by_forward_hook == V{2.0, -6.0});  // the replaced input
  // A pre-hook that returns nothing keeps the input.
  auto keep = lin.register_forward_pre_hook(
      [](nn::BasicModule<double>&, const DoubleTensor&) -> std::optional<DoubleTensor> {
        return std::nullopt;
      });
  check_close(lin(x).to_vector(), {w0 * 2 - w1 * 6 + b + 10});
  pre.remove();
  post.remove();
  keep.remove();
  check_close(lin(x).to_vector(), {w0 - w1 * 3 + b});
}

TEST_CASE("removing a hook stops it, twice is harmless, and handles outlive modules",
          "[training-utils]") {
  Generator gen(4);
  auto lin = std::make_shared<nn::Linear>(2, 2, gen);
  int a = 0, b = 0;
  nn::RemovableHandle ha =
      lin->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor&) { ++a; });
  nn::RemovableHandle hb = lin->register_forward_pre_hook([&](nn::Module&, const Tensor&) { ++b; });
  (*lin)(Tensor::zeros({1, 2}));
  ha.remove();
  ha.remove();
  (*lin)(Tensor::zeros({1, 2}));
  CHECK(a == 1);
  CHECK(b == 2);
  lin.reset();
  hb.remove();  // the module is gone: nothing to do
  CHECK(b == 2);
}

TEST_CASE("a Sequential calls its children through their hooks", "[training-utils]") {
  auto net = small_net();
  std::vector<std::string> order;
  for (const auto& [name, child] : net->named_children())
    child->register_forward_hook(
        [&order, n = name](nn::Module&, const Tensor&, const Tensor&) { order.push_back(n); });
  auto inner = net->at<nn::Sequential>(3);
  (*inner)[1]->register_forward_pre_hook(
      [&](nn::Module&, const Tensor& x) { order.push_back("3.1 pre " + x.shape().str()); });
  (*net)(Tensor::zeros({2, 4}));
  CHECK(order == std::vector<std::string>{"0", "1", "2", "3.1 pre [2, 3]", "3"});
}

TEST_CASE("an empty hook is refused", "[training-utils]") {
  Generator gen(5);
  nn::Linear lin(2, 2, gen);
  CHECK_THROWS_WITH(lin.register_forward_hook(nn::Module::ForwardHook()),
                    Contains("Linear::register_forward_hook: the hook is empty"));
}

// ---------------------------------------------------------------- optimizer state dicts

TEST_CASE("an SGD state dict holds the type, the groups' options and the momentum buffers",
          "[training-utils]") {
  DoubleTensor p = param({1, -2}), q = param({3});
  optim::BasicSGD<double> opt(
      {{{p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).weight_decay(0.01)},
       {{q}, optim::SGDOptions(0.2).momentum(0.5).nesterov(true)}});
  set_grad(p, {0.5, 1.0});
  set_grad(q, {2.0});
  opt.step();
  const auto s = opt.state_dict();
  CHECK(s.type == "SGD");
  REQUIRE(s.param_groups.size() == 2);
  CHECK(s.param_groups[0].params == 1);
  CHECK(s.param_groups[0].options == optim::Settings{{"lr", 0.1},
                                                     {"momentum", 0.9},
                                                     {"dampening", 0.1},
                                                     {"weight_decay", 0.01},
                                                     {"nesterov", 0.0}});
  CHECK(s.param_groups[1].options == optim::Settings{{"lr", 0.2},
                                                     {"momentum", 0.5},
                                                     {"dampening", 0.0},
                                                     {"weight_decay", 0.0},
                                                     {"nesterov", 1.0}});
  REQUIRE(s.state.size() == 2);
  CHECK(s.state[0].first == "0.0.momentum_buffer");
  check_close(s.state[0].second.to_vector(), {0.5 + 0.01 * 1, 1.0 + 0.01 * -2});  // the first d
  CHECK(s.state[1].first == "1.0.momentum_buffer");
  CHECK(s.state[1].second.to_vector() == V{2.0});

  // Into an optimizer built with other options: they come back, and both continue alike.
  DoubleTensor p2 = param({1, -2}), q2 = param({3});
  p2.mutable_array() = p.array();
  q2.mutable_array() = q.array();
  optim::BasicSGD<double> other({{{p2}, optim::SGDOptions(5.0)}, {{q2}, optim::SGDOptions(5.0)}});
  other.load_state_dict(s);
  CHECK(other.settings(0) == s.param_groups[0].options);
  CHECK(other.settings(1) == s.param_groups[1].options);
  CHECK(other.lr(1) == 0.2);
  for (DoubleTensor* t : {&p, &p2}) set_grad(*t, {-1.0, 0.25});
  for (DoubleTensor* t : {&q, &q2}) set_grad(*t, {0.75});
  opt.step();
  other.step();
  CHECK(p2.to_vector() == p.to_vector());
  CHECK(q2.to_vector() == q.to_vector());
}

TEST_CASE("an Adam state dict holds betas, eps and each parameter's step count",
          "[training-utils]") {
  DoubleTensor p = param({1, -2});
  optim::BasicAdamW<double> opt({p}, optim::AdamWOptions(0.01).betas(0.8, 0.99).eps(1e-6));
  for (int i = 0; i < 3; ++i) {
    set_grad(p, {0.5, -1.0});
    opt.step();
  }
  const auto s = opt.state_dict();
  CHECK(s.type == "AdamW");
  CHECK(s.param_groups[0].options == optim::Settings{{"lr", 0.01},
                                                     {"beta1", 0.8},
                                                     {"beta2", 0.99},
                                                     {"eps", 1e-6},
                                                     {"weight_decay", 0.01},
                                                     {"amsgrad", 0.0}});
  REQUIRE(s.state.size() == 3);
  CHECK(s.state[0].first == "0.0.step");
  CHECK(s.state[0].second.item() == 3.0);
}

TEST_CASE("an optimizer state dict that does not match names the key and changes nothing",
          "[training-utils]") {
  DoubleTensor p = param({1, -2}), q = param({3});
  optim::BasicSGD<double> opt({p, q}, optim::SGDOptions(0.1).momentum(0.9));
  set_grad(p, {1.0, 1.0});
  set_grad(q, {1.0});
  opt.step();
  const auto before = opt.state_dict();
  auto unchanged = [&] {
    const auto now = opt.state_dict();
    CHECK(now.param_groups[0].options == before.param_groups[0].options);
    REQUIRE(now.state.size() == before.state.size());
    for (size_t i = 0; i < now.state.size(); ++i)
      CHECK(now.state[i].second.to_vector() == before.state[i].second.to_vector());
  };
  DoubleTensor r = param({0, 0});
  optim::BasicAdam<double> adam({r}, optim::AdamOptions(0.1));
  CHECK_THROWS_WITH(
      opt.load_state_dict(adam.state_dict()),
      Contains("SGD::load_state_dict: the key 'type' is 'Adam'") && Contains("not of SGD"));
  auto s = before;
  s.param_groups[0].params = 3;
  CHECK_THROWS_WITH(opt.load_state_dict(s),
                    Contains("the key 'param_groups.0.params' is 3") && Contains("has 2"));
  s = before;
  s.param_groups.push_back(s.param_groups[0]);
  CHECK_THROWS_WITH(opt.load_state_dict(s), Contains("'param_groups' has 2 group(s)"));
  s = before;
  s.param_groups[0].options.emplace_back("betas", 0.5);
  CHECK_THROWS_WITH(opt.load_state_dict(s),
                    Contains("'param_groups.0.betas' is not an option of SGD") &&
                        Contains("lr, momentum, dampening, weight_decay, nesterov"));
  s = before;
  s.param_groups[0].options.erase(s.param_groups[0].options.begin());
  CHECK_THROWS_WITH(opt.load_state_dict(s), Contains("'param_groups.0.lr' is missing"));
  s = before;
  s.param_groups[0].options[0].second = -1;
  CHECK_THROWS_WITH(opt.load_state_dict(s),
                    Contains("'param_groups.0'") && Contains("lr must be >= 0"));
  s = before;
  s.param_groups[0].options[4].second = 0.5;
  CHECK_THROWS_WITH(opt.load_state_dict(s), Contains("'param_groups.0.nesterov' is a flag"));
  // Options that are fine with a state that is not: the options are rolled back too.
  s = before;
  s.param_groups[0].options[0].second = 0.7;
  s.state[1].second = DoubleTensor::zeros({4});
  CHECK_THROWS_WITH(opt.load_state_dict(s),
                    Contains("'0.1.momentum_buffer' has shape [4] but shape [1] was expected"));
  unchanged();
  CHECK(opt.lr() == 0.1);
  // Without momentum the buffers are not a key SGD keeps.
  s = before;
  s.param_groups[0].options[1].second = 0;
  CHECK_THROWS_WITH(opt.load_state_dict(s), Contains("unknown key 'momentum_buffer'"));
  unchanged();
}

// ---------------------------------------------------------------- schedule state dicts

TEST_CASE("a StepLR state dict restores the epoch, base rates and options", "[training-utils]") {
  DoubleTensor p = param({1});
  optim::BasicSGD<double> opt({p}, optim::SGDOptions(0.1));
  optim::StepLR schedule(opt, 2, 0.5);
  for (int i = 0; i < 3; ++i) schedule.step();
  const optim::LRSchedulerStateDict s = schedule.state_dict();
  CHECK(s.type == "StepLR");
  CHECK(s.last_epoch == 3);
  CHECK(s.base_lrs == V{0.1});
  CHECK(s.last_lrs == V{0.1 * 0.5});
  CHECK(s.options == optim::Settings{{"step_size", 2.0}, {"gamma", 0.5}});

  DoubleTensor p2 = param({1});
  optim::BasicSGD<double> opt2({p2}, optim::SGDOptions(0.3));
  optim::StepLR other(opt2, 7, 0.9);
  other.load_state_dict(s);
  CHECK(other.epoch() == 3);
  CHECK(other.base_lrs() == V{0.1});
  CHECK(opt2.lr() == 0.3);  // as in PyTorch the optimizer's own state restores its rate
  other.step();             // epoch 4: 0.1 * 0.5^2
  CHECK(opt2.lr() == 0.1 * 0.25);
}

TEST_CASE("a schedule state dict that does not match names the key and changes nothing",
          "[training-utils]") {
  DoubleTensor p = param({1});
  optim::BasicSGD<double> opt({p}, optim::SGDOptions(0.1));
  optim::CosineAnnealingLR cosine(opt, 10, 0.01);
  cosine.step();
  optim::StepLR step(opt, 2);
  CHECK_THROWS_WITH(step.load_state_dict(cosine.state_dict()),
                    Contains("StepLR::load_state_dict: the key 'type' is 'CosineAnnealingLR'"));
  auto s = cosine.state_dict();
  s.base_lrs.push_back(0.5);
  CHECK_THROWS_WITH(cosine.load_state_dict(s), Contains("'base_lrs' has 2 rate(s)"));
  s = cosine.state_dict();
  s.options.pop_back();
  CHECK_THROWS_WITH(cosine.load_state_dict(s), Contains("'options.eta_min' is missing"));
  s = cosine.state_dict();
  s.options[0].second = 2.5;
  CHECK_THROWS_WITH(cosine.load_state_dict(s), Contains("'options.t_max' must be an integer >= 1"));
  s = cosine.state_dict();
  s.last_epoch = -1;
  CHECK_THROWS_WITH(cosine.load_state_dict(s), Contains("'last_epoch' must be >= 0"));
  const auto now = cosine.state_dict();
  CHECK(now.last_epoch == 1);
  CHECK(now.options == optim::Settings{{"t_max", 10.0}, {"eta_min", 0.01}});
}

// ---------------------------------------------------------------- generator state

TEST_CASE("a generator restored from its state continues bit for bit", "[training-utils]") {
  Generator g(123);
  for (int i = 0; i < 5; ++i) g.uniform();
  g.normal();  // leaves the second Box-Muller value cached
  const std::string state = g.state();
  std::vector<double> expected;
  for (int i = 0; i < 20; ++i) {
    expected.push_back(g.normal());
    expected.push_back(g.uniform());
    expected.push_back(static_cast<double>(g.randint(1000)));
  }
  Generator h(999);
  h.set_state(state);
  std::vector<double> got;
  for (int i = 0; i < 20; ++i) {
    got.push_back(h.normal());
    got.push_back(h.uniform());
    got.push_back(static_cast<double>(h.randint(1000)));
  }
  CHECK(got == expected);  // exact, the cached second normal value included
}

TEST_CASE("a malformed generator state is refused and the generator is unchanged",
          "[training-utils]") {
  Generator g(7);
  const std::string before = g.state();
  CHECK_THROWS_WITH(g.set_state("hello"),
                    Contains("Generator::set_state") && Contains("Generator::state()"));
  CHECK_THROWS_WITH(g.set_state(before.substr(0, before.size() / 2)),
                    Contains("truncated or malformed"));
  CHECK_THROWS_WITH(g.set_state(before + " 5"), Contains("truncated or malformed"));
  CHECK(g.state() == before);
}
