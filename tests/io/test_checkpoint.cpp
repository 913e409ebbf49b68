#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/error.hpp"
#include "eigrad/io/safetensors.hpp"
#include "eigrad/nn/layers.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/optim/sgd.hpp"
#include "io/safetensors_detail.hpp"
#include "support.hpp"

using namespace eigrad;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using eigrad::test::read_all;
using eigrad::test::TempDir;
using eigrad::test::write_all;

namespace {

// A safetensors file assembled by hand: length, header, data.
std::string assemble(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<char>(header.size() >> (8 * i));
  return out + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// The bit patterns of a tensor, so NaN and -0 compare exactly.
template <class T>
std::string bits(const BasicTensor<T>& t) {
  return std::string(reinterpret_cast<const char*>(t.data()),
                     static_cast<size_t>(t.numel()) * sizeof(T));
}

// Targets as a model would hold them, with values to check they stay untouched.
struct Targets {
  Tensor w = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  DoubleTensor b = DoubleTensor::from({0.5, -0.5});
  io::NamedTensors named() const { return {{"w", w}, {"b", b}}; }
  bool untouched() const {
    return w.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6} &&
           b.to_vector() == std::vector<double>{0.5, -0.5};
  }
};

// A valid file for Targets' names with other values: w (F32 [2, 3]) and b (F64 [2]).
std::string good_file(const std::string& w_dtype = "F32", const std::string& w_shape = "[2,3]") {
  const std::string header = R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                             R"("w":{"dtype":")" +
                             w_dtype + R"(","shape":)" + w_shape + R"(,"data_offsets":[16,40]}})";
  return assemble(header,
                  raw(std::vector<double>{7, 8}) + raw(std::vector<float>{9, 9, 9, 9, 9, 9}));
}

// A few training steps, so that every parameter and buffer holds something of its own.
void train_a_little(nn::Module& model, Generator& gen, int steps) {
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.05));
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    sum(model(Tensor::uniform({2, 1, 28, 28}, 0, 1, gen))).backward();
    opt.step();
  }
}

// Every parameter and buffer, bit for bit.
std::vector<std::string> state_bits(const nn::Module& model) {
  std::vector<std::string> out;
  for (const auto& e : model.state_dict()) out.push_back(e.name + ":" + bits(e.tensor));
  return out;
}

// The header of a safetensors file.
nlohmann::json header_of(const std::string& path) {
  const std::string bytes = read_all(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  return nlohmann::json::parse(bytes.substr(8, n));
}

}  // namespace

TEST_CASE("a float and double checkpoint round-trips bit for bit", "[checkpoint]") {
  TempDir dir;
  const float fnan = std::numeric_limits<float>::quiet_NaN();
  Tensor w = Tensor::from({1.5f, -0.0f, fnan, std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::denorm_min(), 3.14159265f},
                          {2, 3});
  DoubleTensor s =
      DoubleTensor::from({0.1, -1e300, std::numeric_limits<double>::denorm_min()}, {3});
  Tensor scalar = Tensor::scalar(42.0f);
  Tensor empty = Tensor::zeros({0, 4});
  io::save_safetensors(dir / "m.safetensors",
                       {{"layer.weight", w}, {"slopes", s}, {"scalar", scalar}, {"empty", empty}},
                       {{"epoch", "7"}, {"format", "pt"}});
  const io::Checkpoint c = io::load_safetensors(dir / "m.safetensors");
  REQUIRE(c.tensors.size() == 4);
  CHECK(bits(c.get<float>("layer.weight")) == bits(w));
  CHECK(c.get<float>("layer.weight").shape() == Shape{2, 3});
  CHECK(bits(c.get<double>("slopes")) == bits(s));
  CHECK(c.get<float>("scalar").shape() == Shape{});
  CHECK(c.get<float>("scalar").item() == 42.0f);
  CHECK(c.get<float>("empty").shape() == Shape{0, 4});
  CHECK(c.metadata == io::Metadata{{"epoch", "7"}, {"format", "pt"}});
  CHECK_THROWS_WITH(c.get<double>("scalar"), Contains("scalar") && Contains("float64"));
  CHECK_THROWS_WITH(c.at("nope"), Contains("nope") && Contains("slopes"));
}

