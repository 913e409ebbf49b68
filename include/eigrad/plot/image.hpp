#pragma once
// Image: an RGB canvas with a few drawing primitives and a tiny built-in 5x7 bitmap font
// (upper-case letters, digits and common punctuation; lower case is drawn as upper case),
// written out as PNG through stb_image_write.
#include <cstdint>
#include <string>
#include <vector>

namespace eigrad::plot {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(Color a, Color b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
  friend bool operator!=(Color a, Color b) { return !(a == b); }
};

inline constexpr Color kWhite{255, 255, 255};
inline constexpr Color kBlack{0, 0, 0};

/// Ten distinguishable colours (Tableau 10); palette_color(i) cycles through them.
Color palette_color(int64_t i);
/// c moved towards white by `amount` in [0, 1] (the light shades of decision regions).
Color lighten(Color c, double amount);

class Image {
 public:
  Image(int width, int height, Color background = kWhite);

  int width() const { return width_; }
  int height() const { return height_; }
  /// Row-major RGB bytes, 3 per pixel, top row first.
  const std::vector<uint8_t>& rgb() const { return rgb_; }
  std::vector<uint8_t>& rgb() { return rgb_; }

  Color pixel(int x, int y) const;  ///< throws outside the image
  /// Drawing is clipped to the image and to the clip rectangle (the whole image by default).
  void set_pixel(int x, int y, Color c);
  void set_clip(int x, int y, int w, int h);
  void reset_clip();
  void fill_rect(int x, int y, int w, int h, Color c);
  void draw_rect(int x, int y, int w, int h, Color c);  ///< a 1-pixel outline
  void draw_line(double x0, double y0, double x1, double y1, Color c, int thickness = 1);
  void fill_circle(double cx, double cy, double radius, Color c);
  /// Text with its top-left corner at (x, y); each font pixel becomes scale x scale pixels.
  void draw_text(int x, int y, const std::string& text, Color c, int scale = 1);
  static int text_width(const std::string& text, int scale = 1);
  static int text_height(int scale = 1);
  /// Copies `src` with its top-left corner at (x, y) (clipped).
  void paste(const Image& src, int x, int y);

 private:
  int width_, height_;
  int clip_x0_, clip_y0_, clip_x1_, clip_y1_;  ///< half-open
  std::vector<uint8_t> rgb_;
};

/// Writes 8-bit RGB pixels (width * height * 3 bytes, top row first) as a PNG file.
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);
void write_png(const std::string& path, const Image& image);

}  // namespace eigrad::plot
