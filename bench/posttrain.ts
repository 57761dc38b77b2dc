// bench/posttrain: post-training of the `small` recipe (configs/posttrain/small.yaml:
// σ = 0.7, the decoder alone, the GAN on from step 0 against the main
// training's discriminator continued, EMA with a 140-step half-life, the
// tokenizer's own loss mix) by robustok and by its PyTorch twin
// (bench/posttrain_torch.py), on the same thread count, taking turns
// (A B, then B A, ...) as bench/tokenizer does. Issue #23 asks for the loops
// users run beside the isolated step, against PyTorch twins; the target is a
// post-training loop ratio ≤ 1. Three timings:
//  - the step: PostTrainer.step on one fixed batch (train.batchSize images
//    with fixed σ-tokens), from the same weights on both sides;
//  - drawing σ-tokens as --pregenerate draws them, for one batch of 256
//    images (each image's uniforms from its own streams, encode, σ-preserving
//    sampling through the generator with guidance, the cache's dtypes): the
//    profile said this is most of a post-training run's time;
//  - the loop users run: the `post-train` run function (postTrain,
//    src/runs/post_train.ts) for LOOP_STEPS steps with tokens.pregenerate =
//    LOOP_IMAGES, logging, writing a sample grid and a checkpoint at half way
//    and at the end, into a fresh folder each round, LOOP_ROUNDS rounds a
//    side, beside the twin's run as one writes it in PyTorch. The time is what
//    postTrain reports (`minutes`): from the loop's first step to its last
//    checkpoint. Pregeneration, the grid's σ-tokens, loading and the final
//    export run before or after that clock, on both sides (the twin does them
//    too, untimed): pregeneration's cost is the second timing above.
// Prints a table, then one JSON line (ratio = robustok / PyTorch time, median
// of paired runs; `loop_ratio` for the loops).
//
//   npm run bench:posttrain         (ROBUSTOK_THREADS=N to choose threads)
//
// Set-up, untimed: a tokenizer of configs/tokenizer/small.yaml trained for 20
// steps with the GAN on from the start (so its checkpoint holds the
// discriminator the recipe continues) and a generator of
// configs/generator/small.yaml trained a few steps on its tokens, in a
// temporary folder. Their weights are poor, which changes no op's cost.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { DataLoader, leadingSamples, openDataset, prepareSplit } from '../src/data/index.js';
import { generatorSchema, samplingOf } from '../src/generator/index.js';
import { type PosttrainConfig, PostTrainer, type PregeneratedRows, posttrainSchema } from '../src/posttrain/index.js';
import { inheritedLoss, loadGeneratorPair, postTrain, pregeneratedRows, readJsonObject, runPaths, trainGenerator, trainTokenizer } from '../src/runs/index.js';
import { tokenizerImageSpec, tokenizerSchema } from '../src/tokenizer/index.js';
import { type Tensor, manualSeed, savePt, tensor, tidy } from '../src/torch/index.js';
import { pinnedThreads } from './twin_env.js';
import { loadCheckpointParts, streamSeed } from '../src/train/index.js';
import { loopMilliseconds } from './loop_timing.js';
import { pair, pairedSummary, timed } from './paired_timing.js';
import { type Twin, startTwin } from './twin_process.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const posttrainPreset = path.join(root, 'configs', 'posttrain', 'small.yaml');
const tokenizerPreset = path.join(root, 'configs', 'tokenizer', 'small.yaml');
const generatorPreset = path.join(root, 'configs', 'generator', 'small.yaml');
/** The set-up's runs: short, the tokenizer's GAN on from step 0 so its checkpoint's discriminator has trained. */
const TOKENIZER_SETS = ['train.steps=20', 'loss.gan.start=0', 'data.limit=1280', 'train.logEvery=10', 'train.sampleEvery=20', 'train.checkpointEvery=20'];
const GENERATOR_SETS = ['train.steps=5', 'data.limit=640', 'train.logEvery=5', 'train.sampleEvery=5', 'train.checkpointEvery=5', 'train.samplesPerClass=1'];
const WARMUP_STEPS = 3;
const TIMED_STEPS = 20;
/** Images of the timed σ-token draw: one batch of --pregenerate (post_train.ts draws 256 at a time). */
const DRAW_BATCH = 256;
const WARMUP_DRAWS = 1;
const TIMED_DRAWS = 4;
/** The loops: steps, pregenerated images (8 batches of 32: 5 epochs), rounds per side (a loop takes ~5 s: two rounds left its ratio within their noise). */
const LOOP_STEPS = 40;
const LOOP_IMAGES = 256;
const LOOP_ROUNDS = 6;
export const LOOP_SETS = [`train.steps=${LOOP_STEPS}`, `tokens.pregenerate=${LOOP_IMAGES}`, 'train.logEvery=10', `train.sampleEvery=${LOOP_STEPS / 2}`, `train.checkpointEvery=${LOOP_STEPS / 2}`];

