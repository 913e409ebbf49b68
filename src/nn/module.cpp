#include "eigrad/nn/module.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <typeinfo>
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#endif

#include "eigrad/autograd.hpp"

namespace eigrad::nn {

namespace {
template <class T>
std::string names_of(const NamedTensors<T>& named) {
  std::string out;
  for (const auto& [name, tensor] : named) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

template <class T>
bool all_integers(const BasicTensor<T>& t) {
  return (t.array() == t.array().round()).all();
}
}  // namespace

template <class T>
BasicTensor<T> BasicModule<T>::forward(const Tensor&) {
  throw Error(type_name() + "::forward: this module has no single-input forward(); override " +
              "forward(const Tensor&) or call its own methods");
}

// The hooks of one module, shared with the handles (weakly) so that remove() can reach them.
template <class T>
struct BasicModule<T>::Hooks {
  std::vector<std::pair<uint64_t, ForwardPreHook>> pre;
  std::vector<std::pair<uint64_t, ForwardHook>> post;
  uint64_t next_id = 0;
};

template <class T>
RemovableHandle BasicModule<T>::add_hook(bool pre, ForwardPreHook pre_hook, ForwardHook hook) {
  const char* what = pre ? "register_forward_pre_hook" : "register_forward_hook";
  if (pre ? !pre_hook : !hook)
    throw Error(type_name() + "::" + what + ": the hook is empty (a null std::function)");
  if (!hooks_) hooks_ = std::make_shared<Hooks>();
  const uint64_t id = hooks_->next_id++;
  if (pre)
    hooks_->pre.emplace_back(id, std::move(pre_hook));
  else
    hooks_->post.emplace_back(id, std::move(hook));
  return RemovableHandle([weak = std::weak_ptr<Hooks>(hooks_), pre, id] {
    const std::shared_ptr<Hooks> hooks = weak.lock();
    if (!hooks) return;
    auto drop = [id](auto& list) {
      list.erase(std::remove_if(list.begin(), list.end(),
                                [id](const auto& entry) { return entry.first == id; }),
                 list.end());
    };
    if (pre)
      drop(hooks->pre);
    else
      drop(hooks->post);
  });
}

// The lists are copied first: a hook may register or remove hooks (its own included) and the
// change applies from the next call, as in PyTorch.
template <class T>
BasicTensor<T> BasicModule<T>::call_with_hooks(const Tensor& input) {
  const std::shared_ptr<Hooks> hooks = hooks_;
  const auto pre = hooks->pre;
  const auto post = hooks->post;
  Tensor x = input;
  for (const auto& entry : pre)
    if (std::optional<Tensor> replaced = entry.second(*this, x)) x = std::move(*replaced);
  Tensor y = forward(x);
  for (const auto& entry : post)
    if (std::optional<Tensor> replaced = entry.second(*this, x, y)) y = std::move(*replaced);
  return y;
}

template <class T>
void BasicModule<T>::check_name(const char* what, const std::string& name) const {
  const std::string where = type_name() + "::register_" + what;
  if (name.empty()) throw Error(where + ": the name must not be empty");
  if (name.find('.') != std::string::npos)
    throw Error(where + ": the name '" + name + "' must not contain '.' (dots separate levels " +
                "in named_parameters())");
  for (const auto& p : parameters_)
    if (p.first == name)
      throw Error(where + ": the name '" + name + "' is already taken by a parameter of shape " +
                  p.second.shape().str());
  for (const auto& b : buffers_)
    if (b.name == name)
      throw Error(where + ": the name '" + name + "' is already taken by a buffer of shape " +
                  b.tensor.shape().str());
  for (const auto& c : children_)
    if (c.first == name)
      throw Error(where + ": the name '" + name + "' is already taken by a child module (" +
                  c.second->type_name() + ")");
}

template <class T>
BasicTensor<T> BasicModule<T>::register_parameter(const std::string& name, Tensor tensor,
                                                  bool requires_grad) {
  check_name("parameter", name);
  if (!tensor.defined())
    throw Error(type_name() + "::register_parameter: the tensor for '" + name + "' is undefined");
  if (!tensor.is_leaf())
    throw Error(type_name() + "::register_parameter: the tensor for '" + name + "' (shape " +
                tensor.shape().str() + ") was produced by '" + tensor.grad_fn_name() +
                "'; a parameter must be a leaf: pass detach() or clone()");
  tensor.set_requires_grad(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

template <class T>
BasicTensor<T> BasicModule<T>::register_buffer(const std::string& name, Tensor tensor,
                                               SavedAs saved_as) {
  check_name("buffer", name);
  const std::string where = type_name() + "::register_buffer: the tensor for '" + name + "'";
  if (!tensor.defined()) throw Error(where + " is undefined");
  if (!tensor.is_leaf())
    throw Error(where + " (shape " + tensor.shape().str() + ") was produced by '" +
                tensor.grad_fn_name() + "'; a buffer must be a leaf: pass detach() or clone()");
  if (saved_as == SavedAs::Int64 && !all_integers(tensor))
    throw Error(where + " (shape " + tensor.shape().str() +
                ") is saved as a 64-bit integer but holds values that are not integers");
  tensor.set_requires_grad(false);
  buffers_.push_back({name, tensor, saved_as});
  return tensor;
}

template <class T>
void BasicModule<T>::add_child(const std::string& name, Ptr module) {
  check_name("module", name);
  if (!module)
    throw Error(type_name() + "::register_module: the module for '" + name + "' is null");
  // A module may not contain itself: parameters() would never end.
  std::vector<const BasicModule*> stack{module.get()};
  while (!stack.empty()) {
    const BasicModule* m = stack.back();
    stack.pop_back();
    if (m == this)
      throw Error(type_name() + "::register_module: registering '" + name + "' (" +
                  module->type_name() + ") would make the module its own descendant");
    for (const auto& c : m->children_) stack.push_back(c.second.get());
  }
  children_.emplace_back(name, std::move(module));
}

template <class T>
NamedTensors<T> BasicModule<T>::named_parameters(bool recurse) const {
  return named_tensors(false, recurse);
}

template <class T>
NamedTensors<T> BasicModule<T>::named_buffers(bool recurse) const {
  return named_tensors(true, recurse);
}

template <class T>
NamedTensors<T> BasicModule<T>::named_tensors(bool buffers, bool recurse) const {
  NamedTensors<T> out;
  std::set<const void*> seen;  // identity of the tensor, to list a shared parameter once
  // Depth-first, children in registration order: an explicit stack of (prefix, module).
  std::vector<std::pair<std::string, const BasicModule*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = std::move(stack.back());
    stack.pop_back();
    if (buffers) {
      for (const auto& b : m->buffers_)
        if (seen.insert(b.tensor.impl().get()).second) out.emplace_back(prefix + b.name, b.tensor);
    } else {
      for (const auto& [name, tensor] : m->parameters_)
        if (seen.insert(tensor.impl().get()).second) out.emplace_back(prefix + name, tensor);
    }
    if (!recurse) break;
    for (auto c = m->children_.rbegin(); c != m->children_.rend(); ++c)
      stack.emplace_back(prefix + c->first + ".", c->second.get());
  }
  return out;
}

template <class T>
std::vector<BasicTensor<T>> BasicModule<T>::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& p : named_parameters(recurse)) out.push_back(std::move(p.second));
  return out;
}

template <class T>
std::vector<BasicTensor<T>> BasicModule<T>::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& b : named_buffers(recurse)) out.push_back(std::move(b.second));
  return out;
}

