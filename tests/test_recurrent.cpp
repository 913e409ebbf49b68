// The recurrent layers (RNN, GRU, LSTM and their cells) and their fused step ops, with PyTorch
// 1.13's semantics: values against scalar loops over the gate formulas written here, gradients
// against float64 finite differences (first and second order), the state dict's names and shapes
// against PyTorch's, errors by message.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::GradcheckFunction;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
namespace nn = eigrad::nn;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

double sig(double v) {
  return 1 / (1 + std::exp(-v));
}

// One layer size description for the reference.
struct Config {
  std::string kind;  // "tanh", "relu", "gru", "lstm"
  int64_t len, batch, input, hidden, layers = 1, dirs = 1;
  bool bias = true;
};

struct Reference {
  V out, hn, cn;  // [L, N, D*H], [D*layers, N, H], [D*layers, N, H]
};

int64_t gates(const std::string& kind) {
  return kind == "gru" ? 3 : kind == "lstm" ? 4 : 1;
}

// One step of one cell on one sample, by the formulas of PyTorch 1.13's documentation. w_ih is
// [G*H, I] row-major, w_hh [G*H, H]; h and c are updated in place.
void reference_step(const std::string& kind, int64_t in, int64_t hs, const V& w_ih, const V& w_hh,
                    const V& b_ih, const V& b_hh, const double* x, V& h, V& c) {
  const int64_t g = gates(kind);
  V ax(static_cast<size_t>(g * hs)), ah(ax.size());
  for (int64_t r = 0; r < g * hs; ++r) {
    double sx = b_ih.empty() ? 0 : b_ih[static_cast<size_t>(r)];
    double sh = b_hh.empty() ? 0 : b_hh[static_cast<size_t>(r)];
    for (int64_t k = 0; k < in; ++k) sx += w_ih[static_cast<size_t>(r * in + k)] * x[k];
    for (int64_t k = 0; k < hs; ++k)
      sh += w_hh[static_cast<size_t>(r * hs + k)] * h[static_cast<size_t>(k)];
    ax[static_cast<size_t>(r)] = sx;
    ah[static_cast<size_t>(r)] = sh;
  }
  V hn(h.size()), cn(c.size());
  for (int64_t j = 0; j < hs; ++j) {
    const auto at = [&](const V& v, int64_t gate) { return v[static_cast<size_t>(gate * hs + j)]; };
    const size_t u = static_cast<size_t>(j);
    if (kind == "tanh") {
      hn[u] = std::tanh(at(ax, 0) + at(ah, 0));
    } else if (kind == "relu") {
      hn[u] = std::max(0.0, at(ax, 0) + at(ah, 0));
    } else if (kind == "gru") {
      const double r = sig(at(ax, 0) + at(ah, 0)), z = sig(at(ax, 1) + at(ah, 1));
      const double n = std::tanh(at(ax, 2) + r * at(ah, 2));
      hn[u] = (1 - z) * n + z * h[u];
    } else {
      const double i = sig(at(ax, 0) + at(ah, 0)), f = sig(at(ax, 1) + at(ah, 1));
      const double gg = std::tanh(at(ax, 2) + at(ah, 2)), o = sig(at(ax, 3) + at(ah, 3));
      cn[u] = f * c[u] + i * gg;
      hn[u] = o * std::tanh(cn[u]);
    }
  }
  h = hn;
  if (kind == "lstm") c = cn;
}

V param(const nn::BasicModule<double>& m, const std::string& name) {
  return m.parameter(name).to_vector();
}

// The whole layer stack by scalar loops. x: [L, N, I] time-major; h0, c0: [D*layers, N, H] or
// empty (zeros).
Reference reference(const nn::BasicModule<double>& m, const Config& k, const V& x, const V& h0,
                    const V& c0) {
  const int64_t hs = k.hidden, n = k.batch, len = k.len, d = k.dirs;
  V layer_in = x;
  int64_t in = k.input;
  Reference ref;
  ref.hn.assign(static_cast<size_t>(d * k.layers * n * hs), 0);
  ref.cn = ref.hn;
  for (int64_t layer = 0; layer < k.layers; ++layer) {
    V out(static_cast<size_t>(len * n * d * hs));
    for (int64_t dir = 0; dir < d; ++dir) {
      const std::string sfx = "_l" + std::to_string(layer) + (dir ? "_reverse" : "");
      const V w_ih = param(m, "weight_ih" + sfx), w_hh = param(m, "weight_hh" + sfx);
      const V b_ih = k.bias ? param(m, "bias_ih" + sfx) : V(),
              b_hh = k.bias ? param(m, "bias_hh" + sfx) : V();
      const int64_t index = layer * d + dir;
      for (int64_t b = 0; b < n; ++b) {
        V h(static_cast<size_t>(hs), 0), c(static_cast<size_t>(hs), 0);
        for (int64_t j = 0; j < hs; ++j) {
          const size_t at = static_cast<size_t>((index * n + b) * hs + j);
          if (!h0.empty()) h[static_cast<size_t>(j)] = h0[at];
          if (!c0.empty()) c[static_cast<size_t>(j)] = c0[at];
        }
        for (int64_t s = 0; s < len; ++s) {
          const int64_t t = dir ? len - 1 - s : s;
          reference_step(k.kind, in, hs, w_ih, w_hh, b_ih, b_hh, layer_in.data() + (t * n + b) * in,
                         h, c);
          for (int64_t j = 0; j < hs; ++j)
            out[static_cast<size_t>((t * n + b) * d * hs + dir * hs + j)] =
                h[static_cast<size_t>(j)];
        }
        for (int64_t j = 0; j < hs; ++j) {
          ref.hn[static_cast<size_t>((index * n + b) * hs + j)] = h[static_cast<size_t>(j)];
          ref.cn[static_cast<size_t>((index * n + b) * hs + j)] = c[static_cast<size_t>(j)];
        }
      }
    }
    layer_in = out;
    in = d * hs;
  }
  ref.out = layer_in;
  return ref;
}

