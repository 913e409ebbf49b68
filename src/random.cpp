#include "eigrad/random.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "eigrad/error.hpp"

namespace eigrad {

double Generator::normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  const double u1 = 1.0 - uniform();  // (0, 1]: log(u1) is finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * 3.14159265358979323846 * u2;
  cached_normal_ = r * std::sin(theta);
  has_cached_normal_ = true;
  return r * std::cos(theta);
}

uint64_t Generator::randint(uint64_t n) {
  if (n == 0) throw Error("Generator::randint: the range [0, n) is empty (n = 0)");
  // Rejection sampling removes the modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = engine_();
  while (x >= limit);
  return x % n;
}

namespace {
constexpr const char* kStateTag = "eigrad.Generator.mt19937_64.v1";
}  // namespace

// "<tag> <engine words> <cached flag> <cached value's bits>": the engine's own text form, which
// the standard fixes, and the cached normal as its IEEE bits so that it round-trips exactly.
std::string Generator::state() const {
  uint64_t bits = 0;
  std::memcpy(&bits, &cached_normal_, sizeof bits);
  std::ostringstream os;
  os.imbue(std::locale::classic());
  os << kStateTag << ' ' << engine_ << ' ' << (has_cached_normal_ ? 1 : 0) << ' ' << bits;
  return os.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream is(state);
  is.imbue(std::locale::classic());
  std::string tag;
  std::mt19937_64 engine;
  int has_cached = -1;
  uint64_t bits = 0;
  is >> tag;
  if (tag != kStateTag)
    throw Error("Generator::set_state: the state does not start with '" + std::string(kStateTag) +
                "' (got '" + tag.substr(0, 40) + "'); pass a string from Generator::state()");
  is >> engine >> has_cached >> bits;
  std::string rest;
  if (is.fail() || (has_cached != 0 && has_cached != 1) || (is >> rest))
    throw Error("Generator::set_state: the state is truncated or malformed (" +
                std::to_string(state.size()) + " characters); pass a string from " +
                "Generator::state()");
  engine_ = engine;
  has_cached_normal_ = has_cached == 1;
  std::memcpy(&cached_normal_, &bits, sizeof bits);
}

}  // namespace eigrad
