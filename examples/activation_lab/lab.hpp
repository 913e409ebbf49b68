#pragma once
// What every experiment of the activation lab reads: the settings, the checked activations, the
// seeds and the data; the progress lines; and the experiments main() runs in order, one per file.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "eigrad/io.hpp"
#include "report.hpp"

namespace activation_lab {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Settings {
  bool quick = false;
  int64_t seeds = 16;  // experiments that need more for their power raise their own count
  std::string out = "activation_lab";
  int64_t threads = 1;
  std::string data = eigrad::io::kFashionMnistDir;
  std::vector<std::string> only;  // --only: the experiments to run (empty: all), checked names
};

struct Lab {
  Settings settings;                                // checked
  std::vector<const eigrad::ActivationInfo*> acts;  // in the report's order
  std::vector<std::string> names;                   // acts' names
  std::vector<uint64_t> seeds;                      // 1..settings.seeds
  eigrad::data::Dataset spiral;                     // 3 classes, 100 points each (--quick: 50)
  // All 60000 training and 10000 test images of Fashion-MNIST, standardised, flat ([n, 784]);
  // each experiment takes its own subset with first_rows.
  eigrad::data::Dataset fashion_train, fashion_test;
};

// The seeds, the names, the spiral and Fashion-MNIST for checked settings; a data
// folder that cannot be read throws an Error naming --data.
Lab make_lab(const Settings& s, std::vector<const eigrad::ActivationInfo*> acts);

// The first n examples of `set` (all of them when it has fewer), as [n, 1, 28, 28] images when
// `images`.
eigrad::data::Dataset first_rows(const eigrad::data::Dataset& set, int64_t n, bool images = false);

const eigrad::ActivationInfo* find_in(const std::vector<const eigrad::ActivationInfo*>& list,
                                      const std::string& name);
// The position of `name` in `names`, names.size() when it is not there.
std::size_t index_of(const std::vector<std::string>& names, const std::string& name);

double seconds_since(std::chrono::steady_clock::time_point t0);
// Progress on stderr, one line per experiment, so that stdout stays quiet in ctest logs.
void note(const std::string& what);

// The experiments, in the order main() runs them, one file each; each returns its sections of
// the report. --only names them by the key of kExperiments (main.cpp).
Report cost(const Lab& lab);                // cost.cpp: per element in cache and from memory
Report depth_grid(const Lab& lab);          // depth.cpp: saturation and vanishing through depth
Report through_time(const Lab& lab);        // through_time.cpp: vanishing through time
Report self_normalisation(const Lab& lab);  // self_norm.cpp: selu
Report smoothness(const Lab& lab);          // smoothness.cpp: a PINN's second derivative
Report zero_centring(const Lab& lab);       // zero_centring.cpp: sigmoid against sigmoid - 0.5
Report dying_units(const Lab& lab);         // dying.cpp: dead and stuck units, prelu vs leaky
Report quality(const Lab& lab);             // quality.cpp: convergence, swish and gelu vs relu
Report output_layer(const Lab& lab);        // output.cpp: softmax against per-class sigmoids

}  // namespace activation_lab
