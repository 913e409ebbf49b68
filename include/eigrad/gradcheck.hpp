#pragma once
// gradcheck: compares an op's analytic Jacobian (from backward) with central finite differences,
// in float64, for every input that requires grad. Works for any function of tensors.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

namespace nn {
template <class T>
class BasicModule;
}

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;  ///< passes when |analytic - numeric| <= atol + rtol * |numeric|
  bool raise = false;  ///< throw eigrad::Error with the report when the check fails
  /// A Jacobian that is zero everywhere (analytic entries all 0, differences all within atol)
  /// usually means a function that ignores its inputs: the check then proves nothing. The report
  /// carries a warning (zero_jacobian, and "WARNING" in str()); with this set it also fails.
  bool fail_on_zero_jacobian = false;
};

struct GradcheckReport {
  bool passed = true;
  int64_t checked = 0;  ///< Jacobian entries compared
  /// The worst entry: the failing entry with the largest error, or, when every entry passes, the
  /// entry with the largest error.
  size_t worst_input = 0;     ///< which input
  int64_t worst_element = 0;  ///< flat index in that input
  int64_t worst_output = 0;   ///< flat index in the output
  double analytic = 0, numeric = 0;
  double max_abs_error = 0, max_rel_error = 0;
  bool zero_jacobian = false;  ///< every entry compared was 0 (see fail_on_zero_jacobian)
  std::string str() const;
};

using GradcheckFunction = std::function<DoubleTensor(const std::vector<DoubleTensor>&)>;
using GradcheckFunction32 = std::function<Tensor(const std::vector<Tensor>&)>;

/// The full Jacobian of f at `inputs`: one vector-Jacobian product per output element (backward)
/// against one central difference per input element. Inputs that do not require grad are held
/// fixed; at least one input must require grad (else an Error: the check would be vacuous). The
/// inputs themselves are not touched (f sees detached copies).
GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<DoubleTensor>& inputs,
                          const GradcheckOptions& options = {});

/// Checks float32 gradients: the analytic Jacobian from f32's backward, at the inputs rounded to
/// float32, against central differences of f64 (the same function in float64) at the same points.
GradcheckReport gradcheck_float32(const GradcheckFunction32& f32, const GradcheckFunction& f64,
                                  const std::vector<DoubleTensor>& inputs,
                                  const GradcheckOptions& options = {});

/// Second order, as PyTorch's gradgradcheck: checks the Jacobian of the gradient itself, i.e. of
/// (inputs, v) -> grad(f(inputs), inputs, v, create_graph = true) (the inputs that require grad
/// only), against central differences of that gradient, with gradcheck. `grad_outputs` is v: one
/// tensor of f's output shape; when omitted, a seeded random v is used. v requires grad, so the
/// check also covers how the gradient depends on v. First, the gradient recorded under
/// create_graph must equal the first-order one (the fused kernels) at the point: a graph backward
/// off by a constant factor has a consistent Jacobian of its own. Every built-in op records its
/// second derivatives.
GradcheckReport gradgradcheck(const GradcheckFunction& f, const std::vector<DoubleTensor>& inputs,
                              const std::vector<DoubleTensor>& grad_outputs = {},
                              const GradcheckOptions& options = {});
/// The same for float32: the float32 gradient's analytic Jacobian, at the inputs rounded to
/// float32, against central differences of the float64 gradient at the same points.
GradcheckReport gradgradcheck_float32(const GradcheckFunction32& f32, const GradcheckFunction& f64,
                                      const std::vector<DoubleTensor>& inputs,
                                      const std::vector<DoubleTensor>& grad_outputs = {},
                                      const GradcheckOptions& options = {});

/// gradcheck_module's result: one check per tensor, named.
struct ModuleGradcheckReport {
  bool passed = true;
  /// "input" first, then every parameter that requires grad by its dotted name ("0.weight"). In
  /// each report, worst_input is the tensor's position in this list.
  std::vector<std::pair<std::string, GradcheckReport>> tensors;
  /// One line per tensor, "name: gradcheck passed|FAILED ...".
  std::string str() const;
};

/// Checks a module's gradients in float64 without copying it by hand: a float64 copy of `module`
/// (nn::to_double: same structure, parameters and buffers converted, same modes) is checked, d
/// output / d input and d output / d each parameter that requires grad, each against central
/// differences, at `input` converted to float64. `module` is not touched. Every module in the tree
/// must implement make_double() (the built-in ones do). A float32 module is also checked in
/// float32: its own backward's Jacobian at the same points against the float64 differences, with
/// tolerances of at least 1e-4 absolute and 1e-2 relative (float32's rounding), so that a wrong
/// float32 derivative (a registered activation's float32 kernel) fails it. With options.raise,
/// throws after checking everything, naming each tensor that failed.
ModuleGradcheckReport gradcheck_module(const nn::BasicModule<float>& module, const Tensor& input,
                                       const GradcheckOptions& options = {});
ModuleGradcheckReport gradcheck_module(const nn::BasicModule<double>& module,
                                       const DoubleTensor& input,
                                       const GradcheckOptions& options = {});

/// gradgradcheck for a module, like gradcheck_module: its float64 copy's gradient with respect to
/// the input and every parameter that requires grad (computed with create_graph), differentiated
/// again with respect to each of them and to v, a seeded random gradient of the output, against
/// central differences of that gradient. A float32 module is also checked in float32: its own
/// gradient's analytic Jacobian at the same points against the float64 differences (as
/// gradgradcheck_float32; pass tolerances fit for float32). The module is not touched (no .grad,
/// buffers as they were). One check per tensor in the report: "input", the parameters by name,
/// then "grad_output"; for a float32 module each covers both checks (checked counts the entries of
/// both, the worst entry is the worse check's). With options.raise, throws after checking
/// everything, naming each tensor that failed ("0.weight (in float32)" when only float32 did).
ModuleGradcheckReport gradgradcheck_module(const nn::BasicModule<float>& module,
                                           const Tensor& input,
                                           const GradcheckOptions& options = {});
ModuleGradcheckReport gradgradcheck_module(const nn::BasicModule<double>& module,
                                           const DoubleTensor& input,
                                           const GradcheckOptions& options = {});

/// Values uniform in [lo, hi], each at least `margin` away from every point of `avoid` (an
/// activation's kinks, say), so that no central difference straddles a kink. Throws if the
/// interval leaves no room.
DoubleTensor uniform_away_from(const Shape& shape, double lo, double hi,
                               const std::vector<double>& avoid, double margin, Generator& gen);

}  // namespace eigrad
