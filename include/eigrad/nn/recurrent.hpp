#pragma once
// Recurrent layers after PyTorch 1.13's torch.nn.RNN, GRU and LSTM and their cells: the same
// arguments, defaults, gate formulas, initialisation (every weight and bias from
// U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in registration order), parameter names and
// layouts, so that a state dict moves between eigrad and PyTorch as it is.
//
// Per layer and direction: weight_ih_l{k} [G*H, I_k], weight_hh_l{k} [G*H, H], bias_ih_l{k} [G*H],
// bias_hh_l{k} [G*H] (suffix _reverse for the backward direction), G = 1 (RNN), 3 (GRU: r, z, n),
// 4 (LSTM: i, f, g, o); I_0 = input_size, I_k = H * num_directions for k > 0.
//
// The input projections of all time steps of a layer and direction are one product; each step is
// then one product h W_hh^T and one fused node (lstm_cell_gates, gru_cell_gates in
// eigrad/ops/recurrent.hpp).
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "eigrad/nn/module.hpp"
#include "eigrad/random.hpp"

namespace eigrad::nn {

/// The options of RNN, GRU and LSTM, as libtorch's RNNOptions/LSTMOptions:
///   nn::LSTM lstm(nn::RNNOptions(64, 128).num_layers(2).batch_first(true), gen);
class RNNOptions {
 public:
  RNNOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  RNNOptions& num_layers(int64_t v) {
    num_layers_ = v;
    return *this;
  }
  /// "tanh" or "relu" (RNN only).
  RNNOptions& nonlinearity(std::string v) {
    nonlinearity_ = std::move(v);
    return *this;
  }
  RNNOptions& bias(bool v) {
    bias_ = v;
    return *this;
  }
  /// Input and output as [N, L, features] instead of [L, N, features] (h0 and h_n stay
  /// [D*num_layers, N, H], as in PyTorch).
  RNNOptions& batch_first(bool v) {
    batch_first_ = v;
    return *this;
  }
  /// Dropout on the outputs of every layer but the last, in training mode only.
  RNNOptions& dropout(double v) {
    dropout_ = v;
    return *this;
  }
  RNNOptions& bidirectional(bool v) {
    bidirectional_ = v;
    return *this;
  }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  int64_t num_layers() const { return num_layers_; }
  const std::string& nonlinearity() const { return nonlinearity_; }
  bool bias() const { return bias_; }
  bool batch_first() const { return batch_first_; }
  double dropout() const { return dropout_; }
  bool bidirectional() const { return bidirectional_; }

 private:
  int64_t input_size_, hidden_size_;
  int64_t num_layers_ = 1;
  std::string nonlinearity_ = "tanh";
  bool bias_ = true, batch_first_ = false;
  double dropout_ = 0.0;
  bool bidirectional_ = false;
};

/// What RNN, GRU and LSTM share (PyTorch's RNNBase): the parameters, the checks and the loop over
/// layers, directions and time steps.
template <class T>
class BasicRNNBase : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  enum class Mode { RnnTanh, RnnRelu, Gru, Lstm };

  std::string type_name() const override;
  /// As PyTorch's: "64, 128, num_layers=2, batch_first=True".
  std::string extra_repr() const override;
  /// The dropout masks' source (seeded from one draw of the constructor's generator).
  Generator* generator() override { return &gen_; }
  const RNNOptions& options() const { return options_; }
  /// The parameters of layer `layer`, direction `direction` (1 = reverse): weight_ih, weight_hh,
  /// bias_ih, bias_hh (the biases undefined without bias).
  std::vector<Tensor> layer_parameters(int64_t layer, int direction) const;

 protected:
  BasicRNNBase(Mode mode, const RNNOptions& options, Generator& gen);
  /// (output, h_n, c_n); c0 and c_n only for LSTM. Undefined states are zeros.
  std::tuple<Tensor, Tensor, Tensor> run(const Tensor& input, const Tensor& h0, const Tensor& c0);
  /// A copy with the same options and dropout generator state (the weights are overwritten by
  /// to_double()).
  template <class M>
  std::shared_ptr<BasicModule<double>> copy_as_double() const;

 private:
  Mode mode_;
  RNNOptions options_;
  std::vector<Tensor> weights_;  ///< per layer and direction: w_ih, w_hh, b_ih, b_hh
  Generator gen_;
  template <class>
  friend class BasicRNNBase;
};

/// Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).
template <class T>
class BasicRNN : public BasicRNNBase<T> {
 public:
  using Tensor = BasicTensor<T>;
  BasicRNN(const RNNOptions& options, Generator& gen);
  BasicRNN(int64_t input_size, int64_t hidden_size, Generator& gen)
      : BasicRNN(RNNOptions(input_size, hidden_size), gen) {}
  /// The output only: [L, N, D*H] ([N, L, D*H] with batch_first; [L, D*H] for unbatched input).
  Tensor forward(const Tensor& input) override;
  /// (output, h_n); h0 and h_n are [D*num_layers, N, H] ([D*num_layers, H] unbatched), an
  /// undefined h0 stands for zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& h0);
  std::shared_ptr<BasicModule<double>> make_double() const override;
};

