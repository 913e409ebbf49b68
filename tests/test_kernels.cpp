// eigrad/kernels/ against long double std::exp / std::expm1 over dense sweeps, through Eigen
// expressions on arrays whose length is a multiple of every SIMD width (so the packet path is
// what is checked), with explicit ulp bounds: exp and expm1 within 2 ulp, softplus within 5,
// sigmoid within 4; tanh (float) within one float of double-precision tanh rounded to float, over
// every float in a [long] case.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "eigrad/kernels/activations.hpp"

namespace {

template <class T>
using Array = Eigen::Array<T, Eigen::Dynamic, 1>;

// |got - ref| in units of the last place of T at ref (denorm_min below the normal range).
template <class T>
double ulp_error(T got, long double ref) {
  const T rounded = static_cast<T>(ref);
  if (std::isnan(ref)) return std::isnan(got) ? 0 : std::numeric_limits<double>::infinity();
  if (std::isinf(rounded)) return got == rounded ? 0 : std::numeric_limits<double>::infinity();
  if (std::isnan(got) || std::isinf(got)) return std::numeric_limits<double>::infinity();
  int e = 0;
  std::frexp(std::fabs(ref), &e);
  const int lowest = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
  const long double ulp = std::ldexp(1.0L, std::max(e - std::numeric_limits<T>::digits, lowest));
  return static_cast<double>(std::fabs(static_cast<long double>(got) - ref) / ulp);
}

template <class T>
std::vector<T> sweep(T lo, T hi, int count) {
  std::vector<T> x;
  for (int i = 0; i < count; ++i) x.push_back(lo + (hi - lo) * T(i) / T(count - 1));
  return x;
}

template <class T>
std::vector<T> edge_points() {
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<T> x = {-1000, -104, -103.9, -103, -100,  -88.7,  -87.3, -87,  -1e-8, 0,   T(-0.0),
                      1e-8,  88.7, 88.72,  88.8, 89,    1000,   -745,  -746, -708,  709, 709.7,
                      709.8, 710,  -inf,   inf,  1e-30, -1e-30, 0.5,   -0.5, 1,     -1};
  while (x.size() % 16) x.push_back(T(0.25) * T(x.size()));
  return x;
}

template <class T, class F, class Ref>
double max_ulp(const std::vector<T>& xs, F&& f, Ref&& ref) {
  const Array<T> x = Eigen::Map<const Array<T>>(xs.data(), Eigen::Index(xs.size()));
  const Array<T> y = f(x);
  double worst = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double e = ulp_error<T>(y[i], ref(static_cast<long double>(x[i])));
    if (e > worst) {
      worst = e;
      INFO("x = " << x[i] << ", got " << y[i] << ", expected " << double(ref(x[i])));
      CHECK(e < 1e30);  // reports where an error is not finite
    }
  }
  return worst;
}

template <class T>
void check_exp() {
  const auto f = [](const Array<T>& x) -> Array<T> { return eigrad::kernels::fast_exp(x); };
  const auto ref = [](long double x) { return std::exp(x); };
  const bool is_float = std::is_same<T, float>::value;
  CHECK(max_ulp<T>(sweep<T>(is_float ? -110 : -750, is_float ? 90 : 712, 1 << 20), f, ref) <= 2);
  CHECK(max_ulp<T>(sweep<T>(-1, 1, 1 << 18), f, ref) <= 2);
  CHECK(max_ulp<T>(sweep<T>(T(-1e-6), T(1e-6), 1 << 16), f, ref) <= 2);
  CHECK(max_ulp<T>(edge_points<T>(), f, ref) <= 2);
}

template <class T>
void check_expm1() {
  const auto f = [](const Array<T>& x) -> Array<T> { return eigrad::kernels::fast_expm1(x); };
  const auto ref = [](long double x) { return std::expm1(x); };
  const bool is_float = std::is_same<T, float>::value;
  CHECK(max_ulp<T>(sweep<T>(is_float ? -110 : -750, is_float ? 90 : 712, 1 << 20), f, ref) <= 2);
  CHECK(max_ulp<T>(sweep<T>(-1, 1, 1 << 18), f, ref) <= 2);
  CHECK(max_ulp<T>(sweep<T>(T(-1e-6), T(1e-6), 1 << 16), f, ref) <= 2);
  CHECK(max_ulp<T>(edge_points<T>(), f, ref) <= 2);
}