TEST_CASE("the file follows the safetensors layout byte for byte", "[checkpoint]") {
  TempDir dir;
  // a: F32 [2, 3] = 24 bytes; b: F64 [2] = 16 bytes, laid out first to stay 8-byte aligned.
  io::save_safetensors(
      dir / "f", {{"a", Tensor::ones({2, 3})}, {"b", DoubleTensor::full({2}, 2.0)}}, {{"k", "v"}});
  const std::string bytes = read_all(dir / "f");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 40);
  const std::string header = bytes.substr(8, n);
  CHECK(header[0] == '{');
  CHECK(header.find_last_not_of(' ') == header.rfind('}'));
  const auto h = nlohmann::json::parse(header);
  CHECK(h["__metadata__"] == nlohmann::json{{"k", "v"}});
  CHECK(h["a"]["dtype"] == "F32");
  CHECK(h["a"]["shape"] == nlohmann::json{2, 3});
  CHECK(h["a"]["data_offsets"] == nlohmann::json{16, 40});
  CHECK(h["b"]["dtype"] == "F64");
  CHECK(h["b"]["data_offsets"] == nlohmann::json{0, 16});
  double b0;
  float a5;
  std::memcpy(&b0, bytes.data() + 8 + n, 8);
  std::memcpy(&a5, bytes.data() + 8 + n + 16 + 20, 4);
  CHECK(b0 == 2.0);
  CHECK(a5 == 1.0f);
}

TEST_CASE("load_into fills the targets' existing storage", "[checkpoint]") {
  TempDir dir;
  write_all(dir / "f", good_file());
  Targets t;
  const Tensor alias = t.w;  // shares the storage
  const auto* storage = t.w.storage().get();
  io::load_into(dir / "f", t.named());
  CHECK(t.w.storage().get() == storage);
  CHECK(alias.to_vector() == std::vector<float>(6, 9.0f));
  CHECK(t.b.to_vector() == std::vector<double>{7, 8});
}

TEST_CASE("lists of name and tensor pairs save and load directly", "[checkpoint]") {
  TempDir dir;
  std::vector<std::pair<std::string, Tensor>> params = {{"fc.weight", Tensor::full({2, 2}, 3.0f)},
                                                        {"fc.bias", Tensor::full({2}, -1.0f)}};
  io::save_safetensors(dir / "p", params);
  std::vector<std::pair<std::string, Tensor>> fresh = {{"fc.weight", Tensor::zeros({2, 2})},
                                                       {"fc.bias", Tensor::zeros({2})}};
  io::load_into(dir / "p", fresh);
  CHECK(fresh[0].second.to_vector() == std::vector<float>(4, 3.0f));
  CHECK(fresh[1].second.to_vector() == std::vector<float>(2, -1.0f));
}

TEST_CASE("loading into a tensor an op saved makes that op's backward throw",
          "[checkpoint][version]") {
  TempDir dir;
  io::save_safetensors(dir / "w",
                       std::vector<std::pair<std::string, Tensor>>{{"w", Tensor::full({2}, 3.0f)}});
  std::vector<std::pair<std::string, Tensor>> target = {{"w", Tensor::ones({2}, true)}};
  const Tensor w = target[0].second;
  Tensor y = sum(w * w);
  const uint64_t before = w.version();
  io::load_into(dir / "w", target);
  CHECK(w.version() > before);
  CHECK_THROWS_WITH(y.backward(), Contains("'mul'") && Contains("modified in place"));
}

TEST_CASE("a module and its optimizer state restore from one checkpoint", "[checkpoint]") {
  TempDir dir;
  Generator g1(1), g2(2);
  nn::Linear model(3, 2, g1), fresh(3, 2, g2);
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));
  optim::SGD fresh_opt(fresh.parameters(), optim::SGDOptions(0.1).momentum(0.9));
  sum(model(Tensor::ones({4, 3}))).backward();
  opt.step();  // creates the momentum buffers

  io::NamedTensors all = io::to_named_tensors(model.named_parameters(), "model.");
  const io::NamedTensors state = io::to_named_tensors(opt.state_dict().state, "optim.");
  all.insert(all.end(), state.begin(), state.end());
  io::save_safetensors(dir / "run", all);

  const io::Checkpoint c = io::load_safetensors(dir / "run");
  fresh.load_parameters(c.pairs<float>("model."));
  fresh_opt.load_state_dict(c.pairs<float>("optim."));
  CHECK(bits(fresh.weight()) == bits(model.weight()));
  const auto expected = opt.state_dict().state, restored = fresh_opt.state_dict().state;
  REQUIRE(restored.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(restored[i].first == expected[i].first);
    CHECK(bits(restored[i].second) == bits(expected[i].second));
  }
  CHECK_THROWS_WITH(c.pairs<double>("model."), Contains("model.weight") && Contains("float64"));
}

