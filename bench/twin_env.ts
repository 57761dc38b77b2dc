// The environment a benchmark's Python twin runs in: robustok's own thread
// counts, both of them — OpenMP threads for libtorch's kernels and OpenBLAS
// threads for its BLAS calls (one unless OPENBLAS_NUM_THREADS or
// ROBUSTOK_BLAS_THREADS say otherwise; see tuneBlasThreads in
// native/src/common.cc) — so both sides compute with the same parallelism.
export function twinEnv(threads: number): NodeJS.ProcessEnv {
  const blas = process.env.OPENBLAS_NUM_THREADS ?? process.env.ROBUSTOK_BLAS_THREADS ?? '1';
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: blas };
}