template <class T>
void check_expm1_of_min0() {
  const auto f = [](const Array<T>& x) -> Array<T> {
    return eigrad::kernels::fast_expm1_of_min0(x);
  };
  const auto ref = [](long double x) { return std::expm1(std::min(x, 0.0L)); };
  const bool is_float = std::is_same<T, float>::value;
  CHECK(max_ulp<T>(sweep<T>(is_float ? -110 : -750, 10, 1 << 20), f, ref) <= 2);
  CHECK(max_ulp<T>(sweep<T>(T(-1e-6), T(1e-6), 1 << 16), f, ref) <= 2);
  CHECK(max_ulp<T>(edge_points<T>(), f, ref) <= 2);
}

// log(1 + exp(x)), computed without overflow in long double.
long double softplus_ref(long double x) {
  return std::max(x, 0.0L) + std::log1p(std::exp(-std::fabs(x)));
}

template <class T>
void check_softplus() {
  const auto f = [](const Array<T>& x) -> Array<T> { return eigrad::kernels::fast_softplus(x); };
  const bool is_float = std::is_same<T, float>::value;
  const T big = is_float ? T(1e30) : T(1e300);
  CHECK(max_ulp<T>(sweep<T>(is_float ? -110 : -750, is_float ? 110 : 750, 1 << 20), f,
                   softplus_ref) <= 5);
  CHECK(max_ulp<T>(sweep<T>(-20, 20, 1 << 18), f, softplus_ref) <= 5);
  CHECK(max_ulp<T>(sweep<T>(-big, big, 1 << 10), f, softplus_ref) <= 5);
  CHECK(max_ulp<T>(edge_points<T>(), f, softplus_ref) <= 5);
}

template <class T>
void check_sigmoid() {
  const auto f = [](const Array<T>& x) -> Array<T> { return eigrad::kernels::fast_sigmoid(x); };
  const auto ref = [](long double x) { return 1 / (1 + std::exp(-x)); };
  // Down to where exp(-x) overflows; below, the result is 0 (see SigmoidOp).
  const T lowest = std::is_same<T, float>::value ? T(-88.7) : T(-709.7);
  CHECK(max_ulp<T>(sweep<T>(lowest, -lowest, 1 << 20), f, ref) <= 4);
  CHECK(max_ulp<T>(sweep<T>(-1, 1, 1 << 18), f, ref) <= 4);
  const std::vector<T> tail = sweep<T>(T(8) * lowest, T(1.001) * lowest, 1 << 10);
  const Array<T> y = f(Eigen::Map<const Array<T>>(tail.data(), Eigen::Index(tail.size())));
  CHECK(y.minCoeff() >= 0);
  CHECK(y.maxCoeff() <= std::numeric_limits<T>::min());
}

}  // namespace

TEST_CASE("fast_exp is within 2 ulp of exp, with exact 0, inf, NaN and gradual underflow",
          "[kernels]") {
  check_exp<float>();
  check_exp<double>();
}

TEST_CASE("fast_exp's special values are exact", "[kernels]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Array<float> x(16);
  x << -1000, -104, -inf, 1000, 89, inf, nan, 0, -0.0f, -103.9f, 1, 2, 3, 4, 5, 6;
  const Array<float> y = eigrad::kernels::fast_exp(x);
  CHECK(y[0] == 0);
  CHECK(y[1] == 0);
  CHECK(y[2] == 0);
  CHECK(y[3] == inf);
  CHECK(y[4] == inf);
  CHECK(y[5] == inf);
  CHECK(std::isnan(y[6]));
  CHECK(y[7] == 1);
  CHECK(y[8] == 1);
  CHECK(y[9] == std::numeric_limits<float>::denorm_min());  // exp(-103.9) = 0.54 denorm_min
  Array<double> xd(8);
  xd << -1000, -746, 710, std::numeric_limits<double>::quiet_NaN(), -744.5, 0, 1, 2;
  const Array<double> yd = eigrad::kernels::fast_exp(xd);
  CHECK(yd[0] == 0);
  CHECK(yd[1] == 0);
  CHECK(yd[2] == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(yd[3]));
  CHECK(yd[4] == std::numeric_limits<double>::denorm_min());  // exp(-744.5) = 0.94 denorm_min
}

TEST_CASE("fast_expm1 is within 2 ulp of expm1, relative near 0 and exact at the limits",
          "[kernels]") {
  check_expm1<float>();
  check_expm1<double>();
}

