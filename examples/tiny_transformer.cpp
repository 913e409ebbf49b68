// A causal character-level transformer that learns to make up words: trained on one of Debian's
// word lists (wamerican by default), it reports held-out bits per character against a bigram
// count model, its training throughput, and samples new words at two temperatures. The trained
// model is saved as a safetensors checkpoint whose names are PyTorch's: the encoder's tensors
// load into torch.nn.TransformerEncoder with load_state_dict(strict=True)
// (examples/tiny_transformer_torch.py loads the whole model into torch modules and compares its
// output with eigrad's on the check input saved beside it).
//
// The model: token embedding + learned position embedding (d_model 64) -> 2 pre-norm
// TransformerEncoderLayers (4 heads, feed-forward 256, GELU) under a causal mask -> LayerNorm ->
// Linear to the 27 tokens ('.' ends a word, then a-z). Sequences are 64 characters cut at random
// from the training words joined by '.', as small GPT-style language models are trained.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "eigrad/io.hpp"
#include "options.hpp"

using namespace eigrad;

namespace {

const std::string kVocabulary = ".abcdefghijklmnopqrstuvwxyz";  // '.' = end of word
constexpr int64_t kTokens = 27;

// The list's words that are all lowercase ASCII letters (no names, no possessives), once each.
std::vector<std::string> read_words(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw Error("tiny_transformer: cannot read the word list '" + path +
                "' (Debian's wamerican installs /usr/share/dict/american-english; "
                "scripts/install-deps.sh installs it)");
  std::set<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() < 2) continue;
    if (std::all_of(line.begin(), line.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
      words.insert(line);
  }
  if (words.size() < 1000)
    throw Error("tiny_transformer: the word list '" + path + "' has only " +
                std::to_string(words.size()) + " lowercase words; expected at least 1000");
  return {words.begin(), words.end()};
}

// The words joined by '.', starting with one: ".word.word.".
std::vector<int64_t> token_stream(const std::vector<std::string>& words) {
  std::vector<int64_t> s{0};
  for (const std::string& w : words) {
    for (char c : w) s.push_back(c - 'a' + 1);
    s.push_back(0);
  }
  return s;
}

class TinyTransformer : public nn::Module {
 public:
  TinyTransformer(int64_t context, int64_t d_model, int64_t heads, int64_t feed_forward,
                  int64_t layers, double dropout, Generator& gen)
      : context_(context) {
    embedding_ =
        register_module("embedding", std::make_shared<nn::Embedding>(kTokens, d_model, gen));
    position_ = register_module("position", std::make_shared<nn::Embedding>(context, d_model, gen));
    const nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(d_model, heads)
                                                .dim_feedforward(feed_forward)
                                                .dropout(dropout)
                                                .activation("gelu")
                                                .batch_first(true)
                                                .norm_first(true),
                                            gen);
    encoder_ = register_module(
        "encoder",
        std::make_shared<nn::TransformerEncoder>(
            layer, layers, std::make_shared<nn::LayerNorm>(std::vector<int64_t>{d_model})));
    head_ = register_module("head", std::make_shared<nn::Linear>(d_model, kTokens, gen));
  }

  // tokens [N, T] (T <= context) -> logits [N, T, 27]; position t sees tokens 0..t only.
  Tensor logits(const LongTensor& tokens) {
    const int64_t t = tokens.shape()[1];
    const Tensor x = (*embedding_)(tokens) + (*position_)(LongTensor::arange(0, t));
    return head_->forward(encoder_->forward(x, nn::generate_square_subsequent_mask<float>(t)));
  }
  int64_t context() const { return context_; }
  std::string type_name() const override { return "TinyTransformer"; }

 private:
  int64_t context_;
  std::shared_ptr<nn::Embedding> embedding_, position_;
  std::shared_ptr<nn::TransformerEncoder> encoder_;
  std::shared_ptr<nn::Linear> head_;
};

// Inputs [N, length] from stream[s .. s + length) and their next tokens (the targets,
// stream[s + 1 .. s + length], flattened), one row per start s.
struct Batch {
  LongTensor inputs;
  std::vector<int64_t> targets;
};
Batch cut(const std::vector<int64_t>& stream, const std::vector<int64_t>& starts, int64_t length) {
  Batch b;
  std::vector<int64_t> in;
  for (int64_t s : starts) {
    in.insert(in.end(), stream.begin() + s, stream.begin() + s + length);
    b.targets.insert(b.targets.end(), stream.begin() + s + 1, stream.begin() + s + length + 1);
  }
  b.inputs = LongTensor::from(in, {static_cast<int64_t>(starts.size()), length});
  return b;
}

// Cross-entropy (nats, mean) of the model's next-token predictions.
Tensor loss_of(TinyTransformer& model, const Batch& b) {
  const int64_t rows = static_cast<int64_t>(b.targets.size());
  return nn::cross_entropy(reshape(model.logits(b.inputs), {rows, kTokens}), b.targets);
}