/** A trained tokenizer folder and a generator folder trained on its tokens. */
export interface Inputs {
  tokenizer: string;
  generator: string;
}

/** The set-up (untimed): the small tokenizer and generator presets, trained a few steps each into `dir`. */
export async function trainInputs(dir: string): Promise<Inputs> {
  const inputs = { tokenizer: path.join(dir, 'tokenizer'), generator: path.join(dir, 'generator') };
  const tokenizer = await trainTokenizer(resolveConfig(tokenizerSchema, [loadConfigFile(tokenizerPreset)], TOKENIZER_SETS), inputs.tokenizer);
  if (tokenizer.status !== 'done') throw new Error(`the set-up's tokenizer run ended ${tokenizer.status}`);
  const generator = await trainGenerator(resolveConfig(generatorSchema, [loadConfigFile(generatorPreset)], GENERATOR_SETS), inputs.generator, { tokenizer: inputs.tokenizer });
  if (generator.status !== 'done') throw new Error(`the set-up's generator run ended ${generator.status}`);
  return inputs;
}

/** The post-training config as `robustok post-train` resolves it: the tokenizer's loss settings (if any) under the preset, then `sets`. */
export function posttrainConfig(tokenizerDir: string | null, sets: string[] = []): PosttrainConfig {
  const inherited = tokenizerDir ? inheritedLoss(tokenizerDir) : undefined;
  return resolveConfig(posttrainSchema, [...(inherited ? [inherited.settings] : []), loadConfigFile(posttrainPreset)], sets);
}

/** Refuses what the twin does not do (bench/posttrain_torch.py): a perceptual term, a feature-network discriminator, the round trip. */
export function checkTwinnable(config: PosttrainConfig): void {
  const { loss } = config;
  if (loss.perceptual.kind !== 'none' || loss.gan.network || !loss.gan.enabled || config.roundTrip || config.trainable.postQuant) {
    throw new Error('bench:posttrain twins the small recipe: the decoder alone against a PatchGAN, no perceptual term, no round trip');
  }
}

/**
 * A PostTrainer as postTrain builds it from the two folders: seeded the same
 * way, the generator's own sampling settings, and the discriminator and
 * LeCam's anchors continued from the tokenizer's main-training checkpoint
 * when config.discriminator is `continue`.
 */
export function openPostTrainer(config: PosttrainConfig, inputs: Inputs): { trainer: PostTrainer; data: string; tokenizerConfig: object; dispose(): void } {
  checkTwinnable(config);
  const pair = loadGeneratorPair(inputs.generator, inputs.tokenizer);
  const spec = tokenizerImageSpec(pair.tokenizerDir);
  manualSeed(streamSeed(config.train.seed, 'global'));
  const sampling = config.samplingSource === 'generator' ? pair.info.sampling : samplingOf(config.sample);
  const trainer = new PostTrainer(config, pair.tokenizer, pair.model, sampling, { channels: spec.channels });
  if (config.discriminator === 'continue') {
    const { discriminator, lecam } = trainer.objective.parts();
    loadCheckpointParts(runPaths(inputs.tokenizer).checkpoint, { discriminator: discriminator!, lecam: lecam! });
  }
  const tokenizerConfig = readJsonObject(runPaths(inputs.tokenizer).config, "the tokenizer's training config");
  return { trainer, data: config.data.name || pair.info.data, tokenizerConfig, dispose: () => { trainer.dispose(); pair.dispose(); } };
}

/** σ-tokens of images as a step is given them from the cache (post_train.ts's pregeneratedRows): int64 ids, bool masks (kept). */
export function stepRows(t: PostTrainer, images: Tensor, labels: Tensor, indices: number[]): PregeneratedRows {
  const [ids, kept, changed] = pregeneratedRows(t, images, labels, indices);
  try {
    return tidy(() => ({ ids: ids.to('int64').keep(), kept: kept.to('bool').keep(), changed: changed.to('bool').keep() }));
  } finally {
    for (const x of [ids, kept, changed]) x.dispose();
  }
}

/** What the twin's loop trains on: the run's pregenerated images as uint8 `[n, C, S, S]` and their classes. */
export interface LoopInit {
  config: PosttrainConfig;
  images: Tensor;
  labels: Tensor;
}

/**
 * Writes what the twin starts from, as a torch.save file: the configs (JSON),
 * the tokenizer's, discriminator's and generator's weights and LeCam's
 * anchors as `t` holds them now, the generator's options and sampling, the
 * step's batch and σ-tokens, and the batch to draw σ-tokens for.
 */
