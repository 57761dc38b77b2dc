// PyTorch's pickle format through libtorch's own (un)pickler: reads the
// zip files that torch.save writes and writes files that torch.load reads.
#include "common.h"

#include <torch/csrc/jit/serialization/pickle.h>

namespace rt {
namespace {

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
      std::string name = key.isString() ? key.toStringRef() : key.isInt() ? std::to_string(key.toInt()) : "";
      if (name.empty() && !key.isString()) {
        throw std::runtime_error("pickle: dictionary key of type " + key.tagKind() + " is not supported");
      }
      out.Set(name, toJs(env, entry.value()));
    }
    return out;
  }
  if (v.isList() || v.isTuple() || v.isTensorList() || v.isIntList() || v.isDoubleList() || v.isBoolList()) {
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
  throw std::runtime_error("pickle: values of type " + v.tagKind() + " are not supported");
}

c10::IValue fromJs(Args& a, const Napi::Value& v) {
  if (v.IsExternal()) {
    Handle* handle = v.As<Napi::External<Handle>>().Data();
    if (!handle->tensor.defined()) throw Napi::Error::New(a.env(), "pickleSave: a tensor was disposed");
    return handle->tensor;
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

// pickleLoad(bytes) → nested objects/arrays with tensors
Napi::Value pickleLoad(Args& a) {
  if (!a.raw(0).IsTypedArray()) a.typeError(0, "a Uint8Array");
  auto typed = a.raw(0).As<Napi::TypedArray>();
  const char* start = static_cast<const char*>(typed.ArrayBuffer().Data()) + typed.ByteOffset();
  std::vector<char> data(start, start + typed.ByteLength());
  return toJs(a.env(), torch::jit::pickle_load(data));
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
