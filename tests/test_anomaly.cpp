// Anomaly detection: opt-in NaN/inf checks on forward outputs and backward gradients.
#include <catch2/catch.hpp>
#include <cmath>

#include "eigrad/eigrad.hpp"

using eigrad::DetectAnomalyGuard;
using eigrad::DoubleTensor;
using eigrad::Error;

TEST_CASE("anomaly detection is off by default and NaN flows through silently", "[anomaly]") {
  CHECK_FALSE(eigrad::is_anomaly_enabled());
  DoubleTensor x = DoubleTensor::from({-1, 4}, {2}, true);
  DoubleTensor y = eigrad::sum(eigrad::log(x));
  CHECK(std::isnan(y.item()));
  y.backward();  // the gradient 1/x is finite; no error
  CHECK(x.grad().to_vector() == std::vector<double>{-1, 0.25});
}

TEST_CASE("anomaly detection names the op whose forward produced NaN and where it was created",
          "[anomaly]") {
  DetectAnomalyGuard guard;
  DoubleTensor x = DoubleTensor::from({-1, 4}, {2}, true);
  CHECK_THROWS_AS(eigrad::log(x), Error);
  CHECK_THROWS_WITH(eigrad::log(x), Catch::Contains("anomaly: forward of 'log' produced nan at "
                                                    "element 0") &&
                                        Catch::Contains("created at"));
}

TEST_CASE("anomaly detection names the op whose backward produced inf", "[anomaly]") {
  DetectAnomalyGuard guard;
  DoubleTensor x = DoubleTensor::from({0, 4}, {2}, true);
  DoubleTensor y = eigrad::sum(eigrad::sqrt(x));  // finite forward, d sqrt(x)/dx = inf at 0
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("anomaly: backward of 'sqrt'") &&
                                      Catch::Contains("inf at element 0"));
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("the anomaly guard restores the previous mode", "[anomaly]") {
  {
    DetectAnomalyGuard guard;
    CHECK(eigrad::is_anomaly_enabled());
  }
  CHECK_FALSE(eigrad::is_anomaly_enabled());
}
