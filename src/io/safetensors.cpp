#include "eigrad/io/safetensors.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "eigrad/error.hpp"
#include "io/atomic_file.hpp"
#include "io/safetensors_detail.hpp"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "eigrad's safetensors code copies tensor bytes as they are: it needs a little-endian host"
#endif

namespace eigrad::io {

namespace {

using json = nlohmann::json;

// The reference implementation refuses headers over 100 MB.
constexpr uint64_t kMaxHeader = 100ull << 20;

// The dtypes eigrad reads and writes.
enum class Dtype { F32, F64, I64, BOOL };

const char* code_of(Dtype d) {
  return d == Dtype::F32 ? "F32" : d == Dtype::F64 ? "F64" : d == Dtype::I64 ? "I64" : "BOOL";
}
// The variant's alternatives in order: Tensor, DoubleTensor, LongTensor, BoolTensor.
bool is_float(const AnyTensor& t) {
  return t.index() < 2;
}
Dtype dtype_of(const NamedTensor& t) {
  if (t.saved_as == SavedAs::Int64) return Dtype::I64;
  static constexpr Dtype by_index[] = {Dtype::F32, Dtype::F64, Dtype::I64, Dtype::BOOL};
  return by_index[t.tensor.index()];
}
size_t element_size(Dtype d) {
  return d == Dtype::F32 ? 4 : d == Dtype::BOOL ? 1 : 8;
}
const char* target_dtype(const NamedTensor& t) {
  static constexpr const char* names[] = {"float32", "float64", "int64", "bool"};
  return names[t.tensor.index()];
}

// 2^63 as a double: the int64 range is [-2^63, 2^63).
constexpr double kTwo63 = 9223372036854775808.0;

// The values of an Int64 tensor as int64, or an Error naming the first that is not an integer in
// int64's range.
std::vector<int64_t> to_int64(const NamedTensor& t, const std::string& where) {
  return std::visit(
      [&](const auto& x) {
        std::vector<int64_t> out(static_cast<size_t>(x.numel()));
        for (int64_t i = 0; i < x.numel(); ++i) {
          const double v = static_cast<double>(x.data()[i]);
          if (!(v >= -kTwo63 && v < kTwo63) || v != std::nearbyint(v)) {
            std::ostringstream os;
            os.precision(17);
            os << where << "tensor '" << t.name << "' is saved as I64 but its element " << i
               << " is " << v << ", not an integer in int64's range";
            throw Error(os.str());
          }
          out[static_cast<size_t>(i)] = static_cast<int64_t>(v);
        }
        return out;
      },
      t.tensor);
}

// Whether T holds the integer v exactly.
template <class T>
bool exact_in(int64_t v) {
  const T f = static_cast<T>(v);
  return static_cast<double>(f) < kTwo63 && static_cast<int64_t>(f) == v;
}

const Shape& shape_of(const AnyTensor& t) {
  return std::visit([](const auto& x) -> const Shape& { return x.shape(); }, t);
}
bool defined(const AnyTensor& t) {
  return std::visit([](const auto& x) { return x.defined(); }, t);
}
const void* bytes_of(const AnyTensor& t) {
  return std::visit([](const auto& x) -> const void* { return x.data(); }, t);
}
void* bytes_of(AnyTensor& t) {
  return std::visit([](auto& x) -> void* { return x.mutable_data(); }, t);
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

// One tensor as the header describes it, after validation.
struct Entry {
  std::string name;
  Dtype dtype = Dtype::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // relative to the data section
};

// A checkpoint file read into memory, with its header parsed and fully validated.
struct ParsedFile {
  std::vector<char> bytes;
  uint64_t data_start = 0;
  std::vector<Entry> entries;  // sorted by offset
  Metadata metadata;
};

ParsedFile parse_file(const char* op, const std::string& path) {
  const auto fail = [&](const std::string& what) -> Error {
    return Error(std::string(op) + ": '" + path + "': " + what);
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw fail("the file does not exist");
  if (!std::filesystem::is_regular_file(path, ec)) throw fail("not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail(std::string("cannot open it: ") + std::strerror(errno));
  ParsedFile f;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw fail("cannot read its size: " + ec.message());
  f.bytes.resize(size);
  if (!in.read(f.bytes.data(), static_cast<std::streamsize>(size)) || in.peek() != EOF)
    throw fail("reading failed (the file changed while it was read?)");

  if (size < 8)
    throw fail("truncated: " + std::to_string(size) +
               " bytes, too short for the 8-byte header length of a safetensors file");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(f.bytes[static_cast<size_t>(i)]);
  if (n > kMaxHeader)
    throw fail("header length " + std::to_string(n) +
               " exceeds the 100 MB limit (not a safetensors file?)");
  if (n > size - 8)
    throw fail("truncated: the header length is " + std::to_string(n) + " bytes but only " +
               std::to_string(size - 8) + " follow");
  f.data_start = 8 + n;
  const uint64_t data_size = size - f.data_start;

  const char* header = f.bytes.data() + 8;
  if (n == 0 || header[0] != '{') throw fail("the header does not start with '{'");
  // JSON text holds no raw NUL (strings escape control characters), and nlohmann's parser
  // would stop at one, silently accepting whatever follows it in the padding.
  if (const void* nul = std::memchr(header, '\0', n))
    throw fail("the header holds a NUL byte at offset " +
               std::to_string(static_cast<const char*>(nul) - header) +
               " (a header is JSON text padded with spaces)");
  // nlohmann keeps the last of duplicate keys silently; the callback sees each key first.
  std::set<std::string> seen;
  std::string duplicate;
  json h;
  try {
    h = json::parse(header, header + n, [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth == 1 && event == json::parse_event_t::key &&
          !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    });
  } catch (const json::exception& e) {
    throw fail(std::string("the header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) throw fail("the header names '" + duplicate + "' twice");
  if (!h.is_object()) throw fail("the header is not a JSON object");

  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw fail("__metadata__ is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw fail("__metadata__ entry '" + m.key() + "' is not a string");
        f.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto bad = [&](const std::string& what) {
      return fail("tensor '" + name + "': " + what);
    };
    if (!v.is_object()) throw bad("its entry is not an object");
    const auto dtype = v.find("dtype");
    const auto shape = v.find("shape");
    const auto offsets = v.find("data_offsets");
    if (dtype == v.end() || shape == v.end() || offsets == v.end())
      throw bad("its entry needs \"dtype\", \"shape\" and \"data_offsets\"");
    Entry e;
    e.name = name;
    if (!dtype->is_string()) throw bad("dtype is not a string");
    const std::string code = dtype->get<std::string>();
    if (code == "F32")
      e.dtype = Dtype::F32;
    else if (code == "F64")
      e.dtype = Dtype::F64;
    else if (code == "I64")
      e.dtype = Dtype::I64;
    else if (code == "BOOL")
      e.dtype = Dtype::BOOL;
    else
      throw bad("dtype " + code + " is not supported (eigrad reads F32, F64, I64 and BOOL)");
    if (!shape->is_array()) throw bad("shape is not an array");
    if (shape->size() > static_cast<size_t>(Shape::kMaxRank))
      throw bad("rank " + std::to_string(shape->size()) + " exceeds eigrad's maximum of " +
                std::to_string(Shape::kMaxRank));
    uint64_t numel = 1;
    bool overflow = false;
    for (const json& d : *shape) {
      if (!d.is_number_unsigned())
        throw bad("shape " + shape->dump() + " holds a non-integer or negative size");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      throw bad("data_offsets must be two non-negative integers, got " + offsets->dump());
    e.begin = (*offsets)[0].get<uint64_t>();
    e.end = (*offsets)[1].get<uint64_t>();
    if (e.begin > e.end) throw bad("data_offsets " + offsets->dump() + " end before they begin");
    if (e.end > data_size)
      throw bad("data_offsets " + offsets->dump() + " reach past the data section of " +
                std::to_string(data_size) + " bytes (truncated file?)");
    const uint64_t elem = element_size(e.dtype);
    if (overflow || numel > data_size / elem || numel * elem != e.end - e.begin)
      throw bad("shape " + e.shape.str() + " of " + code + " needs " +
                (overflow ? std::string("more") : std::to_string(numel * elem)) +
                " bytes but data_offsets " + offsets->dump() + " span " +
                std::to_string(e.end - e.begin));
    f.entries.push_back(std::move(e));
  }

  // The data section must be covered exactly: no gaps, no overlaps, nothing left over.
  std::sort(f.entries.begin(), f.entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  for (const Entry& e : f.entries) {
    if (e.begin < pos)
      throw fail("tensor '" + e.name + "' at bytes [" + std::to_string(e.begin) + ", " +
                 std::to_string(e.end) + ") overlaps the tensor before it, which ends at " +
                 std::to_string(pos));
    if (e.begin > pos)
      throw fail("the data section has a gap at bytes [" + std::to_string(pos) + ", " +
                 std::to_string(e.begin) + ") before tensor '" + e.name + "'");
    pos = e.end;
  }
  if (pos != data_size)
    throw fail("the data section holds " + std::to_string(data_size) +
               " bytes but its tensors cover " + std::to_string(pos));
  return f;
}

// The integers of an I64 entry.
std::vector<int64_t> read_int64(const ParsedFile& f, const Entry& e) {
  std::vector<int64_t> v(static_cast<size_t>(e.shape.numel()));
  if (e.end > e.begin)
    std::memcpy(v.data(), f.bytes.data() + f.data_start + e.begin, e.end - e.begin);
  return v;
}

// The offset of the first byte of a BOOL entry that is neither 0 nor 1, or none.
std::optional<int64_t> bad_bool(const ParsedFile& f, const Entry& e) {
  const char* b = f.bytes.data() + f.data_start + e.begin;
  for (uint64_t i = 0; i < e.end - e.begin; ++i)
    if (b[i] != 0 && b[i] != 1) return static_cast<int64_t>(i);
  return std::nullopt;
}

// The first of `values` that T cannot hold exactly, or none.
template <class T>
std::optional<int64_t> first_inexact(const std::vector<int64_t>& values) {
  for (int64_t v : values)
    if (!exact_in<T>(v)) return v;
  return std::nullopt;
}

}  // namespace

void detail::save_safetensors(const std::string& path, const NamedTensors& tensors,
                              const Metadata& metadata, WriteHook before_write) {
  const auto fail = [&](const std::string& what) {
    return Error("save_safetensors: '" + path + "': " + what);
  };
  std::set<std::string> names;
  std::map<const NamedTensor*, std::vector<int64_t>> integers;  // the I64 tensors' values
  for (const NamedTensor& t : tensors) {
    if (t.name.empty()) throw fail("a tensor has an empty name");
    if (t.name == "__metadata__") throw fail("'__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(t.name).second) throw fail("the name '" + t.name + "' appears twice");
    if (!defined(t.tensor)) throw fail("tensor '" + t.name + "' is undefined");
    if (t.saved_as == SavedAs::Int64 && is_float(t.tensor))
      integers[&t] = to_int64(t, "save_safetensors: '" + path + "': ");
  }
  // 8-byte elements first keep every tensor aligned to its element size (the header is padded
  // to 8).
  std::vector<const NamedTensor*> order;
  for (const NamedTensor& t : tensors)
    if (element_size(dtype_of(t)) == 8) order.push_back(&t);
  for (const NamedTensor& t : tensors)
    if (element_size(dtype_of(t)) == 4) order.push_back(&t);
  for (const NamedTensor& t : tensors)
    if (element_size(dtype_of(t)) == 1) order.push_back(&t);

  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const NamedTensor* t : order) {
    const uint64_t nbytes =
        static_cast<uint64_t>(shape_of(t->tensor).numel()) * element_size(dtype_of(*t));
    h[t->name] = {{"dtype", code_of(dtype_of(*t))},
                  {"shape", shape_of(t->tensor).vec()},
                  {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string header;
  try {
    header = h.dump();
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("a name or metadata string is not valid UTF-8 (") + e.what() + ")");
  }
  header.append((8 - header.size() % 8) % 8, ' ');
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));

  AtomicFile file("save_safetensors", path, std::move(before_write));
  file.write(length, 8);
  file.write(header.data(), header.size());
  for (const NamedTensor* t : order) {
    const size_t nbytes =
        static_cast<size_t>(shape_of(t->tensor).numel()) * element_size(dtype_of(*t));
    if (nbytes == 0) continue;
    const auto it = integers.find(t);
    file.write(
        it != integers.end() ? static_cast<const void*>(it->second.data()) : bytes_of(t->tensor),
        nbytes);
  }
  file.commit();
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  detail::save_safetensors(path, tensors, metadata, {});
}

Checkpoint load_safetensors(const std::string& path) {
  ParsedFile f = parse_file("load_safetensors", path);
  Checkpoint c;
  c.metadata = std::move(f.metadata);
  for (const Entry& e : f.entries) {
    if (e.dtype == Dtype::BOOL)
      if (const auto at = bad_bool(f, e))
        throw Error("load_safetensors: '" + path + "': the BOOL tensor '" + e.name +
                    "' holds a byte other than 0 and 1 at element " + std::to_string(*at));
    AnyTensor t = e.dtype == Dtype::F64    ? AnyTensor(DoubleTensor::empty(e.shape))
                  : e.dtype == Dtype::I64  ? AnyTensor(LongTensor::empty(e.shape))
                  : e.dtype == Dtype::BOOL ? AnyTensor(BoolTensor::empty(e.shape))
                                           : AnyTensor(Tensor::empty(e.shape));
    if (e.end > e.begin)
      std::memcpy(bytes_of(t), f.bytes.data() + f.data_start + e.begin, e.end - e.begin);
    c.tensors.emplace_back(e.name, std::move(t),
                           e.dtype == Dtype::I64 ? SavedAs::Int64 : SavedAs::Native);
  }
  return c;
}

void load_into(const std::string& path, const NamedTensors& targets) {
  const auto fail = [&](const std::string& what) {
    return Error("load_into: '" + path + "': " + what);
  };
  std::map<std::string, const NamedTensor*> wanted;
  for (const NamedTensor& t : targets) {
    if (!defined(t.tensor)) throw fail("target '" + t.name + "' is an undefined tensor");
    if (!wanted.emplace(t.name, &t).second) throw fail("the targets name '" + t.name + "' twice");
  }
  ParsedFile f = parse_file("load_into", path);

  // Every mismatch is listed, so one error tells the whole story.
  std::vector<std::string> problems;
  std::vector<std::string> unexpected, missing;
  std::map<std::string, const Entry*> found;
  for (const Entry& e : f.entries) {
    found[e.name] = &e;
    if (!wanted.count(e.name)) unexpected.push_back(e.name);
  }
  std::sort(unexpected.begin(), unexpected.end());
  for (const NamedTensor& t : targets)
    if (!found.count(t.name)) missing.push_back(t.name);
  if (!missing.empty()) problems.push_back("missing from the file: " + join(missing));
  if (!unexpected.empty()) problems.push_back("not expected by the targets: " + join(unexpected));
  for (const NamedTensor& t : targets) {
    const auto it = found.find(t.name);
    if (it == found.end()) continue;
    const Entry& e = *it->second;
    if (e.dtype != dtype_of(t)) {
      problems.push_back("'" + t.name + "' is " + code_of(e.dtype) +
                         " in the file but the target " +
                         (t.saved_as == SavedAs::Int64 ? std::string("is saved as I64")
                                                       : std::string("is ") + target_dtype(t)));
    } else if (e.shape != shape_of(t.tensor)) {
      problems.push_back("'" + t.name + "' has shape " + e.shape.str() +
                         " in the file but the target has shape " + shape_of(t.tensor).str());
    } else if (e.dtype == Dtype::I64 && is_float(t.tensor)) {
      const std::vector<int64_t> values = read_int64(f, e);
      const auto v =
          t.tensor.index() == 0 ? first_inexact<float>(values) : first_inexact<double>(values);
      if (v)
        problems.push_back("the I64 tensor '" + t.name + "' holds " + std::to_string(*v) +
                           ", which its " + target_dtype(t) + " target cannot hold exactly");
    } else if (e.dtype == Dtype::BOOL) {
      if (const auto at = bad_bool(f, e))
        problems.push_back("the BOOL tensor '" + t.name +
                           "' holds a byte other than 0 and 1 at element " + std::to_string(*at));
    }
  }
  if (!problems.empty())
    throw fail("the checkpoint does not match the targets (nothing was loaded): " +
               join(problems, "; "));

  for (const NamedTensor& t : targets) {
    const Entry& e = *found.at(t.name);
    AnyTensor handle = t.tensor;  // shares the target's storage
    if (e.dtype == Dtype::I64 && is_float(handle)) {
      const std::vector<int64_t> values = read_int64(f, e);
      std::visit(
          [&](auto& x) {
            using T = typename std::decay_t<decltype(x)>::Scalar;
            T* d = x.mutable_data();
            for (size_t i = 0; i < values.size(); ++i) d[i] = static_cast<T>(values[i]);
          },
          handle);
    } else if (e.end > e.begin) {
      std::memcpy(bytes_of(handle), f.bytes.data() + f.data_start + e.begin, e.end - e.begin);
    }
  }
}

bool Checkpoint::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(),
                     [&](const NamedTensor& t) { return t.name == name; });
}

const AnyTensor& Checkpoint::at(const std::string& name) const {
  return entry(name).tensor;
}

const NamedTensor& Checkpoint::entry(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return t;
  std::vector<std::string> names;
  for (const NamedTensor& t : tensors) names.push_back(t.name);
  throw Error("Checkpoint::at: no tensor named '" + name +
              "' (the checkpoint holds: " + join(names) + ")");
}

}  // namespace eigrad::io
