// Section 3 of the activation lab: vanishing gradients through time. Plain recurrent networks
// (h' = f(x W_ih^T + b_ih + h W_hh^T + b_hh) with f = sigmoid or tanh) against the gated cells
// (GRU, LSTM) on the adding task: the gradient of the loss with respect to each hidden state,
// at initialisation and after training, and whether each cell learns the task at each length.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "lab.hpp"

namespace activation_lab {

using namespace eigrad;

namespace {

constexpr int64_t kHidden = 32, kBatch = 32, kTestBatch = 256, kGradBatch = 64;
constexpr double kLr = 1e-2, kClip = 1.0;  // Adam; gradients clipped to norm 1 (exploding ones)
// Rules, fixed before the runs. Success: test MSE below kSuccessMse (the baseline of predicting
// the mean, 1, has MSE 1/6). Vanishing: the gradient shrinks by more than a factor 10 from h_T
// back to h_1. Equivalence margins: one decade for the gradient's shrinkage, a quarter of the
// seeds for the share solved.
constexpr double kSuccessMse = 0.05, kBaselineMse = 1.0 / 6.0;
constexpr double kGradMargin = 1.0, kSolvedMargin = 0.25;
// The y axis of the gradient figures: a gradient of the loss (dimensionless, as the targets).
const char* const kGradLabel = "log10 |dL/dh_t| (dimensionless)";
constexpr int kWide = 640, kTall = 320;  // room for the long y label beside the title
// Training lengths, and the length of the sequences on which the gradients are measured (longer
// than the training lengths: the budget allows no training at 200 steps).
const std::vector<int64_t> kLengths{10, 25, 50, 100}, kQuickLengths{10, 25};
constexpr int64_t kProbeLength = 200, kQuickProbeLength = 50;
constexpr int64_t kSteps = 800, kQuickSteps = 15;

enum class Cell { Sigmoid, Tanh, Gru, Lstm };
struct CellKind {
  Cell cell;
  const char* name;  // the table's first cell and the Activations line
};
constexpr CellKind kCells[] = {
    {Cell::Sigmoid, "sigmoid"}, {Cell::Tanh, "tanh"}, {Cell::Gru, "gru"}, {Cell::Lstm, "lstm"}};

// One batch of the adding task: T steps of (value, marker), values from U(0, 1), one marker in
// the first half and one in the second; the target is the sum of the two marked values.
struct Batch {
  DoubleTensor x;  // [T, N, 2]
  DoubleTensor y;  // [N, 1]
};

Batch adding_batch(int64_t length, int64_t n, Generator& gen) {
  const int64_t half = length / 2;
  std::vector<double> x(static_cast<size_t>(length * n * 2), 0.0);
  std::vector<double> target(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t first = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(half)));
    const int64_t second =
        half + static_cast<int64_t>(gen.randint(static_cast<uint64_t>(length - half)));
    for (int64_t t = 0; t < length; ++t) {
      const double value = gen.uniform();
      const bool marked = t == first || t == second;
      const auto at = static_cast<size_t>((t * n + i) * 2);
      x[at] = value;
      x[at + 1] = marked ? 1.0 : 0.0;
      if (marked) target[static_cast<size_t>(i)] += value;
    }
  }
  return {DoubleTensor::from(std::move(x), {length, n, 2}),
          DoubleTensor::from(std::move(target), {n, 1})};
}

