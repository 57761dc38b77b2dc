// bench/generator: the `small` generator preset (configs/generator/small.yaml)
// by robustok and by its PyTorch twin (bench/generator_torch.py over
// test/generator_ref.py), from the same weights on the same tokens:
//  - one training step (GeneratorTrainer.step: class dropout, forward,
//    cross-entropy, backward, clipping, AdamW, schedule, EMA), interleaved
//    step by step (A B, then B A, ...) on the same thread count;
//  - sampling throughput: 100 token grids (10 per class) with the preset's
//    sampling settings — guidance as a doubled batch of 200 rows, temperature
//    draws — by robustok with its KV cache (interleaved with the twin's KV-cached
//    sampler), and by robustok without it (kvCache:false, which recomputes
//    the whole prefix at every position; timed a few times only, as it costs
//    about N/2 times more);
//  - the loop users run: `train-generator`'s run function (trainGenerator:
//    the loop of src/runs/training_loop.ts with its metrics lines, the
//    per-class sample grid drawn with the EMA weights and decoded by the
//    tokenizer, checkpoints) for LOOP_STEPS steps from step 0, beside the
//    twin's loop written as one writes it in PyTorch, taking turns. An
//    isolated step at parity says little about the loop around it, and the
//    loop is what a user waits for. The cadences are the preset's: at 60
//    steps that is 3 metrics lines, one grid and one checkpoint (both at the
//    end), the least a run writes — which makes the grid's share of the loop
//    larger than in a full run (3–5% rather than under 1%): its sampling is
//    the KV-cached sampler timed above.
// Prints a table, then one JSON line: train_step_ratio, sample_ratio and
// loop_ratio (robustok / PyTorch time, median of paired runs; ≤ 1 means
// robustok is as fast or faster) and cache_speedup (median no-cache time /
// median cached time).
//
//   npm run bench:generator         (ROBUSTOK_THREADS=N to choose threads)
//
// The step and the sampler run on uniform random ids, not a tokenized
// dataset: the work of a step or a draw does not depend on their values. The
// loop needs a tokenizer folder, as a run does: one with the small
// tokenizer's architecture (configs/tokenizer/small.yaml) and its initial
// random weights, made once, untimed; its tokens of the first LOOP_IMAGES
// Fashion-MNIST images are encoded once (a 1-step run) and that run's token
// cache is copied into each loop's folder, where the run finds it by its
// fingerprint, so every loop trains, and the twin with it, on the same
// tokens without encoding them again.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { openDataset } from '../src/data/index.js';
import {
  ArGenerator, type GeneratorConfig, GeneratorTrainer, type TokenSet, generatorOptions, generatorSchema, loadTokenSet, sampleTokens, samplingOf,
} from '../src/generator/index.js';
import { type TrainGeneratorResult, runPaths, trainGenerator } from '../src/runs/index.js';
import { type TokenizerConfig, Tokenizer, modelOptions, saveTokenizer, tokenizerSchema } from '../src/tokenizer/index.js';
import { RandomStream, type Tensor, arange, loadSafetensors, manualSeed, randint, savePt, tidy } from '../src/torch/index.js';
import { pinnedThreads } from './twin_env.js';
import { streamSeed } from '../src/train/index.js';
import { loopMilliseconds } from './loop_timing.js';
import { median, pair, pairedSummary, settle, timed } from './paired_timing.js';
import { type Twin, startTwin } from './twin_process.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const smallPreset = path.join(root, 'configs', 'generator', 'small.yaml');
const smallTokenizerPreset = path.join(root, 'configs', 'tokenizer', 'small.yaml');
/** What the small preset is made for: the small tokenizer's 8×8 grid of K = 256 codes, Fashion-MNIST's 10 classes. */
const VOCAB = 256;
const GRID: [number, number] = [8, 8];
const CLASSES = 10;
/** Rows of the fake token set: several batches, so steps walk through a shuffled epoch as in training. */
const TOKEN_ROWS = 1024;
const SAMPLE_IMAGES = 100;
const WARMUP_STEPS = 3;
const TIMED_STEPS = 20;
const WARMUP_SAMPLES = 1;
const TIMED_SAMPLES = 8;
const NO_CACHE_SAMPLES = 3;
/** Steps of each timed loop, and loops per side. */
const LOOP_STEPS = 60;
const LOOP_ROUNDS = 2;
/**
 * The images whose tokens the loop trains on: few enough to encode in
 * seconds, and 46 batches of 64 an epoch, so the loop also starts a second
 * epoch (a new shuffle) as a run does.
 */
