// Claim 1 (docs/method.md, last section): latent perturbation lowers pFID
// and gFID at a small rFID cost. The unit is the seed: per seed, the mean over
// the perturbed entries of (entry − baseline), the baseline trained on the
// same seed (same initialisation and data order). The perturbed entries of a
// seed share its baseline, so they are one unit, not several pairs.
//  - pFID and gFID: a within-seed permutation test, relabelling which of the
//    seed's T tokenizers is the baseline (T^S relabellings over S seeds),
//    one-sided lower; the t interval over seeds beside it;
//  - rFID cost: the per-seed mean relative change, a one-sided t test over
//    seeds that it is at most analysis.rfidCost.
import { type FidNoise, blockPermutationTest, combinationError, meanStd, referenceBlock, type MeanStd } from '../metrics/index.js';
import type { AnalysisSettings } from './analysis.js';
import { fmt, partText } from './format.js';
import type { TokenizerRun } from './measurements.js';
import { type PartSpec, type SeedValue, type TestedPart, permutationPart, tPart } from './seed_part.js';
import { type Verdict, allOf } from './verdict.js';

export interface PerturbationPair { name: string; seed: number; pfid: number; gfid: number; rfidRelative: number }

export interface Claim1 {
  claim: string;
  unit: 'seed';
  test: string;
  baseline: string;
  perturbed: string[];
  pairs: PerturbationPair[];
  pfid: TestedPart;
  gfid: TestedPart;
  rfidCost: TestedPart & { bound: number };
  perVariant: { name: string; pfid: MeanStd; gfid: MeanStd; rfidRelative: MeanStd }[];
  verdict: Verdict;
  line: string;
}

/** Per seed: the measure of [baseline, ...perturbed] and their runs, or why the seed is left out of this part. */
function seedRows(runs: readonly TokenizerRun[], names: readonly string[], measure: string, f: (r: TokenizerRun) => number) {
  const rows: { seed: number; x: number[]; runs: TokenizerRun[] }[] = [];
  const dropped: string[] = [];
  for (const seed of [...new Set(runs.map((r) => r.seed))]) {
    const x = names.map((name) => runs.find((r) => r.seed === seed && r.name === name));
    const bad = names.filter((_, i) => !x[i] || !Number.isFinite(f(x[i]!)));
    if (bad.length > 0) dropped.push(`seed ${seed} (${measure} of ${bad.join(', ')} not measured or not finite)`);
    else rows.push({ seed, x: x.map((r) => f(r!)), runs: x.map((r) => r!) });
  }
  return { rows, dropped };
}

/** Mean over the non-reference entries of (entry − reference). */
const meanDifference = (x: readonly number[], reference: number): number =>
  x.reduce((a, v, i) => (i === reference ? a : a + v - x[reference]!), 0) / (x.length - 1);

export function claimPerturbation(runs: readonly TokenizerRun[], s: AnalysisSettings): Claim1 {
  const perturbed = s.perturbed.length > 0 ? [...s.perturbed] : [...new Set(runs.filter((r) => r.name !== s.baseline).map((r) => r.name))];
  const names = [s.baseline, ...perturbed];
  const relabel = `which of a seed's ${names.length} tokenizers is the baseline`;
  const direction = (what: string, measure: string, f: (r: TokenizerRun) => number, noise: (r: TokenizerRun) => FidNoise | null): TestedPart => {
    const { rows, dropped } = seedRows(runs, names, measure, f);
    // meanDifference(x, 0) = Σᵢ₌₁ xᵢ/(T − 1) − x₀: the same combination of each FID's replicates.
    const errors = rows.map((r) => ({
      seed: r.seed, value: combinationError(r.runs.map((run, i) => ({ coefficient: i === 0 ? -1 : 1 / (r.runs.length - 1), noise: noise(run) }))),
    }));
    const spec: PartSpec = { what, claimed: 'lower', values: rows.map((r) => ({ seed: r.seed, value: meanDifference(r.x, 0) })), dropped, errors };
    if (rows.length === 0) return tPart(spec, s);  // nothing measured: no p, below resolution
    const result = blockPermutationTest(rows.map((r) => referenceBlock(r.x.length, 0, (b) => [meanDifference(r.x, b)])),
      { exactLimit: s.exactLimit, samples: s.permutations, seed: s.seed });
    return permutationPart(spec, result, 0, relabel, s);
  };
  const pfid = direction('pFID(with) − pFID(without): per seed, mean over the perturbed entries', 'pFID', (r) => r.tokenizer.pfid, (r) => r.tokenizer.pfidNoise);
  const gfid = direction('gFID(with) − gFID(without): per seed, mean over the perturbed entries', 'gFID', (r) => r.generator.gfid, (r) => r.generator.gfidNoise);
  const rfid = seedRows(runs, names, 'rFID', (r) => r.tokenizer.rfid);
  const relative: SeedValue[] = rfid.rows.map((r) => ({ seed: r.seed, value: r.x.slice(1).reduce((a, v) => a + v / r.x[0]! - 1, 0) / (r.x.length - 1) }));
  const usable = relative.filter((v) => Number.isFinite(v.value));
  const zeroBase = relative.filter((v) => !Number.isFinite(v.value)).map((v) => `seed ${v.seed} (baseline rFID 0)`);
  const rfidCost = {
    ...tPart({ what: 'rFID(with) / rFID(without) − 1: per seed, mean over the perturbed entries', claimed: 'at most', reference: s.rfidCost, values: usable, dropped: [...rfid.dropped, ...zeroBase] }, s),
    bound: s.rfidCost,
  };
  const pairs: PerturbationPair[] = runs.filter((r) => perturbed.includes(r.name)).flatMap((r) => {
    const base = runs.find((b) => b.name === s.baseline && b.seed === r.seed);
    return base ? [{
      name: r.name, seed: r.seed, pfid: r.tokenizer.pfid - base.tokenizer.pfid, gfid: r.generator.gfid - base.generator.gfid, rfidRelative: r.tokenizer.rfid / base.tokenizer.rfid - 1,
    }] : [];
  });
  const perVariant = perturbed.map((name) => {
    const ps = pairs.filter((p) => p.name === name);
    const of = (f: (p: PerturbationPair) => number) => meanStd(ps.map(f).filter(Number.isFinite));
    return { name, pfid: of((p) => p.pfid), gfid: of((p) => p.gfid), rfidRelative: of((p) => p.rfidRelative) };
  });
  const verdict = allOf([pfid.verdict, gfid.verdict, rfidCost.verdict]);
  const line = `${verdict}: seed as unit, ${perturbed.join(', ')} vs ${s.baseline} (${names.length} tokenizers per seed); ` +
    `${partText('ΔpFID', pfid)}, ${partText('ΔgFID', gfid)}, ${partText('relative rFID change', rfidCost)} (small: at most ${fmt(s.rfidCost, true)})`;
  return {
    claim: s.claims.perturbation.hypothesis, unit: 'seed', test: pfid.test, baseline: s.baseline, perturbed, pairs, pfid, gfid, rfidCost, perVariant, verdict, line,
  };
}
