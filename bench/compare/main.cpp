// bench_compare: the same workloads in eigrad, libtorch and dlib (when found) and the machine's
// ceilings (plain Eigen, and the BLAS for products), in one Google Benchmark run whose repetitions
// are randomly interleaved across engines (so drift on a noisy machine hits all of them), at 1
// thread and at the core count. Prints Markdown tables: per workload, each engine's median and the
// ratio peer / eigrad.
//
//   bench_compare [--threads=1,2] [--time=real|cpu] [--markdown=FILE] [--epoch-repetitions=N]
//                 [--isolate] [--memory] [Google Benchmark flags, e.g. --benchmark_filter=-epoch]
//
// --memory adds a table of peak resident memory: each engine runs each training step of
// kMemoryWorkloads at 1 thread in a process of its own, which reports its resident set before the
// step's case starts (data, libraries and threads already there) and its peak during the case
// (VmHWM, reset just before it through /proc/self/clear_refs).
//
// --isolate (scripts/bench-compare.sh passes it) runs each engine in a process of its own: the
// peers' OpenBLAS threads spin for a while after each product, and in a shared process they take
// a core from whatever case runs next.
//
// Defaults added unless given: --benchmark_repetitions=5
// --benchmark_enable_random_interleaving=true --benchmark_min_time=0.05. Before timing, every
// peer's activations are checked against eigrad's on a small input (same functions, same
// defaults). What each engine times is written at the top of its *_side.cpp.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "compare.hpp"

extern char** environ;

namespace compare {

std::vector<int64_t> epoch_order(int64_t samples, int epoch) {
  std::vector<int64_t> order(static_cast<size_t>(samples));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 gen(1000 + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), gen);
  return order;
}

namespace {

Inputs make_inputs() {
  Inputs in;
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> wide(-4.0f, 4.0f), unit(-1.0f, 1.0f), pixel(0.0f, 1.0f);
  const size_t n = static_cast<size_t>(kActivationRows * kActivationCols);
  in.x.resize(n);
  in.g.resize(n);
  for (float& v : in.x) v = wide(gen);
  for (float& v : in.g) v = unit(gen);

  // Three interleaved spiral arms of 100 points (the classic toy classification set).
  std::normal_distribution<float> noise(0.0f, 0.2f);
  const int64_t per_class = kSpiralPoints / 3;
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t i = 0; i < per_class; ++i) {
      const float r = static_cast<float>(i) / static_cast<float>(per_class - 1);
      const float t = 4.0f * (static_cast<float>(k) + r) + noise(gen);
      in.spiral_x.push_back(r * std::sin(t));
      in.spiral_x.push_back(r * std::cos(t));
      in.spiral_y.push_back(k);
    }

  // Fashion-MNIST's shape (60000 images of 28x28, 10 classes) with random pixels: the time of
  // a step does not depend on the values.
  in.fashion_samples = 60000;
  in.fashion_source = "random";
  in.fashion_x.resize(static_cast<size_t>(in.fashion_samples * kFashionNet.in));
  in.fashion_y.resize(static_cast<size_t>(in.fashion_samples));
  for (float& v : in.fashion_x) v = pixel(gen);
  std::uniform_int_distribution<int64_t> label(0, kFashionNet.out - 1);
  for (int64_t& y : in.fashion_y) y = label(gen);

  in.activations = eigrad_activation_names();
  return in;
}

struct Key {
  std::string engine, workload;
  int threads;
  bool operator<(const Key& o) const {
    return std::tie(engine, workload, threads) < std::tie(o.engine, o.workload, o.threads);
  }
};