TEST_CASE("a module's parameters load in place and a mismatch leaves it unchanged",
          "[checkpoint]") {
  TempDir dir;
  Generator g1(1), g2(2), g3(3);
  nn::Linear model(3, 2, g1), fresh(3, 2, g2), wider(3, 4, g3);
  io::save_safetensors(dir / "m", model.named_parameters());
  io::load_into(dir / "m", fresh.named_parameters());
  CHECK(bits(fresh.weight()) == bits(model.weight()));
  const std::vector<float> before = wider.weight().to_vector();
  CHECK_THROWS_WITH(
      io::load_into(dir / "m", wider.named_parameters()),
      Contains("'weight' has shape [2, 3] in the file but the target has shape [4, 3]"));
  CHECK(wider.weight().to_vector() == before);
}

TEST_CASE("a truncated checkpoint is rejected and the targets are untouched", "[checkpoint]") {
  TempDir dir;
  const std::string full = good_file();
  for (size_t keep : {size_t{0}, size_t{5}, size_t{20}, full.size() - 1}) {
    write_all(dir / "f", full.substr(0, keep));
    Targets t;
    CHECK_THROWS_WITH(io::load_into(dir / "f", t.named()),
                      Contains("truncated") || Contains("past"));
    CHECK(t.untouched());
  }
}

TEST_CASE("a corrupted header is rejected and the targets are untouched", "[checkpoint]") {
  TempDir dir;
  std::string bytes = good_file();
  bytes[20] = '#';
  write_all(dir / "f", bytes);
  Targets t;
  CHECK_THROWS_WITH(io::load_into(dir / "f", t.named()),
                    Contains("'" + dir / "f" + "'") && Contains("JSON"));
  CHECK(t.untouched());
  write_all(dir / "huge", std::string(8, '\xff') + "{}");
  CHECK_THROWS_WITH(io::load_into(dir / "huge", t.named()), Contains("header length"));
  write_all(dir / "array", assemble("[1, 2]  ", ""));
  CHECK_THROWS_WITH(io::load_into(dir / "array", t.named()), Contains("'{'"));
  CHECK(t.untouched());
}

TEST_CASE("a wrong dtype is rejected and the targets are untouched", "[checkpoint]") {
  TempDir dir;
  write_all(dir / "f", assemble(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                                R"("w":{"dtype":"F64","shape":[3],"data_offsets":[16,40]}})",
                                std::string(40, '\0')));
  Targets t;
  CHECK_THROWS_WITH(io::load_into(dir / "f", t.named()),
                    Contains("'w' is F64 in the file but the target is float32"));
  CHECK(t.untouched());
  write_all(dir / "half", assemble(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                                   R"("w":{"dtype":"F16","shape":[2,3],"data_offsets":[16,28]}})",
                                   std::string(28, '\0')));
  CHECK_THROWS_WITH(io::load_into(dir / "half", t.named()),
                    Contains("F16") && Contains("not supported"));
  CHECK(t.untouched());
}

TEST_CASE("a wrong shape is rejected and the targets are untouched", "[checkpoint]") {
  TempDir dir;
  write_all(dir / "f", good_file("F32", "[3,2]"));
  Targets t;
  CHECK_THROWS_WITH(io::load_into(dir / "f", t.named()),
                    Contains("'w' has shape [3, 2] in the file but the target has shape [2, 3]"));
  CHECK(t.untouched());
  // A shape that disagrees with its own byte range.
  write_all(dir / "g", good_file("F32", "[2,4]"));
  CHECK_THROWS_WITH(io::load_into(dir / "g", t.named()),
                    Contains("needs 32 bytes") && Contains("span 24"));
  CHECK(t.untouched());
}

