// Runtime tuning done once when the addon loads, for speed only: glibc's
// malloc thresholds and OpenBLAS's thread count. It changes no result, only
// how fast a training loop runs; each setting says what it measured and how
// to turn it off. (libtorch's own intra-op thread count is chosen in
// TypeScript, src/torch/threads.ts, which can sample the machine's load.)
#include "common.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <dlfcn.h>

namespace rt {
namespace {

// A training step allocates and frees the same large buffers every step.
// With glibc's defaults, freeing them returns the memory to the OS and the
// next step faults it back in page by page: measured here, 13k page faults
// and ~25% of a small conv net's step. Serving blocks up to 1 GiB from the
// heap and keeping up to 2 GiB of it freed removes that. (The first setting,
// 64 MiB / 256 MiB, still mapped the 77 MB activations of a perceptual loss
// through MobileNetV2 at 224 px, batch 16, anew each step: post-training with
// it ran 1.7–2.3× slower.) ROBUSTOK_MALLOC=system keeps glibc's defaults and
// its MALLOC_*_ variables.
void tuneAllocator() {
#if defined(__GLIBC__)
  const char* mode = std::getenv("ROBUSTOK_MALLOC");
  if (mode != nullptr && std::string(mode) == "system") return;
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, INT32_MAX);  // 2 GiB: an int's largest
#endif
}

// libtorch parallelises its kernels over its own OpenMP pool; a pthreads
// OpenBLAS (Debian's default) keeps a second pool whose threads spin after
// each call and take the cores from the first. Measured on 2 cores: a
// 64×512 matrix-vector product inside a training step took 1.2 ms instead of
// 5 µs, and a step of the small tokenizer 191 ms instead of 155 ms. One BLAS
// thread removes the fight at the price of single-threaded large GEMMs
// (4096×512×512: 13 → 23 ms). OPENBLAS_NUM_THREADS or ROBUSTOK_BLAS_THREADS
// choose otherwise; other BLAS libraries (MKL) do not export the symbol.
void tuneBlasThreads() {
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set == nullptr) return;
  const char* wanted = std::getenv("ROBUSTOK_BLAS_THREADS");
  int n = wanted != nullptr ? std::atoi(wanted) : 1;
  set(n >= 1 ? n : 1);
}

}  // namespace

void tuneRuntime() {
  tuneAllocator();
  tuneBlasThreads();
}

}  // namespace rt