TEST_CASE("fast_expm1_of_min0 is within 2 ulp of expm1(min(x, 0))", "[kernels]") {
  check_expm1_of_min0<float>();
  check_expm1_of_min0<double>();
}

TEST_CASE("fast_softplus is within 5 ulp of log(1 + exp(x)) and never overflows", "[kernels]") {
  check_softplus<float>();
  check_softplus<double>();
}

TEST_CASE("fast_sigmoid is within 4 ulp of 1 / (1 + exp(-x)) until exp(-x) overflows",
          "[kernels]") {
  check_sigmoid<float>();
  check_sigmoid<double>();
}

// The distance from y to the float nearest double-precision tanh(x) (correctly rounded but for
// double rounding, once in 2^29), in floats: 0 where y is that float, 1 where it is a neighbour.
int64_t tanh_steps(float x, float y) {
  const auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? -int64_t(i & 0x7fffffff) : int64_t(i);
  };
  return std::llabs(ordered(y) - ordered(static_cast<float>(std::tanh(static_cast<double>(x)))));
}

// The largest tanh_steps of fast_tanh over xs (padded to whole packets with zeros), with its x.
std::pair<int64_t, float> max_tanh_steps(std::vector<float> xs) {
  while (xs.size() % 64) xs.push_back(0);
  const Array<float> x = Eigen::Map<const Array<float>>(xs.data(), Eigen::Index(xs.size()));
  const Array<float> y = eigrad::kernels::fast_tanh(x);
  std::pair<int64_t, float> worst{0, 0.0f};
  for (Eigen::Index i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::make_pair(tanh_steps(x[i], y[i]), x[i]));
  return worst;
}

// Every float from lo up to hi.
std::vector<float> every_float(float lo, float hi) {
  std::vector<float> xs;
  for (float f = lo; f <= hi; f = std::nextafter(f, hi + 1)) xs.push_back(f);
  return xs;
}

// The finite floats among the bit patterns first, first + stride, ... below 2^32.
std::vector<float> bit_patterns(uint64_t first, uint64_t stride, uint64_t end = uint64_t(1) << 32) {
  std::vector<float> xs;
  for (uint64_t bits = first; bits < end; bits += stride) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b, sizeof f);
    if (std::isfinite(f)) xs.push_back(f);
  }
  return xs;
}

TEST_CASE(
    "fast_tanh is within one float of the correctly rounded tanh in float, and is std::tanh in "
    "double",
    "[kernels]") {
  // Every 4099th bit pattern (both signs, all exponents), then every float around the switch
  // between the polynomial and exp at 0.7, where tanh starts to round to 1 (9.0109), and near 0.
  for (const auto& xs :
       {bit_patterns(0, 4099), every_float(0.68f, 0.72f), every_float(-0.72f, -0.68f),
        every_float(8.99f, 9.03f), every_float(0x1p-13f, 0x1.01p-13f), every_float(0.0f, 0x1p-133f),
        every_float(0.999e-3f, 1.001e-3f)}) {
    const auto [steps, at] = max_tanh_steps(xs);
    INFO("x = " << at);
    CHECK(steps <= 1);
  }
  const auto f64 = [](const Array<double>& x) -> Array<double> {
    return eigrad::kernels::fast_tanh(x);
  };
  const auto ref = [](long double x) { return std::tanh(x); };
  CHECK(max_ulp<double>(sweep<double>(-20, 20, 1 << 16), f64, ref) <= 2);  // glibc
}

TEST_CASE("fast_tanh keeps NaN, -0 and denormals, and is +-1 at +-inf and beyond 9.02",
          "[kernels]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::numeric_limits<float>::denorm_min();
  Array<float> x(16);
  x << std::numeric_limits<float>::quiet_NaN(), inf, -inf, -0.0f, 0.0f, tiny, -tiny, 1e-40f,
      -1e-40f, 0x1p-13f, 9.02f, -9.02f, 100, -1e30f, std::numeric_limits<float>::max(), 0.5f;
  const Array<float> y = eigrad::kernels::fast_tanh(x);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 1);
  CHECK(y[2] == -1);
  CHECK((y[3] == 0 && std::signbit(y[3])));
  CHECK((y[4] == 0 && !std::signbit(y[4])));
  for (int i = 5; i <= 9; ++i) CHECK(y[i] == x[i]);  // tanh x = x - x^3 / 3 rounds to x
  CHECK(y[10] == 1);
  CHECK(y[11] == -1);
  CHECK(y[12] == 1);
  CHECK(y[13] == -1);
  CHECK(y[14] == 1);
}

