// The pickle machine of pickle_reader.h: the opcodes, the globals and the
// persistent ids that torch.save's checkpoints use.
//
// libtorch's own Unpickler (torch::jit::pickle_load) turns every
// collections.OrderedDict into None and so cannot read a state_dict; this
// small pickle machine reads what checkpoints hold. Released checkpoints also
// pickle Python objects beside the weights (LlamaGen's and RobusTok's
// argparse.Namespace under "args", Lightning's callback states): each
// becomes an opaque placeholder, a dict {kOpaqueKey: class name,
// "contents": its arguments and state}, which pickle.ts turns into a
// PickledObject that state-dict extraction leaves aside.
#include "pickle_reader.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace rt {

[[noreturn]] void pickleFail(const std::string& message) { throw std::runtime_error("pickle: " + message); }

namespace {

using torch::jit::PickleOpCode;

[[noreturn]] void fail(const std::string& message) { pickleFail(message); }

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
      // libtorch's Pickler (pickleSave in serialize.cc) wraps typed containers in these.
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

// A stack or memo entry: a value, or a GLOBAL naming one of `callables()`.
// Storage classes are values (their qualified name), read by BINPERSID.
struct Item {
  c10::IValue value;
  std::string callable;
};

// The key that marks a dict as a pickled object's placeholder (no Python attribute can be named so).
const char* const kOpaqueKey = "__robustok.pickled_object__";

}  // namespace

class PickleReader::Machine {
 public:
  Machine(std::string_view data, size_t start, std::string name, StorageSource source = nullptr)
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
      // Sets and frozensets (in an object's state) are read as lists.
      case PickleOpCode::EMPTY_LIST:
      case PickleOpCode::EMPTY_SET: push(c10::impl::GenericList(c10::AnyType::get())); break;
      case PickleOpCode::APPEND: append(popItems(1)); break;
      case PickleOpCode::APPENDS:
      case PickleOpCode::ADDITEMS: append(popMark()); break;
      case PickleOpCode::LIST:
      case PickleOpCode::FROZENSET: {
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
        if (function.callable.empty() && function.value.isGenericDict() && function.value.toGenericDict().contains(kOpaqueKey)) {
          push(opaque("an object", args));  // an object's method or a placeholder called in turn
          break;
        }
        push(call(function.callable, args.toTupleRef().elements()));
      } break;
      case PickleOpCode::NEWOBJ: {  // cls.__new__(cls, *args): an object of a class robustok does not know
        c10::IValue args = value(pop());
        Item cls = pop();
        push(opaque(cls.callable.empty() ? "an object" : cls.callable, args));
      } break;
      case PickleOpCode::NEWOBJ_EX: {
        c10::IValue kwargs = value(pop());
        c10::IValue args = value(pop());
        Item cls = pop();
        push(opaque(cls.callable.empty() ? "an object" : cls.callable, c10::ivalue::Tuple::create({args, kwargs})));
      } break;
      case PickleOpCode::BUILD: {
        c10::IValue state = value(pop());
        if (!top().value.isGenericDict()) fail("only dictionaries and objects can be rebuilt from a saved state");
        // An object's state (its __dict__ or __setstate__ argument) is kept in its placeholder;
        // an OrderedDict's attributes (a state_dict's `_metadata`, module versions) are dropped.
        auto dict = top().value.toGenericDict();
        if (dict.contains(kOpaqueKey)) dict.insert_or_assign("state", state);
      } break;
      // Bytes (numpy scalars' data, in an object's state) are read as strings.
      case PickleOpCode::SHORT_BINBYTES: push(bytes(byte())); break;
      case PickleOpCode::BINBYTES: push(bytes(little<uint32_t>())); break;
      case PickleOpCode::BINBYTES8: push(bytes(little<uint64_t>())); break;
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
  // A global stored as a value (a class or function itself, e.g. an
  // argument's `type`) becomes a placeholder naming it.
  static c10::IValue value(const Item& item) {
    if (!item.callable.empty()) return opaque(item.callable, c10::IValue());
    return item.value;
  }

  // The placeholder of a pickled Python object: {kOpaqueKey: name, "contents": arguments}; BUILD adds "state".
  static c10::IValue opaque(const std::string& name, const c10::IValue& contents) {
    auto dict = emptyDict();
    dict.insert(kOpaqueKey, name);
    dict.insert("contents", contents);
    return dict;
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
  // Globals robustok knows are called as such; any other class or function
  // is kept by name, and what it builds becomes a placeholder (`opaque`).
  void global(const std::string& name) {
    if (storageTypes().count(name)) {
      push(name);
    } else if (inModuleId()) {
      fail("the file holds a pickled nn.Module (" + name + ", saved by torch.save(model)), which needs its Python "
           "class; robustok reads state dicts: save model.state_dict() instead");
    } else {
      stack_.push_back(Item{c10::IValue(), name});
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
    if (!callables().count(name)) return opaque(name, c10::ivalue::Tuple::create(args));
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
    if (type == storageTypes().end()) {
      // a storage class robustok has no dtype for (complex, quantized) arrives as a placeholder naming it
      if (parts[1].isGenericDict() && parts[1].toGenericDict().contains(kOpaqueKey)) {
        fail("unsupported object " + parts[1].toGenericDict().at(kOpaqueKey).toStringRef() +
             ": checkpoints may hold only tensors of robustok's dtypes");
      }
      fail("malformed persistent id: no storage class");
    }
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

PickleReader::PickleReader(std::string_view data, size_t start, std::string name, StorageSource source)
    : machine_(std::make_unique<Machine>(data, start, std::move(name), std::move(source))) {}
PickleReader::~PickleReader() = default;
c10::IValue PickleReader::read() { return machine_->read(); }
size_t PickleReader::end() const { return machine_->end(); }
const std::unordered_map<std::string, SavedStorage>& PickleReader::storages() const { return machine_->storages(); }

}  // namespace rt