TEST_CASE("missing and unexpected names are all listed and nothing is loaded", "[checkpoint]") {
  TempDir dir;
  io::save_safetensors(dir / "f", {{"w", Tensor::zeros({2, 3})},
                                   {"extra1", Tensor::zeros({1})},
                                   {"extra2", DoubleTensor::zeros({1})}});
  Targets t;
  io::NamedTensors targets = t.named();
  targets.emplace_back("gamma", Tensor::zeros({1}));
  CHECK_THROWS_WITH(io::load_into(dir / "f", targets),
                    Contains("missing from the file: b, gamma") &&
                        Contains("not expected by the targets: extra1, extra2") &&
                        Contains("nothing was loaded"));
  CHECK(t.untouched());
}

TEST_CASE("overlapping, gapped and out-of-range offsets are rejected", "[checkpoint]") {
  TempDir dir;
  Targets t;
  const auto reject = [&](const std::string& header, size_t data, const std::string& what) {
    write_all(dir / "f", assemble(header, std::string(data, '\0')));
    CHECK_THROWS_WITH(io::load_into(dir / "f", t.named()), Contains(what));
    CHECK(t.untouched());
  };
  reject(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}})",
         32, "overlaps");
  reject(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[20,44]}})",
         44, "gap");
  reject(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
         48, "cover 40");
  reject(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
         30, "past the data section");
  reject(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[16,0]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
         40, "end before they begin");
  reject(R"({"b":{"dtype":"F64","shape":[-2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
         40, "negative");
  reject(R"({"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
         40, "'b' twice");
  reject(
      R"({"b":{"dtype":"F64","shape":[2]},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
      40, "data_offsets");
  reject(R"({"__metadata__":{"n":1},"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
         R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}})",
         40, "__metadata__");
}

TEST_CASE("an interrupted save leaves the previous checkpoint whole", "[checkpoint]") {
  TempDir dir;
  io::save_safetensors(dir / "m", {{"w", Tensor::full({100}, 1.0f)}});
  for (uint64_t fail_at : {uint64_t{0}, uint64_t{8}, uint64_t{100}}) {
    const auto faulty = [fail_at](uint64_t offset, size_t size) {
      if (offset + size > fail_at) throw std::runtime_error("disk full (simulated)");
    };
    CHECK_THROWS_WITH(
        io::detail::save_safetensors(dir / "m", {{"w", Tensor::full({100}, 2.0f)}}, {}, faulty),
        Contains("simulated"));
    CHECK(dir.entries().size() == 1);  // no temporary file left behind
    Tensor w = Tensor::zeros({100});
    io::load_into(dir / "m", {{"w", w}});
    CHECK(w.to_vector() == std::vector<float>(100, 1.0f));
  }
  io::save_safetensors(dir / "m", {{"w", Tensor::full({100}, 2.0f)}});
  CHECK(io::load_safetensors(dir / "m").get<float>("w").to_vector() ==
        std::vector<float>(100, 2.0f));
}

TEST_CASE("saving into a missing or read-only directory names the path", "[checkpoint]") {
  TempDir dir;
  const std::string missing = dir / "no/such/dir/m.safetensors";
  CHECK_THROWS_WITH(io::save_safetensors(missing, {{"w", Tensor::ones({1})}}),
                    Contains(missing) && Contains("does not exist"));
  fs::create_directory(dir.path / "ro");
  fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  if (::access((dir / "ro").c_str(), W_OK) == 0) {
    WARN("running with permission to write read-only directories (root?): that part is skipped");
  } else {
    CHECK_THROWS_WITH(io::save_safetensors(dir / "ro/m", {{"w", Tensor::ones({1})}}),
                      Contains(dir / "ro/m") && Contains("Permission denied"));
  }
}

TEST_CASE("bad names are refused before anything is written", "[checkpoint]") {
  TempDir dir;
  CHECK_THROWS_WITH(
      io::save_safetensors(dir / "m", {{"w", Tensor::ones({1})}, {"w", Tensor::ones({2})}}),
      Contains("'w' appears twice"));
  CHECK_THROWS_WITH(io::save_safetensors(dir / "m", {{"", Tensor::ones({1})}}),
                    Contains("empty name"));
  CHECK_THROWS_WITH(io::save_safetensors(dir / "m", {{"__metadata__", Tensor::ones({1})}}),
                    Contains("reserved"));
  CHECK_THROWS_WITH(io::save_safetensors(dir / "m", {{"w", Tensor()}}), Contains("undefined"));
  CHECK(dir.entries().empty());
  Targets t;
  io::NamedTensors twice = {{"w", t.w}, {"w", t.w}};
  write_all(dir / "f", good_file());
  CHECK_THROWS_WITH(io::load_into(dir / "f", twice), Contains("'w' twice"));
  CHECK_THROWS_WITH(io::load_into(dir / "absent", t.named()),
                    Contains("absent") && Contains("does not exist"));
}

