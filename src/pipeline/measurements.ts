// The measured numbers of a finished reproduction, one record per tokenizer
// (sweep entry and seed), read back from the eval stages' result.json files:
// the analysis works from these files, never from numbers held in memory or
// written by hand. Fields another version of `robustok eval` may not write
// (sensitivity, neighbour cosine) are null when absent.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PfidPoint } from '../eval/index.js';
import type { FidNoise } from '../metrics/index.js';
import { type PostTrainStages, type TokenizerStages, postOrderOf } from './graph.js';
import { RESULT_FILE } from './stage_builders.js';
import type { StageSpec } from './stage_record.js';

export interface TokenizerNumbers {
  rfid: number;
  /** The main pFID level (eval.pfid.alpha, δ). */
  pfid: number;
  pfidAlpha: number;
  pfidDelta: number;
  /** pFID at α = 1 over rFID (docs/method.md §3): how strongly the decoder reacts to token errors. Null without an α = 1 point. */
  sensitivity: number | null;
  psnr: number;
  ssim: number;
  usage: number;
  perplexity: number;
  /** Mean cosine of each used code to its δ − 1 nearest other codes (by the quantizer's metric), when the evaluation reports it. */
  neighbourCosine: number | null;
  curve: PfidPoint[];
  /** pFID over δ at the main α (empty unless eval.pfid.deltaCurve asks for it). */
  deltaCurve: PfidPoint[];
  images: number;
  features: string;
  /** Bootstrap standard errors over images (src/metrics/frechet_noise.ts), null when the evaluation did not measure them. */
  rfidNoise: FidNoise | null;
  pfidNoise: FidNoise | null;
}

export interface GeneratorNumbers {
  gfid: number;
  is: number | null;
  precision: number;
  recall: number;
  samples: number;
  /** gFID's bootstrap standard error over samples and real images, null when not measured. */
  gfidNoise: FidNoise | null;
}

export interface TokenizerRun {
  name: string;
  seed: number;
  perturbed: boolean;
  tokenizer: TokenizerNumbers;
  generator: GeneratorNumbers;
  /** The same generator's samples decoded by the post-trained decoder; null when this tokenizer was not post-trained. */
  posttrained: GeneratorNumbers | null;
  /**
   * The same samples decoded by a decoder post-trained at σ = 1 (ground-truth
   * tokens only, as `robustok post-train-compare`'s control), when the preset's
   * posttrain.control is on; claim 3 is then tested as post − control.
   */
  control?: GeneratorNumbers | null;
  /** Stage folders, relative to the reproduction's folder, by stage kind. */
  stages: Record<string, string>;
  /** The resolved config each of those stages ran with, by stage kind. */
  configs: Record<string, object>;
}

type Json = Record<string, unknown>;

const readResult = (stage: StageSpec): Json => JSON.parse(readFileSync(path.join(stage.dir, RESULT_FILE), 'utf8')) as Json;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One FID's noise record from an evaluation's `noise` group (absent in results of older versions). */
const noiseOf = (r: Json, key: string): FidNoise | null => ((r.noise as Record<string, FidNoise> | null | undefined)?.[key] ?? null);

function tokenizerNumbers(r: Json): TokenizerNumbers {
  const pfid = r.pfid as PfidPoint;
  const curve = (r.curve as PfidPoint[] | undefined) ?? [];
  const rfid = r.rfid as number;
  const atOne = [pfid, ...curve].find((p) => p.alpha === 1);
  return {
    rfid, pfid: pfid.value, pfidAlpha: pfid.alpha, pfidDelta: pfid.delta,
    sensitivity: num(r.sensitivity) ?? (atOne && rfid > 0 ? atOne.value / rfid : null),
    psnr: r.psnr as number, ssim: r.ssim as number, usage: r.usage as number, perplexity: r.perplexity as number,
    neighbourCosine: num(r.neighbourCosine), curve, deltaCurve: (r.deltaCurve as PfidPoint[] | undefined) ?? [], images: r.n as number, features: r.features as string,
    rfidNoise: noiseOf(r, 'rfid'), pfidNoise: noiseOf(r, 'pfid'),
  };
}

function generatorNumbers(r: Json): GeneratorNumbers {
  return { gfid: r.gfid as number, is: num((r.is as { mean?: unknown } | null)?.mean), precision: r.precision as number, recall: r.recall as number, samples: r.n as number, gfidNoise: noiseOf(r, 'gfid') };
}

export function gatherRuns(dir: string, tokenizers: readonly TokenizerStages[], posts: readonly PostTrainStages[], perturbed: (name: string) => boolean): TokenizerRun[] {
  const rel = (s: StageSpec) => path.relative(dir, s.dir);
  return tokenizers.map((t) => {
    const post = posts.find((p) => p.name === t.name && p.seed === t.seed);
    const all = [t.train, t.eval, t.generator, t.evalGenerator, ...(post ? postOrderOf(post) : [])];
    return {
      name: t.name, seed: t.seed, perturbed: perturbed(t.name),
      tokenizer: tokenizerNumbers(readResult(t.eval)), generator: generatorNumbers(readResult(t.evalGenerator)),
      posttrained: post ? generatorNumbers(readResult(post.eval)) : null,
      ...(post?.control ? { control: generatorNumbers(readResult(post.control.eval)) } : {}),
      stages: Object.fromEntries(all.map((s) => [s.kind, rel(s)])), configs: Object.fromEntries(all.map((s) => [s.kind, s.config])),
    };
  });
}
