#pragma once
// Two small plots for the examples: decision regions of a 2-D classifier with the data on top,
// and line plots of functions on an interval. render_* returns the Image; plot_* writes a PNG.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/plot/image.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::plot {

/// Maps m points of the plane, a [m, 2] float32 tensor, to m class indices. Called on chunks of
/// the pixel grid (row by row, top to bottom), so it may run a network in batches.
using GridClassifier = std::function<std::vector<int64_t>(const Tensor& points)>;

struct DecisionRegionOptions {
  int width = 600;
  int height = 600;
  double padding = 0.1;       ///< margin around the data, as a fraction of its extent
  double point_radius = 3.5;  ///< in pixels
  double shade = 0.6;         ///< how far region colours are lightened towards white
  std::vector<Color> colors;  ///< class colours; empty: palette_color(k)
  std::string title;
};

/// The plane around X ([n, 2], equal scales on both axes) coloured by the classifier's class,
/// with the points of X in their class colours (labels y) on top.
Image render_decision_regions(const GridClassifier& classify, const Tensor& X,
                              const std::vector<int64_t>& y,
                              const DecisionRegionOptions& options = {});
void plot_decision_regions(const std::string& path, const GridClassifier& classify, const Tensor& X,
                           const std::vector<int64_t>& y,
                           const DecisionRegionOptions& options = {});

struct Curve {
  std::string label;
  std::vector<double> x, y;    ///< same length; non-finite y values break the line
  std::optional<Color> color;  ///< default: palette_color(position in the list)

  /// f sampled at n evenly spaced points of [lo, hi].
  static Curve sample(std::string label, const std::function<double(double)>& f, double lo,
                      double hi, int n = 401);
};

struct LinePlotOptions {
  int width = 640;
  int height = 400;
  std::string title;
  /// Axis labels: the x label centred below the tick labels, the y label above the axis at the
  /// top left (written horizontally: the font has no rotated glyphs). Empty: none.
  std::string x_label, y_label;
  std::optional<double> y_min, y_max;  ///< default: the curves' finite range plus 5 %
  bool legend = true;
};

/// Axes with ticks, grid and zero lines, axis labels, the curves, and a legend of colour swatches
/// and labels.
Image render_line_plot(const std::vector<Curve>& curves, const LinePlotOptions& options = {});
void plot_lines(const std::string& path, const std::vector<Curve>& curves,
                const LinePlotOptions& options = {});

/// Images laid out left to right, top to bottom, `columns` per row, each in a cell as large as
/// the largest image.
Image tile_images(const std::vector<Image>& images, int columns, Color background = kWhite);

}  // namespace eigrad::plot
