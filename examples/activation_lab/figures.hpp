#pragma once
// The activation lab's figures: line plots with intervals, heatmaps, and the list of PNGs the
// report links to, written with the report at the end.
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

// A curve with its 95 % interval: the mean drawn in its colour, the interval's ends as lighter
// lines of the same colour. lo and hi may be empty (no interval); non-finite values break lines.
struct Band {
  std::string label;
  std::vector<double> x, mean, lo, hi;
};

// The mean over seeds at each point of x with its 95 % interval (inference.hpp's expanded
// bootstrap): curves[i] holds seed i's values at the points of x; values that are not finite are
// left out at their point (the caller counts them).
Band seed_band(const std::string& label, std::vector<double> x,
               const std::vector<std::vector<double>>& curves, int resamples = 2000);

// Line plots with intervals, axis labels (with units) and a legend of the bands' labels; a panel
// that says so where no band has a finite value.
eigrad::plot::Image band_plot(const std::vector<Band>& bands, const std::string& title,
                              const std::string& x_label, const std::string& y_label,
                              std::optional<double> y_min = {}, std::optional<double> y_max = {},
                              int width = 480, int height = 320);

// A grid of cells coloured by value (a perceptual ramp, dark blue to yellow, from `lo` to `hi`,
// values outside clamped) with each cell's text on it, row and column labels, axis labels and a
// colour bar with its label and units. values[r][c] sets the colour of row r, column c; a
// non-finite value is drawn grey. cell_text has the same shape (an empty string: no text).
struct Heatmap {
  std::vector<std::vector<double>> values;
  std::vector<std::vector<std::string>> cell_text;
  std::vector<std::string> row_labels, column_labels;
  std::string title, x_label, y_label, colour_label;
  double lo = 0, hi = 1;
};
eigrad::plot::Image heatmap(const Heatmap& h);

// first, first + 1, ...: n values for a curve's x axis.
std::vector<double> iota_curve(std::size_t n, double first = 1);

}  // namespace activation_lab
