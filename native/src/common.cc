// Handles, argument readers and the error guard (see common.h), and the
// module's entry point. The speed settings applied at load (malloc, BLAS
// threads) live in runtime.cc.
#include "common.h"

#include <cmath>
#include <deque>

namespace rt {

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 1;     // bumped on release; tags start at 1 so none is null
  int64_t reportedBytes = 0;  // what we told V8 about, given back on release
};
// A deque keeps references to slots valid while new ones are appended.
static std::deque<Slot> slots;
static std::vector<uint32_t> freeSlots;
static int64_t liveTensors = 0;

int64_t liveTensorCount() { return liveTensors; }

static void* encodeTag(uint32_t index, uint32_t generation) {
  return reinterpret_cast<void*>((static_cast<uintptr_t>(generation) << 32) | index);
}

// V8 learns about native memory in batches: telling it on every small
// tensor costs more than the op itself.
static int64_t unreportedBytes = 0;
static constexpr int64_t kReportBatch = 1 << 20;

static void reportExternalMemory(Napi::Env env, int64_t delta) {
  unreportedBytes += delta;
  if (unreportedBytes >= kReportBatch || unreportedBytes <= -kReportBatch) {
    int64_t unused;
    napi_adjust_external_memory(env, unreportedBytes, &unused);
    unreportedBytes = 0;
  }
}

static Slot* findSlot(Napi::Env env, napi_value value, bool* isHandle, uint32_t* indexOut) {
  void* tag = nullptr;
  *isHandle = napi_get_value_external(env, value, &tag) == napi_ok;
  if (!*isHandle) return nullptr;
  auto bits = reinterpret_cast<uintptr_t>(tag);
  auto index = static_cast<uint32_t>(bits & 0xffffffffu);
  auto generation = static_cast<uint32_t>(bits >> 32);
  if (index >= slots.size() || slots[index].generation != generation) return nullptr;
  *indexOut = index;
  return &slots[index];
}

at::Tensor* lookupTensor(Napi::Env env, napi_value value, bool* isHandle) {
  uint32_t index;
  Slot* slot = findSlot(env, value, isHandle, &index);
  return slot ? &slot->tensor : nullptr;
}

at::Tensor& requireTensor(Napi::Env env, napi_value value, const std::string& what) {
  bool isHandle;
  at::Tensor* t = lookupTensor(env, value, &isHandle);
  if (!isHandle) throw Napi::TypeError::New(env, what + ": expected a tensor");
  if (!t) throw Napi::Error::New(env, what + ": the tensor was disposed");
  return *t;
}

void releaseTensor(Napi::Env env, napi_value value) {
  uint32_t index;
  bool isHandle;
  Slot* slot = findSlot(env, value, &isHandle, &index);
  if (!isHandle) throw Napi::TypeError::New(env, "dispose: expected a tensor");
  if (!slot) return;
  slot->tensor.reset();
  slot->generation++;
  freeSlots.push_back(index);
  liveTensors--;
  if (slot->reportedBytes != 0) reportExternalMemory(env, -slot->reportedBytes);
  slot->reportedBytes = 0;
}

// V8 hears only about tensors the garbage collector is responsible for
// (TypeScript calls this when a tensor leaves every scope): memory that a
// scope frees deterministically would only make V8 run full collections
// to free nothing (measured: 3-4 per training step of the small tokenizer).
// Only a tensor that owns its storage alone reports it: views and aliases
// would otherwise count the same bytes twice.
void reportTensorMemory(Napi::Env env, napi_value value) {
  uint32_t index;
  bool isHandle;
  Slot* slot = findSlot(env, value, &isHandle, &index);
  if (!slot || slot->reportedBytes != 0) return;
  const at::Tensor& t = slot->tensor;
  if (t.has_storage() && t.storage().use_count() == 1 && t.device().is_cpu()) {
    slot->reportedBytes = static_cast<int64_t>(t.storage().nbytes());
    if (slot->reportedBytes > 0) reportExternalMemory(env, slot->reportedBytes);
  }
}

Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  uint32_t index;
  if (freeSlots.empty()) {
    index = static_cast<uint32_t>(slots.size());
    slots.emplace_back();
  } else {
    index = freeSlots.back();
    freeSlots.pop_back();
  }
  Slot& slot = slots[index];
  slot.tensor = std::move(tensor);
  liveTensors++;
  napi_value result;
  napi_create_external(env, encodeTag(index, slot.generation), nullptr, nullptr, &result);
  return Napi::Value(env, result);
}

Napi::Value wrapAll(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); i++) out.Set(static_cast<uint32_t>(i), wrap(env, tensors[i]));
  return out;
}

void Args::typeError(size_t i, const char* expected) const {
  throw Napi::TypeError::New(env_, "argument " + std::to_string(i) + ": expected " + expected);
}

