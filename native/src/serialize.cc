// PyTorch's checkpoint format: reads the files that torch.save writes, the zip
// archives of PyTorch >= 1.6 and the legacy stream before them, and writes
// zip files (through libtorch's own Pickler) that torch.load reads.
#include "common.h"

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace rt {
namespace {

using caffe2::serialize::PyTorchStreamReader;
using torch::jit::PickleOpCode;

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error("pickle: " + message); }

// ---- reading ------------------------------------------------------------------

// torch.save has written two layouts (torch/serialization.py):
// - since PyTorch 1.6, a zip archive: data.pkl pickles the saved value and
//   each tensor in it names a storage record, data/<key>;
// - before, and still with _use_new_zipfile_serialization=False, a "legacy"
//   stream of five pickles back to back: a magic number, the format version
//   1001, a description of the writer's machine, the value, and the list of
//   storage keys; then, for each key in that order, an 8-byte little-endian
//   element count and the storage's raw bytes.
// Both pickle tensors alike, so one pickle machine reads both; only where a
// storage's bytes come from differs (a StorageSource).
//
// libtorch's own Unpickler (torch::jit::pickle_load) turns every
// collections.OrderedDict into None and so cannot read a state_dict; this
// small pickle machine reads what checkpoints hold and names anything else in
// its error.

enum class Callable { OrderedDict, RebuildTensor, RebuildParameter, FirstArgument };

const std::unordered_map<std::string, Callable>& callables() {
  static const std::unordered_map<std::string, Callable> table = {
      {"collections.OrderedDict", Callable::OrderedDict},
      {"torch._utils._rebuild_tensor_v2", Callable::RebuildTensor},
      // The pre-0.4 form: (storage, offset, size, stride), no requires_grad.
      {"torch._utils._rebuild_tensor", Callable::RebuildTensor},
      {"torch._utils._rebuild_parameter", Callable::RebuildParameter},
      {"torch._utils._rebuild_parameter_with_state", Callable::RebuildParameter},
      // Old writers pickled a tensor's size as a torch.Size of a tuple.
      {"torch.Size", Callable::FirstArgument},
      // libtorch's Pickler (pickleSave below) wraps typed containers in these.
      {"torch.jit._pickle.restore_type_tag", Callable::FirstArgument},
      {"torch.jit._pickle.build_intlist", Callable::FirstArgument},
      {"torch.jit._pickle.build_doublelist", Callable::FirstArgument},
      {"torch.jit._pickle.build_boollist", Callable::FirstArgument},
      {"torch.jit._pickle.build_tensorlist", Callable::FirstArgument},
  };
  return table;
}

// The storage classes of the dtypes robustok has names for.
const std::unordered_map<std::string, at::ScalarType>& storageTypes() {
  static const std::unordered_map<std::string, at::ScalarType> table = {
      {"torch.FloatStorage", at::kFloat}, {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},   {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},   {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort}, {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},   {"torch.BoolStorage", at::kBool},
  };
  return table;
}

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

// A stack or memo entry: a value, or a GLOBAL naming one of `callables()`.
// Storage classes are values (their qualified name), read by BINPERSID.
struct Item {
  c10::IValue value;
  std::string callable;
};

// Runs one pickle, from `start` in `data` to its STOP; `name` says which pickle
// in errors. `data` must outlive the reader.
class CheckpointReader {
 public:
  CheckpointReader(std::string_view data, size_t start, std::string name, StorageSource source = nullptr)
      : pickle_(data), pos_(start), name_(std::move(name)), source_(std::move(source)) {}

  c10::IValue read() {
    while (true) {
      auto op = static_cast<PickleOpCode>(byte());
      if (op == PickleOpCode::STOP) break;
      step(op);
    }
    if (stack_.size() != 1) fail("malformed " + name_ + ": " + std::to_string(stack_.size()) + " values left at the end");
    return value(stack_.back());
  }

  // Where the pickle ended: just after its STOP.
  size_t end() const { return pos_; }
  const std::unordered_map<std::string, SavedStorage>& storages() const { return storages_; }

 private:
  void step(PickleOpCode op) {
    switch (op) {
      case PickleOpCode::PROTO: byte(); break;
      case PickleOpCode::FRAME: bytes(8); break;
      case PickleOpCode::MARK: marks_.push_back(stack_.size()); break;
      case PickleOpCode::POP: pop(); break;
      case PickleOpCode::POP_MARK: popMark(); break;
      case PickleOpCode::DUP: stack_.push_back(top()); break;
      case PickleOpCode::NONE: push(c10::IValue()); break;
      case PickleOpCode::NEWTRUE: push(true); break;
      case PickleOpCode::NEWFALSE: push(false); break;
      case PickleOpCode::BININT: push(static_cast<int64_t>(little<int32_t>())); break;
      case PickleOpCode::BININT1: push(static_cast<int64_t>(byte())); break;
      case PickleOpCode::BININT2: push(static_cast<int64_t>(little<uint16_t>())); break;
      case PickleOpCode::LONG1: push(longInt(byte())); break;
      case PickleOpCode::BINFLOAT: push(bigEndianDouble()); break;
      case PickleOpCode::BINUNICODE: push(bytes(little<uint32_t>())); break;
      case PickleOpCode::SHORT_BINUNICODE: push(bytes(byte())); break;
      case PickleOpCode::BINUNICODE8: push(bytes(little<uint64_t>())); break;
      // Python 2's str, in files saved from Python 2; torch.load decodes them
      // as UTF-8 by default, and so does this.
      case PickleOpCode::SHORT_BINSTRING: push(bytes(byte())); break;
      case PickleOpCode::BINSTRING: {
        int32_t size = little<int32_t>();
        if (size < 0) fail("malformed " + name_ + ": a string of negative length");
        push(bytes(static_cast<uint64_t>(size)));
      } break;
      case PickleOpCode::EMPTY_LIST: push(c10::impl::GenericList(c10::AnyType::get())); break;
      case PickleOpCode::APPEND: append(popItems(1)); break;
      case PickleOpCode::APPENDS: append(popMark()); break;
      case PickleOpCode::LIST: {
        std::vector<Item> items = popMark();
        push(c10::impl::GenericList(c10::AnyType::get()));
        append(items);
      } break;
      case PickleOpCode::EMPTY_TUPLE: push(c10::ivalue::Tuple::create(std::vector<c10::IValue>())); break;
      case PickleOpCode::TUPLE: pushTuple(popMark()); break;
      case PickleOpCode::TUPLE1: pushTuple(popItems(1)); break;
      case PickleOpCode::TUPLE2: pushTuple(popItems(2)); break;
      case PickleOpCode::TUPLE3: pushTuple(popItems(3)); break;
      case PickleOpCode::EMPTY_DICT: push(emptyDict()); break;
      case PickleOpCode::DICT: {
        std::vector<Item> items = popMark();
        push(emptyDict());
        setItems(items);
      } break;
      case PickleOpCode::SETITEM: setItems(popItems(2)); break;
      case PickleOpCode::SETITEMS: setItems(popMark()); break;
      case PickleOpCode::BINPUT: memo_[byte()] = top(); break;
      case PickleOpCode::LONG_BINPUT: memo_[little<uint32_t>()] = top(); break;
      case PickleOpCode::MEMOIZE: {
        uint32_t id = static_cast<uint32_t>(memo_.size());
        memo_[id] = top();
      } break;
      case PickleOpCode::BINGET: get(byte()); break;
      case PickleOpCode::LONG_BINGET: get(little<uint32_t>()); break;
      case PickleOpCode::GLOBAL: {
        std::string module = line();
        global(module + "." + line());
      } break;
      case PickleOpCode::STACK_GLOBAL: {
        std::string name = value(pop()).toStringRef();
        global(value(pop()).toStringRef() + "." + name);
      } break;
      case PickleOpCode::REDUCE: {
        c10::IValue args = value(pop());
        Item function = pop();
        if (!args.isTuple()) fail("malformed " + name_ + ": REDUCE without an argument tuple");
        push(call(function.callable, args.toTupleRef().elements()));
      } break;
      case PickleOpCode::BUILD: {
        pop();  // an OrderedDict's attributes: a state_dict's `_metadata` (module versions)
        if (!top().value.isGenericDict()) fail("only dictionaries can be rebuilt from a saved state");
      } break;
      case PickleOpCode::BINPERSID: push(storage(value(pop()))); break;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<uint8_t>(op)));
        fail(std::string("unsupported pickle opcode ") + hex + ": checkpoints may hold only tensors, dicts, lists, "
             "tuples, numbers, strings, booleans and None");
      }
    }
  }

  // -- input
  uint8_t byte() { return static_cast<uint8_t>(bytes(1)[0]); }
  std::string bytes(uint64_t n) {
    if (n > pickle_.size() - pos_) fail(name_ + " ends early: the file is truncated or corrupt");
    std::string out(pickle_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  template <typename T>
  T little() {
    T out;
    std::memcpy(&out, bytes(sizeof(T)).data(), sizeof(T));
    return out;
  }
  double bigEndianDouble() {
    std::string raw = bytes(8);
    std::reverse(raw.begin(), raw.end());
    double out;
    std::memcpy(&out, raw.data(), 8);
    return out;
  }
  int64_t longInt(uint8_t size) {
    if (size > 8) fail("an integer does not fit in 64 bits");
    std::string raw = bytes(size);
    uint64_t bits = 0;
    for (size_t i = 0; i < size; i++) bits |= static_cast<uint64_t>(static_cast<uint8_t>(raw[i])) << (8 * i);
    if (size > 0 && size < 8 && (raw[size - 1] & 0x80)) bits |= ~uint64_t(0) << (8 * size);  // sign-extend
    return static_cast<int64_t>(bits);
  }
  std::string line() {
    size_t end = pickle_.find('\n', pos_);
    if (end == std::string_view::npos) fail(name_ + " ends early: the file is truncated or corrupt");
    std::string out(pickle_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }

  // -- stack
  void push(c10::IValue v) { stack_.push_back(Item{std::move(v), ""}); }
  Item& top() {
    if (stack_.empty()) fail("malformed " + name_ + ": the stack is empty");
    return stack_.back();
  }
  Item pop() {
    Item out = top();
    stack_.pop_back();
    return out;
  }
  std::vector<Item> popItems(size_t n) {
    if (n > stack_.size()) fail("malformed " + name_ + ": the stack is too short");
    std::vector<Item> out(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return out;
  }
  std::vector<Item> popMark() {
    if (marks_.empty() || marks_.back() > stack_.size()) fail("malformed " + name_ + ": no MARK");
    size_t mark = marks_.back();
    marks_.pop_back();
    return popItems(stack_.size() - mark);
  }
  void get(uint32_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) fail("malformed " + name_ + ": memo entry " + std::to_string(id) + " is missing");
    stack_.push_back(it->second);
  }
  // A callable cannot be stored: only the functions of `callables()` are known,
  // and each of them is only ever called.
  static const c10::IValue& value(const Item& item) {
    if (!item.callable.empty()) fail("cannot store the function " + item.callable);
    return item.value;
  }

  // -- containers
  static c10::impl::GenericDict emptyDict() { return c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get()); }
  void pushTuple(const std::vector<Item>& items) {
    std::vector<c10::IValue> values;
    for (const auto& item : items) values.push_back(value(item));
    push(c10::ivalue::Tuple::create(std::move(values)));
  }
  void append(const std::vector<Item>& items) {
    if (!top().value.isList()) fail("malformed " + name_ + ": APPENDS to a non-list");
    auto list = top().value.toList();
    for (const auto& item : items) list.push_back(value(item));
  }
  void setItems(const std::vector<Item>& items) {
    if (!top().value.isGenericDict()) fail("malformed " + name_ + ": SETITEMS on a non-dict");
    auto dict = top().value.toGenericDict();
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      const c10::IValue& key = value(items[i]);
      if (!key.isString() && !key.isInt()) fail("dictionary keys of type " + key.tagKind() + " are not supported");
      dict.insert_or_assign(key, value(items[i + 1]));
    }
  }

  // -- globals and tensors
  void global(const std::string& name) {
    if (callables().count(name)) {
      stack_.push_back(Item{c10::IValue(), name});
    } else if (storageTypes().count(name)) {
      push(name);
    } else if (inModuleId()) {
      fail("the file holds a pickled nn.Module (" + name + ", saved by torch.save(model)), which needs its Python "
           "class; robustok reads state dicts: save model.state_dict() instead");
    } else {
      fail("unsupported object " + name + ": checkpoints may hold only tensors (of robustok's dtypes), dicts, "
           "lists, tuples, numbers, strings, booleans and None");
    }
  }

  // A legacy file pickles a whole module's class as the persistent id
  // ('module', class, source file, source): a GLOBAL right after MARK and
  // the string "module" is that class.
  bool inModuleId() const {
    return !marks_.empty() && stack_.size() == marks_.back() + 1 && stack_.back().value.isString() &&
           stack_.back().value.toStringRef() == "module";
  }

  c10::IValue call(const std::string& name, const std::vector<c10::IValue>& args) {
    if (name.empty()) fail("malformed " + name_ + ": REDUCE of a value that is not a function");
    auto need = [&](size_t n) {
      if (args.size() < n) fail(name + " called with " + std::to_string(args.size()) + " arguments");
    };
    switch (callables().at(name)) {
      case Callable::OrderedDict:
        if (!args.empty()) fail("OrderedDict built from arguments is not supported");
        return emptyDict();
      case Callable::RebuildTensor: {
        need(4);  // storage, offset, size, stride[, requires_grad, hooks, metadata]
        if (!args[0].isTensor()) fail(name + " called without a storage");
        // The storage is a 1-d tensor that starts where a storage view does.
        const at::Tensor& storage = args[0].toTensor();
        at::Tensor t = at::empty({0}, storage.options())
                           .set_(storage.storage(), storage.storage_offset() + args[1].toInt(), ints(args[2]),
                                 ints(args[3]));
        if (args.size() > 4 && args[4].toBool()) t.set_requires_grad(true);
        return t;
      }
      case Callable::RebuildParameter: {
        need(2);  // data, requires_grad[, hooks, state]
        at::Tensor t = args[0].toTensor();
        t.set_requires_grad(args[1].toBool());
        return t;
      }
      case Callable::FirstArgument:
        need(1);
        return args[0];
    }
    fail("unreachable");
  }

  static std::vector<int64_t> ints(const c10::IValue& tuple) {
    std::vector<int64_t> out;
    for (const auto& v : tuple.toTupleRef().elements()) out.push_back(v.toInt());
    return out;
  }

  // BINPERSID's ('storage', storage class, key, location, numel[, view]): a
  // 1-d tensor of the class's dtype over the storage's bytes, on the CPU
  // whatever the saved location. Storages are shared by key, as views of one
  // tensor are in PyTorch. A legacy id's view, when not None, is (view key,
  // offset, numel) in elements: a slice of the storage, which writers made
  // for storage views (PyTorch 1.13 writes None).
  at::Tensor storage(const c10::IValue& id) {
    if (!id.isTuple()) fail("malformed persistent id");
    std::vector<c10::IValue> parts = id.toTupleRef().elements().vec();
    if (parts.empty() || !parts[0].isString() || parts[0].toStringRef() != "storage") {
      fail("unsupported persistent id");
    }
    if (parts.size() < 5 || !parts[2].isString() || !parts[4].isInt()) fail("malformed persistent id");
    auto type = storageTypes().find(parts[1].isString() ? parts[1].toStringRef() : "");
    if (type == storageTypes().end()) fail("malformed persistent id: no storage class");
    at::ScalarType dtype = type->second;
    auto itemsize = static_cast<int64_t>(c10::elementSize(dtype));
    const std::string& key = parts[2].toStringRef();
    auto saved = storages_.find(key);
    if (saved == storages_.end()) {
      int64_t numel = parts[4].toInt();
      if (numel < 0) fail("storage " + key + " has a negative size");
      size_t nbytes = static_cast<size_t>(numel) * itemsize;
      at::DataPtr data;
      if (nbytes > 0) {
        if (!source_) fail("a tensor in " + name_ + ", where none belongs");
        data = source_(key, nbytes);
      }
      at::Storage s(c10::Storage::use_byte_size_t(), nbytes, std::move(data), nullptr, /*resizable=*/false);
      saved = storages_.emplace(key, SavedStorage{s, dtype}).first;
    }
    const at::Storage& s = saved->second.storage;
    int64_t offset = 0;
    int64_t numel = static_cast<int64_t>(s.nbytes()) / itemsize;
    if (parts.size() > 5 && !parts[5].isNone()) {
      const c10::IValue& view = parts[5];
      if (!view.isTuple() || view.toTupleRef().elements().size() != 3) fail("malformed storage view of " + key);
      std::vector<c10::IValue> where = view.toTupleRef().elements().vec();
      if (!where[1].isInt() || !where[2].isInt()) fail("malformed storage view of " + key);
      offset = where[1].toInt();
      int64_t size = where[2].toInt();
      if (offset < 0 || size < 0 || offset > numel || size > numel - offset) {
        fail("a view of storage " + key + " (elements " + std::to_string(offset) + " to " +
             std::to_string(offset + size) + ") lies outside its " + std::to_string(numel) + " elements");
      }
      numel = size;
    }
    return at::empty({0}, at::TensorOptions().dtype(dtype)).set_(s, offset, {numel}, {1});
  }

  std::string_view pickle_;
  size_t pos_;
  std::string name_;
  StorageSource source_;
  std::vector<Item> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Item> memo_;
  std::unordered_map<std::string, SavedStorage> storages_;
};

