// Anomaly detection: opt-in NaN/inf checks on forward outputs and backward gradients.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

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

namespace {
// Not inlined and not a tail call, so that it keeps a frame of its own in an optimised build.
[[gnu::noinline]] DoubleTensor distinctive_user_function_taking_a_log(const DoubleTensor& x) {
  DoubleTensor y = eigrad::log(x);
  return y * 2.0;
}
}  // namespace

TEST_CASE("an anomaly trace names the op first, then the user's function that called it",
          "[anomaly]") {
  DetectAnomalyGuard guard;
  DoubleTensor x = DoubleTensor::from({4, -1}, {2}, true);
  std::string message;
  try {
    distinctive_user_function_taking_a_log(x);
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  const std::string head = "the op was created at:\n";
  const size_t frames = message.find(head);
  REQUIRE(frames != std::string::npos);
#ifdef EIGRAD_HAVE_LIBBACKTRACE
  // The first frame shown is the op itself, not eigrad's recording machinery.
  const std::string first = message.substr(
      frames + head.size(), message.find('\n', frames + head.size()) - frames - head.size());
  CHECK_THAT(first, Catch::Contains("eigrad::log<double>"));
  CHECK(message.find("eigrad::detail::record") == std::string::npos);
  CHECK(message.find("eigrad::detail::call_stack") == std::string::npos);
  // The user's function follows, by name although the test program exports no symbols.
  const size_t user = message.find("distinctive_user_function_taking_a_log");
  CHECK(user != std::string::npos);
  CHECK(user > frames + head.size() + first.size());
#endif
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
