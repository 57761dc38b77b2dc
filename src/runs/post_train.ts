// Post-training as a run (docs/method.md §6): the decoder of a trained
// tokenizer fine-tuned on σ-tokens of a trained generator. Writes to DIR (names
// in layout.ts): config.json, metrics.jsonl, samples/step-N.png (rows:
// originals | σ-tokens decoded by the old decoder | by the new one, EMA),
// checkpoint.safetensors, tokens-sigma.safetensors with --pregenerate, and at
// the end tokenizer.json + tokenizer.safetensors: a tokenizer folder like any
// other (eval, reconstruct, decode, sample --tokenizer read it), with the
// same codebook, so the generator's tokens keep their meaning, and a lineage
// naming the tokenizer, generator and dataset it came from.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataLoader, type PreparedSplit, leadingSamples, openDataset, prepareSplit, writeImageRows } from '../data/index.js';
import { filesFingerprint, idDtype, samplingOf } from '../generator/index.js';
import { type PosttrainConfig, PostTrainer, type PregeneratedRows, imageDraws } from '../posttrain/index.js';
import { absoluteTokenizerRef, openTokenizer, parseTokenizerRef, saveTokenizer, tokenizerImageSpec, tokenizerSourceFiles } from '../tokenizer/index.js';
import { type Tensor, cat, loadCached, manualSeed, noGrad, saveSafetensors, tensor, tidy } from '../torch/index.js';
import { loadCheckpointParts, openStream, resolveDevice, streamSeed } from '../train/index.js';
import { joinDataParallel, mainRankFirst, openRunFolder, rankEvents, seedRankStream, shardOf } from './data_parallel.js';
import { type RunEnd, type RunEvents, abortReason, withDefaults } from './events.js';
import { loadGeneratorPair } from './generator_pair.js';
import { runPaths } from './layout.js';
import { loadLossNetworks } from './loss_networks.js';
import { readJsonObject } from './run_folder.js';
import { resumeDecision, steppingOnBatches, trainingLoop } from './training_loop.js';

export interface PostTrainOptions {
  /** The trained tokenizer whose decoder is post-trained. */
  tokenizer: string;
  /** The trained generator (on that tokenizer's codebook) that supplies the tokens. */
  generator: string;
  resume?: boolean;
  events?: RunEvents;
}

export type PostTrainResult = RunEnd & { dir: string; step: number; minutes: number; grid?: string };

/** Rows in the sample grids. */
const GRID_IMAGES = 8;