const LOOP_IMAGES = 3000;

/** The small preset, or the brief's fallback (width 192, depth 4, heads 4, batch 64) if the preset file is missing. */
export function smallConfig(overrides: string[] = []): GeneratorConfig {
  const sources = existsSync(smallPreset)
    ? [loadConfigFile(smallPreset)]
    : [{ model: { width: 192, depth: 4, heads: 4 }, train: { batchSize: 64 } }];
  return resolveConfig(generatorSchema, sources, overrides);
}

/** Uniform random token ids `[M, 1, N]` (int16, as tokenizeSplit stores them) and labels `[M]`, kept until dispose. */
export function randomTokens(rows = TOKEN_ROWS): TokenSet {
  const ids = randint(0, VOCAB, [rows, 1, GRID[0] * GRID[1]], { dtype: 'int16' }).keep();
  const labels = randint(0, CLASSES, [rows]).keep();
  return { ids, labels, grid: GRID, vocabSize: VOCAB, fingerprint: 'uniform random ids', dispose: () => { ids.dispose(); labels.dispose(); } };
}

/** Class ids `[S]`: S / C images of each class, as a sample grid has them. */
export const sampleLabels = (images = SAMPLE_IMAGES): Tensor =>
  tidy(() => arange(0, images, 1, { dtype: 'int64' }).remainder(CLASSES).keep());

/** What a train-generator loop starts from, made once (untimed) by prepareLoop. */
export interface LoopSetup {
  config: GeneratorConfig;
  /** A tokenizer folder, as `--tokenizer` names one, and the config it was built from. */
  tokenizerDir: string;
  tokenizerConfig: TokenizerConfig;
  /** The run's token cache (layout.ts's tokens-train.safetensors), copied into each loop's folder, and its tokens. */
  tokensFile: string;
  tokens: TokenSet;
  /** The generator as trainGenerator seeds and builds it before its first step. */
  start: ArGenerator;
  dispose(): void;
}

/**
 * Makes, in `dir`, what robustok's loop and the twin's start from: a tokenizer
 * folder of the small tokenizer's architecture with its seeded initial weights
 * (their quality does not change the work of a step or a grid), the token
 * cache of `config`'s data, encoded by a 1-step run, and the generator's
 * weights at step 0.
 */
export async function prepareLoop(config: GeneratorConfig, dir: string): Promise<LoopSetup> {
  const tokenizerConfig = resolveConfig(tokenizerSchema, [loadConfigFile(smallTokenizerPreset)]);
  const tokenizerDir = path.join(dir, 'tokenizer');
  mkdirSync(tokenizerDir, { recursive: true });
  manualSeed(tokenizerConfig.train.seed);
  const tokenizer = new Tokenizer(modelOptions(tokenizerConfig));
  const { defaults } = await openDataset(tokenizerConfig.data.name);
  try {
    saveTokenizer(tokenizerDir, tokenizer, { ...defaults, size: tokenizerConfig.data.size, channels: tokenizerConfig.data.channels });
  } finally {
    tokenizer.dispose();
  }
  // The cache is keyed by the tokenizer's files and the data settings, not by the steps or the grid's size.
  const prime = path.join(dir, 'encode');
  const primed = await trainGenerator({ ...config, train: { ...config.train, steps: 1, samplesPerClass: 1 } }, prime, { tokenizer: tokenizerDir });
  if (primed.status !== 'done') throw new Error(`the run that encodes the loop's tokens ended ${primed.status}`);
  const tokensFile = path.join(dir, path.basename(runPaths(prime).tokens));
  renameSync(runPaths(prime).tokens, tokensFile);
  rmSync(prime, { recursive: true, force: true });
  const tokens = readTokenCache(tokensFile);
  const classes = (await openDataset(config.data.name)).classes.length;
  // As trainGenerator: the global seed, then the model is the first thing GeneratorTrainer builds.
  manualSeed(streamSeed(config.train.seed, 'global'));
  const start = new ArGenerator(generatorOptions(config, { vocabSize: tokens.vocabSize, numClasses: classes, grid: tokens.grid }));
  return { config, tokenizerDir, tokenizerConfig, tokensFile, tokens, start, dispose: () => { start.dispose(); tokens.dispose(); } };
}

