// Training a generator as a run (docs/method.md §5): tokenize the dataset
// once with the frozen tokenizer (cached in the run folder, keyed by a
// fingerprint), then the loop around GeneratorTrainer.step that owns the
// folder — resume, metrics, per-class sample grids, checkpoints, stopping on
// an abort signal. `robustok train-generator` is flags → config → this.
//
// Writes to DIR (names in layout.ts): config.json, tokens-train.safetensors,
// metrics.jsonl, samples/step-N.png (a row per class, EMA weights),
// checkpoint.safetensors and, at the end, generator.json +
// generator.safetensors (the EMA weights).
import { existsSync } from 'node:fs';
import { type Dataset, leadingSamples, openDataset, prepareSplit, writeImageRows } from '../data/index.js';
import {
  type ArGenerator, type GeneratorConfig, codebookFingerprint, GeneratorTrainer, type Sampling, type TokenSet, loadTokenSet, sampleImages, samplingOf,
  saveGenerator, saveTokenSet, tokenFingerprint, tokenizeSplit,
} from '../generator/index.js';
import { type Tokenizer, absoluteTokenizerRef, openTokenizer, tokenizerImageSpec } from '../tokenizer/index.js';
import { type Tensor, arange, manualSeed, profile } from '../torch/index.js';
import { openStream, resolveDevice, streamSeed } from '../train/index.js';
import { joinDataParallel, mainRankFirst, openRunFolder, rankEvents, seedRankStream, shardOf } from './data_parallel.js';
import { type RunEnd, type RunEvents, abortReason, withDefaults } from './events.js';
import { resumeDecision, trainingLoop } from './training_loop.js';

export interface TrainGeneratorOptions {
  /** The trained tokenizer folder whose tokens the generator learns. */
  tokenizer: string;
  resume?: boolean;
  events?: RunEvents;
}

export type TrainGeneratorResult = RunEnd & { dir: string; step: number; minutes: number; grid?: string };

export async function trainGenerator(cfg: GeneratorConfig, dir: string, options: TrainGeneratorOptions): Promise<TrainGeneratorResult> {
  const tokenizerDir = absoluteTokenizerRef(options.tokenizer);
  const tokenizer = openTokenizer(tokenizerDir).model;  // a folder that is not a tokenizer fails here, naming it
  const parallel = joinDataParallel(resolveDevice(cfg.train.device));  // under launch, this rank's GPU
  const events = withDefaults(rankEvents(options.events, parallel));
  const folder = openRunFolder(dir, parallel, events.log);
  const { paths } = folder;
  let trainer: GeneratorTrainer | undefined;
  let tokens: TokenSet | undefined;
  try {
    const resuming = resumeDecision(paths.checkpoint, options.resume, cfg.train.steps);
    folder.writeConfig('generator', cfg);
    const dataset = await openDataset(cfg.data.name);
    // Rank 0 encodes and caches the tokens; the other ranks then read its cache.
    tokens = await profile.phaseAsync('tokenize', () => mainRankFirst(parallel, () => trainingTokens(tokenizer, tokenizerDir, dataset, cfg, paths.tokens, events, resuming)));
    const globalBatch = cfg.train.batchSize * (parallel?.worldSize ?? 1);
    if (tokens.labels.size(0) < globalBatch) {
      const perRank = parallel ? ` (on each of ${parallel.worldSize} ranks: ${globalBatch} in all)` : '';
      throw new Error(`train.batchSize ${cfg.train.batchSize}${perRank} is larger than the ${tokens.labels.size(0)} training images`);
    }

    manualSeed(streamSeed(cfg.train.seed, 'global'));
    const t = new GeneratorTrainer(cfg, tokens, dataset.classes.length, { shard: shardOf(parallel) });
    seedRankStream(parallel, cfg.train.seed);
    trainer = t;
    events.log(`generator: ${(t.model.numParameters() / 1e6).toFixed(2)}M parameters, ${tokens.grid.join('×')} tokens, K = ${tokens.vocabSize}, ${dataset.classes.length} classes`);
    const sampling = samplingOf(cfg.sample);
    const { aborted, minutes } = await trainingLoop({
      folder, events, trainer: t, resuming, asked: options.resume === true, train: cfg.train, config: cfg,
      batchesPerEpoch: t.batchesPerEpoch, rate: { perStep: cfg.train.batchSize * t.model.length, key: 'tokensPerSecond' },
      detail: (m) => `loss ${m.loss.toFixed(3)} acc ${(100 * m.accuracy).toFixed(1)}%`,
      samples: (step) => t.ema.withEmaWeights(() =>
        writeClassGrid(t.model, tokenizer, dataset.classes.length, cfg.train.samplesPerClass, sampling, cfg.train.seed, paths.sample(step))),
      onSkip: () => { t.stepCount += 1; },  // the bad batch is passed over, not retried: the next step takes the next one
      parallel,
    });
    if (aborted) return { status: 'interrupted', reason: abortReason(events.signal), dir, step: t.stepCount, minutes };
    if (parallel && !parallel.isMain) return { status: 'done', dir, step: t.stepCount, minutes };
    t.ema.withEmaWeights(() => saveGenerator(dir, t.model, {
      classes: [...dataset.classes], tokenizer: tokenizerDir, fingerprint: tokens!.fingerprint, codebook: codebookFingerprint(tokenizer), data: cfg.data.name, sampling,
    }));
    return { status: 'done', dir, step: t.stepCount, minutes, grid: paths.sample(t.stepCount) };
  } finally {
    trainer?.dispose();
    tokens?.dispose();
    tokenizer.dispose();
    folder.release();
    parallel?.dispose();
  }
}