// Collects every repetition's time per benchmark; the median is taken here, so it works with
// any repetition count.
class Collector : public benchmark::BenchmarkReporter {
 public:
  Collector(std::map<std::string, Key> names, bool cpu_time)
      : names_(std::move(names)), cpu_time_(cpu_time) {}
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      const auto key = names_.find(run.run_name.function_name);
      if (key == names_.end()) continue;
      if (run.error_occurred) {
        errors_[key->second] = run.error_message;
        std::fprintf(stderr, "  %s: error: %s\n", key->first.c_str(), run.error_message.c_str());
        continue;
      }
      const double total = cpu_time_ ? run.cpu_accumulated_time : run.real_accumulated_time;
      times_[key->second].push_back(total / static_cast<double>(run.iterations));
    }
  }
  void Finalize() override {}

  // The median of the repetitions in seconds, or a negative number when missing.
  double median(const Key& key) const {
    const auto it = times_.find(key);
    if (it == times_.end() || it->second.empty()) return -1;
    std::vector<double> t = it->second;
    std::sort(t.begin(), t.end());
    const size_t m = t.size() / 2;
    return t.size() % 2 ? t[m] : 0.5 * (t[m - 1] + t[m]);
  }
  size_t repetitions(const Key& key) const {
    const auto it = times_.find(key);
    return it == times_.end() ? 0 : it->second.size();
  }
  const std::map<Key, std::string>& errors() const { return errors_; }

  // --isolate: a child process writes its times (one line per benchmark: engine, workload,
  // threads, then the times, tab-separated) and the parent reads them back.
  bool save(const std::string& path) const {
    std::ofstream out(path);
    for (const auto& [key, times] : times_) {
      out << key.engine << '\t' << key.workload << '\t' << key.threads;
      for (double t : times) out << '\t' << t;
      out << '\n';
    }
    for (const auto& [key, message] : errors_)
      out << key.engine << '\t' << key.workload << '\t' << key.threads << "\terror\t" << message
          << '\n';
    return static_cast<bool>(out);
  }
  bool load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return false;
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string item;
      while (std::getline(ss, item, '\t')) f.push_back(item);
      if (f.size() < 3) continue;
      const Key key{f[0], f[1], std::stoi(f[2])};
      if (f.size() >= 5 && f[3] == "error") {
        errors_[key] = f[4];
        continue;
      }
      for (size_t i = 3; i < f.size(); ++i) times_[key].push_back(std::stod(f[i]));
    }
    return true;
  }

 private:
  std::map<std::string, Key> names_;
  bool cpu_time_;
  std::map<Key, std::vector<double>> times_;
  std::map<Key, std::string> errors_;
};

std::string format_time(double seconds) {
  if (seconds < 0) return "—";
  char buf[32];
  if (seconds < 1e-3)
    std::snprintf(buf, sizeof buf, "%.1f µs", seconds * 1e6);
  else if (seconds < 1.0)
    std::snprintf(buf, sizeof buf, "%.3g ms", seconds * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3g s", seconds);
  return buf;
}

std::string format_ratio(double num, double den) {
  if (num < 0 || den <= 0) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", num / den);
  return buf;
}

struct Summary {
  double log_sum = 0;
  int count = 0, faster = 0;
  void add(double peer, double eigrad) {
    if (peer < 0 || eigrad <= 0) return;
    log_sum += std::log(peer / eigrad);
    ++count;
    if (eigrad < peer) ++faster;
  }
  std::string str(const std::string& peer) const {
    if (count == 0) return "";
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%s / eigrad: geometric mean %.2f over %d rows; eigrad faster in %d of %d",
                  peer.c_str(), std::exp(log_sum / count), count, faster, count);
    return buf;
  }
};

class Report {
 public:
  Report(const Collector& c, const std::vector<Engine>& engines, int lowest_threads)
      : c_(c), lowest_threads_(lowest_threads) {
    for (const Engine& e : engines) {
      if (e.name != "eigrad" && e.name != "ceiling") peers_.push_back(e.name);
      if (e.fixed_threads) fixed_.push_back(e.name);
    }
  }

