// Process groups for data-parallel training: libtorch's c10d, the engine
// under PyTorch's DistributedDataParallel (docs/design.md §1, §3). Gloo on
// CPU, NCCL for CUDA tensors when the libtorch we link was built with it;
// rendezvous through a TCPStore (rank 0 serves it) or a FileStore.
//
// Collectives return a work handle at once (Gloo and NCCL run them on their
// own threads); `distWait` blocks until one is done. Nothing here knows about
// models: the TypeScript side (src/torch/distributed.ts) chooses the tensors.
//
// Built only when the headers are there (CMake defines ROBUSTOK_DISTRIBUTED):
// Debian's libtorch-dev includes <gloo/...> from libgloo-dev, which it does
// not depend on. Without them `distAvailability` says why, and nothing else
// is registered.
#include "common.h"

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#if ROBUSTOK_DISTRIBUTED
#include "distributed.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace rt {

#if ROBUSTOK_DISTRIBUTED
namespace {

using Millis = std::chrono::milliseconds;

// A launched collective. `tensors` keeps its inputs alive while the backend's
// threads use them (JS may dispose its handles meanwhile); `divideBy` turns a
// sum into a mean on completion (Gloo has no AVG in 1.13).
struct WorkHolder {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> tensors;
  std::vector<std::vector<at::Tensor>> gathered;
  double divideBy = 1.0;
  bool finished = false;
};

Napi::Value wrapWork(Args& a, std::unique_ptr<WorkHolder> w) {
  return Napi::External<WorkHolder>::New(a.env(), w.release(), [](Napi::Env, WorkHolder* h) { delete h; });
}

std::string seconds(Millis t) {
  std::ostringstream s;
  s << static_cast<double>(t.count()) / 1000.0;
  return s.str();
}

std::string endpoint(const std::string& host, int port) { return host + ":" + std::to_string(port); }

// The store every rank meets at. Rank 0 serves a TCPStore and waits for the
// others; a wrong address or port otherwise surfaces as a bare socket
// timeout, so the failure names both and the timeout.
c10::intrusive_ptr<c10d::Store> openStore(Args& a, const Napi::Object& o, int rank, int size, Millis timeout) {
  const std::string kind = o.Get("store").As<Napi::String>();
  if (kind == "file") {
    const std::string file = o.Get("path").As<Napi::String>();
    return c10::make_intrusive<c10d::FileStore>(file, size);
  }
  const std::string host = o.Get("host").As<Napi::String>();
  const int port = o.Get("port").As<Napi::Number>().Int32Value();
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<uint16_t>(port);
  opts.isServer = rank == 0;
  opts.numWorkers = size;
  opts.waitWorkers = true;
  opts.timeout = timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(host, opts);
  } catch (const std::exception& e) {
    const auto* torchError = dynamic_cast<const c10::Error*>(&e);
    const std::string what = torchError ? torchError->what_without_backtrace() : e.what();
    throw Napi::Error::New(a.env(), "rendezvous at " + endpoint(host, port) + " failed for rank " + std::to_string(rank) + " of " +
                                        std::to_string(size) + " within the timeout of " + seconds(timeout) +
                                        " s (" + (rank == 0 ? "not every rank connected" : "is rank 0 serving there? check MASTER_ADDR and MASTER_PORT") +
                                        "): " + what);
  }
}

// Every rank was started with its own idea of the world size; a mismatch would
// otherwise hang in Gloo's rendezvous until the timeout. Each rank posts its
// size and compares it with rank 0's.
void checkWorldSize(Args& a, c10d::Store& store, int rank, int size) {
  const std::string mine = std::to_string(size);
  store.set("robustok/world_size/" + std::to_string(rank), std::vector<uint8_t>(mine.begin(), mine.end()));
  auto theirs = store.get("robustok/world_size/0");
  const std::string rootSize(theirs.begin(), theirs.end());
  if (rootSize != mine) {
    throw Napi::Error::New(a.env(), "world size mismatch: rank " + std::to_string(rank) + " was started with world size " + mine +
                                        " but rank 0 with " + rootSize + "; start every rank with the same WORLD_SIZE");
  }
}

