// Section 1 of the activation lab: what each activation costs to compute. Elementwise kernels on
// arrays that come from memory are bandwidth-bound, so every activation then costs about what
// relu costs; the compute shows where the arrays stay in cache. Each activation is timed at a
// size that fits L1, one that fits L2 and one that comes from memory, repeatedly, interleaved
// with the others so that drift of the (shared) machine hits all alike, and compared with relu
// in the same repetition. Its share of a real training step says when the difference matters.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "lab.hpp"
#include "model.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

// Repetitions of every timing (one timing per activation, size and pass in each), and the
// largest size, whose arrays come from memory (--quick: from L3 on most machines).
constexpr int64_t kRepetitions = 31, kQuickRepetitions = 3;
constexpr int64_t kMemoryElements = int64_t(1) << 22, kQuickMemoryElements = int64_t(1) << 18;
// A timing runs the kernel max(1, this / elements) times, so that a cache-resident timing lasts
// long enough for the clock (the count does not depend on the clock), and keeps the fastest of
// kBestOf such runs back to back: the machine is shared, and a run that another process
// interrupts says nothing about the kernel.
constexpr int64_t kElementsPerTiming = int64_t(1) << 21, kQuickElementsPerTiming = int64_t(1) << 16;
constexpr int kBestOf = 3;
// Forward and backward touch x, y, g and dx: 16 bytes per float32 element. A cache-resident size
// is the largest power of two whose 16 bytes per element fill at most 3/4 of the cache (the
// rest for the engine's own data), and at least one block of the shapes below.
constexpr int64_t kBytesPerElement = 16, kSmallestSize = 1024;
// The rules, fixed before the numbers.
constexpr double kExpensive = 2.0;      // sigmoid "expensive": fwd+bwd above 2x relu's
constexpr double kNearCheapest = 1.25;  // relu "efficient": within 1.25x of every other
constexpr double kSameCost = 1.5;       // swish "as cheap as relu": within 1.5x either way
// The Fashion-MNIST MLP whose step the activation's share is taken of.
constexpr int64_t kBatch = 128, kWidth = 128, kBatches = 4;
constexpr int64_t kStepsPerTiming = 8, kQuickStepsPerTiming = 1, kMlpActivationCalls = 32;
constexpr double kMlpLearningRate = 0.01;

struct CacheLevel {
  int level = 0;
  int64_t bytes = 0;
};

// "48K", "1024K", "32M" as bytes; 0 when unreadable.
int64_t parse_cache_size(const std::string& text) {
  std::size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const std::string unit = text.substr(used);
  if (unit == "K") return value << 10;
  if (unit == "M") return value << 20;
  return unit.empty() ? value : 0;
}

// The data and unified caches of cpu0, by level, as Linux reports them in sysfs; empty where
// sysfs does not say (another system), and the caller falls back to stated sizes.
std::vector<CacheLevel> data_caches() {
  std::vector<CacheLevel> caches;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream level_file(dir + "/level"), type_file(dir + "/type"), size_file(dir + "/size");
    int level = 0;
    std::string type, size;
    if (!(level_file >> level) || !(type_file >> type) || !(size_file >> size)) continue;
    if (type != "Data" && type != "Unified") continue;
    const int64_t bytes = parse_cache_size(size);
    if (bytes > 0) caches.push_back({level, bytes});
  }
  std::sort(caches.begin(), caches.end(),
            [](const CacheLevel& a, const CacheLevel& b) { return a.level < b.level; });
  return caches;
}

int64_t resident_size(int64_t cache_bytes) {
  int64_t n = kSmallestSize;
  while (2 * n * kBytesPerElement <= cache_bytes * 3 / 4) n *= 2;
  return n;
}

std::string show_bytes(int64_t bytes) {
  if (bytes >= (int64_t(1) << 20) && bytes % (int64_t(1) << 20) == 0)
    return format("%lld MiB", static_cast<long long>(bytes >> 20));
  return format("%lld KiB", static_cast<long long>(bytes >> 10));
}

int log2_of(int64_t n) {
  int k = 0;
  while ((int64_t(1) << (k + 1)) <= n) ++k;
  return k;
}

