#include "figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "inference.hpp"

namespace activation_lab {

using namespace eigrad;

Band seed_band(const std::string& label, std::vector<double> x,
               const std::vector<std::vector<double>>& curves, int resamples) {
  Band b{label, std::move(x), {}, {}, {}};
  for (size_t i = 0; i < b.x.size(); ++i) {
    std::vector<double> at;
    for (const std::vector<double>& c : curves)
      if (i < c.size() && std::isfinite(c[i])) at.push_back(c[i]);
    const Estimate e = bootstrap_mean(at, 1 + i, resamples);
    b.mean.push_back(e.mean);
    b.lo.push_back(e.lo);
    b.hi.push_back(e.hi);
  }
  return b;
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

namespace {

// Viridis (matplotlib's perceptually uniform ramp) at nine evenly spaced stops, linear between.
plot::Color ramp(double t) {
  static const plot::Color stops[9] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                       {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                       {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 8;
  const int i = std::min(7, static_cast<int>(t));
  const double f = t - i;
  const auto mix = [f](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround(a + f * (static_cast<double>(b) - a)));
  };
  const plot::Color a = stops[i], b = stops[i + 1];
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

std::string format_tick(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

bool dark(plot::Color c) {
  return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b < 128;
}

}  // namespace

plot::Image heatmap(const Heatmap& h) {
  const int rows = static_cast<int>(h.row_labels.size());
  const int columns = static_cast<int>(h.column_labels.size());
  const int th = plot::Image::text_height(), line = th + 6;
  int label_w = plot::Image::text_width(h.y_label);
  for (const std::string& s : h.row_labels) label_w = std::max(label_w, plot::Image::text_width(s));
  int cell_w = 48;
  for (const std::string& s : h.column_labels)
    cell_w = std::max(cell_w, plot::Image::text_width(s) + 8);
  for (const auto& row : h.cell_text)
    for (const std::string& s : row) cell_w = std::max(cell_w, plot::Image::text_width(s) + 8);
  const int cell_h = th + 12;
  const int gx = 8 + label_w + 8, gy = 8 + 3 * line;
  const int grid_w = columns * cell_w, grid_h = rows * cell_h;
  constexpr int kTicks = 5;
  const auto tick = [&](int k) { return h.lo + (h.hi - h.lo) * k / (kTicks - 1); };
  int tick_w = 0;
  for (int k = 0; k < kTicks; ++k)
    tick_w = std::max(tick_w, plot::Image::text_width(format_tick(tick(k))));
  const int bar_x = gx + grid_w + 16, bar_w = 14;
  const int width =
      std::max({bar_x + bar_w + 6 + tick_w + 8, 8 + plot::Image::text_width(h.title) + 8,
                8 + plot::Image::text_width(h.colour_label) + 8});
  const int height = gy + grid_h + 6 + line + line + 4;
  plot::Image img(width, height);
  img.draw_text(8, 6, h.title, plot::kBlack);
  img.draw_text(8, 6 + line, h.colour_label, plot::kBlack);
  img.draw_text(8, gy - line, h.y_label, plot::kBlack);
  for (int r = 0; r < rows; ++r) {
    const int y = gy + r * cell_h;
    img.draw_text(gx - 8 - plot::Image::text_width(h.row_labels[r]), y + (cell_h - th) / 2,
                  h.row_labels[r], plot::kBlack);
    for (int c = 0; c < columns; ++c) {
      const int x = gx + c * cell_w;
      const double v = h.values[r][c];
      const plot::Color fill =
          std::isfinite(v) ? ramp((v - h.lo) / (h.hi - h.lo)) : plot::Color{190, 190, 190};
      img.fill_rect(x, y, cell_w, cell_h, fill);
      const std::string& text = h.cell_text.empty() ? std::string() : h.cell_text[r][c];
      img.draw_text(x + (cell_w - plot::Image::text_width(text)) / 2, y + (cell_h - th) / 2, text,
                    dark(fill) ? plot::kWhite : plot::kBlack);
    }
  }
  img.draw_rect(gx, gy, grid_w, grid_h, plot::kBlack);
  for (int c = 0; c < columns; ++c)
    img.draw_text(gx + c * cell_w + (cell_w - plot::Image::text_width(h.column_labels[c])) / 2,
                  gy + grid_h + 6, h.column_labels[c], plot::kBlack);
  img.draw_text(gx + (grid_w - plot::Image::text_width(h.x_label)) / 2, gy + grid_h + 6 + line,
                h.x_label, plot::kBlack);
  // The colour bar: hi at the top, lo at the bottom, one pixel row per shade.
  for (int y = 0; y < grid_h; ++y)
    img.fill_rect(bar_x, gy + y, bar_w, 1, ramp(1.0 - static_cast<double>(y) / (grid_h - 1)));
  img.draw_rect(bar_x, gy, bar_w, grid_h, plot::kBlack);
  for (int k = 0; k < kTicks; ++k) {
    const int y = gy + grid_h - 1 - (grid_h - 1) * k / (kTicks - 1);
    img.draw_line(bar_x + bar_w, y, bar_x + bar_w + 3, y, plot::kBlack);
    img.draw_text(bar_x + bar_w + 6, std::clamp(y - th / 2, gy - th / 2, gy + grid_h - th / 2),
                  format_tick(tick(k)), plot::kBlack);
  }
  return img;
}

std::vector<double> iota_curve(std::size_t n, double first) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = first + static_cast<double>(i);
  return x;
}

}  // namespace activation_lab
