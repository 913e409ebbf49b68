#include "eigrad/optim/optimizer.hpp"

#include <map>
#include <set>
#include <tuple>

#include "eigrad/autograd.hpp"

namespace eigrad::optim {

void Optimizer::check_group(const char* op, size_t group) const {
  if (group >= group_count())
    throw Error(std::string("Optimizer::") + op + ": group " + std::to_string(group) +
                " does not exist; the optimizer has " + std::to_string(group_count()) +
                " parameter group(s)");
}

double Optimizer::lr(size_t group) const {
  check_group("lr", group);
  return group_lr(group);
}

void Optimizer::set_lr(double lr, size_t group) {
  check_group("set_lr", group);
  set_group_lr(group, lr);
}

void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < group_count(); ++g) set_group_lr(g, lr);
}

template <class T>
void BasicOptimizer<T>::zero_grad() {
  for (auto& group : params_)
    for (Tensor& p : group) p.zero_grad();
}

template <class T>
const std::vector<BasicTensor<T>>& BasicOptimizer<T>::params(size_t group) const {
  check_group("params", group);
  return params_[group];
}

template <class T>
void BasicOptimizer<T>::add_group(std::vector<Tensor> params) {
  const size_t g = params_.size();
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    const std::string where =
        type_name() + ": parameter " + std::to_string(i) + " of group " + std::to_string(g);
    if (!p.defined()) throw Error(where + " is undefined");
    if (!p.is_leaf())
      throw Error(where + " (shape " + p.shape().str() + ") was produced by '" + p.grad_fn_name() +
                  "'; only leaf tensors can be optimized");
    for (size_t h = 0; h <= g; ++h) {
      const std::vector<Tensor>& other = h < g ? params_[h] : params;
      const size_t end = h < g ? other.size() : i;
      for (size_t j = 0; j < end; ++j)
        if (other[j].impl() == p.impl())
          throw Error(where + " is the same tensor as parameter " + std::to_string(j) +
                      " of group " + std::to_string(h) + "; each parameter may appear once");
    }
  }
  state_.emplace_back(params.size());
  params_.push_back(std::move(params));
}

template <class T>
std::vector<BasicTensor<T>>& BasicOptimizer<T>::state(size_t group, size_t i) {
  std::vector<Tensor>& s = state_[group][i];
  if (s.empty())
    for (const StateKey& key : state_keys(group))
      s.push_back(Tensor::zeros(key.scalar ? Shape{} : params_[group][i].shape()));
  return s;
}

template <class T>
OptimizerStateDict<T> BasicOptimizer<T>::state_dict() const {
  OptimizerStateDict<T> out;
  out.type = type_name();
  for (size_t g = 0; g < params_.size(); ++g)
    out.param_groups.push_back({static_cast<int64_t>(params_[g].size()), settings(g)});
  for (size_t g = 0; g < state_.size(); ++g) {
    const std::vector<StateKey> keys = state_keys(g);
    for (size_t i = 0; i < state_[g].size(); ++i)
      for (size_t k = 0; k < state_[g][i].size(); ++k)
        out.state.emplace_back(std::to_string(g) + "." + std::to_string(i) + "." + keys[k].name,
                               state_[g][i][k].clone());
  }
  return out;
}