// One size's operands: x and g for the elementwise activations ([n / 1024, 1024]) and for prelu
// ([n / 1024, 64, 16]: 64 channels with their slopes, as a small convolution's output).
struct Operands {
  int64_t n = 0;
  Tensor x, g, x_channels, g_channels, slopes;
};

Operands operands(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Operands o;
  o.n = n;
  o.x = Tensor::uniform({n / 1024, 1024}, -4, 4, gen);
  o.g = Tensor::uniform({n / 1024, 1024}, -1, 1, gen);
  o.x_channels = Tensor::uniform({n / 1024, 64, 16}, -4, 4, gen);
  o.g_channels = Tensor::uniform({n / 1024, 64, 16}, -1, 1, gen);
  o.slopes = Tensor::full({64}, static_cast<float>(kPReLUInitialSlope));
  for (Tensor* t : {&o.x, &o.x_channels, &o.slopes}) t->set_requires_grad();
  return o;
}

bool per_channel(const ActivationInfo& info) {
  return info.kind == ActivationKind::PerChannel;
}

template <class F>
double best_of(F run) {
  double best = run();
  for (int i = 1; i < kBestOf; ++i) best = std::min(best, run());
  return best;
}

// ns per element of `calls` forward passes (no graph recorded, as at inference) or of `calls`
// forward and backward passes (y = f(x); y.backward(g)).
double time_forward(const ActivationInfo& info, const Operands& o, int64_t calls) {
  const NoGradGuard no_grad;
  const bool pc = per_channel(info);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t c = 0; c < calls; ++c) {
    const Tensor y = pc ? info.apply(o.x_channels, o.slopes) : info.apply(o.x);
    if (!y.defined()) throw Error("activation_lab cost: " + info.name + " gave no output");
  }
  return 1e9 * seconds_since(t0) / static_cast<double>(calls * o.n);
}

double time_forward_backward(const ActivationInfo& info, const Operands& o, int64_t calls) {
  const bool pc = per_channel(info);
  const Tensor& x = pc ? o.x_channels : o.x;
  const Tensor& g = pc ? o.g_channels : o.g;
  Tensor leaf = x, slopes = o.slopes;  // handles to the same leaves: zero_grad is not const
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t c = 0; c < calls; ++c) {
    (pc ? info.apply(x, o.slopes) : info.apply(x)).backward(g);
    leaf.zero_grad();
    slopes.zero_grad();
  }
  return 1e9 * seconds_since(t0) / static_cast<double>(calls * o.n);
}

// The MLP of the share: 784 - 128 - 128 - 10 with the activation, plain SGD, a few fixed
// minibatches of 128 images taken in turn.
struct MlpRun {
  Mlp mlp;
  std::unique_ptr<optim::SGD> optimizer;
  int64_t next = 0;
};

struct Minibatch {
  Tensor X;
  std::vector<int64_t> y;
};

std::vector<Minibatch> minibatches(const data::Dataset& train) {
  std::vector<Minibatch> out;
  for (int64_t b = 0; b < kBatches; ++b) {
    std::vector<int64_t> rows(static_cast<std::size_t>(kBatch));
    std::iota(rows.begin(), rows.end(), b * kBatch);
    Minibatch m;
    m.X = index_select(train.X, 0, rows).clone();
    for (int64_t r : rows) m.y.push_back(train.y[static_cast<std::size_t>(r)]);
    out.push_back(std::move(m));
  }
  return out;
}

// ms per SGD step, the mean of `steps`.
double time_steps(MlpRun& run, const std::vector<Minibatch>& batches, int64_t steps) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    const Minibatch& b = batches[static_cast<std::size_t>(run.next++ % kBatches)];
    run.optimizer->zero_grad();
    nn::cross_entropy(run.mlp.model->forward(b.X), b.y).backward();
    run.optimizer->step();
  }
  return 1e3 * seconds_since(t0) / static_cast<double>(steps);
}

// The ratio a / reference over paired repetitions: the mean log ratio and its interval, as ratios.
Estimate ratio_estimate(const std::vector<double>& a, const std::vector<double>& reference) {
  std::vector<double> logs;
  for (std::size_t r = 0; r < a.size(); ++r) logs.push_back(std::log(a[r] / reference[r]));
  Estimate e = bootstrap_mean(logs);
  e.mean = std::exp(e.mean);
  e.lo = std::exp(e.lo);
  e.hi = std::exp(e.hi);
  return e;
}

