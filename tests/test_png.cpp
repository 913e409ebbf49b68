#include <catch2/catch.hpp>

#ifndef EIGRAD_HAVE_PLOT
TEST_CASE("the picture tests need eigrad_plot", "[png]") {
  FAIL("eigrad_plot was not built: it needs zlib, nlohmann-json and stb (scripts/install-deps.sh)");
}
#else
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "eigrad/error.hpp"
#include "eigrad/plot/image.hpp"
#include "eigrad/plot/plots.hpp"
#include "support.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STBI_ONLY_PNG
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#pragma GCC diagnostic pop

using namespace eigrad;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using eigrad::test::read_all;
using eigrad::test::TempDir;

namespace {

uint32_t be32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

int count_color(const plot::Image& img, plot::Color c) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) n += img.pixel(x, y) == c;
  return n;
}

}  // namespace

TEST_CASE("write_png writes a PNG with the right header and pixels", "[png]") {
  TempDir dir;
  const int w = 7, h = 5;
  std::vector<uint8_t> rgb(static_cast<size_t>(w * h * 3));
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  plot::write_png(dir / "a.png", w, h, rgb);
  const std::string bytes = read_all(dir / "a.png");
  REQUIRE(bytes.size() > 33);
  CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(bytes.substr(12, 4) == "IHDR");
  CHECK(be32(bytes, 16) == 7u);
  CHECK(be32(bytes, 20) == 5u);
  CHECK(static_cast<int>(bytes[24]) == 8);  // bit depth
  CHECK(static_cast<int>(bytes[25]) == 2);  // colour type: RGB
  int dw = 0, dh = 0, comp = 0;
  unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                            static_cast<int>(bytes.size()), &dw, &dh, &comp, 3);
  REQUIRE(px != nullptr);
  CHECK(dw == w);
  CHECK(dh == h);
  CHECK(std::vector<uint8_t>(px, px + rgb.size()) == rgb);
  stbi_image_free(px);
}

TEST_CASE("write_png refuses a wrong buffer size and an unwritable path", "[png]") {
  TempDir dir;
  CHECK_THROWS_WITH(plot::write_png(dir / "a.png", 4, 4, std::vector<uint8_t>(47)),
                    Contains("a.png") && Contains("48 bytes") && Contains("got 47"));
  CHECK_THROWS_WITH(plot::write_png(dir / "a.png", 0, 4, {}), Contains("0 x 4"));
  const std::string bad = dir / "missing/dir/a.png";
  CHECK_THROWS_WITH(plot::write_png(bad, 1, 1, {1, 2, 3}),
                    Contains(bad) && Contains("does not exist"));
  CHECK_THROWS_WITH(plot::write_png(dir.path.string() + "/", 1, 1, {1, 2, 3}),
                    Contains("directory"));
}

TEST_CASE("drawing is clipped to the image and to the clip rectangle", "[png]") {
  plot::Image img(10, 8, plot::kBlack);
  const plot::Color red{255, 0, 0};
  img.fill_rect(-5, -5, 8, 7, red);  // covers x 0..2, y 0..1
  CHECK(count_color(img, red) == 3 * 2);
  img.set_clip(5, 5, 2, 2);
  img.fill_rect(0, 0, 10, 8, plot::kWhite);
  img.reset_clip();
  CHECK(count_color(img, plot::kWhite) == 4);
  CHECK(img.pixel(5, 5) == plot::kWhite);
  CHECK(img.pixel(4, 5) == plot::kBlack);
  CHECK_THROWS_WITH(img.pixel(10, 0), Contains("outside"));
}

TEST_CASE("lines and circles cover the pixels they should", "[png]") {
  plot::Image img(20, 20, plot::kWhite);
  img.draw_line(2, 3, 12, 3, plot::kBlack);
  CHECK(count_color(img, plot::kBlack) == 11);
  for (int x = 2; x <= 12; ++x) CHECK(img.pixel(x, 3) == plot::kBlack);
  plot::Image disc(20, 20, plot::kWhite);
  disc.fill_circle(10, 10, 3, plot::kBlack);
  // Pixel centres sit at half-integer offsets from (10, 10); within distance 3 are, in each
  // quadrant, the offsets {0.5, 1.5, 2.5}^2 except (2.5, 2.5): 4 * 8 = 32 pixels.
  CHECK(count_color(disc, plot::kBlack) == 32);
}

TEST_CASE("text is drawn with the built-in font, lower case as upper case", "[png]") {
  CHECK(plot::Image::text_width("AB") == 11);
  CHECK(plot::Image::text_width("AB", 2) == 22);
  CHECK(plot::Image::text_height() == 7);
  plot::Image upper(20, 9, plot::kWhite), lower(20, 9, plot::kWhite);
  upper.draw_text(1, 1, "HI", plot::kBlack);
  lower.draw_text(1, 1, "hi", plot::kBlack);
  CHECK(upper.rgb() == lower.rgb());
  // H lights 2 pixels in 6 rows and 5 in its bar; I lights 3 + 5 + 3.
  CHECK(count_color(upper, plot::kBlack) == 17 + 11);
}

