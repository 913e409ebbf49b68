#include "eigrad/plot/image.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "eigrad/error.hpp"
#include "io/atomic_file.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wpedantic"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace eigrad::plot {

namespace {

constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = 6;

struct Glyph {
  char c;
  const char* rows[kGlyphH];
};

// clang-format off
const Glyph kFont[] = {
  {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
  {'!', {"..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."}},
  {'"', {".#.#.", ".#.#.", ".....", ".....", ".....", ".....", "....."}},
  {'%', {"##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##"}},
  {'\'', {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."}},
  {'(', {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}},
  {')', {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}},
  {'*', {".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."}},
  {'+', {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}},
  {',', {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}},
  {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
  {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
  {'/', {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}},
  {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
  {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
  {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
  {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
  {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
  {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
  {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
  {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
  {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
  {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
  {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
  {';', {".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..."}},
  {'<', {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."}},
  {'=', {".....", ".....", "#####", ".....", "#####", ".....", "....."}},
  {'>', {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."}},
  {'?', {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}},
  {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
  {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
  {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
  {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
  {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
  {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
  {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
  {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
  {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
  {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
  {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
  {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
  {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
  {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
  {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
  {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
  {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
  {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
  {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
  {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
  {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
  {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
  {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
  {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
  {'Y', {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}},
  {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
  {'[', {".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."}},
  {']', {".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."}},
  {'^', {"..#..", ".#.#.", "#...#", ".....", ".....", ".....", "....."}},
  {'_', {".....", ".....", ".....", ".....", ".....", ".....", "#####"}},
  {'|', {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
};
// clang-format on

const Glyph& glyph(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Glyph& g : kFont)
    if (g.c == c) return g;
  for (const Glyph& g : kFont)
    if (g.c == '?') return g;
  return kFont[0];
}

void check_size(const char* op, int width, int height) {
  constexpr int kMax = 1 << 15;
  if (width < 1 || height < 1 || width > kMax || height > kMax)
    throw Error(std::string(op) + ": image size " + std::to_string(width) + " x " +
                std::to_string(height) + " is invalid (each side must be in [1, " +
                std::to_string(kMax) + "])");
}

}  // namespace

Color palette_color(int64_t i) {
  static constexpr Color kTableau[10] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kTableau[((i % 10) + 10) % 10];
}

Color lighten(Color c, double amount) {
  const double a = std::clamp(amount, 0.0, 1.0);
  const auto mix = [a](uint8_t v) { return static_cast<uint8_t>(std::lround(v + (255 - v) * a)); };
  return {mix(c.r), mix(c.g), mix(c.b)};
}

Image::Image(int width, int height, Color background) : width_(width), height_(height) {
  check_size("Image", width, height);
  rgb_.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  reset_clip();
  for (size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r;
    rgb_[i + 1] = background.g;
    rgb_[i + 2] = background.b;
  }
}

Color Image::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_)
    throw Error("Image::pixel: (" + std::to_string(x) + ", " + std::to_string(y) +
                ") is outside the " + std::to_string(width_) + " x " + std::to_string(height_) +
                " image");
  const size_t i =
      (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Image::set_pixel(int x, int y, Color c) {
  if (x < clip_x0_ || y < clip_y0_ || x >= clip_x1_ || y >= clip_y1_) return;
  const size_t i =
      (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) * 3;
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

void Image::set_clip(int x, int y, int w, int h) {
  clip_x0_ = std::clamp(x, 0, width_);
  clip_y0_ = std::clamp(y, 0, height_);
  clip_x1_ = std::clamp(x + std::max(w, 0), clip_x0_, width_);
  clip_y1_ = std::clamp(y + std::max(h, 0), clip_y0_, height_);
}

void Image::reset_clip() {
  set_clip(0, 0, width_, height_);
}

void Image::fill_rect(int x, int y, int w, int h, Color c) {
  const int x0 = std::max(x, clip_x0_), x1 = std::min(x + w, clip_x1_);
  const int y0 = std::max(y, clip_y0_), y1 = std::min(y + h, clip_y1_);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) set_pixel(xx, yy, c);
}

void Image::draw_rect(int x, int y, int w, int h, Color c) {
  fill_rect(x, y, w, 1, c);
  fill_rect(x, y + h - 1, w, 1, c);
  fill_rect(x, y, 1, h, c);
  fill_rect(x + w - 1, y, 1, h, c);
}

void Image::draw_line(double x0, double y0, double x1, double y1, Color c, int thickness) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
  // Far-away end points (a curve leaving the plot) would make the loop long; clamp them.
  const double lim = 4.0 * std::max(width_, height_);
  x0 = std::clamp(x0, -lim, lim), x1 = std::clamp(x1, -lim, lim);
  y0 = std::clamp(y0, -lim, lim), y1 = std::clamp(y1, -lim, lim);
  const int steps = static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0))));
  const int t0 = -(thickness - 1) / 2;
  for (int i = 0; i <= steps; ++i) {
    const double t = steps == 0 ? 0.0 : static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(x0 + (x1 - x0) * t));
    const int y = static_cast<int>(std::lround(y0 + (y1 - y0) * t));
    fill_rect(x + t0, y + t0, thickness, thickness, c);
  }
}

void Image::fill_circle(double cx, double cy, double radius, Color c) {
  if (!std::isfinite(cx) || !std::isfinite(cy) || !(radius > 0)) return;
  const int x0 = static_cast<int>(std::floor(cx - radius)),
            x1 = static_cast<int>(std::ceil(cx + radius));
  const int y0 = static_cast<int>(std::floor(cy - radius)),
            y1 = static_cast<int>(std::ceil(cy + radius));
  for (int y = std::max(y0, clip_y0_); y <= std::min(y1, clip_y1_ - 1); ++y)
    for (int x = std::max(x0, clip_x0_); x <= std::min(x1, clip_x1_ - 1); ++x) {
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      if (dx * dx + dy * dy <= radius * radius) set_pixel(x, y, c);
    }
}

void Image::draw_text(int x, int y, const std::string& text, Color c, int scale) {
  scale = std::max(scale, 1);
  for (char ch : text) {
    const Glyph& g = glyph(ch);
    for (int r = 0; r < kGlyphH; ++r)
      for (int col = 0; col < kGlyphW; ++col)
        if (g.rows[r][col] == '#') fill_rect(x + col * scale, y + r * scale, scale, scale, c);
    x += kAdvance * scale;
  }
}

int Image::text_width(const std::string& text, int scale) {
  return text.empty() ? 0 : (static_cast<int>(text.size()) * kAdvance - 1) * std::max(scale, 1);
}

int Image::text_height(int scale) {
  return kGlyphH * std::max(scale, 1);
}

void Image::paste(const Image& src, int x, int y) {
  for (int yy = 0; yy < src.height(); ++yy)
    for (int xx = 0; xx < src.width(); ++xx) set_pixel(x + xx, y + yy, src.pixel(xx, yy));
}

void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  check_size("write_png", width, height);
  const size_t expected = static_cast<size_t>(width) * static_cast<size_t>(height) * 3;
  if (rgb.size() != expected)
    throw Error("write_png: '" + path + "': a " + std::to_string(width) + " x " +
                std::to_string(height) + " RGB image needs " + std::to_string(expected) +
                " bytes, got " + std::to_string(rgb.size()));
  std::string png;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &png, width, height, 3, rgb.data(), width * 3))
    throw Error("write_png: '" + path + "': PNG encoding failed");
  io::detail::AtomicFile file("write_png", path);
  file.write(png.data(), png.size());
  file.commit();
}

void write_png(const std::string& path, const Image& image) {
  write_png(path, image.width(), image.height(), image.rgb());
}

}  // namespace eigrad::plot
