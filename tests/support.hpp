#pragma once
// Helpers shared by the tests: temporary directories and files, random tensors, gradient checks,
// element-wise comparisons, and the example CNN.
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eigrad/eigrad.hpp"

namespace eigrad::test {

// A fresh directory under the system's temporary directory, removed with everything in it
// afterwards (even where a test took its write permission away).
class TempDir {
 public:
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("eigrad_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  // The path of `name` inside the directory.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  // The names of the entries in the directory.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path))
      out.push_back(e.path().filename().string());
    return out;
  }
};

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A float64 tensor of `shape`, uniform in [lo, hi), from a generator seeded with `seed`.
inline DoubleTensor random_values(const Shape& shape, uint64_t seed, double lo = -2,
                                  double hi = 2) {
  Generator gen(seed);
  return DoubleTensor::uniform(shape, lo, hi, gen);
}

// The same as a leaf that requires grad.
inline DoubleTensor random_leaf(const Shape& shape, uint64_t seed, double lo = -2, double hi = 2) {
  return random_values(shape, seed, lo, hi).set_requires_grad();
}

// gradcheck of `f` at `inputs` (float64 finite differences) passes and checked some gradient.
inline void check_gradients(const GradcheckFunction& f, const std::vector<DoubleTensor>& inputs) {
  const GradcheckReport r = gradcheck(f, inputs);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// Every element of `got` is within `tol` of `want`'s, absolutely or relatively.
inline void check_close(const std::vector<double>& got, const std::vector<double>& want,
                        double tol = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
  }
}

// The output length of a convolution or pooling window along one axis (PyTorch's formula).
inline int64_t window_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                               int64_t dilation) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

// Runs f(0), ..., f(count - 1) in threads that start together, so their work overlaps.
template <class F>
void in_threads(int count, F&& f) {
  std::atomic<int> waiting{count};
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i)
    threads.emplace_back([&f, &waiting, i] {
      waiting.fetch_sub(1);
      while (waiting.load(std::memory_order_relaxed) > 0) std::this_thread::yield();
      f(i);
    });
  for (std::thread& t : threads) t.join();
}

// A 2-hidden-PReLU-3 classifier whose parameters depend on the seed.
template <class T = float>
std::shared_ptr<nn::BasicSequential<T>> classifier(uint64_t seed, int64_t hidden = 4) {
  Generator gen(seed);
  return std::make_shared<nn::BasicSequential<T>>(
      std::make_shared<nn::BasicLinear<T>>(2, hidden, gen),
      std::make_shared<nn::BasicPReLU<T>>(hidden),
      std::make_shared<nn::BasicLinear<T>>(hidden, 3, gen));
}

// Every parameter's values, in order.
template <class M>
std::vector<std::vector<double>> snapshot(const M& model) {
  std::vector<std::vector<double>> out;
  for (const auto& p : model.parameters()) {
    const auto v = p.to_vector();
    out.emplace_back(v.begin(), v.end());
  }
  return out;
}

// The network of issue 12's example (conv - BN - PReLU - pool, twice, then linear - PReLU -
// linear), as torch.nn.Sequential would number it.
inline std::shared_ptr<nn::Sequential> make_cnn(Generator& gen) {
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 32, 3).padding(1), gen),
      std::make_shared<nn::BatchNorm2d>(32), std::make_shared<nn::PReLU>(32),
      std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(32, 64, 3).padding(1), gen),
      std::make_shared<nn::BatchNorm2d>(64), std::make_shared<nn::PReLU>(64),
      std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(3136, 128, gen), std::make_shared<nn::PReLU>(128),
      std::make_shared<nn::Linear>(128, 10, gen));
}

// The built-in activations. The sweeps over the catalogue check PyTorch's semantics and eigrad's
// accuracy and finiteness guarantees, which the activations that other cases of the same process
// register (test_registered_activations.cpp) do not promise.
inline std::vector<ActivationInfo> builtin_activations() {
  std::vector<ActivationInfo> r;
  for (const ActivationInfo& info : activation_catalogue())
    if (!info.registered()) r.push_back(info);
  return r;
}

// The window arguments of a pooling test case, and of a convolution's, with a description for
// INFO(): shared by the first- and second-order tests.
struct PoolCase {
  Shape x;  // [N, C, H, W] or [C, H, W]
  std::array<int64_t, 2> kernel, stride, padding, dilation;
};

inline std::string describe(const PoolCase& c) {
  return "x " + c.x.str() + " kernel " + std::to_string(c.kernel[0]) + "," +
         std::to_string(c.kernel[1]) + " stride " + std::to_string(c.stride[0]) + "," +
         std::to_string(c.stride[1]) + " padding " + std::to_string(c.padding[0]) + "," +
         std::to_string(c.padding[1]) + " dilation " + std::to_string(c.dilation[0]) + "," +
         std::to_string(c.dilation[1]);
}

struct ConvCase {
  Shape x, w;  // [N, C, H, W] (or [N, C, L]), [O, C / groups, kH, kW] (or [O, C / groups, K])
  bool bias;
  std::array<int64_t, 2> stride, padding, dilation;  // (for conv1d, the second of each)
  int64_t groups;
};

inline std::string describe(const ConvCase& c) {
  return "x " + c.x.str() + " w " + c.w.str() + (c.bias ? " bias" : "") + " stride " +
         std::to_string(c.stride[0]) + "," + std::to_string(c.stride[1]) + " padding " +
         std::to_string(c.padding[0]) + "," + std::to_string(c.padding[1]) + " dilation " +
         std::to_string(c.dilation[0]) + "," + std::to_string(c.dilation[1]) + " groups " +
         std::to_string(c.groups);
}

}  // namespace eigrad::test
