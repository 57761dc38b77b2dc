// Post-training as a run (docs/method.md §6): the decoder of a trained
// tokenizer fine-tuned on σ-tokens of a trained generator. Writes to DIR (names
// in layout.ts): config.json, metrics.jsonl, samples/step-N.png (rows:
// originals | σ-tokens decoded by the old decoder | by the new one, EMA),
// checkpoint.safetensors, tokens-sigma.safetensors with --pregenerate, and at
// the end tokenizer.json + tokenizer.safetensors: a tokenizer folder like any
// other (eval, reconstruct, decode, sample --tokenizer read it), with the
// same codebook, so the generator's tokens keep their meaning.
import { existsSync } from 'node:fs';
import { DataLoader, type PreparedSplit, leadingSamples, openDataset, prepareSplit, writeImageRows } from '../data/index.js';
import { type FeatureNetwork, loadFeatureNetwork } from '../features/index.js';
import { filesFingerprint, idDtype, samplingOf } from '../generator/index.js';
import { type PosttrainConfig, PostTrainer } from '../posttrain/index.js';
import { openTokenizer, saveTokenizer, tokenizerImageSpec, tokenizerSourceFiles } from '../tokenizer/index.js';
import { Generator, type Tensor, cat, loadCached, manualSeed, noGrad, saveSafetensors, tensor, tidy } from '../torch/index.js';
import { joinDataParallel, mainRankFirst, openRunFolder, rankEvents, seedRankStream, shardOf } from './data_parallel.js';
import { type RunEnd, type RunEvents, abortReason, withDefaults } from './events.js';
import { loadGeneratorPair } from './generator_pair.js';
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
  const parallel = joinDataParallel();
  const events = withDefaults(rankEvents(o.events, parallel));
  const folder = openRunFolder(dir, parallel, events.log);
  const { paths } = folder;
  let trainer: PostTrainer | undefined;
  let featureNetwork: FeatureNetwork | undefined;
  const held: Tensor[] = [];
  try {
    const resuming = resumeDecision(paths.checkpoint, o.resume, cfg.train.steps);
    folder.writeConfig(cfg);
    const spec = tokenizerImageSpec(pair.tokenizerDir);
    const dataName = cfg.data.name || pair.info.data;
    const dataset = await openDataset(dataName);
    if (dataset.classes.length !== pair.model.options.numClasses) {
      throw new Error(`${dataName} has ${dataset.classes.length} classes but the generator was trained on ${pair.model.options.numClasses}`);
    }
    const split = leadingSamples(await prepareSplit(dataset, 'train', { preprocess: { size: spec.size, channels: spec.channels } }), cfg.data.limit || Infinity);
    const perceptual = cfg.loss.perceptual;
    if (perceptual.kind === 'features') featureNetwork = await loadFeatureNetwork(perceptual.network, { weights: perceptual.networkWeights || undefined });

    manualSeed(cfg.train.seed);
    const sampling = cfg.sampling === 'generator' ? pair.info.sampling : samplingOf(cfg.sample);
    const t = new PostTrainer(cfg, pair.tokenizer, pair.model, sampling, { channels: spec.channels, featureNetwork });
    seedRankStream(parallel, cfg.train.seed);
    trainer = t;
    events.log(`post-training ${t.trainableNames().length} tensors of ${pair.tokenizerDir} (σ = ${cfg.sigma}) on tokens of ${o.generator}: ` +
      `cfg ${sampling.cfg} ${sampling.schedule}, temperature ${sampling.temperature}`);

    const N = cfg.tokens.pregenerate;
    const source = N > 0 ? leadingSamples(split, N) : split;
    // Every rank needs every image's σ-tokens (its shard changes each epoch): rank 0 draws and caches them, the others read its cache.
    const pregenerated = N > 0 ? await mainRankFirst(parallel, () => pregenerate(t, source, paths.sigmaTokens, [o.generator, pair.tokenizerDir], events)) : null;
    if (pregenerated) held.push(pregenerated);
    const loader = new DataLoader(source, { batchSize: cfg.train.batchSize, seed: cfg.train.seed, dropLast: true, shard: shardOf(parallel) });

    // The grid's σ-tokens are drawn once, from streams of their own, so every grid shows the same tokens.
    const fixed = loader.batch(0, 0);
    const images = fixed.images.narrow(0, 0, Math.min(GRID_IMAGES, fixed.images.size(0))).keep();
    const labels = fixed.labels.narrow(0, 0, images.size(0)).keep();
    fixed.dispose();
    const shown = t.sigmaTokens(images, labels, { draws: new Generator(cfg.train.seed + 5), coins: new Generator(cfg.train.seed + 6) });
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

    const steppable = steppingOnBatches(t, loader, (batch) =>
      t.step(batch.images, batch.labels, pregenerated ? rowsOf(pregenerated, batch.indices) : undefined));
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
    t.ema.withEmaWeights(() => saveTokenizer(dir, pair.tokenizer, spec));
    return { status: 'done', dir, step: t.stepCount, minutes, grid: paths.sample(t.stepCount) };
  } finally {
    for (const h of held) h.dispose();
    trainer?.dispose();
    featureNetwork?.dispose();
    oldDecoder.dispose();
    pair.dispose();
    folder.release();
    parallel?.dispose();
  }
}