/** A token cache file's tokens, by the library's reader (which wants the fingerprint in the file's own metadata). */
function readTokenCache(file: string): TokenSet {
  const { tensors, metadata } = loadSafetensors(file);
  for (const t of Object.values(tensors)) t.dispose();
  const set = loadTokenSet(file, (JSON.parse(metadata.robustok ?? '{}') as { fingerprint?: string }).fingerprint ?? '');
  if (!set) throw new Error(`${file} is not a token cache`);
  return set;
}

/**
 * robustok's loop: trainGenerator into `dir` (new or empty), as
 * `robustok train-generator` runs it, on the setup's tokens copied in as its
 * cache. Encoding instead would mean the cache was not recognised: an error,
 * since the twin trains on the cached tokens.
 */
export async function robustokLoop(setup: LoopSetup, dir: string): Promise<TrainGeneratorResult> {
  mkdirSync(dir, { recursive: true });
  copyFileSync(setup.tokensFile, runPaths(dir).tokens);
  const r = await trainGenerator(setup.config, dir, {
    tokenizer: setup.tokenizerDir,
    events: { progress: (e) => { if (e.label === 'tokenize') throw new Error(`${runPaths(dir).tokens}, copied in, was not used: the benchmark's loop would encode its images again`); } },
  });
  if (r.status !== 'done') throw new Error(`the benchmark loop ended ${r.status}`);
  return r;
}

/**
 * What the twin starts from, as a torch.save file: config and options (JSON),
 * weights, tokens, the class ids to sample; with `loop`, also what its loop
 * starts from (see the top of bench/generator_torch.py).
 */
export function writeTwinInit(file: string, trainer: GeneratorTrainer, labels: Tensor, loop?: LoopSetup): void {
  const tokenizer = loop ? Tokenizer.load(loop.tokenizerDir) : null;
  try {
    savePt(file, {
      config: JSON.stringify(trainer.config), options: JSON.stringify(trainer.model.options), model: trainer.model.stateDict(),
      ids: trainer.tokens.ids, labels: trainer.tokens.labels, sampleLabels: labels,
      ...(loop && tokenizer ? {
        loopConfig: JSON.stringify(loop.config), loopOptions: JSON.stringify(loop.start.options), loopModel: loop.start.stateDict(),
        loopIds: loop.tokens.ids, loopLabels: loop.tokens.labels,
        tokenizerConfig: JSON.stringify(loop.tokenizerConfig), tokenizer: tokenizer.stateDict(),
      } : {}),
    });
  } finally {
    tokenizer?.dispose();
  }
}

/** The commands bench/generator_torch.py answers. */
export type GeneratorTwin = Twin<'step' | 'sample' | 'metrics' | 'loop' | 'loop-log'>;

/** Starts bench/generator_torch.py on `threads` threads from the init file `writeTwinInit` wrote. */
export const startGeneratorTwin = (threads: number, initFile: string): Promise<GeneratorTwin> =>
  startTwin(path.join(root, 'bench', 'generator_torch.py'), [initFile], threads);

