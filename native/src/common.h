// Shared plumbing for every area of the addon: tensor handles, argument
// readers and the error guard. Nothing here knows about models.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace rt {

// A JS-visible tensor is an External whose payload is not a pointer but a
// tag: the index of a slot in a table of tensors plus the slot's generation.
// Creating one allocates no weak reference (no GC finalizer): a finalizer
// per tensor cost more than the op itself and made long loops GC-bound. The
// TypeScript side frees tensors explicitly or by scope, and registers the
// few that escape every scope with a FinalizationRegistry. A stale tag (its
// slot freed and reused) is recognised by its generation, so using a
// disposed tensor is an error, never another tensor.
int64_t liveTensorCount();

// The tensor a JS value refers to, or nullptr if it is a tensor handle whose
// tensor was disposed. Sets *isHandle to false (and returns nullptr) if the
// value is not a tensor handle at all.
at::Tensor* lookupTensor(Napi::Env env, napi_value value, bool* isHandle);
// The same, throwing: a TypeError naming `what` for a non-tensor, an Error
// for a disposed one.
at::Tensor& requireTensor(Napi::Env env, napi_value value, const std::string& what);
// Frees the tensor now (a no-op if it was already freed).
void releaseTensor(Napi::Env env, napi_value value);
// Tells V8 about the tensor's memory (once), for tensors the GC now owns.
void reportTensorMemory(Napi::Env env, napi_value value);

Napi::Value wrap(Napi::Env env, at::Tensor tensor);
Napi::Value wrapAll(Napi::Env env, const std::vector<at::Tensor>& tensors);

// Reads the arguments of one call with clear TypeErrors. `undefined` and
// `null` both mean "not given" for optional arguments.
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info), env_(info.Env()) {}

  Napi::Env env() const { return env_; }
  size_t size() const { return info_.Length(); }
  // One napi_typeof per question: these run several times on every op.
  napi_valuetype type(size_t i) const {
    if (i >= info_.Length()) return napi_undefined;
    napi_valuetype t;
    napi_typeof(env_, info_[i], &t);
    return t;
  }
  bool has(size_t i) const {
    napi_valuetype t = type(i);
    return t != napi_undefined && t != napi_null;
  }
  bool isNumber(size_t i) const { return type(i) == napi_number; }
  bool isTensor(size_t i) const { return type(i) == napi_external; }
  Napi::Value raw(size_t i) const { return info_[i]; }

  at::Tensor& tensor(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
  double number(size_t i) const;
  double number(size_t i, double fallback) const { return has(i) ? number(i) : fallback; }
  int64_t integer(size_t i) const;
  int64_t integer(size_t i, int64_t fallback) const { return has(i) ? integer(i) : fallback; }
  c10::optional<int64_t> optInteger(size_t i) const;
  c10::optional<double> optNumber(size_t i) const;
  bool boolean(size_t i, bool fallback = false) const;
  std::string string(size_t i) const;
  std::vector<int64_t> ints(size_t i) const;
  std::vector<double> doubles(size_t i) const;
  // A JS number as a Scalar: integral values stay integral so that
  // `intTensor + 1` keeps its dtype, as in Python.
  at::Scalar scalar(size_t i) const;
  c10::optional<at::Scalar> optScalar(size_t i) const;
  at::ScalarType dtype(size_t i) const;
  c10::optional<at::ScalarType> optDtype(size_t i) const;
  at::Device device(size_t i) const;
  // dtype at `dtypeIndex` (default float32) and device at `deviceIndex` (default cpu).
  at::TensorOptions options(size_t dtypeIndex, size_t deviceIndex) const;
  c10::optional<at::Generator> generator(size_t i) const;

  [[noreturn]] void typeError(size_t i, const char* expected) const;

 private:
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
};

using OpFn = Napi::Value (*)(Args&);
struct OpEntry {
  const char* name;
  OpFn fn;
};

// Adds each entry to `exports` as a function whose libtorch and C++ errors
// become JS errors carrying the library's message.
void registerOps(Napi::Env env, Napi::Object exports, const std::vector<OpEntry>& ops);

// Each area of the addon adds its functions through one of these.
void registerTensor(Napi::Env env, Napi::Object exports);
void registerOpsMath(Napi::Env env, Napi::Object exports);
void registerOpsShape(Napi::Env env, Napi::Object exports);
void registerNN(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerSerialize(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);

// Speed settings applied once at load, before any op runs (runtime.cc).
void tuneRuntime();

}  // namespace rt
