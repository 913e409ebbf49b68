// Links the installed eigrad::plot (and through it eigrad::io) and writes a small PNG.
#include <eigrad/plot.hpp>

#include <iostream>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "consumer_plot.png";
  eigrad::plot::plot_lines(path, {eigrad::plot::Curve::sample(
                                     "x^2", [](double x) { return x * x; }, -1.0, 1.0)});
  std::cout << "consumer_plot: wrote " << path << "\n";
  return 0;
}
