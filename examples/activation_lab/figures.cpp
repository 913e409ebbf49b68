#include "figures.hpp"

#include <algorithm>
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

plot::Image band_plot(const std::vector<Band>& bands, const std::string& title,
                      const std::string& x_label, const std::string& y_label,
                      std::optional<double> y_min, std::optional<double> y_max, int width,
                      int height) {
  std::vector<plot::Curve> curves;
  for (size_t k = 0; k < bands.size(); ++k) {
    const Band& b = bands[k];
    const plot::Color c = plot::palette_color(static_cast<int64_t>(k));
    if (!b.lo.empty()) curves.push_back({b.label + " lo", b.x, b.lo, plot::lighten(c, 0.6)});
    if (!b.hi.empty()) curves.push_back({b.label + " hi", b.x, b.hi, plot::lighten(c, 0.6)});
  }
  for (size_t k = 0; k < bands.size(); ++k)
    curves.push_back(
        {bands[k].label, bands[k].x, bands[k].mean, plot::palette_color(static_cast<int64_t>(k))});
  bool any = false;
  for (const plot::Curve& c : curves)
    for (double y : c.y) any = any || std::isfinite(y);
  plot::LinePlotOptions o;
  o.width = width;
  o.height = height;
  o.x_label = x_label;
  o.y_label = y_label;
  o.y_min = y_min;
  o.y_max = y_max;
  o.legend = false;
  if (!any) {
    plot::Image empty(width, height);
    empty.draw_text(8, 8, title, plot::kBlack);
    empty.draw_text(8, 24, "NO FINITE VALUES (DIVERGED)", plot::kBlack);
    return empty;
  }
  // The title on a line of its own above the plot, whose header line holds the y label.
  const int th = plot::Image::text_height(), title_h = th + 10;
  o.height = height - title_h;
  plot::Image img(width, height);
  img.paste(plot::render_line_plot(curves, o), 0, title_h);
  img.draw_text((width - plot::Image::text_width(title)) / 2, 6, title, plot::kBlack);
  // The legend, top right: the bands' colours and labels, and what the light lines are.
  int w = plot::Image::text_width("light: 95% interval");
  for (const Band& b : bands) w = std::max(w, plot::Image::text_width(b.label));
  const int row = th + 5;
  const int bw = 14 + 6 + w + 12, bh = row * static_cast<int>(bands.size() + 1) + 7;
  const int lx = width - bw - 16, ly = title_h + th + 22;
  img.fill_rect(lx, ly, bw, bh, plot::kWhite);
  img.draw_rect(lx, ly, bw, bh, plot::kBlack);
  for (size_t k = 0; k <= bands.size(); ++k) {
    const int ry = ly + 5 + row * static_cast<int>(k);
    if (k == bands.size()) {
      img.draw_text(lx + 6, ry, "light: 95% interval", plot::kBlack);
      break;
    }
    img.fill_rect(lx + 6, ry + th / 2 - 1, 14, 3, plot::palette_color(static_cast<int64_t>(k)));
    img.draw_text(lx + 6 + 14 + 6, ry, bands[k].label, plot::kBlack);
  }
  return img;
}

std::vector<double> iota_curve(std::size_t n, double first) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = first + static_cast<double>(i);
  return x;
}

}  // namespace activation_lab