export async function postTrain(cfg: PosttrainConfig, dir: string, o: PostTrainOptions): Promise<PostTrainResult> {
  const pair = loadGeneratorPair(o.generator, o.tokenizer);  // refuses a tokenizer of another codebook
  const oldDecoder = openTokenizer(pair.tokenizerDir).model;
  const device = resolveDevice(cfg.train.device);  // under launch, this rank's GPU
  const parallel = joinDataParallel(device);
  const events = withDefaults(rankEvents(o.events, parallel));
  const folder = openRunFolder(dir, parallel, events.log);
  const { paths } = folder;
  let trainer: PostTrainer | undefined;
  let networks: Awaited<ReturnType<typeof loadLossNetworks>> | undefined;
  const held: Tensor[] = [];
  try {
    const resuming = resumeDecision(paths.checkpoint, o.resume, cfg.train.steps);
    // The dataset is recorded by name (not as "the generator's"), so the folder says what it trained on.
    const dataName = cfg.data.name || pair.info.data;
    folder.writeConfig('post-trained tokenizer', { ...cfg, data: { ...cfg.data, name: dataName } });
    const spec = tokenizerImageSpec(pair.tokenizerDir);
    const dataset = await openDataset(dataName);
    if (dataset.classes.length !== pair.model.options.numClasses) {
      throw new Error(`${dataName} has ${dataset.classes.length} classes but the generator was trained on ${pair.model.options.numClasses}`);
    }
    const split = leadingSamples(await prepareSplit(dataset, 'train', { preprocess: { size: spec.size, channels: spec.channels } }), cfg.data.limit || Infinity);
    networks = await loadLossNetworks(cfg.loss, device);

    manualSeed(streamSeed(cfg.train.seed, 'global'));
    const sampling = cfg.samplingSource === 'generator' ? pair.info.sampling : samplingOf(cfg.sample);
    const t = new PostTrainer(cfg, pair.tokenizer, pair.model, sampling, { channels: spec.channels, ...networks, frozen: oldDecoder });
    seedRankStream(parallel, cfg.train.seed);
    trainer = t;
    events.log(`post-training ${t.trainableNames().length} tensors of ${pair.tokenizerDir} (σ = ${cfg.sigma}) on tokens of ${o.generator}: ` +
      `cfg ${sampling.cfg} ${sampling.schedule}, temperature ${sampling.temperature}`);
    events.log(describeRecipe(t));
    if (cfg.discriminator === 'continue' && t.objective.discriminator && !resuming) continueDiscriminator(t, pair.tokenizerDir, events.log);

    const N = cfg.tokens.pregenerate;
    const source = N > 0 ? leadingSamples(split, N) : split;
    // Every rank needs every image's σ-tokens (its shard changes each epoch): rank 0 draws and caches them, the others read its cache.
    const pregenerated = N > 0 ? await mainRankFirst(parallel, () => pregenerate(t, source, paths.sigmaTokens, [o.generator, pair.tokenizerDir], events)) : null;
    if (pregenerated) held.push(pregenerated.ids, pregenerated.kept, pregenerated.changed);
    const loader = new DataLoader(source, { batchSize: cfg.train.batchSize, seed: cfg.train.seed, dropLast: true, shard: shardOf(parallel) });

    // The grid's σ-tokens are drawn once, from streams of their own, so every grid shows the same tokens.
    const fixed = loader.batch(0, 0);
    const images = fixed.images.narrow(0, 0, Math.min(GRID_IMAGES, fixed.images.size(0))).keep();
    const labels = fixed.labels.narrow(0, 0, images.size(0)).keep();
    fixed.dispose();
    const shown = t.sigmaTokens(images, labels, { stream: openStream(cfg.train.seed, 'gridSigmaDraws'), coinStream: openStream(cfg.train.seed, 'gridSigmaCoins') });
    held.push(images, labels, shown.ids, shown.kept, shown.truth);
    const before = noGrad(() => tidy(() => oldDecoder.eval().decodeIds(shown.ids).clamp(-1, 1))).keep();
    held.push(before);
    const grid = async (step: number) => {
      const after = t.decodeWithEma(shown.ids);
      try {
        await writeImageRows([images, before, after], paths.sample(step));
      } finally {
        after.dispose();
      }
    };

    const steppable = steppingOnBatches(t, loader, (batch) => {
      const rows = pregenerated ? rowsOf(pregenerated, batch.indices) : undefined;
      try {
        return t.step(batch.images, batch.labels, rows);
      } finally {
        for (const x of rows ? [rows.ids, rows.kept, rows.changed] : []) x.dispose();
      }
    });
    const lineage = {
      kind: 'post-train' as const, from: absoluteTokenizerRef(pair.tokenizerDir), generator: path.resolve(o.generator),
      codebook: pair.info.codebook, data: dataName,
    };
    let loop;
    try {
      loop = await trainingLoop({
        folder, events, trainer: steppable, resuming, asked: o.resume === true, train: cfg.train, config: cfg,
        batchesPerEpoch: loader.batchesPerEpoch, rate: { perStep: cfg.train.batchSize, key: 'imagesPerSecond' },
        detail: (m) => `loss ${m.loss.toFixed(4)}${Number.isFinite(m.kept) ? ` kept ${(100 * m.kept).toFixed(0)}%` : ''}`,
        samples: grid, parallel,
      });
    } finally {
      await steppable.close();
    }
    const { aborted, minutes } = loop;
    if (aborted) return { status: 'interrupted', reason: abortReason(events.signal), dir, step: t.stepCount, minutes };
    if (parallel && !parallel.isMain) return { status: 'done', dir, step: t.stepCount, minutes };
    t.ema.withEmaWeights(() => saveTokenizer(dir, pair.tokenizer, spec, lineage));
    return { status: 'done', dir, step: t.stepCount, minutes, grid: paths.sample(t.stepCount) };
  } finally {
    for (const h of held) h.dispose();
    trainer?.dispose();
    networks?.dispose();
    oldDecoder.dispose();
    pair.dispose();
    folder.release();
    parallel?.dispose();
  }
}

