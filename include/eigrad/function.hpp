#pragma once
// eigrad::Function: a differentiable function written by the user, after torch::autograd::Function.
//
//   struct Cube : eigrad::Function<Cube> {
//     static constexpr const char* name = "cube";  // optional: used in messages and node names
//     template <class T>
//     static BasicTensor<T> forward(AutogradContext<T>& ctx, const BasicTensor<T>& x) {
//       ctx.save_for_backward({x});
//       return x * x * x;
//     }
//     template <class T>
//     static std::vector<BasicTensor<T>> backward(AutogradContext<T>& ctx,
//                                                 const std::vector<BasicTensor<T>>& grads) {
//       const BasicTensor<T> x = ctx.get_saved_variables()[0];
//       return {grads[0] * 3.0 * x * x};
//     }
//   };
//   Tensor y = Cube::apply(x);
//
// forward runs with grad mode off and may return one tensor or a std::vector of them. Its tensor
// arguments are the function's inputs; any other argument (a double, a string) is passed through.
// backward receives one gradient per output (zeros for an output that received none) and returns
// one gradient per tensor input (or one per argument, as in PyTorch), an undefined tensor where
// there is none. It runs with grad mode off, except under create_graph (eigrad::grad, backward):
// then a backward written in eigrad ops is recorded like any other ops, and differentiating its
// result again gives second derivatives. A backward that computes its result outside eigrad's ops
// (from raw arrays) is differentiable once: a later backward that reaches its result throws.
//
// The context keeps what backward needs. save_for_backward keeps a tensor's values, never its
// graph, so saving an output (or anything else) cannot form a cycle or keep a graph alive; the
// versions are taken when forward returns, and get_saved_variables() throws if a saved tensor was
// changed in place after that. Under create_graph, a saved input or output comes back connected
// to the graph (as in PyTorch). Other values go into saved_data, which cannot hold tensors.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// A value of saved_data.
using SavedValue =
    std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

template <class Derived>
struct Function;

namespace detail {
template <class T>
class CustomFunctionNode;
template <class Derived>
const char* function_name();
}  // namespace detail

template <class T>
class AutogradContext {
 public:
  using Tensor = BasicTensor<T>;

  explicit AutogradContext(const char* function) : function_(function) {}

  /// Keeps `tensors` for backward (replacing what an earlier call saved). Inputs, outputs and
  /// intermediate tensors alike; each must be defined.
  void save_for_backward(std::vector<Tensor> tensors);
  /// The saved tensors, in order, as leaves sharing the saved values. Throws if one was changed in
  /// place since it was saved, or if the first backward freed them (without retain_graph).
  std::vector<Tensor> get_saved_variables() const;
  /// Whether backward must return a gradient for tensor input `index`.
  bool needs_input_grad(size_t index) const;
  /// Values that are not tensors: scalars, strings, shapes.
  std::map<std::string, SavedValue> saved_data;

  const char* function_name() const { return function_; }

 private:
  friend class detail::CustomFunctionNode<T>;
  template <class D>
  friend struct Function;

  /// Once forward has returned: names each saved tensor after the input or output it is (for
  /// messages and for create_graph), and takes the versions to check from now on.
  void seal_saved(const std::vector<const typename Tensor::Storage*>& inputs,
                  const std::vector<Tensor>& outputs) {
    for (Saved& saved : saved_) {
      for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i] && inputs[i]->get() == saved.data.get() && saved.input < 0) {
          saved.what = "input " + std::to_string(i);
          saved.input = static_cast<int>(i);
        }
      for (size_t j = 0; j < outputs.size(); ++j)
        if (outputs[j].storage().get() == saved.data.get()) {
          saved.what = "output " + std::to_string(j);
          saved.output = static_cast<int>(j);
          saved.input = -1;
        }
      saved.expected = saved.version->load(std::memory_order_relaxed);
    }
  }

  struct Saved {
    std::shared_ptr<typename Tensor::Array> data;
    detail::VersionCounter* version;
    uint64_t expected;
    Shape shape;
    std::string what;  ///< "input 0", "output 1" or "saved tensor 2"
    int input = -1, output = -1;
  };
  const char* function_;
  std::vector<Saved> saved_;
  std::vector<bool> needs_input_grad_;
  bool released_ = false;
  /// Under create_graph, while backward runs: the saved tensors connected to the graph.
  const std::vector<Tensor>* connected_ = nullptr;
};

