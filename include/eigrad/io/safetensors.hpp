#pragma once
// Checkpoints in the safetensors format (huggingface/safetensors), readable by other tools:
//   8 bytes   little-endian u64 N, the header's length
//   N bytes   JSON {name: {"dtype": "F32"|"F64"|"I64", "shape": [...], "data_offsets": [begin,
//             end]}, "__metadata__": {string: string}}, padded with spaces to a multiple of 8
//   the rest  the tensors' raw little-endian bytes, back to back, offsets relative to its start
//
// A module's parameters and buffers (its state dict, loadable by PyTorch's load_state_dict):
//   io::save_safetensors("model.safetensors", model.state_dict(), {{"epoch", "20"}});
//   io::load_into("model.safetensors", model.state_dict());
// or the parameters alone: io::save_safetensors(path, model.named_parameters()).
//
// Dtypes: Tensor is F32, DoubleTensor F64, LongTensor I64 and BoolTensor BOOL (one byte, 0 or 1;
// any other byte is an error on loading). A float tensor marked SavedAs::Int64 (BatchNorm's
// num_batches_tracked, in a state dict) is written as I64 too: its values must be integers within
// int64's range, or the save throws before it writes anything. load_safetensors reads I64 as a
// LongTensor (marked Int64), exactly. Loading an I64 tensor into a float target marked Int64, or
// Checkpoint::get<float or double> of it, takes the integers exactly or throws: a value the
// target's dtype cannot hold exactly (past 2^24 in float32, 2^53 in float64) is an error, not a
// rounding.
//
// A model and its optimizer in one file, told apart by prefixes:
//   io::NamedTensors all = io::to_named_tensors(model.state_dict(), "model.");
//   io::NamedTensors state = io::to_named_tensors(optimizer.state_dict(), "optim.");
//   all.insert(all.end(), state.begin(), state.end());
//   io::save_safetensors("run.safetensors", all);
//   const io::Checkpoint c = io::load_safetensors("run.safetensors");
//   model.load_state_dict(c.pairs<float>("model."));
//   optimizer.load_state_dict(c.pairs<float>("optim."));
//
// Saving writes a temporary file in the same directory, fsyncs it and renames it over the target:
// an interrupted save leaves the previous file whole. load_into checks everything (header, dtypes,
// shapes, offsets against the file size, gaps and overlaps, the exact set of names, integers that
// fit) before it copies anything: on any mismatch it throws and the targets are unchanged.
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "eigrad/nn/module.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::io {

using AnyTensor = std::variant<Tensor, DoubleTensor, LongTensor, BoolTensor>;
using nn::SavedAs;

struct NamedTensor {
  std::string name;
  AnyTensor tensor;
  SavedAs saved_as = SavedAs::Native;  ///< Int64: written and read as I64

  NamedTensor(std::string n, Tensor t, SavedAs s = SavedAs::Native)
      : name(std::move(n)), tensor(std::move(t)), saved_as(s) {}
  NamedTensor(std::string n, DoubleTensor t, SavedAs s = SavedAs::Native)
      : name(std::move(n)), tensor(std::move(t)), saved_as(s) {}
  NamedTensor(std::string n, LongTensor t, SavedAs s = SavedAs::Native)
      : name(std::move(n)), tensor(std::move(t)), saved_as(s) {}
  NamedTensor(std::string n, BoolTensor t, SavedAs s = SavedAs::Native)
      : name(std::move(n)), tensor(std::move(t)), saved_as(s) {}
  NamedTensor(std::string n, AnyTensor t, SavedAs s = SavedAs::Native)
      : name(std::move(n)), tensor(std::move(t)), saved_as(s) {}
};
using NamedTensors = std::vector<NamedTensor>;
using Metadata = std::map<std::string, std::string>;

/// Any list of {name, tensor} pairs (e.g. Module::named_parameters(), Optimizer::state_dict())
/// as NamedTensors, each name prefixed with `prefix`; the tensors are shared, not copied.
template <class Range>
NamedTensors to_named_tensors(const Range& range, const std::string& prefix = "") {
  NamedTensors out;
  for (const auto& [name, tensor] : range) out.emplace_back(prefix + name, tensor);
  return out;
}
/// A module's state dict, keeping which tensors are saved as integers.
template <class T>
NamedTensors to_named_tensors(const nn::StateDict<T>& state, const std::string& prefix = "") {
  NamedTensors out;
  for (const auto& e : state) out.emplace_back(prefix + e.name, e.tensor, e.saved_as);
  return out;
}

