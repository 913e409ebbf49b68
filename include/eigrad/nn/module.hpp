#pragma once
// nn::Module: a tree of named parameters, buffers and child modules, after PyTorch's
// torch::nn::Module. Modules are templates on the dtype (float for training, double for
// gradcheck); the short names (nn::Module, nn::Linear, ...) are the float32 ones.
//
// The registry owns the parameters and buffers: a registered tensor is a handle into it, and the
// only way to change one is in place (optimizers, initialisers, set_parameter, load_state_dict),
// so parameters() can never disagree with what forward() uses (PyTorch issue 21682).
//
// Buffers are state that is not learned, such as BatchNorm's running statistics: they never
// require grad, are not in parameters() (so optimizers never see them), and are saved and loaded
// with the parameters by state_dict() and load_state_dict().
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "eigrad/tensor.hpp"

namespace eigrad::nn {

template <class T>
using NamedTensors = std::vector<std::pair<std::string, BasicTensor<T>>>;

/// The dtype a state tensor has in a checkpoint. eigrad's tensors hold float or double; a counter
/// that PyTorch keeps as int64 (BatchNorm's num_batches_tracked) is held as T in memory and saved
/// as a 64-bit integer (safetensors "I64"), so that the file loads into PyTorch as it is. Its
/// values must be integers, exact up to 2^24 in float32 (2^53 in float64): past that, adding 1 to
/// a float32 counter leaves it unchanged.
enum class SavedAs { Native, Int64 };

/// One entry of a state dict: a parameter or a buffer (a handle to the module's own tensor).
template <class T>
struct StateEntry {
  std::string name;
  BasicTensor<T> tensor;
  SavedAs saved_as = SavedAs::Native;
};
template <class T>
using StateDict = std::vector<StateEntry<T>>;

/// What register_forward_hook and register_forward_pre_hook return: the same handle as a tensor's
/// register_hook (eigrad/tensor.hpp). Dropping the handle keeps the hook.
using eigrad::RemovableHandle;

/// What a non-strict load_state_dict skipped, as in PyTorch.
struct LoadResult {
  std::vector<std::string> missing_keys;     ///< the module's names the input lacked
  std::vector<std::string> unexpected_keys;  ///< the input's names the module lacks
};

template <class T>
class BasicModule {
 public:
  using Tensor = BasicTensor<T>;
  using Ptr = std::shared_ptr<BasicModule>;

  BasicModule() = default;
  virtual ~BasicModule() = default;
  BasicModule(const BasicModule&) = delete;
  BasicModule& operator=(const BasicModule&) = delete;

  /// The module's computation on one input. The default throws: a module that only groups others
  /// (or takes several inputs) need not define it.
  virtual Tensor forward(const Tensor& input);
  /// forward() between the module's hooks (Sequential calls its children this way). Without hooks
  /// it is forward() after one test.
  Tensor operator()(const Tensor& input) {
    return hooks_ ? call_with_hooks(input) : forward(input);
  }

