#pragma once
// nn::Module: a tree of named parameters and child modules, after PyTorch's torch::nn::Module.
// Modules are templates on the dtype (float for training, double for gradcheck); the short names
// (nn::Module, nn::Linear, ...) are the float32 ones.
//
// The registry owns the parameters: a registered tensor is a handle into it, and the only way to
// change a parameter is in place (optimizers, initialisers, set_parameter, load_parameters), so
// parameters() can never disagree with what forward() uses (PyTorch issue 21682).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/tensor.hpp"

namespace eigrad::nn {

template <class T>
using NamedTensors = std::vector<std::pair<std::string, BasicTensor<T>>>;

template <class T>
class BasicModule {
 public:
  using Tensor = BasicTensor<T>;
  using Ptr = std::shared_ptr<BasicModule>;

  BasicModule() = default;
  virtual ~BasicModule() = default;
  BasicModule(const BasicModule&) = delete;
  BasicModule& operator=(const BasicModule&) = delete;

  // The module's computation on one input. The default throws: a module that only groups others
  // (or takes several inputs) need not define it.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // "Linear", "Sequential", ...: used in messages and in str().
  virtual std::string type_name() const { return "Module"; }
  // What str() prints between the parentheses, e.g. "in_features=2, out_features=3, bias=true".
  virtual std::string extra_repr() const { return ""; }
  // PyTorch-style tree: "Sequential(\n  (0): Linear(...)\n  ...)".
  std::string str() const;

  // ---- parameters and children ----
  // All parameters of this module and its descendants, in registration order (own parameters
  // first, then each child's, depth first); a parameter shared by two modules appears once.
  std::vector<Tensor> parameters(bool recurse = true) const;
  // The same with dotted names ("0.weight", "encoder.fc.bias").
  NamedTensors<T> named_parameters(bool recurse = true) const;
  std::vector<Ptr> children() const;
  std::vector<std::pair<std::string, Ptr>> named_children() const;
  // The parameter with this (possibly dotted) name, or an Error listing the names that exist.
  Tensor parameter(const std::string& name) const;

  // Copies `values` into the parameter `name` (dotted names reach into children). The shape must
  // match; the parameter keeps its identity, requires_grad and gradient.
  void set_parameter(const std::string& name, const Tensor& values);
  // Copies every tensor of `named` into the parameter of that name. The set of names must be
  // exactly named_parameters()' and every shape must match; all is checked before anything is
  // written, so on error the module is unchanged.
  void load_parameters(const NamedTensors<T>& named);

  // ---- modes ----
  void train(bool on = true);  // this module and all its descendants
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops the gradients of all parameters (PyTorch's zero_grad(set_to_none=true)).
  void zero_grad();

  // ---- registration (public, as in PyTorch, so small modules can be assembled ad hoc) ----
  // Registers `tensor` (a leaf, not produced by an op) as parameter `name` and returns the handle
  // that now belongs to the registry. Names: non-empty, without '.', unique in this module.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // Registers a child module; returns it with its own type.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void check_name(const char* what, const std::string& name) const;
  void add_child(const std::string& name, Ptr module);
  // The module that owns the dotted name's last part, and that part; throws if a prefix is not a
  // child.
  std::pair<const BasicModule*, std::string> resolve(const char* op, const std::string& name) const;

  NamedTensors<T> parameters_;
  std::vector<std::pair<std::string, Ptr>> children_;
  bool training_ = true;
};

using Module = BasicModule<float>;

extern template class BasicModule<float>;
extern template class BasicModule<double>;

}  // namespace eigrad::nn
