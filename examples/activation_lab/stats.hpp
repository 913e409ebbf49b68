#pragma once
// The activation lab's small statistics: Student t quantiles (for inference.hpp's expanded
// bootstrap and power statements), the mean's Student-t interval (for the pinn and
// gradient_penalty examples, whose seeds give unbounded values), paired differences, means and
// the finite values. Header only,
// so that tests/test_activation_lab_stats.cpp checks it against hand-computed values.
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace activation_lab {

// Two-sided 95 % quantiles t_{0.975, df} of Student's t distribution (a printed table, e.g.
// NIST/SEMATECH e-Handbook 1.3.6.7.2), df = 1..30, then 40, 60, 120 and infinity. Between listed
// values the next smaller df is used, which makes the interval slightly wider (conservative).
inline double t_quantile_975(std::size_t df) {
  static const double small[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                   2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                   2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                   2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return std::numeric_limits<double>::quiet_NaN();
  if (df <= 30) return small[df - 1];
  if (df < 40) return 2.042;
  if (df < 60) return 2.021;
  if (df < 120) return 2.000;
  return 1.980;  // df >= 120; 1.960 only in the limit
}

// The mean of n values and its 95 % interval mean -+ t * s / sqrt(n), s the sample standard
// deviation. With one value, or any non-finite one, the interval is NaN (unknown).
struct Interval {
  double mean = 0, lo = 0, hi = 0;
  std::size_t n = 0;
  bool known() const { return std::isfinite(lo) && std::isfinite(hi); }
  bool above(double v) const { return known() && lo > v; }  // the whole interval above v
  bool below(double v) const { return known() && hi < v; }
  bool within(double a, double b) const { return known() && lo >= a && hi <= b; }
};

inline Interval mean_interval(const std::vector<double>& v) {
  Interval r;
  r.n = v.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (v.empty()) return {nan, nan, nan, 0};
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / static_cast<double>(v.size());
  if (v.size() < 2 || !std::isfinite(r.mean)) {
    r.lo = r.hi = nan;
    return r;
  }
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  const double s = std::sqrt(ss / static_cast<double>(v.size() - 1));
  const double half = t_quantile_975(v.size() - 1) * s / std::sqrt(static_cast<double>(v.size()));
  r.lo = r.mean - half;
  r.hi = r.mean + half;
  return r;
}

// a[i] - b[i] for runs that share seed i (same data, same initial draws where shapes agree).
inline std::vector<double> paired_difference(const std::vector<double>& a,
                                             const std::vector<double>& b) {
  std::vector<double> d;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) d.push_back(a[i] - b[i]);
  return d;
}

// The plain mean; NaN for no values.
inline double average(const std::vector<double>& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN()
                   : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The finite values: runs that diverged are counted in their own column instead.
inline std::vector<double> finite(const std::vector<double>& v) {
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  return f;
}

}  // namespace activation_lab
