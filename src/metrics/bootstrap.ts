// A seeded percentile bootstrap: confidence intervals for statistics of a
// few measured runs (a mean over seeds, a rank correlation over tokenizers),
// resampling whole units so that what belongs together stays together.
// Plain numbers in and out, seeded on the host so intervals never move.
import { mulberry32 } from '../torch/index.js';

/** A small seeded stream of uniforms (mulberry32): bootstrap intervals must come out the same on every run. */
export const seededUniform = (seed: number): (() => number) => mulberry32(seed);

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  seed?: number;
}

export interface Interval {
  /** The statistic on the data as measured. */
  estimate: number;
  lo: number;
  hi: number;
  level: number;
  /** Resamples whose statistic was finite (a resample of tied points can have no correlation). */
  resamples: number;
}

/** The q-quantile of sorted values, linearly interpolated (numpy.quantile's default). */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Percentile bootstrap interval of `statistic` over `n` units: each resample
 * draws n unit indices with replacement (seeded) and evaluates the statistic
 * on them. Units are whatever must stay together: a seed's pair of runs, one
 * (tokenizer, seed) point of a correlation. Non-finite resampled values are
 * left out and counted; with none finite the interval is NaN.
 */
export function bootstrapInterval(n: number, statistic: (indices: readonly number[]) => number, o: BootstrapOptions = {}): Interval {
  const { resamples = 2000, level = 0.95, seed = 0 } = o;
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap level must be in (0, 1), got ${level}`);
  const all = Array.from({ length: n }, (_, i) => i);
  const estimate = n === 0 ? NaN : statistic(all);
  const random = seededUniform(seed);
  const values: number[] = [];
  for (let r = 0; r < resamples && n > 0; r++) {
    const v = statistic(all.map(() => Math.floor(random() * n)));
    if (Number.isFinite(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return values.length === 0
    ? { estimate, lo: NaN, hi: NaN, level, resamples: 0 }
    : { estimate, lo: quantile(values, tail), hi: quantile(values, 1 - tail), level, resamples: values.length };
}

/** The mean of `values` with its percentile bootstrap interval. */
export const bootstrapMean = (values: readonly number[], o: BootstrapOptions = {}): Interval =>
  bootstrapInterval(values.length, (ix) => ix.reduce((a, i) => a + values[i]!, 0) / ix.length, o);
