// Writes the sequence layers' state dicts, inputs and eigrad's outputs (float64) to one
// safetensors file, for tests/torch/check_sequence_layers.py to load into PyTorch's own modules
// with load_state_dict(strict=True) and compare: PyTorch computes the reference values.
//   export_sequence_layers OUT.safetensors
// Names: "<layer>.state.<parameter>" (the state dict), "<layer>.in.<k>" (inputs), "<layer>.out.<k>"
// (eigrad's outputs). The layers and their arguments are listed in the checker, which must build
// the same ones.
#include <cstdio>
#include <string>
#include <tuple>

#include "eigrad/eigrad.hpp"
#include "eigrad/io/safetensors.hpp"

using namespace eigrad;
using D = DoubleTensor;

namespace {

io::NamedTensors exported;

template <class M>
void state(const std::string& layer, const M& module) {
  for (const auto& e : module.state_dict())
    exported.emplace_back(layer + ".state." + e.name, e.tensor, e.saved_as);
}
void put(const std::string& layer, const char* kind, int k, const io::AnyTensor& t) {
  exported.emplace_back(layer + "." + kind + "." + std::to_string(k), t);
}
D input(std::vector<int64_t> shape, Generator& gen) {
  D x = D::empty(Shape(shape));
  for (double& v : x.mutable_array()) v = gen.uniform(-1, 1);
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: export_sequence_layers OUT.safetensors\n");
    return 2;
  }
  try {
    Generator gen(11);
    {  // lstm: LSTM(10, 20), input [5, 3, 10], with (h0, c0)
      nn::BasicLSTM<double> m(nn::RNNOptions(10, 20), gen);
      const D x = input({5, 3, 10}, gen), h0 = input({1, 3, 20}, gen), c0 = input({1, 3, 20}, gen);
      auto [out, hc] = m.forward(x, {h0, c0});
      state("lstm", m);
      put("lstm", "in", 0, x), put("lstm", "in", 1, h0), put("lstm", "in", 2, c0);
      put("lstm", "out", 0, out), put("lstm", "out", 1, std::get<0>(hc));
      put("lstm", "out", 2, std::get<1>(hc));
    }
    {  // gru: GRU(10, 20, num_layers=2, bidirectional=True, batch_first=True), [3, 5, 10]
      nn::BasicGRU<double> m(
          nn::RNNOptions(10, 20).num_layers(2).bidirectional(true).batch_first(true), gen);
      const D x = input({3, 5, 10}, gen), h0 = input({4, 3, 20}, gen);
      auto [out, h_n] = m.forward(x, h0);
      state("gru", m);
      put("gru", "in", 0, x), put("gru", "in", 1, h0);
      put("gru", "out", 0, out), put("gru", "out", 1, h_n);
    }
    {  // rnn: RNN(4, 6, num_layers=2, nonlinearity='relu'), unbatched [7, 4], no h0
      nn::BasicRNN<double> m(nn::RNNOptions(4, 6).num_layers(2).nonlinearity("relu"), gen);
      const D x = input({7, 4}, gen);
      auto [out, h_n] = m.forward(x, D());
      state("rnn", m);
      put("rnn", "in", 0, x);
      put("rnn", "out", 0, out), put("rnn", "out", 1, h_n);
    }
    {  // cells: LSTMCell(6, 5), GRUCell(6, 5), RNNCell(6, 5), input [4, 6]
      nn::BasicLSTMCell<double> lc(6, 5, gen);
      nn::BasicGRUCell<double> gc(6, 5, gen);
      nn::BasicRNNCell<double> rc(6, 5, gen);
      const D x = input({4, 6}, gen), h = input({4, 5}, gen), c = input({4, 5}, gen);
      auto [h1, c1] = lc.forward(x, {h, c});
      state("lstm_cell", lc), state("gru_cell", gc), state("rnn_cell", rc);
      put("cells", "in", 0, x), put("cells", "in", 1, h), put("cells", "in", 2, c);
      put("cells", "out", 0, h1), put("cells", "out", 1, c1);
      put("cells", "out", 2, gc.forward(x, h)), put("cells", "out", 3, rc.forward(x, h));
    }
    {  // embedding: Embedding(10, 4, padding_idx=0) on [[1, 0, 9], [3, 3, 2]]
      nn::BasicEmbedding<double> m(10, 4, gen, 0);
      const LongTensor idx = LongTensor::from({1, 0, 9, 3, 3, 2}, {2, 3});
      state("embedding", m);
      put("embedding", "in", 0, idx), put("embedding", "out", 0, m(idx));
    }
    {  // layer_norm: LayerNorm([3, 4]) with random affine parameters, input [2, 5, 3, 4]
      nn::BasicLayerNorm<double> m(std::vector<int64_t>{3, 4});
      m.set_parameter("weight", input({3, 4}, gen));
      m.set_parameter("bias", input({3, 4}, gen));
      const D x = input({2, 5, 3, 4}, gen);
      state("layer_norm", m);
      put("layer_norm", "in", 0, x), put("layer_norm", "out", 0, m(x));
    }
    {  // mha: MultiheadAttention(8, 2, batch_first=True), query [2, 3, 8], key/value [2, 5, 8],
       // key_padding_mask (bool) [2, 5], float attn_mask [3, 5]; weights per head
      nn::BasicMultiheadAttention<double> m(nn::MultiheadAttentionOptions(8, 2).batch_first(true),
                                            gen);
      m.set_parameter("in_proj_bias", input({24}, gen));
      m.set_parameter("out_proj.bias", input({8}, gen));
      const D q = input({2, 3, 8}, gen), k = input({2, 5, 8}, gen), v = input({2, 5, 8}, gen);
      const BoolTensor pad = BoolTensor::from({false, false, false, true, true,  //
                                               false, false, false, false, false},
                                              {2, 5});
      const D mask = input({3, 5}, gen);
      auto [out, w] = m.forward(q, k, v, pad, true, mask, false);
      state("mha", m);
      put("mha", "in", 0, q), put("mha", "in", 1, k), put("mha", "in", 2, v);
      put("mha", "in", 3, pad), put("mha", "in", 4, mask);
      put("mha", "out", 0, out), put("mha", "out", 1, w);
    }
    for (const bool norm_first : {false, true}) {
      // encoder: TransformerEncoder(TransformerEncoderLayer(8, 2, 16, dropout=0, gelu,
      // batch_first, norm_first), 2, norm=LayerNorm(8)) in eval mode, src [2, 6, 8], causal
      // mask, key padding [2, 6]
      const std::string name = norm_first ? "encoder_norm_first" : "encoder";
      nn::BasicTransformerEncoderLayer<double> layer(nn::TransformerEncoderLayerOptions(8, 2)
                                                         .dim_feedforward(16)
                                                         .dropout(0.0)
                                                         .activation("gelu")
                                                         .batch_first(true)
                                                         .norm_first(norm_first),
                                                     gen);
      nn::BasicTransformerEncoder<double> m(layer, 2,
                                            std::make_shared<nn::BasicLayerNorm<double>>(8));
      for (const auto& [pname, p] : m.named_parameters()) {  // distinct layers, real norms
        const bool scale =
            pname.find("norm") != std::string::npos && pname.find("weight") != std::string::npos;
        m.set_parameter(pname, input(p.shape().vec(), gen) * 0.5 + (scale ? 1.0 : 0.0));
      }
      m.eval();
      const D src = input({2, 6, 8}, gen);
      const BoolTensor pad = BoolTensor::from({false, false, false, false, true, true,  //
                                               false, false, false, false, false, false},
                                              {2, 6});
      const D out = m.forward(src, causal_mask(6), pad);
      state(name, m);
      put(name, "in", 0, src), put(name, "in", 1, pad), put(name, "out", 0, out);
    }
    io::save_safetensors(argv[1], exported);
    std::printf("wrote %zu tensors to %s\n", exported.size(), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_sequence_layers: %s\n", e.what());
    return 1;
  }
  return 0;
}
