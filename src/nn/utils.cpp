#include "eigrad/nn/utils.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <utility>

#include "eigrad/autograd.hpp"
#include "eigrad/nn/activation.hpp"

namespace eigrad::nn {

namespace utils {

template <class T>
double clip_grad_norm_(const std::vector<BasicTensor<T>>& parameters, double max_norm,
                       double norm_type, bool error_if_nonfinite) {
  if (!(norm_type > 0))
    throw Error("clip_grad_norm_: norm_type must be > 0 (or infinity), got " +
                std::to_string(norm_type));
  std::vector<BasicTensor<T>> grads;
  for (const BasicTensor<T>& p : parameters)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0.0;
  // Accumulated in double: the total of many float32 gradients keeps its precision.
  double total = 0;
  const bool inf = std::isinf(norm_type);
  for (const BasicTensor<T>& g : grads) {
    const auto a = g.array().template cast<double>().abs();
    if (g.numel() == 0) continue;
    if (inf)  // max() would drop a NaN
      total = a.isNaN().any() ? std::nan("") : std::max(total, a.maxCoeff());
    else if (norm_type == 2)
      total += a.square().sum();
    else if (norm_type == 1)
      total += a.sum();
    else
      total += a.pow(norm_type).sum();
  }
  if (!inf) total = norm_type == 2 ? std::sqrt(total) : std::pow(total, 1.0 / norm_type);
  if (error_if_nonfinite && !std::isfinite(total)) {
    std::ostringstream order;
    order << norm_type;
    throw Error("clip_grad_norm_: the total norm of order " + order.str() +
                " of the gradients is " + (std::isnan(total) ? "nan" : "inf") +
                " (non-finite), so it cannot be clipped; pass error_if_nonfinite = false to "
                "scale the gradients by it anyway");
  }
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1 || std::isnan(coef)) {
    const T c = static_cast<T>(coef);
    for (BasicTensor<T>& g : grads) g.mutable_array() *= c;
  }
  return total;
}

template <class T>
void clip_grad_value_(const std::vector<BasicTensor<T>>& parameters, double clip_value) {
  if (!(clip_value >= 0))
    throw Error("clip_grad_value_: clip_value must be >= 0, got " + std::to_string(clip_value));
  const T c = static_cast<T>(clip_value);
  for (const BasicTensor<T>& p : parameters) {
    if (!p.defined()) continue;
    BasicTensor<T> g = p.grad();
    if (!g.defined()) continue;
    auto& a = g.mutable_array();
    a = a.max(-c).min(c);
  }
}

template <class T>
int64_t numel(const std::vector<BasicTensor<T>>& tensors) {
  int64_t n = 0;
  for (const BasicTensor<T>& t : tensors) n += t.numel();
  return n;
}

template <class T>
int64_t parameters_count(const BasicModule<T>& module, bool trainable_only) {
  int64_t n = 0;
  for (const BasicTensor<T>& p : module.parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

}  // namespace utils

std::string Summary::str() const {
  std::vector<std::string> names{"Layer (type)"}, shapes{"Output shape"}, counts{"Param #"},
      trainable{"Trainable"};
  for (const SummaryRow& r : rows) {
    names.push_back(r.name + " (" + r.type + ")");
    shapes.push_back(r.output_shape);
    counts.push_back(std::to_string(r.params));
    trainable.push_back(r.params == 0                    ? "-"
                        : r.trainable_params == r.params ? "yes"
                        : r.trainable_params == 0        ? "no"
                                                         : "partly");
  }
  auto width = [](const std::vector<std::string>& column) {
    size_t w = 0;
    for (const std::string& s : column) w = std::max(w, s.size());
    return w;
  };
  const size_t w0 = width(names), w1 = width(shapes), w2 = width(counts), w3 = width(trainable);
  const std::string rule(w0 + w1 + w2 + w3 + 6, '=');
  std::ostringstream os;
  for (size_t i = 0; i < names.size(); ++i) {
    os << std::left << std::setw(static_cast<int>(w0)) << names[i] << "  "
       << std::setw(static_cast<int>(w1)) << shapes[i] << "  " << std::right
       << std::setw(static_cast<int>(w2)) << counts[i] << "  " << std::left << trainable[i] << '\n';
    if (i == 0) os << rule << '\n';
  }
  os << rule << '\n'
     << "Input shape: " << input_shape.str() << '\n'
     << "Total params: " << total_params << '\n'
     << "Trainable params: " << trainable_params << '\n'
     << "Non-trainable params: " << non_trainable_params() << '\n';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Summary& summary) {
  return os << summary.str();
}

template <class T>
Summary summary(BasicModule<T>& module, const Shape& input_shape) {
  using Module = BasicModule<T>;
  Summary out;
  out.input_shape = input_shape;
  out.total_params = utils::parameters_count(module);
  out.trainable_params = utils::parameters_count(module, true);

  // Every module depth first in registration order (an explicit stack: the tree may be deep),
  // with its mode, to restore after the eval-mode run.
  std::vector<std::pair<std::string, Module*>> all;
  std::vector<std::pair<std::string, Module*>> stack{{"", &module}};
  while (!stack.empty()) {
    auto [name, m] = stack.back();
    stack.pop_back();
    all.emplace_back(name, m);
    const auto children = m->named_children();
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      stack.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second.get());
  }
  std::vector<bool> modes;
  for (const auto& entry : all) modes.push_back(entry.second->is_training());

  std::vector<RemovableHandle> handles;
  for (const auto& [name, m] : all) {
    const auto own = m->parameters(false);
    if (!m->children().empty() && own.empty()) continue;
    SummaryRow row;
    row.name = name.empty() ? "(root)" : name;
    row.type = m->type_name();
    if (const auto* a = dynamic_cast<const BasicActivation<T>*>(m); a && row.type == "Activation")
      row.type += "(" + a->info().name + ")";
    row.output_shape = "-";
    row.params = utils::numel(own);
    for (const auto& p : own)
      if (p.requires_grad()) row.trainable_params += p.numel();
    const size_t index = out.rows.size();
    out.rows.push_back(row);
    handles.push_back(m->register_forward_hook(
        [&out, index](Module&, const BasicTensor<T>&, const BasicTensor<T>& y) {
          out.rows[index].output_shape = y.shape().str();
        }));
  }
  auto restore = [&] {
    for (RemovableHandle& h : handles) h.remove();
    for (size_t i = 0; i < all.size(); ++i) all[i].second->train(modes[i]);  // parents first
  };
  try {
    NoGradGuard no_grad;
    module.eval();
    module(BasicTensor<T>::zeros(input_shape));
  } catch (const Error& e) {
    restore();
    throw Error("summary: the forward on zeros of shape " + input_shape.str() +
                " failed: " + e.what());
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return out;
}

template double utils::clip_grad_norm_(const std::vector<BasicTensor<float>>&, double, double,
                                       bool);
template double utils::clip_grad_norm_(const std::vector<BasicTensor<double>>&, double, double,
                                       bool);
template void utils::clip_grad_value_(const std::vector<BasicTensor<float>>&, double);
template void utils::clip_grad_value_(const std::vector<BasicTensor<double>>&, double);
template int64_t utils::numel(const std::vector<BasicTensor<float>>&);
template int64_t utils::numel(const std::vector<BasicTensor<double>>&);
template int64_t utils::parameters_count(const BasicModule<float>&, bool);
template int64_t utils::parameters_count(const BasicModule<double>&, bool);
template Summary summary(BasicModule<float>&, const Shape&);
template Summary summary(BasicModule<double>&, const Shape&);

}  // namespace eigrad::nn