nn::RNNOptions options_of(const Config& k) {
  return nn::RNNOptions(k.input, k.hidden)
      .num_layers(k.layers)
      .bidirectional(k.dirs == 2)
      .bias(k.bias)
      .nonlinearity(k.kind == "relu" ? "relu" : "tanh");
}

// output, h_n, c_n of a float64 module of kind k.
std::tuple<DoubleTensor, DoubleTensor, DoubleTensor> run(nn::BasicModule<double>& m,
                                                         const std::string& kind,
                                                         const DoubleTensor& x,
                                                         const DoubleTensor& h0,
                                                         const DoubleTensor& c0) {
  if (kind == "lstm") {
    auto [out, hc] = dynamic_cast<nn::BasicLSTM<double>&>(m).forward(x, {h0, c0});
    return {out, std::get<0>(hc), std::get<1>(hc)};
  }
  if (kind == "gru") {
    auto [out, hn] = dynamic_cast<nn::BasicGRU<double>&>(m).forward(x, h0);
    return {out, hn, DoubleTensor()};
  }
  auto [out, hn] = dynamic_cast<nn::BasicRNN<double>&>(m).forward(x, h0);
  return {out, hn, DoubleTensor()};
}

std::shared_ptr<nn::BasicModule<double>> make(const Config& k, Generator& gen,
                                              bool batch_first = false) {
  auto o = options_of(k).batch_first(batch_first);
  if (k.kind == "lstm") return std::make_shared<nn::BasicLSTM<double>>(o, gen);
  if (k.kind == "gru") return std::make_shared<nn::BasicGRU<double>>(o, gen);
  return std::make_shared<nn::BasicRNN<double>>(o, gen);
}

void check_against_reference(const Config& k, bool with_state) {
  Generator gen(7);
  auto m = make(k, gen);
  const DoubleTensor x = random_values(Shape{k.len, k.batch, k.input}, 1);
  const Shape state{k.dirs * k.layers, k.batch, k.hidden};
  const DoubleTensor h0 = with_state ? random_values(state, 2, -1, 1) : DoubleTensor();
  const DoubleTensor c0 =
      with_state && k.kind == "lstm" ? random_values(state, 3, -1, 1) : DoubleTensor();
  auto [out, hn, cn] = run(*m, k.kind, x, h0, c0);
  const Reference ref = reference(*m, k, x.to_vector(), h0.defined() ? h0.to_vector() : V(),
                                  c0.defined() ? c0.to_vector() : V());
  CHECK(out.shape() == Shape{k.len, k.batch, k.dirs * k.hidden});
  CHECK(hn.shape() == state);
  check_close(out.to_vector(), ref.out, 1e-12);
  check_close(hn.to_vector(), ref.hn, 1e-12);
  if (k.kind == "lstm") {
    CHECK(cn.shape() == state);
    check_close(cn.to_vector(), ref.cn, 1e-12);
  }
}

// The gradient recorded under create_graph equals the fused one, and gradgradcheck passes.
void check_second_order(const GradcheckFunction& f, const Ts& inputs) {
  const eigrad::GradcheckReport r1 = eigrad::gradcheck(f, inputs);
  INFO(r1.str());
  CHECK(r1.passed);
  CHECK(r1.checked > 0);
  const eigrad::GradcheckReport r2 = eigrad::gradgradcheck(f, inputs);
  INFO(r2.str());
  CHECK(r2.passed);
  CHECK(r2.checked > 0);
}

}  // namespace

// ---- values ----