  // ---- hooks (PyTorch's register_forward_pre_hook / register_forward_hook) ----
  /// A pre-hook runs before forward() with the input; returning a tensor replaces the input. A
  /// forward hook runs after it with the input forward() got and the output; returning a tensor
  /// replaces the output. Hooks run in registration order, pre-hooks first, and only when the
  /// module is called through operator(). A callable may also return void (it only inspects).
  using ForwardPreHook = std::function<std::optional<Tensor>(BasicModule&, const Tensor&)>;
  using ForwardHook =
      std::function<std::optional<Tensor>(BasicModule&, const Tensor&, const Tensor&)>;
  template <class F>
  RemovableHandle register_forward_pre_hook(F hook) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, BasicModule&, const Tensor&>>)
      return add_hook(true,
                      ForwardPreHook([h = std::move(hook)](
                                         BasicModule& m, const Tensor& x) -> std::optional<Tensor> {
                        h(m, x);
                        return std::nullopt;
                      }),
                      {});
    else
      return add_hook(true, ForwardPreHook(std::move(hook)), {});
  }
  template <class F>
  RemovableHandle register_forward_hook(F hook) {
    if constexpr (std::is_void_v<
                      std::invoke_result_t<F&, BasicModule&, const Tensor&, const Tensor&>>)
      return add_hook(false, {},
                      ForwardHook([h = std::move(hook)](BasicModule& m, const Tensor& x,
                                                        const Tensor& y) -> std::optional<Tensor> {
                        h(m, x, y);
                        return std::nullopt;
                      }));
    else
      return add_hook(false, {}, ForwardHook(std::move(hook)));
  }

  /// The random numbers this module draws (Dropout's generator), or null. io::save_checkpoint
  /// saves the state of every module's generator so that a resumed run draws the same masks.
  virtual Generator* generator() { return nullptr; }

  /// "Linear", "Sequential", ...: used in messages and in str().
  virtual std::string type_name() const { return "Module"; }
  /// What str() prints between the parentheses, e.g. "in_features=2, out_features=3, bias=true".
  virtual std::string extra_repr() const { return ""; }
  /// PyTorch-style tree: "Sequential(\n  (0): Linear(...)\n  ...)".
  std::string str() const;

  /// A float64 module of the same type and configuration, children included, for to_double()
  /// (which then copies the parameters, buffers and modes into it). The built-in modules implement
  /// it; a user's module overrides it to be convertible. The default throws an Error naming the
  /// module's type.
  virtual std::shared_ptr<BasicModule<double>> make_double() const;

  // ---- parameters and children ----
  /// All parameters of this module and its descendants, in registration order (own parameters
  /// first, then each child's, depth first); a parameter shared by two modules appears once.
  std::vector<Tensor> parameters(bool recurse = true) const;
  /// The same with dotted names ("0.weight", "encoder.fc.bias").
  NamedTensors<T> named_parameters(bool recurse = true) const;
  std::vector<Ptr> children() const;
  std::vector<std::pair<std::string, Ptr>> named_children() const;
  /// The parameter with this (possibly dotted) name, or an Error listing the names that exist.
  Tensor parameter(const std::string& name) const;

  /// Copies `values` into the parameter `name` (dotted names reach into children). The shape must
  /// match; the parameter keeps its identity, requires_grad and gradient.
  void set_parameter(const std::string& name, const Tensor& values);
  /// Copies every tensor of `named` into the parameter of that name. The set of names must be
  /// exactly named_parameters()' and every shape must match; all is checked before anything is
  /// written, so on error the module is unchanged.
  void load_parameters(const NamedTensors<T>& named);

  // ---- buffers and the state dict ----
  /// Buffers in the order of parameters(): own first, then each child's, depth first; a buffer
  /// shared by two modules appears once.
  std::vector<Tensor> buffers(bool recurse = true) const;
  NamedTensors<T> named_buffers(bool recurse = true) const;
  /// The buffer with this (possibly dotted) name, or an Error listing the names that exist.
  Tensor buffer(const std::string& name) const;

  /// Parameters and buffers in PyTorch's order and names: per module its parameters, then its
  /// buffers, then its children's, depth first ("0.weight", "0.bias", "1.weight", "1.bias",
  /// "1.running_mean", "1.running_var", "1.num_batches_tracked", ...). As in PyTorch, a tensor
  /// shared by two modules appears under each name. The tensors are the module's own handles:
  ///   io::save_safetensors("model.safetensors", model.state_dict());
  ///   io::load_into("model.safetensors", model.state_dict());
  StateDict<T> state_dict() const;
  /// Copies every tensor of `state` into the parameter or buffer of that name. With strict, the
  /// names must be exactly state_dict()'s; without, missing and unexpected names are skipped and
  /// returned. Shapes must match, and an Int64 buffer takes only integers. Everything is checked
  /// before anything is written: on error (which lists every problem) the module is unchanged.
  LoadResult load_state_dict(const NamedTensors<T>& state, bool strict = true);
  LoadResult load_state_dict(const StateDict<T>& state, bool strict = true);

  // ---- modes ----
  void train(bool on = true);  ///< this module and all its descendants
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Drops the gradients of all parameters (PyTorch's zero_grad(set_to_none=true)).
  void zero_grad();

  // ---- registration (public, as in PyTorch, so small modules can be assembled ad hoc) ----
  /// Registers `tensor` (a leaf, not produced by an op) as parameter `name` and returns the handle
  /// that now belongs to the registry. Names: non-empty, without '.', unique in this module.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  /// Registers `tensor` (a leaf) as buffer `name`, with the same rules for names; it stops
  /// requiring grad. With SavedAs::Int64 its values must be integers (see SavedAs).
  Tensor register_buffer(const std::string& name, Tensor tensor,
                         SavedAs saved_as = SavedAs::Native);
  /// Registers a child module; returns it with its own type.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  struct Hooks;
  Tensor call_with_hooks(const Tensor& input);
  RemovableHandle add_hook(bool pre, ForwardPreHook pre_hook, ForwardHook hook);

  void check_name(const char* what, const std::string& name) const;
  void add_child(const std::string& name, Ptr module);
  /// The module that owns the dotted name's last part, and that part; throws if a prefix is not a
  /// child. `what` is "parameter" or "buffer", for the message.
  std::pair<const BasicModule*, std::string> resolve(const char* op, const char* what,
                                                     const std::string& name) const;
  /// named_parameters() (buffers = false) or named_buffers() (true).
  NamedTensors<T> named_tensors(bool buffers, bool recurse) const;

  NamedTensors<T> parameters_;
  StateDict<T> buffers_;
  std::vector<std::pair<std::string, Ptr>> children_;
  bool training_ = true;
  std::shared_ptr<Hooks> hooks_;  ///< null until a hook is registered
};

/// A float64 copy of `module` (float32 or float64): the structure from make_double(), then every
/// parameter and buffer converted to double, requires_grad and train/eval modes as in `module`.
/// Throws when a module in the tree does not implement make_double() or builds a copy whose
/// state names or shapes differ. Parameters shared between modules become separate copies.
template <class T>
std::shared_ptr<BasicModule<double>> to_double(const BasicModule<T>& module);

using Module = BasicModule<float>;

extern template class BasicModule<float>;
extern template class BasicModule<double>;
extern template std::shared_ptr<BasicModule<double>> to_double(const BasicModule<float>&);
extern template std::shared_ptr<BasicModule<double>> to_double(const BasicModule<double>&);

}  // namespace eigrad::nn
