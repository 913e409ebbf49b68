// The compute cost of each activation kernel, without the memory traffic: every catalogue entry's
// forward and backward kernel run on one block of 512 float32 elements (the engine's block;
// softmax and log_softmax: one row of 1024) whose operands stay in L1, timed per 16-float vector
// (one AVX-512 register). Beside them, the same for the streaming kernel y = a x + b. This is the
// profile behind the bandwidth-ceiling figures of bench_activations: with 2^20 elements a forward
// moves 8 bytes per element, which takes about 1.4 ns per 16 floats from the L3 and 3.7 ns from
// DRAM on this kind of machine, so a kernel whose compute alone costs more than that cannot stay
// near that ceiling however well it streams.
//
// Timing: each kernel runs `--repeats` times (50) over its block per sample, round-robin over all
// kernels; the fastest of `--samples` samples (60) is kept (the machine is shared).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "eigrad/activation_catalogue.hpp"

namespace {

using namespace eigrad::catalogue;
using Clock = std::chrono::steady_clock;

constexpr Eigen::Index kBlock = 512, kRow = 1024;
int repeats = 50, samples = 60;  // --repeats=N, --samples=N (e.g. 10 and 1 under callgrind)

using Vec = Eigen::Array<float, Eigen::Dynamic, 1>;

// One timed kernel: `run` applies it once to its block of `elements` floats.
struct Timed {
  std::string name;
  bool backward;
  Eigen::Index elements;
  std::function<void()> run;
  double best = 1e30;  // ns per 16 floats
};

// Round-robin: every kernel gets one sample per round, so that the machine's drift over the run
// touches all of them alike; each keeps its fastest sample.
void time_all(std::vector<Timed>& all) {
  for (int s = 0; s < samples; ++s)
    for (Timed& t : all) {
      const auto t0 = Clock::now();
      for (int r = 0; r < repeats; ++r) t.run();
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
      t.best = std::min(t.best, ns / repeats / (double(t.elements) / 16));
    }
}

// Keeps the compiler from dropping a kernel whose result is never read.
void escape(const void* p) {
  asm volatile("" : : "g"(p) : "memory");
}

// Operands of every kernel, alive for the whole run.
struct Operands {
  Vec x, g, y, dx;
  float p[2];
};

template <class E>
double default_or(size_t i, double fallback) {
  return i < E::parameters.size() ? E::parameters[i].default_value : fallback;
}

template <class E>
void add(std::vector<Timed>& all, std::vector<std::unique_ptr<Operands>>& keep) {
  if constexpr (E::kind != eigrad::ActivationKind::PerChannel) {
    constexpr bool rowwise = E::kind == eigrad::ActivationKind::AlongAxis;
    const Eigen::Index n = rowwise ? kRow : kBlock;
    keep.push_back(std::make_unique<Operands>());
    Operands& o = *keep.back();
    o.x = Vec::LinSpaced(n, -4, 4);
    o.g = Vec::LinSpaced(n, 1, -1);
    o.y.resize(n);
    o.dx.resize(n);
    o.p[0] = float(default_or<E>(0, 0));
    o.p[1] = float(default_or<E>(1, 0));
    const auto forward = [&o, n] {
      if constexpr (rowwise)
        E::template forward<float>(In<float>(o.x.data(), n), Out<float>(o.y.data(), n));
      else
        E::template forward<float>(In<float>(o.x.data(), n), Out<float>(o.y.data(), n), o.p);
      escape(o.y.data());
    };
    const auto backward = [&o, n] {
      const float* saved = E::saves_output ? o.y.data() : o.x.data();
      if constexpr (rowwise)
        E::template backward<float>(In<float>(o.g.data(), n), In<float>(saved, n),
                                    Out<float>(o.dx.data(), n));
      else
        E::template backward<float>(In<float>(o.g.data(), n), In<float>(saved, n),
                                    Out<float>(o.dx.data(), n), o.p);
      escape(o.dx.data());
    };
    forward();  // y as backward reads it
    all.push_back({E::name, false, n, forward});
    all.push_back({E::name, true, n, backward});
  }
}

template <class... E>
void add_all(std::vector<Timed>& all, std::vector<std::unique_ptr<Operands>>& keep,
             std::tuple<E...>*) {
  (add<E>(all, keep), ...);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--repeats=", 0) == 0 && std::atoi(a.c_str() + 10) > 0)
      repeats = std::atoi(a.c_str() + 10);
    else if (a.rfind("--samples=", 0) == 0 && std::atoi(a.c_str() + 10) > 0)
      samples = std::atoi(a.c_str() + 10);
    else {
      std::fprintf(stderr, "usage: %s [--repeats=N] [--samples=N]   (unknown argument '%s')\n",
                   argv[0], argv[i]);
      return 2;
    }
  }
  std::vector<Timed> all;
  std::vector<std::unique_ptr<Operands>> keep;
  const Vec x = Vec::LinSpaced(kBlock, -4, 4);
  Vec y(kBlock);
  all.push_back({"y = a x + b", false, kBlock, [&] {
                   y = x * 1.5f + 0.25f;
                   escape(y.data());
                 }});
  add_all(all, keep, static_cast<Catalogue*>(nullptr));
  time_all(all);
  std::printf("kernel compute cost, operands in L1, float32, ns per 16 floats (fastest of %d)\n",
              samples);
  std::printf("y = a x + b: %.3f ns\n\n", all[0].best);
  std::printf("%-14s %10s %10s\n", "activation", "forward", "backward");
  for (size_t i = 1; i + 1 < all.size(); i += 2)
    std::printf("%-14s %10.3f %10.3f\n", all[i].name.c_str(), all[i].best, all[i + 1].best);
  std::printf("\n(prelu has its own node in activations.cpp and is not listed)\n");
  return 0;
}
