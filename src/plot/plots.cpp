#include "eigrad/plot/plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "eigrad/error.hpp"

namespace eigrad::plot {

namespace {

constexpr Color kOutline{40, 40, 40};
constexpr Color kGrid{232, 232, 232};
constexpr Color kZero{140, 140, 140};
constexpr Color kTickText{60, 60, 60};

// A step of 1, 2 or 5 times a power of ten giving about `count` intervals over `range`.
double nice_step(double range, int count) {
  const double raw = range / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * p) return m * p;
  return 10.0 * p;
}

std::string format_tick(double v, double step) {
  if (std::abs(v) < step * 1e-9) v = 0.0;  // no "-0" or "1e-17" at the origin
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void draw_title(Image& img, const std::string& title) {
  if (title.empty()) return;
  const int w = Image::text_width(title) + 8;
  img.fill_rect(4, 4, w, Image::text_height() + 6, kWhite);
  img.draw_text(8, 7, title, kBlack);
}

}  // namespace

Image render_decision_regions(const GridClassifier& classify, const Tensor& X,
                              const std::vector<int64_t>& y, const DecisionRegionOptions& options) {
  const char* op = "render_decision_regions";
  if (!classify) throw Error(std::string(op) + ": the classifier is empty");
  if (!X.defined() || X.rank() != 2 || X.size(1) != 2)
    throw Error(std::string(op) + ": X must have shape [n, 2], got " +
                (X.defined() ? X.shape().str() : std::string("an undefined tensor")));
  if (X.size(0) != static_cast<int64_t>(y.size()))
    throw Error(std::string(op) + ": X of shape " + X.shape().str() + " has " +
                std::to_string(X.size(0)) + " points but y has " + std::to_string(y.size()) +
                " labels");
  if (!(options.padding >= 0) || !(options.point_radius >= 0))
    throw Error(std::string(op) + ": padding and point_radius must be >= 0");
  const auto color_of = [&](int64_t k) {
    if (k < 0) throw Error(std::string(op) + ": class " + std::to_string(k) + " is negative");
    return options.colors.empty() ? palette_color(k)
                                  : options.colors[static_cast<size_t>(k) % options.colors.size()];
  };
  for (int64_t k : y) color_of(k);           // a negative label fails before the classifier runs
  Image img(options.width, options.height);  // validates the size

  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  const float* p = X.data();
  for (int64_t i = 0; i < X.size(0); ++i)
    if (std::isfinite(p[2 * i]) && std::isfinite(p[2 * i + 1])) {
      x0 = std::min(x0, double{p[2 * i]}), x1 = std::max(x1, double{p[2 * i]});
      y0 = std::min(y0, double{p[2 * i + 1]}), y1 = std::max(y1, double{p[2 * i + 1]});
    }
  if (!(x0 <= x1)) x0 = -1, x1 = 1, y0 = -1, y1 = 1;  // no finite point
  // Equal scales on both axes, the data centred with `padding` around it.
  const double span = std::max({x1 - x0, y1 - y0, 1e-6}) * (1.0 + 2.0 * options.padding);
  const double per_pixel = span / std::min(img.width(), img.height());
  const double left = 0.5 * (x0 + x1) - per_pixel * img.width() / 2;
  const double top = 0.5 * (y0 + y1) + per_pixel * img.height() / 2;

  const int rows_per_chunk = std::max(1, 16384 / img.width());
  for (int r0 = 0; r0 < img.height(); r0 += rows_per_chunk) {
    const int rows = std::min(rows_per_chunk, img.height() - r0);
    const int64_t m = int64_t{rows} * img.width();
    Tensor grid = Tensor::empty({m, 2});
    float* g = grid.mutable_data();
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < img.width(); ++c) {
        const int64_t i = int64_t{r} * img.width() + c;
        g[2 * i] = static_cast<float>(left + (c + 0.5) * per_pixel);
        g[2 * i + 1] = static_cast<float>(top - (r0 + r + 0.5) * per_pixel);
      }
    const std::vector<int64_t> labels = classify(grid);
    if (static_cast<int64_t>(labels.size()) != m)
      throw Error(std::string(op) + ": the classifier returned " + std::to_string(labels.size()) +
                  " labels for " + std::to_string(m) + " points");
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < img.width(); ++c)
        img.set_pixel(
            c, r0 + r,
            lighten(color_of(labels[static_cast<size_t>(r * img.width() + c)]), options.shade));
  }

  for (int64_t i = 0; i < X.size(0); ++i) {
    const double px = (p[2 * i] - left) / per_pixel, py = (top - p[2 * i + 1]) / per_pixel;
    const Color c = color_of(y[static_cast<size_t>(i)]);
    img.fill_circle(px, py, options.point_radius + 1.0, kOutline);
    img.fill_circle(px, py, options.point_radius, c);
  }
  draw_title(img, options.title);
  return img;
}

