#pragma once
// Autograd's public side: grad mode, anomaly detection, eigrad::grad and the Hessian- and
// Jacobian-vector products built on it. The graph itself (nodes, the engine) is private to the
// library; a user's op goes through eigrad::Function (eigrad/function.hpp), the one public door.
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/tensor.hpp"

namespace eigrad {

// ---- grad mode (thread-local, like PyTorch's) ----
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

/// Disables graph recording in this thread for the guard's lifetime.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Sets grad mode for the guard's lifetime, then restores it (PyTorch's AutoGradMode): with
/// `true` it records again inside a NoGradGuard's scope.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~AutoGradMode() { set_grad_enabled(previous_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool previous_;
};

// ---- anomaly detection (off by default), like torch.autograd.detect_anomaly ----
/// When on, every recorded op's output and every gradient computed by backward is checked for
/// NaN and infinity; the first one found throws an Error naming the op and where it was created
/// (the call stack at creation). When off it costs one relaxed atomic load per op.
bool is_anomaly_enabled();
void set_anomaly_enabled(bool enabled);

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(is_anomaly_enabled()) { set_anomaly_enabled(true); }
  ~DetectAnomalyGuard() { set_anomaly_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

// ---- eigrad::grad, as torch::autograd::grad ----
/// The gradients of `outputs` with respect to `inputs`, one per input: sum_k grad_outputs[k] *
/// d outputs[k] / d input. grad_outputs may be empty when every output holds one element (a
/// gradient of 1 each); otherwise one per output, of its shape. No leaf's .grad() is touched.
/// retain_graph defaults to create_graph. With create_graph the gradients are tensors in a graph
/// of their own: differentiating them again gives second derivatives (and so on). An input that
/// the outputs do not reach is an Error naming it, unless allow_unused: then its gradient is an
/// undefined tensor. The braced forms work too: grad({y}, {x}).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);
std::vector<DoubleTensor> grad(const std::vector<DoubleTensor>& outputs,
                               const std::vector<DoubleTensor>& inputs,
                               const std::vector<DoubleTensor>& grad_outputs = {},
                               std::optional<bool> retain_graph = std::nullopt,
                               bool create_graph = false, bool allow_unused = false);

// ---- Hessian- and Jacobian-vector products, as torch.autograd.functional.hvp / jvp ----
/// Both take f, a function of a vector of tensors, the point `inputs` and v, one tensor per input
/// of its shape (v may be empty when every input holds one element: ones). They differentiate f at
/// leaves of their own (detached from `inputs`, which need not require grad), in grad mode even
/// inside a NoGradGuard, and return f's output, detached, with the product (no graph). Where f
/// does not depend on an input (or not twice, for the Hessian), its part of the product is zero.
template <class T>
using TensorFunction = std::function<BasicTensor<T>(const std::vector<BasicTensor<T>>&)>;

template <class T>
struct HessianVectorProduct {
  BasicTensor<T> output;
  std::vector<BasicTensor<T>> product;  ///< one per input, of its shape
};
template <class T>
struct JacobianVectorProduct {
  BasicTensor<T> output;
  BasicTensor<T> product;  ///< of the output's shape
};

/// H v, where H is the Hessian of f (whose output must hold one element) with respect to all the
/// inputs together: product[i] = sum_j d^2 f / (d inputs[i] d inputs[j]) v[j]. Pearlmutter's
/// trick: the gradient g is computed with create_graph, then differentiated again along v,
/// grad(sum_j g_j * v_j, inputs). Costs two backward passes, never the Hessian itself.
///   auto [y, hv] = eigrad::hessian_vector_product(f, {x}, {v});
HessianVectorProduct<float> hessian_vector_product(const TensorFunction<float>& f,
                                                   const std::vector<Tensor>& inputs,
                                                   const std::vector<Tensor>& v);
HessianVectorProduct<double> hessian_vector_product(const TensorFunction<double>& f,
                                                    const std::vector<DoubleTensor>& inputs,
                                                    const std::vector<DoubleTensor>& v);

/// J v = sum_i d f / d inputs[i] v[i] (forward mode's product) by reverse mode twice: g(u) = J^T u
/// is computed with create_graph from a dummy u that requires grad, and since g is linear in u,
/// grad(g, u, v) = J v. f may have an output of any shape.
JacobianVectorProduct<float> jacobian_vector_product(const TensorFunction<float>& f,
                                                     const std::vector<Tensor>& inputs,
                                                     const std::vector<Tensor>& v);
JacobianVectorProduct<double> jacobian_vector_product(const TensorFunction<double>& f,
                                                      const std::vector<DoubleTensor>& inputs,
                                                      const std::vector<DoubleTensor>& v);

namespace detail {
std::string demangle(const char* mangled);  ///< a C++ type or function name as written
}  // namespace detail

}  // namespace eigrad