// A zip archive: the value in data.pkl, each storage in its record data/<key>.
c10::IValue loadZip(std::string_view file) {
  std::unique_ptr<PyTorchStreamReader> archive;
  try {
    archive = std::make_unique<PyTorchStreamReader>(
        std::make_shared<caffe2::serialize::MemoryReadAdapter>(file.data(), static_cast<off_t>(file.size())));
  } catch (const c10::Error& e) {
    fail(std::string("unreadable zip archive (truncated or corrupt file?): ") + e.what_without_backtrace());
  }
  if (!archive->hasRecord("data.pkl")) fail("the archive has no data.pkl: it was not written by torch.save");
  if (archive->hasRecord("byteorder")) {
    auto [data, size] = archive->getRecord("byteorder");
    if (std::string(static_cast<const char*>(data.get()), size) != "little") {
      fail("the checkpoint was written on a big-endian machine");
    }
  }
  auto [pickle, pickleSize] = archive->getRecord("data.pkl");
  auto records = [&archive](const std::string& key, size_t nbytes) {
    std::string record = "data/" + key;
    if (!archive->hasRecord(record)) fail("tensor data " + record + " is missing from the archive");
    auto [data, size] = archive->getRecord(record);
    if (size != nbytes) {
      fail("tensor data " + record + " holds " + std::to_string(size) + " bytes, expected " + std::to_string(nbytes));
    }
    return std::move(data);
  };
  std::string_view bytes(static_cast<const char*>(pickle.get()), pickleSize);
  return CheckpointReader(bytes, 0, "data.pkl", records).read();
}

