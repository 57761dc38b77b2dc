// Threads, devices and memory accounting of the libtorch runtime.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { native as N } from './native.js';

/** libtorch's version, e.g. "1.13.0". */
export const torchVersion = N.torchVersion as unknown as string;

/** Sets libtorch's intra-op (OpenMP) thread count. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`thread count must be a positive integer, got ${n}`);
  N.setNumThreads(n);
}
export const getNumThreads = (): number => N.getNumThreads();

/**
 * The default thread count: ROBUSTOK_THREADS, else the cores not busy right
 * now. OpenMP threads busy-wait for each other, so one more thread than
 * there are free cores costs far more than one fewer (DESIGN.md measured a
 * 20× slower step with one core taken). libtorch loaded into Node would
 * otherwise start with a single thread.
 */
export function defaultThreads(): number {
  const fromEnv = process.env.ROBUSTOK_THREADS;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ROBUSTOK_THREADS must be a positive integer, got '${fromEnv}'`);
    return n;
  }
  return Math.max(1, os.availableParallelism() - otherRunnableTasks());
}

/** Tasks runnable right now besides this one (Linux's /proc/loadavg; 0 elsewhere). */
function otherRunnableTasks(): number {
  try {
    const running = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[0]);
    return Number.isInteger(running) ? Math.max(0, running - 1) : 0;
  } catch {
    return 0;
  }
}
setNumThreads(defaultThreads());

/** The number of native tensors alive (not yet disposed or collected). */
export const liveTensors = (): number => N.liveTensors();

export const cuda = {
  /** Whether this libtorch build has CUDA and a GPU is visible. */
  isAvailable: (): boolean => N.cudaIsAvailable(),
  deviceCount: (): number => N.cudaDeviceCount(),
};

/** 'cuda' when available, else 'cpu'. */
export const defaultDevice = (): 'cuda' | 'cpu' => (cuda.isAvailable() ? 'cuda' : 'cpu');