// distNewGroup({backend, store: 'tcp'|'file', host, port, path, rank, worldSize, timeoutMs})
Napi::Value newGroup(Args& a) {
  if (!a.raw(0).IsObject()) a.typeError(0, "an options object");
  const Napi::Object o = a.raw(0).As<Napi::Object>();
  const std::string backend = o.Get("backend").As<Napi::String>();
  const int rank = o.Get("rank").As<Napi::Number>().Int32Value();
  const int size = o.Get("worldSize").As<Napi::Number>().Int32Value();
  const Millis timeout(o.Get("timeoutMs").As<Napi::Number>().Int64Value());
  auto holder = std::make_unique<GroupHolder>();
  holder->rank = rank;
  holder->size = size;
  holder->backend = backend;
  holder->store = openStore(a, o, rank, size, timeout);
  holder->store->setTimeout(timeout);
  checkWorldSize(a, *holder->store, rank, size);
  // Each group gets its own key space, as torch.distributed does, so a second group reuses the store.
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("robustok/" + backend, holder->store);
  if (backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Gloo needs a transport device; without one the constructor fails. The
    // hostname's address is what peers reach; loopback when it has none.
    try {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.Get("host").IsString() ? o.Get("host").As<Napi::String>().Utf8Value() : "127.0.0.1"));
    } catch (const std::exception&) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 2;
    holder->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, size, options);
  } else if (backend == "nccl") {
#ifdef USE_C10D_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    holder->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, size, options);
#else
    throw Napi::Error::New(a.env(), "backend nccl: this libtorch was built without NCCL (a CUDA libtorch given with LIBTORCH has it); use gloo");
#endif
  } else {
    throw Napi::Error::New(a.env(), "unknown backend '" + backend + "' (known: gloo, nccl)");
  }
  return Napi::External<GroupHolder>::New(a.env(), holder.release(), [](Napi::Env, GroupHolder* h) { delete h; });
}

Napi::Value destroyGroup(Args& a) {
  if (!a.raw(0).IsExternal()) a.typeError(0, "a process group");
  GroupHolder* g = a.raw(0).As<Napi::External<GroupHolder>>().Data();
  g->group.reset();
  g->store.reset();
  return a.env().Undefined();
}

void requireDense(Args& a, const std::vector<at::Tensor>& tensors, const char* op) {
  for (const auto& t : tensors) {
    if (!t.is_contiguous()) throw Napi::Error::New(a.env(), std::string(op) + ": tensors must be contiguous (call .contiguous() first)");
  }
}

// distAllReduce(group, tensors, op: 'sum'|'avg'|'max'|'min'): in place.
Napi::Value allReduce(Args& a) {
  GroupHolder& g = group(a, 0);
  auto w = std::make_unique<WorkHolder>();
  w->tensors = a.tensors(1);
  requireDense(a, w->tensors, "allReduce");
  const std::string op = a.string(2);
  c10d::AllreduceOptions opts;
  if (op == "sum" || op == "avg") {
    opts.reduceOp = c10d::ReduceOp::SUM;
    if (op == "avg") w->divideBy = g.size;
  } else if (op == "max") {
    opts.reduceOp = c10d::ReduceOp::MAX;
  } else if (op == "min") {
    opts.reduceOp = c10d::ReduceOp::MIN;
  } else {
    throw Napi::Error::New(a.env(), "allReduce: unknown op '" + op + "' (known: sum, avg, max, min)");
  }
  w->work = g.group->allreduce(w->tensors, opts);
  return wrapWork(a, std::move(w));
}

