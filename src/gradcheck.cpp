#include "eigrad/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <utility>

#include "eigrad/autograd.hpp"
#include "eigrad/nn/module.hpp"
#include "eigrad/ops/tensor_shape.hpp"

namespace eigrad {

std::string GradcheckReport::str() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "gradcheck %s: %lld Jacobian entries, max abs error %.3e, max rel error %.3e; "
                "worst at input %zu element %lld, output %lld: analytic %.10g, numeric %.10g",
                passed ? "passed" : "FAILED", static_cast<long long>(checked), max_abs_error,
                max_rel_error, worst_input, static_cast<long long>(worst_element),
                static_cast<long long>(worst_output), analytic, numeric);
  std::string out = buf;
  if (zero_jacobian)
    out += "; WARNING: the Jacobian is zero everywhere (does the function use its inputs?)";
  return out;
}

namespace {

using Rows = std::vector<std::vector<Eigen::ArrayXd>>;

void check_arguments(const char* op, const std::vector<DoubleTensor>& inputs,
                     const GradcheckOptions& options) {
  if (!(options.eps > 0))
    throw Error(std::string(op) + ": eps must be positive, got " + std::to_string(options.eps));
  for (const DoubleTensor& t : inputs)
    if (t.defined() && t.requires_grad()) return;
  throw Error(std::string(op) + ": none of the " + std::to_string(inputs.size()) +
              " inputs requires grad, so there is nothing to check; call set_requires_grad() on "
              "the inputs whose gradients should be checked");
}

// Detached copies of the inputs, so perturbing them touches no user graph.
template <class T>
std::vector<BasicTensor<T>> leaves_of(const std::vector<DoubleTensor>& inputs) {
  std::vector<BasicTensor<T>> leaves;
  for (const DoubleTensor& t : inputs) {
    BasicTensor<T> leaf = t.to<T>();
    leaf.set_requires_grad(t.requires_grad());
    leaves.push_back(leaf);
  }
  return leaves;
}

// The analytic Jacobian, one vector-Jacobian product per output element:
// rows[j][i] = d out_j / d input_i, in float64. Through eigrad::grad, so that no leaf's .grad
// changes (the leaves may be a user's parameters).
template <class T, class F>
Rows analytic_rows(const F& f, const std::vector<BasicTensor<T>>& leaves) {
  const BasicTensor<T> out = f(leaves);
  const int64_t m = out.numel();
  Rows rows(static_cast<size_t>(m));
  std::vector<BasicTensor<T>> wrt;
  std::vector<size_t> position;  // of wrt[k] in leaves
  for (size_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].requires_grad()) {
      wrt.push_back(leaves[i]);
      position.push_back(i);
    }
  const bool differentiable = out.requires_grad() && !wrt.empty();
  for (int64_t j = 0; j < m; ++j) {
    std::vector<BasicTensor<T>> g(leaves.size());
    if (differentiable) {
      BasicTensor<T> seed = BasicTensor<T>::zeros(out.shape());
      seed.mutable_data()[j] = T(1);
      const std::vector<BasicTensor<T>> row = grad({out}, wrt, {seed}, /*retain_graph=*/true,
                                                   /*create_graph=*/false, /*allow_unused=*/true);
      for (size_t k = 0; k < row.size(); ++k) g[position[k]] = row[k];
    }
    for (size_t i = 0; i < leaves.size(); ++i)
      rows[static_cast<size_t>(j)].push_back(
          g[i].defined() ? Eigen::ArrayXd(g[i].array().template cast<double>())
                         : Eigen::ArrayXd(Eigen::ArrayXd::Zero(leaves[i].numel())));
  }
  return rows;
}