export function writeTwinInit(file: string, t: PostTrainer, o: {
  tokenizerConfig: object;
  step: { images: Tensor; rows: PregeneratedRows };
  draw: { images: Tensor; labels: Tensor; indices: number[] };
  loop?: LoopInit;
}): void {
  const { discriminator, lecam } = t.objective;
  if (!discriminator || !lecam) throw new Error('the post-training benchmark needs loss.gan.enabled=true (its twin trains the discriminator too)');
  savePt(file, {
    config: JSON.stringify(t.config), tokenizerConfig: JSON.stringify(o.tokenizerConfig), tokenizer: t.tokenizer.stateDict(),
    discriminator: discriminator.stateDict(), lecam: JSON.stringify([lecam.emaReal, lecam.emaFake]),
    generatorOptions: JSON.stringify(t.generator.options), generator: t.generator.stateDict(), sampling: JSON.stringify(t.sampling),
    images: o.step.images, ids: o.step.rows.ids, kept: o.step.rows.kept, changed: o.step.rows.changed,
    drawImages: o.draw.images, drawLabels: o.draw.labels, drawIndices: tensor(o.draw.indices, { dtype: 'int64' }),
    ...(o.loop ? { loopConfig: JSON.stringify(o.loop.config), loopImages: o.loop.images, loopLabels: o.loop.labels } : {}),
  });
}

/** The commands bench/posttrain_torch.py answers. */
export type PosttrainTwin = Twin<'step' | 'sigma' | 'metrics' | 'tokens' | 'loop'>;

/** Starts bench/posttrain_torch.py on `threads` threads from the init file `writeTwinInit` wrote. */
export const startPosttrainTwin = (threads: number, initFile: string): Promise<PosttrainTwin> =>
  startTwin(path.join(root, 'bench', 'posttrain_torch.py'), [initFile], threads);

