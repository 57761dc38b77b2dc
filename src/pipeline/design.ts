// A design that cannot answer its questions is refused before anything
// trains: hours of runs whose tests cannot reach analysis.significance by
// construction would end in "below this design's resolution" whatever the
// data. With the seed as the unit (verdict.ts) the smallest p of each test
// follows from the preset alone:
//  - claim 1, the within-seed permutation test over S seeds of T tokenizers
//    (the baseline and the perturbed entries): (1/T)^S; its rFID-cost part is
//    a t test over seeds, which needs S ≥ 2;
//  - claim 2, gFID shuffled within each seed: (1/T!)^S, and a Spearman ρ
//    over fewer than 3 tokenizers is ±1 or undefined, so T ≥ 3;
//  - claim 3, a t test over seeds: S ≥ 2 (one seed gives no spread, no p).
import type { ReproduceConfig } from './preset.js';

/** The fewest seeds whose relabellings (per seed: `perSeed`) give a smallest p below `alpha`; Infinity when none can. */
export function seedsNeeded(perSeed: number, alpha: number): number {
  if (perSeed < 2 || !(alpha > 0)) return Infinity;
  let seeds = 1;
  while (perSeed ** -seeds >= alpha) seeds += 1;
  return seeds;
}

/** The fewest tokenizers per seed for which `relabellings(T)` over `seeds` seeds gives a smallest p below `alpha`. */
function tokenizersNeeded(seeds: number, alpha: number, relabellings: (t: number) => number, from: number): number {
  if (!(alpha > 0)) return Infinity;
  let t = from;
  while (relabellings(t) ** -seeds >= alpha && t < 1000) t += 1;
  return t;
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
const fmtP = (p: number): string => p.toPrecision(3);

/** Claim 1's tokenizers per seed: the baseline and the perturbed entries. */
export const claim1Tokenizers = (c: ReproduceConfig): number =>
  1 + (c.analysis.perturbed.length > 0 ? c.analysis.perturbed.length : c.tokenizer.sweep.length - 1);

/** The design problems of a preset, one line per claim that cannot reach significance, naming the smallest n that could. */
export function designIssues(c: ReproduceConfig): string[] {
  const alpha = c.analysis.significance;
  const seeds = c.seeds.length;
  const issues: string[] = [];
  const t1 = claim1Tokenizers(c);
  const p1 = t1 ** -seeds;
  if (p1 >= alpha) {
    issues.push(`analysis: claim 1 (perturbation) cannot reach significance ${alpha}: its within-seed permutation test over ${seeds} seed(s) × ${t1} tokenizers ` +
      `(the baseline and ${t1 - 1} perturbed) gives at best p = (1/${t1})^${seeds} = ${fmtP(p1)}; it needs at least ${seedsNeeded(t1, alpha)} seeds ` +
      `(or ${tokenizersNeeded(seeds, alpha, (t) => t, 2)} tokenizers per seed)`);
  }
  if (seeds < 2) issues.push(`analysis: claims 1 (its rFID cost) and 3 (post-training) are t tests over seeds: ${seeds} seed gives no p; they need at least 2 seeds`);
  const t2 = c.tokenizer.sweep.length;
  const p2 = factorial(t2) ** -seeds;
  if (t2 < 3) {
    issues.push(`analysis: claim 2 (ranking) needs at least 3 tokenizers per seed (a rank correlation over ${t2} is ±1 or undefined); the sweep has ${t2}`);
  } else if (p2 >= alpha) {
    issues.push(`analysis: claim 2 (ranking) cannot reach significance ${alpha}: shuffling gFID within ${seeds} seed(s) of ${t2} tokenizers gives at best ` +
      `p = (1/${t2}!)^${seeds} = ${fmtP(p2)}; it needs at least ${seedsNeeded(factorial(t2), alpha)} seeds (or ${tokenizersNeeded(seeds, alpha, factorial, 3)} tokenizers per seed)`);
  }
  return issues;
}
