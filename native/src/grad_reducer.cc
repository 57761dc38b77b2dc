// Gradient averaging that overlaps backward, as PyTorch's DDP Reducer does
// (Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel
// Training", VLDB 2020, §3.2): a hook on each parameter's gradient
// accumulator marks the parameter ready as soon as backward has produced its
// gradient; once every parameter of a bucket is ready, the bucket is
// flattened and its all-reduce launched on the backend's threads while
// backward goes on computing the gradients of earlier layers.
//
// Buckets launch strictly in their order, so every rank issues the same
// collectives in the same sequence (Gloo and NCCL pair them up by order).
// A bucket with a parameter this backward did not reach (a discriminator's
// backward leaves the model alone) therefore holds back the ones after it
// until `finish`, which launches what is left with only the parameters that
// did get a gradient, waits, and writes the means back into `.grad`.
//
// Generic: it sees tensors and bucket lists; src/train/distributed.ts
// chooses them (docs/design.md §10a). Compiled with distributed.cc's
// definitions: empty when the c10d headers are missing.
#include "common.h"

#if ROBUSTOK_DISTRIBUTED
#include "distributed.h"

#include <memory>
#include <mutex>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

namespace rt {
namespace {

struct Launched {
  at::Tensor flat;
  std::vector<size_t> params;
  c10::intrusive_ptr<c10d::Work> work;
};

// What the hooks and the JS calls share. Hooks run on the thread that runs
// backward (the caller's on CPU, a device thread on CUDA), hence the mutex.
struct ReducerState {
  c10::intrusive_ptr<GroupBase> group;
  double worldSize = 1;
  std::vector<at::Tensor> params;
  std::vector<std::vector<size_t>> buckets;  // parameter indices, in launch order
  std::vector<size_t> bucketOf;

  std::mutex mutex;
  bool armed = false;              // between arm() and finish(): hooks count
  std::vector<char> ready;         // per parameter: its gradient is final for this backward
  std::vector<size_t> missing;     // per bucket: parameters not yet ready
  size_t next = 0;                 // the first bucket not yet launched
  size_t duringBackward = 0;       // buckets launched from a hook in this backward
  std::vector<Launched> launched;

  // Flattens the ready gradients of bucket b and starts their sum. Caller holds the mutex.
  void launch(size_t b) {
    Launched l;
    std::vector<at::Tensor> grads;
    for (size_t p : buckets[b]) {
      if (!ready[p]) continue;
      l.params.push_back(p);
      grads.push_back(params[p].grad().reshape({-1}));
    }
    if (grads.empty()) return;
    at::NoGradGuard noGrad;
    l.flat = at::cat(grads);
    std::vector<at::Tensor> io{l.flat};
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    l.work = group->allreduce(io, opts);
    launched.push_back(std::move(l));
  }

  void markReady(size_t p) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || ready[p]) return;
    ready[p] = 1;
    if (--missing[bucketOf[p]] > 0) return;
    for (; next < buckets.size() && missing[next] == 0; next++) {
      launch(next);
      duringBackward++;
    }
  }

  // Waits for what a backward that threw half-way left in flight (its results are not used).
  void drain() {
    for (auto& l : launched) {
      try {
        l.work->wait();
      } catch (const std::exception&) {
      }
    }
    launched.clear();
  }
};

struct ReducerHolder {
  std::shared_ptr<ReducerState> state;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive: a new one would not carry the hook
  std::vector<uintptr_t> hooks;

  void removeHooks() {
    for (size_t i = 0; i < hooks.size(); i++) accumulators[i]->del_post_hook(hooks[i]);
    hooks.clear();
    accumulators.clear();
  }
  ~ReducerHolder() { removeHooks(); }
};

ReducerHolder& reducer(Args& a, size_t i) {
  if (!a.raw(i).IsExternal()) a.typeError(i, "a gradient reducer");
  ReducerHolder* r = a.raw(i).As<Napi::External<ReducerHolder>>().Data();
  if (!r->state) throw Napi::Error::New(a.env(), "the gradient reducer was disposed");
  return *r;
}