TEST_CASE("RNN, GRU and LSTM equal scalar loops over PyTorch's gate formulas", "[recurrent]") {
  for (const std::string kind : {"tanh", "relu", "gru", "lstm"}) {
    INFO(kind);
    check_against_reference({kind, 4, 3, 5, 6}, false);
    check_against_reference({kind, 4, 3, 5, 6}, true);
    check_against_reference({kind, 5, 2, 3, 4, 2, 1}, true);
    check_against_reference({kind, 3, 2, 3, 4, 2, 2}, true);         // two layers, bidirectional
    check_against_reference({kind, 3, 2, 3, 4, 1, 2, false}, true);  // no bias
  }
}

TEST_CASE("batch_first swaps the input's and output's first two axes, not the state's",
          "[recurrent]") {
  for (const std::string kind : {"gru", "lstm"}) {
    INFO(kind);
    const Config k{kind, 4, 3, 2, 5, 2, 2};
    Generator gen(11);
    auto m = make(k, gen, /*batch_first=*/true);
    const DoubleTensor x = random_values(Shape{k.batch, k.len, k.input}, 4);  // [N, L, I]
    const DoubleTensor h0 = random_values(Shape{4, k.batch, k.hidden}, 5, -1, 1);
    const DoubleTensor c0 = random_values(Shape{4, k.batch, k.hidden}, 6, -1, 1);
    auto [out, hn, cn] = run(*m, kind, x, h0, kind == "lstm" ? c0 : DoubleTensor());
    // The reference works time-major: transpose x by hand.
    V xt(static_cast<size_t>(x.numel()));
    const V xv = x.to_vector();
    for (int64_t b = 0; b < k.batch; ++b)
      for (int64_t t = 0; t < k.len; ++t)
        for (int64_t i = 0; i < k.input; ++i)
          xt[static_cast<size_t>((t * k.batch + b) * k.input + i)] =
              xv[static_cast<size_t>((b * k.len + t) * k.input + i)];
    const Reference ref =
        reference(*m, k, xt, h0.to_vector(), kind == "lstm" ? c0.to_vector() : V());
    REQUIRE(out.shape() == Shape{k.batch, k.len, 2 * k.hidden});
    const V ov = out.to_vector();
    const int64_t w = 2 * k.hidden;
    for (int64_t b = 0; b < k.batch; ++b)
      for (int64_t t = 0; t < k.len; ++t)
        for (int64_t j = 0; j < w; ++j)
          CHECK(ov[static_cast<size_t>((b * k.len + t) * w + j)] ==
                Approx(ref.out[static_cast<size_t>((t * k.batch + b) * w + j)]).margin(1e-12));
    CHECK(hn.shape() == Shape{4, k.batch, k.hidden});
    check_close(hn.to_vector(), ref.hn, 1e-12);
  }
}

TEST_CASE("Unbatched input [L, H_in] runs as a batch of one with states [D*layers, H]",
          "[recurrent]") {
  for (const std::string kind : {"tanh", "gru", "lstm"}) {
    INFO(kind);
    const Config k{kind, 4, 1, 3, 2, 2, 2};
    Generator gen(3);
    auto m = make(k, gen);
    const DoubleTensor x = random_values(Shape{k.len, k.input}, 8);
    const DoubleTensor h0 = random_values(Shape{4, k.hidden}, 9, -1, 1);
    const DoubleTensor c0 = kind == "lstm" ? random_values(Shape{4, k.hidden}, 10) : DoubleTensor();
    auto [out, hn, cn] = run(*m, kind, x, h0, c0);
    const Reference ref =
        reference(*m, k, x.to_vector(), h0.to_vector(), c0.defined() ? c0.to_vector() : V());
    CHECK(out.shape() == Shape{k.len, 2 * k.hidden});
    CHECK(hn.shape() == Shape{4, k.hidden});
    check_close(out.to_vector(), ref.out, 1e-12);
    check_close(hn.to_vector(), ref.hn, 1e-12);
    if (kind == "lstm") {
      CHECK(cn.shape() == Shape{4, k.hidden});
      check_close(cn.to_vector(), ref.cn, 1e-12);
    }
  }
}

TEST_CASE("h_n is the last output step forward and the first step in reverse", "[recurrent]") {
  Generator gen(5);
  nn::BasicGRU<double> gru(nn::RNNOptions(3, 4).bidirectional(true), gen);
  const DoubleTensor x = random_values(Shape{6, 2, 3}, 12);
  auto [out, hn] = gru.forward(x, DoubleTensor());
  const V o = out.to_vector(), h = hn.to_vector();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t j = 0; j < 4; ++j) {
      CHECK(h[static_cast<size_t>(b * 4 + j)] == o[static_cast<size_t>((5 * 2 + b) * 8 + j)]);
      CHECK(h[static_cast<size_t>((2 + b) * 4 + j)] == o[static_cast<size_t>(b * 8 + 4 + j)]);
    }
  // forward(x) returns the same output.
  check_close(gru.forward(x).to_vector(), o, 0);
}

