// The pure parts of examples/word_language.cpp (examples/word_language_data.hpp) against
// hand-computed values: decoding, normalising, bigrams and the statistics over seeds.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../examples/word_language_data.hpp"

using namespace word_language;

TEST_CASE("valid UTF-8 decodes to its code points", "[word_language]") {
  // "aé€𝄞": 61 | C3 A9 | E2 82 AC | F0 9D 84 9E
  const auto d = decode_utf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E");
  REQUIRE(d);
  CHECK(*d == std::u32string{0x61, 0xE9, 0x20AC, 0x1D11E});
  CHECK(decode_utf8("") == std::u32string());
  CHECK(encode_utf8(*d) == "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E");
}

TEST_CASE("invalid UTF-8 is detected", "[word_language]") {
  CHECK_FALSE(decode_utf8("caf\xE9"));           // Latin-1 é: a lead byte without continuation
  CHECK_FALSE(decode_utf8("\xA9"));              // a continuation byte without a lead
  CHECK_FALSE(decode_utf8("\xC3"));              // truncated at the end
  CHECK_FALSE(decode_utf8("\xE2\x82"));          // truncated three-byte form
  CHECK_FALSE(decode_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(decode_utf8("\xED\xA0\x80"));      // the surrogate U+D800
  CHECK_FALSE(decode_utf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(decode_utf8("\xFF"));
}

TEST_CASE("a file that is not UTF-8 is read as Latin-1, byte by byte", "[word_language]") {
  Encoding e = Encoding::Utf8;
  const std::u32string t = decode_text("\xE5sna\n\xF6l\n", &e);  // Swedish "åsna", "öl"
  CHECK(e == Encoding::Latin1);
  CHECK(t == std::u32string{0xE5, 's', 'n', 'a', '\n', 0xF6, 'l', '\n'});
  CHECK(std::string(encoding_name(e)) == "Latin-1");
  const std::u32string u = decode_text("\xC3\xA5sna\n", &e);
  CHECK(e == Encoding::Utf8);
  CHECK(u == std::u32string{0xE5, 's', 'n', 'a', '\n'});
}

TEST_CASE("lower case covers ASCII, Latin-1 and Latin Extended-A letters", "[word_language]") {
  CHECK(to_lower(U'A') == U'a');
  CHECK(to_lower(U'Z') == U'z');
  CHECK(to_lower(U'a') == U'a');
  CHECK(to_lower(0xC0) == 0xE0);    // À -> à
  CHECK(to_lower(0xC9) == 0xE9);    // É -> é
  CHECK(to_lower(0xD6) == 0xF6);    // Ö -> ö
  CHECK(to_lower(0xDE) == 0xFE);    // Þ -> þ
  CHECK(to_lower(0xD7) == 0xD7);    // × is not a letter
  CHECK(to_lower(0xDF) == 0xDF);    // ß has no single upper case here
  CHECK(to_lower(0x152) == 0x153);  // Œ -> œ
  CHECK(to_lower(0x160) == 0x161);  // Š -> š
  CHECK(to_lower(0x141) == 0x142);  // Ł -> ł (odd upper in U+0139..U+0148)
  CHECK(to_lower(0x17D) == 0x17E);  // Ž -> ž
  CHECK(to_lower(0x178) == 0xFF);   // Ÿ -> ÿ
  CHECK(to_lower(0x153) == 0x153);
}

TEST_CASE("words are lower-cased and kept only if all letters and two or more long",
          "[word_language]") {
  CHECK(normalise_word(U"Straße") == std::u32string(U"straße"));
  CHECK(normalise_word(U"\u00C9COLE") == std::u32string(U"\u00E9cole"));  // ÉCOLE -> école
  CHECK(normalise_word(U"ab") == std::u32string(U"ab"));
  CHECK_FALSE(normalise_word(U"a"));  // too short
  CHECK_FALSE(normalise_word(U""));
  CHECK_FALSE(normalise_word(U"don't"));       // apostrophe
  CHECK_FALSE(normalise_word(U"mp3"));         // digit
  CHECK_FALSE(normalise_word(U"well-known"));  // hyphen
  CHECK_FALSE(normalise_word(U"etc."));        // dot
  CHECK_FALSE(normalise_word(U"n\u00BA"));     // º, an ordinal indicator, not a letter
}

TEST_CASE("lines split on LF and CRLF, empty lines left out", "[word_language]") {
  const std::vector<std::u32string> lines = split_lines(U"ab\r\ncd\n\nef");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == U"ab");
  CHECK(lines[1] == U"cd");
  CHECK(lines[2] == U"ef");
}

TEST_CASE("bigrams carry begin and end markers", "[word_language]") {
  CHECK(bigrams(U"ab") == std::vector<std::u32string>{U"^a", U"ab", U"b$"});
  CHECK(bigrams(U"\u00E5l") == std::vector<std::u32string>{U"^\u00E5", U"\u00E5l", U"l$"});
}

TEST_CASE("a bag of bigrams is its counts over their L2 norm", "[word_language]") {
  // "aaa": ^a, aa, aa, a$ -> counts 1, 2, 1, norm sqrt(6); each entry weighs 1/sqrt(6).
  CHECK(l2_bag_weight({0, 1, 1, 2}) == Approx(1 / std::sqrt(6.0)));
  CHECK(l2_bag_weight({1, 0, 1}) == Approx(1 / std::sqrt(5.0)));  // counts 2, 1
  CHECK(l2_bag_weight({4, 4, 4}) == Approx(1.0 / 3));             // one bigram three times
  CHECK(l2_bag_weight({}) == 0);
}

TEST_CASE("the t distribution's cdf matches its closed forms for one and two degrees of freedom",
          "[word_language]") {
  const double pi = 3.14159265358979323846;
  for (double t : {-3.0, -0.5, 0.0, 1.0, 2.5}) {
    // df 1 (Cauchy): 1/2 + atan(t)/pi; df 2: 1/2 + t / (2 sqrt(2 + t^2)).
    CHECK(student_t_cdf(t, 1) == Approx(0.5 + std::atan(t) / pi).margin(1e-14));
    CHECK(student_t_cdf(t, 2) == Approx(0.5 + t / (2 * std::sqrt(2 + t * t))).margin(1e-14));
  }
  // df 3: 1/2 + (theta + sin cos) / pi, theta = atan(t / sqrt 3); t = 3: theta = pi/3,
  // sin cos = sqrt(3)/4, so 1/2 + 1/3 + sqrt(3) / (4 pi); t = sqrt 3: theta = pi/4, sin cos =
  // 1/2, so 3/4 + 1 / (2 pi).
  CHECK(student_t_cdf(3.0, 3) == Approx(0.5 + 1.0 / 3 + std::sqrt(3.0) / (4 * pi)));
  CHECK(student_t_cdf(std::sqrt(3.0), 3) == Approx(0.75 + 1 / (2 * pi)));
  // df 4: 1/2 + sin/2 (1 + cos^2 / 2); t = 2: theta = pi/4, 1/2 + (sqrt 2 / 4)(1 + 1/4).
  CHECK(student_t_cdf(2.0, 4) == Approx(0.5 + std::sqrt(2.0) / 4 * 1.25));
  CHECK_THROWS_WITH(student_t_cdf(1.0, 0), Catch::Contains("df must be >= 1, got 0"));
}

TEST_CASE("t quantiles are computed: closed forms and the printed table", "[word_language]") {
  const double pi = 3.14159265358979323846;
  CHECK(t_quantile(0.975, 1) == Approx(std::tan(pi * 0.475)).epsilon(1e-9));  // 12.7062
  // df 2: t = (2p - 1) / sqrt(2 p (1 - p)) = 0.95 / sqrt(0.04875) = 4.30265
  CHECK(t_quantile(0.975, 2) == Approx(0.95 / std::sqrt(0.04875)).epsilon(1e-9));
  // NIST/SEMATECH e-Handbook table 1.3.6.7.2, to its three decimals.
  CHECK(t_quantile(0.975, 4) == Approx(2.776).margin(5e-4));
  CHECK(t_quantile(0.975, 9) == Approx(2.262).margin(5e-4));
  CHECK(t_quantile(0.975, 30) == Approx(2.042).margin(5e-4));
  CHECK(t_quantile(0.975, 100) == Approx(1.984).margin(5e-4));
  CHECK(t_quantile(0.5, 5) == 0);
  CHECK(t_quantile(0.025, 4) == Approx(-t_quantile(0.975, 4)));
  CHECK_THROWS_WITH(t_quantile(1.0, 3), Catch::Contains("p must be in (0, 1)"));
}

TEST_CASE("the mean's interval is mean -+ t s / sqrt(n) with n - 1 degrees of freedom",
          "[word_language]") {
  // 2, 4: mean 3, s = sqrt 2, half width t(1) sqrt(2) / sqrt(2) = 12.7062.
  const Interval a = mean_interval({2, 4});
  CHECK(a.n == 2);
  CHECK(a.mean == Approx(3));
  CHECK(a.lo == Approx(3 - 12.7062047).epsilon(1e-7));
  CHECK(a.hi == Approx(3 + 12.7062047).epsilon(1e-7));
  // 1, 2, 3: mean 2, s = 1, half width t(2) / sqrt 3 = 4.30265 / 1.73205 = 2.48414.
  const Interval b = mean_interval({1, 2, 3});
  CHECK(b.lo == Approx(2 - 2.484138).epsilon(1e-6));
  CHECK(b.hi == Approx(2 + 2.484138).epsilon(1e-6));
  CHECK(b.above(-0.5));
  CHECK_FALSE(b.above(0));
  // One value: the mean, no interval.
  const Interval c = mean_interval({0.7});
  CHECK(c.mean == 0.7);
  CHECK_FALSE(c.known());
}

TEST_CASE("paired differences are taken per seed and give the verdict", "[word_language]") {
  // GRU 0.90, 0.92, 0.91 against 0.80, 0.83, 0.80: differences 0.10, 0.09, 0.11, mean 0.10,
  // s = 0.01, half width 4.30265 * 0.01 / sqrt 3 = 0.0248414: [0.0751586, 0.1248414].
  const std::vector<double> d = paired_differences({0.90, 0.92, 0.91}, {0.80, 0.83, 0.80});
  REQUIRE(d.size() == 3);
  CHECK(d[0] == Approx(0.10));
  CHECK(d[1] == Approx(0.09));
  CHECK(d[2] == Approx(0.11));
  const Interval i = mean_interval(d);
  CHECK(i.lo == Approx(0.0751586).epsilon(1e-5));
  CHECK(i.hi == Approx(0.1248414).epsilon(1e-5));
  CHECK(verdict("GRU", "the baseline", i) ==
        "GRU beats the baseline: the whole interval of the paired difference is above 0");
  CHECK(verdict("LSTM", "the baseline", mean_interval({0.01, -0.02, 0.005})) ==
        "LSTM does not clearly beat the baseline: the interval of the paired difference "
        "contains 0");
  CHECK(verdict("GRU", "the baseline", mean_interval({-0.1, -0.09, -0.11})) ==
        "the baseline beats GRU: the whole interval of the paired difference is below 0");
  CHECK_THROWS_WITH(paired_differences({1, 2}, {1}),
                    Catch::Contains("2 and 1 values; pairs need equal counts"));
}
