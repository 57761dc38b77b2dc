// PyTorch's checkpoint files: finds the pickles and the storage bytes in the
// containers torch.save writes (the zip archives of PyTorch >= 1.6 and the
// legacy stream before them) and hands each pickle to the pickle machine
// (pickle_reader.cc); converts the values to and from JS; and writes zip
// files (through libtorch's own Pickler) that torch.load reads.
#include "pickle_reader.h"

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <array>
#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_set>

namespace rt {
namespace {

using caffe2::serialize::PyTorchStreamReader;
using torch::jit::PickleOpCode;

[[noreturn]] void fail(const std::string& message) { pickleFail(message); }

// ---- reading ------------------------------------------------------------------

// torch.save has written two layouts (torch/serialization.py):
// - since PyTorch 1.6, a zip archive: data.pkl pickles the saved value and
//   each tensor in it names a storage record, data/<key>;
// - before, and still with _use_new_zipfile_serialization=False, a "legacy"
//   stream of five pickles back to back: a magic number, the format version
//   1001, a description of the writer's machine, the value, and the list of
//   storage keys; then, for each key in that order, an 8-byte little-endian
//   element count and the storage's raw bytes.
// Both pickle tensors alike, so one pickle machine (PickleReader) reads both;
// only where a storage's bytes come from differs (a StorageSource).

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
  return PickleReader(bytes, 0, "data.pkl", records).read();
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
  PickleReader version(file, afterMagic(file), "the format version");
  c10::IValue number = version.read();
  if (!number.isInt() || number.toInt() != 1001) {
    fail("unknown legacy format version " + (number.isInt() ? std::to_string(number.toInt()) : number.tagKind()) +
         " (torch.save wrote 1001)");
  }
  PickleReader machine(file, version.end(), "the machine description");
  c10::IValue info = machine.read();
  if (!info.isGenericDict()) fail("malformed machine description: not a dict");
  auto dict = info.toGenericDict();
  auto little = dict.find(c10::IValue(std::string("little_endian")));
  if (little != dict.end() && little->value().isBool() && !little->value().toBool()) {
    fail("the checkpoint was written on a big-endian machine");
  }

  auto allocate = [](const std::string&, size_t nbytes) { return c10::GetCPUAllocator()->allocate(nbytes); };
  PickleReader reader(file, machine.end(), "the pickled value", allocate);
  c10::IValue result = reader.read();
  PickleReader keyList(file, reader.end(), "the list of storage keys");
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
