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
// there is none. It runs with grad mode off: eigrad does not differentiate twice.
//
// The context keeps what backward needs. save_for_backward keeps a tensor's values, never its
// graph, so saving an output (or anything else) cannot form a cycle or keep a graph alive, and
// get_saved_variables() throws if a saved tensor was changed in place in between. Other values
// go into saved_data, which cannot hold tensors.
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

namespace eigrad {

// A value of saved_data.
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

  // Keeps `tensors` for backward (replacing what an earlier call saved). Inputs, outputs and
  // intermediate tensors alike; each must be defined.
  void save_for_backward(std::vector<Tensor> tensors);
  // The saved tensors, in order, as leaves sharing the saved values. Throws if one was changed in
  // place since it was saved, or if the first backward freed them (without retain_graph).
  std::vector<Tensor> get_saved_variables() const;
  // Whether backward must return a gradient for tensor input `index`.
  bool needs_input_grad(size_t index) const;
  // Values that are not tensors: scalars, strings, shapes.
  std::map<std::string, SavedValue> saved_data;

  const char* function_name() const { return function_; }

 private:
  friend class detail::CustomFunctionNode<T>;
  template <class D>
  friend struct Function;

  // Names each saved tensor after the input or output it is, for messages.
  void name_saved(const std::vector<const typename Tensor::Storage*>& inputs,
                  const std::vector<Tensor>& outputs) {
    for (Saved& saved : saved_) {
      for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i] && inputs[i]->get() == saved.data.get()) {
          saved.what = "input " + std::to_string(i);
          break;
        }
      for (size_t j = 0; j < outputs.size(); ++j)
        if (outputs[j].storage().get() == saved.data.get())
          saved.what = "output " + std::to_string(j);
    }
  }

  struct Saved {
    std::shared_ptr<typename Tensor::Array> data;
    detail::VersionCounter* version;
    uint64_t expected;
    Shape shape;
    std::string what;  // "input 0", "output 1" or "saved tensor 2"
  };
  const char* function_;
  std::vector<Saved> saved_;
  std::vector<bool> needs_input_grad_;
  bool released_ = false;
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
  for (const Saved& s : saved_) {
    const uint64_t now = s.version->load(std::memory_order_relaxed);
    if (now != s.expected)
      throw Error(std::string("backward of Function '") + function_ + "': " + s.what + " (shape " +
                  s.shape.str() +
                  ") was modified in place after save_for_backward (it is at version " +
                  std::to_string(now) + ", it was saved at version " + std::to_string(s.expected) +
                  "); the gradient would be wrong");
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

// The user's backward, as a plain function of the context and the output gradients.
template <class T>
using BackwardFn = std::vector<BasicTensor<T>> (*)(AutogradContext<T>&,
                                                   const std::vector<BasicTensor<T>>&);

// The node of a Function: receives the gradients of all outputs, concatenated, and calls the
// user's backward. An output of a function with several is a FunctionOutputNode that places its
// gradient into this node's buffer.
template <class T>
class CustomFunctionNode final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  CustomFunctionNode(const char* name, int64_t numel, AutogradContext<T> ctx, BackwardFn<T> fn,
                     std::vector<Shape> input_shapes, std::vector<Shape> output_shapes,
                     std::vector<bool> is_tensor_argument)
      : Node<T>(name, numel),
        ctx_(std::move(ctx)),
        fn_(fn),
        input_shapes_(std::move(input_shapes)),
        output_shapes_(std::move(output_shapes)),
        is_tensor_argument_(std::move(is_tensor_argument)) {}

  void apply(const Array& grad, GradSink<T>& sink) override {
    if (ctx_.released_)
      throw Error(std::string("backward: trying to backward through Function '") + this->name() +
                  "' a second time: its saved values were freed by the first backward; pass "
                  "retain_graph = true to the first backward() to keep them");
    std::vector<BasicTensor<T>> grads;
    grads.reserve(output_shapes_.size());
    Eigen::Index offset = 0;
    for (const Shape& shape : output_shapes_) {
      BasicTensor<T> g = BasicTensor<T>::empty(shape);
      g.mutable_array() = grad.segment(offset, shape.numel());
      offset += shape.numel();
      grads.push_back(std::move(g));
    }
    std::vector<BasicTensor<T>> result;
    {
      NoGradGuard no_grad;
      result = fn_(ctx_, grads);
    }
    const size_t tensors = input_shapes_.size(), arguments = is_tensor_argument_.size();
    if (result.size() == arguments && arguments != tensors) {  // one per argument, as in PyTorch
      std::vector<BasicTensor<T>> kept;
      for (size_t i = 0; i < arguments; ++i)
        if (is_tensor_argument_[i]) {
          kept.push_back(std::move(result[i]));
        } else if (result[i].defined()) {
          throw Error(std::string("backward of Function '") + this->name() +
                      "' returned a gradient for argument " + std::to_string(i) +
                      ", which is not a tensor; return an undefined Tensor() there");
        }
      result = std::move(kept);
    }
    if (result.size() != tensors)
      throw Error(std::string("backward of Function '") + this->name() + "' returned " +
                  std::to_string(result.size()) + " gradient(s), but forward took " +
                  std::to_string(tensors) + " tensor input(s)" +
                  (arguments != tensors ? " (" + std::to_string(arguments) + " arguments)" : "") +
                  "; return one per input, an undefined Tensor() for an input without one");
    for (size_t i = 0; i < tensors; ++i) {
      const BasicTensor<T>& g = result[i];
      if (!g.defined()) continue;  // no gradient: zero
      if (g.shape() != input_shapes_[i])
        throw Error(std::string("backward of Function '") + this->name() +
                    "' returned a gradient of shape " + g.shape().str() + " for input " +
                    std::to_string(i) + ", which has shape " + input_shapes_[i].str() +
                    "; the shapes must match");
      if (sink.needs(i)) sink.add(i, g.array());
    }
  }
  void release() override {
    ctx_.saved_.clear();
    ctx_.saved_data.clear();
    ctx_.released_ = true;
  }

 private:
  AutogradContext<T> ctx_;
  BackwardFn<T> fn_;
  std::vector<Shape> input_shapes_, output_shapes_;
  std::vector<bool> is_tensor_argument_;
};