// A recurrent network of one cell and a linear read-out of the last hidden state, in double
// precision so that gradients that shrink by a hundred decades are still measured, not flushed
// to zero. It trains as eigrad's sequence layers (RNN, GRU, LSTM: one input product per
// sequence, one fused node per step), and is probed as cells unrolled by hand, with the same
// weights copied in, so that each h_t is a node of the graph. The sigmoid network takes the tanh
// RNN's parameters (so that, seed by seed, the two differ only in f) and applies sigmoid itself:
// eigrad's RNNs offer tanh and relu.
class Recurrent {
 public:
  Recurrent(Cell cell, uint64_t seed) : cell_(cell) {
    Generator gen(seed * 1000 + 29);
    switch (cell) {
      case Cell::Sigmoid:
      case Cell::Tanh:
        rnn_ = std::make_shared<nn::BasicRNN<double>>(2, kHidden, gen);
        break;
      case Cell::Gru:
        gru_ = std::make_shared<nn::BasicGRU<double>>(2, kHidden, gen);
        break;
      case Cell::Lstm: {
        lstm_ = std::make_shared<nn::BasicLSTM<double>>(2, kHidden, gen);
        // The forget gate's bias starts at 1 (Gers et al. 2000, Jozefowicz et al. 2015), not
        // PyTorch's 0: the usual practice, without which an LSTM forgets half its cell per step
        // at the start of training. bias_hh holds the gates i, f, g, o in that order.
        DoubleTensor bias_hh = lstm_->layer_parameters(0, 0)[3];
        bias_hh.mutable_array().segment(kHidden, kHidden) += 1.0;
        break;
      }
    }
    readout_ = std::make_shared<nn::BasicLinear<double>>(kHidden, 1, gen);
  }

  // w_ih, w_hh, b_ih, b_hh of the recurrent layer.
  std::vector<DoubleTensor> weights() const {
    return rnn_   ? rnn_->layer_parameters(0, 0)
           : gru_ ? gru_->layer_parameters(0, 0)
                  : lstm_->layer_parameters(0, 0);
  }

  std::vector<DoubleTensor> parameters() const {
    std::vector<DoubleTensor> p = weights();
    for (const DoubleTensor& t : readout_->parameters()) p.push_back(t);
    return p;
  }

  // The prediction [N, 1] for x [T, N, 2].
  DoubleTensor forward(const DoubleTensor& x) const {
    const int64_t n = x.shape()[1];
    DoubleTensor h_last;
    switch (cell_) {
      case Cell::Sigmoid:
        return readout_->forward(unrolled(x, nullptr));
      case Cell::Tanh:
        h_last = std::get<1>(rnn_->forward(x, DoubleTensor()));
        break;
      case Cell::Gru:
        h_last = std::get<1>(gru_->forward(x, DoubleTensor()));
        break;
      case Cell::Lstm:
        h_last = std::get<0>(std::get<1>(lstm_->forward(x, {DoubleTensor(), DoubleTensor()})));
        break;
    }
    return readout_->forward(reshape(h_last, {n, kHidden}));
  }

  // The same prediction through cells unrolled by hand, each h_t (t = 1..T) into `hidden`.
  DoubleTensor forward_unrolled(const DoubleTensor& x, std::vector<DoubleTensor>* hidden) const {
    return readout_->forward(unrolled(x, hidden));
  }

 private:
  // A cell holding the layer's current weights (its own draws overwritten).
  template <class C>
  std::shared_ptr<C> cell_with_weights() const {
    Generator unused(0);
    auto cell = std::make_shared<C>(2, kHidden, unused);
    const std::vector<DoubleTensor> from = weights(), to = cell->parameters();  // same layouts
    for (size_t i = 0; i < from.size(); ++i) {
      DoubleTensor dest = to[i];
      dest.mutable_array() = from[i].array();
    }
    return cell;
  }

