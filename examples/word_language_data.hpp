#pragma once
// The pure parts of examples/word_language.cpp, header only so that tests/test_word_language.cpp
// checks them against hand-computed values: decoding a word list (UTF-8, or Latin-1 when the file
// is not valid UTF-8), normalising its words, character bigrams with begin/end markers, and the
// statistics over seeds (Student t quantiles computed from the distribution, mean intervals,
// paired differences and the verdict rule).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace word_language {

// ---- decoding ----

enum class Encoding { Utf8, Latin1 };

inline const char* encoding_name(Encoding e) {
  return e == Encoding::Utf8 ? "UTF-8" : "Latin-1";
}

// The code points of `bytes` as UTF-8, or nullopt if it is not valid UTF-8 (a stray continuation
// byte, a truncated sequence, an overlong form, a surrogate or a value past U+10FFFF).
inline std::optional<std::u32string> decode_utf8(const std::string& bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  const size_t n = bytes.size();
  for (size_t i = 0; i < n;) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    int extra;
    char32_t cp, min;
    if ((b0 & 0xE0) == 0xC0) {
      extra = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      extra = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      extra = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
      return std::nullopt;  // a continuation byte without a lead, or 0xF8..0xFF
    }
    if (i + static_cast<size_t>(extra) >= n) return std::nullopt;  // truncated
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(bytes[i + static_cast<size_t>(k)]);
      if ((b & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

// Latin-1 (ISO-8859-1): each byte is the code point of the same value.
inline std::u32string decode_latin1(const std::string& bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (char c : bytes) out.push_back(static_cast<unsigned char>(c));
  return out;
}

// A whole file's text: UTF-8 if it is valid UTF-8, else Latin-1 (every byte string is valid
// Latin-1). `used` receives which one.
inline std::u32string decode_text(const std::string& bytes, Encoding* used) {
  if (std::optional<std::u32string> u = decode_utf8(bytes)) {
    *used = Encoding::Utf8;
    return std::move(*u);
  }
  *used = Encoding::Latin1;
  return decode_latin1(bytes);
}

inline std::string encode_utf8(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// ---- normalising ----

// Lower case for ASCII, Latin-1 (U+00C0..U+00DE but the multiplication sign U+00D7) and Latin
// Extended-A (U+0100..U+017F: pairs upper/lower, U+0178 Y with diaeresis to U+00FF); any other
// code point is returned unchanged.
inline char32_t to_lower(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 0x20;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;  // even: upper
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
  if (c == 0x178) return 0xFF;
  return c;
}

// A lower-case letter of the scripts the word lists use: a-z, U+00DF..U+00FF but the division
// sign U+00F7, and Latin Extended-A.
inline bool is_letter(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7) ||
         (c >= 0x100 && c <= 0x17F);
}

// The word in lower case, or nullopt if it has a character that is not a letter (apostrophe,
// digit, hyphen, dot, ...) or fewer than `min_length` characters.
inline std::optional<std::u32string> normalise_word(const std::u32string& word,
                                                    size_t min_length = 2) {
  std::u32string out;
  out.reserve(word.size());
  for (char32_t c : word) {
    const char32_t l = to_lower(c);
    if (!is_letter(l)) return std::nullopt;
    out.push_back(l);
  }
  if (out.size() < min_length) return std::nullopt;
  return out;
}

// The lines of a decoded text (LF or CRLF), empty lines left out.
inline std::vector<std::u32string> split_lines(const std::u32string& text) {
  std::vector<std::u32string> lines;
  std::u32string line;
  for (char32_t c : text) {
    if (c == U'\n') {
      if (!line.empty() && line.back() == U'\r') line.pop_back();
      if (!line.empty()) lines.push_back(line);
      line.clear();
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty() && line.back() == U'\r') line.pop_back();
  if (!line.empty()) lines.push_back(line);
  return lines;
}

// ---- features ----

inline constexpr char32_t kBegin = U'^', kEnd = U'$';  // not letters: no word has them

// The character bigrams of ^word$: "ab" -> "^a", "ab", "b$" (length + 1 of them).
inline std::vector<std::u32string> bigrams(const std::u32string& word) {
  const std::u32string w = kBegin + word + kEnd;
  std::vector<std::u32string> out;
  for (size_t i = 0; i + 1 < w.size(); ++i) out.push_back(w.substr(i, 2));
  return out;
}

// The weight of each entry of a bag whose entries are `ids` (repeats included) when the bag is
// the vector of counts divided by its L2 norm: 1 / sqrt(sum of squared counts).
inline double l2_bag_weight(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  double squares = 0;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    squares += static_cast<double>((j - i) * (j - i));
    i = j;
  }
  return squares > 0 ? 1 / std::sqrt(squares) : 0;
}

// ---- statistics over seeds ----

// P(T <= t) for Student's t with `df` >= 1 degrees of freedom, in closed form for integer df
// (Abramowitz & Stegun 26.7.3 and 26.7.4): with theta = atan(t / sqrt(df)),
//   df odd:  A = 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ... (df - 3 terms)))
//   df even: A = sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ... (up to cos^(df - 2)))
// and P(|T| <= |t|) = A.
inline double student_t_cdf(double t, int df) {
  if (df < 1)
    throw std::invalid_argument("student_t_cdf: df must be >= 1, got " + std::to_string(df));
  const double pi = 3.14159265358979323846;
  const double theta = std::atan(std::fabs(t) / std::sqrt(static_cast<double>(df)));
  const double s = std::sin(theta), c = std::cos(theta), c2 = c * c;
  double a;
  if (df % 2 == 1) {
    double sum = 0, term = 1;
    if (df > 1) {
      sum = 1;
      for (int k = 3; k <= df - 2; k += 2) {
        term *= c2 * static_cast<double>(k - 1) / static_cast<double>(k);
        sum += term;
      }
    }
    a = 2 / pi * (theta + s * c * sum);
  } else {
    double sum = 1, term = 1;
    for (int k = 2; k <= df - 2; k += 2) {
      term *= c2 * static_cast<double>(k - 1) / static_cast<double>(k);
      sum += term;
    }
    a = s * sum;
  }
  return t >= 0 ? 0.5 + a / 2 : 0.5 - a / 2;
}

// The p-quantile of Student's t with df degrees of freedom (0 < p < 1), by bisection on the
// cdf to 1e-12.
inline double t_quantile(double p, int df) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("t_quantile: p must be in (0, 1)");
  if (p == 0.5) return 0;
  if (p < 0.5) return -t_quantile(1 - p, df);
  double lo = 0, hi = 1;
  while (student_t_cdf(hi, df) < p) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * (1 + hi); ++i) {
    const double mid = (lo + hi) / 2;
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// The mean of n values and its 95 % interval mean -+ t_{0.975, n-1} s / sqrt(n), s the sample
// standard deviation; with fewer than two values the bounds are NaN (unknown).
struct Interval {
  double mean = 0, lo = 0, hi = 0;
  size_t n = 0;
  bool known() const { return std::isfinite(lo) && std::isfinite(hi); }
  bool above(double v) const { return known() && lo > v; }  // the whole interval above v
  bool below(double v) const { return known() && hi < v; }
};

inline Interval mean_interval(const std::vector<double>& v, double level = 0.95) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Interval r{nan, nan, nan, v.size()};
  if (v.empty()) return r;
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / static_cast<double>(v.size());
  if (v.size() < 2) return r;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  const double half = t_quantile(0.5 + level / 2, static_cast<int>(v.size()) - 1) * sd /
                      std::sqrt(static_cast<double>(v.size()));
  r.lo = r.mean - half;
  r.hi = r.mean + half;
  return r;
}

// a[i] - b[i] per seed; the two must come from the same seeds, in the same order.
inline std::vector<double> paired_differences(const std::vector<double>& a,
                                              const std::vector<double>& b) {
  if (a.size() != b.size())
    throw std::invalid_argument("paired_differences: " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " values; pairs need equal counts");
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

// "GRU beats the baseline: the whole interval of the paired difference is above 0", or why not.
inline std::string verdict(const std::string& model, const std::string& baseline,
                           const Interval& difference) {
  if (!difference.known())
    return "no verdict for " + model + " against " + baseline +
           ": the interval needs at least two seeds";
  if (difference.above(0))
    return model + " beats " + baseline +
           ": the whole interval of the paired difference is above 0";
  if (difference.below(0))
    return baseline + " beats " + model +
           ": the whole interval of the paired difference is below 0";
  return model + " does not clearly beat " + baseline +
         ": the interval of the paired difference contains 0";
}

}  // namespace word_language