// torch.save's magic number 0x1950a86a20f9469cfc6c as pickle's LONG1 writes
// it: opcode, length 10, then the value's bytes, least significant first.
constexpr std::array<uint8_t, 12> kLegacyMagic = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                                  0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

// Where the first pickle, the magic number, ends. The pickle machine cannot
// hold an 80-bit integer, so this one pickle is matched as bytes: PROTO n, a
// FRAME for protocols >= 4, the LONG1, STOP.
size_t afterMagic(std::string_view file) {
  const std::string notTorch = "not a torch.save file: it does not start with torch.save's pickled magic number";
  if (file.size() < 2 || static_cast<uint8_t>(file[0]) != 0x80) fail(notTorch);
  size_t pos = 2;
  if (file.size() > pos && static_cast<PickleOpCode>(file[pos]) == PickleOpCode::FRAME) pos += 9;
  if (file.size() < pos + kLegacyMagic.size() + 1 ||
      std::memcmp(file.data() + pos, kLegacyMagic.data(), kLegacyMagic.size()) != 0 ||
      static_cast<PickleOpCode>(file[pos + kLegacyMagic.size()]) != PickleOpCode::STOP) {
    fail(notTorch);
  }
  return pos + kLegacyMagic.size() + 1;
}

// A legacy stream (see the top of this section). Storage memory is allocated
// as the value's pickle names it and filled from the data after the key list.
c10::IValue loadLegacy(std::string_view file) {
  CheckpointReader version(file, afterMagic(file), "the format version");
  c10::IValue number = version.read();
  if (!number.isInt() || number.toInt() != 1001) {
    fail("unknown legacy format version " + (number.isInt() ? std::to_string(number.toInt()) : number.tagKind()) +
         " (torch.save wrote 1001)");
  }
  CheckpointReader machine(file, version.end(), "the machine description");
  c10::IValue info = machine.read();
  if (!info.isGenericDict()) fail("malformed machine description: not a dict");
  auto dict = info.toGenericDict();
  auto little = dict.find(c10::IValue(std::string("little_endian")));
  if (little != dict.end() && little->value().isBool() && !little->value().toBool()) {
    fail("the checkpoint was written on a big-endian machine");
  }

  auto allocate = [](const std::string&, size_t nbytes) { return c10::GetCPUAllocator()->allocate(nbytes); };
  CheckpointReader reader(file, machine.end(), "the pickled value", allocate);
  c10::IValue result = reader.read();
  CheckpointReader keyList(file, reader.end(), "the list of storage keys");
  c10::IValue keys = keyList.read();
  if (!keys.isList()) fail("malformed list of storage keys: not a list");

  size_t pos = keyList.end();
  std::unordered_set<std::string> filled;
  for (const c10::IValue& item : keys.toListRef()) {
    if (!item.isString()) fail("malformed list of storage keys: a key of type " + item.tagKind());
    const std::string& key = item.toStringRef();
    auto saved = reader.storages().find(key);
    if (saved == reader.storages().end()) fail("storage " + key + " is listed but no tensor uses it");
    if (file.size() - pos < 8) fail("the file ends before storage " + key + ": it is truncated");
    uint64_t count;
    std::memcpy(&count, file.data() + pos, 8);
    pos += 8;
    const at::Storage& s = saved->second.storage;
    size_t itemsize = c10::elementSize(saved->second.dtype);
    if (count != s.nbytes() / itemsize) {
      fail("storage " + key + " holds " + std::to_string(count) + " elements, but its tensors need " +
           std::to_string(s.nbytes() / itemsize));
    }
    if (file.size() - pos < s.nbytes()) {
      fail("the file ends inside storage " + key + " (" + std::to_string(file.size() - pos) + " of " +
           std::to_string(s.nbytes()) + " bytes): it is truncated");
    }
    if (s.nbytes() > 0) std::memcpy(s.data_ptr().get(), file.data() + pos, s.nbytes());
    pos += s.nbytes();
    filled.insert(key);
  }
  for (const auto& [key, saved] : reader.storages()) {
    if (!filled.count(key)) fail("the data of storage " + key + " is missing: the list of storage keys omits it");
  }
  return result;
}