/// Tensors are laid out with 8-byte elements first (F64, I64), then F32, each group in the given
/// order, so every tensor's data is aligned to its element size within the file.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

struct Checkpoint {
  NamedTensors tensors;  ///< in file order
  Metadata metadata;

  bool contains(const std::string& name) const;
  const AnyTensor& at(const std::string& name) const;       ///< throws naming the missing tensor
  const NamedTensor& entry(const std::string& name) const;  ///< throws naming the missing tensor
  /// The tensor as BasicTensor<T>; throws on a dtype mismatch. An I64 tensor converts to either
  /// dtype, exactly or with an error.
  template <class T>
  BasicTensor<T> get(const std::string& name) const;
  /// The tensors whose names start with `prefix`, with the prefix removed, as {name, tensor}
  /// pairs (what Module::load_state_dict and Optimizer::load_state_dict take). All of them must
  /// have dtype T or be I64 (converted as by get).
  template <class T>
  std::vector<std::pair<std::string, BasicTensor<T>>> pairs(const std::string& prefix = "") const;
};

/// Reads a whole checkpoint (F32, F64, I64 and BOOL tensors; I64 ones as LongTensor, marked
/// Int64).
Checkpoint load_safetensors(const std::string& path);

/// Copies the file's tensors into the targets' existing storages, matched by name. The file must
/// hold exactly the targets' names, each with the target's dtype (I64 for an Int64 target) and
/// shape.
void load_into(const std::string& path, const NamedTensors& targets);

/// The same for any list of {name, tensor} pairs, such as Module::named_parameters().
template <class Range, class = std::enable_if_t<!std::is_same_v<Range, NamedTensors>>>
void save_safetensors(const std::string& path, const Range& tensors,
                      const Metadata& metadata = {}) {
  save_safetensors(path, to_named_tensors(tensors), metadata);
}
template <class Range, class = std::enable_if_t<!std::is_same_v<Range, NamedTensors>>>
void load_into(const std::string& path, const Range& targets) {
  load_into(path, to_named_tensors(targets));
}

namespace detail {
/// An I64 tensor (read as a LongTensor) as T, or an Error if T cannot hold one of its values
/// exactly (past 2^24 in float32, 2^53 in float64).
template <class T>
BasicTensor<T> integers_as(const NamedTensor& t, const char* op) {
  const LongTensor* l = std::get_if<LongTensor>(&t.tensor);
  if (!l) {  // a float tensor marked Int64 (saved from a model): its values are integers
    return std::visit([](const auto& x) { return x.template to<T>(); }, t.tensor);
  }
  if constexpr (std::is_same_v<T, int64_t>) {
    return *l;
  } else {
    BasicTensor<T> out = l->template to<T>();
    const int64_t* v = l->data();
    for (int64_t i = 0; i < l->numel(); ++i) {
      const T f = out.data()[i];
      if (!(static_cast<double>(f) < 9223372036854775808.0 && static_cast<int64_t>(f) == v[i]))
        throw Error(std::string(op) + ": the I64 tensor '" + t.name + "' holds " +
                    std::to_string(v[i]) + ", which " + BasicTensor<T>::dtype() +
                    " cannot represent exactly");
    }
    return out;
  }
}
}  // namespace detail

template <class T>
BasicTensor<T> Checkpoint::get(const std::string& name) const {
  const NamedTensor& t = entry(name);
  if (t.saved_as == SavedAs::Int64) return detail::integers_as<T>(t, "Checkpoint::get");
  if (const auto* p = std::get_if<BasicTensor<T>>(&t.tensor)) return *p;
  throw Error("Checkpoint::get: tensor '" + name + "' is not " + BasicTensor<T>::dtype());
}

template <class T>
std::vector<std::pair<std::string, BasicTensor<T>>> Checkpoint::pairs(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, BasicTensor<T>>> out;
  for (const NamedTensor& t : tensors) {
    if (t.name.compare(0, prefix.size(), prefix) != 0) continue;
    if (t.saved_as == SavedAs::Int64) {
      out.emplace_back(t.name.substr(prefix.size()),
                       detail::integers_as<T>(t, "Checkpoint::pairs"));
      continue;
    }
    const auto* p = std::get_if<BasicTensor<T>>(&t.tensor);
    if (!p)
      throw Error("Checkpoint::pairs: tensor '" + t.name + "' is not " + BasicTensor<T>::dtype());
    out.emplace_back(t.name.substr(prefix.size()), *p);
  }
  return out;
}

}  // namespace eigrad::io
