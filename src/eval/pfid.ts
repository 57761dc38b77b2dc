// pFID, the paper's tokenizer metric (docs/method.md §3): the FID between a
// split's real images and the decoder's outputs for *perturbed* tokens of
// those same images. The authors did not release their protocol, so this
// file fixes one, and every number robustok prints states it:
//  - every image is perturbed (β = 1): the metric asks how the decoder copes
//    with token errors, not how often they occur;
//  - α = 0.5 and δ = max(2, round(K·100/4096)), the reference's 100 nearest
//    codes of 4,096 scaled to the codebook (at least 2, so a token can change);
//  - a fixed seed, each level drawing from its own stream, so a level's value
//    does not depend on which other levels were asked for;
//  - a curve over α ∈ {0.1, 0.25, 0.5, 0.75, 1.0} at the level's δ.
import type { PerturbationOptions } from '../tokenizer/index.js';
import { Generator } from '../torch/index.js';

/** The default pFID level's α. */
export const PFID_ALPHA = 0.5;

/** α values of the pFID curve. */
export const PFID_CURVE_ALPHAS = [0.1, 0.25, 0.5, 0.75, 1.0] as const;

/** The default pFID δ for a codebook of K codes. */
export const defaultPfidDelta = (codebookSize: number): number => Math.max(2, Math.round((codebookSize * 100) / 4096));

/** Below this many images FID is biased upwards (Chong & Forsyth 2020; pytorch-fid warns likewise). */
export const FID_UNBIASED_SAMPLES = 2048;

/** One measured level. */
export interface PfidPoint {
  alpha: number;
  delta: number;
  value: number;
}

/** Where pFID is measured; every field has the default above. */
export interface PfidLevelOptions {
  /** α of the main level (default 0.5). */
  alpha?: number;
  /** δ of every level (default `defaultPfidDelta(K)`). */
  delta?: number;
  /** α values of the curve (default `PFID_CURVE_ALPHAS`; [] for none). */
  curve?: readonly number[];
  /** Seed of the perturbation draws: the same seed gives the same pFID (default 0). */
  seed?: number;
}

/** A level to measure, with its own seeded stream of draws. */
export interface PfidLevel {
  alpha: number;
  delta: number;
  /** The perturbation options for one batch: every image (β = 1), this level's stream. */
  options: PerturbationOptions;
}

/**
 * The levels of one evaluation: the main level first (α, default 0.5),
 * then the curve's other α values, all at one δ (default for K), each with
 * a Generator seeded with `seed`. Throws a RangeError naming a bad value.
 */
export function pfidLevels(codebookSize: number, o: PfidLevelOptions = {}): PfidLevel[] {
  const alpha = o.alpha ?? PFID_ALPHA;
  const delta = o.delta ?? defaultPfidDelta(codebookSize);
  if (!(Number.isInteger(delta) && delta >= 1 && delta <= codebookSize)) {
    throw new RangeError(`pFID δ must be an integer in [1, ${codebookSize}] (the codebook size), got ${delta}`);
  }
  const alphas = [...new Set([alpha, ...(o.curve ?? PFID_CURVE_ALPHAS)])];
  for (const a of alphas) if (!(a >= 0 && a <= 1)) throw new RangeError(`pFID α must be in [0, 1], got ${a}`);
  return alphas.map((a) => ({ alpha: a, delta, options: { alpha: a, beta: 1, delta, generator: new Generator(o.seed ?? 0) } }));
}
