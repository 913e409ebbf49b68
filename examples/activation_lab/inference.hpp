#pragma once
// The activation lab's inference, second edition (issue 26): intervals suited to the data, the
// four verdicts and their rules, power, multiplicity and time-to-target with censored runs.
// Header only, so that tests/test_activation_lab_inference.cpp checks each rule on synthetic data
// whose truth is known (a planted effect is found, a null is not) and each formula against
// values worked by hand.
//
// The rules, fixed before any number of the lab is seen:
//  - An effect is a paired difference (A - B per seed, or per test example), summarised by its
//    mean and a 95 % interval: the expanded percentile bootstrap over the pairs (seeds are few and
//    accuracies bounded, so no normal interval).
//  - For a claim "A is greater than B" with an equivalence margin m > 0 (the smallest difference
//    that matters, stated with the claim):
//      supported      the whole interval above 0;
//      not supported  the whole interval below 0 (the opposite holds);
//      equivalent     the interval straddles 0 and lies within (-m, m): any difference is
//                     smaller than what matters;
//      inconclusive   otherwise: the interval straddles 0 and reaches past -m or m, so the
//                     experiment cannot tell (its power statement says what it could have seen).
//    A claim "A is less than B" is the same rule on B - A. A claim against a threshold ("costs
//    more than 2x") is the rule on the quantity minus the threshold, with no equivalence.
//  - Multiplicity: the lab's verdicts form one family; Holm's step-down procedure on the
//    sign-flip p-values holds the family-wise error at 5 %, and the report says which verdicts
//    survive it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "stats.hpp"

namespace activation_lab {

enum class Finding { Supported, NotSupported, Equivalent, Inconclusive };

inline const char* finding_name(Finding f) {
  switch (f) {
    case Finding::Supported:
      return "supported";
    case Finding::NotSupported:
      return "not supported";
    case Finding::Equivalent:
      return "equivalent";
    case Finding::Inconclusive:
      return "inconclusive";
  }
  return "?";
}

// A summary of a mean: the estimate, its 95 % expanded percentile-bootstrap interval, and the
// two-sided
// p-value of "the values are symmetric about 0" from random sign flips (a paired randomisation
// test; the bootstrap's own tails are too thin for Holm's small thresholds at a few seeds).
struct Estimate {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
  double p = std::numeric_limits<double>::quiet_NaN();
  std::size_t n = 0;
  bool known() const { return std::isfinite(lo) && std::isfinite(hi); }
};

// The q-quantile of sorted values (linear between order statistics, as numpy's default).
inline double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(at));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (at - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

// The two-sided p-value of "the paired differences are symmetric about 0": the fraction of
// `resamples` random sign flips whose |sum| reaches the observed |sum| (counting the observed one,
// so never 0). Valid at any n, however few the seeds.
inline double sign_flip_p(const std::vector<double>& values, std::uint64_t seed = 1,
                          int resamples = 10000) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  double observed = 0;
  for (double x : values) observed += x;
  observed = std::abs(observed);
  if (!std::isfinite(observed)) return std::numeric_limits<double>::quiet_NaN();
  std::mt19937_64 rng(seed);
  int reached = 0;
  for (int r = 0; r < resamples; ++r) {
    double sum = 0;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i % 64 == 0) bits = rng();
      sum += (bits & 1) ? values[i] : -values[i];
      bits >>= 1;
    }
    // A relative tolerance: a flip that gives the observed sum up to rounding counts as reaching.
    reached += std::abs(sum) >= observed * (1 - 1e-12);
  }
  return (1.0 + reached) / (1.0 + resamples);
}