  double time(const std::string& engine, const std::string& workload, int threads) const {
    return c_.median({engine, workload, fixed(engine) ? lowest_threads_ : threads});
  }
  bool fixed(const std::string& engine) const {
    return std::find(fixed_.begin(), fixed_.end(), engine) != fixed_.end();
  }
  // The median, marked "(1 run)" when there was a single repetition.
  std::string cell(const std::string& engine, const std::string& workload, int threads) const {
    const double t = time(engine, workload, threads);
    const size_t runs =
        c_.repetitions({engine, workload, fixed(engine) ? lowest_threads_ : threads});
    return format_time(t) + (t >= 0 && runs == 1 ? " (1 run)" : "");
  }

  // One table: rows of workloads, each with a ceiling workload (or none).
  void table(std::ostream& os, int threads,
             const std::vector<std::pair<std::string, std::string>>& rows,
             const std::string& ceiling_name) const {
    os << "| workload | eigrad |";
    for (const std::string& p : peers_) os << ' ' << p << " | " << p << " / eigrad |";
    os << ' ' << ceiling_name << " | eigrad / ceiling |\n|---|---:|";
    for (size_t i = 0; i < peers_.size(); ++i) os << "---:|---:|";
    os << "---:|---:|\n";
    for (const auto& [workload, ceiling] : rows) {
      const double e = time("eigrad", workload, threads);
      os << "| " << workload << " | " << cell("eigrad", workload, threads) << " |";
      for (const std::string& p : peers_) {
        const double t = time(p, workload, threads);
        os << ' ' << cell(p, workload, threads) << " | " << format_ratio(t, e) << " |";
      }
      const double ceil = ceiling.empty() ? -1 : time("ceiling", ceiling, threads);
      os << ' ' << (ceiling.empty() ? "—" : cell("ceiling", ceiling, threads)) << " | "
         << format_ratio(e, ceil) << " |\n";
    }
  }

  void summary(std::ostream& os, int threads, const std::vector<std::string>& workloads) const {
    for (const std::string& p : peers_) {
      Summary s;
      for (const std::string& w : workloads) s.add(time(p, w, threads), time("eigrad", w, threads));
      const std::string line = s.str(p);
      if (!line.empty()) os << "- " << line << '\n';
    }
  }

  const std::vector<std::string>& peers() const { return peers_; }

 private:
  const Collector& c_;
  int lowest_threads_;
  std::vector<std::string> peers_, fixed_;
};

// Compares each peer's output and input gradient with eigrad's on the check input; returns
// one line per peer for the report (and names every activation that disagrees).
std::vector<std::string> check_consistency(const Inputs& in, const std::vector<Engine>& engines) {
  constexpr double kAtol = 1e-4, kRtol = 1e-3;
  const Engine* eigrad = nullptr;
  for (const Engine& e : engines)
    if (e.name == "eigrad") eigrad = &e;
  std::vector<std::string> lines;
  for (const Engine& peer : engines) {
    if (&peer == eigrad || !peer.evaluate) continue;
    int agree = 0, compared = 0;
    std::string mismatches;
    for (const std::string& a : in.activations) {
      std::vector<float> y, gx, ry, rgx;
      if (!peer.evaluate(a, in.x, in.g, y, gx)) continue;
      eigrad->evaluate(a, in.x, in.g, ry, rgx);
      ++compared;
      double worst = 0;
      bool ok = y.size() == ry.size() && gx.size() == rgx.size();
      for (size_t i = 0; ok && i < ry.size(); ++i) {
        const double dy = std::abs(double(y[i]) - ry[i]), dg = std::abs(double(gx[i]) - rgx[i]);
        worst = std::max({worst, dy, dg});
        if (dy > kAtol + kRtol * std::abs(ry[i]) || dg > kAtol + kRtol * std::abs(rgx[i]))
          ok = false;
      }
      if (ok) {
        ++agree;
      } else {
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s (max difference %.3g)", a.c_str(), worst);
        mismatches += buf;
      }
    }
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%s agrees with eigrad on %d of %d activations (output and input gradient "
                  "within 1e-4 + 1e-3 |eigrad|)",
                  peer.name.c_str(), agree, compared);
    lines.push_back(buf + (mismatches.empty() ? std::string() : "; differs:" + mismatches));
  }
  return lines;
}

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) return true;
  return false;
}

