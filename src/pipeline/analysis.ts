// The three claims of docs/method.md (last section), computed from the
// measured numbers of every tokenizer and seed (measurements.ts) with the
// seed as the unit, and decided by the rule of verdict.ts that the preset
// registers before the run:
//  1. latent perturbation lowers pFID and gFID at a small rFID cost
//     (claim_perturbation.ts);
//  2. pFID ranks tokenizers by gFID better than rFID (claim_ranking.ts);
//  3. post-training lowers gFID for a fixed generator (claim_posttraining.ts).
// Beside them, each tokenizer's numbers as mean ± std over seeds with the
// standard error of each FID's mean (std/√seeds: between-seed noise, which
// includes the FID's own sample noise at this n) and that sample noise alone
// (the bootstrap over images or samples, metrics/frechet_noise.ts).
import { type FidNoise, type MeanStd, meanStd } from '../metrics/index.js';
import { type Claim1, claimPerturbation } from './claim_perturbation.js';
import { type Claim2, claimRanking } from './claim_ranking.js';
import { type Claim3, claimPosttraining } from './claim_posttraining.js';
import type { TokenizerRun } from './measurements.js';
import type { ReproduceConfig } from './preset.js';
import { VERDICT_RULE } from './verdict.js';

export type AnalysisSettings = ReproduceConfig['analysis'] & { baseline: string };

/**
 * Mean ± std over seeds with the standard error of the mean (NaN with one
 * seed), and `sampleError`: the typical bootstrap standard error of one of
 * these FIDs at its n (√ of the mean of the runs' squared errors; NaN when
 * none was measured), the part of the spread that is sample noise.
 */
export type SeedSpread = MeanStd & { standardError: number; sampleError: number };

export interface TokenizerSummary {
  name: string;
  perturbed: boolean;
  seeds: number;
  rfid: SeedSpread;
  pfid: SeedSpread;
  gfid: SeedSpread;
  gfidPosttrained: SeedSpread | null;
  gfidControl: SeedSpread | null;
  sensitivity: MeanStd | null;
  usage: MeanStd;
  perplexity: MeanStd;
  neighbourCosine: MeanStd | null;
  psnr: MeanStd;
}

export interface Analysis {
  tokenizers: TokenizerSummary[];
  claims: { perturbation: Claim1; ranking: Claim2; posttraining: Claim3 };
  rule: string;
}

/** A FID over seeds: the finite values only (a failed FID is not a number to average), with the runs' bootstrap errors. */
export function seedSpread(values: readonly number[], noises: readonly (FidNoise | null)[] = []): SeedSpread {
  const m = meanStd(values.filter(Number.isFinite));
  const errors = noises.map((n) => n?.standardError ?? NaN).filter(Number.isFinite);
  const sampleError = errors.length > 0 ? Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length) : NaN;
  return { ...m, standardError: m.std / Math.sqrt(m.n), sampleError };
}

const orNull = (values: (number | null)[]): MeanStd | null => (values.every((v): v is number => v !== null) && values.length > 0 ? meanStd(values) : null);

export function summarise(runs: readonly TokenizerRun[]): TokenizerSummary[] {
  const names = [...new Set(runs.map((r) => r.name))];
  return names.map((name) => {
    const rs = runs.filter((r) => r.name === name);
    const of = (f: (r: TokenizerRun) => number) => meanStd(rs.map(f));
    const fid = (f: (r: TokenizerRun) => number, noise: (r: TokenizerRun) => FidNoise | null) => seedSpread(rs.map(f), rs.map(noise));
    const post = rs.filter((r) => r.posttrained !== null);
    const control = rs.filter((r) => r.control);
    return {
      name, perturbed: rs[0]!.perturbed, seeds: rs.length,
      rfid: fid((r) => r.tokenizer.rfid, (r) => r.tokenizer.rfidNoise), pfid: fid((r) => r.tokenizer.pfid, (r) => r.tokenizer.pfidNoise),
      gfid: fid((r) => r.generator.gfid, (r) => r.generator.gfidNoise),
      gfidPosttrained: post.length > 0 ? seedSpread(post.map((r) => r.posttrained!.gfid), post.map((r) => r.posttrained!.gfidNoise)) : null,
      gfidControl: control.length > 0 ? seedSpread(control.map((r) => r.control!.gfid), control.map((r) => r.control!.gfidNoise)) : null,
      sensitivity: orNull(rs.map((r) => r.tokenizer.sensitivity)), usage: of((r) => r.tokenizer.usage), perplexity: of((r) => r.tokenizer.perplexity),
      neighbourCosine: orNull(rs.map((r) => r.tokenizer.neighbourCosine)), psnr: of((r) => r.tokenizer.psnr),
    };
  });
}

export function analyse(runs: readonly TokenizerRun[], s: AnalysisSettings): Analysis {
  return {
    tokenizers: summarise(runs),
    claims: { perturbation: claimPerturbation(runs, s), ranking: claimRanking(runs, s), posttraining: claimPosttraining(runs, s) },
    rule: VERDICT_RULE,
  };
}
