// A recurrent layer's dropout generator travels with a checkpoint, as Dropout's does.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/io/checkpoint.hpp"
#include "support.hpp"

using namespace eigrad;
using eigrad::test::TempDir;

TEST_CASE("A checkpoint restores an LSTM's weights and its dropout masks' generator",
          "[recurrent][checkpoint]") {
  TempDir dir;
  Generator gen(3);
  nn::LSTM lstm(nn::RNNOptions(3, 4).num_layers(2).dropout(0.5), gen);
  optim::SGD opt(lstm.parameters(), optim::SGDOptions(0.1));
  const Tensor x = Tensor::uniform(Shape{5, 2, 3}, -1, 1, gen);
  io::save_checkpoint(dir / "lstm", lstm, opt);
  const std::vector<float> first = lstm.forward(x).to_vector();  // draws masks

  Generator other(99);
  nn::LSTM resumed(nn::RNNOptions(3, 4).num_layers(2).dropout(0.5), other);
  optim::SGD opt2(resumed.parameters(), optim::SGDOptions(0.1));
  io::load_checkpoint(dir / "lstm", resumed, opt2);
  CHECK(resumed.forward(x).to_vector() == first);  // the same weights and the same masks
  CHECK(lstm.forward(x).to_vector() != first);     // the next masks differ
}
