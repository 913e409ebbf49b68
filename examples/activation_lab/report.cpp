#include "report.hpp"

#include <unistd.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "eigrad/error.hpp"

#ifndef EIGRAD_LAB_COMMIT
#define EIGRAD_LAB_COMMIT "unknown"
#endif
#ifndef EIGRAD_LAB_SOURCE_DIR
#define EIGRAD_LAB_SOURCE_DIR ""
#endif

namespace activation_lab {

using eigrad::Error;

namespace {

// A markdown table cell: a '|' in the text would end the cell.
std::string table_cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string machine() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  int cores = 0;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 && model == "unknown CPU") {
      const auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
    }
    if (line.rfind("processor", 0) == 0) ++cores;
  }
  return model + ", " + std::to_string(cores) + " logical cores";
}

// The first line `command` prints, or "" if it fails.
std::string first_line_of(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "";
  char buffer[256] = "";
  const bool got = std::fgets(buffer, sizeof buffer, pipe) != nullptr;
  const int status = ::pclose(pipe);
  std::string line = got && status == 0 ? buffer : "";
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// The source tree's commit now (the binary may be older than the last configure), marked when
// tracked files differ from it; else the commit CMake saw at configure time, else "unknown".
std::string source_commit() {
  const std::string dir = EIGRAD_LAB_SOURCE_DIR;
  if (!dir.empty()) {
    const std::string git = "git -C '" + dir + "' ";
    const std::string head = first_line_of(git + "rev-parse --short HEAD 2>/dev/null");
    if (!head.empty()) {
      const bool changed =
          !first_line_of(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();
      return head + (changed ? " (with uncommitted changes)" : "");
    }
  }
  return EIGRAD_LAB_COMMIT;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm);
  return b;
}

// Writes `text` to `path` through a temporary file in the same folder and a rename.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      out.close();
      std::remove(temporary.c_str());
      throw Error("cannot write '" + temporary + "'");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error("cannot rename '" + temporary + "' to '" + path + "'");
  }
}

}  // namespace

std::string show(const Estimate& e, int digits, double scale) {
  if (!std::isfinite(e.mean)) return "n/a";
  if (!e.known()) return format("%.*f", digits, scale * e.mean);
  return format("%.*f [%.*f, %.*f]", digits, scale * e.mean, digits, scale * e.lo, digits,
                scale * e.hi);
}

std::string show(const Proportion& p, int digits) {
  return format("%.*f %% [%.*f, %.*f] (%zu/%zu)", digits, 100 * p.p, digits, 100 * p.lo, digits,
                100 * p.hi, static_cast<size_t>(std::lround(p.p * static_cast<double>(p.n))), p.n);
}

std::string link(const std::string& path) {
  return "[png](" + path + ")";
}

void Report::section(const std::string& title, const std::string& claim, const std::string& method,
                     const std::vector<std::string>& covered) {
  text << "\n## " << title << "\n\n**Claim.** " << claim << "\n\n**Method.** " << method
       << "\n\nActivations: ";
  for (size_t i = 0; i < covered.size(); ++i) text << (i ? ", " : "") << covered[i];
  text << "\n\n";
}

void Report::table_header(const std::vector<std::string>& columns) {
  text << "|";
  for (const auto& c : columns) text << " " << c << " |";
  text << "\n|";
  for (size_t i = 0; i < columns.size(); ++i) text << "---|";
  text << "\n";
}

void Report::row(const std::vector<std::string>& cells) {
  text << "|";
  for (const auto& c : cells) text << " " << table_cell(c) << " |";
  text << "\n";
}

void Report::finding(const std::string& claim, Finding f, const Estimate& e,
                     const std::string& reason) {
  const std::string p = std::isfinite(e.p) ? format(" (p = %.3g)", e.p) : std::string();
  text << "\n**Verdict (" << claim << "): " << finding_name(f) << ".** " << reason << p << "\n";
  summary.push_back({claim, finding_name(f), reason, e.p});
}

void Report::finding(const std::string& claim, Finding f, const std::string& reason) {
  text << "\n**Verdict (" << claim << "): " << finding_name(f) << ".** " << reason << "\n";
  summary.push_back({claim, finding_name(f), reason});
}

void Report::not_tested(const std::string& claim, const std::string& missing) {
  text << "\n**Verdict (" << claim << "): not tested.** " << missing
       << " is not among --activations.\n";
  summary.push_back({claim, "not tested", missing + " is not among --activations"});
}

void Report::append(Report&& part) {
  text << part.text.str();
  summary.insert(summary.end(), part.summary.begin(), part.summary.end());
  figures.files.insert(figures.files.end(), std::make_move_iterator(part.figures.files.begin()),
                       std::make_move_iterator(part.figures.files.end()));
}

