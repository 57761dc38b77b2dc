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
//  - a curve over α ∈ {0.1, 0.25, 0.5, 0.75, 1.0} at the level's δ;
//  - optionally a curve over δ at the level's α (at small K the
//    pFID level has to be chosen over δ as well as α);
//  - always pFID at α = 1 (same δ), whose ratio to rFID is the tokenizer's
//    sensitivity: a measurement that cannot move pFID well above rFID cannot
//    rank tokenizers by it (docs/method.md §2, "Small codebooks").
import type { PerturbationOptions } from '../tokenizer/index.js';
import { RandomStream } from '../torch/index.js';

/** The default pFID level's α. */
export const PFID_ALPHA = 0.5;

/** α values of the pFID curve. */
export const PFID_CURVE_ALPHAS = [0.1, 0.25, 0.5, 0.75, 1.0] as const;

/** α of the sensitivity level: every token redrawn (pFID(α = 1) / rFID is the sensitivity). */
export const SENSITIVITY_ALPHA = 1;

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
  /** δ values of the curve over δ at the main level's α (default none; the main δ joins a non-empty list). */
  deltaCurve?: readonly number[];
  /** Seed of the perturbation draws: the same seed gives the same pFID (default 0). */
  seed?: number;
}

/** What one evaluation measures, resolved and checked: the main level and both curves' points. */
export interface PfidPlan {
  alpha: number;
  delta: number;
  /** α values of the curve at δ, ascending, the main α among them ([] when no curve was asked for). */
  alphas: number[];
  /** δ values of the curve at α, ascending, the main δ among them ([] by default). */
  deltas: number[];
}

/** A level to measure, with its own seeded stream of draws. */
export interface PfidLevel {
  alpha: number;
  delta: number;
  /** The perturbation options for one batch: every image (β = 1), this level's stream. */
  options: PerturbationOptions;
}

/** Resolves the defaults and checks every α and δ; a RangeError names a bad value. */
export function pfidPlan(codebookSize: number, o: PfidLevelOptions = {}): PfidPlan {
  const alpha = o.alpha ?? PFID_ALPHA;
  const delta = o.delta ?? defaultPfidDelta(codebookSize);
  const curve = o.curve ?? PFID_CURVE_ALPHAS;
  const deltaCurve = o.deltaCurve ?? [];
  for (const d of [delta, ...deltaCurve]) {
    if (!(Number.isInteger(d) && d >= 1 && d <= codebookSize)) {
      throw new RangeError(`pFID δ must be an integer in [1, ${codebookSize}] (the codebook size), got ${d}`);
    }
  }
  for (const a of [alpha, ...curve]) if (!(a >= 0 && a <= 1)) throw new RangeError(`pFID α must be in [0, 1], got ${a}`);
  const ascending = (values: readonly number[]) => [...new Set(values)].sort((a, b) => a - b);
  return {
    alpha,
    delta,
    alphas: curve.length === 0 ? [] : ascending([alpha, ...curve]),
    deltas: deltaCurve.length === 0 ? [] : ascending([delta, ...deltaCurve]),
  };
}

/**
 * The levels of one evaluation, each (α, δ) once: the main level first (α,
 * default 0.5; δ, default for K), the α curve's other points at δ, the
 * sensitivity level (α = 1, δ), and the δ curve's points at α; each with a
 * Generator seeded with `seed`, so a level's value does not depend on which
 * others are measured. Throws a RangeError naming a bad value.
 */
export function pfidLevels(codebookSize: number, o: PfidLevelOptions = {}): PfidLevel[] {
  const plan = pfidPlan(codebookSize, o);
  const pairs: [number, number][] = [
    [plan.alpha, plan.delta],
    ...plan.alphas.map((a): [number, number] => [a, plan.delta]),
    [SENSITIVITY_ALPHA, plan.delta],
    ...plan.deltas.map((d): [number, number] => [plan.alpha, d]),
  ];
  const distinct = new Map(pairs.map(([a, d]) => [levelKey(a, d), [a, d] as const]));
  return [...distinct.values()].map(([alpha, delta]) => ({
    alpha, delta, options: { alpha, beta: 1, delta, stream: new RandomStream(o.seed ?? 0) },
  }));
}

/** A level's identity, to find a measured (α, δ) among the levels. */
export const levelKey = (alpha: number, delta: number): string => `${alpha}/${delta}`;
