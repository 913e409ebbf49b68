// Exact resume: training 2N steps straight and training N steps, saving a checkpoint, loading it
// into fresh objects and training N more give bit-identical parameters; a checkpoint that does
// not fit leaves every object as it was.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/io/checkpoint.hpp"
#include "support.hpp"

using namespace eigrad;
using Catch::Contains;
using eigrad::test::TempDir;

namespace {

// An MLP with dropout: its masks come from the Dropout's own generator, the data from `gen`.
// `seed` sets the initial weights and the dropout's generator, so that fresh objects built with
// another seed start elsewhere than the run they resume.
std::shared_ptr<nn::Sequential> mlp(uint64_t seed, int64_t hidden = 16) {
  Generator init(seed);
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, hidden, init),
                                          std::make_shared<nn::Activation>("tanh"),
                                          std::make_shared<nn::Dropout>(0.25, seed + 100),
                                          std::make_shared<nn::Linear>(hidden, 3, init));
}

// One step per epoch: a fresh batch drawn from `gen`, the loss's gradient clipped, the
// optimizer's step and the schedule's.
void train(nn::Module& model, optim::Optimizer& opt, optim::LRScheduler& schedule, Generator& gen,
           int steps) {
  for (int i = 0; i < steps; ++i) {
    const Tensor x = Tensor::uniform({8, 4}, -1, 1, gen);
    const Tensor target = Tensor::normal({8, 3}, 0, 1, gen);
    opt.zero_grad();
    nn::mse_loss(model(x), target).backward();
    nn::utils::clip_grad_norm_(model.parameters(), 1.0);
    opt.step();
    schedule.step();
  }
}

std::vector<std::vector<float>> values(const nn::Module& model) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : model.parameters()) out.push_back(p.to_vector());
  return out;
}

// Builds the model, optimizer and schedule of one run from `seed` and `lr`.
struct SgdRun {
  std::shared_ptr<nn::Sequential> model;
  optim::SGD opt;
  optim::StepLR schedule;
  Generator gen;
  SgdRun(uint64_t seed, double lr)
      : model(mlp(seed)),
        opt(model->parameters(), optim::SGDOptions(lr).momentum(0.9).weight_decay(1e-3)),
        schedule(opt, 3, 0.5),
        gen(seed + 7) {}
};

struct AdamWRun {
  std::shared_ptr<nn::Sequential> model;
  optim::AdamW opt;
  optim::CosineAnnealingLR schedule;
  Generator gen;
  AdamWRun(uint64_t seed, double lr)
      : model(mlp(seed)),
        opt(model->parameters(), optim::AdamWOptions(lr).betas(0.85, 0.995)),
        schedule(opt, 8, 1e-4),
        gen(seed + 7) {}
};

template <class Run>
void check_exact_resume(double lr) {
  constexpr int N = 5;
  TempDir dir;
  Run straight(1, lr);
  train(*straight.model, straight.opt, straight.schedule, straight.gen, 2 * N);

  std::vector<std::vector<float>> at_save;
  {
    Run first(1, lr);
    train(*first.model, first.opt, first.schedule, first.gen, N);
    at_save = values(*first.model);
    io::save_checkpoint(dir / "run.safetensors", *first.model, first.opt, &first.schedule,
                        &first.gen, {{"epoch", std::to_string(N)}});
  }
  Run resumed(99, 3 * lr);  // other weights, dropout seed, data seed and rate
  const io::Metadata meta = io::load_checkpoint(dir / "run.safetensors", *resumed.model,
                                                resumed.opt, &resumed.schedule, &resumed.gen);
  CHECK(meta.at("epoch") == std::to_string(N));
  CHECK(values(*resumed.model) == at_save);
  CHECK(resumed.schedule.epoch() == N);
  train(*resumed.model, resumed.opt, resumed.schedule, resumed.gen, N);

  const auto want = values(*straight.model), got = values(*resumed.model);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(got[i] == want[i]);  // bit for bit
  CHECK(want != at_save);  // the last N steps did move the parameters
  CHECK(resumed.opt.lr() == straight.opt.lr());
}

}  // namespace

TEST_CASE("SGD with momentum and StepLR resumes bit for bit from a checkpoint", "[resume]") {
  check_exact_resume<SgdRun>(0.1);
}

TEST_CASE("AdamW with cosine annealing resumes bit for bit from a checkpoint", "[resume]") {
  check_exact_resume<AdamWRun>(0.01);
}

TEST_CASE("without the generators' states the resumed run would differ", "[resume]") {
  // The test above is only meaningful if dropout and data really depend on the generators.
  SgdRun a(1, 0.1), b(1, 0.1);
  train(*a.model, a.opt, a.schedule, a.gen, 2);
  b.model->at<nn::Dropout>(2)->generator()->uniform();  // one draw ahead
  train(*b.model, b.opt, b.schedule, b.gen, 2);
  CHECK(values(*a.model) != values(*b.model));
}