// distBroadcast(group, tensors, root): in place.
Napi::Value broadcast(Args& a) {
  GroupHolder& g = group(a, 0);
  auto w = std::make_unique<WorkHolder>();
  w->tensors = a.tensors(1);
  requireDense(a, w->tensors, "broadcast");
  c10d::BroadcastOptions opts;
  opts.rootRank = static_cast<int64_t>(a.integer(2));
  w->work = g.group->broadcast(w->tensors, opts);
  return wrapWork(a, std::move(w));
}

// distAllGather(group, tensor): the result (after wait) is one tensor per rank.
Napi::Value allGather(Args& a) {
  GroupHolder& g = group(a, 0);
  auto w = std::make_unique<WorkHolder>();
  w->tensors = {a.tensor(1)};
  requireDense(a, w->tensors, "allGather");
  w->gathered.resize(1);
  for (int r = 0; r < g.size; r++) w->gathered[0].push_back(at::empty_like(w->tensors[0]));
  w->work = g.group->allgather(w->gathered, w->tensors);
  return wrapWork(a, std::move(w));
}

Napi::Value barrier(Args& a) {
  GroupHolder& g = group(a, 0);
  auto w = std::make_unique<WorkHolder>();
  w->work = g.group->barrier();
  return wrapWork(a, std::move(w));
}

// distWait(work, timeoutMs?): blocks; returns the gathered tensors, or undefined.
Napi::Value wait(Args& a) {
  if (!a.raw(0).IsExternal()) a.typeError(0, "a work handle");
  WorkHolder* w = a.raw(0).As<Napi::External<WorkHolder>>().Data();
  if (w->finished) throw Napi::Error::New(a.env(), "wait: this work was already waited for");
  w->finished = true;
  if (a.has(1)) {
    w->work->wait(Millis(a.integer(1)));
  } else {
    w->work->wait();
  }
  if (w->divideBy != 1.0) {
    for (auto& t : w->tensors) t.div_(w->divideBy);
  }
  Napi::Value result = w->gathered.empty() ? a.env().Undefined() : wrapAll(a.env(), w->gathered[0]);
  w->tensors.clear();
  w->gathered.clear();
  return result;
}

Napi::Value isCompleted(Args& a) {
  if (!a.raw(0).IsExternal()) a.typeError(0, "a work handle");
  return Napi::Boolean::New(a.env(), a.raw(0).As<Napi::External<WorkHolder>>().Data()->work->isCompleted());
}

Napi::Value availability(Args& a) {
  Napi::Object out = Napi::Object::New(a.env());
  Napi::Array backends = Napi::Array::New(a.env());
  backends.Set(0u, Napi::String::New(a.env(), "gloo"));
#ifdef USE_C10D_NCCL
  backends.Set(1u, Napi::String::New(a.env(), "nccl"));
#endif
  out.Set("backends", backends);
  return out;
}

}  // namespace

GroupHolder& group(Args& a, size_t i) {
  if (!a.raw(i).IsExternal()) a.typeError(i, "a process group");
  GroupHolder* g = a.raw(i).As<Napi::External<GroupHolder>>().Data();
  if (!g->group) throw Napi::Error::New(a.env(), "the process group was destroyed");
  return *g;
}

void registerDistributed(Napi::Env env, Napi::Object exports) {
  registerGradReducer(env, exports);
  registerOps(env, exports, {
      {"distAvailability", availability},
      {"distNewGroup", newGroup},
      {"distDestroyGroup", destroyGroup},
      {"distAllReduce", allReduce},
      {"distBroadcast", broadcast},
      {"distAllGather", allGather},
      {"distBarrier", barrier},
      {"distWait", wait},
      {"distIsCompleted", isCompleted},
  });
}

#else  // !ROBUSTOK_DISTRIBUTED

namespace {
Napi::Value availability(Args& a) {
  Napi::Object out = Napi::Object::New(a.env());
  out.Set("backends", Napi::Array::New(a.env()));
  out.Set("reason", Napi::String::New(a.env(), ROBUSTOK_DISTRIBUTED_MISSING));
  return out;
}
}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {{"distAvailability", availability}});
}

#endif

}  // namespace rt
