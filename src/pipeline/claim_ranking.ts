// Claim 2 (docs/method.md, last section): pFID ranks tokenizers by gFID
// better than rFID does. gFID moves between seeds of one tokenizer by more
// than it moves between tokenizers, so a correlation pooled over tokenizers ×
// seeds would mostly rank seed noise. Here each seed is ranked on its own:
// Spearman ρ over that seed's tokenizers, averaged over seeds, and the p of
// the difference ρ(pFID) − ρ(rFID) from shuffling gFID within each seed (the
// same shuffles for both correlations, so the difference is tested as one
// statistic). Kendall τ-b, averaged the same way, is shown beside it.
import { blockPermutationTest, kendallTauB, shuffleBlock, spearman } from '../metrics/index.js';
import type { AnalysisSettings } from './analysis.js';
import { fmt, partText } from './format.js';
import type { TokenizerRun } from './measurements.js';
import { type TestedPart, permutationPart } from './seed_part.js';
import type { Verdict } from './verdict.js';

export interface SeedRanking {
  seed: number;
  tokenizers: string[];
  spearman: { rfid: number; pfid: number };
  kendall: { rfid: number; pfid: number };
}

export interface Claim2 {
  claim: string;
  unit: 'seed';
  test: string;
  seeds: SeedRanking[];
  /** Tokenizer × seed points that entered a per-seed correlation. */
  points: number;
  /** Mean per-seed ρ against gFID (each tested for being above 0) and their difference (which decides). */
  spearman: { rfid: TestedPart; pfid: TestedPart; difference: TestedPart };
  /** Mean per-seed τ-b against gFID. */
  kendall: { rfid: number; pfid: number; difference: number };
  dropped: string[];
  verdict: Verdict;
  line: string;
}

const measures = (r: TokenizerRun) => [r.tokenizer.rfid, r.tokenizer.pfid, r.generator.gfid];
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export function claimRanking(runs: readonly TokenizerRun[], s: AnalysisSettings): Claim2 {
  const dropped: string[] = [];
  const seeds: { seed: number; runs: TokenizerRun[] }[] = [];
  for (const seed of [...new Set(runs.map((r) => r.seed))]) {
    const all = runs.filter((r) => r.seed === seed);
    if (all.length < 3) continue;  // a seed the design trains fewer tokenizers on (tokenizer.sweep[].seeds) is not ranked
    const ok = all.filter((r) => measures(r).every(Number.isFinite));
    for (const r of all.filter((x) => !ok.includes(x))) dropped.push(`${r.name} seed ${seed} (an FID not finite)`);
    const constant = ok.length >= 3 && [0, 1, 2].some((k) => new Set(ok.map((r) => measures(r)[k])).size === 1);
    if (ok.length < 3 || constant) dropped.push(`seed ${seed} (${ok.length < 3 ? `${ok.length} tokenizers with finite FIDs, a rank correlation needs 3` : 'a measure equal for every tokenizer: no ranking'})`);
    else seeds.push({ seed, runs: ok });
  }
  const rankings: SeedRanking[] = seeds.map(({ seed, runs: rs }) => {
    const [rfid, pfid, gfid] = [0, 1, 2].map((k) => rs.map((r) => measures(r)[k]!)) as [number[], number[], number[]];
    return {
      seed, tokenizers: rs.map((r) => r.name),
      spearman: { rfid: spearman(rfid, gfid), pfid: spearman(pfid, gfid) }, kendall: { rfid: kendallTauB(rfid, gfid), pfid: kendallTauB(pfid, gfid) },
    };
  });
  const blocks = seeds.map(({ runs: rs }) => {
    const [rfid, pfid] = [rs.map((r) => r.tokenizer.rfid), rs.map((r) => r.tokenizer.pfid)];
    return shuffleBlock(rs.map((r) => r.generator.gfid), (g) => {
      const [rr, rp] = [spearman(rfid, g), spearman(pfid, g)];
      return [rr, rp, rp - rr];
    });
  });
  const result = blocks.length > 0 ? blockPermutationTest(blocks, { exactLimit: s.exactLimit, samples: s.permutations, seed: s.seed }) : null;
  const relabel = 'gFID shuffled over each seed\'s tokenizers';
  const part = (what: string, index: number, f: (r: SeedRanking) => number): TestedPart => {
    const values = rankings.map((r) => ({ seed: r.seed, value: f(r) }));
    const spec = { what, claimed: 'higher' as const, values, dropped };
    const none = { observed: [NaN, NaN, NaN], lower: [NaN, NaN, NaN], upper: [NaN, NaN, NaN], exact: true, total: 1, evaluated: 0, smallestP: 1 };
    return permutationPart(spec, result ?? none, index, relabel, s);
  };
  const sp = {
    rfid: part('Spearman ρ(rFID, gFID), per seed', 0, (r) => r.spearman.rfid),
    pfid: part('Spearman ρ(pFID, gFID), per seed', 1, (r) => r.spearman.pfid),
    difference: part('Spearman ρ(pFID, gFID) − ρ(rFID, gFID), per seed', 2, (r) => r.spearman.pfid - r.spearman.rfid),
  };
  const kt = { rfid: mean(rankings.map((r) => r.kendall.rfid)), pfid: mean(rankings.map((r) => r.kendall.pfid)) };
  const points = rankings.reduce((a, r) => a + r.tokenizers.length, 0);
  // Spearman's difference decides (registered in the preset); τ-b is shown beside it.
  const verdict = sp.difference.verdict;
  const line = `${verdict}: seed as unit, ranked within each of ${rankings.length} seeds (${points} tokenizers × seeds); ` +
    `ρ(pFID, gFID) ${fmt(sp.pfid.t.mean)} vs ρ(rFID, gFID) ${fmt(sp.rfid.t.mean)}, ${partText('difference', sp.difference)}; ` +
    `Kendall τ-b ${fmt(kt.pfid)} vs ${fmt(kt.rfid)}`;
  return {
    claim: s.claims.ranking.hypothesis, unit: 'seed', test: sp.difference.test, seeds: rankings, points,
    spearman: sp, kendall: { ...kt, difference: kt.pfid - kt.rfid }, dropped, verdict, line,
  };
}
