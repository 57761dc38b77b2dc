// Autograd: gradient flags, backward, torch.autograd.grad and grad mode.
#include "common.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace rt {
namespace {

Napi::Value undefined(Args& a) { return a.env().Undefined(); }

Napi::Value requiresGrad(Args& a) { return Napi::Boolean::New(a.env(), a.tensor(0).requires_grad()); }
Napi::Value setRequiresGrad(Args& a) {
  a.tensor(0).requires_grad_(a.boolean(1, true));
  return undefined(a);
}
Napi::Value isLeaf(Args& a) { return Napi::Boolean::New(a.env(), a.tensor(0).is_leaf()); }
// The accumulated gradient (an alias, not a copy), or null.
Napi::Value grad(Args& a) { return wrap(a.env(), a.tensor(0).grad()); }
// gradVersion(t): the version counter of t's gradient (bumped by every in-place
// accumulation), or -1 without one; tells which gradients a backward touched.
Napi::Value gradVersion(Args& a) {
  const at::Tensor& g = a.tensor(0).grad();
  return Napi::Number::New(a.env(), g.defined() ? static_cast<double>(g._version()) : -1.0);
}
// setGrad(t, g | null), checked as PyTorch checks `t.grad = g`.
Napi::Value setGrad(Args& a) {
  at::Tensor& t = a.tensor(0);
  if (!a.has(1)) {
    t.mutable_grad().reset();
    return undefined(a);
  }
  const at::Tensor& g = a.tensor(1);
  if (g.sizes() != t.sizes()) {
    throw Napi::Error::New(a.env(), "assigned grad has shape " + c10::str(g.sizes()) + " but the tensor has shape " + c10::str(t.sizes()));
  }
  if (g.scalar_type() != t.scalar_type() || g.device() != t.device()) {
    throw Napi::Error::New(a.env(), "assigned grad is " + std::string(c10::toString(g.scalar_type())) + " on " + g.device().str() +
                                        " but the tensor is " + c10::toString(t.scalar_type()) + " on " + t.device().str());
  }
  t.mutable_grad() = g;
  return undefined(a);
}
// setData(t, source): t takes source's storage, dtype and device but stays the
// same autograd leaf (PyTorch's `param.data = ...`), so references held by
// optimizers stay valid across Module.to(). Where libtorch cannot share the
// implementation (a move to or from `meta`), the handle takes a detached
// `source` instead, as PyTorch's Module._apply swaps in a new Parameter.
Napi::Value setData(Args& a) {
  at::Tensor& t = a.tensor(0);
  const at::Tensor& source = a.tensor(1);
  if (at::_has_compatible_shallow_copy_type(t, source)) {
    t.set_data(source);
  } else {
    const bool requiresGrad = t.requires_grad();
    t = source.detach();
    if (requiresGrad) t.requires_grad_(true);
  }
  return undefined(a);
}
Napi::Value detach(Args& a) { return wrap(a.env(), a.tensor(0).detach()); }
Napi::Value detach_(Args& a) {
  a.tensor(0).detach_();
  return undefined(a);
}
// backward(output, gradOutput?, retainGraph?, createGraph = false)
Napi::Value backward(Args& a) {
  at::Tensor gradOutput = a.has(1) ? a.tensor(1) : at::Tensor();
  c10::optional<bool> retain;
  if (a.has(2)) retain = a.boolean(2);
  a.tensor(0).backward(gradOutput, retain, a.boolean(3));
  return undefined(a);
}
// autogradGrad(outputs, inputs, gradOutputs?, retainGraph?, createGraph, allowUnused):
// d(outputs)/d(inputs) without touching .grad; unused inputs give null.
Napi::Value autogradGrad(Args& a) {
  auto outputs = a.tensors(0);
  auto inputs = a.tensors(1);
  std::vector<at::Tensor> gradOutputs = a.has(2) ? a.tensors(2) : std::vector<at::Tensor>{};
  c10::optional<bool> retain;
  if (a.has(3)) retain = a.boolean(3);
  auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, a.boolean(4), a.boolean(5));
  return wrapAll(a.env(), grads);
}
// setGradEnabled(enabled) → the previous mode
Napi::Value setGradEnabled(Args& a) {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(a.boolean(0));
  return Napi::Boolean::New(a.env(), previous);
}
Napi::Value isGradEnabled(Args& a) { return Napi::Boolean::New(a.env(), at::GradMode::is_enabled()); }

// Autocast, as torch.autocast: while on for a device type, the ops libtorch
// lists (matrix products, convolutions) run in the lower dtype and the ones
// that need range (norms, softmax, losses) in float32. Thread-local, like
// grad mode; only forward ops are cast (backward follows their dtypes).
// libtorch 2.4 replaced the per-device functions with ones taking the type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocastEnabled(at::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
at::ScalarType autocastDtype(at::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
void setAutocast(at::DeviceType t, bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_enabled(t, enabled);
  at::autocast::set_autocast_dtype(t, dtype);
}
#else
bool autocastEnabled(at::DeviceType t) { return t == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
at::ScalarType autocastDtype(at::DeviceType t) { return t == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype(); }
void setAutocast(at::DeviceType t, bool enabled, at::ScalarType dtype) {
  if (t == at::kCUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
}
#endif

at::DeviceType autocastDeviceType(Args& a, size_t i) {
  const std::string type = a.string(i);
  if (type == "cpu") return at::kCPU;
  if (type == "cuda") return at::kCUDA;
  throw Napi::Error::New(a.env(), "autocast: device type must be cpu or cuda, got '" + type + "'");
}

// autocastSet(deviceType, enabled, dtype) → [previously enabled, previous dtype]
Napi::Value autocastSet(Args& a) {
  const at::DeviceType t = autocastDeviceType(a, 0);
  Napi::Array previous = Napi::Array::New(a.env(), 2);
  previous.Set(0u, Napi::Boolean::New(a.env(), autocastEnabled(t)));
  previous.Set(1u, Napi::Number::New(a.env(), static_cast<int>(autocastDtype(t))));
  setAutocast(t, a.boolean(1), a.dtype(2));
  return previous;
}
// Casts of the weights are cached while any autocast region is open, and dropped when the outermost closes (as torch.autocast's __exit__).
Napi::Value autocastEnter(Args& a) {
  at::autocast::increment_nesting();
  return a.env().Undefined();
}
Napi::Value autocastExit(Args& a) {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  return a.env().Undefined();
}

}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {
      {"requiresGrad", requiresGrad}, {"setRequiresGrad", setRequiresGrad}, {"isLeaf", isLeaf},
      {"grad", grad}, {"gradVersion", gradVersion}, {"setGrad", setGrad}, {"setData", setData}, {"detach", detach}, {"detach_", detach_}, {"backward", backward},
      {"autogradGrad", autogradGrad}, {"setGradEnabled", setGradEnabled}, {"isGradEnabled", isGradEnabled},
      {"autocastSet", autocastSet}, {"autocastEnter", autocastEnter}, {"autocastExit", autocastExit},
  });
}

}  // namespace rt
