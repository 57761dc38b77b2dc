// The stage graph of a reproduction. Per seed and sweep entry:
//
//   train-tokenizer → eval-tokenizer
//         ↓
//   train-generator → eval-generator
//         ↓ (the tokenizers chosen for post-training)
//   post-train      → eval-posttrained (same generator, same sampled tokens)
//   post-train-control → eval-postcontrol (the same at σ = 1; posttrain.control)
//
// Which tokenizers are post-trained depends on measured numbers ('best-pfid'
// is the seed's lowest pFID), so that part of the graph is built once the
// seed's tokenizer evaluations exist.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type StageKind, type StageSpec } from './stage_record.js';
import {
  RESULT_FILE, type StageFactory, evalGeneratorStage, evalTokenizerStage, postTrainStage, trainGeneratorStage, trainTokenizerStage,
} from './stage_builders.js';

/** The stages of one tokenizer (sweep entry and seed) up to its generator's evaluation. */
export interface TokenizerStages {
  name: string;
  seed: number;
  train: StageSpec;
  eval: StageSpec;
  generator: StageSpec;
  evalGenerator: StageSpec;
}

/** Post-training of one tokenizer with its own generator, and the generator evaluated through the new decoder. */
export interface PostTrainStages {
  name: string;
  seed: number;
  post: StageSpec;
  eval: StageSpec;
  /** The σ = 1 control and its evaluation on the same sampled tokens (null with posttrain.control off). */
  control: { post: StageSpec; eval: StageSpec } | null;
}

export function tokenizerStages(f: StageFactory, name: string, seed: number): TokenizerStages {
  const train = trainTokenizerStage(f, name, seed);
  const generator = trainGeneratorStage(f, train);
  return { name, seed, train, eval: evalTokenizerStage(f, train), generator, evalGenerator: evalGeneratorStage(f, 'eval-generator', generator, train) };
}

/** In running order: a tokenizer's evaluation right after it, so early numbers appear early. */
export const orderOf = (t: TokenizerStages): StageSpec[] => [t.train, t.eval, t.generator, t.evalGenerator];

/** A finished eval-tokenizer stage's main pFID. */
export const measuredPfid = (evalStage: StageSpec): number =>
  (JSON.parse(readFileSync(path.join(evalStage.dir, RESULT_FILE), 'utf8')) as { pfid: { value: number } }).pfid.value;

/**
 * The sweep entries to post-train for one seed: `wanted` in order, with
 * 'best-pfid' → the entry of lowest pFID (the first on a tie) and 'baseline'
 * → the baseline, each once.
 */
export function postTrainTargets(wanted: readonly string[], baseline: string, pfid: ReadonlyMap<string, number>): string[] {
  const best = [...pfid].reduce<[string, number] | null>((b, e) => (b === null || e[1] < b[1] ? e : b), null)?.[0];
  const names = wanted.map((w) => (w === 'best-pfid' ? best : w === 'baseline' ? baseline : w)).filter((n): n is string => n !== undefined);
  return [...new Set(names)];
}

export function postTrainStages(f: StageFactory, t: TokenizerStages): PostTrainStages {
  const post = postTrainStage(f, t.train, t.generator);
  const controlPost = f.config.posttrain.control ? postTrainStage(f, t.train, t.generator, 'post-train-control') : null;
  return {
    name: t.name, seed: t.seed, post, eval: evalGeneratorStage(f, 'eval-posttrained', t.generator, post),
    control: controlPost ? { post: controlPost, eval: evalGeneratorStage(f, 'eval-postcontrol', t.generator, controlPost) } : null,
  };
}

/** In running order: each post-training's evaluation right after it. */
export const postOrderOf = (p: PostTrainStages): StageSpec[] => [p.post, p.eval, ...(p.control ? [p.control.post, p.control.eval] : [])];

/** The stage of `kind` for one sweep entry and seed, rebuilt from the factory (how a child process finds its stage). */
export function stageAt(f: StageFactory, kind: StageKind, name: string, seed: number): StageSpec {
  const t = tokenizerStages(f, name, seed);
  const p = ['post-train', 'eval-posttrained', 'post-train-control', 'eval-postcontrol'].includes(kind) ? postTrainStages(f, t) : null;
  const control = () => {
    if (!p?.control) throw new Error(`${kind} stage asked for, but posttrain.control is off in this preset`);
    return p.control;
  };
  const byKind: Record<StageKind, () => StageSpec> = {
    'train-tokenizer': () => t.train, 'eval-tokenizer': () => t.eval, 'train-generator': () => t.generator,
    'eval-generator': () => t.evalGenerator, 'post-train': () => p!.post, 'eval-posttrained': () => p!.eval,
    'post-train-control': () => control().post, 'eval-postcontrol': () => control().eval,
  };
  return byKind[kind]();
}