TEST_CASE("a CNN's checkpoint has the names, shapes and dtypes PyTorch's Sequential expects",
          "[checkpoint]") {
  TempDir dir;
  Generator gen(1);
  const auto cnn = test::make_cnn(gen);
  train_a_little(*cnn, gen, 3);
  io::save_safetensors(dir / "cnn.safetensors", cnn->state_dict());
  // What torch.nn.Sequential(Conv2d(1, 32, 3, padding=1), BatchNorm2d(32), PReLU(32),
  // MaxPool2d(2), Conv2d(32, 64, 3, padding=1), BatchNorm2d(64), PReLU(64), MaxPool2d(2),
  // Flatten(), Linear(3136, 128), PReLU(128), Linear(128, 10)).state_dict() holds, written out
  // by hand: float32 tensors, and num_batches_tracked an int64 scalar.
  const std::map<std::string, std::pair<std::string, std::vector<int64_t>>> expected = {
      {"0.weight", {"F32", {32, 1, 3, 3}}},
      {"0.bias", {"F32", {32}}},
      {"1.weight", {"F32", {32}}},
      {"1.bias", {"F32", {32}}},
      {"1.running_mean", {"F32", {32}}},
      {"1.running_var", {"F32", {32}}},
      {"1.num_batches_tracked", {"I64", {}}},
      {"2.weight", {"F32", {32}}},
      {"4.weight", {"F32", {64, 32, 3, 3}}},
      {"4.bias", {"F32", {64}}},
      {"5.weight", {"F32", {64}}},
      {"5.bias", {"F32", {64}}},
      {"5.running_mean", {"F32", {64}}},
      {"5.running_var", {"F32", {64}}},
      {"5.num_batches_tracked", {"I64", {}}},
      {"6.weight", {"F32", {64}}},
      {"9.weight", {"F32", {128, 3136}}},
      {"9.bias", {"F32", {128}}},
      {"10.weight", {"F32", {128}}},
      {"11.weight", {"F32", {10, 128}}},
      {"11.bias", {"F32", {10}}}};
  const nlohmann::json h = header_of(dir / "cnn.safetensors");
  CHECK(h.size() == expected.size());
  for (const auto& [name, dtype_shape] : expected) {
    INFO(name);
    REQUIRE(h.contains(name));
    CHECK(h[name]["dtype"] == dtype_shape.first);
    CHECK(h[name]["shape"].get<std::vector<int64_t>>() == dtype_shape.second);
  }
  // The counters are little-endian int64 holding 3 (three training steps).
  const std::string bytes = read_all(dir / "cnn.safetensors");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  for (const char* name : {"1.num_batches_tracked", "5.num_batches_tracked"}) {
    const auto offsets = h[name]["data_offsets"].get<std::vector<uint64_t>>();
    REQUIRE(offsets[1] - offsets[0] == 8);
    CHECK(offsets[0] % 8 == 0);
    int64_t count = 0;
    std::memcpy(&count, bytes.data() + 8 + n + offsets[0], 8);
    CHECK(count == 3);
  }
}

TEST_CASE("a CNN round-trips through a checkpoint, parameters and buffers", "[checkpoint]") {
  TempDir dir;
  Generator g1(1), g2(2);
  const auto cnn = test::make_cnn(g1), fresh = test::make_cnn(g2);
  train_a_little(*cnn, g1, 2);
  io::save_safetensors(dir / "cnn", cnn->state_dict(), {{"epoch", "1"}});
  CHECK(state_bits(*fresh) != state_bits(*cnn));
  io::load_into(dir / "cnn", fresh->state_dict());
  CHECK(state_bits(*fresh) == state_bits(*cnn));
  CHECK(fresh->buffer("5.num_batches_tracked").item() == 2);
  cnn->eval();
  fresh->eval();
  const Tensor x = Tensor::uniform({3, 1, 28, 28}, 0, 1, g1);
  CHECK(bits((*fresh)(x)) == bits((*cnn)(x)));

  // The same through a Checkpoint and load_state_dict.
  const auto third = test::make_cnn(g2);
  const io::Checkpoint c = io::load_safetensors(dir / "cnn");
  CHECK(c.entry("1.num_batches_tracked").saved_as == io::SavedAs::Int64);
  CHECK(c.get<float>("1.num_batches_tracked").item() == 2);
  third->load_state_dict(c.pairs<float>());
  CHECK(state_bits(*third) == state_bits(*cnn));
  // Saved again from the Checkpoint, the counters stay I64.
  io::save_safetensors(dir / "again", c.tensors, c.metadata);
  CHECK(header_of(dir / "again")["5.num_batches_tracked"]["dtype"] == "I64");
}