/// GRU with PyTorch's gates r, z, n (see gru_cell_gates).
template <class T>
class BasicGRU : public BasicRNNBase<T> {
 public:
  using Tensor = BasicTensor<T>;
  BasicGRU(const RNNOptions& options, Generator& gen);
  BasicGRU(int64_t input_size, int64_t hidden_size, Generator& gen)
      : BasicGRU(RNNOptions(input_size, hidden_size), gen) {}
  Tensor forward(const Tensor& input) override;
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& h0);
  std::shared_ptr<BasicModule<double>> make_double() const override;
};

/// LSTM with PyTorch's gates i, f, g, o (see lstm_cell_gates).
template <class T>
class BasicLSTM : public BasicRNNBase<T> {
 public:
  using Tensor = BasicTensor<T>;
  BasicLSTM(const RNNOptions& options, Generator& gen);
  BasicLSTM(int64_t input_size, int64_t hidden_size, Generator& gen)
      : BasicLSTM(RNNOptions(input_size, hidden_size), gen) {}
  Tensor forward(const Tensor& input) override;
  /// (output, (h_n, c_n)); h0, c0, h_n and c_n are [D*num_layers, N, H]; undefined h0 or c0
  /// stand for zeros.
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(const Tensor& input,
                                                         const std::tuple<Tensor, Tensor>& h0_c0);
  std::shared_ptr<BasicModule<double>> make_double() const override;
};

/// What the cells share (PyTorch's RNNCellBase): weight_ih [G*H, I], weight_hh [G*H, H],
/// bias_ih [G*H], bias_hh [G*H], from U(-1/sqrt(H), 1/sqrt(H)). Input [N, I] or unbatched [I].
template <class T>
class BasicRNNCellBase : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  using Mode = typename BasicRNNBase<T>::Mode;
  std::string type_name() const override;
  /// As PyTorch's: "10, 20", "10, 20, bias=False, nonlinearity=relu".
  std::string extra_repr() const override;
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  bool bias() const { return bias_; }

 protected:
  BasicRNNCellBase(Mode mode, int64_t input_size, int64_t hidden_size, Generator& gen, bool bias);
  /// (h', c'); c only for LSTMCell. Undefined states are zeros.
  std::pair<Tensor, Tensor> run(const Tensor& x, const Tensor& h, const Tensor& c);
  Mode mode_;
  int64_t input_size_, hidden_size_;
  bool bias_;

 private:
  Tensor w_ih_, w_hh_, b_ih_, b_hh_;
};

template <class T>
class BasicRNNCell : public BasicRNNCellBase<T> {
 public:
  using Tensor = BasicTensor<T>;
  /// nonlinearity: "tanh" or "relu".
  BasicRNNCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias = true,
               std::string nonlinearity = "tanh");
  /// h' from h = 0.
  Tensor forward(const Tensor& x) override;
  /// h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); undefined h stands for zeros.
  Tensor forward(const Tensor& x, const Tensor& h);
  std::shared_ptr<BasicModule<double>> make_double() const override;
};

template <class T>
class BasicGRUCell : public BasicRNNCellBase<T> {
 public:
  using Tensor = BasicTensor<T>;
  BasicGRUCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, const Tensor& h);
  std::shared_ptr<BasicModule<double>> make_double() const override;
};

template <class T>
class BasicLSTMCell : public BasicRNNCellBase<T> {
 public:
  using Tensor = BasicTensor<T>;
  BasicLSTMCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias = true);
  /// h' only, from h = c = 0.
  Tensor forward(const Tensor& x) override;
  /// (h', c'); undefined h or c stand for zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& x, const std::tuple<Tensor, Tensor>& hc);
  std::shared_ptr<BasicModule<double>> make_double() const override;
};

using RNN = BasicRNN<float>;
using GRU = BasicGRU<float>;
using LSTM = BasicLSTM<float>;
using RNNCell = BasicRNNCell<float>;
using GRUCell = BasicGRUCell<float>;
using LSTMCell = BasicLSTMCell<float>;

extern template class BasicRNNBase<float>;
extern template class BasicRNNBase<double>;
extern template class BasicRNN<float>;
extern template class BasicRNN<double>;
extern template class BasicGRU<float>;
extern template class BasicGRU<double>;
extern template class BasicLSTM<float>;
extern template class BasicLSTM<double>;
extern template class BasicRNNCellBase<float>;
extern template class BasicRNNCellBase<double>;
extern template class BasicRNNCell<float>;
extern template class BasicRNNCell<double>;
extern template class BasicGRUCell<float>;
extern template class BasicGRUCell<double>;
extern template class BasicLSTMCell<float>;
extern template class BasicLSTMCell<double>;

}  // namespace eigrad::nn
