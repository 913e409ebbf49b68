#include "eigrad/nn/recurrent.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/init.hpp"
#include "eigrad/ops.hpp"

namespace eigrad::nn {

namespace {

template <class Mode>
int64_t gate_count(Mode mode) {
  switch (mode) {
    case Mode::Gru:
      return 3;
    case Mode::Lstm:
      return 4;
    default:
      return 1;
  }
}

template <class Mode>
const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::Gru:
      return "GRU";
    case Mode::Lstm:
      return "LSTM";
    default:
      return "RNN";
  }
}

// A float as Python's repr prints it: the shortest form that reads back the same ("0.5", "0.2").
std::string python_float(double v) {
  std::string s;
  for (int precision = 1; precision <= 17; ++precision) {
    std::ostringstream os;
    os.precision(precision);
    os << v;
    s = os.str();
    if (std::stod(s) == v) break;
  }
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

template <class Mode>
Mode rnn_mode(const RNNOptions& options) {
  if (options.nonlinearity() == "tanh") return Mode::RnnTanh;
  if (options.nonlinearity() == "relu") return Mode::RnnRelu;
  throw Error("RNN: unknown nonlinearity '" + options.nonlinearity() +
              "': expected \"tanh\" or \"relu\"");
}

// The step's new hidden state of an Elman RNN.
template <class T, class Mode>
BasicTensor<T> elman(Mode mode, const BasicTensor<T>& gx, const BasicTensor<T>& gh) {
  return mode == Mode::RnnRelu ? relu(gx + gh) : tanh(gx + gh);
}

}  // namespace

// ---- RNN, GRU, LSTM ----

template <class T>
BasicRNNBase<T>::BasicRNNBase(Mode mode, const RNNOptions& options, Generator& gen)
    : mode_(mode), options_(options) {
  const std::string name = mode_name(mode);
  const RNNOptions& o = options;
  if (o.input_size() <= 0 || o.hidden_size() <= 0)
    throw Error(name + ": expected input_size > 0 and hidden_size > 0, got input_size = " +
                std::to_string(o.input_size()) +
                ", hidden_size = " + std::to_string(o.hidden_size()));
  if (o.num_layers() <= 0)
    throw Error(name + ": expected num_layers > 0, got " + std::to_string(o.num_layers()));
  if (!(o.dropout() >= 0 && o.dropout() <= 1))
    throw Error(name + ": dropout must be a probability in [0, 1], got " +
                python_float(o.dropout()));
  if ((mode == Mode::Gru || mode == Mode::Lstm) && o.nonlinearity() != "tanh")
    throw Error(name + ": nonlinearity '" + o.nonlinearity() +
                "' applies only to RNN; GRU and LSTM have fixed gate functions");
  const int64_t g = gate_count(mode), h = o.hidden_size(), d = o.bidirectional() ? 2 : 1;
  for (int64_t layer = 0; layer < o.num_layers(); ++layer)
    for (int64_t dir = 0; dir < d; ++dir) {
      const std::string suffix = "_l" + std::to_string(layer) + (dir ? "_reverse" : "");
      const int64_t in = layer == 0 ? o.input_size() : h * d;
      weights_.push_back(
          this->register_parameter("weight_ih" + suffix, Tensor::empty(Shape{g * h, in})));
      weights_.push_back(
          this->register_parameter("weight_hh" + suffix, Tensor::empty(Shape{g * h, h})));
      if (o.bias()) {
        weights_.push_back(
            this->register_parameter("bias_ih" + suffix, Tensor::empty(Shape{g * h})));
        weights_.push_back(
            this->register_parameter("bias_hh" + suffix, Tensor::empty(Shape{g * h})));
      } else {
        weights_.resize(weights_.size() + 2);
      }
    }
  // PyTorch's reset_parameters: every parameter from U(-1/sqrt(H), 1/sqrt(H)), in order.
  const double bound = 1.0 / std::sqrt(static_cast<double>(h));
  for (Tensor& p : this->parameters(false)) init::uniform_(p, -bound, bound, gen);
  gen_ = Generator(gen.randint(std::numeric_limits<uint64_t>::max()));
}