at::Tensor& Args::tensor(size_t i) const {
  bool isHandle = false;
  at::Tensor* t = i < info_.Length() ? lookupTensor(env_, info_[i], &isHandle) : nullptr;
  if (t) return *t;
  if (!isHandle) typeError(i, "a tensor");
  throw Napi::Error::New(env_, "argument " + std::to_string(i) + ": the tensor was disposed");
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  if (!has(i) || !info_[i].IsArray()) typeError(i, "an array of tensors");
  auto array = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); k++) {
    out.push_back(requireTensor(env_, array.Get(k), "argument " + std::to_string(i) + "[" + std::to_string(k) + "]"));
  }
  return out;
}

double Args::number(size_t i) const {
  if (!isNumber(i)) typeError(i, "a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

int64_t Args::integer(size_t i) const {
  double v = number(i);
  if (std::floor(v) != v) typeError(i, "an integer");
  return static_cast<int64_t>(v);
}

c10::optional<int64_t> Args::optInteger(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return integer(i);
}

c10::optional<double> Args::optNumber(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return number(i);
}

bool Args::boolean(size_t i, bool fallback) const {
  if (!has(i)) return fallback;
  if (!info_[i].IsBoolean()) typeError(i, "a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i) const {
  if (!has(i) || !info_[i].IsString()) typeError(i, "a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (isNumber(i)) return {integer(i)};
  if (!has(i) || !info_[i].IsArray()) typeError(i, "an array of integers");
  auto array = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); k++) {
    Napi::Value v = array.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (std::floor(d) != d) typeError(i, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::vector<double> Args::doubles(size_t i) const {
  if (!has(i) || !info_[i].IsArray()) typeError(i, "an array of numbers");
  auto array = info_[i].As<Napi::Array>();
  std::vector<double> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); k++) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) typeError(i, "an array of numbers");
    out[k] = v.As<Napi::Number>().DoubleValue();
  }
  return out;
}

at::Scalar Args::scalar(size_t i) const {
  if (has(i) && info_[i].IsBoolean()) return at::Scalar(info_[i].As<Napi::Boolean>().Value());
  double v = number(i);
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9007199254740992.0) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

c10::optional<at::Scalar> Args::optScalar(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return scalar(i);
}

at::ScalarType Args::dtype(size_t i) const {
  int64_t code = integer(i);
  if (code < 0 || code >= static_cast<int64_t>(at::ScalarType::NumOptions)) typeError(i, "a dtype code");
  return static_cast<at::ScalarType>(code);
}

c10::optional<at::ScalarType> Args::optDtype(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return dtype(i);
}

at::Device Args::device(size_t i) const {
  if (!has(i)) return at::Device(at::kCPU);
  return at::Device(string(i));  // throws c10::Error with the reason on a bad name
}

at::TensorOptions Args::options(size_t dtypeIndex, size_t deviceIndex) const {
  return at::TensorOptions().dtype(has(dtypeIndex) ? dtype(dtypeIndex) : at::kFloat).device(device(deviceIndex));
}

struct GeneratorHolder {
  at::Generator generator;
};

c10::optional<at::Generator> Args::generator(size_t i) const {
  if (!has(i)) return c10::nullopt;
  if (!info_[i].IsObject() || !info_[i].As<Napi::Object>().Has("_gen")) typeError(i, "a Generator");
  Napi::Value inner = info_[i].As<Napi::Object>().Get("_gen");
  if (!inner.IsExternal()) typeError(i, "a Generator");
  return inner.As<Napi::External<GeneratorHolder>>().Data()->generator;
}

// Generators live here because Args reads them.
static Napi::Value newGenerator(Args& a) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(a.integer(0)));
  auto* holder = new GeneratorHolder{gen};
  return Napi::External<GeneratorHolder>::New(a.env(), holder, [](Napi::Env, GeneratorHolder* h) { delete h; });
}

static Napi::Value generatorSeed(Args& a) {
  auto gen = a.generator(0);
  std::lock_guard<std::mutex> lock(gen->mutex());
  gen->set_current_seed(static_cast<uint64_t>(a.integer(1)));
  return a.env().Undefined();
}

static Napi::Value invoke(const Napi::CallbackInfo& info) {
  auto fn = reinterpret_cast<OpFn>(info.Data());
  Args args(info);
  try {
    return fn(args);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

void registerOps(Napi::Env env, Napi::Object exports, const std::vector<OpEntry>& ops) {
  for (const auto& op : ops) {
    exports.Set(op.name, Napi::Function::New(env, invoke, op.name, reinterpret_cast<void*>(op.fn)));
  }
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  tuneRuntime();
  registerOps(env, exports, {
      {"newGenerator", newGenerator},
      {"generatorSeed", generatorSeed},
  });
  registerTensor(env, exports);
  registerOpsMath(env, exports);
  registerOpsShape(env, exports);
  registerNN(env, exports);
  registerAutograd(env, exports);
  registerSerialize(env, exports);
  registerDistributed(env, exports);
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  return exports;
}

}  // namespace rt

static Napi::Object initAddon(Napi::Env env, Napi::Object exports) { return rt::init(env, exports); }

NODE_API_MODULE(robustok, initAddon)
