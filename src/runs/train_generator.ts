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
import path from 'node:path';
import { type Dataset, leadingSamples, openDataset, prepareSplit, writeImageRows } from '../data/index.js';
import {
  type ArGenerator, type GeneratorConfig, codebookFingerprint, GeneratorTrainer, type Sampling, type TokenSet, loadTokenSet, sampleImages, samplingOf,
  saveGenerator, saveTokenSet, tokenFingerprint, tokenizeSplit,
} from '../generator/index.js';
import { Tokenizer, readImageSpec } from '../tokenizer/index.js';
import { Generator, type Tensor, arange, getNumThreads, manualSeed, threadGovernor } from '../torch/index.js';
import { NonFiniteLossError, loadCheckpoint, readProgress, saveCheckpoint } from '../train/index.js';
import { type RunEnd, type RunEvents, abortReason, withDefaults } from './events.js';
import { RunFolder } from './run_folder.js';

/** Bad batches skipped in a row before a `skip` run gives up. */
const MAX_SKIPPED_IN_A_ROW = 100;

export interface TrainGeneratorOptions {
  /** The trained tokenizer folder whose tokens the generator learns. */
  tokenizer: string;
  resume?: boolean;
  events?: RunEvents;
}

export type TrainGeneratorResult = RunEnd & { dir: string; step: number; minutes: number; grid?: string };