// Dictionary keys become own properties (DefineProperty, not Set): a key
// named "__proto__" in a file must not replace the object's prototype.
Napi::Value toJs(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isGenericDict()) {
    auto out = Napi::Object::New(env);
    for (const auto& entry : v.toGenericDict()) {
      const c10::IValue& key = entry.key();
      std::string name = key.isString() ? key.toStringRef() : std::to_string(key.toInt());
      out.DefineProperty(Napi::PropertyDescriptor::Value(name, toJs(env, entry.value()), napi_default_jsproperty));
    }
    return out;
  }
  if (v.isList() || v.isTuple()) {
    std::vector<c10::IValue> items;
    if (v.isTuple()) {
      for (const auto& item : v.toTupleRef().elements()) items.push_back(item);
    } else {
      for (const auto& item : v.toListRef()) items.push_back(item);
    }
    auto out = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); i++) out.Set(static_cast<uint32_t>(i), toJs(env, items[i]));
    return out;
  }
  fail("values of type " + v.tagKind() + " are not supported");
}

// pickleLoad(bytes) → nested objects/arrays with tensors, from either layout
// (a zip archive starts with a local file header, "PK\x03\x04"). The bytes
// are read in place; each tensor's storage is its own copy.
Napi::Value pickleLoad(Args& a) {
  if (!a.raw(0).IsTypedArray()) a.typeError(0, "a Uint8Array");
  auto typed = a.raw(0).As<Napi::TypedArray>();
  std::string_view file(static_cast<const char*>(typed.ArrayBuffer().Data()) + typed.ByteOffset(),
                        typed.ByteLength());
  bool zip = file.size() >= 4 && file.substr(0, 4) == std::string_view("PK\x03\x04", 4);
  return toJs(a.env(), zip ? loadZip(file) : loadLegacy(file));
}