  // The last hidden state, step by step.
  DoubleTensor unrolled(const DoubleTensor& x, std::vector<DoubleTensor>* hidden) const {
    const int64_t n = x.shape()[1];
    DoubleTensor h = DoubleTensor::zeros({n, kHidden}), c = DoubleTensor::zeros({n, kHidden});
    std::function<void(const DoubleTensor&)> step;
    switch (cell_) {
      case Cell::Sigmoid: {
        const std::vector<DoubleTensor> w = weights();
        step = [&h, w](const DoubleTensor& x_t) {
          h = sigmoid(nn::linear(x_t, w[0], w[2]) + nn::linear(h, w[1], w[3]));
        };
        break;
      }
      case Cell::Tanh: {
        auto cell = cell_with_weights<nn::BasicRNNCell<double>>();
        step = [&h, cell](const DoubleTensor& x_t) { h = cell->forward(x_t, h); };
        break;
      }
      case Cell::Gru: {
        auto cell = cell_with_weights<nn::BasicGRUCell<double>>();
        step = [&h, cell](const DoubleTensor& x_t) { h = cell->forward(x_t, h); };
        break;
      }
      case Cell::Lstm: {
        auto cell = cell_with_weights<nn::BasicLSTMCell<double>>();
        step = [&h, &c, cell](const DoubleTensor& x_t) {
          std::tie(h, c) = cell->forward(x_t, std::make_tuple(h, c));
        };
        break;
      }
    }
    for (int64_t t = 0; t < x.shape()[0]; ++t) {
      step(time_step(x, t));
      if (hidden) hidden->push_back(h);
    }
    return h;
  }

  Cell cell_;
  std::shared_ptr<nn::BasicRNN<double>> rnn_;
  std::shared_ptr<nn::BasicGRU<double>> gru_;
  std::shared_ptr<nn::BasicLSTM<double>> lstm_;
  std::shared_ptr<nn::BasicLinear<double>> readout_;
};

// The Euclidean norm, scaled by the largest magnitude first: the squares of gradients of 1e-170
// would underflow to 0 even in double precision.
double norm_of(const DoubleTensor& t) {
  const double largest = t.array().abs().maxCoeff();
  if (!(largest > 0)) return largest;
  return largest * std::sqrt((t.array() / largest).square().sum());
}

// log10 |dL/dh_t| for t = 1..T on `batch`, L the mean squared error of the prediction.
std::vector<double> log_grad_norms(const Recurrent& net, const Batch& batch) {
  std::vector<DoubleTensor> hidden;
  const DoubleTensor loss = nn::mse_loss(net.forward_unrolled(batch.x, &hidden), batch.y);
  std::vector<double> out;
  for (const DoubleTensor& g : grad({loss}, hidden)) out.push_back(std::log10(norm_of(g)));
  return out;
}

// log10(|dL/dh_1| / |dL/dh_T|): 0 when the gradient keeps its size through time, -k when it
// shrinks by k decades from the last step back to the first.
double decades(const std::vector<double>& log_norms) {
  return log_norms.empty() ? kNaN : log_norms.front() - log_norms.back();
}

struct TimeRun {
  double test_mse = kNaN;                // NaN: the run diverged
  std::vector<double> log_grad_trained;  // at the longest training length only
};

TimeRun train(Cell cell, int64_t length, int64_t steps, uint64_t seed, const Batch& probe,
              std::vector<double>* log_grad_init) {
  Recurrent net(cell, seed);
  if (log_grad_init) *log_grad_init = log_grad_norms(net, probe);
  // The same training batches for every cell at a seed and length: the runs pair by seed.
  Generator data_gen(seed * 1000 + static_cast<uint64_t>(length));
  const std::vector<DoubleTensor> params = net.parameters();
  optim::BasicAdam<double> adam(params, optim::AdamOptions(kLr));
  TimeRun run;
  for (int64_t step = 0; step < steps; ++step) {
    const Batch b = adding_batch(length, kBatch, data_gen);
    adam.zero_grad();
    const DoubleTensor loss = nn::mse_loss(net.forward(b.x), b.y);
    if (!std::isfinite(loss.item())) return run;  // diverged: a failure, counted as such
    loss.backward();
    nn::utils::clip_grad_norm_(params, kClip);
    adam.step();
  }
  Generator test_gen(seed * 1000 + 500 + static_cast<uint64_t>(length));
  const Batch test = adding_batch(length, kTestBatch, test_gen);
  {
    NoGradGuard no_grad;
    run.test_mse = nn::mse_loss(net.forward(test.x), test.y).item();
  }
  if (!std::isfinite(run.test_mse)) run.test_mse = kNaN;
  if (log_grad_init && std::isfinite(run.test_mse))
    run.log_grad_trained = log_grad_norms(net, probe);
  return run;
}