async function main(): Promise<void> {
  const threads = pinnedThreads();
  const work = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-posttrain-'));
  try {
    console.error('bench:posttrain: training the set-up\'s tokenizer and generator (untimed) …');
    const inputs = await trainInputs(work);
    const config = posttrainConfig(inputs.tokenizer);
    const loopConfig = posttrainConfig(inputs.tokenizer, LOOP_SETS);
    checkTwinnable(loopConfig);
    const opened = openPostTrainer(config, inputs);
    const t = opened.trainer;
    const spec = tokenizerImageSpec(inputs.tokenizer);
    const split = leadingSamples(await prepareSplit(await openDataset(opened.data), 'train', { preprocess: { size: spec.size, channels: spec.channels } }),
      Math.max(DRAW_BATCH, LOOP_IMAGES));
    // The draw batch: the first 256 training images, as --pregenerate's first batch; the step's: the first batchSize of them.
    const drawn = new DataLoader(split, { batchSize: DRAW_BATCH, shuffle: false }).batch(0, 0);
    const indices = Array.from(drawn.indices);
    const B = config.train.batchSize;
    const stepImages = tidy(() => drawn.images.narrow(0, 0, B).clone().keep());
    const stepLabels = tidy(() => drawn.labels.narrow(0, 0, B).clone().keep());
    const rows = stepRows(t, stepImages, stepLabels, indices.slice(0, B));
    const loopSplit = leadingSamples(split, LOOP_IMAGES);
    const loop: LoopInit = {
      config: loopConfig,
      images: tensor(loopSplit.images, { dtype: 'uint8', shape: [loopSplit.count, loopSplit.channels, loopSplit.size, loopSplit.size] }).keep(),
      labels: tensor(Array.from(loopSplit.labels), { dtype: 'int64' }).keep(),
    };
    const initFile = path.join(work, 'init.pt');
    writeTwinInit(initFile, t, { tokenizerConfig: opened.tokenizerConfig, step: { images: stepImages, rows }, draw: { images: drawn.images, labels: drawn.labels, indices }, loop });
    loop.images.dispose();
    loop.labels.dispose();
    const twin = await startPosttrainTwin(threads, initFile);
    const theirs = (command: 'step' | 'sigma') => () => Number(twin.ask(command));

    console.error('bench:posttrain: timing the step, the σ-token draws and the loops …');
    const steps: [number, number][] = [];
    for (let i = 0; i < WARMUP_STEPS + TIMED_STEPS; i++) {
      const p = await pair(i, () => timed(() => t.step(stepImages, stepLabels, rows)), theirs('step'));
      if (i >= WARMUP_STEPS) steps.push(p);
    }
    const draws: [number, number][] = [];
    for (let i = 0; i < WARMUP_DRAWS + TIMED_DRAWS; i++) {
      const p = await pair(i, () => timed(() => pregeneratedRows(t, drawn.images, drawn.labels, indices).forEach((x) => x.dispose())), theirs('sigma'));
      if (i >= WARMUP_DRAWS) draws.push(p);
    }
    for (const x of [rows.ids, rows.kept, rows.changed, stepImages, stepLabels]) x.dispose();
    drawn.dispose();
    opened.dispose();
    // The loops, taking turns as the steps do; each run starts from the set-up's folders.
    const loops: [number, number][] = [];
    for (let i = 0; i < LOOP_ROUNDS; i++) {
      loops.push(await pair(i, () => loopMilliseconds((dir) => postTrain(loopConfig, dir, inputs)), () => Number(twin.ask('loop'))));
    }
    twin.close();
    report(threads, config, { steps, draws, loops });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(threads: number, config: PosttrainConfig, timings: Record<'steps' | 'draws' | 'loops', [number, number][]>): void {
  const B = config.train.batchSize;
  const step = pairedSummary(timings.steps, B);
  const draw = pairedSummary(timings.draws, DRAW_BATCH);
  const loop = pairedSummary(timings.loops, LOOP_STEPS * B);
  console.log(`post-training benchmark: configs/posttrain/small.yaml (σ = ${config.sigma}, discriminator ${config.discriminator}, `
    + `EMA half-life ${config.optim.emaHalfLife} steps, loss ${config.loss.reconstruction} + GAN × ${config.loss.gan.weight} adaptive), `
    + `Fashion-MNIST; ${TIMED_STEPS} paired steps of batch ${B}, ${TIMED_DRAWS} paired σ-token draws of ${DRAW_BATCH} images, `
    + `${LOOP_ROUNDS} paired loops of ${LOOP_STEPS} steps (${LOOP_IMAGES} pregenerated images); ${threads} threads`);
  const cell = (v: number, d: number, w: number) => v.toFixed(d).padStart(w);
  const spread = (s: [number, number]) => `${s[0].toFixed(2)}–${s[1].toFixed(2)}`.padStart(14);
  console.log(`${''.padEnd(24)}${'ms robustok'.padStart(12)}${'ms pytorch'.padStart(12)}${'img/s robustok'.padStart(16)}${'img/s pytorch'.padStart(15)}`
    + `${'ratio'.padStart(8)}${'p25–p75'.padStart(14)}`);
  for (const [label, r] of [['post-train step', step], [`σ-tokens (${DRAW_BATCH} images)`, draw]] as const) {
    console.log(`${label.padEnd(24)}${cell(r.ms[0], 1, 12)}${cell(r.ms[1], 1, 12)}${cell(r.perSecond[0], 0, 16)}${cell(r.perSecond[1], 0, 15)}`
      + `${cell(r.ratio, 3, 8)}${spread(r.spread)}`);
  }
  console.log(`${`loop (${LOOP_STEPS} steps)`.padEnd(24)}${cell(loop.ms[0] / LOOP_STEPS, 1, 12)}${cell(loop.ms[1] / LOOP_STEPS, 1, 12)}`
    + `${cell(loop.perSecond[0], 0, 16)}${cell(loop.perSecond[1], 0, 15)}${cell(loop.ratio, 3, 8)}`
    + `   (ms a step; ${LOOP_ROUNDS} loops each, pregeneration outside)`);
  console.log('ratio = robustok time / PyTorch time, median of paired runs (≤ 1: robustok as fast or faster); p25–p75: their spread, '
    + 'wide when other processes compete for the cores');
  console.log(JSON.stringify({
    threads, batch: B, sigma: config.sigma,
    step_ms_robustok: step.ms[0], step_ms_pytorch: step.ms[1], step_ratio: step.ratio, step_ratio_p25: step.spread[0], step_ratio_p75: step.spread[1],
    step_images_per_s: step.perSecond[0], step_images_per_s_pytorch: step.perSecond[1],
    pregenerate_images: DRAW_BATCH, pregenerate_ms_robustok: draw.ms[0], pregenerate_ms_pytorch: draw.ms[1], pregenerate_ratio: draw.ratio,
    pregenerate_ratio_p25: draw.spread[0], pregenerate_ratio_p75: draw.spread[1],
    pregenerate_images_per_s: draw.perSecond[0], pregenerate_images_per_s_pytorch: draw.perSecond[1],
    loop_steps: LOOP_STEPS, loop_rounds: LOOP_ROUNDS, loop_pregenerated: LOOP_IMAGES, loop_ms_robustok: loop.ms[0], loop_ms_pytorch: loop.ms[1],
    loop_images_per_s: loop.perSecond[0], loop_images_per_s_pytorch: loop.perSecond[1], loop_ratio: loop.ratio,
  }));
}

// Run only as a script: the twin test imports the helpers above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
