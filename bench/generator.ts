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
//    about N/2 times more).
// Prints a table, then one JSON line: train_step_ratio and sample_ratio
// (robustok / PyTorch time, median of paired runs; ≤ 1 means robustok is as
// fast or faster) and cache_speedup (median no-cache time / median cached time).
//
//   npm run bench:generator         (ROBUSTOK_THREADS=N to choose threads)
//
// The tokens are uniform random ids, not a tokenized dataset: the work of a
// step or a draw does not depend on their values, and the benchmark needs no
// tokenizer run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { type GeneratorConfig, GeneratorTrainer, type TokenSet, generatorSchema, sampleTokens, samplingOf } from '../src/generator/index.js';
import { RandomStream, type Tensor, arange, getNumThreads, manualSeed, randint, savePt, tidy } from '../src/torch/index.js';
import { median, pair, quantile, settle, timed } from './paired_timing.js';
import { type Twin, startTwin } from './twin_process.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const smallPreset = path.join(root, 'configs', 'generator', 'small.yaml');
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

/** What the twin starts from, as a torch.save file: config and options (JSON), weights, tokens, the class ids to sample. */
export function writeTwinInit(file: string, trainer: GeneratorTrainer, labels: Tensor): void {
  savePt(file, {
    config: JSON.stringify(trainer.config), options: JSON.stringify(trainer.model.options), model: trainer.model.stateDict(),
    ids: trainer.tokens.ids, labels: trainer.tokens.labels, sampleLabels: labels,
  });
}

/** The commands bench/generator_torch.py answers. */
export type GeneratorTwin = Twin<'step' | 'sample' | 'metrics'>;

/** Starts bench/generator_torch.py on `threads` threads from the init file `writeTwinInit` wrote. */
export const startGeneratorTwin = (threads: number, initFile: string): Promise<GeneratorTwin> =>
  startTwin(path.join(root, 'bench', 'generator_torch.py'), [initFile], threads);

async function main(): Promise<void> {
  const threads = getNumThreads();
  const config = smallConfig();
  manualSeed(config.train.seed);
  const tokens = randomTokens();
  const trainer = new GeneratorTrainer(config, tokens, CLASSES);
  const labels = sampleLabels();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-'));
  const initFile = path.join(dir, 'init.pt');
  writeTwinInit(initFile, trainer, labels);
  const twin = await startGeneratorTwin(threads, initFile);
  rmSync(dir, { recursive: true, force: true });

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
  twin.close();
  labels.dispose();
  trainer.dispose();
  tokens.dispose();

  const summary = (pairs: [number, number][]) => {
    const ratios = pairs.map(([x, y]) => x / y);
    return { ms: [median(pairs.map((p) => p[0])), median(pairs.map((p) => p[1]))] as [number, number], ratio: median(ratios), spread: [quantile(ratios, 0.25), quantile(ratios, 0.75)] };
  };
  const train = summary(steps);
  const cached = summary(samples);
  const noCacheMs = median(uncached);
  const N = GRID[0] * GRID[1];
  const B = config.train.batchSize;
  const tokensPerS = (ms: number) => (SAMPLE_IMAGES * N * 1e3) / ms;
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
    + `${cell((B * 1e3) / train.ms[0], 1, 16)}${cell((B * 1e3) / train.ms[1], 1, 15)}${cell(train.ratio, 3, 8)}${spread(train.spread)}`);
  console.log(`${'sample, KV cache (tokens/s)'.padEnd(28)}${cell(cached.ms[0], 1, 12)}${cell(cached.ms[1], 1, 12)}`
    + `${cell(tokensPerS(cached.ms[0]), 0, 16)}${cell(tokensPerS(cached.ms[1]), 0, 15)}${cell(cached.ratio, 3, 8)}${spread(cached.spread)}`);
  console.log(`${'sample, no cache (tokens/s)'.padEnd(28)}${cell(noCacheMs, 1, 12)}${'—'.padStart(12)}${cell(tokensPerS(noCacheMs), 0, 16)}${'—'.padStart(15)}`
    + `${'—'.padStart(8)}${'—'.padStart(14)}`);
  console.log('ratio = robustok time / PyTorch time, median of paired runs (≤ 1: robustok as fast or faster); p25–p75: their spread, '
    + `wide when other processes compete for the cores. KV cache speed-up: ${(noCacheMs / cached.ms[0]).toFixed(2)}×`);
  console.log(JSON.stringify({
    threads, batch: B, tokens_per_image: N, sample_images: SAMPLE_IMAGES, sample_rows: guided ? 2 * SAMPLE_IMAGES : SAMPLE_IMAGES,
    cfg: sampling.cfg, temperature: sampling.temperature,
    train_ms_robustok: train.ms[0], train_ms_pytorch: train.ms[1], train_step_ratio: train.ratio,
    train_ratio_p25: train.spread[0], train_ratio_p75: train.spread[1],
    sample_ms_robustok: cached.ms[0], sample_ms_pytorch: cached.ms[1], sample_ms_robustok_no_cache: noCacheMs,
    sample_tokens_per_s_robustok: tokensPerS(cached.ms[0]), sample_tokens_per_s_pytorch: tokensPerS(cached.ms[1]),
    sample_tokens_per_s_robustok_no_cache: tokensPerS(noCacheMs),
    sample_ratio: cached.ratio, sample_ratio_p25: cached.spread[0], sample_ratio_p75: cached.spread[1],
    cache_speedup: noCacheMs / cached.ms[0],
  }));
}

// Run only as a script, so a test can import the helpers above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
