// The builders of the eight kinds of stage (what a stage is, and its record:
// stage_record.ts), each a call of the same run function as its single
// command (src/runs/), never a shell-out: train a tokenizer (docs/method.md
// §2, §4), evaluate it (rFID, pFID, §3), train a generator on its tokens
// (§5; the tokens are encoded and cached inside that stage), evaluate the
// generator (gFID), post-train the decoder (§6) and evaluate the generator
// again through the post-trained decoder, and the same two at σ = 1 (the
// control). evalGenerator caches sample ids per
// generator, settings and seed, so both generator evaluations score the very
// same tokens (claim 3 is a paired comparison).
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { evalGenerator, evalTokenizer, postTrain, runPaths, trainGenerator, trainTokenizer } from '../runs/index.js';
import { writeFileAtomic } from '../torch/index.js';
import type { LayerConfigs } from './layer_configs.js';
import type { ReproduceConfig } from './preset.js';
import { type StageKind, type StageSpec, stageId } from './stage_record.js';

/** What every stage of one reproduction shares. */
export interface StageFactory {
  /** The reproduction's folder (--out). */
  dir: string;
  config: ReproduceConfig;
  layers: LayerConfigs;
}

/** The evaluation result every eval stage writes into its folder (and copies of the report and grid, when made). */
export const RESULT_FILE = 'result.json';
export const SAMPLES_FILE = 'samples.png';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer.safetensors'];
const GENERATOR_FILES = ['generator.json', 'generator.safetensors'];

const stageDir = (f: StageFactory, kind: StageKind, name: string, seed: number) => path.join(f.dir, kind, `${name}-s${seed}`);

function spec(f: StageFactory, kind: StageKind, name: string, seed: number, rest: Omit<StageSpec, 'kind' | 'name' | 'seed' | 'id' | 'dir'>): StageSpec {
  return { kind, name, seed, id: stageId(kind, name, seed), dir: stageDir(f, kind, name, seed), ...rest };
}

/** The settings of every FID: part of each eval stage's config, so changing them reruns the evaluations. */
function evalSettings(f: StageFactory) {
  const e = f.config.eval;
  return { data: f.layers.data, features: e.features || `classifier:${f.layers.data}`, weights: e.weights, batchSize: e.batchSize, seed: e.seed, fidReplicates: e.fidReplicates };
}

/** A layer config set to train on `device`: at run time only, so the stage's hashed config stays device-free. */
const onDeviceOf = <C extends { train: { device: string } }>(config: C, device: string): C => (device === 'cpu' ? config : { ...config, train: { ...config.train, device } });

/** The bootstrap settings of every FID (metrics/frechet_noise.ts): one seed for all, so that differences pair. */
const noiseOf = (c: { fidReplicates: number; seed: number }) => (c.fidReplicates > 0 ? { replicates: c.fidReplicates, seed: c.seed } : undefined);

export function trainTokenizerStage(f: StageFactory, name: string, seed: number): StageSpec {
  const config = f.layers.tokenizer(name, seed);
  return spec(f, 'train-tokenizer', name, seed, {
    config, inputs: [], outputs: TOKENIZER_FILES, resumable: true,
    run: ({ resume, events, device }) => trainTokenizer(onDeviceOf(config, device), stageDir(f, 'train-tokenizer', name, seed), { resume, events }),
  });
}

export function evalTokenizerStage(f: StageFactory, tokenizer: StageSpec): StageSpec {
  const { pfid, images } = f.config.eval;
  const config = { ...evalSettings(f), images, pfid };
  const dir = stageDir(f, 'eval-tokenizer', tokenizer.name, tokenizer.seed);
  return spec(f, 'eval-tokenizer', tokenizer.name, tokenizer.seed, {
    config, inputs: [tokenizer], outputs: [RESULT_FILE], resumable: false,
    run: async ({ events, device }) => {
      const { summary } = await evalTokenizer({
        tokenizer: tokenizer.dir, data: config.data, features: config.features, weights: config.weights || undefined, n: images,
        batchSize: config.batchSize, seed: config.seed, alpha: pfid.alpha, delta: pfid.delta || undefined, curve: pfid.curve, deltaCurve: pfid.deltaCurve,
        noise: noiseOf(config), device, events,
      });
      // evalTokenizer writes into the tokenizer's eval/ folder; the stage keeps its own copies.
      const written = runPaths(tokenizer.dir).eval;
      for (const [from, to] of [[written.report, 'report.html'], [written.samples, SAMPLES_FILE]] as const) {
        if (existsSync(from)) copyFileSync(from, path.join(dir, to));
      }
      writeFileAtomic(path.join(dir, RESULT_FILE), [Buffer.from(`${JSON.stringify(summary, null, 2)}\n`)]);
      return { status: 'done' };
    },
  });
}

export function trainGeneratorStage(f: StageFactory, tokenizer: StageSpec): StageSpec {
  const config = f.layers.generator(tokenizer.seed);
  const dir = stageDir(f, 'train-generator', tokenizer.name, tokenizer.seed);
  return spec(f, 'train-generator', tokenizer.name, tokenizer.seed, {
    config, inputs: [tokenizer], outputs: GENERATOR_FILES, resumable: true,
    run: ({ resume, events, device }) => trainGenerator(onDeviceOf(config, device), dir, { tokenizer: tokenizer.dir, resume, events }),
  });
}

/** gFID of `generator`'s samples decoded by `decoder` (its own tokenizer, or the post-trained one). */
export function evalGeneratorStage(f: StageFactory, kind: 'eval-generator' | 'eval-posttrained' | 'eval-postcontrol', generator: StageSpec, decoder: StageSpec): StageSpec {
  const config = { ...evalSettings(f), samples: f.config.eval.samples };
  const dir = stageDir(f, kind, generator.name, generator.seed);
  return spec(f, kind, generator.name, generator.seed, {
    config, inputs: [generator, decoder], outputs: [RESULT_FILE], resumable: false,
    run: async ({ events, device }) => {
      await evalGenerator({
        generator: generator.dir, tokenizer: decoder.dir, data: config.data, features: config.features, weights: config.weights || undefined,
        n: config.samples, batchSize: config.batchSize, seed: config.seed, noise: noiseOf(config), device, out: dir, events,
      });
      return { status: 'done' };
    },
  });
}

/**
 * Post-training of `tokenizer`'s decoder with its own generator; as
 * 'post-train-control', the same recipe and seed at σ = 1 (every token the
 * ground truth), the control that isolates what the σ-tokens add.
 */
export function postTrainStage(f: StageFactory, tokenizer: StageSpec, generator: StageSpec, kind: 'post-train' | 'post-train-control' = 'post-train'): StageSpec {
  const recipe = f.layers.posttrain(tokenizer.seed);
  const config = kind === 'post-train' ? recipe : { ...recipe, sigma: 1 };
  const dir = stageDir(f, kind, tokenizer.name, tokenizer.seed);
  return spec(f, kind, tokenizer.name, tokenizer.seed, {
    config, inputs: [tokenizer, generator], outputs: TOKENIZER_FILES, resumable: true,
    run: ({ resume, events, device }) => postTrain(onDeviceOf(config, device), dir, { tokenizer: tokenizer.dir, generator: generator.dir, resume, events }),
  });
}
