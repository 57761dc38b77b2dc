// The pickle machine behind PyTorch checkpoints: runs one pickle byte stream
// and turns it into values and tensors, taking each tensor's bytes from a
// StorageSource. It knows nothing about files: serialize.cc finds the pickles
// and the storage bytes in torch.save's two containers (zip archive, legacy
// stream) and hands them here, so both containers share one reader.
#pragma once

#include "common.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rt {

// Throws the error every checkpoint reader reports: "pickle: " + message.
[[noreturn]] void pickleFail(const std::string& message);

// The bytes of storage `key`, `nbytes` long (never 0): a zip record, or, in a
// legacy file, fresh memory that is filled after the value's pickle is read.
using StorageSource = std::function<at::DataPtr(const std::string& key, size_t nbytes)>;

// A storage as the first persistent id naming its key made it. Later ids may
// read it as another dtype (PyTorch's storages are untyped since 1.13); a
// legacy file counts its elements in the dtype of the first.
struct SavedStorage {
  at::Storage storage;
  at::ScalarType dtype;
};

// Runs one pickle, from `start` in `data` to its STOP; `name` says which pickle
// in errors. `data` must outlive the reader. Reads what checkpoints hold
// (tensors of robustok's dtypes, dicts, lists, tuples, numbers, strings,
// booleans, None) and names anything else in its error.
class PickleReader {
 public:
  PickleReader(std::string_view data, size_t start, std::string name, StorageSource source = nullptr);
  ~PickleReader();
  PickleReader(const PickleReader&) = delete;
  PickleReader& operator=(const PickleReader&) = delete;

  c10::IValue read();
  // Where the pickle ended: just after its STOP.
  size_t end() const;
  // The storages the pickle's tensors named, by key (a legacy stream fills
  // them after the value's pickle is read).
  const std::unordered_map<std::string, SavedStorage>& storages() const;

 private:
  class Machine;  // the opcode interpreter (pickle_reader.cc)
  std::unique_ptr<Machine> machine_;
};

}  // namespace rt