/** Pregenerated ids `[N, T]` of the given split rows `[B]` as int64 (the batch's σ-tokens). */
const rowsOf = (ids: Tensor, rows: Uint32Array): Tensor =>
  tidy(() => ids.indexSelect(0, tensor(Array.from(rows), { dtype: 'int64' })).to('int64'));

/**
 * σ-tokens for every image of `source`, from the run folder's cache when its
 * fingerprint (generator and tokenizer files, σ, sampling, seed, images)
 * matches, else drawn now — from streams of their own — and cached.
 */
async function pregenerate(t: PostTrainer, source: PreparedSplit, file: string, dirs: string[], events: ReturnType<typeof withDefaults>): Promise<Tensor> {
  const cfg = t.config;
  const files = [...['generator.json', 'generator.safetensors'].map((f) => `${dirs[0]}/${f}`), ...tokenizerSourceFiles(dirs[1]!)];
  const fingerprint = filesFingerprint(files, { sigma: cfg.sigma, sampling: t.sampling, seed: cfg.train.seed, count: source.count, labels: Array.from(source.labels.subarray(0, 16)) });
  const cached = loadCached(file, fingerprint, ['ids']);
  if (cached) {
    events.log(`σ-tokens: ${cached.ids!.size(0)} sets from ${file}`);
    return cached.ids!.keep();
  }
  if (existsSync(file)) events.log(`${file} was drawn with other settings or models: drawing again`);
  const streams = { draws: new Generator(cfg.train.seed + 7), coins: new Generator(cfg.train.seed + 8) };
  const loader = new DataLoader(source, { batchSize: 256, shuffle: false });
  const parts: Tensor[] = [];
  try {
    for (let b = 0, done = 0; b < loader.batchesPerEpoch; b++) {
      const batch = loader.batch(0, b);
      try {
        const drawn = t.sigmaTokens(batch.images, batch.labels, streams);
        parts.push(tidy(() => drawn.ids.to(idDtype(t.generator.options.vocabSize))).keep());
        for (const x of [drawn.ids, drawn.kept, drawn.truth]) x.dispose();
        done += batch.labels.size(0);
      } finally {
        batch.dispose();
      }
      events.progress({ label: 'pregenerate', done, total: source.count, unit: 'img', cadence: 10 });
    }
    const ids = cat(parts, 0).keep();
    saveSafetensors(file, { ids }, { fingerprint });
    return ids;
  } finally {
    for (const p of parts) p.dispose();
  }
}
