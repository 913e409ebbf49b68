#include "lab.hpp"

#include <algorithm>
#include <iostream>
#include <numeric>

namespace activation_lab {

using namespace eigrad;

namespace {

// Pixel statistics of the Fashion-MNIST training set, for standardising the inputs.
constexpr float kPixelMean = 0.2860f, kPixelStd = 0.3530f;

// The whole set, standardised.
data::Dataset standardised(data::Dataset set) {
  set.X = set.X.clone();
  set.X.mutable_array() = (set.X.array() - kPixelMean) / kPixelStd;
  return set;
}

}  // namespace

data::Dataset first_rows(const data::Dataset& set, int64_t n, bool images) {
  n = std::min(n, set.size());
  std::vector<int64_t> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), int64_t{0});
  data::Dataset out = set;
  out.X = index_select(set.X, 0, rows);
  out.y.resize(rows.size());
  if (images) out.X = reshape(out.X, {n, 1, 28, 28});
  return out;
}

Lab make_lab(const Settings& s, std::vector<const ActivationInfo*> acts) {
  Lab lab;
  lab.settings = s;
  try {
    lab.fashion_train = standardised(io::load_fashion_mnist(s.data, true));
    lab.fashion_test = standardised(io::load_fashion_mnist(s.data, false));
  } catch (const Error& e) {
    throw Error(std::string("--data '") + s.data + "': " + e.what());
  }
  for (int64_t i = 1; i <= s.seeds; ++i) lab.seeds.push_back(static_cast<uint64_t>(i));
  for (const ActivationInfo* a : acts) lab.names.push_back(a->name);
  lab.acts = std::move(acts);
  lab.spiral = data::make_spiral(3, s.quick ? 50 : 100, 1);
  return lab;
}

const ActivationInfo* find_in(const std::vector<const ActivationInfo*>& list,
                              const std::string& name) {
  for (const ActivationInfo* a : list)
    if (a->name == name) return a;
  return nullptr;
}

std::size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void note(const std::string& what) {
  static const auto start = std::chrono::steady_clock::now();
  std::cerr << "activation_lab: " << format("%6.1f s ", seconds_since(start)) << what << "\n";
  std::cerr.flush();
}

}  // namespace activation_lab