template <class T>
void AutogradContext<T>::save_for_backward(std::vector<Tensor> tensors) {
  std::vector<Saved> saved;
  saved.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!t.defined())
      throw Error(std::string("Function '") + function_ + "': save_for_backward: tensor " +
                  std::to_string(i) + " of " + std::to_string(tensors.size()) +
                  " is undefined; save only defined tensors (keep a flag in saved_data for an "
                  "optional one)");
    saved.push_back({t.impl()->data, t.impl()->version, t.version(), t.shape(),
                     "saved tensor " + std::to_string(i)});
  }
  saved_ = std::move(saved);
}

template <class T>
std::vector<BasicTensor<T>> AutogradContext<T>::get_saved_variables() const {
  if (released_)
    throw Error(std::string("Function '") + function_ +
                "': get_saved_variables: the saved tensors were freed by the first backward; "
                "pass retain_graph = true to the first backward() to keep them");
  std::vector<Tensor> out;
  out.reserve(saved_.size());
  for (size_t k = 0; k < saved_.size(); ++k) {
    const Saved& s = saved_[k];
    const uint64_t now = s.version->load(std::memory_order_relaxed);
    if (now != s.expected)
      throw Error(std::string("backward of Function '") + function_ + "': " + s.what + " (shape " +
                  s.shape.str() +
                  ") was modified in place after save_for_backward (it is at version " +
                  std::to_string(now) + ", it was saved at version " + std::to_string(s.expected) +
                  "); the gradient would be wrong");
    if (connected_) {
      out.push_back((*connected_)[k]);
      continue;
    }
    auto impl = std::make_shared<detail::TensorImpl<T>>();
    impl->shape = s.shape;
    impl->data = s.data;
    impl->version = s.version;
    out.emplace_back(std::move(impl));
  }
  return out;
}

template <class T>
bool AutogradContext<T>::needs_input_grad(size_t index) const {
  if (index >= needs_input_grad_.size())
    throw Error(std::string("Function '") + function_ + "': needs_input_grad(" +
                std::to_string(index) + ") but the function has " +
                std::to_string(needs_input_grad_.size()) + " tensor input(s)");
  return needs_input_grad_[index];
}

namespace detail {

template <class A>
struct IsTensor : std::false_type {};
template <class U>
struct IsTensor<BasicTensor<U>> : std::true_type {
  using Scalar = U;
};

template <class... Args>
struct FirstTensor;
template <class A, class... Rest>
struct FirstTensor<A, Rest...> {
  using D = std::decay_t<A>;
  using Scalar =
      typename std::conditional_t<IsTensor<D>::value, IsTensor<D>, FirstTensor<Rest...>>::Scalar;
};
template <>
struct FirstTensor<> {
  using Scalar = void;
};

/// The user's backward, as a plain function of the context and the output gradients.
template <class T>
using BackwardFn = std::vector<BasicTensor<T>> (*)(AutogradContext<T>&,
                                                   const std::vector<BasicTensor<T>>&);

template <class T>
std::vector<BasicTensor<T>> as_list(BasicTensor<T> t) {
  return {std::move(t)};
}
template <class T>
std::vector<BasicTensor<T>> as_list(std::vector<BasicTensor<T>> list) {
  return list;
}

template <class Derived, class = void>
struct HasName : std::false_type {};
template <class Derived>
struct HasName<Derived, std::void_t<decltype(Derived::name)>> : std::true_type {};

template <class Derived>
const char* function_name() {
  if constexpr (HasName<Derived>::value) {
    return Derived::name;
  } else {
    static const std::string name = demangle(typeid(Derived).name());
    return name.c_str();
  }
}

/// The node's edge for a tensor input (null when it needs no gradient), taken before forward.
template <class T>
std::shared_ptr<Node<T>> function_edge(const BasicTensor<T>& input);
/// Records `outputs` as the outputs of a node running `fn` (src/function.cpp), with the edges and
/// shapes of the inputs taken before forward ran.
template <class T>
void record_function(const char* name, AutogradContext<T>&& ctx, BackwardFn<T> fn,
                     std::vector<std::shared_ptr<Node<T>>> edges, std::vector<Shape> input_shapes,
                     std::vector<bool> is_tensor_argument, std::vector<BasicTensor<T>>& outputs);

}  // namespace detail