// distReducerNew(group, params, buckets: number[][]): every parameter in exactly one bucket.
Napi::Value newReducer(Args& a) {
  GroupHolder& g = group(a, 0);
  auto state = std::make_shared<ReducerState>();
  state->group = g.group;
  state->worldSize = g.size;
  state->params = a.tensors(1);
  const size_t n = state->params.size();
  if (!a.raw(2).IsArray()) a.typeError(2, "an array of buckets (arrays of parameter indices)");
  const auto buckets = a.raw(2).As<Napi::Array>();
  state->bucketOf.assign(n, SIZE_MAX);
  for (uint32_t b = 0; b < buckets.Length(); b++) {
    const auto members = buckets.Get(b).As<Napi::Array>();
    std::vector<size_t> bucket;
    for (uint32_t k = 0; k < members.Length(); k++) {
      const double p = members.Get(k).As<Napi::Number>().DoubleValue();
      if (!(p >= 0 && p < n) || state->bucketOf[static_cast<size_t>(p)] != SIZE_MAX) {
        throw Napi::Error::New(a.env(), "gradient reducer: bucket " + std::to_string(b) + " names parameter " + std::to_string(p) +
                                            ", which is out of range or already in a bucket");
      }
      bucket.push_back(static_cast<size_t>(p));
      state->bucketOf[static_cast<size_t>(p)] = b;
    }
    state->buckets.push_back(std::move(bucket));
  }
  for (size_t p = 0; p < n; p++) {
    if (state->bucketOf[p] == SIZE_MAX) throw Napi::Error::New(a.env(), "gradient reducer: parameter " + std::to_string(p) + " is in no bucket");
    if (!state->params[p].requires_grad() || !state->params[p].is_leaf()) {
      throw Napi::Error::New(a.env(), "gradient reducer: parameter " + std::to_string(p) + " is not a leaf that requires grad");
    }
  }
  auto holder = std::make_unique<ReducerHolder>();
  holder->state = state;
  std::weak_ptr<ReducerState> weak = state;
  for (size_t p = 0; p < n; p++) {
    auto accumulator = torch::autograd::impl::grad_accumulator(state->params[p]);
    holder->hooks.push_back(accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, p](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto s = weak.lock()) s->markReady(p);
          return outputs;
        })));
    holder->accumulators.push_back(std::move(accumulator));
  }
  return Napi::External<ReducerHolder>::New(a.env(), holder.release(), [](Napi::Env, ReducerHolder* h) { delete h; });
}

// distReducerArm(reducer): the next backward's gradients count.
Napi::Value arm(Args& a) {
  ReducerState& s = *reducer(a, 0).state;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.drain();
  s.ready.assign(s.params.size(), 0);
  s.missing.clear();
  for (const auto& b : s.buckets) s.missing.push_back(b.size());
  s.next = 0;
  s.duringBackward = 0;
  s.armed = true;
  return a.env().Undefined();
}

// distReducerFinish(reducer): launches the rest, waits, averages into .grad;
// returns {gradients: how many it averaged, bucketsDuringBackward}.
Napi::Value finish(Args& a) {
  ReducerState& s = *reducer(a, 0).state;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.armed) throw Napi::Error::New(a.env(), "gradient reducer: finish() without arm()");
  s.armed = false;
  for (; s.next < s.buckets.size(); s.next++) s.launch(s.next);
  at::NoGradGuard noGrad;
  size_t averaged = 0;
  for (auto& l : s.launched) {
    l.work->wait();
    l.flat.div_(s.worldSize);
    int64_t offset = 0;
    for (size_t p : l.params) {
      at::Tensor grad = s.params[p].mutable_grad();
      grad.copy_(l.flat.narrow(0, offset, grad.numel()).view(grad.sizes()));
      offset += grad.numel();
    }
    averaged += l.params.size();
  }
  s.launched.clear();
  Napi::Object out = Napi::Object::New(a.env());
  out.Set("gradients", static_cast<double>(averaged));
  out.Set("bucketsDuringBackward", static_cast<double>(s.duringBackward));
  return out;
}

// distReducerDispose(reducer): removes the hooks; later calls fail.
Napi::Value dispose(Args& a) {
  ReducerHolder& r = reducer(a, 0);
  {
    std::lock_guard<std::mutex> lock(r.state->mutex);
    r.state->drain();
  }
  r.removeHooks();
  r.state.reset();
  return a.env().Undefined();
}

}  // namespace

void registerGradReducer(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {
      {"distReducerNew", newReducer},
      {"distReducerArm", arm},
      {"distReducerFinish", finish},
      {"distReducerDispose", dispose},
  });
}

}  // namespace rt

#endif  // ROBUSTOK_DISTRIBUTED
