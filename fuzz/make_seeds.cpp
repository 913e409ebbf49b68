// Writes the seed corpora of the fuzz targets: valid checkpoints (saved by eigrad itself), valid
// IDX files (images and labels, plain; fuzz_idx compresses them itself) and op programs (a few
// records of every op). fuzz/corpus/ is this program's committed output:
//   build-fuzz/make_seeds fuzz/corpus
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "eigrad/io/safetensors.hpp"
#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace fs = std::filesystem;
using eigrad::DoubleTensor;
using eigrad::Tensor;

namespace {

void write(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void safetensors_seeds(const fs::path& dir) {
  eigrad::Generator gen(1);
  const auto save = [&](const std::string& name, const eigrad::io::NamedTensors& tensors,
                        const eigrad::io::Metadata& metadata = {}) {
    eigrad::io::save_safetensors((dir / name).string(), tensors, metadata);
  };
  save("empty", {});
  // Exactly the targets fuzz_safetensors loads into.
  save("targets", {{"w", Tensor::uniform({2, 3}, -1, 1, gen)},
                   {"b", DoubleTensor::uniform({2}, -1, 1, gen)},
                   {"empty", Tensor::zeros({0})}});
  save("metadata", {{"w", Tensor::ones({2, 3})}}, {{"epoch", "3"}, {"format", "pt"}});
  save("scalar_and_rank8",
       {{"s", DoubleTensor::scalar(2.5)}, {"r8", Tensor::ones({1, 2, 1, 2, 1, 1, 1, 2})}});
  save("model", {{"model.0.weight", Tensor::uniform({4, 2}, -1, 1, gen)},
                 {"model.0.bias", Tensor::zeros({4})},
                 {"model.1.weight", Tensor::full({1}, 0.25f)},
                 {"optim.0.momentum_buffer", Tensor::zeros({4, 2})}});
  // Exactly the integer targets (I64 in the file, like BatchNorm's num_batches_tracked).
  save("integers",
       {{"count", Tensor::scalar(3), eigrad::io::SavedAs::Int64},
        {"steps", DoubleTensor::from({0, 9007199254740992.0}), eigrad::io::SavedAs::Int64}});
  // A header written by hand with the tensors out of offset order (valid).
  const std::string header = R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                             R"("a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})";
  std::vector<uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(header.size() >> (8 * i));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + 12, 0x3f);
  write(dir / "unordered", bytes);
  // Regression: sizes whose product passes 2^63 before the 0 that makes the tensor empty.
  const std::string empty_header =
      R"({"e":{"dtype":"F32","shape":[4294967296,2147483648,0],"data_offsets":[0,0]}})";
  bytes.assign(8, 0);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(empty_header.size() >> (8 * i));
  bytes.insert(bytes.end(), empty_header.begin(), empty_header.end());
  write(dir / "regress_numel_overflow", bytes);
}

std::vector<uint8_t> idx(const std::vector<uint32_t>& dims, uint8_t fill_seed) {
  std::vector<uint8_t> out{0, 0, 8, static_cast<uint8_t>(dims.size())};
  uint64_t total = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
    total *= d;
  }
  for (uint64_t i = 0; i < total; ++i) out.push_back(static_cast<uint8_t>(i * 37 + fill_seed));
  return out;
}

// fuzz_idx's layout: a mode byte (bits 0-1: plain, gzip or cut gzip; bit 2: images; bit 3:
// flatten; bits 4-7: gzip level and cut), the number of classes, then the IDX payload.
void idx_seeds(const fs::path& dir) {
  const auto seed = [&](const std::string& name, uint8_t mode, uint8_t classes,
                        const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> bytes{mode, classes};
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    write(dir / name, bytes);
  };
  const std::vector<uint8_t> images = idx({3, 4, 5}, 1), labels = idx({6}, 0);
  std::vector<uint8_t> small_labels = labels;
  for (size_t i = 8; i < small_labels.size(); ++i) small_labels[i] %= 10;
  seed("images_plain", 0x04, 10, images);
  seed("images_plain_flat", 0x0c, 10, images);
  seed("images_gzip", 0x65, 10, images);
  seed("images_gzip_cut", 0xa6, 10, images);
  seed("images_none", 0x0c, 10, idx({0, 28, 28}, 0));
  seed("labels_plain", 0x00, 10, small_labels);
  seed("labels_gzip", 0x91, 10, small_labels);
  seed("labels_out_of_range", 0x00, 3, labels);
  seed("labels_none", 0x01, 10, idx({0}, 0));
  // Regression: no images, but rows * cols = (2^32 - 1)^2 does not fit in int64.
  seed("regress_images_overflowing_size", 0x0c, 10, idx({0, 0xffffffff, 0xffffffff}, 0));
}