// ---- writing ------------------------------------------------------------------

c10::IValue fromJs(Args& a, const Napi::Value& v) {
  if (v.IsExternal()) {
    return requireTensor(a.env(), v, "pickleSave");
  }
  if (v.IsNull() || v.IsUndefined()) return c10::IValue();
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
    return d;
  }
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (v.IsArray()) {
    auto array = v.As<Napi::Array>();
    c10::impl::GenericList list(c10::AnyType::get());
    for (uint32_t i = 0; i < array.Length(); i++) list.push_back(fromJs(a, array.Get(i)));
    return list;
  }
  if (v.IsObject()) {
    auto object = v.As<Napi::Object>();
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    auto keys = object.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      dict.insert(key, fromJs(a, object.Get(key)));
    }
    return dict;
  }
  throw Napi::TypeError::New(a.env(), "pickleSave: cannot store a value of this type");
}

// pickleSave(value) → Buffer in torch.save's zip format
Napi::Value pickleSave(Args& a) {
  std::vector<char> bytes = torch::jit::pickle_save(fromJs(a, a.raw(0)));
  return Napi::Buffer<char>::Copy(a.env(), bytes.data(), bytes.size());
}

}  // namespace

void registerSerialize(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {{"pickleLoad", pickleLoad}, {"pickleSave", pickleSave}});
}

}  // namespace rt