TEST_CASE("The cells equal one step of the scalar formulas, batched and unbatched", "[recurrent]") {
  Generator gen(21);
  const DoubleTensor x = random_values(Shape{3, 4}, 13), h = random_values(Shape{3, 5}, 14, -1, 1),
                     c = random_values(Shape{3, 5}, 15, -1, 1);
  const auto expect = [&](const nn::BasicModule<double>& m, const std::string& kind, int64_t b,
                          bool zero_state) {
    V hv(5), cv(5);
    for (size_t j = 0; j < 5; ++j) {
      hv[j] = zero_state ? 0 : h.to_vector()[static_cast<size_t>(b) * 5 + j];
      cv[j] = zero_state ? 0 : c.to_vector()[static_cast<size_t>(b) * 5 + j];
    }
    reference_step(kind, 4, 5, param(m, "weight_ih"), param(m, "weight_hh"), param(m, "bias_ih"),
                   param(m, "bias_hh"), x.to_vector().data() + b * 4, hv, cv);
    return std::make_pair(hv, cv);
  };
  nn::BasicRNNCell<double> rnn(4, 5, gen, true, "relu");
  nn::BasicGRUCell<double> gru(4, 5, gen);
  nn::BasicLSTMCell<double> lstm(4, 5, gen);
  const DoubleTensor hr = rnn.forward(x, h), hg = gru.forward(x, h);
  auto [hl, cl] = lstm.forward(x, {h, c});
  for (int64_t b = 0; b < 3; ++b) {
    const auto slice = [b](const DoubleTensor& t) {
      const V v = t.to_vector();
      return V(v.begin() + b * 5, v.begin() + (b + 1) * 5);
    };
    check_close(slice(hr), expect(rnn, "relu", b, false).first, 1e-12);
    check_close(slice(hg), expect(gru, "gru", b, false).first, 1e-12);
    check_close(slice(hl), expect(lstm, "lstm", b, false).first, 1e-12);
    check_close(slice(cl), expect(lstm, "lstm", b, false).second, 1e-12);
    check_close(slice(lstm.forward(x)), expect(lstm, "lstm", b, true).first, 1e-12);
  }
  // Unbatched: x [I], h [H].
  const DoubleTensor x0 = x[0], h0 = h[0];
  const DoubleTensor u = gru.forward(x0, h0);
  CHECK(u.shape() == Shape{5});
  check_close(u.to_vector(), expect(gru, "gru", 0, false).first, 1e-12);
  CHECK(gru.forward(x0).shape() == Shape{5});
}

TEST_CASE("float32 layers agree with their float64 copies", "[recurrent]") {
  Generator gen(2);
  nn::LSTM lstm(nn::RNNOptions(3, 4).num_layers(2).bidirectional(true).batch_first(true), gen);
  nn::GRU gru(nn::RNNOptions(3, 4).num_layers(2), gen);
  const Tensor x = Tensor::uniform(Shape{2, 5, 3}, -1, 1, gen);
  const std::vector<float> xv = x.to_vector();
  const DoubleTensor xd = DoubleTensor::from(V(xv.begin(), xv.end()), x.shape());
  auto lstm64 = eigrad::nn::to_double(lstm);
  auto gru64 = eigrad::nn::to_double(gru);
  const auto close = [](const Tensor& a, const DoubleTensor& b) {
    REQUIRE(a.shape() == b.shape());
    const std::vector<float> av = a.to_vector();
    check_close(V(av.begin(), av.end()), b.to_vector(), 1e-5);
  };
  close(lstm.forward(x), lstm64->forward(xd));
  close(gru.forward(x), gru64->forward(xd));
  CHECK(dynamic_cast<nn::BasicLSTM<double>*>(lstm64.get()) != nullptr);
}

// ---- dropout between layers ----

TEST_CASE("Dropout acts between layers, only in training, from the module's generator",
          "[recurrent]") {
  const Config k{"lstm", 4, 3, 2, 3, 2, 1};
  Generator gen(9);
  nn::BasicLSTM<double> m(options_of(k).dropout(0.5), gen);
  const DoubleTensor x = random_values(Shape{4, 3, 2}, 16);
  const Reference ref = reference(m, k, x.to_vector(), V(), V());
  m.eval();
  check_close(m.forward(x).to_vector(), ref.out, 1e-12);
  m.train();
  const V a = m.forward(x).to_vector();
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) differs = differs || std::abs(a[i] - ref.out[i]) > 1e-9;
  CHECK(differs);
  REQUIRE(m.generator() != nullptr);
  // With p = 1 every input of layer 1 is zero: the output no longer depends on x.
  nn::BasicLSTM<double> all(options_of(k).dropout(1.0), gen);
  const DoubleTensor x2 = random_values(Shape{4, 3, 2}, 17);
  check_close(all.forward(x).to_vector(), all.forward(x2).to_vector(), 0);
  // With one layer there is no dropout at all, even in training.
  const Config one{"gru", 4, 3, 2, 3};
  nn::BasicGRU<double> single(options_of(one).dropout(0.9), gen);
  check_close(single.forward(x).to_vector(), reference(single, one, x.to_vector(), V(), V()).out,
              1e-12);
  // Two modules seeded alike draw the same masks; a restored generator repeats them.
  Generator g1(4), g2(4);
  nn::BasicGRU<double> a1(options_of({"gru", 4, 3, 2, 3, 2}).dropout(0.5), g1),
      a2(options_of({"gru", 4, 3, 2, 3, 2}).dropout(0.5), g2);
  const std::string state = a1.generator()->state();
  const V first = a1.forward(x).to_vector();
  check_close(a2.forward(x).to_vector(), first, 0);
  a1.generator()->set_state(state);
  check_close(a1.forward(x).to_vector(), first, 0);
}

