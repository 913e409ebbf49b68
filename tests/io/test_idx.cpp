#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "eigrad/error.hpp"
#include "eigrad/io/idx.hpp"
#include "support.hpp"

using namespace eigrad;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using eigrad::test::TempDir;

namespace {

using Bytes = std::vector<uint8_t>;

void put_u32_be(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

Bytes idx_images(uint32_t n, uint32_t rows, uint32_t cols, const Bytes& pixels) {
  Bytes b = {0, 0, 0x08, 0x03};
  put_u32_be(b, n);
  put_u32_be(b, rows);
  put_u32_be(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

Bytes idx_labels(const Bytes& labels) {
  Bytes b = {0, 0, 0x08, 0x01};
  put_u32_be(b, static_cast<uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

uint32_t crc32(const Bytes& data) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t byte : data) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A gzip member (RFC 1952) holding `data` in stored (uncompressed) deflate blocks (RFC 1951).
Bytes gzip_stored(const Bytes& data) {
  Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  size_t pos = 0;
  do {
    const size_t len = std::min<size_t>(data.size() - pos, 65535);
    const bool last = pos + len == data.size();
    out.push_back(last ? 1 : 0);
    out.push_back(static_cast<uint8_t>(len));
    out.push_back(static_cast<uint8_t>(len >> 8));
    out.push_back(static_cast<uint8_t>(~len));
    out.push_back(static_cast<uint8_t>(~len >> 8));
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
               data.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  } while (pos < data.size());
  const uint32_t crc = crc32(data), size = static_cast<uint32_t>(data.size());
  for (int s = 0; s < 32; s += 8) out.push_back(static_cast<uint8_t>(crc >> s));
  for (int s = 0; s < 32; s += 8) out.push_back(static_cast<uint8_t>(size >> s));
  return out;
}

void write(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Three 2 x 3 images whose pixels are 0, 10, 20, ..., and their labels.
const Bytes kPixels = [] {
  Bytes p;
  for (int i = 0; i < 18; ++i) p.push_back(static_cast<uint8_t>(10 * i));
  p[17] = 255;
  return p;
}();
const Bytes kLabels = {7, 0, 9};

}  // namespace

TEST_CASE("IDX images and labels load from plain files", "[idx]") {
  TempDir dir;
  write(dir / "img", idx_images(3, 2, 3, kPixels));
  write(dir / "lbl", idx_labels(kLabels));
  const data::Dataset d = io::load_idx(dir / "img", dir / "lbl");
  REQUIRE(d.X.shape() == Shape{3, 6});
  CHECK(d.y == std::vector<int64_t>{7, 0, 9});
  CHECK(d.num_classes == 10);
  CHECK(d.X.at({0, 0}) == 0.0f);
  CHECK(d.X.at({0, 1}) == 10.0f / 255.0f);
  CHECK(d.X.at({1, 2}) == 80.0f / 255.0f);
  CHECK(d.X.at({2, 5}) == 1.0f);
}

TEST_CASE("IDX files load through gzip and can keep the image axes", "[idx]") {
  TempDir dir;
  write(dir / "img.gz", gzip_stored(idx_images(3, 2, 3, kPixels)));
  write(dir / "lbl.gz", gzip_stored(idx_labels(kLabels)));
  const data::Dataset d = io::load_idx(dir / "img.gz", dir / "lbl.gz", {false, 10});
  REQUIRE(d.X.shape() == Shape{3, 2, 3});
  CHECK(d.y == std::vector<int64_t>{7, 0, 9});
  CHECK(d.X.at({1, 1, 0}) == 90.0f / 255.0f);
  CHECK(d.X.at({2, 1, 2}) == 1.0f);
}

TEST_CASE("a missing IDX file is an error naming it", "[idx]") {
  TempDir dir;
  CHECK_THROWS_WITH(io::read_idx_images(dir / "nope.gz"),
                    Contains("nope.gz") && Contains("does not exist"));
  CHECK_THROWS_WITH(io::read_idx_labels(dir / "nope"), Contains("read_idx_labels"));
}

TEST_CASE("a wrong magic number is an error naming the file and both numbers", "[idx]") {
  TempDir dir;
  write(dir / "lbl", idx_labels(kLabels));
  CHECK_THROWS_WITH(io::read_idx_images(dir / "lbl"),
                    Contains("lbl") && Contains("0x00000801") && Contains("0x00000803"));
  write(dir / "text", Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  CHECK_THROWS_WITH(io::read_idx_labels(dir / "text"), Contains("text") && Contains("magic"));
  write(dir / "empty", Bytes{});
  CHECK_THROWS_WITH(io::read_idx_labels(dir / "empty"), Contains("empty") && Contains("truncated"));
}

TEST_CASE("truncated IDX data is an error naming the file", "[idx]") {
  TempDir dir;
  Bytes images = idx_images(3, 2, 3, kPixels);
  images.resize(images.size() - 4);
  write(dir / "short", images);
  CHECK_THROWS_WITH(io::read_idx_images(dir / "short"),
                    Contains("short") && Contains("truncated") && Contains("18") && Contains("14"));
  Bytes header_only = idx_images(3, 2, 3, {});
  header_only.resize(10);
  write(dir / "header", header_only);
  CHECK_THROWS_WITH(io::read_idx_images(dir / "header"),
                    Contains("header") && Contains("truncated"));
  // A gzip stream cut in the middle.
  Bytes gz = gzip_stored(idx_images(3, 2, 3, kPixels));
  gz.resize(gz.size() - 15);
  write(dir / "cut.gz", gz);
  CHECK_THROWS_WITH(io::read_idx_images(dir / "cut.gz"),
                    Contains("cut.gz") && Contains("truncated"));
}

TEST_CASE("bytes after the announced IDX data are an error", "[idx]") {
  TempDir dir;
  Bytes labels = idx_labels(kLabels);
  labels.push_back(1);
  write(dir / "long", labels);
  CHECK_THROWS_WITH(io::read_idx_labels(dir / "long"), Contains("long") && Contains("continues"));
}

TEST_CASE("image and label counts that disagree are an error naming both files", "[idx]") {
  TempDir dir;
  write(dir / "img", idx_images(3, 2, 3, kPixels));
  write(dir / "lbl", idx_labels({1, 2}));
  CHECK_THROWS_WITH(io::load_idx(dir / "img", dir / "lbl"), Contains("img") && Contains("lbl") &&
                                                                Contains("3 items") &&
                                                                Contains("holds 2"));
}

TEST_CASE("a label out of range is an error naming the file and the item", "[idx]") {
  TempDir dir;
  write(dir / "lbl", idx_labels({1, 10, 2}));
  CHECK_THROWS_WITH(io::read_idx_labels(dir / "lbl", 10),
                    Contains("lbl") && Contains("label 10") && Contains("item 1"));
  CHECK(io::read_idx_labels(dir / "lbl", 11) == std::vector<int64_t>{1, 10, 2});
}

// The second case was found by fuzz/fuzz_idx: with no images the total was 0, so the other
// dimensions went unchecked and rows x cols overflowed.
TEST_CASE("implausibly large IDX dimensions are an error before any allocation", "[idx]") {
  TempDir dir;
  write(dir / "huge", idx_images(1u << 20, 1u << 20, 1u << 20, {}));
  CHECK_THROWS_WITH(io::read_idx_images(dir / "huge"),
                    Contains("huge") && Contains("implausibly large"));
  write(dir / "none_of_huge", idx_images(0, 0x80000000u, 0x80000000u, {}));
  CHECK_THROWS_WITH(io::read_idx_images(dir / "none_of_huge"), Contains("implausibly large"));
  write(dir / "none", idx_images(0, 28, 28, {}));
  CHECK(io::read_idx_images(dir / "none").shape() == Shape{0, 784});
}

TEST_CASE("load_fashion_mnist reads Debian's file names from any directory", "[idx]") {
  TempDir dir;
  write(dir / "t10k-images-idx3-ubyte.gz", gzip_stored(idx_images(3, 2, 3, kPixels)));
  write(dir / "t10k-labels-idx1-ubyte.gz", gzip_stored(idx_labels(kLabels)));
  // Unpacked copies are found too.
  write(dir / "train-images-idx3-ubyte", idx_images(3, 2, 3, kPixels));
  write(dir / "train-labels-idx1-ubyte", idx_labels(kLabels));
  const data::Dataset test = io::load_fashion_mnist(dir.path.string(), false);
  const data::Dataset train = io::load_fashion_mnist(dir.path.string(), true);
  CHECK(test.X.shape() == Shape{3, 6});
  CHECK(train.y == test.y);
  CHECK_THROWS_WITH(io::load_fashion_mnist(dir / "missing"),
                    Contains("train-images-idx3-ubyte.gz") && Contains("dataset-fashion-mnist"));
  CHECK(std::string(io::fashion_mnist_classes()[9]) == "Ankle boot");
  CHECK(std::string(io::fashion_mnist_classes()[0]) == "T-shirt/top");
}

TEST_CASE("Debian's Fashion-MNIST loads with 60000 training and 10000 test items", "[idx]") {
  if (!fs::exists(std::string(io::kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist is not installed; skipped");
    return;
  }
  for (const bool train : {true, false}) {
    const data::Dataset d = io::load_fashion_mnist(io::kFashionMnistDir, train);
    const int64_t n = train ? 60000 : 10000;
    REQUIRE(d.X.shape() == Shape{n, 784});
    REQUIRE(d.size() == n);
    CHECK(d.X.array().minCoeff() == 0.0f);
    CHECK(d.X.array().maxCoeff() == 1.0f);
    // Both splits are balanced: n / 10 items per class.
    std::vector<int64_t> counts(10, 0);
    for (int64_t c : d.y) ++counts.at(static_cast<size_t>(c));
    CHECK(counts == std::vector<int64_t>(10, n / 10));
  }
}