template <class T>
std::vector<typename BasicModule<T>::Ptr> BasicModule<T>::children() const {
  std::vector<Ptr> out;
  for (const auto& c : children_) out.push_back(c.second);
  return out;
}

template <class T>
std::vector<std::pair<std::string, typename BasicModule<T>::Ptr>> BasicModule<T>::named_children()
    const {
  return children_;
}

template <class T>
std::pair<const BasicModule<T>*, std::string> BasicModule<T>::resolve(
    const char* op, const char* what, const std::string& name) const {
  const BasicModule* m = this;
  size_t start = 0;
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', start)) {
    const std::string part = name.substr(start, dot - start);
    auto it = std::find_if(m->children_.begin(), m->children_.end(),
                           [&](const auto& c) { return c.first == part; });
    if (it == m->children_.end())
      throw Error(type_name() + "::" + op + ": no " + what + " named '" + name + "' ('" +
                  name.substr(0, dot) + "' is not a module); " + what +
                  "s: " + names_of(named_tensors(std::string(what) == "buffer", true)));
    m = it->second.get();
    start = dot + 1;
  }
  return {m, name.substr(start)};
}

template <class T>
BasicTensor<T> BasicModule<T>::parameter(const std::string& name) const {
  auto [owner, last] = resolve("parameter", "parameter", name);
  for (const auto& p : owner->parameters_)
    if (p.first == last) return p.second;
  throw Error(type_name() + "::parameter: no parameter named '" + name +
              "'; parameters: " + names_of(named_parameters()));
}

