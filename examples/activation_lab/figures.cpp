#include "figures.hpp"

#include <cmath>

namespace activation_lab {

using namespace eigrad;

plot::Image small_plot(const std::vector<plot::Curve>& curves, const std::string& title,
                       std::optional<double> y_min, std::optional<double> y_max) {
  plot::LinePlotOptions o;
  o.width = 360;
  o.height = 240;
  o.title = title;
  o.y_min = y_min;
  o.y_max = y_max;
  for (const plot::Curve& c : curves)
    for (double y : c.y)
      if (std::isfinite(y)) return plot::render_line_plot(curves, o);
  plot::Image empty(o.width, o.height);  // e.g. every run diverged
  empty.draw_text(8, 8, title, plot::kBlack);
  empty.draw_text(8, 24, "NO FINITE VALUES (DIVERGED)", plot::kBlack);
  return empty;
}

std::vector<double> iota_curve(std::size_t n, double first) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = first + static_cast<double>(i);
  return x;
}

}  // namespace activation_lab
