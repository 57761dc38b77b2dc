// bench/tokenizer: one training step of the `small` preset (GAN and latent
// perturbation on) by robustok's TokenizerTrainer and by its PyTorch twin
// (bench/tokenizer_torch.py), interleaved step by step (A B, then B A, ...)
// on the same thread count, from the same weights on the same batch; then
// encode (images → code ids) and decode (code ids → images) without grad.
// Then the loop users run: `train-tokenizer`'s run function (data loader,
// metrics, sample grids, EMA, checkpoints, everything the CLI does) for
// LOOP_STEPS steps of the preset from step 0 on Fashion-MNIST, beside the
// twin's loop written as one writes it in PyTorch (tokenizer_torch.py),
// taking turns (A B, B A, ...). Prints a table, then one JSON line (ratio =
// robustok / PyTorch time, median of paired runs; `loop_ratio` for the loops).
//
//   npm run bench:tokenizer         (ROBUSTOK_THREADS=N to choose threads)
//
// The images are uniform noise in [−1, 1], not Fashion-MNIST: the work of a
// step does not depend on pixel values, and the benchmark needs no dataset.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { leadingSamples, openDataset, prepareSplit } from '../src/data/index.js';
import { trainTokenizer } from '../src/runs/index.js';
import { type TokenizerConfig, TokenizerTrainer, tokenizerSchema } from '../src/tokenizer/index.js';
import { type Tensor, manualSeed, noGrad, rand, savePt, tensor, tidy } from '../src/torch/index.js';
import { pinnedThreads } from './twin_env.js';
import { loopMilliseconds } from './loop_timing.js';
import { pair, pairedSummary, timed } from './paired_timing.js';
import { type Twin, startTwin } from './twin_process.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const smallPreset = path.join(root, 'configs', 'tokenizer', 'small.yaml');
const BATCH = 64;
const WARMUP_STEPS = 3;
const TIMED_STEPS = 20;
const WARMUP_INFERENCE = 2;
const TIMED_INFERENCE = 30;
/** Steps of each timed loop (the GAN from 28% of them, as the preset), and loops per side (two rounds moved the ratio by ±0.15 between runs on a 2-core VM). */
const LOOP_STEPS = 60;
const LOOP_ROUNDS = 5;

/** The first step at which `config`'s GAN is on: the benchmark times steps from there, where a step costs the most. */
export const ganStartStep = (config: TokenizerConfig): number => Math.round(config.loss.gan.start * config.train.steps);

/** A batch `[B, C, S, S]` of uniform noise in [−1, 1] (kept). */
export const noiseImages = (config: TokenizerConfig, batch: number): Tensor =>
  tidy(() => rand([batch, Number(config.data.channels), config.data.size, config.data.size]).mul(2).sub(1).keep());

/**
 * Writes what the twin starts from, as a torch.save file: the resolved
 * config (JSON), the step count, both state dicts (spectral-norm u, v
 * included) and the images.
 */
export function writeTwinInit(file: string, trainer: TokenizerTrainer, images: Tensor, loop?: { config: TokenizerConfig; images: Tensor }): void {
  if (!trainer.discriminator) throw new Error('the tokenizer benchmark needs loss.gan.enabled=true (its twin trains the discriminator too)');
  savePt(file, {
    config: JSON.stringify(trainer.config), startStep: trainer.stepCount,
    model: trainer.model.stateDict(), discriminator: trainer.discriminator.stateDict(), images,
    ...(loop ? { loopConfig: JSON.stringify(loop.config), loopImages: loop.images } : {}),
  });
}

/** The training images of `config` as the twin's loop reads them: uint8 `[N, C, S, S]` (kept). */
async function trainingImages(config: TokenizerConfig): Promise<Tensor> {
  const split = leadingSamples(await prepareSplit(await openDataset(config.data.name), 'train', { preprocess: { size: config.data.size, channels: config.data.channels } }), config.data.limit || Infinity);
  return tensor(split.images, { dtype: 'uint8', shape: [split.count, split.channels, split.size, split.size] }).keep();
}

/** The commands bench/tokenizer_torch.py answers. */
export type TokenizerTwin = Twin<'step' | 'encode' | 'decode' | 'metrics' | 'loop'>;

/** Starts bench/tokenizer_torch.py on `threads` threads from the init file `writeTwinInit` wrote. */
export const startTokenizerTwin = (threads: number, initFile: string): Promise<TokenizerTwin> =>
  startTwin(path.join(root, 'bench', 'tokenizer_torch.py'), [initFile], threads);

function robustokSide(trainer: TokenizerTrainer, images: Tensor) {
  let ids: Tensor | null = null;
  return {
    step: () => timed(() => trainer.step(images)),
    encode: () => timed(() => {
      ids?.dispose();
      ids = noGrad(() => tidy(() => {
        trainer.model.eval();
        return trainer.model.encode(images).idsGrid.keep();
      }));
    }),
    decode: () => timed(() => noGrad(() => tidy(() => {
      if (!ids) throw new Error('decode before encode');
      trainer.model.eval();
      trainer.model.decodeIds(ids);
    }))),
    dispose: () => ids?.dispose(),
  };
}