TEST_CASE("a failed load leaves the CNN unchanged", "[checkpoint]") {
  TempDir dir;
  Generator gen(1);
  const auto cnn = test::make_cnn(gen);
  const std::vector<std::string> before = state_bits(*cnn);

  // Another architecture: a narrower first convolution.
  auto other = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 16, 3).padding(1), gen),
      std::make_shared<nn::BatchNorm2d>(16));
  io::save_safetensors(dir / "other", other->state_dict());
  CHECK_THROWS_WITH(io::load_into(dir / "other", cnn->state_dict()),
                    Contains("'0.weight' has shape [16, 1, 3, 3] in the file but the target has "
                             "shape [32, 1, 3, 3]") &&
                        Contains("missing from the file: 2.weight"));
  CHECK(state_bits(*cnn) == before);

  // The same names, but the counters as float32 (as a careless writer would store them).
  io::NamedTensors as_float;
  for (const auto& e : cnn->state_dict()) as_float.emplace_back(e.name, e.tensor);
  io::save_safetensors(dir / "f32", as_float);
  CHECK_THROWS_WITH(
      io::load_into(dir / "f32", cnn->state_dict()),
      Contains("'1.num_batches_tracked' is F32 in the file but the target is saved as I64"));
  CHECK(state_bits(*cnn) == before);

  // A counter past what float32 holds exactly.
  io::NamedTensors big = io::to_named_tensors(cnn->state_dict());
  for (auto& t : big)
    if (t.name == "5.num_batches_tracked")
      t.tensor = DoubleTensor::scalar(16777217.0);  // 2^24 + 1, held exactly by a double
  io::save_safetensors(dir / "big", big);
  CHECK(header_of(dir / "big")["5.num_batches_tracked"]["dtype"] == "I64");
  CHECK_THROWS_WITH(io::load_into(dir / "big", cnn->state_dict()),
                    Contains("'5.num_batches_tracked' holds 16777217") &&
                        Contains("float32 target cannot hold exactly"));
  CHECK(state_bits(*cnn) == before);
  CHECK_THROWS_WITH(io::load_safetensors(dir / "big").get<float>("5.num_batches_tracked"),
                    Contains("5.num_batches_tracked") && Contains("float32"));
  CHECK(io::load_safetensors(dir / "big").get<double>("5.num_batches_tracked").item() ==
        16777217.0);
}

