// Fuzzes the safetensors checkpoint loader with arbitrary bytes. The contract: load_safetensors
// and load_into either succeed or throw eigrad::Error; after an error the targets of load_into
// are unchanged. What loads must also survive a round trip: saved again and reloaded, every
// tensor (name, dtype, shape, bytes, I64 or not) and the metadata come back the same. I64
// tensors load as integers held exactly: into float64 by load_safetensors, into the Int64
// targets below (a float32 counter like num_batches_tracked, and a float64 one) by load_into.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "eigrad/error.hpp"
#include "eigrad/io/safetensors.hpp"
#include "fuzz_files.hpp"

namespace {

using eigrad::DoubleTensor;
using eigrad::Tensor;
using eigrad::io::AnyTensor;
using eigrad::io::SavedAs;

const eigrad::Shape& shape_of(const AnyTensor& t) {
  return std::visit([](const auto& x) -> const eigrad::Shape& { return x.shape(); }, t);
}
std::string bytes_of(const AnyTensor& t) {
  return std::visit(
      [](const auto& x) {
        return std::string(reinterpret_cast<const char*>(x.data()),
                           static_cast<size_t>(x.numel()) * sizeof(*x.data()));
      },
      t);
}

// Targets for load_into, filled with a pattern that no load can reproduce by accident.
struct Targets {
  Tensor w = Tensor::full({2, 3}, -7.25f);
  DoubleTensor b = DoubleTensor::full({2}, -7.25);
  Tensor empty = Tensor::zeros({0});
  eigrad::io::NamedTensors named() const { return {{"w", w}, {"b", b}, {"empty", empty}}; }
  bool untouched() const {
    for (float v : w.to_vector())
      if (v != -7.25f) return false;
    for (double v : b.to_vector())
      if (v != -7.25) return false;
    return true;
  }
};

// Integer targets, as a BatchNorm's num_batches_tracked (float32, shape []) and a float64 vector.
struct IntegerTargets {
  Tensor count = Tensor::scalar(-7.0f);
  DoubleTensor steps = DoubleTensor::full({2}, -7.0);
  eigrad::io::NamedTensors named() const {
    return {{"count", count, SavedAs::Int64}, {"steps", steps, SavedAs::Int64}};
  }
  bool untouched() const {
    return count.item() == -7.0f && steps.to_vector() == std::vector<double>{-7.0, -7.0};
  }
  // After a successful load every value is an integer (the file's int64, held exactly).
  bool integral() const {
    for (double v : steps.to_vector())
      if (v != static_cast<double>(static_cast<int64_t>(v))) return false;
    return count.item() == static_cast<float>(static_cast<int64_t>(count.item()));
  }
};

void check_round_trip(const eigrad::io::Checkpoint& c, const std::string& copy) {
  try {
    eigrad::io::save_safetensors(copy, c.tensors, c.metadata);
  } catch (const eigrad::Error&) {
    return;  // names the saver refuses (e.g. "") may still be read: that is an error, not a bug
  }
  const eigrad::io::Checkpoint again = eigrad::io::load_safetensors(copy);
  if (again.tensors.size() != c.tensors.size() || again.metadata != c.metadata)
    fuzz::violation("a checkpoint saved again reloads with other tensors or metadata");
  for (const auto& t : c.tensors) {
    const AnyTensor& u = again.at(t.name);
    if (u.index() != t.tensor.index() || shape_of(u) != shape_of(t.tensor) ||
        bytes_of(u) != bytes_of(t.tensor) || again.entry(t.name).saved_as != t.saved_as)
      fuzz::violation("tensor '" + t.name + "' changed in a save and reload");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::Scratch file(".safetensors"), copy(".copy.safetensors");
  fuzz::write_file(file.path, data, size);

  try {
    const eigrad::io::Checkpoint c = eigrad::io::load_safetensors(file.path);
    for (const auto& t : c.tensors) {
      if (std::visit([](const auto& x) { return x.array().size() != x.numel(); }, t.tensor))
        fuzz::violation("tensor '" + t.name + "' holds the wrong number of values");
      if (t.saved_as == SavedAs::Int64 && !std::get_if<eigrad::LongTensor>(&t.tensor))
        fuzz::violation("the I64 tensor '" + t.name + "' is not held as int64");
      if (const auto* b = std::get_if<eigrad::BoolTensor>(&t.tensor)) {
        const std::string raw = bytes_of(*b);
        for (char byte : raw)
          if (byte != 0 && byte != 1)
            fuzz::violation("the BOOL tensor '" + t.name + "' holds a byte other than 0 and 1");
      }
    }
    check_round_trip(c, copy.path);
  } catch (const eigrad::Error&) {
  }

  Targets targets;
  try {
    eigrad::io::load_into(file.path, targets.named());
  } catch (const eigrad::Error&) {
    if (!targets.untouched()) fuzz::violation("load_into threw but changed its targets");
  }

  IntegerTargets integers;
  try {
    eigrad::io::load_into(file.path, integers.named());
    if (!integers.integral()) fuzz::violation("load_into put a fraction into an Int64 target");
  } catch (const eigrad::Error&) {
    if (!integers.untouched()) fuzz::violation("load_into threw but changed its Int64 targets");
  }
  return 0;
}