async function main(): Promise<void> {
  const threads = pinnedThreads();
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(smallPreset)]);
  manualSeed(config.train.seed);
  const trainer = new TokenizerTrainer(config);
  trainer.stepCount = ganStartStep(config);
  const images = noiseImages(config, BATCH);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-'));
  const initFile = path.join(dir, 'init.pt');
  const loopConfig = resolveConfig(tokenizerSchema, [loadConfigFile(smallPreset)], [`train.steps=${LOOP_STEPS}`]);
  const loopImages = await trainingImages(loopConfig);
  writeTwinInit(initFile, trainer, images, { config: loopConfig, images: loopImages });
  loopImages.dispose();
  const twin = await startTokenizerTwin(threads, initFile);
  rmSync(dir, { recursive: true, force: true });
  const ours = robustokSide(trainer, images);
  const theirs = (command: 'step' | 'encode' | 'decode') => () => Number(twin.ask(command));
  const now = trainer.perturbationNow();
  if (now?.kind !== 'codebook') throw new Error('bench:tokenizer times the codebook perturbation of the small preset');
  const { alpha, delta } = now;

  const steps: [number, number][] = [];
  for (let i = 0; i < WARMUP_STEPS + TIMED_STEPS; i++) {
    const p = await pair(i, ours.step, theirs('step'));
    if (i >= WARMUP_STEPS) steps.push(p);
  }
  // Encode before each decode, so both decode fresh ids of the current weights.
  const encodes: [number, number][] = [];
  const decodes: [number, number][] = [];
  for (let i = 0; i < WARMUP_INFERENCE + TIMED_INFERENCE; i++) {
    const e = await pair(i, ours.encode, theirs('encode'));
    const d = await pair(i, ours.decode, theirs('decode'));
    if (i >= WARMUP_INFERENCE) {
      encodes.push(e);
      decodes.push(d);
    }
  }
  // The loops, taking turns as the steps do.
  const loops: [number, number][] = [];
  for (let i = 0; i < LOOP_ROUNDS; i++) {
    loops.push(await pair(i, () => loopMilliseconds((dir) => trainTokenizer(loopConfig, dir)), () => Number(twin.ask('loop'))));
  }
  twin.close();
  ours.dispose();
  images.dispose();
  trainer.dispose();

  const rows = { train: pairedSummary(steps, BATCH), encode: pairedSummary(encodes, BATCH), decode: pairedSummary(decodes, BATCH) };
  const loop = pairedSummary(loops, LOOP_STEPS * BATCH);
  const result: Record<string, number | string> = { threads, batch: BATCH, images: 'uniform noise', start_step: ganStartStep(config), alpha, delta };
  for (const [name, r] of Object.entries(rows)) {
    Object.assign(result, {
      [`${name}_ms_robustok`]: r.ms[0], [`${name}_ms_pytorch`]: r.ms[1],
      [`${name}_images_per_s_robustok`]: r.perSecond[0], [`${name}_images_per_s_pytorch`]: r.perSecond[1], [`${name}_ratio`]: r.ratio,
      [`${name}_ratio_p25`]: r.spread[0], [`${name}_ratio_p75`]: r.spread[1],
    });
  }

  Object.assign(result, {
    loop_steps: LOOP_STEPS, loop_rounds: LOOP_ROUNDS, loop_ms_robustok: loop.ms[0], loop_ms_pytorch: loop.ms[1],
    loop_images_per_s: loop.perSecond[0], loop_images_per_s_pytorch: loop.perSecond[1],
    loop_ratio: loop.ratio, step_images_per_s: rows.train.perSecond[0],
  });
  const c = config.model.cnn;
  console.log(`tokenizer benchmark: small preset (CNN ${c.baseChannels}×[${c.channelMultipliers}], K = ${config.model.codebookSize}), `
    + `batch ${BATCH}×${config.data.channels}×${config.data.size}×${config.data.size} of noise, from step ${ganStartStep(config)} `
    + `(GAN on; perturbation α = ${alpha.toFixed(2)}, β = ${config.perturbation.beta}, δ = ${delta}); `
    + `${TIMED_STEPS} paired steps, ${TIMED_INFERENCE} paired encodes/decodes; ${threads} threads`);
  const cell = (v: number, d: number, w = 11) => v.toFixed(d).padStart(w);
  console.log(`${''.padEnd(18)}${'ms robustok'.padStart(12)}${'ms pytorch'.padStart(12)}${'img/s robustok'.padStart(16)}${'img/s pytorch'.padStart(15)}`
    + `${'ratio'.padStart(8)}${'p25–p75'.padStart(14)}`);
  const label = { train: 'train step', encode: 'encode (no grad)', decode: 'decode (no grad)' };
  for (const [name, r] of Object.entries(rows)) {
    console.log(`${label[name as keyof typeof label].padEnd(18)}${cell(r.ms[0]!, 1, 12)}${cell(r.ms[1]!, 1, 12)}`
      + `${cell(r.perSecond[0]!, 0, 16)}${cell(r.perSecond[1]!, 0, 15)}${cell(r.ratio, 3, 8)}${`${r.spread[0]!.toFixed(2)}–${r.spread[1]!.toFixed(2)}`.padStart(14)}`);
  }
  console.log(`${`loop (${LOOP_STEPS} steps)`.padEnd(18)}${cell(loop.ms[0] / LOOP_STEPS, 1, 12)}${cell(loop.ms[1] / LOOP_STEPS, 1, 12)}`
    + `${cell(loop.perSecond[0], 0, 16)}${cell(loop.perSecond[1], 0, 15)}${cell(loop.ratio, 3, 8)}`
    + `   (ms a step; ${LOOP_ROUNDS} loops each, from step 0 on Fashion-MNIST)`);
  console.log('ratio = robustok time / PyTorch time, median of paired runs (≤ 1: robustok as fast or faster); p25–p75: their spread, '
    + 'wide when other processes compete for the cores');
  console.log(JSON.stringify(result));
}

// Run only as a script: the twin test imports the helpers above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
