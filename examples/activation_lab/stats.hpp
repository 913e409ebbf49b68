#pragma once
// Statistics of the activation lab: mean and 95 % interval over seeds (Student t, n - 1 degrees
// of freedom), paired differences, the rule that turns an interval into a verdict, and the
// means of values and curves over seeds. Header only, so that tests/test_activation_lab_stats.cpp
// checks it against hand-computed values.
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

enum class Verdict { Supported, NotSupported, Mixed };

inline const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Supported:
      return "supported";
    case Verdict::NotSupported:
      return "not supported";
    case Verdict::Mixed:
      return "mixed";
  }
  return "?";
}

// The one rule behind every verdict: a claim "the quantity is greater than `threshold`" is
// supported when the whole 95 % interval lies above it, not supported when the whole interval
// lies at or below it, and mixed when the interval straddles it (or is unknown).
inline Verdict verdict_greater(const Interval& i, double threshold) {
  if (i.above(threshold)) return Verdict::Supported;
  if (i.known() && i.hi <= threshold) return Verdict::NotSupported;
  return Verdict::Mixed;
}
inline Verdict verdict_less(const Interval& i, double threshold) {
  if (i.below(threshold)) return Verdict::Supported;
  if (i.known() && i.lo >= threshold) return Verdict::NotSupported;
  return Verdict::Mixed;
}
// A claim made of several parts holds when every part does, fails when one part fails.
inline Verdict verdict_all(const std::vector<Verdict>& parts) {
  bool all = true;
  for (Verdict v : parts) {
    if (v == Verdict::NotSupported) return Verdict::NotSupported;
    all = all && v == Verdict::Supported;
  }
  return all ? Verdict::Supported : Verdict::Mixed;
}

// Where the claim's rule compares against the thresholds.
inline Verdict verdict_within(const Interval& i, double lo, double hi) {
  if (i.within(lo, hi)) return Verdict::Supported;
  if (i.above(hi) || i.below(lo)) return Verdict::NotSupported;
  return Verdict::Mixed;
}

// The plain mean; NaN for no values.
inline double average(const std::vector<double>& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN()
                   : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The element-wise mean of equally long curves (one per seed).
inline std::vector<double> mean_curve(const std::vector<std::vector<double>>& curves) {
  std::vector<double> m;
  if (curves.empty()) return m;
  m.assign(curves[0].size(), 0.0);
  for (const auto& c : curves)
    for (std::size_t i = 0; i < m.size() && i < c.size(); ++i) m[i] += c[i];
  for (double& v : m) v /= static_cast<double>(curves.size());
  return m;
}

// The finite values: runs that diverged are counted in their own column instead.
inline std::vector<double> finite(const std::vector<double>& v) {
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  return f;
}

}  // namespace activation_lab