// fuzz_ops's layout: dtype byte, flags byte, then 12-byte records (op, 11 argument bytes).
void ops_seeds(const fs::path& dir) {
  constexpr int kOps = 85;  // fuzz_ops.cpp's kOpCount
  eigrad::Generator gen(2);
  const auto record = [&](std::vector<uint8_t>& program, int op) {
    program.push_back(static_cast<uint8_t>(op));
    for (int i = 0; i < 11; ++i) program.push_back(static_cast<uint8_t>(gen.randint(256)));
  };
  for (int op = 0; op < kOps; ++op)
    for (uint8_t dtype : {0, 1}) {
      std::vector<uint8_t> program{dtype, 0};
      record(program, 0);  // two leaves first
      record(program, 0);
      for (int i = 0; i < 4; ++i) record(program, op);
      record(program, 35);  // backward
      write(dir / ("op" + std::to_string(op) + (dtype ? "_f64" : "_f32")), program);
    }
  // Regressions, written record by record (fuzz_ops.cpp's Op numbers and argument order).
  const auto program = [&](const std::string& name,
                           const std::vector<std::vector<uint8_t>>& records) {
    std::vector<uint8_t> bytes{1, 0};  // float64, anomaly detection off
    for (std::vector<uint8_t> r : records) {
      r.resize(12, 0);
      bytes.insert(bytes.end(), r.begin(), r.end());
    }
    write(dir / name, bytes);
  };
  // A leaf: op 0, rank, sizes, requires_grad, value seed, share of edge values.
  program("regress_sum_of_scalar_along_axis_1", {{0, 0, 1, 7, 0}, {20, 0, 0, 6, 0}});
  program("regress_reshape_overflow", {{0, 1, 0, 1, 7, 0}, {16, 0, 3, 2, 3, 2, 4}});
  program("regress_softmax_of_empty_records", {{0, 2, 0, 3, 1, 7, 0}, {24, 16, 0, 0}});
  program("regress_cross_entropy_of_0x0", {{26, 0, 0, 0, 1, 7, 0, 1, 0}});
  program("cross_entropy_none_of_empty", {{26, 0, 0, 3, 1, 7, 0, 1, 2}});
  program("regress_linear_empty_batch",
          {{0, 2, 0, 2, 1, 7, 0}, {30, 0, 3, 1, 1, 1, 7, 0, 1, 1, 7, 0}});
  program("regress_prelu_empty_batch", {{0, 2, 0, 3, 1, 7, 0}, {25, 0, 1, 1, 7, 0, 0}});
  program("regress_prelu_empty_batch_of_maps", {{0, 3, 0, 3, 2, 1, 7, 0}, {25, 0, 1, 1, 7, 0, 0}});

  // conv2d (op 49) and conv_transpose2d (op 71) with 17 channels in and out, 3 x 3, stride 1,
  // padding 1, one group, bias: the Winograd fast path, forward and backward (op 35 on the
  // result, a gradient of ones). Arguments: mode (groups 1, nothing broken), sizes (batch 2,
  // wide channels, bias), spatial (6 x 5), kernel (3 x 3, dilation 1), steps (stride 1, padding
  // 1), then the leaves' bytes (odd: requiring grad).
  program("conv2d_winograd", {{49, 0, 0x92, 37, 10, 80, 0x31, 0x21, 0x11, 0}, {35, 3, 1}});
  program("conv_transpose2d_winograd",
          {{71, 0, 0x92, 37, 10, 80, 0, 0x31, 0x21, 0x11, 0}, {35, 3, 1}});

  for (int n = 0; n < 8; ++n) {  // longer mixed programs, some in anomaly mode
    std::vector<uint8_t> program{static_cast<uint8_t>(n & 1), static_cast<uint8_t>(n >> 2 & 1)};
    for (int i = 0; i < 24; ++i) record(program, static_cast<int>(gen.randint(kOps)));
    write(dir / ("mixed" + std::to_string(n)), program);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? argv[1] : "corpus";
  for (const char* target : {"ops", "safetensors", "idx"}) fs::create_directories(root / target);
  safetensors_seeds(root / "safetensors");
  idx_seeds(root / "idx");
  ops_seeds(root / "ops");
  return 0;
}