template <class Derived>
struct Function {
  template <class... Args>
  static auto apply(const Args&... args) {
    using T = typename detail::FirstTensor<Args...>::Scalar;
    static_assert(!std::is_void<T>::value,
                  "Function::apply: forward needs at least one BasicTensor argument");
    const char* name = detail::function_name<Derived>();
    // The inputs' edges and shapes, before forward runs.
    std::vector<const BasicTensor<T>*> inputs;
    std::vector<bool> is_tensor_argument;
    auto collect = [&](const auto& arg) {
      using A = std::decay_t<decltype(arg)>;
      if constexpr (detail::IsTensor<A>::value) {
        static_assert(std::is_same<A, BasicTensor<T>>::value,
                      "Function::apply: every tensor argument must have the same dtype");
        inputs.push_back(&arg);
      }
      is_tensor_argument.push_back(detail::IsTensor<A>::value);
    };
    (collect(args), ...);
    bool record = false;
    AutogradContext<T> ctx(name);
    for (const BasicTensor<T>* t : inputs) {
      const bool needs = t->defined() && is_grad_enabled() && t->requires_grad();
      ctx.needs_input_grad_.push_back(needs);
      record = record || needs;
    }
    std::vector<std::shared_ptr<detail::Node<T>>> edges;
    std::vector<Shape> shapes;
    std::vector<const typename BasicTensor<T>::Storage*> storages;
    if (record)
      for (const BasicTensor<T>* t : inputs) {
        edges.push_back(t->defined() ? detail::function_edge(*t) : nullptr);
        shapes.push_back(t->defined() ? t->shape() : Shape{0});
        storages.push_back(t->defined() ? &t->storage() : nullptr);
      }

    auto result = [&] {
      NoGradGuard no_grad;
      return Derived::forward(ctx, args...);
    }();
    using R = decltype(result);
    static_assert(std::is_same<R, BasicTensor<T>>::value ||
                      std::is_same<R, std::vector<BasicTensor<T>>>::value,
                  "Function: forward must return a BasicTensor or a std::vector of them, of "
                  "the inputs' dtype");
    std::vector<BasicTensor<T>> outputs = detail::as_list<T>(std::move(result));
    if (outputs.empty())
      throw Error(std::string("Function '") + name + "': forward returned no tensor");
    for (size_t j = 0; j < outputs.size(); ++j) {
      if (!outputs[j].defined())
        throw Error(std::string("Function '") + name + "': forward returned an undefined tensor " +
                    "as output " + std::to_string(j));
      // A new tensor on the output's storage: returning an input unchanged must not rewire it.
      outputs[j] = detail::alias(outputs[j], outputs[j].shape());
    }
    if (record) {
      static const detail::BackwardFn<T> backward = [](AutogradContext<T>& c,
                                                       const std::vector<BasicTensor<T>>& g) {
        return detail::as_list<T>(Derived::backward(c, g));
      };
      ctx.seal_saved(storages, outputs);
      detail::record_function<T>(name, std::move(ctx), backward, std::move(edges),
                                 std::move(shapes), std::move(is_tensor_argument), outputs);
    }
    if constexpr (std::is_same<R, BasicTensor<T>>::value)
      return outputs[0];
    else
      return outputs;
  }
};

}  // namespace eigrad