// All 2^32 bit patterns but NaN and inf: about 90 s in Release (glibc's tanh in double is the
// reference), minutes under the sanitizers, whose run leaves [long] out.
TEST_CASE("fast_tanh is within one float of the correctly rounded tanh for every float",
          "[kernels][long]") {
  std::pair<int64_t, float> worst{0, 0.0f};
  for (uint64_t first = 0; first < (uint64_t(1) << 32); first += uint64_t(1) << 24)
    worst = std::max(worst, max_tanh_steps(bit_patterns(first, 1, first + (uint64_t(1) << 24))));
  INFO("x = " << worst.second);
  CHECK(worst.first <= 1);
}

TEST_CASE("Phi from exp(-x^2 / 2) is within 3e-7 of Phi in float and exact at the tails",
          "[kernels]") {
  using eigrad::kernels::NormalCdfFromExpOp;
  const auto phi = [](long double x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); };
  for (const auto& xs : {sweep<float>(-40, 40, 1 << 20), sweep<float>(-1e-3f, 1e-3f, 1 << 12),
                         edge_points<float>()}) {
    const Array<float> x = Eigen::Map<const Array<float>>(xs.data(), Eigen::Index(xs.size()));
    const Array<float> e = (x * x * -0.5f).exp();
    const Array<float> y = x.binaryExpr(e, NormalCdfFromExpOp<float>());
    double worst = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      if (!std::isnan(x[i])) worst = std::max(worst, double(std::fabs(y[i] - phi(x[i]))));
    CHECK(worst <= 3e-7);
  }
  const Array<float> tails = (Array<float>(4) << -1000, -1e30f, 1e30f, 1000).finished();
  const Array<float> t16 = tails.replicate(4, 1);
  const Array<float> at_tails =
      t16.binaryExpr((t16 * t16 * -0.5f).exp(), NormalCdfFromExpOp<float>());
  for (int i = 0; i < 16; ++i) CHECK(at_tails[i] == (tails[i % 4] < 0 ? 0.0f : 1.0f));
  const Array<float> nan = Array<float>::Constant(16, std::numeric_limits<float>::quiet_NaN());
  CHECK(nan.binaryExpr(Array<float>::Zero(16), NormalCdfFromExpOp<float>()).isNaN().all());
  const Array<double> x =
      Eigen::Map<const Array<double>>(sweep<double>(-10, 10, 4096).data(), 4096);
  const Array<double> y = x.binaryExpr((x * x * -0.5).exp(), NormalCdfFromExpOp<double>());
  for (Eigen::Index i = 0; i < x.size(); ++i) CHECK(std::fabs(y[i] - phi(x[i])) <= 1e-15);
}

TEST_CASE(
    "fast_normal_cdf is within 2.5e-7 of Phi in float (as Eigen's erf) and exact at the tails",
    "[kernels]") {
  const auto phi = [](long double x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); };
  for (const auto& xs : {sweep<float>(-40, 40, 1 << 20), sweep<float>(-1e-3f, 1e-3f, 1 << 12),
                         edge_points<float>()}) {
    const Array<float> x = Eigen::Map<const Array<float>>(xs.data(), Eigen::Index(xs.size()));
    const Array<float> y = eigrad::kernels::fast_normal_cdf(x);
    double worst = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      if (!std::isnan(x[i])) worst = std::max(worst, double(std::fabs(y[i] - phi(x[i]))));
    CHECK(worst <= 2.5e-7);
  }
  const Array<float> tails = (Array<float>(4) << -1000, -5.7f, 5.7f, 1000).finished();
  const Array<float> at_tails = eigrad::kernels::fast_normal_cdf(tails.replicate(4, 1));
  for (int i = 0; i < 16; ++i) CHECK(at_tails[i] == (tails[i % 4] < 0 ? 0.0f : 1.0f));
  const Array<float> nan = Array<float>::Constant(16, std::numeric_limits<float>::quiet_NaN());
  CHECK(eigrad::kernels::fast_normal_cdf(nan).isNaN().all());
  const Array<double> x =
      Eigen::Map<const Array<double>>(sweep<double>(-10, 10, 4096).data(), 4096);
  const Array<double> y = eigrad::kernels::fast_normal_cdf(x);
  for (Eigen::Index i = 0; i < x.size(); ++i) CHECK(std::fabs(y[i] - phi(x[i])) <= 1e-15);
}