// Compares `rows` with central differences of f at `leaves`, one perturbation per element of
// every input that requires grad (of input `only` alone when given).
GradcheckReport compare(const GradcheckFunction& f, std::vector<DoubleTensor>& leaves,
                        const Rows& rows, const GradcheckOptions& options,
                        std::optional<size_t> only = std::nullopt) {
  const int64_t m = static_cast<int64_t>(rows.size());
  GradcheckReport report;
  // The worst entry: the failing one with the largest error if any fails, else the one with the
  // largest error (NaN counts as infinite).
  double worst_error = -1;
  bool worst_fails = false;
  bool any_nonzero = false;
  NoGradGuard no_grad;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].requires_grad() || (only && i != *only)) continue;
    double* x = leaves[i].mutable_data();
    for (int64_t k = 0; k < leaves[i].numel(); ++k) {
      const double saved = x[k];
      x[k] = saved + options.eps;
      const DoubleTensor::Array plus = f(leaves).array();
      x[k] = saved - options.eps;
      const DoubleTensor::Array minus = f(leaves).array();
      x[k] = saved;
      if (plus.size() != m || minus.size() != m)
        throw Error("gradcheck: the function's output changed size under perturbation");
      for (int64_t j = 0; j < m; ++j) {
        const double numeric = (plus[j] - minus[j]) / (2 * options.eps);
        const double analytic = rows[static_cast<size_t>(j)][i][k];
        const double err = std::fabs(analytic - numeric);
        const bool ok = err <= options.atol + options.rtol * std::fabs(numeric);  // NaN: false
        any_nonzero = any_nonzero || analytic != 0 || !(std::fabs(numeric) <= options.atol);
        ++report.checked;
        report.max_abs_error = std::max(report.max_abs_error, err);
        // Relative error is reported only where the derivative is not ~0.
        if (std::fabs(numeric) > options.atol)
          report.max_rel_error = std::max(report.max_rel_error, err / std::fabs(numeric));
        if (!ok) report.passed = false;
        const double size = std::isnan(err) ? INFINITY : err;
        const bool worse = (!ok && !worst_fails) || (!ok == worst_fails && size > worst_error);
        if (worse) {
          worst_error = size;
          worst_fails = !ok;
          report.worst_input = i;
          report.worst_element = k;
          report.worst_output = j;
          report.analytic = analytic;
          report.numeric = numeric;
        }
      }
    }
  }
  report.zero_jacobian = report.checked > 0 && !any_nonzero;
  if (report.zero_jacobian && options.fail_on_zero_jacobian) report.passed = false;
  if (!report.passed && options.raise) throw Error(report.str());
  return report;
}

}  // namespace

GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<DoubleTensor>& inputs,
                          const GradcheckOptions& options) {
  check_arguments("gradcheck", inputs, options);
  std::vector<DoubleTensor> leaves = leaves_of<double>(inputs);
  const Rows rows = analytic_rows(f, leaves);
  return compare(f, leaves, rows, options);
}

GradcheckReport gradcheck_float32(const GradcheckFunction32& f32, const GradcheckFunction& f64,
                                  const std::vector<DoubleTensor>& inputs,
                                  const GradcheckOptions& options) {
  check_arguments("gradcheck_float32", inputs, options);
  std::vector<Tensor> leaves32 = leaves_of<float>(inputs);
  const Rows rows = analytic_rows(f32, leaves32);
  std::vector<DoubleTensor> leaves64;  // the float32 points, exactly, in float64
  for (const Tensor& t : leaves32) {
    DoubleTensor leaf = t.to<double>();
    leaf.set_requires_grad(t.requires_grad());
    leaves64.push_back(leaf);
  }
  return compare(f64, leaves64, rows, options);
}

