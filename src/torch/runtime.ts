// Threads, devices and memory accounting of the libtorch runtime.
import os from 'node:os';
import { native as N } from './native.js';
import { ThreadGovernor, type ThreadDecision, procSampler } from './threads.js';

/** libtorch's version, e.g. "1.13.0". */
export const torchVersion = N.torchVersion as unknown as string;

/**
 * libtorch's intra-op (OpenMP) thread count, chosen at load and adaptable
 * during long runs (threads.ts says why). libtorch loaded into Node would
 * otherwise start with a single thread. A training loop calls
 * `threadGovernor.maybeAdjust()` between steps: it costs one clock read
 * except every 15 s, when it may change the count and says why.
 */
export const threadGovernor = new ThreadGovernor({
  cores: os.availableParallelism(),
  sample: procSampler(),
  apply: (n) => N.setNumThreads(n),
});
// ROBUSTOK_THREADS pins the count; else ~100 ms of sampling at load picks it.
threadGovernor.start(process.env.ROBUSTOK_THREADS);

/** Sets libtorch's intra-op (OpenMP) thread count and keeps it: the count no longer adapts to the load. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`thread count must be a positive integer, got ${n}`);
  threadGovernor.pin(n);
}
export const getNumThreads = (): number => N.getNumThreads();
/** The thread count in force and why: `source` 'env' | 'pinned' | 'sampled' | 'unsampled', `busyByOthers` in cores, `reason` in words. */
export const threadDecision = (): ThreadDecision => threadGovernor.decision();

/** The number of native tensors alive (not yet disposed or collected). */
export const liveTensors = (): number => N.liveTensors();

export const cuda = {
  /** Whether this libtorch build has CUDA and a GPU is visible. */
  isAvailable: (): boolean => N.cudaIsAvailable(),
  deviceCount: (): number => N.cudaDeviceCount(),
  /** Waits for the current GPU's queued work (nothing without CUDA). */
  synchronize: (): void => N.cudaSynchronize(),
};
