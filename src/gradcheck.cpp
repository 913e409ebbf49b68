#include "eigrad/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eigrad/autograd.hpp"

namespace eigrad {

std::string GradcheckReport::str() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "gradcheck %s: %lld Jacobian entries, max abs error %.3e, max rel error %.3e; "
                "worst at input %zu element %lld, output %lld: analytic %.10g, numeric %.10g",
                passed ? "passed" : "FAILED", static_cast<long long>(checked), max_abs_error,
                max_rel_error, worst_input, static_cast<long long>(worst_element),
                static_cast<long long>(worst_output), analytic, numeric);
  return buf;
}

GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<DoubleTensor>& inputs,
                          const GradcheckOptions& options) {
  if (!(options.eps > 0))
    throw Error("gradcheck: eps must be positive, got " + std::to_string(options.eps));
  std::vector<DoubleTensor> leaves;  // detached leaves, so perturbing them touches no user graph
  for (const DoubleTensor& t : inputs) {
    DoubleTensor leaf = t.clone();
    leaf.set_requires_grad(t.requires_grad());
    leaves.push_back(leaf);
  }
  const DoubleTensor out = f(leaves);
  const int64_t m = out.numel();

  // Analytic Jacobian, one vector-Jacobian product per output element: rows[j][i] = d out_j / d
  // in_i.
  std::vector<std::vector<DoubleTensor::Array>> rows(static_cast<size_t>(m));
  const bool differentiable = out.requires_grad();
  for (int64_t j = 0; j < m; ++j) {
    for (DoubleTensor& leaf : leaves) leaf.zero_grad();
    if (differentiable) {
      DoubleTensor seed = DoubleTensor::zeros(out.shape());
      seed.data()[j] = 1.0;
      out.backward(seed, /*retain_graph=*/true);
    }
    for (const DoubleTensor& leaf : leaves)
      rows[static_cast<size_t>(j)].push_back(
          leaf.grad().defined() ? leaf.grad().array()
                                : DoubleTensor::Array(DoubleTensor::Array::Zero(leaf.numel())));
  }

  GradcheckReport report;
  double worst_violation = -INFINITY;
  NoGradGuard no_grad;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].requires_grad()) continue;
    double* x = leaves[i].data();
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
        const double allowed = options.atol + options.rtol * std::fabs(numeric);
        const bool ok = err <= allowed;  // false for NaN too
        ++report.checked;
        report.max_abs_error = std::max(report.max_abs_error, err);
        // Relative error is reported only where the derivative is not ~0.
        if (std::fabs(numeric) > options.atol)
          report.max_rel_error = std::max(report.max_rel_error, err / std::fabs(numeric));
        const double violation = std::isnan(err) ? INFINITY : err - allowed;
        if (!ok) report.passed = false;
        if (violation > worst_violation) {
          worst_violation = violation;
          report.worst_input = i;
          report.worst_element = k;
          report.worst_output = j;
          report.analytic = analytic;
          report.numeric = numeric;
        }
      }
    }
  }
  if (!report.passed && options.raise) throw Error(report.str());
  return report;
}

}  // namespace eigrad
