#pragma once
// The private side of save_safetensors, for the tests that simulate failing disks.
#include <string>

#include "atomic_file.hpp"
#include "eigrad/io/safetensors.hpp"

namespace eigrad::io::detail {

// save_safetensors, running `before_write` before each write with the bytes written so far and
// the next chunk's size. Throwing from it simulates a failing disk: the save stops, its
// temporary file is removed and the exception propagates.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata, WriteHook before_write);

}  // namespace eigrad::io::detail
