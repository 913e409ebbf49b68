// Fuzzes the safetensors checkpoint loader with arbitrary bytes. The contract: load_safetensors
// and load_into either succeed or throw eigrad::Error; after an error the targets of load_into
// are unchanged. What loads must also survive a round trip: saved again and reloaded, every
// tensor (name, dtype, shape, bytes) and the metadata come back the same.
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
        bytes_of(u) != bytes_of(t.tensor))
      fuzz::violation("tensor '" + t.name + "' changed in a save and reload");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::Scratch file(".safetensors"), copy(".copy.safetensors");
  fuzz::write_file(file.path, data, size);

  try {
    const eigrad::io::Checkpoint c = eigrad::io::load_safetensors(file.path);
    for (const auto& t : c.tensors)
      if (std::visit([](const auto& x) { return x.array().size() != x.numel(); }, t.tensor))
        fuzz::violation("tensor '" + t.name + "' holds the wrong number of values");
    check_round_trip(c, copy.path);
  } catch (const eigrad::Error&) {
  }

  Targets targets;
  try {
    eigrad::io::load_into(file.path, targets.named());
  } catch (const eigrad::Error&) {
    if (!targets.untouched()) fuzz::violation("load_into threw but changed its targets");
  }
  return 0;
}