// Held-out bits per character: the stream in consecutive windows of `length` predictions (each
// window's first token is given), in the model and in a bigram count model with add-one
// smoothing fitted on the training stream; both predict exactly the same characters.
struct HeldOut {
  double model_bits = 0, bigram_bits = 0;
  int64_t characters = 0;
};
HeldOut held_out(TinyTransformer& model, const std::vector<int64_t>& train,
                 const std::vector<int64_t>& test, int64_t length) {
  std::vector<double> counts(kTokens * kTokens, 1.0), totals(kTokens, kTokens);
  for (size_t i = 1; i < train.size(); ++i) {
    counts[static_cast<size_t>(train[i - 1] * kTokens + train[i])] += 1;
    totals[static_cast<size_t>(train[i - 1])] += 1;
  }
  HeldOut r;
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + length + 1 <= static_cast<int64_t>(test.size()); s += length)
    starts.push_back(s);
  NoGradGuard no_grad;
  model.eval();
  const int64_t batch = 64;
  for (size_t b = 0; b < starts.size(); b += batch) {
    const std::vector<int64_t> part(
        starts.begin() + static_cast<int64_t>(b),
        starts.begin() + static_cast<int64_t>(std::min(starts.size(), b + batch)));
    const int64_t n = static_cast<int64_t>(part.size());
    r.model_bits += loss_of(model, cut(test, part, length)).item() *
                    static_cast<double>(n * length) / std::log(2.0);
    for (int64_t s : part)
      for (int64_t i = s + 1; i <= s + length; ++i)
        r.bigram_bits -= std::log2(counts[static_cast<size_t>(test[i - 1] * kTokens + test[i])] /
                                   totals[static_cast<size_t>(test[i - 1])]);
    r.characters += n * length;
  }
  model.train();
  return r;
}

