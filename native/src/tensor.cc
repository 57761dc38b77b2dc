// Tensor life cycle: creation, reading back, metadata, conversion, random
// state, threads and devices.
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <cstring>

namespace rt {
namespace {

Napi::Value undefined(Args& a) { return a.env().Undefined(); }

// ---- creation -------------------------------------------------------------

// fromData(bytes: TypedArray | ArrayBuffer, shape, dtype, device)
Napi::Value fromData(Args& a) {
  const uint8_t* bytes = nullptr;
  size_t length = 0;
  Napi::Value v = a.raw(0);
  if (v.IsTypedArray()) {
    auto typed = v.As<Napi::TypedArray>();
    bytes = static_cast<const uint8_t*>(typed.ArrayBuffer().Data()) + typed.ByteOffset();
    length = typed.ByteLength();
  } else if (v.IsArrayBuffer()) {
    auto buffer = v.As<Napi::ArrayBuffer>();
    bytes = static_cast<const uint8_t*>(buffer.Data());
    length = buffer.ByteLength();
  } else {
    a.typeError(0, "a TypedArray or ArrayBuffer");
  }
  auto shape = a.ints(1);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(a.dtype(2)));
  size_t expected = t.numel() * t.element_size();
  if (length != expected) {
    throw Napi::Error::New(a.env(), "data holds " + std::to_string(length) + " bytes but shape " +
                                        c10::str(t.sizes()) + " of " + c10::toString(t.scalar_type()) + " needs " +
                                        std::to_string(expected));
  }
  if (expected > 0) std::memcpy(t.data_ptr(), bytes, expected);
  at::Device device = a.device(3);
  return wrap(a.env(), device.is_cpu() ? t : t.to(device));
}

Napi::Value zeros(Args& a) { return wrap(a.env(), at::zeros(a.ints(0), a.options(1, 2))); }
Napi::Value ones(Args& a) { return wrap(a.env(), at::ones(a.ints(0), a.options(1, 2))); }
Napi::Value empty(Args& a) { return wrap(a.env(), at::empty(a.ints(0), a.options(1, 2))); }
Napi::Value full(Args& a) { return wrap(a.env(), at::full(a.ints(0), a.scalar(1), a.options(2, 3))); }
Napi::Value arange(Args& a) {
  return wrap(a.env(), at::arange(a.scalar(0), a.scalar(1), a.scalar(2), a.options(3, 4)));
}
Napi::Value linspace(Args& a) {
  return wrap(a.env(), at::linspace(a.scalar(0), a.scalar(1), a.integer(2), a.options(3, 4)));
}
Napi::Value eye(Args& a) { return wrap(a.env(), at::eye(a.integer(0), a.integer(1), a.options(2, 3))); }

// ---- random -----------------------------------------------------------------

Napi::Value rand(Args& a) { return wrap(a.env(), at::rand(a.ints(0), a.generator(3), a.options(1, 2))); }
Napi::Value randn(Args& a) { return wrap(a.env(), at::randn(a.ints(0), a.generator(3), a.options(1, 2))); }
Napi::Value randint(Args& a) {
  return wrap(a.env(), at::randint(a.integer(0), a.integer(1), a.ints(2), a.generator(5),
                                   a.options(3, 4).dtype(a.has(3) ? a.dtype(3) : at::kLong)));
}
Napi::Value randperm(Args& a) {
  return wrap(a.env(), at::randperm(a.integer(0), a.generator(3), a.options(1, 2).dtype(a.has(1) ? a.dtype(1) : at::kLong)));
}
Napi::Value multinomial(Args& a) {
  return wrap(a.env(), at::multinomial(a.tensor(0), a.integer(1), a.boolean(2), a.generator(3)));
}
// bernoulli(probabilities) or bernoulli(like, p)
Napi::Value bernoulli(Args& a) {
  if (a.isNumber(1)) return wrap(a.env(), at::bernoulli(a.tensor(0), a.number(1), a.generator(2)));
  return wrap(a.env(), at::bernoulli(a.tensor(0), a.generator(2)));
}
Napi::Value uniform_(Args& a) {
  a.tensor(0).uniform_(a.number(1), a.number(2), a.generator(3));
  return undefined(a);
}
Napi::Value normal_(Args& a) {
  a.tensor(0).normal_(a.number(1), a.number(2), a.generator(3));
  return undefined(a);
}
Napi::Value manualSeed(Args& a) {
  at::manual_seed(static_cast<uint64_t>(a.integer(0)));
  return undefined(a);
}
at::Generator generatorOrDefault(Args& a, size_t i) {
  auto gen = a.generator(i);
  return gen ? *gen : at::detail::getDefaultCPUGenerator();
}
// The CPU generator's full state as a uint8 tensor, for exact resume.
Napi::Value getRngState(Args& a) {
  at::Generator gen = generatorOrDefault(a, 0);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(a.env(), gen.get_state());
}
Napi::Value setRngState(Args& a) {
  at::Generator gen = generatorOrDefault(a, 1);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(a.tensor(0));
  return undefined(a);
}

// ---- reading back and metadata ---------------------------------------------

// A copy of the values as an ArrayBuffer in the tensor's own dtype.
Napi::Value toArrayBuffer(Args& a) {
  at::Tensor t = a.tensor(0).detach().to(at::kCPU).contiguous();
  size_t nbytes = t.numel() * t.element_size();
  auto buffer = Napi::ArrayBuffer::New(a.env(), nbytes);
  if (nbytes > 0) std::memcpy(buffer.Data(), t.data_ptr(), nbytes);
  return buffer;
}
Napi::Value item(Args& a) {
  const at::Tensor& t = a.tensor(0);
  if (t.numel() != 1) {
    throw Napi::Error::New(a.env(), "item() needs a tensor with one element, got shape " + c10::str(t.sizes()));
  }
  at::Scalar s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(a.env(), s.toBool());
  return Napi::Number::New(a.env(), s.toDouble());
}
Napi::Value shape(Args& a) {
  auto sizes = a.tensor(0).sizes();
  auto out = Napi::Array::New(a.env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) out.Set(static_cast<uint32_t>(i), static_cast<double>(sizes[i]));
  return out;
}
Napi::Value dtype(Args& a) { return Napi::Number::New(a.env(), static_cast<int>(a.tensor(0).scalar_type())); }
Napi::Value device(Args& a) { return Napi::String::New(a.env(), a.tensor(0).device().str()); }
// The memory layout a tensor is asked for: "channels_last" (NHWC strides, what
// oneDNN's convolutions prefer on CPU) or the default row-major layout.
at::MemoryFormat memoryFormat(Args& a, size_t i) {
  if (!a.has(i)) return at::MemoryFormat::Contiguous;
  const std::string name = a.string(i);
  if (name == "channels_last") return at::MemoryFormat::ChannelsLast;
  if (name == "contiguous") return at::MemoryFormat::Contiguous;
  throw Napi::TypeError::New(a.env(), "memory format must be 'contiguous' or 'channels_last', got '" + name + "'");
}
Napi::Value isContiguous(Args& a) { return Napi::Boolean::New(a.env(), a.tensor(0).is_contiguous(memoryFormat(a, 1))); }

// ---- conversion and copies ---------------------------------------------------

// to(t, dtype?, device?)
Napi::Value to(Args& a) {
  const at::Tensor& t = a.tensor(0);
  at::ScalarType dtype = a.has(1) ? a.dtype(1) : t.scalar_type();
  at::Device device = a.has(2) ? a.device(2) : t.device();
  return wrap(a.env(), t.to(device, dtype));
}
Napi::Value clone(Args& a) { return wrap(a.env(), a.tensor(0).clone()); }
Napi::Value contiguous(Args& a) { return wrap(a.env(), a.tensor(0).contiguous(memoryFormat(a, 1))); }
Napi::Value copy_(Args& a) {
  a.tensor(0).copy_(a.tensor(1));
  return undefined(a);
}
Napi::Value fill_(Args& a) {
  a.tensor(0).fill_(a.scalar(1));
  return undefined(a);
}
Napi::Value zero_(Args& a) {
  a.tensor(0).zero_();
  return undefined(a);
}

// ---- memory, threads, devices ---------------------------------------------------

Napi::Value dispose(Args& a) {
  releaseTensor(a.env(), a.raw(0));
  return undefined(a);
}
Napi::Value reportMemory(Args& a) {
  reportTensorMemory(a.env(), a.raw(0));
  return undefined(a);
}
Napi::Value isDisposed(Args& a) {
  bool isHandle;
  bool disposed = lookupTensor(a.env(), a.raw(0), &isHandle) == nullptr;
  if (!isHandle) a.typeError(0, "a tensor");
  return Napi::Boolean::New(a.env(), disposed);
}
Napi::Value liveTensors(Args& a) { return Napi::Number::New(a.env(), static_cast<double>(liveTensorCount())); }
Napi::Value setNumThreads(Args& a) {
  int64_t n = a.integer(0);
  if (n < 1) throw Napi::RangeError::New(a.env(), "thread count must be at least 1, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  return undefined(a);
}
Napi::Value getNumThreads(Args& a) { return Napi::Number::New(a.env(), at::get_num_threads()); }
// torch::cuda is libtorch's stable public API for this, in 1.13 and 2.x alike.
Napi::Value cudaIsAvailable(Args& a) { return Napi::Boolean::New(a.env(), torch::cuda::is_available()); }
Napi::Value cudaDeviceCount(Args& a) { return Napi::Number::New(a.env(), static_cast<double>(torch::cuda::device_count())); }
// Waits for every queued kernel of the current CUDA device: a phase timed on
// the host clock (--profile) ends when its GPU work ends, not when it was queued.
Napi::Value cudaSynchronize(Args& a) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return undefined(a);
}

}  // namespace