TEST_CASE(
    "a checkpoint that does not fit leaves model, optimizer, schedule and generator as "
    "they were",
    "[resume]") {
  TempDir dir;
  SgdRun saved(1, 0.1);
  train(*saved.model, saved.opt, saved.schedule, saved.gen, 2);
  io::save_checkpoint(dir / "run", *saved.model, saved.opt, &saved.schedule, &saved.gen);

  SgdRun target(5, 0.2);
  train(*target.model, target.opt, target.schedule, target.gen, 1);
  const auto weights = values(*target.model);
  const auto opt_state = target.opt.state_dict();
  const auto schedule_state = target.schedule.state_dict();
  const std::string gen_state = target.gen.state();
  const std::string dropout_state = target.model->at<nn::Dropout>(2)->generator()->state();
  auto unchanged = [&] {
    CHECK(values(*target.model) == weights);
    const auto o = target.opt.state_dict();
    CHECK(o.param_groups[0].options == opt_state.param_groups[0].options);
    REQUIRE(o.state.size() == opt_state.state.size());
    for (size_t i = 0; i < o.state.size(); ++i)
      CHECK(o.state[i].second.to_vector() == opt_state.state[i].second.to_vector());
    CHECK(target.schedule.epoch() == schedule_state.last_epoch);
    CHECK(target.schedule.base_lrs() == schedule_state.base_lrs);
    CHECK(target.gen.state() == gen_state);
    CHECK(target.model->at<nn::Dropout>(2)->generator()->state() == dropout_state);
  };

  SECTION("a wider model") {
    SgdRun wide(1, 0.1);
    wide.model = mlp(1, 32);
    optim::SGD opt(wide.model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    optim::StepLR schedule(opt, 3, 0.5);
    io::save_checkpoint(dir / "wide", *wide.model, opt, &schedule, &wide.gen);
    CHECK_THROWS_WITH(
        io::load_checkpoint(dir / "wide", *target.model, target.opt, &target.schedule, &target.gen),
        Contains("load_checkpoint") && Contains("0.weight") && Contains("[32, 4]"));
    unchanged();
  }
  SECTION("another optimizer: the model, loaded first, is rolled back") {
    AdamWRun other(1, 0.01);
    io::save_checkpoint(dir / "adamw", *other.model, other.opt, &other.schedule, &other.gen);
    optim::StepLR schedule(target.opt, 3, 0.5);
    CHECK_THROWS_WITH(io::load_checkpoint(dir / "adamw", *target.model, target.opt,
                                          &target.schedule, &target.gen),
                      Contains("the key 'type' is 'AdamW'"));
    unchanged();
  }
  SECTION("another schedule: model and optimizer are rolled back") {
    optim::CosineAnnealingLR cosine(target.opt, 10);
    CHECK_THROWS_WITH(
        io::load_checkpoint(dir / "run", *target.model, target.opt, &cosine, &target.gen),
        Contains("CosineAnnealingLR::load_state_dict: the key 'type' is 'StepLR'"));
    unchanged();
  }
  SECTION("a generator given but none saved, and the reverse") {
    io::save_checkpoint(dir / "nogen", *saved.model, saved.opt, &saved.schedule);
    CHECK_THROWS_WITH(io::load_checkpoint(dir / "nogen", *target.model, target.opt,
                                          &target.schedule, &target.gen),
                      Contains("a generator was given but the file has none"));
    CHECK_THROWS_WITH(io::load_checkpoint(dir / "run", *target.model, target.opt, &target.schedule),
                      Contains("no generator was given"));
    unchanged();
  }
  SECTION("a plain state dict is not a training checkpoint") {
    io::save_safetensors(dir / "plain", saved.model->state_dict());
    CHECK_THROWS_WITH(io::load_checkpoint(dir / "plain", *target.model, target.opt,
                                          &target.schedule, &target.gen),
                      Contains("'eigrad.checkpoint' is missing"));
    unchanged();
  }
}

TEST_CASE("save_checkpoint refuses reserved metadata keys and writes nothing", "[resume]") {
  TempDir dir;
  SgdRun run(1, 0.1);
  CHECK_THROWS_WITH(io::save_checkpoint(dir / "x", *run.model, run.opt, &run.schedule, &run.gen,
                                        {{"optimizer.note", "hi"}}),
                    Contains("the metadata key 'optimizer.note' is reserved"));
  CHECK(dir.entries().empty());
}

TEST_CASE("a checkpoint stores the options and states as documented", "[resume]") {
  TempDir dir;
  SgdRun run(1, 0.1);
  train(*run.model, run.opt, run.schedule, run.gen, 4);
  io::save_checkpoint(dir / "c", *run.model, run.opt, &run.schedule, &run.gen);
  const io::Checkpoint c = io::load_safetensors(dir / "c");
  CHECK(c.metadata.at("eigrad.checkpoint") == "1");
  CHECK(c.metadata.at("optimizer.type") == "SGD");
  CHECK(c.metadata.at("optimizer.param_groups") == "1");
  CHECK(c.metadata.at("optimizer.param_groups.0.params") == "4");
  CHECK(c.metadata.at("optimizer.param_groups.0.momentum") == "0.90000000000000002");
  CHECK(std::stod(c.metadata.at("optimizer.param_groups.0.lr")) == 0.1 * 0.5);  // epoch 4
  CHECK(c.metadata.at("scheduler.type") == "StepLR");
  CHECK(c.metadata.at("scheduler.last_epoch") == "4");
  CHECK(c.metadata.at("scheduler.options.step_size") == "3");
  CHECK(c.metadata.at("generator") == run.gen.state());
  CHECK(c.metadata.at("module_generator.2") == run.model->at<nn::Dropout>(2)->generator()->state());
  CHECK(c.contains("model.0.weight"));
  CHECK(c.contains("optimizer.state.0.3.momentum_buffer"));
}