namespace {
// The function whose Jacobian gradgradcheck checks: (inputs..., v) -> the gradients of f with
// respect to the inputs that require grad, flattened and concatenated (zeros for an unused one).
// The gradients are recorded even where gradcheck calls it under NoGradGuard (its finite
// differences): without the graph they would be zeros.
template <class T>
std::function<BasicTensor<T>(const std::vector<BasicTensor<T>>&)> gradient_of(
    std::function<BasicTensor<T>(const std::vector<BasicTensor<T>>&)> f,
    std::vector<bool> differentiate) {
  return [f = std::move(f),
          differentiate = std::move(differentiate)](const std::vector<BasicTensor<T>>& x) {
    // The gradient is computed with its graph even where the caller turned grad mode off (the
    // central differences run under NoGradGuard).
    AutoGradMode grad_mode(true);
    std::vector<BasicTensor<T>> inputs(x.begin(), x.end() - 1);
    const BasicTensor<T>& v = x.back();
    const BasicTensor<T> y = f(inputs);
    if (y.shape() != v.shape())
      throw Error("gradgradcheck: grad_outputs has shape " + v.shape().str() +
                  " but the function's output has shape " + y.shape().str());
    std::vector<BasicTensor<T>> wrt;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (differentiate[i]) wrt.push_back(inputs[i]);
    std::vector<BasicTensor<T>> parts;
    if (y.requires_grad()) {
      const std::vector<BasicTensor<T>> g =
          grad({y}, wrt, {v}, /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
      for (size_t i = 0; i < g.size(); ++i)
        parts.push_back(g[i].defined() ? reshape(g[i], {-1})
                                       : BasicTensor<T>::zeros({wrt[i].numel()}));
    } else {
      for (const BasicTensor<T>& t : wrt) parts.push_back(BasicTensor<T>::zeros({t.numel()}));
    }
    return cat(parts, 0);
  };
}

// The inputs of that function: the inputs, then v (random when not given), requiring grad.
std::vector<DoubleTensor> with_grad_output(const char* op, const GradcheckFunction& f,
                                           const std::vector<DoubleTensor>& inputs,
                                           const std::vector<DoubleTensor>& grad_outputs,
                                           std::vector<bool>& differentiate) {
  for (const DoubleTensor& t : inputs) differentiate.push_back(t.defined() && t.requires_grad());
  if (grad_outputs.size() > 1)
    throw Error(std::string(op) + ": got " + std::to_string(grad_outputs.size()) +
                " grad_outputs for a function with one output");
  DoubleTensor v;
  if (!grad_outputs.empty() && grad_outputs[0].defined()) {
    v = grad_outputs[0].detach().clone();
  } else {
    // The output's shape, from the function run on copies of the inputs (with grad mode as the
    // caller has it: the function may take gradients itself).
    std::vector<DoubleTensor> copies;
    for (const DoubleTensor& t : inputs)
      copies.push_back(t.defined() ? t.detach().clone().set_requires_grad(t.requires_grad()) : t);
    const DoubleTensor y = f(copies);
    Generator gen(20221);
    v = DoubleTensor::uniform(y.shape(), -1.0, 1.0, gen);
  }
  std::vector<DoubleTensor> all = inputs;
  all.push_back(v.set_requires_grad(true));
  return all;
}
}  // namespace

// The gradient that create_graph records must be the one the first-order kernels compute (a
// graph backward off by a constant factor would otherwise pass: its own Jacobian is consistent).
// Compares the two at `all` (the inputs, then v); the report's "numeric" is the first-order value.
template <class T>
GradcheckReport compare_with_first_order(
    const std::function<BasicTensor<T>(const std::vector<BasicTensor<T>>&)>& f,
    const std::vector<DoubleTensor>& all, const std::vector<bool>& differentiate,
    const GradcheckOptions& options) {
  std::vector<BasicTensor<T>> leaves = leaves_of<T>(all);
  const BasicTensor<T> recorded = gradient_of<T>(f, differentiate)(leaves);
  std::vector<BasicTensor<T>> inputs(leaves.begin(), leaves.end() - 1), wrt;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (differentiate[i]) wrt.push_back(inputs[i]);
  const BasicTensor<T> y = f(inputs);
  std::vector<BasicTensor<T>> fast;
  if (y.requires_grad()) fast = grad({y}, wrt, {leaves.back()}, false, false, true);
  GradcheckReport report;
  int64_t at = 0;
  double worst = -1;
  for (size_t i = 0; i < wrt.size(); ++i)
    for (int64_t k = 0; k < wrt[i].numel(); ++k, ++at) {
      const double a = static_cast<double>(recorded.data()[at]);
      const double b =
          i < fast.size() && fast[i].defined() ? static_cast<double>(fast[i].data()[k]) : 0.0;
      const double err = std::fabs(a - b);
      const bool ok = err <= options.atol + options.rtol * std::fabs(b);
      ++report.checked;
      report.max_abs_error = std::max(report.max_abs_error, err);
      if (!ok) report.passed = false;
      if ((!ok && err > worst) || (report.passed && err > worst)) {
        worst = err;
        report.worst_input = i;
        report.worst_element = k;
        report.analytic = a;
        report.numeric = b;
      }
    }
  if (!report.passed && options.raise)
    throw Error(
        "gradgradcheck: the gradient recorded under create_graph differs from the "
        "first-order one: " +
        report.str());
  return report;
}

GradcheckReport gradgradcheck(const GradcheckFunction& f, const std::vector<DoubleTensor>& inputs,
                              const std::vector<DoubleTensor>& grad_outputs,
                              const GradcheckOptions& options) {
  check_arguments("gradgradcheck", inputs, options);
  std::vector<bool> differentiate;
  const std::vector<DoubleTensor> all =
      with_grad_output("gradgradcheck", f, inputs, grad_outputs, differentiate);
  const GradcheckReport same = compare_with_first_order<double>(f, all, differentiate, options);
  if (!same.passed) return same;
  return gradcheck(gradient_of<double>(f, differentiate), all, options);
}

GradcheckReport gradgradcheck_float32(const GradcheckFunction32& f32, const GradcheckFunction& f64,
                                      const std::vector<DoubleTensor>& inputs,
                                      const std::vector<DoubleTensor>& grad_outputs,
                                      const GradcheckOptions& options) {
  check_arguments("gradgradcheck_float32", inputs, options);
  std::vector<bool> differentiate;
  const std::vector<DoubleTensor> all =
      with_grad_output("gradgradcheck_float32", f64, inputs, grad_outputs, differentiate);
  const GradcheckReport same = compare_with_first_order<float>(f32, all, differentiate, options);
  if (!same.passed) return same;
  return gradcheck_float32(gradient_of<float>(f32, differentiate),
                           gradient_of<double>(f64, differentiate), all, options);
}

std::string ModuleGradcheckReport::str() const {
  std::string out;
  for (const auto& [name, report] : tensors) out += name + ": " + report.str() + "\n";
  return out;
}

namespace {
template <class T>
void check_module_arguments(const char* op, const BasicTensor<T>& input,
                            const GradcheckOptions& options) {
  if (!(options.eps > 0))
    throw Error(std::string(op) + ": eps must be positive, got " + std::to_string(options.eps));
  if (!input.defined()) throw Error(std::string(op) + ": the input is undefined");
}

// A module check's leaves: `input` (a copy of the caller's, made a leaf that requires grad), then
// the module's own parameters that require grad (handles into it, so that perturbing them in
// place changes what forward uses); their names go to `names`.
template <class T>
std::vector<BasicTensor<T>> module_leaves(const nn::BasicModule<T>& module, BasicTensor<T> input,
                                          std::vector<std::string>& names) {
  std::vector<BasicTensor<T>> leaves{input.set_requires_grad(true)};
  names.assign({"input"});
  for (const auto& [name, p] : module.named_parameters())
    if (p.requires_grad()) {
      leaves.push_back(p);
      names.push_back(name);
    }
  return leaves;
}

// With options.raise, throws when a tensor failed: "<op>: <type>: the <what> of a, b are wrong".
void raise_if_failed(const char* op, const std::string& type, const char* what,
                     const ModuleGradcheckReport& result, const std::vector<std::string>& failed,
                     const GradcheckOptions& options) {
  if (result.passed || !options.raise) return;
  std::string names;
  for (const std::string& name : failed) names += (names.empty() ? "" : ", ") + name;
  throw Error(std::string(op) + ": " + type + ": the " + what + " of " + names + " are wrong:\n" +
              result.str());
}

// One report for a tensor checked twice (in float64, then in float32): it passes when both do,
// counts the entries of both, and its worst entry is the worse check's.
GradcheckReport merged(const GradcheckReport& a, const GradcheckReport& b) {
  const bool b_worse =
      (a.passed && !b.passed) || (a.passed == b.passed && b.max_abs_error > a.max_abs_error);
  GradcheckReport r = b_worse ? b : a;
  r.passed = a.passed && b.passed;
  r.checked = a.checked + b.checked;
  r.max_abs_error = std::max(a.max_abs_error, b.max_abs_error);
  r.max_rel_error = std::max(a.max_rel_error, b.max_rel_error);
  r.zero_jacobian = a.zero_jacobian && b.zero_jacobian;
  return r;
}

template <class T>
ModuleGradcheckReport check_module(const nn::BasicModule<T>& module, const BasicTensor<T>& input,
                                   const GradcheckOptions& options) {
  check_module_arguments("gradcheck_module", input, options);
  const std::shared_ptr<nn::BasicModule<double>> copy = nn::to_double(module);
  std::vector<std::string> names;
  std::vector<DoubleTensor> leaves =
      module_leaves<double>(*copy, input.template to<double>(), names);
  const GradcheckFunction f = [&](const std::vector<DoubleTensor>& x) {
    return copy->forward(x[0]);
  };
  const Rows rows = analytic_rows(f, leaves);
  GradcheckOptions each = options;
  each.raise = false;
  ModuleGradcheckReport result;
  std::vector<std::string> failed;
  for (size_t i = 0; i < leaves.size(); ++i) {
    result.tensors.emplace_back(names[i], compare(f, leaves, rows, each, i));
    if (!result.tensors[i].second.passed) failed.push_back(names[i]);
  }
  if constexpr (std::is_same<T, float>::value) {
    // The float32 module's own backward at the same points, against the float64 differences.
    auto& own = const_cast<nn::BasicModule<float>&>(module);
    std::vector<Tensor> buffers = module.buffers(), saved;
    for (const Tensor& b : buffers) saved.push_back(b.clone());
    std::vector<std::string> names32;
    std::vector<Tensor> leaves32 = module_leaves<float>(module, input.detach().clone(), names32);
    if (names32 != names)
      throw Error("gradcheck_module: " + module.type_name() +
                  ": the float64 copy's parameters differ from the module's (a parameter shared "
                  "between modules?); check the float64 module instead");
    const GradcheckFunction32 f32 = [&](const std::vector<Tensor>& x) { return own.forward(x[0]); };
    const Rows rows32 = analytic_rows(f32, leaves32);
    for (size_t k = 0; k < buffers.size(); ++k)
      if (!(std::as_const(buffers[k]).array() == saved[k].array()).all())
        buffers[k].mutable_array() = saved[k].array();
    GradcheckOptions loose = each;
    loose.atol = std::max(each.atol, 1e-4);
    loose.rtol = std::max(each.rtol, 1e-2);
    for (size_t i = 0; i < leaves.size(); ++i) {
      const GradcheckReport in32 = compare(f, leaves, rows32, loose, i);
      GradcheckReport& report = result.tensors[i].second;
      if (report.passed && !in32.passed) failed.push_back(names[i] + " (in float32)");
      report = merged(report, in32);
    }
  }
  result.passed = failed.empty();
  raise_if_failed("gradcheck_module", module.type_name(), "gradients", result, failed, options);
  return result;
}

template <class T>
ModuleGradcheckReport check_module_twice(const nn::BasicModule<T>& module,
                                         const BasicTensor<T>& input,
                                         const GradcheckOptions& options) {
  const char* op = "gradgradcheck_module";
  check_module_arguments(op, input, options);
  const std::shared_ptr<nn::BasicModule<double>> copy = nn::to_double(module);
  std::vector<std::string> names;
  std::vector<DoubleTensor> leaves =
      module_leaves<double>(*copy, input.template to<double>(), names);
  const GradcheckFunction f = [&](const std::vector<DoubleTensor>& x) {
    return copy->forward(x[0]);
  };
  // v, the output's gradient: seeded, and exact in T, so that a float32 check sees it too.
  DoubleTensor y;
  {
    NoGradGuard no_grad;
    y = f(leaves);
  }
  Generator gen(20221);
  const DoubleTensor v =
      DoubleTensor::uniform(y.shape(), -1.0, 1.0, gen).template to<T>().template to<double>();
  leaves.push_back(v);
  leaves.back().set_requires_grad(true);
  names.push_back("grad_output");
  const std::vector<bool> differentiate(leaves.size() - 1, true);
  const GradcheckFunction gradient = gradient_of<double>(f, differentiate);

  GradcheckOptions each = options;
  each.raise = false;
  const Rows rows = analytic_rows(gradient, leaves);
  ModuleGradcheckReport result;
  for (size_t i = 0; i < leaves.size(); ++i)
    result.tensors.emplace_back(names[i], compare(gradient, leaves, rows, each, i));
  std::vector<std::string> failed;
  if constexpr (std::is_same<T, float>::value) {
    // The module's own float32 gradient, differentiated in float32 at the same points (its
    // parameters' values, the input and v), against the float64 differences. forward() is not
    // const; buffers it updates (running statistics) are put back, and no .grad is touched.
    auto& own = const_cast<nn::BasicModule<float>&>(module);
    std::vector<Tensor> buffers = module.buffers(), saved;
    for (const Tensor& b : buffers) saved.push_back(b.clone());
    std::vector<std::string> names32;
    std::vector<Tensor> leaves32 = module_leaves<float>(module, input.detach().clone(), names32);
    names32.push_back("grad_output");
    if (names32 != names)
      throw Error(std::string(op) + ": " + module.type_name() +
                  ": the float64 copy's parameters differ from the module's (a parameter shared "
                  "between modules?); check the float64 module with gradgradcheck_module instead");
    leaves32.push_back(v.to<float>().set_requires_grad(true));
    const GradcheckFunction32 f32 = [&](const std::vector<Tensor>& x) { return own.forward(x[0]); };
    const Rows rows32 = analytic_rows(gradient_of<float>(f32, differentiate), leaves32);
    for (size_t k = 0; k < buffers.size(); ++k)
      if (!(std::as_const(buffers[k]).array() == saved[k].array()).all())
        buffers[k].mutable_array() = saved[k].array();
    for (size_t i = 0; i < leaves.size(); ++i) {
      const GradcheckReport in32 = compare(gradient, leaves, rows32, each, i);
      GradcheckReport& report = result.tensors[i].second;
      if (report.passed && !in32.passed) failed.push_back(names[i] + " (in float32)");
      if (!report.passed) failed.push_back(names[i]);
      report = merged(report, in32);
    }
  } else {
    for (const auto& [name, report] : result.tensors)
      if (!report.passed) failed.push_back(name);
  }
  result.passed = failed.empty();
  raise_if_failed(op, module.type_name(), "second derivatives", result, failed, options);
  return result;
}
}  // namespace

ModuleGradcheckReport gradcheck_module(const nn::BasicModule<float>& module, const Tensor& input,
                                       const GradcheckOptions& options) {
  return check_module(module, input, options);
}
ModuleGradcheckReport gradcheck_module(const nn::BasicModule<double>& module,
                                       const DoubleTensor& input, const GradcheckOptions& options) {
  return check_module(module, input, options);
}

ModuleGradcheckReport gradgradcheck_module(const nn::BasicModule<float>& module,
                                           const Tensor& input, const GradcheckOptions& options) {
  return check_module_twice(module, input, options);
}
ModuleGradcheckReport gradgradcheck_module(const nn::BasicModule<double>& module,
                                           const DoubleTensor& input,
                                           const GradcheckOptions& options) {
  return check_module_twice(module, input, options);
}

DoubleTensor uniform_away_from(const Shape& shape, double lo, double hi,
                               const std::vector<double>& avoid, double margin, Generator& gen) {
  if (!(lo < hi) || !(margin >= 0))
    throw Error("uniform_away_from: expected lo < hi and margin >= 0, got lo " +
                std::to_string(lo) + ", hi " + std::to_string(hi) + ", margin " +
                std::to_string(margin));
  DoubleTensor t = DoubleTensor::empty(shape);
  constexpr int kTries = 10000;
  for (double& v : t.mutable_array()) {
    int tries = 0;
    do {
      if (++tries > kTries)
        throw Error("uniform_away_from: found no value in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "] at least " + std::to_string(margin) +
                    " away from the points to avoid");
      v = gen.uniform(lo, hi);
    } while (std::any_of(avoid.begin(), avoid.end(),
                         [&](double a) { return std::fabs(v - a) < margin; }));
  }
  return t;
}

}  // namespace eigrad