template <class T>
void BasicOptimizer<T>::load_state_dict(const OptimizerStateDict<T>& state) {
  const std::string op = type_name() + "::load_state_dict: ";
  if (state.type != type_name())
    throw Error(op + "the key 'type' is '" + state.type + "': the state dict is of " +
                (state.type.empty() ? std::string("no optimizer") : "an optimizer " + state.type) +
                ", not of " + type_name());
  if (state.param_groups.size() != params_.size())
    throw Error(op + "the key 'param_groups' has " + std::to_string(state.param_groups.size()) +
                " group(s) but the optimizer has " + std::to_string(params_.size()));
  for (size_t g = 0; g < params_.size(); ++g) {
    const std::string key = "the key 'param_groups." + std::to_string(g) + ".";
    if (state.param_groups[g].params != static_cast<int64_t>(params_[g].size()))
      throw Error(op + key + "params' is " + std::to_string(state.param_groups[g].params) +
                  " parameter(s) but group " + std::to_string(g) + " of the optimizer has " +
                  std::to_string(params_[g].size()));
    check_settings(g, state.param_groups[g].options, op + key);
  }
  // The state's keys depend on the options (SGD keeps a momentum buffer only with momentum), so
  // the state is checked under the new options, and the old ones come back if it fails.
  std::vector<Settings> old;
  for (size_t g = 0; g < params_.size(); ++g) old.push_back(settings(g));
  for (size_t g = 0; g < params_.size(); ++g) set_settings(g, state.param_groups[g].options);
  try {
    load_state_dict(state.state);
  } catch (...) {
    for (size_t g = 0; g < params_.size(); ++g) set_settings(g, old[g]);
    throw;
  }
}

namespace {
// "<group>.<index>.<key>" split, or false.
bool parse_state_name(const std::string& name, size_t& group, size_t& index, std::string& key) {
  const size_t a = name.find('.');
  const size_t b = a == std::string::npos ? a : name.find('.', a + 1);
  if (b == std::string::npos) return false;
  auto number = [](const std::string& s, size_t& out) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
      return false;
    out = std::stoul(s);
    return true;
  };
  key = name.substr(b + 1);
  return number(name.substr(0, a), group) && number(name.substr(a + 1, b - a - 1), index) &&
         !key.empty();
}
}  // namespace

template <class T>
void BasicOptimizer<T>::load_state_dict(const NamedTensors<T>& state) {
  const std::string op = type_name() + "::load_state_dict: ";
  // (group, index) -> the given tensor of each key, in state_keys order.
  std::map<std::pair<size_t, size_t>, std::vector<const Tensor*>> found;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : state) {
    if (!seen.insert(name).second) throw Error(op + "the entry '" + name + "' appears twice");
    size_t g = 0, i = 0;
    std::string key;
    if (!parse_state_name(name, g, i, key))
      throw Error(op + "cannot read the entry name '" + name +
                  "'; expected '<group>.<index>.<key>' such as '0.0.momentum_buffer'");
    if (g >= params_.size() || i >= params_[g].size())
      throw Error(op + "the entry '" + name + "' refers to parameter " + std::to_string(i) +
                  " of group " + std::to_string(g) + ", which does not exist (the optimizer has " +
                  std::to_string(params_.size()) + " group(s))");
    const std::vector<StateKey> keys = state_keys(g);
    size_t k = 0;
    while (k < keys.size() && keys[k].name != key) ++k;
    if (k == keys.size()) {
      std::string expected;
      for (const StateKey& s : keys) expected += (expected.empty() ? "" : ", ") + s.name;
      throw Error(op + "the entry '" + name + "' has the unknown key '" + key + "'; " +
                  type_name() + " keeps " + (expected.empty() ? "no state" : expected) +
                  " in group " + std::to_string(g));
    }
    const Shape expected = keys[k].scalar ? Shape{} : params_[g][i].shape();
    if (!tensor.defined() || tensor.shape() != expected)
      throw Error(op + "the entry '" + name + "' has shape " +
                  (tensor.defined() ? tensor.shape().str() : std::string("undefined")) +
                  " but shape " + expected.str() + " was expected");
    auto& slots = found[{g, i}];
    slots.resize(keys.size(), nullptr);
    slots[k] = &tensor;
  }
  for (const auto& [where, slots] : found)
    for (size_t k = 0; k < slots.size(); ++k)
      if (!slots[k])
        throw Error(op + "parameter " + std::to_string(where.second) + " of group " +
                    std::to_string(where.first) + " has some state entries but not '" +
                    state_keys(where.first)[k].name + "'");
  for (auto& group : state_)
    for (auto& s : group) s.clear();
  for (const auto& [where, slots] : found)
    for (const Tensor* t : slots) state_[where.first][where.second].push_back(t->clone());
}

template class BasicOptimizer<float>;
template class BasicOptimizer<double>;

}  // namespace eigrad::optim