TEST_CASE("decision regions colour the plane by class with the points on top", "[png]") {
  // Class 1 where x > 0: the left half is class 0's light shade, the right half class 1's.
  const Tensor X = Tensor::from({-1.0f, -1.0f, 1.0f, 1.0f}, {2, 2});
  const std::vector<int64_t> y = {0, 1};
  int64_t points_seen = 0;
  const auto classify = [&](const Tensor& p) {
    REQUIRE(p.rank() == 2);
    REQUIRE(p.size(1) == 2);
    points_seen += p.size(0);
    std::vector<int64_t> out;
    for (int64_t i = 0; i < p.size(0); ++i) out.push_back(p.at({i, 0}) > 0 ? 1 : 0);
    return out;
  };
  plot::DecisionRegionOptions opt;
  opt.width = 120;
  opt.height = 100;
  const plot::Image img = plot::render_decision_regions(classify, X, y, opt);
  CHECK(points_seen == 120 * 100);
  CHECK(img.pixel(2, 50) == plot::lighten(plot::palette_color(0), opt.shade));
  CHECK(img.pixel(117, 50) == plot::lighten(plot::palette_color(1), opt.shade));
  // The data span [-1, 1] plus 10 % padding on each side fills the shorter side (100 pixels):
  // (-1, -1) lands at pixel (60 - 50 / 1.2, 50 + 50 / 1.2).
  CHECK(img.pixel(60 - 42, 50 + 41) == plot::palette_color(0));
  CHECK(img.pixel(60 + 41, 50 - 42) == plot::palette_color(1));
  TempDir dir;
  plot::plot_decision_regions(dir / "regions.png", classify, X, y, opt);
  CHECK(fs::file_size(dir / "regions.png") > 100);
}

TEST_CASE("decision regions check their inputs", "[png]") {
  const auto zero = [](const Tensor& p) {
    return std::vector<int64_t>(static_cast<size_t>(p.size(0)), 0);
  };
  const auto short_answer = [](const Tensor&) { return std::vector<int64_t>{0}; };
  const Tensor X = Tensor::zeros({3, 2});
  CHECK_THROWS_WITH(plot::render_decision_regions(zero, Tensor::zeros({3, 3}), {0, 0, 0}),
                    Contains("[n, 2]") && Contains("[3, 3]"));
  CHECK_THROWS_WITH(plot::render_decision_regions(zero, X, {0, 0}), Contains("2 labels"));
  CHECK_THROWS_WITH(plot::render_decision_regions(zero, X, {0, -1, 0}), Contains("-1"));
  CHECK_THROWS_WITH(plot::render_decision_regions(short_answer, X, {0, 0, 0}),
                    Contains("returned 1 labels"));
}

TEST_CASE("a line plot draws each curve in its colour with axes and zero lines", "[png]") {
  const plot::Color red{220, 0, 0}, blue{0, 0, 220};
  std::vector<plot::Curve> curves = {
      plot::Curve::sample(
          "relu", [](double x) { return x > 0 ? x : 0.0; }, -5, 5),
      plot::Curve::sample(
          "relu'", [](double x) { return x > 0 ? 1.0 : 0.0; }, -5, 5)};
  curves[0].color = red;
  curves[1].color = blue;
  plot::LinePlotOptions opt;
  opt.title = "ReLU";
  const plot::Image img = plot::render_line_plot(curves, opt);
  CHECK(img.width() == 640);
  CHECK(img.height() == 400);
  CHECK(count_color(img, red) > 300);
  CHECK(count_color(img, blue) > 300);
  CHECK(count_color(img, plot::kBlack) > 500);  // frame, title and legend text
  TempDir dir;
  plot::plot_lines(dir / "lines.png", curves, opt);
  CHECK(fs::file_size(dir / "lines.png") > 100);
}

TEST_CASE("a line plot writes its x label below the axis and its y label at the top left",
          "[png]") {
  const auto black_in_rows = [](const plot::Image& img, int y0, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < img.width(); ++x) n += img.pixel(x, y) == plot::kBlack;
    return n;
  };
  const std::vector<plot::Curve> curves = {plot::Curve::sample(
      "x^2", [](double x) { return x * x; }, -1, 1)};
  plot::LinePlotOptions opt;
  opt.legend = false;
  // Without labels or title the frame starts at row 9 and only grey tick labels lie below it.
  const plot::Image bare = plot::render_line_plot(curves, opt);
  CHECK(black_in_rows(bare, 0, 9) == 0);
  CHECK(black_in_rows(bare, bare.height() - 14, bare.height()) == 0);
  opt.x_label = "x";
  opt.y_label = "u(x)";
  const plot::Image labelled = plot::render_line_plot(curves, opt);
  CHECK(black_in_rows(labelled, 0, 9) > 0);
  CHECK(black_in_rows(labelled, labelled.height() - 14, labelled.height()) > 0);
}

TEST_CASE("a line plot rejects curves it cannot draw", "[png]") {
  plot::Curve bad{"bad", {1, 2, 3}, {1, 2}, {}};
  CHECK_THROWS_WITH(plot::render_line_plot({bad}), Contains("'bad'") && Contains("3 x values"));
  plot::Curve nan{"nan", {1, 2}, {std::nan(""), std::nan("")}, {}};
  CHECK_THROWS_WITH(plot::render_line_plot({nan}), Contains("finite"));
  CHECK_THROWS_WITH(plot::Curve::sample(
                        "f", [](double x) { return x; }, 1, 1),
                    Contains("interval"));
}

TEST_CASE("tiled images sit in equal cells, row by row", "[png]") {
  const plot::Color red{255, 0, 0};
  const plot::Image a(3, 2, red), b(4, 4, plot::kBlack), c(1, 1, red);
  const plot::Image t = plot::tile_images({a, b, c}, 2);
  CHECK(t.width() == 8);
  CHECK(t.height() == 8);
  CHECK(t.pixel(0, 0) == red);
  CHECK(t.pixel(3, 0) == plot::kWhite);
  CHECK(t.pixel(4, 3) == plot::kBlack);
  CHECK(t.pixel(0, 4) == red);
  CHECK(t.pixel(1, 4) == plot::kWhite);
  CHECK_THROWS_WITH(plot::tile_images({}, 2), Contains("no images"));
}
#endif