void registerTensor(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {
      {"fromData", fromData}, {"zeros", zeros}, {"ones", ones}, {"empty", empty}, {"full", full},
      {"arange", arange}, {"linspace", linspace}, {"eye", eye},
      {"rand", rand}, {"randn", randn}, {"randint", randint}, {"randperm", randperm},
      {"multinomial", multinomial}, {"bernoulli", bernoulli}, {"uniform_", uniform_}, {"normal_", normal_},
      {"manualSeed", manualSeed}, {"getRngState", getRngState}, {"setRngState", setRngState},
      {"toArrayBuffer", toArrayBuffer}, {"item", item}, {"shape", shape}, {"dtype", dtype},
      {"device", device}, {"isContiguous", isContiguous},
      {"to", to}, {"clone", clone}, {"contiguous", contiguous}, {"copy_", copy_}, {"fill_", fill_}, {"zero_", zero_},
      {"dispose", dispose}, {"reportMemory", reportMemory}, {"isDisposed", isDisposed}, {"liveTensors", liveTensors},
      {"setNumThreads", setNumThreads}, {"getNumThreads", getNumThreads},
      {"cudaIsAvailable", cudaIsAvailable}, {"cudaDeviceCount", cudaDeviceCount}, {"cudaSynchronize", cudaSynchronize},
  });
}

}  // namespace rt