void plot_decision_regions(const std::string& path, const GridClassifier& classify, const Tensor& X,
                           const std::vector<int64_t>& y, const DecisionRegionOptions& options) {
  write_png(path, render_decision_regions(classify, X, y, options));
}

Curve Curve::sample(std::string label, const std::function<double(double)>& f, double lo, double hi,
                    int n) {
  if (n < 2) throw Error("Curve::sample: need at least 2 points, got " + std::to_string(n));
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
    throw Error("Curve::sample: the interval [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "] is empty or not finite");
  Curve c;
  c.label = std::move(label);
  for (int i = 0; i < n; ++i) {
    const double x = lo + (hi - lo) * i / (n - 1);
    c.x.push_back(x);
    c.y.push_back(f(x));
  }
  return c;
}

Image render_line_plot(const std::vector<Curve>& curves, const LinePlotOptions& options) {
  const char* op = "render_line_plot";
  if (options.width < 160 || options.height < 100)
    throw Error(std::string(op) + ": a plot needs at least 160 x 100 pixels, got " +
                std::to_string(options.width) + " x " + std::to_string(options.height));
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Curve& c : curves) {
    if (c.x.size() != c.y.size())
      throw Error(std::string(op) + ": curve '" + c.label + "' has " + std::to_string(c.x.size()) +
                  " x values but " + std::to_string(c.y.size()) + " y values");
    for (size_t i = 0; i < c.x.size(); ++i)
      if (std::isfinite(c.x[i]) && std::isfinite(c.y[i])) {
        x0 = std::min(x0, c.x[i]), x1 = std::max(x1, c.x[i]);
        y0 = std::min(y0, c.y[i]), y1 = std::max(y1, c.y[i]);
      }
  }
  if (!(x0 <= x1)) throw Error(std::string(op) + ": no curve has a finite point to plot");
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double ypad = 0.05 * (y1 - y0);
  y0 = options.y_min.value_or(y0 - ypad);
  y1 = options.y_max.value_or(y1 + ypad);
  if (!(y0 < y1) || !std::isfinite(y0) || !std::isfinite(y1))
    throw Error(std::string(op) + ": the y range [" + std::to_string(y0) + ", " +
                std::to_string(y1) + "] is empty or not finite");

  const double xstep = nice_step(x1 - x0, 6), ystep = nice_step(y1 - y0, 5);
  std::vector<double> xticks, yticks;
  for (double t = std::ceil(x0 / xstep - 1e-9) * xstep; t <= x1 + xstep * 1e-9; t += xstep)
    xticks.push_back(t);
  for (double t = std::ceil(y0 / ystep - 1e-9) * ystep; t <= y1 + ystep * 1e-9; t += ystep)
    yticks.push_back(t);
  int label_w = 0;
  for (double t : yticks) label_w = std::max(label_w, Image::text_width(format_tick(t, ystep)));

  Image img(options.width, options.height);
  const int th = Image::text_height();
  const int left = label_w + 10, right = 12;
  const bool header = !options.title.empty() || !options.y_label.empty();
  const int top = header ? th + 14 : 10;
  const int bottom = options.x_label.empty() ? th + 12 : 2 * th + 20;
  const int pw = options.width - left - right, ph = options.height - top - bottom;
  if (pw < 20 || ph < 20) throw Error(std::string(op) + ": the plot is too small for its labels");
  const auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (pw - 1); };
  const auto py = [&](double y) { return top + (y1 - y) / (y1 - y0) * (ph - 1); };

  for (double t : xticks) {
    const int x = static_cast<int>(std::lround(px(t)));
    img.fill_rect(x, top, 1, ph, kGrid);
    const std::string s = format_tick(t, xstep);
    img.draw_text(x - Image::text_width(s) / 2, top + ph + 5, s, kTickText);
  }
  for (double t : yticks) {
    const int y = static_cast<int>(std::lround(py(t)));
    img.fill_rect(left, y, pw, 1, kGrid);
    const std::string s = format_tick(t, ystep);
    img.draw_text(left - 5 - Image::text_width(s), y - th / 2, s, kTickText);
  }
  if (x0 <= 0 && 0 <= x1) img.fill_rect(static_cast<int>(std::lround(px(0))), top, 1, ph, kZero);
  if (y0 <= 0 && 0 <= y1) img.fill_rect(left, static_cast<int>(std::lround(py(0))), pw, 1, kZero);

  img.set_clip(left, top, pw, ph);
  for (size_t k = 0; k < curves.size(); ++k) {
    const Curve& c = curves[k];
    const Color color = c.color.value_or(palette_color(static_cast<int64_t>(k)));
    for (size_t i = 0; i + 1 < c.x.size(); ++i)
      if (std::isfinite(c.x[i]) && std::isfinite(c.y[i]) && std::isfinite(c.x[i + 1]) &&
          std::isfinite(c.y[i + 1]))
        img.draw_line(px(c.x[i]), py(c.y[i]), px(c.x[i + 1]), py(c.y[i + 1]), color, 2);
    if (c.x.size() == 1 && std::isfinite(c.x[0]) && std::isfinite(c.y[0]))
      img.fill_circle(px(c.x[0]), py(c.y[0]), 2.5, color);
  }
  img.reset_clip();
  img.draw_rect(left - 1, top - 1, pw + 2, ph + 2, kBlack);

  if (options.legend && !curves.empty()) {
    int w = 0;
    for (const Curve& c : curves) w = std::max(w, Image::text_width(c.label));
    const int row = th + 5, lx = left + 8, ly = top + 8;
    const int bw = 14 + 6 + w + 12, bh = row * static_cast<int>(curves.size()) + 7;
    img.set_clip(left, top, pw, ph);
    img.fill_rect(lx, ly, bw, bh, kWhite);
    img.draw_rect(lx, ly, bw, bh, kZero);
    for (size_t k = 0; k < curves.size(); ++k) {
      const Color color = curves[k].color.value_or(palette_color(static_cast<int64_t>(k)));
      const int ry = ly + 5 + row * static_cast<int>(k);
      img.fill_rect(lx + 6, ry + th / 2 - 1, 14, 3, color);
      img.draw_text(lx + 6 + 14 + 6, ry, curves[k].label, kBlack);
    }
    img.reset_clip();
  }
  if (!options.title.empty())
    img.draw_text((options.width - Image::text_width(options.title)) / 2, 6, options.title, kBlack);
  if (!options.x_label.empty())
    img.draw_text(left + (pw - Image::text_width(options.x_label)) / 2, top + ph + th + 12,
                  options.x_label, kBlack);
  if (!options.y_label.empty()) img.draw_text(std::max(2, left - 8), 6, options.y_label, kBlack);
  return img;
}

void plot_lines(const std::string& path, const std::vector<Curve>& curves,
                const LinePlotOptions& options) {
  write_png(path, render_line_plot(curves, options));
}

Image tile_images(const std::vector<Image>& images, int columns, Color background) {
  if (images.empty()) throw Error("tile_images: no images to tile");
  if (columns < 1) throw Error("tile_images: columns must be >= 1, got " + std::to_string(columns));
  int cw = 0, ch = 0;
  for (const Image& im : images) cw = std::max(cw, im.width()), ch = std::max(ch, im.height());
  const int n = static_cast<int>(images.size());
  const int cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  Image out(cw * cols, ch * rows, background);
  for (int i = 0; i < n; ++i)
    out.paste(images[static_cast<size_t>(i)], (i % cols) * cw, (i / cols) * ch);
  return out;
}

}  // namespace eigrad::plot