// Is the ratio's interval wholly above `factor` (1), wholly below it (-1), or across it (0)?
int side_of(const Estimate& ratio, double factor) {
  if (!ratio.known()) return 0;
  if (ratio.lo > factor) return 1;
  if (ratio.hi < factor) return -1;
  return 0;
}

}  // namespace

Report cost(const Lab& lab) {
  const Settings& s = lab.settings;
  const auto t_start = std::chrono::steady_clock::now();
  note("cost: per-element timings in L1, L2 and memory");
  const int64_t repetitions = s.quick ? kQuickRepetitions : kRepetitions;
  const int64_t per_timing = s.quick ? kQuickElementsPerTiming : kElementsPerTiming;

  // The sizes: from the machine's caches where sysfs gives them.
  const std::vector<CacheLevel> caches = data_caches();
  int64_t l1 = 0, l2 = 0, largest_cache = 0;
  for (const CacheLevel& c : caches) {
    if (c.level == 1) l1 = c.bytes;
    if (c.level == 2) l2 = c.bytes;
    largest_cache = std::max(largest_cache, c.bytes);
  }
  const bool from_sysfs = l1 > 0 && l2 > 0;
  if (!from_sysfs) l1 = int64_t(32) << 10, l2 = int64_t(512) << 10;
  const int64_t memory_elements = s.quick ? kQuickMemoryElements : kMemoryElements;
  const std::vector<int64_t> sizes{resident_size(l1), resident_size(l2), memory_elements};
  const std::vector<std::string> size_names{"L1", "L2", "memory"};
  const std::size_t kL1 = 0, kL2 = 1, kMemory = 2, n_sizes = sizes.size();

  // Activations timed: those of the report, and relu as every ratio's reference.
  std::vector<const ActivationInfo*> timed = lab.acts;
  const bool relu_here = index_of(lab.names, "relu") < lab.names.size();
  if (!relu_here) timed.push_back(&find_activation("relu"));
  const std::size_t n_acts = timed.size();
  const std::size_t relu = relu_here ? index_of(lab.names, "relu") : n_acts - 1;

  set_num_threads(1);
  std::vector<Operands> ops;
  for (std::size_t k = 0; k < n_sizes; ++k) ops.push_back(operands(sizes[k], 1));
  // times[size][pass][activation][repetition], pass 0 forward, 1 forward and backward.
  std::vector<std::vector<std::vector<std::vector<double>>>> times(
      n_sizes,
      std::vector<std::vector<std::vector<double>>>(2, std::vector<std::vector<double>>(n_acts)));
  const auto calls_at = [&](std::size_t k) { return std::max<int64_t>(1, per_timing / sizes[k]); };
  for (int64_t rep = -1; rep < repetitions; ++rep) {  // -1: a warm-up, not kept
    for (std::size_t k = 0; k < n_sizes; ++k)
      // The order rotates each repetition, so that no activation always follows the same one.
      for (std::size_t i = 0; i < n_acts; ++i) {
        const std::size_t a = (i + static_cast<std::size_t>(rep + 1)) % n_acts;
        const double fwd = best_of([&] { return time_forward(*timed[a], ops[k], calls_at(k)); });
        const double fb =
            best_of([&] { return time_forward_backward(*timed[a], ops[k], calls_at(k)); });
        if (rep < 0) continue;
        times[k][0][a].push_back(fwd);
        times[k][1][a].push_back(fb);
      }
  }
  ops.clear();
  note(format("cost: kernels timed in %.1f s; the MLP step", seconds_since(t_start)));

  // The MLP step and the activation alone on its shapes, interleaved the same way.
  const auto t_mlp = std::chrono::steady_clock::now();
  const std::vector<Minibatch> batches = minibatches(lab.fashion_train);
  std::vector<MlpRun> runs(n_acts);
  for (std::size_t a = 0; a < n_acts; ++a) {
    runs[a].mlp = make_mlp(*timed[a], 784, kWidth, 2, 10, Init::Usual, 1);
    runs[a].optimizer = std::make_unique<optim::SGD>(runs[a].mlp.model->parameters(),
                                                     optim::SGDOptions(kMlpLearningRate));
  }
  Operands hidden;  // one hidden layer's pre-activations and gradient: [128, 128]
  {
    Generator gen(2);
    hidden.n = kBatch * kWidth;
    hidden.x = Tensor::uniform({kBatch, kWidth}, -4, 4, gen);
    hidden.g = Tensor::uniform({kBatch, kWidth}, -1, 1, gen);
    hidden.x.set_requires_grad();
    hidden.x_channels = hidden.x;  // prelu as in the MLP: one slope per unit
    hidden.g_channels = hidden.g;
    hidden.slopes = Tensor::full({kWidth}, static_cast<float>(kPReLUInitialSlope));
    hidden.slopes.set_requires_grad();
  }
  const int64_t steps = s.quick ? kQuickStepsPerTiming : kStepsPerTiming;
  std::vector<std::vector<double>> step_ms(n_acts), share(n_acts);
  for (int64_t rep = -1; rep < repetitions; ++rep) {
    for (std::size_t i = 0; i < n_acts; ++i) {
      const std::size_t a = (i + static_cast<std::size_t>(rep + 1)) % n_acts;
      const double step = best_of([&] { return time_steps(runs[a], batches, steps); });
      // Two hidden layers, each with the activation's forward and backward on [128, 128].
      const double act_ms = 2 * 1e-6 * static_cast<double>(hidden.n) * best_of([&] {
                              return time_forward_backward(*timed[a], hidden, kMlpActivationCalls);
                            });
      if (rep < 0) continue;
      step_ms[a].push_back(step);
      share[a].push_back(act_ms / step);
    }
  }
  int64_t diverged = 0;
  for (const MlpRun& r : runs) diverged += !finite_model(*r.mlp.model);
  set_num_threads(static_cast<int>(s.threads));
  note(format("cost: MLP steps timed in %.1f s", seconds_since(t_mlp)));

  // Summaries.
  std::vector<std::vector<std::vector<Estimate>>> ns(
      n_sizes, std::vector<std::vector<Estimate>>(2, std::vector<Estimate>(n_acts))),
      ratio = ns;
  for (std::size_t k = 0; k < n_sizes; ++k)
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t a = 0; a < n_acts; ++a) {
        ns[k][pass][a] = bootstrap_mean(times[k][pass][a]);
        ratio[k][pass][a] = ratio_estimate(times[k][pass][a], times[k][pass][relu]);
      }

  // The smallest change of a fwd+bwd ratio to relu the repetitions detect, as a factor: the
  // median over the activations of exp(detectable_difference(sd of the log ratios, n)).
  const auto detectable_factor = [&](std::size_t k) {
    std::vector<double> factors;
    for (std::size_t a = 0; a < n_acts; ++a) {
      if (a == relu) continue;
      std::vector<double> logs;
      for (std::size_t r = 0; r < times[k][1][a].size(); ++r)
        logs.push_back(std::log(times[k][1][a][r] / times[k][1][relu][r]));
      factors.push_back(std::exp(detectable_difference(sample_sd(logs), logs.size())));
    }
    if (factors.empty()) return kNaN;
    std::sort(factors.begin(), factors.end());
    return quantile_sorted(factors, 0.5);
  };

  // The text.
  Report report;
  std::string cache_text;
  if (from_sysfs) {
    cache_text = "This machine's caches (sysfs, cpu0):";
    for (const CacheLevel& c : caches)
      cache_text += format(" L%d %s,", c.level, show_bytes(c.bytes).c_str());
    cache_text.back() = '.';
  } else {
    cache_text = "sysfs gave no cache sizes here, so L1 is taken as 32 KiB and L2 as 512 KiB.";
  }
  const bool memory_bound =
      largest_cache == 0 || memory_elements * kBytesPerElement > largest_cache;
  const std::string memory_text =
      memory_bound
          ? format("2^%d elements (%s per forward and backward, past the last cache)",
                   log2_of(memory_elements), show_bytes(memory_elements * kBytesPerElement).c_str())
          : format(
                "2^%d elements (%s per forward and backward: in --quick this fits "
                "the last cache, so it is not memory-bound)",
                log2_of(memory_elements), show_bytes(memory_elements * kBytesPerElement).c_str());
  report.section(
      "1. Cost",
      "sigmoid is computationally expensive; relu is computationally efficient; swish is "
      "computationally as cheap as relu.",
      format("Timings, so machine-dependent and outside the reproducibility promise; not in the "
             "Holm family either (the verdicts have no p-value). One thread. An elementwise kernel "
             "whose arrays come from memory waits for memory, whatever it computes, so the "
             "compute is measured where the arrays stay in cache. %s Sizes: the largest power of "
             "two whose forward and backward operands (x, y, g, dx: 16 bytes per float32 "
             "element) fill at most 3/4 of the cache, 2^%d elements for L1 and 2^%d for L2; and "
             "%s. Shapes [n/1024, 1024]; prelu [n/1024, 64, 16] with 64 slopes. Forward: y = "
             "f(x) with no graph recorded; forward+backward: y = f(x); y.backward(g). Each timing "
             "runs the kernel max(1, 2^%d / n) times, the fastest of %d such runs back to back "
             "kept (the machine may be shared); %lld repetitions after one warm-up, each "
             "timing every activation at every size in turn (the order rotating by one each "
             "repetition), so drift of the shared machine hits all alike. A ratio to relu (timed "
             "as the reference even when not "
             "among --activations) pairs "
             "the two timings of the same repetition; its 95 %% interval is the expanded "
             "bootstrap of the mean log ratio over the repetitions, reported as a ratio. The "
             "share of a training step: a Fashion-MNIST MLP 784-128-128-10 (batch 128, plain "
             "SGD lr %.2f, %lld fixed minibatches in turn, %lld steps per timing, the fastest of "
             "%d), and the "
             "activation's own forward+backward on [128, 128] (prelu: 128 slopes), twice (two "
             "hidden layers), as a fraction of the step, per repetition. Rules, fixed before the "
             "numbers, on forward+backward at the cache-resident sizes, where compute decides "
             "(both must agree; the memory size is shown, not used): sigmoid is expensive if "
             "its ratio to relu is above %.0fx (interval wholly above: supported; wholly below "
             "at both: not supported); relu is efficient if within %.2fx of every other "
             "activation here (every interval of relu / other wholly below %.2fx: supported; "
             "one wholly above: not supported); swish is as cheap as relu if the ratio is within "
             "%.1fx either way (interval inside [1/%.1f, %.1f]: equivalent; wholly outside: not "
             "supported). Anything else is inconclusive. The intervals describe this run's "
             "repetitions; another load or clock state of the machine moves a ratio by more "
             "than they show (a few %%), so a verdict whose ratio sits near its threshold can "
             "change from run to run. Power: from the spread of the "
             "per-repetition log ratios, %lld repetitions detect (80 %% power, 5 %% two-sided) a "
             "change of the fwd+bwd ratio to relu by a factor of %.2f at L1 and %.2f at L2 "
             "(medians over the activations).",
             cache_text.c_str(), log2_of(sizes[kL1]), log2_of(sizes[kL2]), memory_text.c_str(),
             log2_of(per_timing), kBestOf, static_cast<long long>(repetitions), kMlpLearningRate,
             static_cast<long long>(kBatches), static_cast<long long>(steps), kBestOf, kExpensive,
             kNearCheapest, kNearCheapest, kSameCost, kSameCost, kSameCost,
             static_cast<long long>(repetitions), detectable_factor(kL1), detectable_factor(kL2)),
      lab.names);

  const auto three = [&](int pass, bool as_ratio) {
    return [&, pass, as_ratio](std::size_t a) {
      std::string cell;
      for (std::size_t k = 0; k < n_sizes; ++k) {
        if (k) cell += " · ";
        cell += as_ratio ? (a == relu ? std::string("1") : show(ratio[k][pass][a], 2))
                         : format("%.3f", ns[k][pass][a].mean);
      }
      return cell;
    };
  };
  const auto fwd_ns = three(0, false), fwd_ratio = three(0, true), fb_ns = three(1, false),
             fb_ratio = three(1, true);
  report.text << format(
      "\nSizes: L1 = 2^%d, L2 = 2^%d, memory = 2^%d elements. Each cell "
      "gives L1 · L2 · memory; ns per element are means over the "
      "repetitions (their intervals are in the figures).\n",
      log2_of(sizes[kL1]), log2_of(sizes[kL2]), log2_of(sizes[kMemory]));
  report.table_header({"activation", "forward ns/element", "forward / relu", "fwd+bwd ns/element",
                       "fwd+bwd / relu", "MLP step ms", "step / relu's",
                       "activation's share of the step", "figure"});
  const std::vector<double> log_sizes{static_cast<double>(log2_of(sizes[0])),
                                      static_cast<double>(log2_of(sizes[1])),
                                      static_cast<double>(log2_of(sizes[2]))};
  for (std::size_t a = 0; a < lab.acts.size(); ++a) {
    std::vector<Band> bands;
    const std::vector<std::size_t> shown =
        a == relu ? std::vector<std::size_t>{a} : std::vector<std::size_t>{a, relu};
    for (std::size_t b : shown)
      for (int pass = 0; pass < 2; ++pass) {
        Band band;
        band.label = timed[b]->name + (pass ? " fwd+bwd" : " forward");
        band.x = log_sizes;
        for (std::size_t k = 0; k < n_sizes; ++k) {
          band.mean.push_back(ns[k][pass][b].mean);
          band.lo.push_back(ns[k][pass][b].lo);
          band.hi.push_back(ns[k][pass][b].hi);
        }
        bands.push_back(std::move(band));
      }
    const std::string figure = report.figures.add(
        "cost_" + timed[a]->name + ".png",
        band_plot(bands, a == relu ? "relu" : timed[a]->name + " and relu",
                  "log2(elements): L1, L2, memory sizes", "ns per element", 0.0));
    const Estimate step = bootstrap_mean(step_ms[a]);
    const Estimate step_ratio = ratio_estimate(step_ms[a], step_ms[relu]);
    report.row({timed[a]->name, fwd_ns(a), fwd_ratio(a), fb_ns(a), fb_ratio(a), show(step, 2),
                a == relu ? std::string("1") : show(step_ratio, 2),
                show(bootstrap_mean(share[a]), 1, 100) + " %", link(figure)});
  }
  report.text << format(
      "\n%lld of the %zu MLPs ended with non-finite weights (a timing does "
      "not depend on it, but it is said).\n",
      static_cast<long long>(diverged), n_acts);
  // At the L1 size a call is short enough for the engine's fixed work per call (the graph node,
  // the allocations) to show: it adds the same time to every activation and so pulls the L1
  // ratios toward 1. relu's L1 time against its L2 rate estimates it.
  const double per_call_ns =
      (ns[kL1][1][relu].mean - ns[kL2][1][relu].mean) * static_cast<double>(sizes[kL1]);
  if (per_call_ns > 0)
    report.text << format(
        "relu's forward+backward takes %.0f ns per call at the L1 size, %.0f ns more than "
        "its L2 rate per element gives: about that much of every call is the engine's fixed "
        "work (graph node, allocations), which pulls the L1 ratios toward 1; L2 is the less "
        "diluted measure of the arithmetic.\n",
        ns[kL1][1][relu].mean * static_cast<double>(sizes[kL1]), per_call_ns);

  // The verdicts.
  const auto fb_at = [&](std::size_t a) {
    return format("%s (L1) and %s (L2); from memory %s", show(ratio[kL1][1][a], 2).c_str(),
                  show(ratio[kL2][1][a], 2).c_str(), show(ratio[kMemory][1][a], 2).c_str());
  };
  const auto forward_at = [&](std::size_t a) {
    return format("%s (L1), %s (L2), %s (memory)", show(ratio[kL1][0][a], 2).c_str(),
                  show(ratio[kL2][0][a], 2).c_str(), show(ratio[kMemory][0][a], 2).c_str());
  };
  const auto share_of = [&](std::size_t a) { return format("%.1f %%", 100 * average(share[a])); };
  const std::size_t sig = index_of(lab.names, "sigmoid"), swish = index_of(lab.names, "swish");
  if (sig < lab.names.size()) {
    const int l1_side = side_of(ratio[kL1][1][sig], kExpensive),
              l2_side = side_of(ratio[kL2][1][sig], kExpensive);
    const Finding f = l1_side > 0 && l2_side > 0   ? Finding::Supported
                      : l1_side < 0 && l2_side < 0 ? Finding::NotSupported
                                                   : Finding::Inconclusive;
    report.finding(
        "sigmoid is computationally expensive", f,
        format("rule: fwd+bwd time / relu's above %.0fx at both cache-resident sizes; sigmoid / "
               "relu = %s (memory-bound, so not deciding); the forward alone: %s. In the "
               "Fashion-MNIST MLP step sigmoid takes %s of the step (relu %s); the step costs "
               "%s relu's.",
               kExpensive, fb_at(sig).c_str(), forward_at(sig).c_str(), share_of(sig).c_str(),
               share_of(relu).c_str(),
               show(ratio_estimate(step_ms[sig], step_ms[relu]), 2).c_str()));
  } else {
    report.not_tested("sigmoid is computationally expensive", "sigmoid");
  }
  if (relu_here && lab.acts.size() > 1) {
    // relu / other at each cache-resident size, for every other activation of the report.
    bool all_below = true, one_above = false;
    std::string worst;
    double worst_hi = 0;
    for (std::size_t b = 0; b < lab.acts.size(); ++b) {
      if (b == relu) continue;
      for (std::size_t k : {kL1, kL2}) {
        const Estimate r = ratio_estimate(times[k][1][relu], times[k][1][b]);
        const int side = side_of(r, kNearCheapest);
        all_below = all_below && side < 0;
        one_above = one_above || side > 0;
        if (r.hi > worst_hi) {
          worst_hi = r.hi;
          worst = format("relu / %s = %s (%s)", timed[b]->name.c_str(), show(r, 2).c_str(),
                         size_names[k].c_str());
        }
      }
    }
    const Finding f = one_above   ? Finding::NotSupported
                      : all_below ? Finding::Supported
                                  : Finding::Inconclusive;
    report.finding(
        "relu is computationally efficient", f,
        format("rule: fwd+bwd within %.2fx of every other activation here at both "
               "cache-resident sizes (every interval of relu / other wholly below %.2fx); the "
               "closest to the limit: %s. relu fwd+bwd: %.3f (L1), %.3f (L2), %.3f (memory) "
               "ns/element; %s of the MLP step.",
               kNearCheapest, kNearCheapest, worst.empty() ? "no other activation" : worst.c_str(),
               ns[kL1][1][relu].mean, ns[kL2][1][relu].mean, ns[kMemory][1][relu].mean,
               share_of(relu).c_str()));
  } else {
    report.not_tested("relu is computationally efficient",
                      relu_here ? "another activation to compare with" : "relu");
  }
  if (swish < lab.names.size()) {
    const Estimate& r1 = ratio[kL1][1][swish];
    const Estimate& r2 = ratio[kL2][1][swish];
    const auto inside = [](const Estimate& r) {
      return r.known() && r.lo > 1 / kSameCost && r.hi < kSameCost;
    };
    const auto outside = [](const Estimate& r) {
      return r.known() && (r.lo > kSameCost || r.hi < 1 / kSameCost);
    };
    const Finding f = outside(r1) || outside(r2) ? Finding::NotSupported
                      : inside(r1) && inside(r2) ? Finding::Equivalent
                                                 : Finding::Inconclusive;
    report.finding(
        "swish is computationally as cheap as relu", f,
        format("rule: fwd+bwd time / relu's inside [1/%.1f, %.1f] at both cache-resident "
               "sizes; swish / relu = %s (memory-bound, so not deciding); the forward alone: %s. "
               "In the MLP step swish takes %s (relu %s); the step costs %s relu's.",
               kSameCost, kSameCost, fb_at(swish).c_str(), forward_at(swish).c_str(),
               share_of(swish).c_str(), share_of(relu).c_str(),
               show(ratio_estimate(step_ms[swish], step_ms[relu]), 2).c_str()));
  } else {
    report.not_tested("swish is computationally as cheap as relu", "swish");
  }
  note(format("cost: %.1f s", seconds_since(t_start)));
  return report;
}

}  // namespace activation_lab
