// The test of the paper's claim 3 (docs/method.md §6, "A control is
// required"): for each post-training seed, the decoder post-trained at σ and
// the same recipe at σ = 1 (no generator token at all: plain fine-tuning on
// clean tokens, the same steps, data order and seed), each scored with
// eval-generator on the same cached sample grids as the original decoder.
// Continuing to train a decoder can move gFID by itself, so "after < before"
// proves nothing: the effect of σ-tokens is post − control, paired by seed,
// with the seed as the unit (a t interval over seeds).
//
// DIR/original/ (the original decoder's score), DIR/sigma-sS/ and
// DIR/control-sS/ (post-trained tokenizer folders, each with eval-gen/), and
// DIR/compare.json. Finished arms are skipped, an interrupted one resumes.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type TSummary, tSummary } from '../metrics/index.js';
import type { PosttrainConfig } from '../posttrain/index.js';
import { writeFileAtomic } from '../torch/index.js';
import { type GeneratorEvalSummary, evalGenerator } from './eval_generator.js';
import { type RunEvents, withDefaults } from './events.js';
import { postTrain } from './post_train.js';
import { readJsonObject } from './run_folder.js';

export interface PostTrainCompareOptions {
  tokenizer: string;
  generator: string;
  /** Post-training seeds (train.seed of both arms). */
  seeds: number[];
  /** σ of the control arm (1: the ground-truth tokens only). */
  controlSigma?: number;
  /** Samples scored per decoder (default 10,000) and their batch. */
  n?: number;
  batchSize?: number;
  /** Seed of the sampled grids, shared by every decoder. */
  sampleSeed?: number;
  /** The scoring network (default: eval-generator's, the dataset classifier) and its weights file. */
  features?: string;
  weights?: string;
  events?: RunEvents;
}

/** One decoder's scores on the shared grids. */
export interface DecoderScore {
  gfid: number;
  is: number | null;
  precision: number;
  recall: number;
}

export interface PostTrainComparison {
  sigma: number;
  controlSigma: number;
  n: number;
  features: string;
  original: DecoderScore;
  seeds: { seed: number; post: DecoderScore; control: DecoderScore }[];
  /** gFID differences over seeds, each a t summary (seed = unit). */
  paired: { postMinusOriginal: TSummary; postMinusControl: TSummary; controlMinusOriginal: TSummary };
}

const scoreOf = (s: GeneratorEvalSummary): DecoderScore => ({ gfid: s.gfid, is: s.is?.mean ?? null, precision: s.precision, recall: s.recall });

export async function postTrainCompare(cfg: PosttrainConfig, dir: string, o: PostTrainCompareOptions): Promise<PostTrainComparison> {
  const events = withDefaults(o.events);
  if (o.seeds.length === 0) throw new Error('post-train-compare: give at least one seed');
  const controlSigma = o.controlSigma ?? 1;
  if (controlSigma === cfg.sigma) throw new Error(`post-train-compare: the control's σ (${controlSigma}) equals the run's σ; nothing would be compared`);
  mkdirSync(dir, { recursive: true });
  const n = o.n ?? 10000;
  let features = '';
  const score = async (tokenizer: string, out: string): Promise<DecoderScore> => {
    const file = path.join(out, 'result.json');
    if (existsSync(file)) {
      const saved = readJsonObject(file, 'a finished evaluation') as GeneratorEvalSummary;
      if (saved.n === n) {
        features = saved.features;
        return scoreOf(saved);
      }
    }
    const { summary } = await evalGenerator({
      generator: o.generator, tokenizer, n, batchSize: o.batchSize ?? 500, seed: o.sampleSeed ?? 0, features: o.features, weights: o.weights, out, events: o.events,
    });
    features = summary.features;
    return scoreOf(summary);
  };
  const arm = async (sigma: number, seed: number, name: string): Promise<DecoderScore> => {
    const out = path.join(dir, `${name}-s${seed}`);
    if (!existsSync(path.join(out, 'tokenizer.safetensors'))) {
      events.log(`${name}, seed ${seed}: post-training at σ = ${sigma} → ${out}`);
      const run = await postTrain({ ...cfg, sigma, train: { ...cfg.train, seed } }, out, {
        tokenizer: o.tokenizer, generator: o.generator, resume: existsSync(path.join(out, 'checkpoint.safetensors')), events: o.events,
      });
      if (run.status !== 'done') throw new Error(`post-train-compare: ${name}, seed ${seed} stopped (${run.reason}); run again to continue`);
    }
    return score(out, path.join(out, 'eval-gen'));
  };

  const original = await score(o.tokenizer, path.join(dir, 'original'));
  const seeds: PostTrainComparison['seeds'] = [];
  for (const seed of o.seeds) {
    seeds.push({ seed, post: await arm(cfg.sigma, seed, 'sigma'), control: await arm(controlSigma, seed, 'control') });
  }
  const paired = {
    postMinusOriginal: tSummary(seeds.map((s) => s.post.gfid - original.gfid)),
    postMinusControl: tSummary(seeds.map((s) => s.post.gfid - s.control.gfid)),
    controlMinusOriginal: tSummary(seeds.map((s) => s.control.gfid - original.gfid)),
  };
  const result: PostTrainComparison = { sigma: cfg.sigma, controlSigma, n, features, original, seeds, paired };
  writeFileAtomic(path.join(dir, 'compare.json'), [Buffer.from(`${JSON.stringify(result, null, 2)}\n`)]);
  return result;
}

/** The comparison as a few lines of text: per seed, then the paired differences with their intervals. */
export function comparisonTable(c: PostTrainComparison): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(2)}` : 'n/a');
  const lines = [
    `gFID on the same ${c.n} sampled grids (${c.features}); original decoder ${f(c.original.gfid)}`,
    `seed | σ = ${c.sigma} | control σ = ${c.controlSigma} | σ − control`,
    ...c.seeds.map((s) => `${s.seed} | ${f(s.post.gfid)} | ${f(s.control.gfid)} | ${signed(s.post.gfid - s.control.gfid)}`),
  ];
  const row = (name: string, t: TSummary) =>
    `${name}: ${signed(t.mean)} ± ${f(t.std)} (n = ${t.n} seeds; 95% t interval [${signed(t.interval[0])}, ${signed(t.interval[1])}], p = ${Number.isFinite(t.p) ? t.p.toPrecision(2) : 'n/a'})`;
  lines.push(row('σ-post-trained − original', c.paired.postMinusOriginal), row('σ-post-trained − control', c.paired.postMinusControl),
    row('control − original', c.paired.controlMinusOriginal));
  return lines.join('\n');
}
