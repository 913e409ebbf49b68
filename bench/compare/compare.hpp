#pragma once
// The comparison harness's shared vocabulary: the workloads, the data every engine reads, and
// what an engine hands to the driver (main.cpp). Each engine lives in its own translation unit
// (eigrad_side.cpp, torch_side.cpp, dlib_side.cpp, ceilings.cpp) so that libtorch's and dlib's
// headers never meet eigrad's, and libtorch's long compile happens once.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../evict_caches.hpp"

namespace compare {

// ---- sizes, the same in every engine ----
constexpr int64_t kActivationRows = 1024, kActivationCols = 1024;  // 2^20 elements
constexpr int64_t kPReLUShape[3] = {256, 64, 64};                  // [N, C, L], 64 channels
constexpr double kMomentum = 0.9;

// A multilayer perceptron in - hidden - PReLU - hidden - PReLU - out with per-channel slopes,
// trained by cross-entropy (mean over the batch) and SGD with momentum.
struct Mlp {
  int64_t in, hidden, out;
  double lr;
};
constexpr Mlp kSpiralNet{2, 64, 3, 0.01};
constexpr Mlp kFashionNet{784, 256, 10, 0.01};
// Steps taken before a step is timed, so momentum buffers and allocator caches are warm.
constexpr int kWarmupSteps = 3;
constexpr int64_t kSpiralPoints = 300;  // 3 classes x 100 points: the whole set is one batch
constexpr int64_t kFashionBatch = 128;

// The convolutional network: conv(1->32, 3x3, padding 1) - [BatchNorm2d] - PReLU(32) -
// max-pool 2 - conv(32->64, 3x3, padding 1) - [BatchNorm2d] - PReLU(64) - max-pool 2 - flatten -
// linear(3136->128) - PReLU(128) - linear(128->10), trained by cross-entropy and SGD with
// momentum on kCnnBatch images of 28x28 (the first rows of Inputs::fashion_x), with per-channel
// PReLU slopes (dlib's: one per layer).
constexpr int64_t kCnnSide = 28, kCnnChannels1 = 32, kCnnChannels2 = 64, kCnnHidden = 128,
                  kCnnClasses = 10, kCnnBatch = 128;
constexpr int64_t kCnnFlat = kCnnChannels2 * (kCnnSide / 4) * (kCnnSide / 4);  // 3136
constexpr double kCnnLr = 0.01;

// The sequence workloads (issue 24), trained by cross-entropy and SGD with momentum:
//  - LSTM step: a one-layer LSTM (input kLstmInput, hidden kLstmHidden) over kLstmSequence steps
//    of a batch of kLstmBatch ([L, N, I], PyTorch's default layout), then a linear head on the
//    last hidden state to kLstmClasses classes;
//  - transformer step: one TransformerEncoderLayer (d_model kTfModel, kTfHeads heads,
//    feed-forward kTfFeedForward, GELU, dropout 0.1 as PyTorch's default) on kTfBatch sequences
//    of kTfSequence tokens, then a linear head per token to kTfClasses classes. eigrad runs it
//    batch_first ([N, L, E]) as the issue says; libtorch 1.13's C++ module has no batch_first
//    and takes [L, N, E], which does the same arithmetic.
// Inputs are the first elements of Inputs::x (uniform in [-4, 4], scaled by 1/4), labels the
// first ones of Inputs::fashion_y.
constexpr int64_t kLstmBatch = 64, kLstmSequence = 32, kLstmInput = 64, kLstmHidden = 128,
                  kLstmClasses = 10;
constexpr int64_t kTfBatch = 32, kTfSequence = 64, kTfModel = 128, kTfHeads = 4,
                  kTfFeedForward = 512, kTfClasses = 10;
constexpr double kTfDropout = 0.1;
constexpr double kSequenceLr = 0.01;

// Read-only data the driver builds once; engines copy or wrap it.
struct Inputs {
  std::vector<float> x;  // 2^20 activation inputs, uniform in [-4, 4]
  std::vector<float> g;  // 2^20 upstream gradients, uniform in [-1, 1]
  // Spiral: kSpiralPoints x 2 points, labels in {0, 1, 2}.
  std::vector<float> spiral_x;
  std::vector<int64_t> spiral_y;
  // Fashion-MNIST shaped: samples x 784 pixels in [0, 1], labels in [0, 10). The first
  // kFashionBatch rows are the batch of the step workload.
  int64_t fashion_samples = 0;
  std::vector<float> fashion_x;
  std::vector<int64_t> fashion_y;
  std::string fashion_source;  // "random" or the directory the real files came from
  // Activation names to time: eigrad's catalogue, in its order.
  std::vector<std::string> activations;
};

// The minibatch order of epoch `epoch`: the same permutation for every engine.
std::vector<int64_t> epoch_order(int64_t samples, int epoch);

// One timed workload of one engine. `run` is a Google Benchmark body; it sets its engine's
// thread count itself (the driver registers one case per thread count).
struct Case {
  std::string workload;  // e.g. "relu fwd+bwd", "spiral step", see workload ids in main.cpp
  std::function<void(benchmark::State&, int threads)> run;
  int repetitions = 0;               // 0: the driver's default
  bool single_iteration = false;     // long workloads: one iteration per repetition
  bool epoch = false;                // repetitions follow --epoch-repetitions when given
  bool lowest_threads_only = false;  // timed at the lowest thread count only (keeps runs short)
  int iterations = 0;                // fixed iterations per repetition; 0: the driver's default
};

// Activations forward+backward are timed twice: as they run in a loop (their 12 MB of operands
// stay in the L3) and "from memory", with the caches evicted before every iteration (untimed:
// eigrad::bench::start_iteration), so that the operands come from DRAM as in the memory-bandwidth
// ceiling the targets refer to. The eviction is slow, so these cases run a fixed
// kFromMemoryIterations iterations per repetition, and at the lowest thread count only: the
// eviction reads on one core, so a second thread would start with its own L2 still warm, and
// during the eviction the engines' worker threads go to sleep, which makes 2-thread times
// erratic (BENCHMARKS.md, "Figures behind the code").
constexpr int kFromMemoryIterations = 10;
inline std::string from_memory_id(const std::string& workload) {
  return workload + ", from memory";
}
// The case `workload`, or with `from_memory` its from-memory twin (its id, fixed iterations and
// lowest thread count set here for every engine). `run` calls eigrad::bench::start_iteration.
inline Case with_caches(const std::string& workload, bool from_memory,
                        std::function<void(benchmark::State&, int threads)> run) {
  Case c{from_memory ? from_memory_id(workload) : workload, std::move(run)};
  if (from_memory) {
    c.iterations = kFromMemoryIterations;
    c.lowest_threads_only = true;
  }
  return c;
}

// The consistency check: every engine evaluates each activation on the same small input
// (x and g: the first elements of Inputs::x and Inputs::g) and the driver compares outputs and
// input gradients with eigrad's, so a name mapped to the wrong function cannot go unnoticed.
inline std::vector<int64_t> check_shape(const std::string& activation) {
  if (activation == "prelu") return {16, kPReLUShape[1], 4};
  return {64, 64};
}
// Fills y = act(x) and gx = the gradient of sum(g * y) with respect to x; false when the engine
// lacks the activation.
using Evaluate =
    std::function<bool(const std::string& activation, const std::vector<float>& x,
                       const std::vector<float>& g, std::vector<float>& y, std::vector<float>& gx)>;

struct Engine {
  std::string name;     // column name: "eigrad", "libtorch", "dlib", "ceiling"
  std::string version;  // for the report
  std::string threads;  // how its threads are set, for the report
  // No thread control at all: timed once, at the lowest thread count, and that figure is shown
  // at every thread count.
  bool fixed_threads = false;
  std::vector<Case> cases;
  Evaluate evaluate;  // empty for the ceilings
};

// Workload ids. Activations: "<name> fwd" and "<name> fwd+bwd".
inline std::string forward_id(const std::string& activation) {
  return activation + " fwd";
}
inline std::string backward_id(const std::string& activation) {
  return activation + " fwd+bwd";
}
constexpr const char* kChain = "overhead chain (100 ops, 2x2)";
constexpr const char* kSpiralStep = "spiral step";
constexpr const char* kFashionStep = "fashion-mnist step";
constexpr const char* kFashionEpoch = "fashion-mnist epoch";
// The fashion-mnist step with a gradient penalty on the input gradient: loss = cross_entropy +
// kPenalty * sum((d cross_entropy / d x)^2), the input gradient taken with create_graph and
// differentiated again by the step's backward.
constexpr const char* kFashionPenaltyStep = "fashion-mnist step + input-gradient penalty";
constexpr double kPenalty = 0.1;
constexpr const char* kCnnStep = "cnn step";
constexpr const char* kCnnBnStep = "cnn+bn step";
constexpr const char* kLstmStep = "lstm step";
constexpr const char* kTransformerStep = "transformer step";
inline const char* cnn_id(bool batch_norm) {
  return batch_norm ? kCnnBnStep : kCnnStep;
}
// Ceilings (plain Eigen): streaming y = a x + b over the bytes an activation moves.
constexpr const char* kBandwidthForward = "bandwidth fwd (8 B/elem)";
constexpr const char* kBandwidthBackward = "bandwidth fwd+bwd (20 B/elem)";

// The peers' matrix products run in the system BLAS (Debian's libblas.so.3), whose own thread
// pool neither torch::set_num_threads nor dlib sets. When it is OpenBLAS, set_blas_threads pins
// it (openblas_set_num_threads, looked up at run time so that any BLAS links) and returns the
// count in effect; otherwise it returns 0. One pool serves the whole process, so every peer case
// pins it before timing.
inline int set_blas_threads(int threads) {
  using Set = void (*)(int);
  using Get = int (*)();
  const auto set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (!set || !get) return 0;
  set(threads);
  return get();
}
// The file that sgemm_ resolved to, e.g. ".../openblas-pthread/libblas.so.3", and its
// configuration when it is OpenBLAS.
inline std::string blas_library() {
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (!sgemm || !dladdr(sgemm, &info) || !info.dli_fname) return "no BLAS found";
  std::string s = info.dli_fname;
  using Config = char* (*)();
  if (const auto config = reinterpret_cast<Config>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
    s += std::string(" (") + config() + ")";
  return s;
}

// The engines. Each returns its cases; the peers exist only when found at configure time.
Engine eigrad_engine(const Inputs& in);
Engine ceiling_engine(const Inputs& in);
#ifdef EIGRAD_COMPARE_TORCH
Engine torch_engine(const Inputs& in);
// GF/s of libtorch's float 1024^3 torch::mm at 1 thread (the system BLAS's kernels), best of 12:
// the probe scripts/bench-compare.sh runs once per OpenBLAS core type to pick the fastest.
double torch_sgemm_gflops();
#endif
#ifdef EIGRAD_COMPARE_DLIB
Engine dlib_engine(const Inputs& in);
#endif
// The activation names eigrad's catalogue enumerates, in its order.
std::vector<std::string> eigrad_activation_names();

}  // namespace compare