// ---- gradients ----

TEST_CASE("lstm_cell_gates, gru_cell_gates and time_step are differentiable to second order",
          "[recurrent]") {
  const DoubleTensor gx = random_leaf(Shape{2, 12}, 20), gh = random_leaf(Shape{2, 12}, 21),
                     c = random_leaf(Shape{2, 3}, 22);
  check_second_order([](const Ts& t) { return eigrad::lstm_cell_state(t[0], t[1], t[2]); },
                     {gx, gh, c});
  check_second_order(
      [](const Ts& t) {
        auto [h, c2] = eigrad::lstm_cell_gates(t[0], t[1], t[2]);
        return h * c2;
      },
      {gx, gh, c});
  const DoubleTensor gx3 = random_leaf(Shape{2, 9}, 23), gh3 = random_leaf(Shape{2, 9}, 24),
                     h = random_leaf(Shape{2, 3}, 25);
  check_second_order([](const Ts& t) { return eigrad::gru_cell_gates(t[0], t[1], t[2]); },
                     {gx3, gh3, h});
  // One input without grad.
  check_second_order([](const Ts& t) { return eigrad::gru_cell_gates(t[0], t[1], t[2]); },
                     {gx3, gh3.detach(), h});
  const DoubleTensor seq = random_leaf(Shape{4, 2, 3}, 26);
  check_second_order(
      [](const Ts& t) {
        return eigrad::time_step(t[0], 1) * eigrad::time_step(t[0], 3) + eigrad::time_step(t[0], 1);
      },
      {seq});
}

TEST_CASE("time_step takes x[t] and its gradient lands at step t", "[recurrent]") {
  const DoubleTensor seq = random_leaf(Shape{3, 2}, 27);
  const DoubleTensor s = eigrad::time_step(seq, 2);
  CHECK(s.shape() == Shape{2});
  check_close(s.to_vector(), {seq.to_vector()[4], seq.to_vector()[5]}, 0);
  eigrad::sum(s * 3.0).backward();
  check_close(seq.grad().to_vector(), {0, 0, 0, 0, 3, 3}, 0);
}

TEST_CASE("The cells' gradients pass gradcheck and gradgradcheck", "[recurrent]") {
  Generator gen(31);
  nn::BasicGRUCell<double> gru(2, 3, gen);
  nn::BasicLSTMCell<double> lstm(2, 3, gen);
  nn::BasicRNNCell<double> rnn(2, 3, gen);
  const DoubleTensor x = random_values(Shape{2, 2}, 28);
  for (nn::BasicModule<double>* m :
       {static_cast<nn::BasicModule<double>*>(&gru), static_cast<nn::BasicModule<double>*>(&lstm),
        static_cast<nn::BasicModule<double>*>(&rnn)}) {
    INFO(m->type_name());
    const auto r1 = eigrad::gradcheck_module(*m, x);
    INFO(r1.str());
    CHECK(r1.passed);
    const auto r2 = eigrad::gradgradcheck_module(*m, x);
    INFO(r2.str());
    CHECK(r2.passed);
  }
  // The states' gradients.
  check_second_order([&](const Ts& t) { return gru.forward(t[0], t[1]); },
                     {random_leaf(Shape{2, 2}, 29), random_leaf(Shape{2, 3}, 30)});
  check_second_order(
      [&](const Ts& t) {
        auto [h, c] = lstm.forward(t[0], {t[1], t[2]});
        return h + c * c;
      },
      {random_leaf(Shape{2, 2}, 32), random_leaf(Shape{2, 3}, 33), random_leaf(Shape{2, 3}, 34)});
}