template <class T>
BasicTensor<T> BasicModule<T>::buffer(const std::string& name) const {
  auto [owner, last] = resolve("buffer", "buffer", name);
  for (const auto& b : owner->buffers_)
    if (b.name == last) return b.tensor;
  throw Error(type_name() + "::buffer: no buffer named '" + name +
              "'; buffers: " + names_of(named_buffers()));
}

template <class T>
void BasicModule<T>::set_parameter(const std::string& name, const Tensor& values) {
  Tensor target = parameter(name);
  if (!values.defined() || values.shape() != target.shape())
    throw Error(type_name() + "::set_parameter: parameter '" + name + "' has shape " +
                target.shape().str() + " but the new values have shape " +
                (values.defined() ? values.shape().str() : std::string("undefined")) +
                "; the shapes must match");
  target.mutable_array() = values.array();
}

template <class T>
void BasicModule<T>::load_parameters(const NamedTensors<T>& named) {
  const NamedTensors<T> own = named_parameters();
  std::vector<Tensor> targets;
  std::set<std::string> given;
  for (const auto& [name, values] : named) {
    if (!given.insert(name).second)
      throw Error(type_name() + "::load_parameters: the name '" + name + "' appears twice");
    // (clang before 16 cannot capture a structured binding)
    auto it = std::find_if(own.begin(), own.end(),
                           [&key = name](const auto& p) { return p.first == key; });
    if (it == own.end())
      throw Error(type_name() + "::load_parameters: unexpected parameter '" + name +
                  "'; the module's parameters are: " + names_of(own));
    if (!values.defined() || values.shape() != it->second.shape())
      throw Error(type_name() + "::load_parameters: parameter '" + name + "' has shape " +
                  it->second.shape().str() + " but the loaded tensor has shape " +
                  (values.defined() ? values.shape().str() : std::string("undefined")));
    targets.push_back(it->second);
  }
  for (const auto& p : own)
    if (!given.count(p.first))
      throw Error(type_name() + "::load_parameters: missing parameter '" + p.first + "' (shape " +
                  p.second.shape().str() + ")");
  for (size_t i = 0; i < named.size(); ++i) targets[i].mutable_array() = named[i].second.array();
}

template <class T>
StateDict<T> BasicModule<T>::state_dict() const {
  StateDict<T> out;
  // Depth first, children in registration order (an explicit stack; no deduplication, as in
  // PyTorch's state_dict).
  std::vector<std::pair<std::string, const BasicModule*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = std::move(stack.back());
    stack.pop_back();
    for (const auto& [name, tensor] : m->parameters_) out.push_back({prefix + name, tensor});
    for (const auto& b : m->buffers_) out.push_back({prefix + b.name, b.tensor, b.saved_as});
    for (auto c = m->children_.rbegin(); c != m->children_.rend(); ++c)
      stack.emplace_back(prefix + c->first + ".", c->second.get());
  }
  return out;
}

template <class T>
LoadResult BasicModule<T>::load_state_dict(const StateDict<T>& state, bool strict) {
  NamedTensors<T> named;
  for (const auto& e : state) named.emplace_back(e.name, e.tensor);
  return load_state_dict(named, strict);
}