std::vector<int> parse_threads(const std::string& list) {
  std::vector<int> threads;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) threads.push_back(std::max(1, std::stoi(item)));
  return threads;
}

// Runs this program again with `args` and `out_flag`=<a temporary file>, waits for it, and calls
// read(path) when it exited with 0. False when it could not start, failed, or read() did.
template <class Read>
bool run_child(const char* self, std::vector<std::string> args, const std::string& out_flag,
               Read&& read) {
  char path[] = "/tmp/bench_compare_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    std::fprintf(stderr, "bench_compare: cannot create a temporary file: %s\n",
                 std::strerror(errno));
    return false;
  }
  close(fd);
  args.push_back(out_flag + "=" + path);
  std::vector<char*> argv{const_cast<char*>(self)};
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stderr);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "bench_compare: cannot start /proc/self/exe: %s\n", std::strerror(errno));
    unlink(path);
    return false;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && read(path);
  unlink(path);
  return ok;
}

// Runs this program again for one engine's cases (--engine-only, --times-out) and adds the times
// it wrote to `collector`.
bool run_isolated(const char* self, const std::vector<std::string>& passed,
                  const std::string& engine, Collector& collector) {
  std::vector<std::string> args = passed;
  args.push_back("--engine-only=" + engine);
  std::fprintf(stderr, "bench_compare: timing %s in a process of its own\n", engine.c_str());
  const bool ok =
      run_child(self, args, "--times-out", [&](const char* path) { return collector.load(path); });
  if (!ok) std::fprintf(stderr, "bench_compare: the %s process failed\n", engine.c_str());
  return ok;
}

// The steps whose peak resident memory --memory reports.
const char* const kMemoryWorkloads[] = {kCnnStep, kLstmStep, kTransformerStep};

// A field of /proc/self/status in KiB ("VmRSS:" the resident set now, "VmHWM:" its peak), or -1.
long status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(status, line))
    if (line.compare(0, n, field) == 0) return std::stol(line.substr(n));
  return -1;
}

// Resets the process's peak resident set (VmHWM) to its current one, so that the peak after a
// case is the case's, not that of preparing the inputs (whose temporaries exceed any step's
// needs). False where the kernel does not allow it.
bool reset_peak_resident() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\", c)) out += '\\';
    out += c;
  }
  return out;
}

struct Memory {
  double before_mb = -1, peak_mb = -1;
};

// Runs `workload` of `engine` alone (1 thread, one repetition) in a child process of this
// program and reads back the resident set before the case and the process's peak.
Memory measure_memory(const char* self, const std::string& engine, const std::string& workload) {
  Memory m;
  std::fprintf(stderr, "bench_compare: peak memory of %s / %s in a process of its own\n",
               engine.c_str(), workload.c_str());
  run_child(
      self,
      {"--engine-only=" + engine, "--threads=1",
       "--benchmark_filter=^" + regex_escape(engine + "/" + workload + "/threads:1") + "(/|$)",
       "--benchmark_repetitions=1", "--benchmark_min_time=0"},
      "--memory-out", [&](const char* path) {
        std::ifstream in(path);
        long before = -1, peak = -1;
        if (!(in >> before >> peak)) return false;
        m.before_mb = static_cast<double>(before) * 1024 / 1e6;
        m.peak_mb = static_cast<double>(peak) * 1024 / 1e6;
        return true;
      });
  return m;
}