async function main(): Promise<void> {
  const threads = pinnedThreads();
  const config = smallConfig();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-'));
  // First, as it reseeds: the loop's tokenizer, tokens and starting weights.
  const loop = await prepareLoop(smallConfig([`train.steps=${LOOP_STEPS}`, `data.limit=${LOOP_IMAGES}`]), dir);
  manualSeed(config.train.seed);
  const tokens = randomTokens();
  const trainer = new GeneratorTrainer(config, tokens, CLASSES);
  const labels = sampleLabels();
  const initFile = path.join(dir, 'init.pt');
  writeTwinInit(initFile, trainer, labels, loop);
  const twin = await startGeneratorTwin(threads, initFile);
  rmSync(initFile);

  const sampling = samplingOf(config.sample);
  if (sampling.topK !== 0 || sampling.topP !== 1) throw new Error('the generator benchmark samples without top-k / top-p (its twin has neither)');
  const draws = new RandomStream(0);
  const sample = (kvCache: boolean) => () => timed(() => sampleTokens(trainer.model, labels, { ...sampling, stream: draws, kvCache }).dispose());
  const theirs = (command: 'step' | 'sample') => () => Number(twin.ask(command));

  const steps: [number, number][] = [];
  for (let i = 0; i < WARMUP_STEPS + TIMED_STEPS; i++) {
    const p = await pair(i, () => timed(() => trainer.step()), theirs('step'));
    if (i >= WARMUP_STEPS) steps.push(p);
  }
  const samples: [number, number][] = [];
  for (let i = 0; i < WARMUP_SAMPLES + TIMED_SAMPLES; i++) {
    const p = await pair(i, sample(true), theirs('sample'));
    if (i >= WARMUP_SAMPLES) samples.push(p);
  }
  const uncached: number[] = [];
  for (let i = 0; i < NO_CACHE_SAMPLES; i++) {
    settle();
    uncached.push(sample(false)());
  }
  // The loops, taking turns as the steps do.
  const loops: [number, number][] = [];
  for (let i = 0; i < LOOP_ROUNDS; i++) {
    loops.push(await pair(i, () => loopMilliseconds((out) => robustokLoop(loop, out)), () => Number(twin.ask('loop'))));
  }
  twin.close();
  labels.dispose();
  trainer.dispose();
  tokens.dispose();
  loop.dispose();
  rmSync(dir, { recursive: true, force: true });

  const N = GRID[0] * GRID[1];
  const B = config.train.batchSize;
  const train = pairedSummary(steps, B);
  const cached = pairedSummary(samples, SAMPLE_IMAGES * N);
  const noCacheMs = median(uncached);
  const tokensPerS = (ms: number) => (SAMPLE_IMAGES * N * 1e3) / ms;
  const loopTimes = pairedSummary(loops, LOOP_STEPS * B * N);
  const guided = sampling.cfg !== 1;

  const { width, depth, heads } = config.model;
  console.log(`generator benchmark: small preset (width ${width}, depth ${depth}, heads ${heads}, ${config.model.positions} positions), `
    + `K = ${VOCAB}, grid ${GRID[0]}×${GRID[1]}, ${CLASSES} classes, random tokens; ${threads} threads`);
  console.log(`train: batch ${B}×${N} tokens, ${TIMED_STEPS} paired steps; sample: ${SAMPLE_IMAGES} images × ${N} tokens`
    + `${guided ? ` (cfg ${sampling.cfg} ${sampling.schedule}: a doubled batch of ${2 * SAMPLE_IMAGES} rows)` : ''}, temperature ${sampling.temperature}, `
    + `${TIMED_SAMPLES} paired runs, ${NO_CACHE_SAMPLES} without the cache`);
  const cell = (v: number, d: number, w: number) => v.toFixed(d).padStart(w);
  console.log(`${''.padEnd(28)}${'ms robustok'.padStart(12)}${'ms pytorch'.padStart(12)}${'per s robustok'.padStart(16)}${'per s pytorch'.padStart(15)}`
    + `${'ratio'.padStart(8)}${'p25–p75'.padStart(14)}`);
  const spread = (s: number[]) => `${s[0]!.toFixed(2)}–${s[1]!.toFixed(2)}`.padStart(14);
  console.log(`${'train step (sequences/s)'.padEnd(28)}${cell(train.ms[0], 1, 12)}${cell(train.ms[1], 1, 12)}`
    + `${cell(train.perSecond[0], 1, 16)}${cell(train.perSecond[1], 1, 15)}${cell(train.ratio, 3, 8)}${spread(train.spread)}`);
  console.log(`${'sample, KV cache (tokens/s)'.padEnd(28)}${cell(cached.ms[0], 1, 12)}${cell(cached.ms[1], 1, 12)}`
    + `${cell(cached.perSecond[0], 0, 16)}${cell(cached.perSecond[1], 0, 15)}${cell(cached.ratio, 3, 8)}${spread(cached.spread)}`);
  console.log(`${'sample, no cache (tokens/s)'.padEnd(28)}${cell(noCacheMs, 1, 12)}${'—'.padStart(12)}${cell(tokensPerS(noCacheMs), 0, 16)}${'—'.padStart(15)}`
    + `${'—'.padStart(8)}${'—'.padStart(14)}`);
  console.log(`${`loop, ${LOOP_STEPS} steps (tokens/s)`.padEnd(28)}${cell(loopTimes.ms[0] / LOOP_STEPS, 1, 12)}${cell(loopTimes.ms[1] / LOOP_STEPS, 1, 12)}`
    + `${cell(loopTimes.perSecond[0], 0, 16)}${cell(loopTimes.perSecond[1], 0, 15)}${cell(loopTimes.ratio, 3, 8)}`
    + `   (ms a step; ${LOOP_ROUNDS} loops each, from step 0 on ${LOOP_IMAGES} images' tokens)`);
  console.log('ratio = robustok time / PyTorch time, median of paired runs (≤ 1: robustok as fast or faster); p25–p75: their spread, '
    + `wide when other processes compete for the cores. KV cache speed-up: ${(noCacheMs / cached.ms[0]).toFixed(2)}×`);
  console.log(JSON.stringify({
    threads, batch: B, tokens_per_image: N, sample_images: SAMPLE_IMAGES, sample_rows: guided ? 2 * SAMPLE_IMAGES : SAMPLE_IMAGES,
    cfg: sampling.cfg, temperature: sampling.temperature,
    train_ms_robustok: train.ms[0], train_ms_pytorch: train.ms[1], train_step_ratio: train.ratio,
    train_ratio_p25: train.spread[0], train_ratio_p75: train.spread[1],
    sample_ms_robustok: cached.ms[0], sample_ms_pytorch: cached.ms[1], sample_ms_robustok_no_cache: noCacheMs,
    sample_tokens_per_s_robustok: cached.perSecond[0], sample_tokens_per_s_pytorch: cached.perSecond[1],
    sample_tokens_per_s_robustok_no_cache: tokensPerS(noCacheMs),
    sample_ratio: cached.ratio, sample_ratio_p25: cached.spread[0], sample_ratio_p75: cached.spread[1],
    cache_speedup: noCacheMs / cached.ms[0],
    loop_steps: LOOP_STEPS, loop_rounds: LOOP_ROUNDS, loop_ms_robustok: loopTimes.ms[0], loop_ms_pytorch: loopTimes.ms[1],
    loop_tokens_per_s: loopTimes.perSecond[0], loop_tokens_per_s_pytorch: loopTimes.perSecond[1], loop_ratio: loopTimes.ratio,
    step_tokens_per_s: (B * N * 1e3) / train.ms[0],
  }));
}

// Run only as a script, so a test can import the helpers above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
