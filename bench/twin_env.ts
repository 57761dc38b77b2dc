// The environment a benchmark's Python twin runs in: robustok's own thread
// counts, both of them — OpenMP threads for libtorch's kernels and OpenBLAS
// threads for its BLAS calls (one unless OPENBLAS_NUM_THREADS or
// ROBUSTOK_BLAS_THREADS say otherwise; see tuneBlasThreads in
// native/src/common.cc) — so both sides compute with the same parallelism.
import { getNumThreads, setNumThreads } from '../src/torch/index.js';

export function twinEnv(threads: number): NodeJS.ProcessEnv {
  const blas = process.env.OPENBLAS_NUM_THREADS ?? process.env.ROBUSTOK_BLAS_THREADS ?? '1';
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: blas };
}

/**
 * The thread count both sides of a twin benchmark run with: the one chosen at
 * load (ROBUSTOK_THREADS, or the cores found free), pinned. A training loop
 * otherwise lets the thread governor (src/torch/threads.ts) follow the load
 * every 15 s, and the twin's turns, which alternate with robustok's, read to
 * it as another process keeping a core busy: robustok's loops then ran on one
 * thread against the twin's two (bench:posttrain's loop 1.4–1.55× slower).
 */
export function pinnedThreads(): number {
  const threads = getNumThreads();
  setNumThreads(threads);
  return threads;
}