int run(int argc, char** argv) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> thread_counts = {1, cores};
  bool threads_given = false;
  std::string markdown_path;
  int epoch_repetitions = 0;
  bool cpu_time = false;
  bool isolate = false, memory = false;
  std::string engine_only, times_out;  // set by --isolate for its child processes
  std::string memory_out;              // set by --memory for its child processes
  std::vector<std::string> passed;     // the arguments a child process gets too
  std::vector<std::string> args_storage;
  std::vector<char*> args = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a != "--isolate" && a != "--memory" && a.rfind("--markdown=", 0) != 0) passed.push_back(a);
    if (a.rfind("--threads=", 0) == 0) {
      thread_counts = parse_threads(a.substr(10));
      threads_given = true;
    } else if (a.rfind("--markdown=", 0) == 0)
      markdown_path = a.substr(11);
    else if (a == "--isolate")
      isolate = true;
    else if (a == "--memory")
      memory = true;
    else if (a.rfind("--memory-out=", 0) == 0)
      memory_out = a.substr(13);
    else if (a.rfind("--engine-only=", 0) == 0)
      engine_only = a.substr(14);
    else if (a.rfind("--times-out=", 0) == 0)
      times_out = a.substr(12);
    else if (a == "--time=cpu" || a == "--time=real")
      cpu_time = a == "--time=cpu";
    else if (a.rfind("--epoch-repetitions=", 0) == 0)
      epoch_repetitions = std::max(1, std::stoi(a.substr(20)));
    else if (a == "--blas-probe") {
#ifdef EIGRAD_COMPARE_TORCH
      std::printf("%.1f\n", torch_sgemm_gflops());
      return 0;
#else
      std::fprintf(stderr, "bench_compare --blas-probe: built without libtorch\n");
      return 1;
#endif
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: %s [--threads=1,%d] [--time=real|cpu] [--markdown=FILE] [--epoch-repetitions=N]\n"
          "       [--isolate] [--memory] [Google Benchmark flags, e.g. --benchmark_filter=-epoch]\n"
          "       %s --blas-probe   (GF/s of libtorch's 1024^3 float product at 1 thread)\n"
          "Times eigrad, libtorch and dlib on the same workloads; prints Markdown tables.\n"
          "--isolate times each engine in a process of its own, one after the other: in one\n"
          "process, the peers' BLAS threads keep spinning after their cases and take a core\n"
          "from whatever runs next, which makes multi-threaded figures meaningless.\n"
          "--memory adds the peak resident memory of the cnn, lstm and transformer steps,\n"
          "each engine and step in a process of its own.\n"
          "Epochs run 3 times in eigrad and the ceiling, once in the peers (about a minute\n"
          "each), unless --epoch-repetitions is given. --time=cpu shows the process's CPU time\n"
          "instead of wall time: steadier on a busy machine, but at several threads it is\n"
          "the sum over threads, so it runs 1 thread unless --threads is given.\n"
          "The ceiling times each product with Eigen and with the process's BLAS and keeps\n"
          "the faster; EIGRAD_CEILING_VERBOSE=1 prints each product's times to stderr.\n",
          argv[0], cores, argv[0]);
      return 0;
    } else
      args.push_back(argv[i]);
  }
  if (cpu_time && !threads_given) thread_counts = {1};  // CPU time says nothing about scaling
  if (thread_counts.empty()) thread_counts = {1};
  std::sort(thread_counts.begin(), thread_counts.end());
  thread_counts.erase(std::unique(thread_counts.begin(), thread_counts.end()), thread_counts.end());
  for (const char* flag :
       {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
        "--benchmark_min_time=0.05"}) {
    const std::string name = std::string(flag).substr(0, std::strchr(flag, '=') - flag);
    if (!has_flag(argc, argv, name.c_str())) args_storage.emplace_back(flag);
  }
  for (std::string& s : args_storage) args.push_back(s.data());
  int bench_argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&bench_argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 1;

  std::fprintf(stderr, "bench_compare: preparing data...\n");
  const Inputs in = make_inputs();
  std::vector<Engine> engines;
  engines.push_back(eigrad_engine(in));
#ifdef EIGRAD_COMPARE_TORCH
  engines.push_back(torch_engine(in));