template <class T>
LoadResult BasicModule<T>::load_state_dict(const NamedTensors<T>& state, bool strict) {
  const StateDict<T> own = state_dict();
  LoadResult result;
  std::vector<std::string> problems;
  std::vector<std::pair<Tensor, const Tensor*>> copies;  // (target, values)
  std::set<std::string> given;
  for (const auto& [name, values] : state) {
    if (!given.insert(name).second) {
      problems.push_back("the name '" + name + "' appears twice");
      continue;
    }
    auto it = std::find_if(own.begin(), own.end(),
                           [&key = name](const StateEntry<T>& e) { return e.name == key; });
    if (it == own.end()) {
      result.unexpected_keys.push_back(name);
      continue;
    }
    if (!values.defined() || values.shape() != it->tensor.shape()) {
      problems.push_back(
          "'" + name + "' has shape " + it->tensor.shape().str() + " in the module but " +
          (values.defined() ? values.shape().str() : std::string("undefined")) + " in the state");
      continue;
    }
    if (it->saved_as == SavedAs::Int64 && !all_integers(values)) {
      problems.push_back("'" + name + "' is an integer buffer but the state holds non-integers");
      continue;
    }
    copies.emplace_back(it->tensor, &values);
  }
  for (const auto& e : own)
    if (!given.count(e.name)) result.missing_keys.push_back(e.name);
  if (strict && !result.missing_keys.empty()) {
    std::string names;
    for (const auto& k : result.missing_keys) names += (names.empty() ? "" : ", ") + k;
    problems.push_back("missing: " + names);
  }
  if (strict && !result.unexpected_keys.empty()) {
    std::string names;
    for (const auto& k : result.unexpected_keys) names += (names.empty() ? "" : ", ") + k;
    problems.push_back("unexpected: " + names);
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw Error(type_name() + "::load_state_dict: the state does not match the module " +
                "(nothing was loaded): " + all);
  }
  for (auto& [target, values] : copies) target.mutable_array() = values->array();
  return result;
}

template <class T>
void BasicModule<T>::train(bool on) {
  std::vector<BasicModule*> stack{this};
  while (!stack.empty()) {
    BasicModule* m = stack.back();
    stack.pop_back();
    m->training_ = on;
    for (auto& c : m->children_) stack.push_back(c.second.get());
  }
}

template <class T>
void BasicModule<T>::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

template <class T>
std::string BasicModule<T>::str() const {
  // Recursion over the module tree (a few levels), not over the autograd graph.
  std::ostringstream os;
  os << type_name() << '(' << extra_repr();
  if (!children_.empty()) {
    os << '\n';
    for (const auto& [name, child] : children_) {
      std::string inner = child->str();
      std::string indented;
      for (char ch : inner) indented += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
      os << "  (" << name << "): " << indented << '\n';
    }
  }
  os << ')';
  return os.str();
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicModule<T>::make_double() const {
  std::string cpp_type = typeid(*this).name();
#if __has_include(<cxxabi.h>)
  int status = 0;
  char* readable = abi::__cxa_demangle(cpp_type.c_str(), nullptr, nullptr, &status);
  if (status == 0 && readable) cpp_type = readable;
  std::free(readable);
#endif
  throw Error(type_name() + " (C++ type " + cpp_type +
              ") cannot be converted to float64: it does not override make_double(), which "
              "to_double() and gradcheck_module() need; override it to return a float64 module "
              "of the same structure");
}

namespace {
// Modes module by module: train() sets a whole subtree, so parents go first.
template <class T>
void copy_modes(const BasicModule<T>& from, BasicModule<double>& to) {
  to.train(from.is_training());
  const auto a = from.named_children();
  const auto b = to.named_children();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i].first == b[i].first) copy_modes(*a[i].second, *b[i].second);
}
}  // namespace

template <class T>
std::shared_ptr<BasicModule<double>> to_double(const BasicModule<T>& module) {
  std::shared_ptr<BasicModule<double>> copy = module.make_double();
  if (!copy) throw Error("to_double: " + module.type_name() + "::make_double() returned null");
  NamedTensors<double> state;
  for (const StateEntry<T>& e : module.state_dict())
    state.emplace_back(e.name, e.tensor.template to<double>());
  try {
    copy->load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    throw Error("to_double: the float64 module made by " + module.type_name() +
                "::make_double() does not have the original's parameters and buffers: " + e.what());
  }
  std::map<std::string, bool> requires_grad;
  for (const auto& [name, p] : module.named_parameters()) requires_grad[name] = p.requires_grad();
  for (auto& [name, p] : copy->named_parameters()) p.set_requires_grad(requires_grad[name]);
  copy_modes(module, *copy);
  return copy;
}

template class BasicModule<float>;
template class BasicModule<double>;
template std::shared_ptr<BasicModule<double>> to_double(const BasicModule<float>&);
template std::shared_ptr<BasicModule<double>> to_double(const BasicModule<double>&);

}  // namespace eigrad::nn