template <class T>
std::string BasicRNNBase<T>::type_name() const {
  return mode_name(mode_);
}

template <class T>
std::string BasicRNNBase<T>::extra_repr() const {
  const RNNOptions& o = options_;
  std::string s = std::to_string(o.input_size()) + ", " + std::to_string(o.hidden_size());
  if (o.num_layers() != 1) s += ", num_layers=" + std::to_string(o.num_layers());
  if (mode_ == Mode::RnnRelu) s += ", nonlinearity=relu";
  if (!o.bias()) s += ", bias=False";
  if (o.batch_first()) s += ", batch_first=True";
  if (o.dropout() != 0) s += ", dropout=" + python_float(o.dropout());
  if (o.bidirectional()) s += ", bidirectional=True";
  return s;
}

template <class T>
std::vector<BasicTensor<T>> BasicRNNBase<T>::layer_parameters(int64_t layer, int direction) const {
  const int64_t d = options_.bidirectional() ? 2 : 1;
  if (layer < 0 || layer >= options_.num_layers() || direction < 0 || direction >= d)
    throw Error(type_name() + ": no layer " + std::to_string(layer) + " direction " +
                std::to_string(direction) + ": expected layer in [0, " +
                std::to_string(options_.num_layers()) + ") and direction in [0, " +
                std::to_string(d) + ")");
  const auto first = weights_.begin() + 4 * (layer * d + direction);
  return {first, first + 4};
}

template <class T>
std::tuple<BasicTensor<T>, BasicTensor<T>, BasicTensor<T>> BasicRNNBase<T>::run(const Tensor& input,
                                                                                const Tensor& h0,
                                                                                const Tensor& c0) {
  const std::string name = type_name();
  const RNNOptions& o = options_;
  const int64_t hs = o.hidden_size(), d = o.bidirectional() ? 2 : 1, layers = o.num_layers();
  const bool lstm = mode_ == Mode::Lstm, batch_first = o.batch_first();
  const char* layout = batch_first ? "[N, L, H_in] (batch_first)" : "[L, N, H_in]";
  if (input.rank() != 2 && input.rank() != 3)
    throw Error(name + ": expected an input of rank 2 (unbatched [L, H_in]) or 3 (" + layout +
                "), got shape " + input.shape().str());
  const bool batched = input.rank() == 3;
  if (input.shape()[input.rank() - 1] != o.input_size())
    throw Error(name + ": input of shape " + input.shape().str() + " has " +
                std::to_string(input.shape()[input.rank() - 1]) +
                " features: expected input_size = " + std::to_string(o.input_size()) +
                " as the last size (input laid out as " +
                (batched ? layout : std::string("[L, H_in]")) + ")");
  Tensor x = !batched      ? reshape(input, {input.shape()[0], 1, o.input_size()})
             : batch_first ? permute(input, {1, 0, 2})
                           : input;
  const int64_t len = x.shape()[0], n = x.shape()[1];
  if (len == 0)
    throw Error(name + ": empty sequence: input of shape " + input.shape().str() +
                " has no time steps (L = 0)");
  const Shape state_shape = batched ? Shape{d * layers, n, hs} : Shape{d * layers, hs};
  const auto state = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return s;
    if (s.shape() != state_shape)
      throw Error(name + ": " + what + " has shape " + s.shape().str() + ": expected " +
                  (batched ? "[D*num_layers, N, H] = " : "[D*num_layers, H] = ") +
                  state_shape.str() + " (D = " + std::to_string(d) + " directions)");
    return batched ? s : reshape(s, {d * layers, 1, hs});
  };
  const Tensor h_init = state(h0, "h0"), c_init = lstm ? state(c0, "c0") : Tensor();

  std::vector<Tensor> h_n, c_n;
  for (int64_t layer = 0; layer < layers; ++layer) {
    if (layer > 0 && o.dropout() > 0 && this->is_training())
      x = nn::dropout(x, o.dropout(), true, gen_);
    std::vector<Tensor> directions;
    for (int64_t dir = 0; dir < d; ++dir) {
      const int64_t index = layer * d + dir;
      const Tensor* w = &weights_[static_cast<size_t>(4 * index)];
      // All time steps' input projections in one product: [L, N, G*H].
      const Tensor projected = linear(x, w[0], w[2]);
      Tensor h = h_init.defined() ? time_step(h_init, index) : Tensor::zeros(Shape{n, hs});
      Tensor c;
      if (lstm) c = c_init.defined() ? time_step(c_init, index) : Tensor::zeros(Shape{n, hs});
      std::vector<Tensor> outputs(static_cast<size_t>(len));
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = dir ? len - 1 - s : s;
        const Tensor gx = time_step(projected, t), gh = linear(h, w[1], w[3]);
        if (lstm)
          std::tie(h, c) = lstm_cell_gates(gx, gh, c);
        else if (mode_ == Mode::Gru)
          h = gru_cell_gates(gx, gh, h);
        else
          h = elman(mode_, gx, gh);
        outputs[static_cast<size_t>(t)] = h;
      }
      directions.push_back(stack(outputs, 0));
      h_n.push_back(h);
      if (lstm) c_n.push_back(c);
    }
    x = d == 1 ? directions[0] : cat(directions, 2);
  }
  Tensor output = x, hn = stack(h_n, 0), cn = lstm ? stack(c_n, 0) : Tensor();
  if (!batched) {
    output = reshape(output, {len, d * hs});
    hn = reshape(hn, {d * layers, hs});
    if (lstm) cn = reshape(cn, {d * layers, hs});
  } else if (batch_first) {
    output = permute(output, {1, 0, 2});
  }
  return {output, hn, cn};
}

