#pragma once
// Helpers shared by the tests: temporary directories and files, and the example CNN.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
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

}  // namespace eigrad::test