template <class T>
class FunctionOutputNode final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  FunctionOutputNode(const char* name, int64_t numel, Eigen::Index offset)
      : Node<T>(name, numel), offset_(offset) {}
  void apply(const Array& grad, GradSink<T>& sink) override { sink.add_slice(0, offset_, grad); }

 private:
  Eigen::Index offset_;
};

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

// Records `outputs` as the outputs of a node running `fn`, with the edges and shapes of the
// inputs taken before forward ran.
template <class T>
void record_function(const char* name, AutogradContext<T>&& ctx, BackwardFn<T> fn,
                     std::vector<typename Node<T>::Ptr> edges, std::vector<Shape> input_shapes,
                     std::vector<bool> is_tensor_argument, std::vector<BasicTensor<T>>& outputs) {
  int64_t total = 0;
  std::vector<Shape> output_shapes;
  for (const BasicTensor<T>& out : outputs) {
    total += out.numel();
    output_shapes.push_back(out.shape());
  }
  auto core = std::make_shared<CustomFunctionNode<T>>(
      name, total, std::move(ctx), fn, std::move(input_shapes), std::move(output_shapes),
      std::move(is_tensor_argument));
  core->reserve_next(edges.size());
  for (auto& edge : edges) core->add_next(std::move(edge));
  const bool anomaly = anomaly_on();
  if (anomaly) core->set_origin(call_stack());
  Eigen::Index offset = 0;
  for (BasicTensor<T>& out : outputs) {
    typename Node<T>::Ptr node = core;
    if (outputs.size() > 1) {
      node = std::make_shared<FunctionOutputNode<T>>(name, out.numel(), offset);
      node->add_next(core);
      if (anomaly) node->set_origin(*core->origin());
      offset += out.numel();
    }
    if (anomaly)
      check_finite(std::as_const(out).array(), std::string("forward of Function '") + name + "'",
                   core->origin());
    out.impl()->grad_fn = std::move(node);
    out.impl()->requires_grad = true;
  }
}

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
    std::vector<typename Node<T>::Ptr> edges;
    std::vector<Shape> shapes;
    std::vector<const typename BasicTensor<T>::Storage*> storages;
    if (record)
      for (const BasicTensor<T>* t : inputs) {
        edges.push_back(t->defined() ? make_edge(*t) : nullptr);
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
      ctx.name_saved(storages, outputs);
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
