#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "eigrad/error.hpp"
#include "eigrad/io/progress.hpp"

using Catch::Matchers::Contains;
using eigrad::io::ProgressBar;
using eigrad::io::ProgressOptions;

namespace {
// A clock the test moves by hand.
struct FakeClock {
  double now = 100.0;
  ProgressBar::Clock fn() {
    return [this] { return now; };
  }
};
}  // namespace

TEST_CASE("without a terminal the bar prints one plain line per update", "[progress]") {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressBar bar(4, out, false, clock.fn());
    clock.now += 1.0;
    bar.update(1, 0.5, 0.5);
    clock.now += 1.0;
    bar.update(2, 0.25, 0.875);
  }
  // Elapsed 1 s after 1 of 4 steps: 3 s to go; after 2 steps, 2 s elapsed and 2 s to go.
  CHECK(out.str() ==
        "epoch 1/4  loss 0.5000  acc 50.0%  elapsed 1.0s  ETA 3.0s\n"
        "epoch 2/4  loss 0.2500  acc 87.5%  elapsed 2.0s  ETA 2.0s\n");
}

TEST_CASE("without a terminal every k-th update and the last are printed", "[progress]") {
  std::ostringstream out;
  FakeClock clock;
  ProgressOptions opt;
  opt.every = 2;
  opt.label = "step";
  ProgressBar bar(5, out, false, clock.fn(), opt);
  for (int i = 1; i <= 5; ++i) bar.update(i, {{"lr", 0.1}});
  CHECK(out.str() ==
        "step 2/5  lr 0.1  elapsed 0.0s  ETA 0.0s\n"
        "step 4/5  lr 0.1  elapsed 0.0s  ETA 0.0s\n"
        "step 5/5  lr 0.1  elapsed 0.0s  ETA 0.0s\n");
}

TEST_CASE("on a terminal the bar redraws one line and ends it on finish", "[progress]") {
  std::ostringstream out;
  FakeClock clock;
  ProgressOptions opt;
  opt.bar_width = 10;
  ProgressBar bar(20, out, true, clock.fn(), opt);
  clock.now += 2.0;
  bar.update(5, 1.0, 0.25);
  CHECK(out.str() ==
        "\repoch  5/20 [##........]  loss 1.0000  acc 25.0%  2.0s elapsed  ETA 6.0s\x1b[K");
  clock.now += 0.01;  // too soon to redraw
  bar.update(6, 0.9, 0.3);
  CHECK(out.str().find("epoch  6/20") == std::string::npos);
  clock.now += 1.0;
  bar.update(10, 0.5, 0.5);
  CHECK(out.str().find("\repoch 10/20 [#####.....]") != std::string::npos);
  bar.update(20, 0.1, 1.0);  // the last step is always drawn
  CHECK(out.str().find("\repoch 20/20 [##########]") != std::string::npos);
  CHECK(out.str().find('\n') == std::string::npos);
  bar.finish();
  bar.finish();
  const std::string text = out.str();
  CHECK(text.back() == '\n');
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

TEST_CASE("durations read as seconds, minutes or hours", "[progress]") {
  CHECK(ProgressBar::format_seconds(0.42) == "0.4s");
  CHECK(ProgressBar::format_seconds(59.94) == "59.9s");
  CHECK(ProgressBar::format_seconds(187) == "3:07");
  CHECK(ProgressBar::format_seconds(3723) == "1:02:03");
  CHECK(ProgressBar::format_seconds(-1) == "?");
}

TEST_CASE("the progress bar rejects impossible steps", "[progress]") {
  std::ostringstream out;
  CHECK_THROWS_WITH(ProgressBar(0, out, false), Contains("total"));
  ProgressBar bar(3, out, false);
  CHECK_THROWS_WITH(bar.update(4, 0.0, 0.0), Contains("step 4") && Contains("[0, 3]"));
}