// The tail of the expanded percentile interval (Hesterberg, "What teachers should know about the
// bootstrap", 2015): the plain percentile interval is too narrow at few values (about 90 %
// coverage at 30 normal values, measured in the tests), so each tail is taken at the level whose
// normal quantile is sqrt(n / (n - 1)) t_{0.975, n - 1}: 0.0188 at n = 30, 0.0057 at n = 8.
inline double expanded_tail(std::size_t n) {
  const double nn = static_cast<double>(n);
  const double z = std::sqrt(nn / (nn - 1)) * t_quantile_975(n - 1);
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

// The expanded percentile bootstrap of the mean of `values`: `resamples` means of n values drawn
// with replacement (std::mt19937_64 from `seed`, so the same values give the same interval on every
// machine). Fewer than two values, or a non-finite one, give an unknown interval.
inline Estimate bootstrap_mean(const std::vector<double>& values, std::uint64_t seed = 1,
                               int resamples = 10000) {
  Estimate e;
  e.n = values.size();
  if (values.empty()) return e;
  e.mean = average(values);
  if (values.size() < 2 || !std::isfinite(e.mean)) return e;
  std::mt19937_64 rng(seed);
  const std::uint64_t n = values.size();
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (double& m : means) {
    double sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += values[static_cast<std::size_t>(rng() % n)];
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  const double tail = expanded_tail(values.size());
  e.lo = quantile_sorted(means, tail);
  e.hi = quantile_sorted(means, 1 - tail);
  e.p = sign_flip_p(values, seed ^ 0x9e3779b97f4a7c15ULL, resamples);
  return e;
}

// The rule of the header's comment for a claim "the effect is greater than 0", with equivalence
// margin `margin` (0: no equivalence verdict).
inline Finding finding_greater(const Estimate& e, double margin) {
  if (!e.known()) return Finding::Inconclusive;
  if (e.lo > 0) return Finding::Supported;
  if (e.hi < 0) return Finding::NotSupported;
  if (margin > 0 && e.lo > -margin && e.hi < margin) return Finding::Equivalent;
  return Finding::Inconclusive;
}

// A proportion's 95 % interval (Wilson's score interval: bounded by 0 and 1, sensible at 0 and
// n successes, unlike the normal interval).
struct Proportion {
  double p = 0, lo = 0, hi = 0;
  std::size_t n = 0;
};
inline Proportion wilson(std::size_t successes, std::size_t n) {
  if (successes > n) throw std::invalid_argument("wilson: more successes than trials");
  Proportion r;
  r.n = n;
  if (n == 0) {
    r.p = r.lo = r.hi = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  constexpr double z = 1.959963984540054;
  const double nn = static_cast<double>(n);
  r.p = static_cast<double>(successes) / nn;
  const double centre = (r.p + z * z / (2 * nn)) / (1 + z * z / nn);
  const double half =
      z * std::sqrt(r.p * (1 - r.p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
  r.lo = std::max(0.0, centre - half);
  r.hi = std::min(1.0, centre + half);
  return r;
}

// One-sided 80 % quantiles t_{0.80, df} of Student's t (the power term of a sample-size
// calculation; the same printed tables as t_quantile_975), df = 1..30, then 40, 60, 120, infinity;
// between rows the next smaller df (conservative).
inline double t_quantile_80(std::size_t df) {
  static const double small[30] = {1.376, 1.061, 0.978, 0.941, 0.920, 0.906, 0.896, 0.889,
                                   0.883, 0.879, 0.876, 0.873, 0.870, 0.868, 0.866, 0.865,
                                   0.863, 0.862, 0.861, 0.860, 0.859, 0.858, 0.858, 0.857,
                                   0.856, 0.856, 0.855, 0.855, 0.854, 0.854};
  if (df == 0) return std::numeric_limits<double>::quiet_NaN();
  if (df <= 30) return small[df - 1];
  if (df < 60) return 0.851;
  if (df < 120) return 0.848;
  return 0.845;
}

// The smallest mean paired difference that n pairs with standard deviation `sd` detect at 80 %
// power, two-sided 5 % (the t approximation: (t_{0.975} + t_{0.80}) sd / sqrt(n), n - 1 df).
inline double detectable_difference(double sd, std::size_t n) {
  if (n < 2) return std::numeric_limits<double>::infinity();
  return (t_quantile_975(n - 1) + t_quantile_80(n - 1)) * sd / std::sqrt(static_cast<double>(n));
}

// The number of pairs needed to detect `difference` at 80 % power with paired SD `sd`: the
// smallest n whose detectable_difference is at most `difference`.
inline std::size_t pairs_needed(double sd, double difference, std::size_t limit = 100000) {
  if (!(difference > 0) || !(sd >= 0)) throw std::invalid_argument("pairs_needed: bad arguments");
  for (std::size_t n = 2; n <= limit; ++n)
    if (detectable_difference(sd, n) <= difference) return n;
  return limit;
}

// The sample standard deviation (n - 1).
inline double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double mean = average(v);
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Holm's step-down procedure: which of the family's hypotheses are rejected at family-wise level
// `alpha` (the smallest p against alpha / k, the next against alpha / (k - 1), ... stopping at
// the first that is not). NaN p-values are never rejected and count in k.
inline std::vector<bool> holm(const std::vector<double>& p, double alpha = 0.05) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto key = [&](std::size_t i) {
    return std::isnan(p[i]) ? std::numeric_limits<double>::infinity() : p[i];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<bool> reject(p.size(), false);
  const std::size_t k = p.size();
  for (std::size_t rank = 0; rank < k; ++rank) {
    const std::size_t i = order[rank];
    if (!(p[i] <= alpha / static_cast<double>(k - rank))) break;
    reject[i] = true;
  }
  return reject;
}

// Time to a target with runs that never reach it (censored at the last time they were seen):
// the Kaplan-Meier estimate of the fraction of runs still short of the target.
struct Survival {
  std::vector<double> times;      // the distinct times at which a run reached the target
  std::vector<double> remaining;  // the estimated fraction still short of it just after each
  std::vector<double> censored;   // the times of the runs that never reached it
  // The first time at which at most half the runs are still short (NaN when never: the median
  // is then beyond what the runs saw, which the report says instead of a number).
  double median() const {
    for (std::size_t i = 0; i < times.size(); ++i)
      if (remaining[i] <= 0.5) return times[i];
    return std::numeric_limits<double>::quiet_NaN();
  }
};

struct RunTime {
  double time;
  bool reached;  // false: censored at `time`
};

inline Survival kaplan_meier(std::vector<RunTime> runs) {
  // Ties: reaching the target at t comes before being censored at t (the usual convention).
  std::sort(runs.begin(), runs.end(), [](const RunTime& a, const RunTime& b) {
    return a.time < b.time || (a.time == b.time && a.reached && !b.reached);
  });
  Survival s;
  double remaining = 1;
  std::size_t at_risk = runs.size();
  for (std::size_t i = 0; i < runs.size();) {
    std::size_t events = 0, gone = 0;
    const double t = runs[i].time;
    for (; i < runs.size() && runs[i].time == t; ++i, ++gone) {
      if (runs[i].reached)
        ++events;
      else
        s.censored.push_back(t);
    }
    if (events > 0) {
      remaining *= 1 - static_cast<double>(events) / static_cast<double>(at_risk);
      s.times.push_back(t);
      s.remaining.push_back(remaining);
    }
    at_risk -= gone;
  }
  return s;
}

}  // namespace activation_lab
