#pragma once
// The activation lab's report: markdown sections with their tables and verdicts, the summary of
// verdicts on top, the header (date, machine, commit, command), and the files written at the end,
// each atomically.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "figures.hpp"
#include "inference.hpp"
#include "stats.hpp"

namespace activation_lab {

template <class... A>
std::string format(const char* f, A... args) {
  std::string out(static_cast<size_t>(std::snprintf(nullptr, 0, f, args...)) + 1, '\0');
  std::snprintf(out.data(), out.size(), f, args...);
  out.pop_back();
  return out;
}

// "m [lo, hi]" with `digits` decimals; "n/a" where unknown.
std::string show(const Estimate& e, int digits = 3, double scale = 1);
// A Wilson interval as percentages: "p % [lo, hi] (k/n)".
std::string show(const Proportion& p, int digits = 1);

// A markdown link to a figure.
std::string link(const std::string& path);

struct SummaryRow {
  std::string claim, verdict, reason;
  double p = kNoP;  // the sign-flip p-value of a finding; NaN for timings and fixed rules
  static constexpr double kNoP = std::numeric_limits<double>::quiet_NaN();
};

// Sections of the report, the verdicts they reach and the figures they link to. Each experiment
// returns one; main() appends them in order.
class Report {
 public:
  std::ostringstream text;
  std::vector<SummaryRow> summary;
  Figures figures;

  void section(const std::string& title, const std::string& claim, const std::string& method,
               const std::vector<std::string>& covered);
  void table_header(const std::vector<std::string>& columns);
  void row(const std::vector<std::string>& cells);
  // A verdict: one of the four findings of inference.hpp, reached by its
  // rule from the estimate `e` (whose p-value joins the family Holm's procedure adjusts in the
  // summary). `reason` states the rule's numbers, the power, and where the claim was tested.
  void finding(const std::string& claim, Finding f, const Estimate& e, const std::string& reason);
  // A finding with no p-value (a timing, or a count against a fixed rule).
  void finding(const std::string& claim, Finding f, const std::string& reason);
  void not_tested(const std::string& claim, const std::string& missing);
  void append(Report&& part);
  void closing_note(double run_seconds);
};

// The report's opening lines: date, machine, commit, seeds, command, threads, and how to read it.
std::string header(const std::vector<uint64_t>& seeds, const std::string& command, int64_t threads);
// The command as typed, the program's path cut to its name, arguments quoted where needed.
std::string command_line(int argc, char** argv);
// --out must be a folder we can write: created if missing, then probed with a temporary file.
void check_output_folder(const std::string& out);
// The figures into `out`/figures, then `out`/activation_lab.md: the header, the summary of
// verdicts, the sections. Returns the report's path.
std::string write_report(const std::string& out, const std::string& head, const Report& report);

}  // namespace activation_lab
