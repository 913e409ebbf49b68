#include "eigrad/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <utility>

#include "eigrad/error.hpp"

namespace eigrad::io {

namespace {

// An IDX file of unsigned bytes: its dimensions and its data.
struct IdxData {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

class GzReader {
 public:
  GzReader(const char* op, const std::string& path) : op_(op), path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) fail("the file does not exist");
    if (std::filesystem::is_directory(path, ec)) fail("it is a directory, not a file");
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) fail(std::string("cannot open it: ") + std::strerror(errno));
  }
  ~GzReader() {
    if (file_) gzclose(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to n bytes; fewer only at the end of the data.
  size_t read(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 20));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(file_, &code);
        fail(std::string("corrupt or truncated compressed data (zlib: ") + msg + ")");
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    // A truncated gzip stream ends with Z_BUF_ERROR rather than a failed read.
    int code = Z_OK;
    const char* msg = gzerror(file_, &code);
    if (done < n && code != Z_OK && code != Z_STREAM_END)
      fail(std::string("corrupt or truncated compressed data (zlib: ") + msg + ")");
    return done;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(std::string(op_) + ": '" + path_ + "': " + what);
  }

 private:
  const char* op_;
  std::string path_;
  gzFile file_ = nullptr;
};

// Reads an unsigned-byte IDX file with `rank` dimensions (magic 0x0000 08 rank).
IdxData read_idx(const char* op, const std::string& path, int rank, const char* kind) {
  GzReader in(op, path);
  uint8_t head[4];
  const uint32_t expected = 0x00000800u | static_cast<uint32_t>(rank);
  if (in.read(head, 4) < 4)
    in.fail("truncated: the 4-byte magic number is missing (an empty or foreign file?)");
  const uint32_t magic = (uint32_t{head[0]} << 24) | (uint32_t{head[1]} << 16) |
                         (uint32_t{head[2]} << 8) | uint32_t{head[3]};
  if (magic != expected)
    in.fail(std::string("not an IDX ") + kind + " file: magic number " + hex32(magic) +
            ", expected " + hex32(expected) + " (unsigned bytes, " + std::to_string(rank) +
            " dimension" + (rank == 1 ? "" : "s") + ")");
  IdxData d;
  // total: the bytes of data; bound: the product of the non-zero dimensions, kept plausible
  // even where a zero count makes total 0 (the shape's other products must still fit).
  uint64_t total = 1, bound = 1;
  for (int i = 0; i < rank; ++i) {
    uint8_t b[4];
    if (in.read(b, 4) < 4)
      in.fail("truncated: the header ends inside dimension " + std::to_string(i) + " of " +
              std::to_string(rank));
    const uint32_t dim =
        (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
    d.dims.push_back(dim);
    if (i > 0 && dim == 0) in.fail("image dimension " + std::to_string(i) + " is 0");
    if (dim != 0 && bound > (uint64_t{1} << 40) / dim)
      in.fail("the header's dimensions are implausibly large (" + std::to_string(bound) + " x " +
              std::to_string(dim) + " bytes)");
    total *= dim;
    bound *= std::max<uint32_t>(dim, 1);
  }
  // Grow with the data actually read, so a corrupt header cannot trigger a huge allocation.
  size_t have = 0;
  while (have < total) {
    const size_t want = std::min<uint64_t>(total - have, size_t{1} << 24);
    d.bytes.resize(have + want);
    const size_t got = in.read(d.bytes.data() + have, want);
    have += got;
    if (got < want)
      in.fail("truncated: the header announces " + std::to_string(total) + " bytes of " + kind +
              " data but the file holds " + std::to_string(have));
  }
  uint8_t extra;
  if (in.read(&extra, 1) != 0)
    in.fail("the file continues after the " + std::to_string(total) + " bytes of " + kind +
            " data its header announces (a wrong or corrupted file?)");
  return d;
}

}  // namespace

Tensor read_idx_images(const std::string& path, bool flatten) {
  IdxData d = read_idx("read_idx_images", path, 3, "image");
  const int64_t n = d.dims[0], rows = d.dims[1], cols = d.dims[2];
  Tensor images = flatten ? Tensor::empty({n, rows * cols}) : Tensor::empty({n, rows, cols});
  images.mutable_array() =
      Eigen::Map<const Eigen::Array<uint8_t, Eigen::Dynamic, 1>>(d.bytes.data(), n * rows * cols)
          .cast<float>() /
      255.0f;
  return images;
}

std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes) {
  if (num_classes < 1 || num_classes > 256)
    throw Error("read_idx_labels: num_classes must be in [1, 256] for byte labels, got " +
                std::to_string(num_classes));
  IdxData d = read_idx("read_idx_labels", path, 1, "label");
  std::vector<int64_t> labels(d.bytes.begin(), d.bytes.end());
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= num_classes)
      throw Error("read_idx_labels: '" + path + "': label " + std::to_string(labels[i]) +
                  " of item " + std::to_string(i) + " is out of range for " +
                  std::to_string(num_classes) + " classes");
  return labels;
}

data::Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                       const IdxOptions& options) {
  data::Dataset d;
  d.X = read_idx_images(images_path, options.flatten);
  d.y = read_idx_labels(labels_path, options.num_classes);
  d.num_classes = options.num_classes;
  if (d.X.size(0) != d.size())
    throw Error("load_idx: the image file '" + images_path + "' holds " +
                std::to_string(d.X.size(0)) + " items but the label file '" + labels_path +
                "' holds " + std::to_string(d.size()));
  return d;
}

data::Dataset load_fashion_mnist(const std::string& dir, bool train, const IdxOptions& options) {
  const std::string prefix = train ? "train" : "t10k";
  // The gzipped file as Debian ships it, else an unpacked copy, else name the gzipped one.
  const auto find = [&](const std::string& name) {
    const std::filesystem::path base = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (!std::filesystem::exists(base.string() + ".gz", ec) && std::filesystem::exists(base, ec))
      return base.string();
    return base.string() + ".gz";
  };
  const std::string images = find(prefix + "-images-idx3-ubyte");
  const std::string labels = find(prefix + "-labels-idx1-ubyte");
  std::error_code ec;
  if (!std::filesystem::exists(images, ec))
    throw Error("load_fashion_mnist: '" + images +
                "' does not exist (install Debian's dataset-fashion-mnist package, or pass the "
                "directory that holds the IDX files)");
  return load_idx(images, labels, options);
}

const std::array<const char*, 10>& fashion_mnist_classes() {
  static const std::array<const char*, 10> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace eigrad::io