void Report::closing_note(double run_seconds) {
  text << "\n## Closing note\n\nRun time: " << format("%.0f", run_seconds) << " s (a timing).\n";
}

std::string header(const std::vector<uint64_t>& seeds, const std::string& command,
                   int64_t threads) {
  std::ostringstream md;
  md << "# Activation lab\n\n";
  md << "- Date: " << utc_now() << "\n";
  md << "- Machine: " << machine() << "\n";
  md << "- Commit: " << source_commit() << "\n";
  md << "- Seeds: ";
  for (size_t i = 0; i < seeds.size(); ++i) md << (i ? ", " : "") << seeds[i];
  md << "\n- Command: `" << command << "`\n";
  md << "- Threads: " << threads << "\n";
  md << "- Reproducibility: the same command and seeds give the same file, except what "
        "depends on the clock: the Date line, the Cost section, the cost rows of the summary "
        "and the run time. Data sets are fixed; the seed draws the initial weights and the "
        "batch order.\n";
  md << "- Statistics (second edition; the rules are fixed in inference.hpp before any number "
        "is seen, and tests/test_activation_lab_inference.cpp checks them on synthetic data "
        "where the truth is known): an effect is a paired difference (per seed: same data, same "
        "initial draws), given as its mean and a 95 % expanded percentile bootstrap interval "
        "over the pairs, with a sign-flip p-value. A claim \"A > B\" with an equivalence "
        "margin m is *supported* when the interval lies above 0, *not supported* when it lies "
        "below 0, *equivalent* when it straddles 0 inside (-m, m), and *inconclusive* "
        "otherwise; each section states m and the smallest difference its design detects at "
        "80 % power. Proportions carry Wilson intervals; times to a target are Kaplan-Meier "
        "curves in which runs that never reach it are censored, not averaged; runs that "
        "diverge are counted as failures and reported. The verdicts with a p-value form one "
        "family, adjusted by Holm's procedure in the summary.\n";
  return md.str();
}

std::string command_line(int argc, char** argv) {
  std::string c;
  for (int i = 0; i < argc; ++i) {
    std::string a = i == 0 ? std::filesystem::path(argv[0]).filename().string() : argv[i];
    if (a.find_first_of(" \t'\"$") != std::string::npos) a = "'" + a + "'";
    c += (i ? " " : "") + a;
  }
  return c;
}

void check_output_folder(const std::string& out) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(out) / "figures", ec);
  if (ec) throw Error("--out '" + out + "': cannot create the folder: " + ec.message());
  const std::string probe =
      (std::filesystem::path(out) / ".activation_lab-probe-").string() + std::to_string(::getpid());
  {
    std::ofstream f(probe);
    f << "probe";
    f.flush();
    if (!f) throw Error("--out '" + out + "': the folder cannot be written");
  }
  std::remove(probe.c_str());
}

std::string write_report(const std::string& out, const std::string& head, const Report& report) {
  std::ostringstream text;
  // Holm's step-down procedure over every verdict with a p-value: one family, 5 % family-wise.
  std::vector<double> ps;
  for (const SummaryRow& r : report.summary)
    if (std::isfinite(r.p)) ps.push_back(r.p);
  const std::vector<bool> kept = holm(ps);
  text << head << "\n## Summary\n\n| claim | verdict | p | holds under Holm | reason |\n"
       << "|---|---|---|---|---|\n";
  size_t k = 0;
  for (const SummaryRow& r : report.summary) {
    std::string p = "-", held = "-";
    if (std::isfinite(r.p)) {
      p = format("%.3g", r.p);
      held = kept[k++] ? "yes" : "no";
    }
    text << "| " << table_cell(r.claim) << " | " << r.verdict << " | " << p << " | " << held
         << " | " << table_cell(r.reason) << " |\n";
  }
  text << "\n"
       << ps.size()
       << " verdicts carry a sign-flip p-value; they form one family, and \"holds under Holm\" "
          "says whether the verdict's effect survives Holm's step-down procedure at a 5 % "
          "family-wise error (a \"no\" there means the effect, though its own interval excludes "
          "0, could be one of the family's chance findings).\n";
  text << report.text.str();
  for (const auto& [path, image] : report.figures.files)
    eigrad::plot::write_png((std::filesystem::path(out) / path).string(), image);
  const std::string report_path = (std::filesystem::path(out) / "activation_lab.md").string();
  write_atomically(report_path, text.str());
  return report_path;
}

}  // namespace activation_lab