/** σ-token sets as cached: ids `[N, T]`, and as uint8 masks which positions kept the ground truth and which differ from it. */
interface SigmaTokenCache {
  ids: Tensor;
  kept: Tensor;
  changed: Tensor;
}

/** The pregenerated rows of the given split rows `[B]`: int64 ids and bool masks (the batch's σ-tokens). */
function rowsOf(cache: SigmaTokenCache, rows: Uint32Array): PregeneratedRows {
  return tidy(() => {
    const index = tensor(Array.from(rows), { dtype: 'int64' });
    return { ids: cache.ids.indexSelect(0, index).to('int64'), kept: cache.kept.indexSelect(0, index).to('bool'), changed: cache.changed.indexSelect(0, index).to('bool') };
  });
}

/** The settings that decide what post-training exports, in one log line. */
function describeRecipe(t: PostTrainer): string {
  const { optim, train, loss } = t.config;
  const remains = t.emaDecay ** train.steps;
  const gan = t.objective.discriminator
    ? `GAN (weight ${loss.gan.weight} × adaptive) from step ${t.ganStart}, discriminator ${t.config.discriminator}, lr ${loss.gan.lr} on the same schedule`
    : 'no GAN';
  return `recipe: lr ${optim.lr} → ${Math.min(optim.lrMin, optim.lr)} after ${Math.round(optim.warmupFraction * train.steps)} warm-up steps; ` +
    `EMA decay ${t.emaDecay.toPrecision(6)} from the trained weights (${(100 * remains).toFixed(1)}% of them remain at step ${train.steps}); ` +
    `${loss.reconstruction}${loss.perceptual.kind === 'none' ? '' : ` + ${loss.perceptual.weight} × perceptual (${loss.perceptual.kind}${loss.perceptual.kind === 'features' ? ` ${loss.perceptual.network}` : ''})`}; ${gan}`;
}

/**
 * Loads the discriminator (and LeCam's anchors) of the tokenizer's main
 * training from its folder's checkpoint: a discriminator that already tells
 * this decoder's outputs from real images, instead of a random one whose
 * first hundreds of steps push the decoder anywhere.
 */
function continueDiscriminator(t: PostTrainer, tokenizerRef: string, log: (line: string) => void): void {
  const parsed = parseTokenizerRef(tokenizerRef);
  const file = 'folder' in parsed ? runPaths(parsed.folder).checkpoint : null;
  if (!file || !existsSync(file)) {
    throw new Error(`discriminator=continue needs the main-training checkpoint of ${tokenizerRef} (${file ?? 'a released file has none'}), which is missing; use discriminator=fresh`);
  }
  const { discriminator, lecam } = t.objective.parts() as Record<string, never>;
  try {
    loadCheckpointParts(file, { discriminator, lecam });
  } catch (error) {
    throw new Error(`discriminator=continue: ${(error as Error).message} (post-training's loss.gan settings must match the tokenizer's main training)`, { cause: error });
  }
  log(`discriminator: continued from ${file}`);
}

/**
 * The tokenizer's main-training loss settings (its folder's config.json), as
 * the lowest layer of a post-training config: a tokenizer trained with a
 * perceptual term or a wider discriminator keeps them. The GAN's on/start
 * stay post-training's own (on from step 0, docs/method.md §6).
 */
export function inheritedLoss(tokenizerRef: string): { settings: object; note: string } | undefined {
  const parsed = parseTokenizerRef(tokenizerRef);
  const file = 'folder' in parsed ? runPaths(parsed.folder).config : null;
  if (!file || !existsSync(file)) return undefined;
  const loss = (readJsonObject(file, "the tokenizer's training config") as { loss?: unknown }).loss as Record<string, unknown> | undefined;
  if (typeof loss !== 'object' || loss === null) return undefined;
  const { enabled: _enabled, start: _start, ...gan } = (loss.gan ?? {}) as Record<string, unknown>;
  return { settings: { loss: { ...loss, gan } }, note: `loss settings inherited from ${file} (preset and --set override them)` };
}

