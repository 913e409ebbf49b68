#pragma once
// The activation lab's figures: small line plots, and the list of PNGs the report links to,
// written with the report at the end.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/plot.hpp"

namespace activation_lab {

struct Figures {
  std::vector<std::pair<std::string, eigrad::plot::Image>> files;  // path relative to --out
  std::string add(const std::string& name, eigrad::plot::Image image) {
    files.emplace_back("figures/" + name, std::move(image));
    return "figures/" + name;
  }
};

// A 360 x 240 plot, or a panel that says so where no curve has a finite value.
eigrad::plot::Image small_plot(const std::vector<eigrad::plot::Curve>& curves,
                               const std::string& title, std::optional<double> y_min = {},
                               std::optional<double> y_max = {});

// first, first + 1, ...: n values for a curve's x axis.
std::vector<double> iota_curve(std::size_t n, double first = 1);

}  // namespace activation_lab
