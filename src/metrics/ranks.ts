// Model-free statistics for comparing a handful of measured runs (the
// reproduction's claims, docs/method.md, last section): rank correlations
// (Spearman ρ; Kendall τ-b, which counts ties the way scipy.stats.kendalltau
// does), a seeded percentile bootstrap, the two-sided sign test and mean ± std.
// Plain numbers in and out: at a few dozen points none of this needs tensors.
import { mulberry32 } from '../torch/index.js';

/** Mean and sample standard deviation (divisor n − 1; NaN for n < 2, so one seed never looks certain). */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = n === 0 ? NaN : values.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? NaN : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, n };
}

/** 1-based ranks, ties sharing the mean of the ranks they span (scipy.stats.rankdata's 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end += 1;
    for (let k = start; k <= end; k++) ranks[order[k]![1]] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

function checkPairs(x: readonly number[], y: readonly number[], what: string): void {
  if (x.length !== y.length) throw new RangeError(`${what}: x has ${x.length} values, y has ${y.length}`);
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError(`${what}: every value must be finite`);
}

/** Pearson correlation; NaN when either side is constant (no ordering to compare). */
function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's correlation of the average ranks (scipy.stats.spearmanr). NaN below 2 points or for a constant side. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y, 'spearman');
  return x.length < 2 ? NaN : pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's τ-b = (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), where
 * n₀ = n(n − 1)/2 and n₁, n₂ count the pairs tied in x and in y
 * (scipy.stats.kendalltau's default). O(n²): fine for the few dozen points here.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y, 'kendallTauB');
  const n = x.length;
  let s = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0) tiedX += 1;
      if (dy === 0) tiedY += 1;
      s += dx * dy;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((n0 - tiedX) * (n0 - tiedY));
  return denominator === 0 ? NaN : s / denominator;
}

/**
 * Two-sided sign test: the probability, under "each nonzero difference is
 * positive or negative with probability ½", of a split at least as uneven as
 * the one seen. Zeros are dropped (the classic test's convention); with no
 * nonzero difference there is no evidence either way and p = 1. Equals
 * scipy.stats.binomtest(k, n, 0.5).pvalue.
 */
export function signTest(differences: readonly number[]): { positive: number; negative: number; p: number } {
  const positive = differences.filter((d) => d > 0).length;
  const negative = differences.filter((d) => d < 0).length;
  const n = positive + negative;
  const k = Math.min(positive, negative);
  // P(X ≤ k) for X ~ Binomial(n, ½), summed in log space so that n in the hundreds stays exact enough.
  let logChoose = 0;  // log C(n, 0)
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logChoose - n * Math.LN2);
  }
  return { positive, negative, p: n === 0 ? 1 : Math.min(1, 2 * tail) };
}

/** A small seeded generator (mulberry32): bootstrap intervals must come out the same on every run. */
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
