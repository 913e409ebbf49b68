#include "eigrad/io/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "eigrad/error.hpp"

namespace eigrad::io {

namespace {
ProgressBar::Clock steady_seconds() {
  return [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
}

std::string format_value(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
}  // namespace

ProgressBar::ProgressBar(int64_t total, ProgressOptions options)
    : ProgressBar(total, std::cout, stdout_is_terminal(), {}, std::move(options)) {}

ProgressBar::ProgressBar(int64_t total, std::ostream& out, bool is_terminal, Clock clock,
                         ProgressOptions options)
    : total_(total),
      out_(&out),
      terminal_(is_terminal),
      clock_(clock ? std::move(clock) : steady_seconds()),
      options_(std::move(options)) {
  if (total < 1) throw Error("ProgressBar: total must be at least 1, got " + std::to_string(total));
  if (options_.every < 1)
    throw Error("ProgressBar: every must be at least 1, got " + std::to_string(options_.every));
  options_.bar_width = std::max(options_.bar_width, 0);
  start_ = clock_();
}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {  // a destructor must not throw; the stream's state tells the caller
  }
}

bool ProgressBar::stdout_is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) == 1 && !(term && std::strcmp(term, "dumb") == 0);
}

std::string ProgressBar::format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return format_value(s, "%.1fs");
  const long long t = std::llround(s);
  char buf[48];
  if (t < 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

void ProgressBar::update(int64_t done, double loss, double accuracy) {
  show(done, "loss " + format_value(loss, "%.4f") + "  acc " +
                 format_value(100.0 * accuracy, "%.1f") + "%");
}

void ProgressBar::update(int64_t done, const Metrics& metrics) {
  std::string s;
  for (const auto& [name, value] : metrics)
    s += (s.empty() ? "" : "  ") + name + " " + format_value(value, "%.4g");
  show(done, s);
}

void ProgressBar::show(int64_t done, const std::string& metrics) {
  if (done < 0 || done > total_)
    throw Error("ProgressBar::update: step " + std::to_string(done) + " is outside [0, " +
                std::to_string(total_) + "]");
  ++updates_;
  const double now = clock_();
  const bool last = done == total_;
  if (terminal_ ? (!last && now - last_draw_ < options_.min_redraw_seconds)
                : (!last && updates_ % options_.every != 0))
    return;
  last_draw_ = now;
  const double elapsed = now - start_;
  const double eta =
      done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - done) : -1.0;
  const std::string total = std::to_string(total_);
  std::string step = std::to_string(done);
  std::string line;
  if (terminal_) {
    step.insert(0, total.size() - std::min(total.size(), step.size()), ' ');
    const int filled = static_cast<int>(options_.bar_width * done / total_);
    line = "\r" + options_.label + " " + step + "/" + total + " [" + std::string(filled, '#') +
           std::string(options_.bar_width - filled, '.') + "]";
    if (!metrics.empty()) line += "  " + metrics;
    line += "  " + format_seconds(elapsed) + " elapsed  ETA " + format_seconds(eta) + "\x1b[K";
    line_open_ = true;
  } else {
    line = options_.label + " " + step + "/" + total;
    if (!metrics.empty()) line += "  " + metrics;
    line += "  elapsed " + format_seconds(elapsed) + "  ETA " + format_seconds(eta) + "\n";
  }
  *out_ << line << std::flush;
}

void ProgressBar::finish() {
  if (line_open_) *out_ << '\n' << std::flush;
  line_open_ = false;
}

}  // namespace eigrad::io