TEST_CASE("Two-layer bidirectional GRU and LSTM pass gradcheck and gradgradcheck", "[recurrent]") {
  Generator gen(41);
  nn::BasicGRU<double> gru(nn::RNNOptions(2, 2).num_layers(2).bidirectional(true), gen);
  nn::BasicLSTM<double> lstm(nn::RNNOptions(2, 2).num_layers(2).bidirectional(true), gen);
  const DoubleTensor x = random_values(Shape{3, 2, 2}, 35);
  for (nn::BasicModule<double>* m : {static_cast<nn::BasicModule<double>*>(&gru),
                                     static_cast<nn::BasicModule<double>*>(&lstm)}) {
    INFO(m->type_name());
    const auto r1 = eigrad::gradcheck_module(*m, x);
    INFO(r1.str());
    CHECK(r1.passed);
    const auto r2 = eigrad::gradgradcheck_module(*m, x);
    INFO(r2.str());
    CHECK(r2.passed);
  }
  const Shape state{4, 2, 2};
  check_second_order(
      [&](const Ts& t) {
        auto [out, hn] = gru.forward(t[0], t[1]);
        return eigrad::sum(out) + eigrad::sum(hn * hn);
      },
      {random_leaf(Shape{3, 2, 2}, 36), random_leaf(state, 37, -1, 1)});
  check_second_order(
      [&](const Ts& t) {
        auto [out, hc] = lstm.forward(t[0], {t[1], t[2]});
        return eigrad::sum(out * out) + eigrad::sum(std::get<0>(hc)) +
               eigrad::sum(std::get<1>(hc) * std::get<1>(hc));
      },
      {random_leaf(Shape{3, 2, 2}, 38), random_leaf(state, 39, -1, 1),
       random_leaf(state, 40, -1, 1)});
}

TEST_CASE("A float32 LSTM passes gradcheck_module in float32", "[recurrent]") {
  Generator gen(43);
  nn::LSTM lstm(nn::RNNOptions(2, 3).batch_first(true), gen);
  const Tensor x = Tensor::uniform(Shape{2, 3, 2}, -1, 1, gen);
  const auto r = eigrad::gradcheck_module(lstm, x);
  INFO(r.str());
  CHECK(r.passed);
}

// ---- the state dict, as PyTorch's ----

TEST_CASE("The state dicts of LSTM(10, 20) and a bidirectional two-layer GRU are PyTorch's",
          "[recurrent]") {
  Generator gen(1);
  struct Entry {
    std::string name;
    Shape shape;
  };
  const auto check = [](const nn::Module& m, const std::vector<Entry>& want) {
    const auto state = m.state_dict();
    REQUIRE(state.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      INFO(want[i].name);
      CHECK(state[i].name == want[i].name);
      CHECK(state[i].tensor.shape() == want[i].shape);
      CHECK(std::string(state[i].tensor.dtype()) == "float32");
      CHECK(state[i].saved_as == nn::SavedAs::Native);
      CHECK(state[i].tensor.requires_grad());
    }
  };
  // torch.nn.LSTM(10, 20).state_dict()
  check(nn::LSTM(10, 20, gen), {{"weight_ih_l0", Shape{80, 10}},
                                {"weight_hh_l0", Shape{80, 20}},
                                {"bias_ih_l0", Shape{80}},
                                {"bias_hh_l0", Shape{80}}});
  // torch.nn.GRU(10, 20, num_layers=2, bidirectional=True).state_dict()
  check(nn::GRU(nn::RNNOptions(10, 20).num_layers(2).bidirectional(true), gen),
        {{"weight_ih_l0", Shape{60, 10}},
         {"weight_hh_l0", Shape{60, 20}},
         {"bias_ih_l0", Shape{60}},
         {"bias_hh_l0", Shape{60}},
         {"weight_ih_l0_reverse", Shape{60, 10}},
         {"weight_hh_l0_reverse", Shape{60, 20}},
         {"bias_ih_l0_reverse", Shape{60}},
         {"bias_hh_l0_reverse", Shape{60}},
         {"weight_ih_l1", Shape{60, 40}},
         {"weight_hh_l1", Shape{60, 20}},
         {"bias_ih_l1", Shape{60}},
         {"bias_hh_l1", Shape{60}},
         {"weight_ih_l1_reverse", Shape{60, 40}},
         {"weight_hh_l1_reverse", Shape{60, 20}},
         {"bias_ih_l1_reverse", Shape{60}},
         {"bias_hh_l1_reverse", Shape{60}}});
  // torch.nn.RNN(10, 20, bias=False) and torch.nn.LSTMCell(10, 20)
  check(nn::RNN(nn::RNNOptions(10, 20).bias(false), gen),
        {{"weight_ih_l0", Shape{20, 10}}, {"weight_hh_l0", Shape{20, 20}}});
  check(nn::LSTMCell(10, 20, gen), {{"weight_ih", Shape{80, 10}},
                                    {"weight_hh", Shape{80, 20}},
                                    {"bias_ih", Shape{80}},
                                    {"bias_hh", Shape{80}}});
}

