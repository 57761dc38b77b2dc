// Permutation tests whose relabellings stay inside blocks (the reproduction's
// seeds): under "the labels do not matter", any relabelling within a block is
// as likely as the one measured, and blocks are independent, so the null
// distribution is the product of the blocks' relabellings. Pooling the units
// of all blocks instead would count the shared noise of one seed (its data
// order, its baseline) as independent evidence.
//
// Each statistic is the mean over blocks of a per-block contribution. The
// distribution is enumerated exactly while the product of the blocks'
// relabelling counts stays at most `exactLimit`; above it, `samples` seeded
// Monte Carlo draws estimate it, with p = (hits + 1)/(draws + 1) (the draw
// as measured counts as one of them, as scipy.stats.permutation_test does),
// so a Monte Carlo p is never 0.
import { mulberry32 } from '../torch/index.js';

/** One block's relabellings: relabelling 0 is the one measured. */
export interface PermutationBlock {
  /** How many equally likely relabellings the block has under the null. */
  count: number;
  /** The block's contribution to each statistic under relabelling `i` (0 ≤ i < count). */
  at(i: number): readonly number[];
  /** The contributions under a relabelling drawn uniformly. */
  draw(random: () => number): readonly number[];
}

export interface PermutationOptions {
  /** Enumerate exactly up to this many relabellings in all (default 200,000). */
  exactLimit?: number;
  /** Monte Carlo draws above it (default 20,000). */
  samples?: number;
  /** Seed of the Monte Carlo draws. */
  seed?: number;
}

export interface PermutationResult {
  /** Each statistic as measured: the mean over blocks of relabelling 0. */
  observed: number[];
  /** One-sided p of each statistic toward lower values: P(T ≤ observed) under the null. */
  lower: number[];
  /** One-sided p toward higher values: P(T ≥ observed). */
  upper: number[];
  exact: boolean;
  /** Relabellings in all: the product of the blocks' counts. */
  total: number;
  /** Relabellings evaluated: `total` when exact, the draws otherwise. */
  evaluated: number;
  /** The smallest p this test can give: 1/total when exact, 1/(draws + 1) by Monte Carlo. */
  smallestP: number;
}

/**
 * Values within this of the observed count as equal to it: exact
 * enumerations produce the same sum in other orders, which differs in the
 * last bits (scipy.stats.permutation_test allows for the same).
 */
const tolerance = (observed: number): number => 1e-12 * Math.max(1, Math.abs(observed));

export function blockPermutationTest(blocks: readonly PermutationBlock[], o: PermutationOptions = {}): PermutationResult {
  const { exactLimit = 200_000, samples = 20_000, seed = 0 } = o;
  if (blocks.length === 0) throw new RangeError('blockPermutationTest: no blocks');
  const k = blocks[0]!.at(0).length;
  const mean = (parts: readonly (readonly number[])[]): number[] =>
    Array.from({ length: k }, (_, j) => parts.reduce((a, p) => a + p[j]!, 0) / parts.length);
  const observed = mean(blocks.map((b) => b.at(0)));
  const total = blocks.reduce((a, b) => a * b.count, 1);
  const [low, high] = [new Array<number>(k).fill(0), new Array<number>(k).fill(0)];
  const tally = (value: readonly number[]) => value.forEach((v, j) => {
    if (v <= observed[j]! + tolerance(observed[j]!)) low[j]! += 1;
    if (v >= observed[j]! - tolerance(observed[j]!)) high[j]! += 1;
  });
  const exact = total <= exactLimit;
  if (exact) {
    const tables = blocks.map((b) => Array.from({ length: b.count }, (_, i) => b.at(i)));
    const digits = new Array<number>(blocks.length).fill(0);  // a mixed-radix counter over the blocks
    for (let r = 0; r < total; r++) {
      tally(mean(tables.map((t, s) => t[digits[s]!]!)));
      for (let s = 0; s < digits.length && ++digits[s]! === blocks[s]!.count; s++) digits[s] = 0;
    }
  } else {
    const random = mulberry32(seed);
    for (let r = 0; r < samples; r++) tally(mean(blocks.map((b) => b.draw(random))));
  }
  const p = (hits: number[]) => hits.map((h, j) => (Number.isFinite(observed[j]) ? (exact ? h / total : (h + 1) / (samples + 1)) : NaN));
  return { observed, lower: p(low), upper: p(high), exact, total, evaluated: exact ? total : samples, smallestP: exact ? 1 / total : 1 / (samples + 1) };
}

/**
 * A block whose relabellings choose which of its `size` units is the
 * reference (claim 1: which tokenizer of a seed is the baseline).
 * `contribution(b)` gives the statistics with unit b as the reference; the
 * measured reference is unit `measured`.
 */
export function referenceBlock(size: number, measured: number, contribution: (reference: number) => readonly number[]): PermutationBlock {
  const order = [measured, ...Array.from({ length: size }, (_, i) => i).filter((i) => i !== measured)];
  return { count: size, at: (i) => contribution(order[i]!), draw: (random) => contribution(order[Math.floor(random() * size)]!) };
}

/** The i-th permutation of 0..n−1 in Lehmer-code order (0: the identity). */
export function nthPermutation(n: number, i: number): number[] {
  const left = Array.from({ length: n }, (_, j) => j);
  const digits: number[] = [];
  for (let radix = 1; radix <= n; radix++) {
    digits.push(i % radix);
    i = Math.floor(i / radix);
  }
  return digits.reverse().map((d) => left.splice(d, 1)[0]!);
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/**
 * A block whose relabellings are all n! orders of `values` (claim 2: the
 * seed's gFIDs shuffled over its tokenizers); `contribution` gets the
 * values reordered. Drawn by Fisher–Yates, so n! need not be representable.
 */
export function shuffleBlock(values: readonly number[], contribution: (shuffled: readonly number[]) => readonly number[]): PermutationBlock {
  const n = values.length;
  return {
    count: factorial(n),
    at: (i) => contribution(nthPermutation(n, i).map((j) => values[j]!)),
    draw: (random) => {
      const v = [...values];
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [v[i], v[j]] = [v[j]!, v[i]!];
      }
      return contribution(v);
    },
  };
}