TEST_CASE("saving refuses an integer buffer that holds a fraction or is out of range",
          "[checkpoint]") {
  TempDir dir;
  nn::BatchNorm2d bn(2);
  io::save_safetensors(dir / "bn", bn.state_dict());
  const std::string good = read_all(dir / "bn");
  Tensor count = bn.num_batches_tracked();
  for (float bad : {2.5f, 1e19f, -1e19f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    count.mutable_array()(0) = bad;
    CHECK_THROWS_WITH(io::save_safetensors(dir / "bn", bn.state_dict()),
                      Contains("save_safetensors") &&
                          Contains("tensor 'num_batches_tracked' is saved as I64") &&
                          Contains("not an integer in int64's range"));
    CHECK(read_all(dir / "bn") == good);
    CHECK(dir.entries().size() == 1);
  }
  // The extremes of int64 that a float holds are fine: -2^63 is, 2^63 is not.
  count.mutable_array()(0) = -9223372036854775808.0f;
  io::save_safetensors(dir / "bn", bn.state_dict());
  CHECK(header_of(dir / "bn")["num_batches_tracked"]["dtype"] == "I64");
}

TEST_CASE("I64 tensors are read exactly or refused", "[checkpoint]") {
  TempDir dir;
  const auto i64 = [](std::vector<int64_t> v) { return raw(v); };
  // -3, 0 and 2^53 as int64: exact in float64; 2^53 is a power of two, exact in float32 too.
  write_all(dir / "ok", assemble(R"({"n":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}})",
                                 i64({-3, 0, int64_t{1} << 53})));
  const io::Checkpoint c = io::load_safetensors(dir / "ok");
  CHECK(c.get<double>("n").to_vector() == std::vector<double>{-3, 0, 9007199254740992.0});
  CHECK(c.get<float>("n").to_vector() == std::vector<float>{-3, 0, 9007199254740992.0f});
  DoubleTensor target = DoubleTensor::zeros({3});
  io::load_into(dir / "ok", {{"n", target, io::SavedAs::Int64}});
  CHECK(target.to_vector() == std::vector<double>{-3, 0, 9007199254740992.0});
  // A plain float64 target does not take I64.
  CHECK_THROWS_WITH(io::load_into(dir / "ok", {{"n", DoubleTensor::zeros({3})}}),
                    Contains("'n' is I64 in the file but the target is float64"));

  // 2^53 + 1 is beyond what float64 holds exactly: read as int64 it is exact, as float64 an error.
  write_all(dir / "odd", assemble(R"({"n":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                                  i64({(int64_t{1} << 53) + 1})));
  const io::Checkpoint odd = io::load_safetensors(dir / "odd");
  CHECK(odd.get<int64_t>("n").item() == (int64_t{1} << 53) + 1);
  CHECK_THROWS_WITH(odd.get<double>("n"),
                    Contains("'n' holds 9007199254740993") && Contains("exactly"));
  DoubleTensor one = DoubleTensor::full({1}, 5);
  CHECK_THROWS_WITH(io::load_into(dir / "odd", {{"n", one, io::SavedAs::Int64}}),
                    Contains("9007199254740993") && Contains("nothing was loaded"));
  CHECK(one.item() == 5);
}

TEST_CASE("int64 and bool tensors round-trip as I64 and BOOL, exactly", "[checkpoint]") {
  TempDir dir;
  const eigrad::LongTensor l =
      eigrad::LongTensor::from({-(int64_t{1} << 62), -1, 0, (int64_t{1} << 53) + 1}, {2, 2});
  const eigrad::BoolTensor b = eigrad::BoolTensor::from({true, false, true}, {3});
  io::save_safetensors(dir / "dtypes", {{"l", l}, {"b", b}, {"f", Tensor::ones({1})}});
  const nlohmann::json h = header_of(dir / "dtypes");
  CHECK(h["l"]["dtype"] == "I64");
  CHECK(h["b"]["dtype"] == "BOOL");
  CHECK(h["b"]["data_offsets"][1].get<int>() - h["b"]["data_offsets"][0].get<int>() == 3);
  const io::Checkpoint c = io::load_safetensors(dir / "dtypes");
  CHECK(c.get<int64_t>("l").to_vector() == l.to_vector());
  CHECK(c.get<int64_t>("l").shape() == Shape{2, 2});
  CHECK(c.get<bool>("b").to_vector() == b.to_vector());
  // Into existing int64 and bool targets.
  eigrad::LongTensor lt = eigrad::LongTensor::zeros({2, 2});
  eigrad::BoolTensor bt = eigrad::BoolTensor::zeros({3});
  Tensor ft = Tensor::zeros({1});
  io::load_into(dir / "dtypes", {{"l", lt}, {"b", bt}, {"f", ft}});
  CHECK(lt.to_vector() == l.to_vector());
  CHECK(bt.to_vector() == b.to_vector());
  // A BOOL byte other than 0 or 1 is an error, and the targets keep their values.
  write_all(dir / "bad", assemble(R"({"b":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
                                  std::string("\x01\x02", 2)));
  CHECK_THROWS_WITH(io::load_safetensors(dir / "bad"),
                    Contains("BOOL tensor 'b'") && Contains("element 1"));
  eigrad::BoolTensor keep = eigrad::BoolTensor::from({false, true}, {2});
  CHECK_THROWS_WITH(io::load_into(dir / "bad", {{"b", keep}}), Contains("nothing was loaded"));
  CHECK(keep.to_vector() == std::vector<bool>{false, true});
  // An int64 target does not take F32.
  CHECK_THROWS_WITH(
      io::load_into(dir / "dtypes", {{"l", lt}, {"b", bt}, {"f", eigrad::LongTensor::zeros({1})}}),
      Contains("'f' is F32 in the file but the target is int64"));
}
