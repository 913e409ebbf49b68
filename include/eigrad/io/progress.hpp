#pragma once
// ProgressBar for training loops.
//
//   io::ProgressBar bar(epochs);
//   for (int e = 1; e <= epochs; ++e) { ...; bar.update(e, loss, accuracy); }
//   bar.finish();
//
// On a terminal it redraws one line in place (at most every `min_redraw_seconds`, and always for
// the last step):
//   epoch  42/200 [#######.......................]  loss 0.4123  acc 87.3%  0.5s elapsed  ETA 1.9s
// Elsewhere (a pipe, a log file) it prints plain lines, one every `every` updates plus the last:
//   epoch 42/200  loss 0.4123  acc 87.3%  elapsed 0.5s  ETA 1.9s
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace eigrad::io {

struct ProgressOptions {
  std::string label = "epoch";
  int bar_width = 30;
  int64_t every = 1;                 ///< plain mode: print every k-th update (and the last)
  double min_redraw_seconds = 0.05;  ///< terminal mode: redraw at most this often
};

class ProgressBar {
 public:
  using Clock = std::function<double()>;  ///< monotonic seconds
  using Metrics = std::vector<std::pair<std::string, double>>;

  /// Writes to std::cout; terminal mode when stdout is a terminal and TERM is not "dumb".
  explicit ProgressBar(int64_t total, ProgressOptions options = {});
  /// Writes to `out` in the mode given; `clock` defaults to std::chrono::steady_clock.
  ProgressBar(int64_t total, std::ostream& out, bool is_terminal, Clock clock = {},
              ProgressOptions options = {});
  ~ProgressBar();  ///< finish()es

  /// Step `done` of `total` (1-based, e.g. the epoch just finished) with its loss and accuracy
  /// (a fraction, shown as a percentage).
  void update(int64_t done, double loss, double accuracy);
  /// Any named values, shown as "name value" (4 significant digits).
  void update(int64_t done, const Metrics& metrics = {});
  /// Ends the redrawn line with a newline (terminal mode); idempotent.
  void finish();

  bool is_terminal() const { return terminal_; }
  static bool stdout_is_terminal();
  /// "0.4s", "12.3s", "3:07", "1:02:03".
  static std::string format_seconds(double seconds);

 private:
  void show(int64_t done, const std::string& metrics);

  int64_t total_;
  std::ostream* out_;
  bool terminal_;
  Clock clock_;
  ProgressOptions options_;
  double start_;
  double last_draw_ = -1e300;
  int64_t updates_ = 0;
  bool line_open_ = false;
};

}  // namespace eigrad::io
