// A design that cannot answer its questions is refused before anything
// trains: hours of runs whose tests cannot reach analysis.significance by
// construction would end in "below this design's resolution" whatever the
// data. With the seed as the unit (verdict.ts) the smallest p of each test
// follows from the preset alone:
//  - claim 1, the within-seed permutation test over the S seeds that train
//    all of its T tokenizers (the baseline and the perturbed entries):
//    (1/T)^S; its rFID-cost part is a t test over seeds, which needs S ≥ 2;
//  - claim 2, gFID shuffled within each seed: Π over seeds of 1/T_s! for the
//    T_s tokenizers a seed trains, and a Spearman ρ over fewer than 3
//    tokenizers is ±1 or undefined, so only seeds with T_s ≥ 3 count;
//  - claim 3, a t test over the post-trained seeds: S ≥ 2 (one seed gives
//    no spread, no p).
// Sweep entries may train on some seeds only (tokenizer.sweep[].seeds), so a
// design can run claim 1's two arms on many seeds and claim 2's wider sweep
// on a few.
import type { ReproduceConfig } from './preset.js';
import { type Variant, runsOn } from './sweep_field.js';

/** The sweep entries trained on `seed`, in sweep order. */
export const entriesOn = (c: ReproduceConfig, seed: number): Variant[] => c.tokenizer.sweep.filter((v) => runsOn(v, seed));

/** The seeds whose tokenizers are post-trained (posttrain.seeds, or every seed). */
export const posttrainSeeds = (c: ReproduceConfig): number[] =>
  c.posttrain.seeds.length > 0 ? c.seeds.filter((s) => c.posttrain.seeds.includes(s)) : [...c.seeds];

/** Claim 1's tokenizers, baseline first. */
export const claim1Names = (c: ReproduceConfig): string[] =>
  [c.tokenizer.baseline, ...(c.analysis.perturbed.length > 0 ? c.analysis.perturbed : c.tokenizer.sweep.map((v) => v.name).filter((n) => n !== c.tokenizer.baseline))];

/** The seeds that train every one of claim 1's tokenizers. */
export const claim1Seeds = (c: ReproduceConfig): number[] => {
  const names = claim1Names(c);
  return c.seeds.filter((seed) => names.every((n) => entriesOn(c, seed).some((v) => v.name === n)));
};

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
export const claim1Tokenizers = (c: ReproduceConfig): number => claim1Names(c).length;

/** The design problems of a preset, one line per claim that cannot reach significance, naming the smallest n that could. */
export function designIssues(c: ReproduceConfig): string[] {
  const alpha = c.analysis.significance;
  const issues: string[] = [];
  const t1 = claim1Tokenizers(c);
  const seeds = claim1Seeds(c).length;
  const p1 = t1 ** -seeds;
  if (p1 >= alpha) {
    issues.push(`analysis: claim 1 (perturbation) cannot reach significance ${alpha}: its within-seed permutation test over ${seeds} seed(s) × ${t1} tokenizers ` +
      `(the baseline and ${t1 - 1} perturbed) gives at best p = (1/${t1})^${seeds} = ${fmtP(p1)}; it needs at least ${seedsNeeded(t1, alpha)} seeds that train all of them ` +
      `(or ${tokenizersNeeded(seeds, alpha, (t) => t, 2)} tokenizers per seed)`);
  }
  if (seeds < 2) issues.push(`analysis: claim 1's rFID cost is a t test over seeds: ${seeds} seed(s) training all its tokenizers give no p; it needs at least 2`);
  const post = posttrainSeeds(c).length;
  if (post < 2) issues.push(`analysis: claim 3 (post-training) is a t test over the post-trained seeds: ${post} give no p; it needs at least 2 (posttrain.seeds)`);
  const sizes = c.seeds.map((seed) => entriesOn(c, seed).length);
  const ranked = sizes.filter((t) => t >= 3);
  const p2 = ranked.reduce((p, t) => p / factorial(t), 1);
  if (ranked.length === 0) {
    issues.push(`analysis: claim 2 (ranking) needs at least 3 tokenizers on a seed (a rank correlation over fewer is ±1 or undefined); the most any seed trains is ${Math.max(...sizes)}`);
  } else if (p2 >= alpha) {
    const t2 = Math.min(...ranked);
    issues.push(`analysis: claim 2 (ranking) cannot reach significance ${alpha}: shuffling gFID within ${ranked.length} seed(s) of ${ranked.join(', ')} tokenizers gives at best ` +
      `p = ${fmtP(p2)}; at ${t2} tokenizers per seed it needs at least ${seedsNeeded(factorial(t2), alpha)} seeds (or ${tokenizersNeeded(ranked.length, alpha, factorial, 3)} tokenizers per seed)`);
  }
  return issues;
}
