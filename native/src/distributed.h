// What the c10d files share (distributed.cc makes process groups,
// grad_reducer.cc reduces gradients over one): a process group as JS holds it.
// Included only where CMake found the c10d and Gloo headers.
#pragma once

#include "common.h"

#include <string>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

namespace rt {

// libtorch 2.x splits the process group from its backends; Gloo and NCCL are Backends there.
#if TORCH_VERSION_MAJOR >= 2
using GroupBase = c10d::Backend;
#else
using GroupBase = c10d::ProcessGroup;
#endif

struct GroupHolder {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<GroupBase> group;
  int rank;
  int size;
  std::string backend;
};

// Argument i as a live process group (a clear error once it was destroyed).
GroupHolder& group(Args& a, size_t i);

void registerGradReducer(Napi::Env env, Napi::Object exports);

}  // namespace rt
