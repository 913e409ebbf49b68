// Fuzzes the IDX loader. Byte 0 chooses how the rest (the payload) reaches the file: as it is,
// gzip-compressed, or gzip-compressed and then cut short; and whether images or labels are read.
// Byte 1 is the number of classes for labels. The contract, checked against a parse of the
// payload written here: a valid file loads with its exact shape and values, anything else
// throws eigrad::Error.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "eigrad/error.hpp"
#include "eigrad/io/idx.hpp"
#include "fuzz_files.hpp"

namespace {

std::vector<uint8_t> gzip(const uint8_t* data, size_t size, int level) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&z, size));
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Expected {
  bool valid = false;
  bool lenient = false;  // the sizes are implausibly large: an error is fine too
  std::vector<int64_t> dims;
  const uint8_t* values = nullptr;
};

// The payload as an IDX file of unsigned bytes with `rank` dimensions.
Expected parse(const uint8_t* p, size_t size, int rank, bool flatten) {
  Expected e;
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (size < header || p[0] != 0 || p[1] != 0 || p[2] != 8 || p[3] != rank) return e;
  uint64_t total = 1, item = 1;
  bool item_overflows = false;
  for (int i = 0; i < rank; ++i) {
    const uint8_t* d = p + 4 + 4 * i;
    const uint64_t dim = (uint64_t{d[0]} << 24) | (uint64_t{d[1]} << 16) | (d[2] << 8) | d[3];
    if (i > 0 && dim == 0) return e;  // the loader refuses empty images
    total = total * dim;              // the data bound below keeps this from overflowing
    if (total > size) return e;
    if (i > 0) item_overflows |= __builtin_mul_overflow(item, dim, &item);
    e.dims.push_back(static_cast<int64_t>(dim));
  }
  if (size - header != total) return e;
  // [0, rows, cols] holds no data however large rows * cols is. Flattened, rows * cols must be
  // a size eigrad can hold; otherwise, past 2^40 bytes an image may be called implausible.
  if (flatten && (item_overflows || item > static_cast<uint64_t>(INT64_MAX))) return e;
  e.lenient = item_overflows || item > (uint64_t{1} << 40);
  e.valid = true;
  e.values = p + header;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::Scratch file(".idx");
  if (size < 2) return 0;
  const int mode = data[0] % 3;  // 0 as it is, 1 gzip, 2 gzip cut short
  const bool images = data[0] & 4, flatten = data[0] & 8;
  const int64_t num_classes = data[1];
  const uint8_t* payload = data + 2;
  const size_t n = size - 2;

  bool lenient = false;
  if (mode == 0) {
    fuzz::write_file(file.path, payload, n);
    lenient = n >= 2 && payload[0] == 0x1f && payload[1] == 0x8b;  // zlib would inflate it
  } else {
    std::vector<uint8_t> z = gzip(payload, n, (data[0] >> 4) % 10);
    if (mode == 2) {
      z.resize(z.size() * (data[0] >> 4) / 16);
      lenient = true;  // a cut may land after the last byte that matters
    }
    fuzz::write_file(file.path, z.data(), z.size());
  }

  const Expected e = parse(payload, n, images ? 3 : 1, flatten);
  const Expected* expected = e.valid ? &e : nullptr;
  lenient |= e.lenient;
  try {
    if (images) {
      const eigrad::Tensor x = eigrad::io::read_idx_images(file.path, flatten);
      if (!expected) {
        if (lenient) return 0;
        fuzz::violation("read_idx_images accepted an invalid file");
      }
      const auto& d = expected->dims;
      const std::vector<int64_t> shape = flatten ? std::vector<int64_t>{d[0], d[1] * d[2]} : d;
      if (x.shape().vec() != shape)
        fuzz::violation("read_idx_images gave shape " + x.shape().str());
      for (int64_t i = 0; i < x.numel(); ++i)
        if (x.data()[i] != static_cast<float>(expected->values[i]) / 255.0f)
          fuzz::violation("read_idx_images changed pixel " + std::to_string(i));
    } else {
      const std::vector<int64_t> labels = eigrad::io::read_idx_labels(file.path, num_classes);
      if (!expected) {
        if (lenient) return 0;
        fuzz::violation("read_idx_labels accepted an invalid file");
      }
      if (static_cast<int64_t>(labels.size()) != expected->dims[0])
        fuzz::violation("read_idx_labels gave " + std::to_string(labels.size()) + " labels");
      for (size_t i = 0; i < labels.size(); ++i)
        if (labels[i] != expected->values[i] || labels[i] >= num_classes)
          fuzz::violation("read_idx_labels gave label " + std::to_string(labels[i]));
    }
  } catch (const eigrad::Error&) {
    if (lenient || !expected) return 0;
    if (!images) {
      bool in_range = num_classes >= 1;
      for (int64_t i = 0; i < expected->dims[0]; ++i) in_range &= expected->values[i] < num_classes;
      if (!in_range) return 0;
    }
    fuzz::violation("the loader refused a valid IDX file");
  }
  return 0;
}