TEST_CASE("Every weight and bias starts in U(-1/sqrt(H), 1/sqrt(H))", "[recurrent]") {
  Generator gen(3);
  nn::GRU gru(nn::RNNOptions(7, 16).num_layers(2), gen);
  double lo = 1, hi = -1;
  for (const Tensor& p : gru.parameters())
    for (float v : p.to_vector()) {
      lo = std::min<double>(lo, v);
      hi = std::max<double>(hi, v);
    }
  CHECK(lo >= -0.25);
  CHECK(hi <= 0.25);
  CHECK(lo < -0.24);  // the whole range is used (thousands of draws)
  CHECK(hi > 0.24);
}

TEST_CASE("type_name and extra_repr read as PyTorch's", "[recurrent]") {
  Generator gen(1);
  nn::LSTM lstm(nn::RNNOptions(64, 128).num_layers(2).batch_first(true), gen);
  CHECK(lstm.type_name() == "LSTM");
  CHECK(lstm.extra_repr() == "64, 128, num_layers=2, batch_first=True");
  nn::RNN rnn(
      nn::RNNOptions(3, 4).nonlinearity("relu").bias(false).dropout(0.2).bidirectional(true), gen);
  CHECK(rnn.type_name() == "RNN");
  CHECK(rnn.extra_repr() == "3, 4, nonlinearity=relu, bias=False, dropout=0.2, bidirectional=True");
  CHECK(nn::GRU(3, 4, gen).extra_repr() == "3, 4");
  CHECK(nn::GRUCell(3, 4, gen).type_name() == "GRUCell");
  CHECK(nn::RNNCell(3, 4, gen, false, "relu").extra_repr() ==
        "3, 4, bias=False, nonlinearity=relu");
  CHECK(nn::LSTMCell(3, 4, gen).str() == "LSTMCell(3, 4)");
}

// ---- errors ----

TEST_CASE("Bad options and inputs throw errors naming the layer, the shapes and what was expected",
          "[recurrent]") {
  using Catch::Contains;
  Generator gen(1);
  REQUIRE_THROWS_WITH(
      nn::LSTM(10, 0, gen),
      Contains("LSTM: expected input_size > 0 and hidden_size > 0") && Contains("hidden_size = 0"));
  REQUIRE_THROWS_WITH(nn::GRU(nn::RNNOptions(10, 20).num_layers(0), gen),
                      Contains("GRU: expected num_layers > 0, got 0"));
  REQUIRE_THROWS_WITH(nn::GRU(nn::RNNOptions(10, 20).dropout(1.5), gen),
                      Contains("GRU: dropout must be a probability in [0, 1], got 1.5"));
  REQUIRE_THROWS_WITH(
      nn::RNN(nn::RNNOptions(10, 20).nonlinearity("sigmoid"), gen),
      Contains("RNN: unknown nonlinearity 'sigmoid': expected \"tanh\" or \"relu\""));
  REQUIRE_THROWS_WITH(nn::RNNCell(10, 20, gen, true, "gelu"),
                      Contains("unknown nonlinearity 'gelu'"));
  REQUIRE_THROWS_WITH(nn::LSTM(nn::RNNOptions(10, 20).nonlinearity("relu"), gen),
                      Contains("LSTM: nonlinearity 'relu' applies only to RNN"));
  REQUIRE_THROWS_WITH(nn::GRUCell(0, 3, gen), Contains("GRUCell: expected input_size > 0"));

  nn::LSTM lstm(nn::RNNOptions(10, 20).num_layers(2), gen);
  REQUIRE_THROWS_WITH(lstm.forward(Tensor::zeros(Shape{5, 3, 2, 10})),
                      Contains("LSTM: expected an input of rank 2 (unbatched [L, H_in]) or 3 "
                               "([L, N, H_in]), got shape [5, 3, 2, 10]"));
  REQUIRE_THROWS_WITH(lstm.forward(Tensor::zeros(Shape{5, 3, 7})),
                      Contains("LSTM: input of shape [5, 3, 7] has 7 features: expected "
                               "input_size = 10"));
  REQUIRE_THROWS_WITH(lstm.forward(Tensor::zeros(Shape{0, 3, 10})),
                      Contains("LSTM: empty sequence: input of shape [0, 3, 10] has no time "
                               "steps (L = 0)"));
  const Tensor x = Tensor::zeros(Shape{5, 3, 10});
  REQUIRE_THROWS_WITH(lstm.forward(x, {Tensor::zeros(Shape{1, 3, 20}), Tensor()}),
                      Contains("LSTM: h0 has shape [1, 3, 20]: expected [D*num_layers, N, H] = "
                               "[2, 3, 20]"));
  REQUIRE_THROWS_WITH(lstm.forward(x, {Tensor(), Tensor::zeros(Shape{2, 3, 21})}),
                      Contains("LSTM: c0 has shape [2, 3, 21]: expected [D*num_layers, N, H] = "
                               "[2, 3, 20]"));
  // Unbatched input with a batched state.
  REQUIRE_THROWS_WITH(
      lstm.forward(Tensor::zeros(Shape{5, 10}), {Tensor::zeros(Shape{2, 1, 20}), Tensor()}),
      Contains("expected [D*num_layers, H] = [2, 20]"));
  // A batch_first mismatch shows as a wrong feature size and names the layout.
  nn::GRU bf(nn::RNNOptions(10, 20).batch_first(true), gen);
  REQUIRE_THROWS_WITH(bf.forward(Tensor::zeros(Shape{4, 10, 3})),
                      Contains("GRU: input of shape [4, 10, 3] has 3 features: expected "
                               "input_size = 10") &&
                          Contains("[N, L, H_in] (batch_first)"));
  nn::GRUCell cell(4, 3, gen);
  REQUIRE_THROWS_WITH(cell.forward(Tensor::zeros(Shape{2, 5})),
                      Contains("GRUCell: input of shape [2, 5] has 5 features: expected "
                               "input_size = 4"));
  REQUIRE_THROWS_WITH(cell.forward(Tensor::zeros(Shape{2, 4}), Tensor::zeros(Shape{3, 3})),
                      Contains("GRUCell: h has shape [3, 3]: expected [N, H] = [2, 3]"));
  REQUIRE_THROWS_WITH(cell.forward(Tensor::zeros(Shape{1, 2, 4})),
                      Contains("GRUCell: expected an input of rank 1"));
  // The ops.
  REQUIRE_THROWS_WITH(
      eigrad::lstm_cell_gates(Tensor::zeros(Shape{2, 8}), Tensor::zeros(Shape{2, 4}),
                              Tensor::zeros(Shape{2, 2})),
      Contains("lstm_cell_gates: gates_h has shape [2, 4] but gates_x has [2, 8]"));
  REQUIRE_THROWS_WITH(eigrad::gru_cell_gates(Tensor::zeros(Shape{2, 8}), Tensor::zeros(Shape{2, 8}),
                                             Tensor::zeros(Shape{2, 2})),
                      Contains("gru_cell_gates: expected gates_x of shape [N, 3 * H]"));
  REQUIRE_THROWS_WITH(eigrad::gru_cell_gates(Tensor::zeros(Shape{2, 6}), Tensor::zeros(Shape{2, 6}),
                                             Tensor::zeros(Shape{2, 3})),
                      Contains("gru_cell_gates: h has shape [2, 3]; expected [N, H] = [2, 2]"));
  REQUIRE_THROWS_WITH(eigrad::time_step(Tensor::zeros(Shape{3, 2}), 3),
                      Contains("time_step: step 3 is out of range for shape [3, 2]"));
}