export async function trainGenerator(cfg: GeneratorConfig, dir: string, options: TrainGeneratorOptions): Promise<TrainGeneratorResult> {
  const events = withDefaults(options.events);
  const tokenizerDir = path.resolve(options.tokenizer);
  const tokenizer = Tokenizer.load(tokenizerDir);  // a folder that is not a tokenizer fails here, naming it
  const folder = RunFolder.open(dir, { log: events.log });
  const { paths } = folder;
  let trainer: GeneratorTrainer | undefined;
  let tokens: TokenSet | undefined;
  try {
    const resuming = options.resume === true && existsSync(paths.checkpoint);
    if (!options.resume && existsSync(paths.checkpoint)) {
      throw new Error(`${dir} already holds a run: pass --resume to continue it, or choose another --out`);
    }
    if (resuming) {
      const { step } = readProgress(paths.checkpoint);
      if (step > cfg.train.steps) throw new Error(`${paths.checkpoint} is at step ${step}, past train.steps = ${cfg.train.steps}: raise it (--set train.steps=N) to train further`);
    }
    folder.writeConfig(cfg);
    const dataset = await openDataset(cfg.data.name);
    tokens = await trainingTokens(tokenizer, tokenizerDir, dataset, cfg, paths.tokens, events);
    if (tokens.labels.size(0) < cfg.train.batchSize) {
      throw new Error(`train.batchSize ${cfg.train.batchSize} is larger than the ${tokens.labels.size(0)} training images`);
    }

    manualSeed(cfg.train.seed);
    const t = new GeneratorTrainer(cfg, tokens, dataset.classes.length);
    trainer = t;
    events.log(`generator: ${(t.model.numParameters() / 1e6).toFixed(2)}M parameters, ${tokens.grid.join('×')} tokens, K = ${tokens.vocabSize}, ${dataset.classes.length} classes`);
    if (resuming) {
      t.stepCount = loadCheckpoint(paths.checkpoint, t.parts()).step;
      const dropped = folder.resetMetrics(t.stepCount);
      events.log(`resumed from step ${t.stepCount}${dropped ? ` (${dropped} metrics lines after it dropped: those steps run again)` : ''}`);
    } else {
      if (options.resume) events.log(`no checkpoint in ${dir} yet: starting a new run`);
      folder.resetMetrics();
    }
    const save = () => saveCheckpoint(paths.checkpoint, t.parts(), { step: t.stepCount, epoch: Math.floor(t.stepCount / t.batchesPerEpoch), config: cfg });
    const sampling = samplingOf(cfg.sample);
    const grid = (file: string) => t.ema.withEmaWeights(() =>
      writeClassGrid(t.model, tokenizer, dataset.classes.length, cfg.train.samplesPerClass, sampling, cfg.train.seed, file));
    const startedAt = performance.now();
    const startStep = t.stepCount;
    const tokensPerStep = cfg.train.batchSize * tokens.grid[0] * tokens.grid[1];
    let skippedInARow = 0;
    let lastSaved = resuming ? t.stepCount : null;
    events.progress({ label: 'train', done: startStep, total: cfg.train.steps, start: startStep });
    while (t.stepCount < cfg.train.steps && !events.signal?.aborted) {
      const stepStart = performance.now();
      let m;
      try {
        m = t.step();
        skippedInARow = 0;
      } catch (error) {
        if (!(error instanceof NonFiniteLossError)) throw error;
        const last = lastSaved === null ? 'no checkpoint was written yet' : `the last good checkpoint is ${paths.checkpoint} (step ${lastSaved})`;
        if (cfg.train.nonFinite === 'stop') throw new Error(`${error.message}; stopped: ${last}. Lower optim.lr, or set train.nonFinite=skip to skip such batches`, { cause: error });
        skippedInARow += 1;
        t.stepCount += 1;  // the batch is skipped, not retried: the next step takes the next batch
        events.log(`${error.message}: batch skipped (train.nonFinite=skip)`);
        if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) throw new Error(`${MAX_SKIPPED_IN_A_ROW} batches in a row gave a non-finite loss; stopped: ${last}`, { cause: error });
        continue;
      }
      const tokensPerSecond = tokensPerStep / ((performance.now() - stepStart) / 1000);
      const threadChange = threadGovernor.maybeAdjust();
      if (threadChange.changed) events.log(threadChange.reason ?? `threads → ${threadChange.threads}`);
      if (m.step % cfg.train.logEvery === 0 || m.step === cfg.train.steps) {
        const threads = getNumThreads();
        folder.appendMetrics({ ...m, epoch: Math.floor((m.step - 1) / t.batchesPerEpoch), tokensPerSecond, threads });
        events.progress({ label: 'train', done: m.step, total: cfg.train.steps, start: startStep, detail: `loss ${m.loss.toFixed(3)} acc ${(100 * m.accuracy).toFixed(1)}% threads ${threads}` });
      }
      if (m.step % cfg.train.sampleEvery === 0 || m.step === cfg.train.steps) await grid(paths.sample(m.step));
      if (m.step % cfg.train.checkpointEvery === 0) {
        save();
        lastSaved = m.step;
      }
    }
    save();
    const minutes = (performance.now() - startedAt) / 60000;
    if (events.signal?.aborted) return { status: 'interrupted', reason: abortReason(events.signal), dir, step: t.stepCount, minutes };
    t.ema.withEmaWeights(() => saveGenerator(dir, t.model, {
      classes: [...dataset.classes], tokenizer: tokenizerDir, fingerprint: tokens!.fingerprint, codebook: codebookFingerprint(tokenizer), data: cfg.data.name, sampling,
    }));
    return { status: 'done', dir, step: t.stepCount, minutes, grid: paths.sample(t.stepCount) };
  } finally {
    trainer?.dispose();
    tokens?.dispose();
    tokenizer.dispose();
    folder.release();
  }
}

/** The training split's tokens: from the run folder's cache when its fingerprint matches, else encoded now and cached. */
async function trainingTokens(tokenizer: Tokenizer, tokenizerDir: string, dataset: Dataset, cfg: GeneratorConfig, file: string,
  events: ReturnType<typeof withDefaults>): Promise<TokenSet> {
  const spec = readImageSpec(tokenizerDir);
  const fingerprint = tokenFingerprint(tokenizerDir, {
    data: dataset.name, source: dataset.splits.train?.fingerprint ?? null, preprocess: spec, limit: cfg.data.limit, flip: cfg.data.flip,
  });
  const cached = loadTokenSet(file, fingerprint);
  if (cached) {
    events.log(`tokens: ${cached.labels.size(0)} images from ${file}`);
    return cached;
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
  const generator = new Generator(seed + 2);
  const { ids, images } = sampleImages(model, tokenizer, labels, { ...sampling, generator });
  try {
    const rows: Tensor[] = Array.from({ length: numClasses }, (_, c) => images.narrow(0, c * perClass, perClass));
    await writeImageRows(rows, file);
  } finally {
    for (const t of [labels, ids, images]) t.dispose();
  }
}
