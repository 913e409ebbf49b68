#pragma once
// The IDX files of MNIST and Fashion-MNIST (unsigned-byte images and labels), read through zlib:
// gzip-compressed and plain files both work. Every problem (missing file, wrong magic number,
// truncated data, trailing bytes, counts that disagree, a label out of range) throws
// eigrad::Error naming the file.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "eigrad/data/dataset.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::io {

/// Debian's dataset-fashion-mnist package installs the files here.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct IdxOptions {
  bool flatten = true;       ///< images as [n, rows * cols]; false keeps [n, rows, cols]
  int64_t num_classes = 10;  ///< labels must lie in [0, num_classes)
};

/// An IDX3 image file (magic 0x00000803) as float32 in [0, 1] (pixel / 255).
Tensor read_idx_images(const std::string& path, bool flatten = true);
/// An IDX1 label file (magic 0x00000801); every label must lie in [0, num_classes).
std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes = 10);
/// An image file and its label file; their item counts must agree.
data::Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                       const IdxOptions& options = {});

/// Fashion-MNIST's training (60000 items) or test (10000 items) set from `dir`, which holds
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte, each gzipped (".gz") or plain.
data::Dataset load_fashion_mnist(const std::string& dir = kFashionMnistDir, bool train = true,
                                 const IdxOptions& options = {});

/// Class names of Fashion-MNIST, by label.
const std::array<const char*, 10>& fashion_mnist_classes();

}  // namespace eigrad::io