/** The training split's tokens: from the run folder's cache when its fingerprint matches, else encoded now and cached. */
async function trainingTokens(tokenizer: Tokenizer, tokenizerDir: string, dataset: Dataset, cfg: GeneratorConfig, file: string,
  events: ReturnType<typeof withDefaults>, resuming: boolean): Promise<TokenSet> {
  const spec = tokenizerImageSpec(tokenizerDir);
  const fingerprint = tokenFingerprint(tokenizerDir, {
    data: dataset.name, source: dataset.splits.train?.fingerprint ?? null, preprocess: spec, limit: cfg.data.limit, flip: cfg.data.flip,
  });
  const cached = loadTokenSet(file, fingerprint);
  if (cached) {
    events.log(`tokens: ${cached.labels.size(0)} images from ${file}`);
    return cached;
  }
  if (existsSync(file) && resuming) {
    throw new Error(`the tokenizer ${tokenizerDir} or the data settings changed since this run started (${file} was encoded differently): ` +
      'its checkpoint learned other tokens, so it cannot continue; start a new run with another --out');
  }
  if (existsSync(file)) events.log(`${file} was encoded by another tokenizer or data transform: encoding again`);
  const split = leadingSamples(await prepareSplit(dataset, 'train', { preprocess: { size: spec.size, channels: spec.channels } }), cfg.data.limit || Infinity);
  const set = tokenizeSplit(tokenizer, split, fingerprint, {
    flip: cfg.data.flip, onProgress: (done, total) => events.progress({ label: 'tokenize', done, total, unit: 'img', cadence: 10 }),
  });
  saveTokenSet(file, set);
  return set;
}

/** A grid with one row per class (`perClass` samples each), sampled with a fixed seed so grids compare across steps. */
export async function writeClassGrid(model: ArGenerator, tokenizer: Tokenizer, numClasses: number, perClass: number, sampling: Sampling,
  seed: number, file: string): Promise<void> {
  const labels = arange(0, numClasses, 1, { dtype: 'int64' }).repeatInterleave(perClass);
  const stream = openStream(seed, 'gridDraws');
  const { ids, images } = sampleImages(model, tokenizer, labels, { ...sampling, stream });
  try {
    const rows: Tensor[] = Array.from({ length: numClasses }, (_, c) => images.narrow(0, c * perClass, perClass));
    await writeImageRows(rows, file);
  } finally {
    for (const t of [labels, ids, images]) t.dispose();
  }
}
