// The activation lab's statistics (examples/activation_lab/stats.hpp) against hand-computed values.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../examples/activation_lab/stats.hpp"

using namespace activation_lab;

TEST_CASE("the t quantiles are the printed table's, and conservative between its rows") {
  CHECK(t_quantile_975(1) == 12.706);
  CHECK(t_quantile_975(4) == 2.776);
  CHECK(t_quantile_975(30) == 2.042);
  CHECK(t_quantile_975(35) == 2.042);  // the row of df 30, not interpolated
  CHECK(t_quantile_975(59) == 2.021);
  CHECK(t_quantile_975(500) == 1.980);
  CHECK(std::isnan(t_quantile_975(0)));
}

TEST_CASE("the mean's 95 % interval is mean -+ t s / sqrt(n) with n - 1 degrees of freedom") {
  // 1..5: mean 3, s = sqrt(2.5), t(4) = 2.776, half width 2.776 * sqrt(2.5 / 5) = 1.96293.
  const Interval a = mean_interval({1, 2, 3, 4, 5});
  CHECK(a.n == 5);
  CHECK(a.mean == Approx(3.0));
  CHECK(a.lo == Approx(3.0 - 1.962932));
  CHECK(a.hi == Approx(3.0 + 1.962932));
  // 2, 4: mean 3, s = sqrt(2), t(1) = 12.706, half width 12.706.
  const Interval b = mean_interval({2, 4});
  CHECK(b.lo == Approx(-9.706));
  CHECK(b.hi == Approx(15.706));
  // Equal values: an interval of width zero.
  const Interval c = mean_interval({0.5, 0.5, 0.5});
  CHECK(c.lo == 0.5);
  CHECK(c.hi == 0.5);
}

TEST_CASE("one value or a non-finite one leaves the interval unknown") {
  CHECK_FALSE(mean_interval({1.0}).known());
  CHECK(mean_interval({1.0}).mean == 1.0);
  CHECK_FALSE(mean_interval({1.0, NAN, 2.0}).known());
  CHECK_FALSE(mean_interval({}).known());
}

TEST_CASE("paired differences subtract seed by seed") {
  CHECK(paired_difference({3, 5, 7}, {1, 1, 2}) == std::vector<double>{2, 4, 5});
}

TEST_CASE("the mean of no values is unknown, and finite() keeps the finite values in order") {
  CHECK(average({1, 2, 6}) == 3.0);
  CHECK(std::isnan(average({})));
  CHECK(finite({1, NAN, 2, INFINITY, -3}) == std::vector<double>{1, 2, -3});
}
