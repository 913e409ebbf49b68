#pragma once
// Training checkpoints: everything a run needs to continue bit for bit, in one safetensors file
// (see docs/checkpoints.md).
//   io::save_checkpoint("run.safetensors", model, optimizer, &scheduler, &generator);
//   ...                                           // later, in a fresh process:
//   io::load_checkpoint("run.safetensors", model, optimizer, &scheduler, &generator);
//
// The file holds:
//   model.<name>                      the model's state dict (parameters and buffers)
//   optimizer.state.<g>.<i>.<key>     the optimizer's per-parameter state (momentum buffers,
//                                     Adam's moments and step counts)
// and in its metadata (exact decimal text; doubles round-trip):
//   eigrad.checkpoint                 "1", the layout's version
//   optimizer.type, optimizer.param_groups, optimizer.param_groups.<g>.params,
//   optimizer.param_groups.<g>.<option>    (lr, momentum, betas, eps, weight_decay, ...)
//   scheduler.type, scheduler.last_epoch, scheduler.base_lrs.<g>, scheduler.last_lrs.<g>,
//   scheduler.options.<option>             (when a scheduler is given)
//   generator                          Generator::state() (when a generator is given)
//   module_generator.<module name>     the state of each module's own generator (Dropout's)
//   anything the caller adds (`metadata`), under keys that start with none of the above.
//
// Saving is atomic like save_safetensors. Loading reads and checks the whole file and every
// object's part (names, shapes, dtypes, optimizer and schedule types, options, generator
// states) before it changes anything; should a later part still fail, the parts already loaded
// are rolled back: on error the model, optimizer, scheduler and generator are as they were.
#include <string>

#include "eigrad/io/safetensors.hpp"
#include "eigrad/nn/module.hpp"
#include "eigrad/optim/lr_scheduler.hpp"
#include "eigrad/optim/optimizer.hpp"
#include "eigrad/random.hpp"

namespace eigrad::io {

/// `scheduler` and `generator` may be null (not saved). `metadata` is stored as well (an epoch
/// number, a note); its keys must not start with a reserved prefix above.
template <class T>
void save_checkpoint(const std::string& path, const nn::BasicModule<T>& model,
                     const optim::BasicOptimizer<T>& optimizer,
                     const optim::LRScheduler* scheduler = nullptr,
                     const Generator* generator = nullptr, const Metadata& metadata = {});

/// Restores what save_checkpoint saved into existing objects, built as for the saved run (same
/// layers, optimizer type and parameter groups, schedule type). A scheduler or generator must be
/// given exactly when the file has one. Returns the file's metadata (the caller's keys included).
template <class T>
Metadata load_checkpoint(const std::string& path, nn::BasicModule<T>& model,
                         optim::BasicOptimizer<T>& optimizer,
                         optim::LRScheduler* scheduler = nullptr, Generator* generator = nullptr);

extern template void save_checkpoint(const std::string&, const nn::BasicModule<float>&,
                                     const optim::BasicOptimizer<float>&, const optim::LRScheduler*,
                                     const Generator*, const Metadata&);
extern template void save_checkpoint(const std::string&, const nn::BasicModule<double>&,
                                     const optim::BasicOptimizer<double>&,
                                     const optim::LRScheduler*, const Generator*, const Metadata&);
extern template Metadata load_checkpoint(const std::string&, nn::BasicModule<float>&,
                                         optim::BasicOptimizer<float>&, optim::LRScheduler*,
                                         Generator*);
extern template Metadata load_checkpoint(const std::string&, nn::BasicModule<double>&,
                                         optim::BasicOptimizer<double>&, optim::LRScheduler*,
                                         Generator*);

}  // namespace eigrad::io