TEST_CASE("The cells' ops accept an empty batch", "[recurrent]") {
  const DoubleTensor gx = random_leaf(Shape{0, 8}, 50), gh = random_leaf(Shape{0, 8}, 51),
                     c = random_leaf(Shape{0, 2}, 52);
  const DoubleTensor hc = eigrad::lstm_cell_state(gx, gh, c);
  CHECK(hc.shape() == Shape{2, 0, 2});
  eigrad::sum(hc).backward();
  CHECK(gx.grad().shape() == Shape{0, 8});
  CHECK(eigrad::gru_cell_gates(random_leaf(Shape{0, 6}, 53), random_leaf(Shape{0, 6}, 54),
                               random_leaf(Shape{0, 2}, 55))
            .shape() == Shape{0, 2});
}

TEST_CASE("layer_parameters are the registered tensors, and a state dict loads strictly",
          "[recurrent]") {
  Generator gen(8);
  nn::LSTM a(nn::RNNOptions(3, 4).num_layers(2).bidirectional(true), gen),
      b(nn::RNNOptions(3, 4).num_layers(2).bidirectional(true), gen);
  const std::vector<Tensor> p = a.layer_parameters(1, 1);
  REQUIRE(p.size() == 4);
  CHECK(p[0].storage() == a.parameter("weight_ih_l1_reverse").storage());
  CHECK(p[3].storage() == a.parameter("bias_hh_l1_reverse").storage());
  REQUIRE_THROWS_WITH(a.layer_parameters(2, 0), Catch::Contains("LSTM: no layer 2 direction 0"));
  nn::NamedTensors<float> named;
  for (const auto& e : a.state_dict()) named.emplace_back(e.name, e.tensor);
  b.load_state_dict(named, /*strict=*/true);
  const Tensor x = Tensor::uniform(Shape{3, 2, 3}, -1, 1, gen);
  const std::vector<float> ya = a.forward(x).to_vector(), yb = b.forward(x).to_vector();
  CHECK(ya == yb);
}