template <class T>
template <class M>
std::shared_ptr<BasicModule<double>> BasicRNNBase<T>::copy_as_double() const {
  Generator gen;
  auto copy = std::make_shared<M>(options_, gen);
  static_cast<BasicRNNBase<double>&>(*copy).gen_ = gen_;
  return copy;
}

template <class T>
BasicRNN<T>::BasicRNN(const RNNOptions& options, Generator& gen)
    : BasicRNNBase<T>(rnn_mode<typename BasicRNNBase<T>::Mode>(options), options, gen) {}

template <class T>
BasicTensor<T> BasicRNN<T>::forward(const Tensor& input) {
  return std::get<0>(this->run(input, Tensor(), Tensor()));
}

template <class T>
std::tuple<BasicTensor<T>, BasicTensor<T>> BasicRNN<T>::forward(const Tensor& input,
                                                                const Tensor& h0) {
  auto [output, hn, cn] = this->run(input, h0, Tensor());
  return {output, hn};
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicRNN<T>::make_double() const {
  return this->template copy_as_double<BasicRNN<double>>();
}

template <class T>
BasicGRU<T>::BasicGRU(const RNNOptions& options, Generator& gen)
    : BasicRNNBase<T>(BasicRNNBase<T>::Mode::Gru, options, gen) {}

template <class T>
BasicTensor<T> BasicGRU<T>::forward(const Tensor& input) {
  return std::get<0>(this->run(input, Tensor(), Tensor()));
}

template <class T>
std::tuple<BasicTensor<T>, BasicTensor<T>> BasicGRU<T>::forward(const Tensor& input,
                                                                const Tensor& h0) {
  auto [output, hn, cn] = this->run(input, h0, Tensor());
  return {output, hn};
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicGRU<T>::make_double() const {
  return this->template copy_as_double<BasicGRU<double>>();
}

template <class T>
BasicLSTM<T>::BasicLSTM(const RNNOptions& options, Generator& gen)
    : BasicRNNBase<T>(BasicRNNBase<T>::Mode::Lstm, options, gen) {}

template <class T>
BasicTensor<T> BasicLSTM<T>::forward(const Tensor& input) {
  return std::get<0>(this->run(input, Tensor(), Tensor()));
}

template <class T>
std::tuple<BasicTensor<T>, std::tuple<BasicTensor<T>, BasicTensor<T>>> BasicLSTM<T>::forward(
    const Tensor& input, const std::tuple<Tensor, Tensor>& h0_c0) {
  auto [output, hn, cn] = this->run(input, std::get<0>(h0_c0), std::get<1>(h0_c0));
  return {output, {hn, cn}};
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicLSTM<T>::make_double() const {
  return this->template copy_as_double<BasicLSTM<double>>();
}

// ---- the cells ----

template <class T>
BasicRNNCellBase<T>::BasicRNNCellBase(Mode mode, int64_t input_size, int64_t hidden_size,
                                      Generator& gen, bool bias)
    : mode_(mode), input_size_(input_size), hidden_size_(hidden_size), bias_(bias) {
  const std::string name = type_name();
  if (input_size <= 0 || hidden_size <= 0)
    throw Error(name + ": expected input_size > 0 and hidden_size > 0, got input_size = " +
                std::to_string(input_size) + ", hidden_size = " + std::to_string(hidden_size));
  const int64_t g = gate_count(mode);
  w_ih_ = this->register_parameter("weight_ih", Tensor::empty(Shape{g * hidden_size, input_size}));
  w_hh_ = this->register_parameter("weight_hh", Tensor::empty(Shape{g * hidden_size, hidden_size}));
  if (bias) {
    b_ih_ = this->register_parameter("bias_ih", Tensor::empty(Shape{g * hidden_size}));
    b_hh_ = this->register_parameter("bias_hh", Tensor::empty(Shape{g * hidden_size}));
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (Tensor& p : this->parameters(false)) init::uniform_(p, -bound, bound, gen);
}

template <class T>
std::string BasicRNNCellBase<T>::type_name() const {
  return std::string(mode_name(mode_)) + "Cell";
}

template <class T>
std::string BasicRNNCellBase<T>::extra_repr() const {
  std::string s = std::to_string(input_size_) + ", " + std::to_string(hidden_size_);
  if (!bias_) s += ", bias=False";
  if (mode_ == Mode::RnnRelu) s += ", nonlinearity=relu";
  return s;
}

template <class T>
std::pair<BasicTensor<T>, BasicTensor<T>> BasicRNNCellBase<T>::run(const Tensor& x, const Tensor& h,
                                                                   const Tensor& c) {
  const std::string name = type_name();
  if (x.rank() != 1 && x.rank() != 2)
    throw Error(name + ": expected an input of rank 1 (unbatched [input_size]) or 2 " +
                "([N, input_size]), got shape " + x.shape().str());
  const bool batched = x.rank() == 2;
  if (x.shape()[x.rank() - 1] != input_size_)
    throw Error(name + ": input of shape " + x.shape().str() + " has " +
                std::to_string(x.shape()[x.rank() - 1]) + " features: expected input_size = " +
                std::to_string(input_size_) + " as the last size");
  const int64_t n = batched ? x.shape()[0] : 1;
  const Shape state_shape = batched ? Shape{n, hidden_size_} : Shape{hidden_size_};
  const auto state = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return Tensor::zeros(Shape{n, hidden_size_});
    if (s.shape() != state_shape)
      throw Error(name + ": " + what + " has shape " + s.shape().str() + ": expected " +
                  (batched ? "[N, H] = " : "[H] = ") + state_shape.str());
    return batched ? s : reshape(s, {1, hidden_size_});
  };
  const Tensor x2 = batched ? x : reshape(x, {1, input_size_});
  const Tensor h2 = state(h, "h");
  const Tensor gx = linear(x2, w_ih_, b_ih_), gh = linear(h2, w_hh_, b_hh_);
  Tensor h_new, c_new;
  if (mode_ == Mode::Lstm)
    std::tie(h_new, c_new) = lstm_cell_gates(gx, gh, state(c, "c"));
  else if (mode_ == Mode::Gru)
    h_new = gru_cell_gates(gx, gh, h2);
  else
    h_new = elman(mode_, gx, gh);
  if (!batched) {
    h_new = reshape(h_new, {hidden_size_});
    if (c_new.defined()) c_new = reshape(c_new, {hidden_size_});
  }
  return {h_new, c_new};
}

template <class T>
BasicRNNCell<T>::BasicRNNCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias,
                              std::string nonlinearity)
    : BasicRNNCellBase<T>(
          rnn_mode<typename BasicRNNBase<T>::Mode>(
              RNNOptions(input_size, hidden_size).nonlinearity(std::move(nonlinearity))),
          input_size, hidden_size, gen, bias) {}

template <class T>
BasicTensor<T> BasicRNNCell<T>::forward(const Tensor& x) {
  return this->run(x, Tensor(), Tensor()).first;
}

template <class T>
BasicTensor<T> BasicRNNCell<T>::forward(const Tensor& x, const Tensor& h) {
  return this->run(x, h, Tensor()).first;
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicRNNCell<T>::make_double() const {
  Generator gen;
  return std::make_shared<BasicRNNCell<double>>(
      this->input_size_, this->hidden_size_, gen, this->bias_,
      this->mode_ == BasicRNNBase<T>::Mode::RnnRelu ? "relu" : "tanh");
}

template <class T>
BasicGRUCell<T>::BasicGRUCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias)
    : BasicRNNCellBase<T>(BasicRNNBase<T>::Mode::Gru, input_size, hidden_size, gen, bias) {}

template <class T>
BasicTensor<T> BasicGRUCell<T>::forward(const Tensor& x) {
  return this->run(x, Tensor(), Tensor()).first;
}

template <class T>
BasicTensor<T> BasicGRUCell<T>::forward(const Tensor& x, const Tensor& h) {
  return this->run(x, h, Tensor()).first;
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicGRUCell<T>::make_double() const {
  Generator gen;
  return std::make_shared<BasicGRUCell<double>>(this->input_size_, this->hidden_size_, gen,
                                                this->bias_);
}

template <class T>
BasicLSTMCell<T>::BasicLSTMCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias)
    : BasicRNNCellBase<T>(BasicRNNBase<T>::Mode::Lstm, input_size, hidden_size, gen, bias) {}

template <class T>
BasicTensor<T> BasicLSTMCell<T>::forward(const Tensor& x) {
  return this->run(x, Tensor(), Tensor()).first;
}

template <class T>
std::tuple<BasicTensor<T>, BasicTensor<T>> BasicLSTMCell<T>::forward(
    const Tensor& x, const std::tuple<Tensor, Tensor>& hc) {
  auto [h, c] = this->run(x, std::get<0>(hc), std::get<1>(hc));
  return {h, c};
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicLSTMCell<T>::make_double() const {
  Generator gen;
  return std::make_shared<BasicLSTMCell<double>>(this->input_size_, this->hidden_size_, gen,
                                                 this->bias_);
}

template class BasicRNNBase<float>;
template class BasicRNNBase<double>;
template class BasicRNN<float>;
template class BasicRNN<double>;
template class BasicGRU<float>;
template class BasicGRU<double>;
template class BasicLSTM<float>;
template class BasicLSTM<double>;
template class BasicRNNCellBase<float>;
template class BasicRNNCellBase<double>;
template class BasicRNNCell<float>;
template class BasicRNNCell<double>;
template class BasicGRUCell<float>;
template class BasicGRUCell<double>;
template class BasicLSTMCell<float>;
template class BasicLSTMCell<double>;

}  // namespace eigrad::nn
