// Run by machine_bench.ts as a child process with OPENBLAS_NUM_THREADS and
// ROBUSTOK_THREADS set to the count under test: OpenBLAS reads its count once,
// at load, and the addon sets it to 1 otherwise (native/src/runtime.cc), so
// a matrix product at N threads needs a process started with N. Prints the
// median GFLOP/s of a 1024² float32 matrix product.
import { randn, tidy } from '../torch/index.js';

const N = 1024;
const WARMUP = 3;
const TIMED = 9;
const a = randn([N, N]).keep();
const b = randn([N, N]).keep();
const times: number[] = [];
for (let i = 0; i < WARMUP + TIMED; i++) {
  const start = performance.now();
  tidy(() => a.matmul(b));
  if (i >= WARMUP) times.push(performance.now() - start);
}
times.sort((x, y) => x - y);
console.log(String((2 * N ** 3) / (times[TIMED >> 1]! * 1e6)));