// The mean curve over seeds with its 95 % bootstrap interval at each step.
Band curve_band(const std::string& label, const std::vector<std::vector<double>>& curves) {
  return seed_band(label, iota_curve(curves.empty() ? 0 : curves.front().size()), curves);
}

// log10 of the test MSEs, a diverged run taking the worst value seen (at least the baseline's),
// so that it counts as a failure without poisoning the mean.
std::vector<double> log_mse(const std::vector<TimeRun>& runs, double worst) {
  std::vector<double> v;
  for (const TimeRun& r : runs)
    v.push_back(std::isfinite(r.test_mse) ? std::log10(r.test_mse) : worst);
  return v;
}

}  // namespace

Report through_time(const Lab& lab) {
  const bool quick = lab.settings.quick;
  const std::vector<int64_t>& lengths = quick ? kQuickLengths : kLengths;
  const int64_t steps = quick ? kQuickSteps : kSteps;
  const int64_t longest = lengths.back();
  const int64_t probe_length = quick ? kQuickProbeLength : kProbeLength;
  const size_t last = lengths.size() - 1;
  Report report;
  note("through time: recurrent networks on the adding task");

  // The cells whose plain activation is among --activations; GRU and LSTM always.
  std::vector<CellKind> cells;
  for (const CellKind& k : kCells)
    if ((k.cell != Cell::Sigmoid && k.cell != Cell::Tanh) ||
        index_of(lab.names, k.name) < lab.names.size())
      cells.push_back(k);
  std::vector<std::string> covered;
  for (const CellKind& k : cells) covered.push_back(k.name);
  std::string length_list;
  for (int64_t l : lengths) length_list += (length_list.empty() ? "" : ", ") + std::to_string(l);

  report.section(
      "3. Vanishing gradients through time",
      "sigmoid and tanh recurrent networks suffer vanishing gradients through time; gated cells "
      "(GRU, LSTM) do not, and learn long sequences the plain networks cannot.",
      format("The adding task: sequences of (value, marker) pairs, values from U(0, 1), one marker "
             "in each half; the target is the sum of the two marked values (predicting its mean "
             "gives MSE 1/6 = 0.167). Cells with %lld hidden units and a linear read-out of the "
             "last state, float64, PyTorch's initialisation (U(-1/sqrt(H), 1/sqrt(H))) but for "
             "the LSTM's forget-gate bias, raised to 1 as is usual: the tanh RNN (eigrad's RNN), "
             "the sigmoid RNN (the same parameters per seed with sigmoid in place of tanh), GRU "
             "and LSTM. Training lengths %s (the budget stops them there); per cell, length and "
             "seed, %lld Adam steps (lr %g, batch %lld, fresh batches, the same for every cell, "
             "gradient norm clipped to %g), then the MSE on %lld test sequences. Seeds %zu. "
             "Gradients: "
             "the cells unrolled by hand with the same weights, so that each h_t is a node and "
             "eigrad::grad gives dL/dh_t for every t, on %lld sequences of length T = %lld; "
             "r = log10(|dL/dh_1| / |dL/dh_T|) (0: kept; -k: shrunk k decades), at "
             "initialisation and for the networks trained at length %lld. Rules written "
             "before the runs: (1) a plain cell's gradient vanishes when the 95 %% bootstrap "
             "interval of -r - 1 at initialisation, T = %lld, lies above 0 (shrinks more than "
             "tenfold); (2) a gated cell keeps the gradient better than the tanh RNN when the "
             "interval of r_gated - r_tanh after training, paired by seed, lies above 0 "
             "(equivalence within %g decade); (3) a gated cell learns what the tanh RNN "
             "cannot when the interval of solved_gated - solved_tanh (1 for a seed whose test MSE "
             "is below %g, else 0) at length %lld, paired by seed, lies above 0 (equivalence "
             "within %g). The share of seeds solved at each length is shown with its Wilson "
             "interval. A diverged run (non-finite loss) is a failure, takes the worst log10 MSE "
             "seen (at least the baseline's) and has no trained gradient. Power: %zu paired "
             "seeds detect (80 %%, two-sided 5 %%) a mean difference of %.2f standard deviations "
             "of the per-seed differences; each verdict states it in its own units.",
             static_cast<long long>(kHidden), length_list.c_str(), static_cast<long long>(steps),
             kLr, static_cast<long long>(kBatch), kClip, static_cast<long long>(kTestBatch),
             lab.seeds.size(), static_cast<long long>(kGradBatch),
             static_cast<long long>(probe_length), static_cast<long long>(longest),
             static_cast<long long>(probe_length), kGradMargin, kSuccessMse,
             static_cast<long long>(longest), kSolvedMargin, lab.seeds.size(),
             detectable_difference(1.0, lab.seeds.size())),
      covered);

  Generator probe_gen(4242);
  const Batch probe = adding_batch(probe_length, kGradBatch, probe_gen);
  // runs[cell][length][seed]; gradients of the networks of the longest length only.
  std::vector<std::vector<std::vector<TimeRun>>> runs(cells.size());
  std::vector<std::vector<std::vector<double>>> grad_init(cells.size());
  for (size_t c = 0; c < cells.size(); ++c) {
    const auto t0 = std::chrono::steady_clock::now();
    runs[c].resize(lengths.size());
    for (size_t l = 0; l < lengths.size(); ++l)
      for (uint64_t seed : lab.seeds) {
        std::vector<double> init;
        runs[c][l].push_back(
            train(cells[c].cell, lengths[l], steps, seed, probe, l == last ? &init : nullptr));
        if (l == last) grad_init[c].push_back(init);
      }
    note(format("through time: %s, %.1f s", cells[c].name, seconds_since(t0)));
  }
  double worst = std::log10(kBaselineMse);
  for (const auto& per_cell : runs)
    for (const auto& per_length : per_cell)
      for (const TimeRun& r : per_length)
        if (std::isfinite(r.test_mse)) worst = std::max(worst, std::log10(r.test_mse));

  const auto r_init = [&](size_t c) {
    std::vector<double> v;
    for (const auto& g : grad_init[c]) v.push_back(decades(g));
    return v;
  };
  const auto r_trained = [&](size_t c) {
    std::vector<double> v;
    for (const TimeRun& r : runs[c][last]) v.push_back(decades(r.log_grad_trained));
    return v;
  };
  // Per seed, 1 where the test MSE is below kSuccessMse (a diverged run's NaN is not).
  const auto solved = [&](size_t c, size_t l) {
    std::vector<double> v;
    for (const TimeRun& r : runs[c][l]) v.push_back(r.test_mse < kSuccessMse ? 1.0 : 0.0);
    return v;
  };
  const auto success = [&](size_t c, size_t l) {
    const std::vector<double> v = solved(c, l);
    return wilson(static_cast<size_t>(std::count(v.begin(), v.end(), 1.0)), v.size());
  };

  std::vector<std::string> cols{
      "cell", format("r at init, T = %lld", static_cast<long long>(probe_length)),
      format("r trained (at T = %lld), T = %lld", static_cast<long long>(longest),
             static_cast<long long>(probe_length))};
  for (int64_t l : lengths) cols.push_back(format("solved, T = %lld", static_cast<long long>(l)));
  cols.push_back(format("log10 test MSE, T = %lld", static_cast<long long>(longest)));
  cols.push_back("diverged runs");
  cols.push_back("figure");
  report.table_header(cols);
  std::vector<Band> init_bands, trained_bands, solved_bands, mse_bands;
  std::vector<double> length_x(lengths.begin(), lengths.end());
  for (size_t c = 0; c < cells.size(); ++c) {
    const std::string name = cells[c].name;
    std::vector<std::string> cells_row{name, show(bootstrap_mean(r_init(c)), 1),
                                       show(bootstrap_mean(finite(r_trained(c))), 1)};
    Band solved{name, length_x, {}, {}, {}}, mse{name, length_x, {}, {}, {}};
    size_t diverged = 0;
    for (size_t l = 0; l < lengths.size(); ++l) {
      const Proportion p = success(c, l);
      cells_row.push_back(show(p, 0));
      solved.mean.push_back(100 * p.p);
      solved.lo.push_back(100 * p.lo);
      solved.hi.push_back(100 * p.hi);
      const Estimate e = bootstrap_mean(log_mse(runs[c][l], worst));
      mse.mean.push_back(e.mean);
      mse.lo.push_back(e.lo);
      mse.hi.push_back(e.hi);
      for (const TimeRun& r : runs[c][l]) diverged += !std::isfinite(r.test_mse);
    }
    cells_row.push_back(show(bootstrap_mean(log_mse(runs[c][last], worst)), 2));
    cells_row.push_back(format("%zu of %zu", diverged, lengths.size() * lab.seeds.size()));
    std::vector<std::vector<double>> trained;
    for (const TimeRun& r : runs[c][last])
      if (!r.log_grad_trained.empty()) trained.push_back(r.log_grad_trained);
    const Band init_band = curve_band(name + ", init", grad_init[c]);
    const Band trained_band = curve_band(name + ", trained", trained);
    plot::Image image =
        band_plot({init_band, trained_band},
                  format("%s, T = %lld", name.c_str(), static_cast<long long>(probe_length)),
                  "time step t (steps)", kGradLabel, {}, {}, kWide, kTall);
    cells_row.push_back(link(report.figures.add("time_" + name + ".png", image)));
    report.row(cells_row);
    init_bands.push_back(curve_band(name, grad_init[c]));
    trained_bands.push_back(curve_band(name, trained));
    solved_bands.push_back(solved);
    mse_bands.push_back(mse);
  }
  const std::string T = format("T = %lld", static_cast<long long>(probe_length));
  report.text
      << "\n![gradient norm through time at initialisation]("
      << report.figures.add("time_grad_init.png",
                            band_plot(init_bands, "at initialisation, " + T, "time step t (steps)",
                                      kGradLabel, {}, {}, kWide, kTall))
      << ")\n![gradient norm through time after training]("
      << report.figures.add("time_grad_trained.png",
                            band_plot(trained_bands, "after training, " + T, "time step t (steps)",
                                      kGradLabel, {}, {}, kWide, kTall))
      << ")\n![share of seeds solving the adding task]("
      << report.figures.add("time_solved.png",
                            band_plot(solved_bands, format("test MSE < %g", kSuccessMse),
                                      "sequence length T (steps)", "seeds solved (%)", 0.0, 105.0))
      << ")\n![test MSE against length]("
      << report.figures.add("time_mse.png",
                            band_plot(mse_bands, "baseline 1/6: -0.78", "sequence length T (steps)",
                                      "log10 test MSE (dimensionless)"))
      << ")\n";

  const auto index = [&](const char* name) {
    for (size_t c = 0; c < cells.size(); ++c)
      if (std::string(cells[c].name) == name) return c;
    return cells.size();
  };
  for (const char* plain : {"sigmoid", "tanh"}) {
    const std::string claim = std::string(plain) + " RNN gradients vanish through time";
    const size_t c = index(plain);
    if (c == cells.size()) {
      report.not_tested(claim, plain);
      continue;
    }
    std::vector<double> excess;
    for (double r : r_init(c)) excess.push_back(-r - 1);
    const Estimate e = bootstrap_mean(excess);
    report.finding(
        claim, finding_greater(e, 0), e,
        format("rule: -r - 1 > 0 at initialisation, T = %lld (the gradient shrinks more than "
               "tenfold from h_T back to h_1); r = %s decades over %zu seeds; gated cells at "
               "initialisation: gru r = %s, lstm r = %s (the LSTM's forget bias raised by 1).",
               static_cast<long long>(probe_length), show(bootstrap_mean(r_init(c)), 1).c_str(),
               excess.size(), show(bootstrap_mean(r_init(index("gru"))), 1).c_str(),
               show(bootstrap_mean(r_init(index("lstm"))), 1).c_str()));
  }
  const size_t tanh = index("tanh");
  for (const char* gated : {"gru", "lstm"}) {
    const size_t g = index(gated);
    const std::string keeps =
        std::string(gated) + " keeps gradients through time better than the tanh RNN";
    const std::string learns = std::string(gated) + " learns long sequences the tanh RNN cannot";
    if (tanh == cells.size()) {
      report.not_tested(keeps, "tanh");
      report.not_tested(learns, "tanh");
      continue;
    }
    // Diverged runs have no trained gradient: the pairs are the seeds where both have one.
    std::vector<double> gain;
    const std::vector<double> rg = r_trained(g), rt = r_trained(tanh);
    for (size_t i = 0; i < rg.size() && i < rt.size(); ++i)
      if (std::isfinite(rg[i]) && std::isfinite(rt[i])) gain.push_back(rg[i] - rt[i]);
    const Estimate e = bootstrap_mean(gain);
    report.finding(
        keeps, finding_greater(e, kGradMargin), e,
        format("rule: r_%s - r_tanh > 0 at T = %lld after %lld steps of training at T = %lld, "
               "paired by seed (equivalence within %g decade); difference %s decades over %zu "
               "seeds (smallest "
               "detectable at 80 %% power: %.1f decades); at initialisation the difference is %s.",
               gated, static_cast<long long>(probe_length), static_cast<long long>(steps),
               static_cast<long long>(longest), kGradMargin, show(e, 1).c_str(), gain.size(),
               detectable_difference(sample_sd(gain), gain.size()),
               show(bootstrap_mean(paired_difference(r_init(g), r_init(tanh))), 1).c_str()));
    const std::vector<double> d = paired_difference(solved(g, last), solved(tanh, last));
    const Estimate m = bootstrap_mean(d);
    // Seeds that all agree give no spread to compute a power from: the report says so.
    const double sd = sample_sd(d);
    const std::string power =
        sd > 0 ? format("%.2f", detectable_difference(sd, d.size())) : "n/a, no spread";
    std::string holds;
    for (size_t l = 0; l < lengths.size(); ++l) {
      const Estimate at = bootstrap_mean(paired_difference(solved(g, l), solved(tanh, l)));
      if (at.known() && at.lo > 0)
        holds += (holds.empty() ? "" : ", ") + std::to_string(lengths[l]);
    }
    const Estimate mse = bootstrap_mean(
        paired_difference(log_mse(runs[tanh][last], worst), log_mse(runs[g][last], worst)));
    report.finding(
        learns, finding_greater(m, kSolvedMargin), m,
        format("rule: solved_%s - solved_tanh > 0 at T = %lld after %lld steps, paired by seed "
               "(equivalence within %g); difference %s over %zu seeds (smallest detectable at "
               "80 %% power: %s); solved at T = %lld: %s %s, tanh %s; log10 MSE_tanh - log10 "
               "MSE_%s = %s decades; the interval of the solved difference lies above 0 at T = "
               "%s.",
               gated, static_cast<long long>(longest), static_cast<long long>(steps), kSolvedMargin,
               show(m, 2).c_str(), d.size(), power.c_str(), static_cast<long long>(longest), gated,
               show(success(g, last), 0).c_str(), show(success(tanh, last), 0).c_str(), gated,
               show(mse, 2).c_str(), holds.empty() ? "none" : holds.c_str()));
  }
  return report;
}

}  // namespace activation_lab