#endif
#ifdef EIGRAD_COMPARE_DLIB
  engines.push_back(dlib_engine(in));
#endif
  engines.push_back(ceiling_engine(in));

  const std::vector<std::string> consistency =
      engine_only.empty() ? check_consistency(in, engines) : std::vector<std::string>{};
  for (const std::string& line : consistency)
    std::fprintf(stderr, "bench_compare: %s\n", line.c_str());

  std::map<std::string, Key> names;
  std::vector<std::string> notes;
  for (int threads : thread_counts)
    for (const Engine& engine : engines) {
      if (engine.fixed_threads && threads != thread_counts.front()) continue;
      if (!engine_only.empty() && engine.name != engine_only) continue;
      for (const Case& c : engine.cases) {
        if (c.lowest_threads_only && threads != thread_counts.front()) {
          if (threads == thread_counts.back() && c.iterations == 0)  // not from memory
            notes.push_back(engine.name + "'s " + c.workload + " is timed at " +
                            std::to_string(thread_counts.front()) +
                            " thread only, to keep the run short.");
          continue;
        }
        const std::string name =
            engine.name + "/" + c.workload + "/threads:" + std::to_string(threads);
        names[name] = {engine.name, c.workload, threads};
        auto run_case = c.run;
        benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
            name.c_str(), [run_case, threads](benchmark::State& state) {
              try {
                run_case(state, threads);
              } catch (const std::exception& e) {  // one failing workload must not end the run
                state.SkipWithError(e.what());
              }
            });
        // Both clocks are recorded; --time picks the one the tables show.
        b->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
        const int repetitions =
            c.epoch && epoch_repetitions > 0 ? epoch_repetitions : c.repetitions;
        if (repetitions > 0) b->Repetitions(repetitions);
        if (c.single_iteration) b->Iterations(1);
        if (c.iterations > 0) b->Iterations(c.iterations);
      }
    }

  std::fprintf(stderr,
               "bench_compare: %zu benchmarks, repetitions interleaved at random; the tables "
               "come when all have run (a few minutes)\n",
               names.size());
  Collector collector(names, cpu_time);
  if (!memory_out.empty()) {               // a child of --memory: one case, then the resident sets
    if (!reset_peak_resident()) return 1;  // the peak would be the inputs' preparation
    const long before = status_kib("VmRSS:");
    // No case by that name in this engine (dlib has no LSTM): nothing to report.
    if (benchmark::RunSpecifiedBenchmarks(&collector) == 0) return 1;
    const long peak = status_kib("VmHWM:");
    std::ofstream out(memory_out);
    out << before << ' ' << peak << '\n';
    return out && collector.errors().empty() ? 0 : 1;
  }
  const auto start = std::chrono::steady_clock::now();
  if (isolate) {
    for (const Engine& e : engines)
      if (!run_isolated(argv[0], passed, e.name, collector)) return 1;
  } else {
    benchmark::RunSpecifiedBenchmarks(&collector);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!times_out.empty()) return collector.save(times_out) ? 0 : 1;  // a child of --isolate
  if (isolate)
    notes.push_back(
        "Each engine was timed in a process of its own (--isolate), one engine after the other; "
        "repetitions are interleaved at random within each engine's process.");

  const Report report(collector, engines, thread_counts.front());
  std::ostringstream os;
  os << "Engines (threads set the same way in every row):\n\n";
  for (const Engine& e : engines)
    os << "- **" << e.name << "** " << e.version << " — threads: " << e.threads << '\n';
  os << "\nEach figure is the median of the repetitions ("
     << (cpu_time ? "process CPU time, summed over threads" : "wall time")
     << "); ratios above 1 mean eigrad "
        "is faster. Activation inputs: 2^20 float32 ([1024, 1024]; [256, 64, 64] with 64 "
        "slopes for prelu; softmax and log_softmax along the last axis). Fashion-MNIST data: "
     << in.fashion_source << " (" << in.fashion_samples
     << " x 784). CNN steps: conv(1->32, 3x3, padding 1) - [BatchNorm2d] - PReLU(32) - "
        "max-pool 2 - conv(32->64, 3x3, padding 1) - [BatchNorm2d] - PReLU(64) - max-pool 2 - "
        "flatten - linear(3136->128) - PReLU(128) - linear(128->10) on the first "
     << kCnnBatch
     << " images of 28x28, SGD with momentum (dlib's PReLU: one slope per layer, "
        "not per channel). LSTM step: one LSTM layer (input "
     << kLstmInput << ", hidden " << kLstmHidden << ") over " << kLstmSequence
     << " steps of a batch of " << kLstmBatch
     << ", a linear head on the last hidden state. "
        "Transformer step: one TransformerEncoderLayer (d_model "
     << kTfModel << ", " << kTfHeads << " heads, feed-forward " << kTfFeedForward
     << ", GELU, dropout 0.1) on " << kTfBatch << " sequences of " << kTfSequence
     << " tokens (eigrad batch_first; libtorch's C++ module has no batch_first and takes "
        "[L, N, E]), a linear head per token; both SGD with momentum. — : not available in "
     << "that engine.\n\nSame functions: ";
  for (size_t i = 0; i < consistency.size(); ++i) os << (i ? "; " : "") << consistency[i];
  os << ".\n";
  for (const std::string& note : notes) os << '\n' << note << '\n';

  std::vector<std::string> forward, backward, backward_from_memory;
  std::vector<std::pair<std::string, std::string>> activation_rows, from_memory_rows, training_rows;
  for (const std::string& a : in.activations) {
    forward.push_back(forward_id(a));
    backward.push_back(backward_id(a));
    backward_from_memory.push_back(from_memory_id(backward_id(a)));
    activation_rows.push_back({forward_id(a), kBandwidthForward});
    activation_rows.push_back({backward_id(a), kBandwidthBackward});
    from_memory_rows.push_back(
        {from_memory_id(backward_id(a)), from_memory_id(kBandwidthBackward)});
  }
  training_rows = {{kChain, ""},
                   {kSpiralStep, kSpiralStep},
                   {kFashionStep, kFashionStep},
                   {kFashionPenaltyStep, ""},
                   {kFashionEpoch, kFashionEpoch},
                   {kCnnStep, kCnnStep},
                   {kCnnBnStep, kCnnStep},  // batch norm adds no product
                   {kLstmStep, kLstmStep},
                   {kTransformerStep, kTransformerStep}};
  for (int threads : thread_counts) {
    os << "\n### " << threads << (threads == 1 ? " thread" : " threads") << "\n\n";
    os << "Activations, forward and forward+backward, run back to back, so that their operands "
          "stay in the L3 (ceiling: streaming y = a x + b over the same bytes, run the same "
          "way):\n\n";
    report.table(os, threads, activation_rows, "bandwidth ceiling");
    os << '\n';
    os << "Forward+backward:\n";
    report.summary(os, threads, backward);
    os << "Forward:\n";
    report.summary(os, threads, forward);
    if (threads == thread_counts.front()) {
      os << "\nActivations forward+backward from memory, at " << threads
         << (threads == 1 ? " thread" : " threads")
         << " only: the caches are evicted (a 256 MiB read, untimed) before each of "
         << kFromMemoryIterations
         << " iterations per repetition, so operands come from DRAM, not from the L3 where the "
            "rows above keep them:\n\n";
      report.table(os, threads, from_memory_rows, "bandwidth ceiling");
      os << '\n';
      report.summary(os, threads, backward_from_memory);
    }
    os << "\nGraph overhead and training (ceiling: the step's matrix products alone, each on the "
          "fastest of Eigen and the BLAS):\n\n";
    report.table(os, threads, training_rows, "GEMM ceiling");
    os << "\nCeilings:";
    for (const auto& [name, bytes] :
         {std::pair<std::string, double>{kBandwidthForward, 8.0},
          std::pair<std::string, double>{kBandwidthBackward, 20.0},
          std::pair<std::string, double>{from_memory_id(kBandwidthBackward), 20.0}}) {
      const double t = report.time("ceiling", name, threads);
      if (t < 0) continue;  // not timed at this thread count
      char buf[64];
      std::snprintf(buf, sizeof buf, " (%.1f GB/s)",
                    bytes * static_cast<double>(in.x.size()) / t / 1e9);
      os << ' ' << name << ' ' << format_time(t) << buf << ';';
    }
    os << " the GEMM ceilings are in the table above";
    os << ".\n";
  }
  if (thread_counts.size() > 1 && !cpu_time) {
    const int lo = thread_counts.front(), hi = thread_counts.back();
    os << "\n### Speed-up from " << lo << " to " << hi << " threads (time at " << lo
       << " / time at " << hi << ")\n\n| workload | eigrad |";
    std::vector<std::string> scaling;
    for (const std::string& p : report.peers())
      if (!report.fixed(p)) scaling.push_back(p);
    for (const std::string& p : scaling) os << ' ' << p << " |";
    os << " ceiling |\n|---|---:|";
    for (size_t i = 0; i < scaling.size(); ++i) os << "---:|";
    os << "---:|\n";
    std::vector<std::pair<std::string, std::string>> rows;  // workload, its ceiling
    for (const std::string& w : backward) rows.push_back({w, kBandwidthBackward});
    rows.insert(rows.end(), training_rows.begin(), training_rows.end());
    for (const auto& [w, c] : rows) {
      os << "| " << w << " | "
         << format_ratio(report.time("eigrad", w, lo), report.time("eigrad", w, hi)) << " |";
      for (const std::string& p : scaling)
        os << ' ' << format_ratio(report.time(p, w, lo), report.time(p, w, hi)) << " |";
      os << ' ' << format_ratio(report.time("ceiling", c, lo), report.time("ceiling", c, hi))
         << " |\n";
    }
  }
  if (memory) {
    os << "\n### Peak resident memory (1 thread)\n\nEach engine runs each step (with its warm-up "
          "steps) alone in a process of its own: the resident set before the case starts (the "
          "program, its libraries and the shared input data), the process's peak, and the "
          "difference, which is what the step's model, activations, gradients and allocator caches "
          "add.\n\n| workload |";
    std::vector<std::string> measured;
    for (const Engine& e : engines)
      if (e.name != "ceiling") measured.push_back(e.name);
    for (const std::string& e : measured) os << ' ' << e << " before / peak / added |";
    os << "\n|---|";
    for (size_t i = 0; i < measured.size(); ++i) os << "---:|";
    os << '\n';
    for (const char* w : kMemoryWorkloads) {
      os << "| " << w << " |";
      for (const std::string& e : measured) {
        const Memory m = measure_memory(argv[0], e, w);
        char buf[96];
        if (m.peak_mb < 0)
          std::snprintf(buf, sizeof buf, " — |");
        else
          std::snprintf(buf, sizeof buf, " %.0f / %.0f / **%.0f MB** |", m.before_mb, m.peak_mb,
                        m.peak_mb - m.before_mb);
        os << buf;
      }
      os << '\n';
    }
  }
  for (const auto& [key, message] : collector.errors())
    os << "\nerror: " << key.engine << " / " << key.workload << " / " << key.threads
       << " threads: " << message << '\n';
  char buf[64];
  std::snprintf(buf, sizeof buf, "\n(run time %.0f s)\n", elapsed);
  os << buf;

  std::cout << os.str();
  if (!markdown_path.empty()) {
    std::ofstream file(markdown_path);
    file << os.str();
    if (!file) {
      std::fprintf(stderr, "bench_compare: cannot write %s\n", markdown_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace compare

int main(int argc, char** argv) {
  return compare::run(argc, argv);
}