/**
 * How pregenerated σ-tokens are drawn, in their cache's fingerprint: a cache
 * drawn otherwise is drawn again. 'per-image' (issue #27): each
 * image's uniforms from its own streams (image_draws.ts); caches without it
 * were drawn a batch at a time from two run-wide streams.
 */
const PREGENERATED_DRAWS = 'per-image';

/**
 * One batch of the σ-token cache: images `[B, C, S, S]` with labels `[B]` at
 * rows `indices` of their split, drawn from each image's own uniforms
 * (image_draws.ts) → ids `[B, N]` in the cache's id dtype, and uint8 masks
 * `[B, N]` of the positions that kept the ground truth and of those that
 * differ from it (all three kept: the caller disposes them).
 */
export function pregeneratedRows(t: PostTrainer, images: Tensor, labels: Tensor, indices: ArrayLike<number>): [Tensor, Tensor, Tensor] {
  const draws = imageDraws(t.config.train.seed, indices, t.generator.length);
  try {
    const drawn = t.sigmaTokens(images, labels, draws);
    try {
      return tidy(() => [drawn.ids.to(idDtype(t.generator.options.vocabSize)), drawn.kept.to('uint8'), drawn.ids.ne(drawn.truth).to('uint8')]
        .map((x) => x.keep()) as [Tensor, Tensor, Tensor]);
    } finally {
      for (const x of [drawn.ids, drawn.kept, drawn.truth]) x.dispose();
    }
  } finally {
    draws.uniforms.dispose();
    draws.coinUniforms.dispose();
  }
}

/**
 * σ-tokens for every image of `source`, from the run folder's cache when its
 * fingerprint (generator and tokenizer files, σ, sampling, seed, images, how
 * they are drawn) matches, else drawn now and cached. Image i's tokens come
 * from its own uniforms (image_draws.ts), so they do not depend on the
 * batches it was drawn in, and the generator lab redraws them
 * (docs/method.md §6, σ-preserving sampling).
 */
async function pregenerate(t: PostTrainer, source: PreparedSplit, file: string, dirs: string[], events: ReturnType<typeof withDefaults>): Promise<SigmaTokenCache> {
  const cfg = t.config;
  const files = [...['generator.json', 'generator.safetensors'].map((f) => `${dirs[0]}/${f}`), ...tokenizerSourceFiles(dirs[1]!)];
  const fingerprint = filesFingerprint(files, { sigma: cfg.sigma, sampling: t.sampling, seed: cfg.train.seed, count: source.count, labels: Array.from(source.labels.subarray(0, 16)), draws: PREGENERATED_DRAWS });
  const cached = loadCached(file, fingerprint, ['ids', 'kept', 'changed']);
  if (cached) {
    events.log(`σ-tokens: ${cached.ids!.size(0)} sets from ${file}`);
    return { ids: cached.ids!.keep(), kept: cached.kept!.keep(), changed: cached.changed!.keep() };
  }
  if (existsSync(file)) events.log(`${file} was drawn with other settings or models: drawing again`);
  const loader = new DataLoader(source, { batchSize: 256, shuffle: false });
  const parts: Tensor[][] = [[], [], []];
  try {
    for (let b = 0, done = 0; b < loader.batchesPerEpoch; b++) {
      const batch = loader.batch(0, b);
      try {
        pregeneratedRows(t, batch.images, batch.labels, batch.indices).forEach((x, i) => parts[i]!.push(x));
        done += batch.labels.size(0);
      } finally {
        batch.dispose();
      }
      events.progress({ label: 'pregenerate', done, total: source.count, unit: 'img', cadence: 10 });
    }
    const [ids, kept, changed] = parts.map((p) => cat(p, 0).keep()) as [Tensor, Tensor, Tensor];
    saveSafetensors(file, { ids, kept, changed }, { fingerprint });
    return { ids, kept, changed };
  } finally {
    for (const p of parts.flat()) p.dispose();
  }
}
