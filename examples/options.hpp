#pragma once
// Option checks shared by the examples: messages that say what is wrong in words (CLI11's
// PositiveNumber prints its range up to 1.8e308), and an output path checked before any work.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

namespace examples {

// "--seeds: must be > 0, got 0".
inline CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& v) {
        try {
          if (std::stod(v) > 0) return std::string();
        } catch (const std::exception&) {
          return "'" + v + "' is not a number";
        }
        return "must be > 0, got " + v;
      },
      "> 0");
}
inline CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& v) {
        try {
          if (std::stod(v) >= 0) return std::string();
        } catch (const std::exception&) {
          return "'" + v + "' is not a number";
        }
        return "must be >= 0, got " + v;
      },
      ">= 0");
}

// "" when a file can be written at `path` as far as its directory goes, else why not, naming the
// option.
inline std::string check_output_path(const std::string& option, const std::string& path) {
  if (path.empty()) return "";
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir))
    return option + " '" + path + "': the directory '" + dir.string() + "' does not exist";
  return "";
}

}  // namespace examples