// A new word: from '.', draw characters from softmax(logits / temperature) until '.'.
std::string sample(TinyTransformer& model, double temperature, Generator& gen) {
  NoGradGuard no_grad;
  std::vector<int64_t> context{0};
  std::string word;
  while (static_cast<int64_t>(word.size()) < 24) {
    const int64_t t = std::min<int64_t>(static_cast<int64_t>(context.size()), model.context());
    const std::vector<int64_t> last(context.end() - t, context.end());
    const Tensor logits = model.logits(LongTensor::from(last, {1, t}));
    std::vector<float> l = logits.to_vector();  // [1, t, 27]
    std::vector<double> p(kTokens);
    double max = -1e300, sum = 0;
    for (int64_t k = 0; k < kTokens; ++k)
      max = std::max(max, static_cast<double>(l[static_cast<size_t>((t - 1) * kTokens + k)]));
    for (int64_t k = 0; k < kTokens; ++k) {
      p[static_cast<size_t>(k)] =
          std::exp((l[static_cast<size_t>((t - 1) * kTokens + k)] - max) / temperature);
      sum += p[static_cast<size_t>(k)];
    }
    double u = gen.uniform() * sum;
    int64_t next = kTokens - 1;
    for (int64_t k = 0; k < kTokens; ++k) {
      u -= p[static_cast<size_t>(k)];
      if (u <= 0) {
        next = k;
        break;
      }
    }
    if (next == 0) {
      if (!word.empty()) break;
      continue;  // an empty word: draw again
    }
    word.push_back(kVocabulary[static_cast<size_t>(next)]);
    context.push_back(next);
  }
  return word;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a small causal character-level transformer on a word list"};
  std::string words_path = "/usr/share/dict/american-english",
              checkpoint = "tiny_transformer.safetensors";
  int64_t steps = 3000, batch = 32, context = 64, layers = 2, d_model = 64, heads = 4, threads = 0,
          samples = 12;
  double lr = 3e-3, dropout = 0.0;
  uint64_t seed = 1;
  bool quick = false;
  app.add_option("--words", words_path, "word list, one word per line (UTF-8 or ASCII)");
  app.add_option("--steps", steps, "training steps")->check(examples::positive());
  app.add_option("--batch", batch, "sequences per step")->check(examples::positive());
  app.add_option("--context", context, "characters per sequence")->check(examples::positive());
  app.add_option("--layers", layers, "encoder layers")->check(examples::positive());
  app.add_option("--d-model", d_model, "model width")->check(examples::positive());
  app.add_option("--heads", heads, "attention heads (must divide --d-model)")
      ->check(examples::positive());
  app.add_option("--lr", lr, "Adam's learning rate (cosine decay to 0)")
      ->check(examples::positive());
  app.add_option("--dropout", dropout, "dropout in the encoder layers")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--samples", samples, "words sampled at each temperature")
      ->check(examples::non_negative());
  app.add_option("--checkpoint", checkpoint, "where to save the model ('' for nowhere)");
  app.add_option("--seed", seed, "seed of the split, the weights and the batches");
  app.add_option("--threads", threads, "threads for the kernels (0: all cores)");
  app.add_flag("--quick", quick, "a short run for the test suite (60 steps, 4000 words)");
  CLI11_PARSE(app, argc, argv);
  if (const std::string bad = examples::check_output_path("--checkpoint", checkpoint);
      !bad.empty()) {
    std::cerr << bad << "\n";
    return 2;
  }

  try {
    if (threads > 0) set_num_threads(static_cast<int>(threads));
    if (quick) steps = std::min<int64_t>(steps, 60);
    std::vector<std::string> words = read_words(words_path);
    Generator gen(seed);
    // A seeded split: 90 % of the words to train on, 10 % held out.
    for (size_t i = words.size(); i > 1; --i)
      std::swap(words[i - 1], words[static_cast<size_t>(gen.randint(i))]);
    if (quick) words.resize(4000);
    const size_t n_test = words.size() / 10;
    const std::vector<std::string> test_words(words.begin(),
                                              words.begin() + static_cast<int64_t>(n_test));
    const std::vector<std::string> train_words(words.begin() + static_cast<int64_t>(n_test),
                                               words.end());
    const std::vector<int64_t> train = token_stream(train_words), test = token_stream(test_words);
    std::printf(
        "%s: %zu lowercase words, %zu to train on (%zu characters with the ends), %zu held out "
        "(%zu)\n",
        words_path.c_str(), words.size(), train_words.size(), train.size(), test_words.size(),
        test.size());

    TinyTransformer model(context, d_model, heads, 4 * d_model, layers, dropout, gen);
    std::cout << model.str() << "\n";
    int64_t parameters = 0;
    for (const Tensor& p : model.parameters()) parameters += p.numel();
    std::printf("%lld parameters\n", static_cast<long long>(parameters));

    optim::Adam adam(model.parameters(), optim::AdamOptions(lr));
    optim::CosineAnnealingLR schedule(adam, steps);
    io::ProgressOptions progress;
    progress.label = "step";
    progress.every = std::max<int64_t>(1, steps / 10);
    io::ProgressBar bar(steps, progress);
    const auto start = std::chrono::steady_clock::now();
    double loss_avg = 0;
    for (int64_t step = 1; step <= steps; ++step) {
      std::vector<int64_t> starts(static_cast<size_t>(batch));
      for (int64_t& s : starts)
        s = static_cast<int64_t>(gen.randint(train.size() - static_cast<size_t>(context) - 1));
      adam.zero_grad();
      const Tensor loss = loss_of(model, cut(train, starts, context));
      loss.backward();
      adam.step();
      schedule.step();
      loss_avg = step == 1 ? loss.item() : 0.98 * loss_avg + 0.02 * loss.item();
      bar.update(step, {{"loss", loss_avg}, {"bits/char", loss_avg / std::log(2.0)}});
    }
    bar.finish();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double chars_per_second = static_cast<double>(steps * batch * context) / seconds;
    std::printf(
        "trained %lld steps of %lld x %lld characters in %.1f s: %.0f characters per second\n",
        static_cast<long long>(steps), static_cast<long long>(batch),
        static_cast<long long>(context), seconds, chars_per_second);

    const HeldOut h = held_out(model, train, test, context);
    const double model_bpc = h.model_bits / static_cast<double>(h.characters);
    const double bigram_bpc = h.bigram_bits / static_cast<double>(h.characters);
    std::printf(
        "held-out bits per character over %lld characters: transformer %.3f, bigram counts %.3f "
        "(uniform %.3f)\n",
        static_cast<long long>(h.characters), model_bpc, bigram_bpc, std::log2(27.0));

    const std::set<std::string> known(words.begin(), words.end());
    model.eval();
    for (const double temperature : {0.6, 1.0}) {
      std::printf("samples at temperature %.1f (* = not in the word list):", temperature);
      for (int64_t i = 0; i < samples; ++i) {
        const std::string w = sample(model, temperature, gen);
        std::printf(" %s%s", w.c_str(), known.count(w) ? "" : "*");
      }
      std::printf("\n");
    }

    if (!checkpoint.empty()) {
      // The model's state dict, and beside it a check input with eigrad's logits on it.
      io::save_safetensors(
          checkpoint, io::to_named_tensors(model.state_dict()),
          {{"vocabulary", kVocabulary},
           {"architecture", "embedding+position(" + std::to_string(context) +
                                ") -> TransformerEncoder(d_model " + std::to_string(d_model) +
                                ", nhead " + std::to_string(heads) + ", dim_feedforward " +
                                std::to_string(4 * d_model) +
                                ", gelu, batch_first, norm_first, layers " +
                                std::to_string(layers) + ", norm) -> head"},
           {"held_out_bits_per_char", std::to_string(model_bpc)}});
      const LongTensor check = cut(test, {0, context}, context).inputs;
      NoGradGuard no_grad;
      io::save_safetensors(checkpoint + ".check.safetensors",
                           io::NamedTensors{{"tokens", check}, {"logits", model.logits(check)}});
      std::printf("saved %s (and the check input %s.check.safetensors)\n", checkpoint.c_str(),
                  checkpoint.c_str());
    }
    if (!(model_bpc < bigram_bpc)) {
      std::fprintf(stderr,
                   "tiny_transformer: the transformer (%.3f bits/char) did not beat the bigram "
                   "model (%.3f)\n",
                   model_bpc, bigram_bpc);
      return quick ? 0 : 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tiny_transformer: %s\n", e.what());
    return 1;
  }
  return 0;
}
