#pragma once
// Generator: a seeded source of random numbers that gives the same sequence on every machine.
// std::mt19937_64's output is fixed by the standard; the distributions are written here because
// the standard library's are implementation-defined.
#include <cstdint>
#include <random>
#include <string>

namespace eigrad {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal by the Box-Muller transform.
  double normal();
  /// Uniform integer in [0, n).
  uint64_t randint(uint64_t n);

  /// The whole state (PyTorch's get_state / set_state): the engine's 312 words and position and
  /// the normal() value Box-Muller keeps for the next call, as portable text. After
  /// set_state(state()) the generator continues bit for bit where the saved one would. set_state
  /// throws on text that is not such a state and then leaves the generator unchanged.
  std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
  double cached_normal_ = 0;
  bool has_cached_normal_ = false;
};

}  // namespace eigrad
