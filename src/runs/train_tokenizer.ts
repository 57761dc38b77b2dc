// Main training of a tokenizer as a run (docs/method.md §2, §4): the loop
// around TokenizerTrainer.step that owns the run folder — resume, metrics,
// sample grids, checkpoints, stopping on an abort signal, and the test-set
// summary at the end. `robustok train-tokenizer` is flags → config → this.
//
// Writes to DIR (names in layout.ts): config.json, metrics.jsonl,
// samples/step-N.png (originals, EMA reconstructions, perturbed ones),
// checkpoint.safetensors and, at the end, tokenizer.json +
// tokenizer.safetensors (the EMA weights) and summary.json. A stop asked for
// after the last step (during the final evaluation) still ends as interrupted.
import { DataLoader, type Dataset, type PreparedSplit, leadingSamples, openDataset, prepareSplit, splitLabel, writeImageRows } from '../data/index.js';
import { psnrPerImage } from '../metrics/index.js';
import { TokenizerTrainer, type TokenizerConfig, checkTokenizerConfig, saveTokenizer } from '../tokenizer/index.js';
import { type Tensor, manualSeed, profile, tidy, writeFileAtomic } from '../torch/index.js';
import { resolveDevice, streamSeed } from '../train/index.js';
import { type RunEnd, type RunEvents, abortReason, withDefaults } from './events.js';
import { refuseNonFiniteResults } from './finite_results.js';
import type { RunPaths } from './layout.js';
import { loadLossNetworks } from './loss_networks.js';
import { joinDataParallel, openRunFolder, rankEvents, seedRankStream, shardOf } from './data_parallel.js';
import { resumeDecision, steppingOnBatches, trainingLoop } from './training_loop.js';

export interface TrainTokenizerOptions {
  /** Continue DIR's checkpoint exactly (or start one when DIR has none). */
  resume?: boolean;
  events?: RunEvents;
}

export interface TestSummary {
  step: number;
  /** What the numbers were measured on: 'test', or a held-out slice of train (data/held_out.ts), or training images. */
  split: string;
  images: number;
  /** Mean PSNR (dB) of the EMA weights' clean reconstructions. */
  psnr: number;
  /**
   * Mean PSNR (dB) of reconstructions from tokens perturbed as training last
   * did (the final step's annealed α and δ, or Gaussian scale; β = 1): what
   * the decoder learnt to undo, not the pFID level (eval's psnrPfidLevel).
   * Null with perturbation off. Called psnrPerturbed in older summary.json files.
   */
  psnrTrainingPerturbation: number | null;
  grid: string;
}

export type TrainTokenizerResult = RunEnd & { dir: string; step: number; minutes: number; summary?: TestSummary };

export async function trainTokenizer(config: TokenizerConfig, dir: string, options: TrainTokenizerOptions = {}): Promise<TrainTokenizerResult> {
  const cfg = checkTokenizerConfig(config);  // cross-field rules, before any data is read
  const device = resolveDevice(cfg.train.device);  // under launch, this rank's GPU
  const parallel = joinDataParallel(device);
  const events = withDefaults(rankEvents(options.events, parallel));
  const folder = openRunFolder(dir, parallel, events.log);
  const { paths } = folder;
  let trainer: TokenizerTrainer | undefined;
  let networks: Awaited<ReturnType<typeof loadLossNetworks>> | undefined;
  let fixedImages: Tensor | null = null;
  try {
    const resuming = resumeDecision(paths.checkpoint, options.resume, cfg.train.steps);
    folder.writeConfig('tokenizer', cfg);

    const dataset = await openDataset(cfg.data.name);
    const preprocess = { size: cfg.data.size, channels: cfg.data.channels };
    const used = leadingSamples(await prepareSplit(dataset, 'train', { preprocess }), cfg.data.limit || Infinity);
    const loader = new DataLoader(used, {
      batchSize: cfg.train.batchSize, seed: cfg.train.seed, dropLast: true, augment: { hflip: cfg.data.flip },
      shard: shardOf(parallel),
    });

    manualSeed(streamSeed(cfg.train.seed, 'global'));
    networks = await loadLossNetworks(cfg.loss, device);
    const t = new TokenizerTrainer(cfg, networks);
    seedRankStream(parallel, cfg.train.seed);
    trainer = t;
    fixedImages = leadingImages(used, 8);
    const images = fixedImages;
    const steppable = steppingOnBatches(t, loader, (batch) => t.step(batch.images));
    let loop;
    try {
      loop = await trainingLoop({
        folder, events, trainer: steppable, resuming, asked: options.resume === true, train: cfg.train, config: cfg,
        batchesPerEpoch: loader.batchesPerEpoch, rate: { perStep: cfg.train.batchSize, key: 'imagesPerSecond' },
        detail: (m) => `loss ${m.loss.toFixed(4)}`,
        samples: (step) => writeSamples(t, images, paths.sample(step)), parallel,
      });
    } finally {
      await steppable.close();
    }
    const { minutes } = loop;
    const interrupted = (note?: string): TrainTokenizerResult =>
      ({ status: 'interrupted', reason: abortReason(events.signal), ...(note ? { note } : {}), dir, step: t.stepCount, minutes });
    if (loop.aborted) return interrupted();
    if (parallel && !parallel.isMain) return { status: 'done', dir, step: t.stepCount, minutes };
    // tokenizer.json records the training images' preprocessing, so reconstruct/encode/eval fit new images the same way.
    t.ema.withEmaWeights(() => saveTokenizer(dir, t.model, { ...dataset.defaults, ...preprocess }));
    const summary = await profile.phaseAsync('test summary', () => testSummary(t, cfg, dataset, paths, events));
    // A stop asked for during the final evaluation is a stop, not a success: what was written is said, and --resume finishes it.
    if (!summary) return interrupted(`during the final evaluation (tokenizer saved, ${paths.summary} not written)`);
    if (events.signal?.aborted) return interrupted(`after the final evaluation (tokenizer and ${paths.summary} written)`);
    return { status: 'done', dir, step: t.stepCount, minutes, summary };
  } finally {
    fixedImages?.dispose();
    trainer?.dispose();
    networks?.dispose();
    folder.release();
    parallel?.dispose();
  }
}

async function writeSamples(trainer: TokenizerTrainer, images: Tensor, file: string): Promise<void> {
  const { clean, perturbed } = trainer.reconstruct(images);
  try {
    await writeImageRows(perturbed ? [images, clean, perturbed] : [images, clean], file);
  } finally {
    clean.dispose();
    perturbed?.dispose();
  }
}

/**
 * PSNR of the EMA weights' reconstructions on the first 256 test images
 * (clean and perturbed tokens), in batches of 32 so that large images stay
 * within memory; written to summary.json with a grid of the first 8 and the
 * split it was measured on: a folder without a test split has a held-out
 * slice of its images as one (data/held_out.ts); one too small for that is
 * measured on training images, with a warning. Null when a stop was asked
 * for before it was done (nothing is written then).
 */
async function testSummary(
  trainer: TokenizerTrainer, cfg: TokenizerConfig, dataset: Dataset, paths: RunPaths, events: ReturnType<typeof withDefaults>,
): Promise<TestSummary | null> {
  const which = dataset.splits.test ? 'test' : 'train';
  const label = splitLabel(dataset, which);
  if (which === 'train') events.log(`warning: ${dataset.name} has no test split and too few images to hold some out: the summary's numbers are on training images`);
  const split = await prepareSplit(dataset, which, { preprocess: { size: cfg.data.size, channels: cfg.data.channels } });
  const n = Math.min(256, split.count);
  const loader = new DataLoader(leadingSamples(split, n), { batchSize: 32, shuffle: false });
  const sums = { clean: 0, perturbed: 0 };
  let perturbedToo = false;
  for (let b = 0; b < loader.batchesPerEpoch; b++) {
    // Lets a SIGINT/SIGTERM reach the signal between batches (the batches themselves never wait on I/O).
    await new Promise((resolve) => setImmediate(resolve));
    if (events.signal?.aborted) return null;
    events.progress({ label: 'test', done: b * 32, total: n, unit: 'img' });
    const batch = loader.batch(0, b);
    const { clean, perturbed } = trainer.reconstruct(batch.images);
    try {
      tidy(() => {
        sums.clean += psnrPerImage(clean, batch.images).sum().item();
        if (perturbed) sums.perturbed += psnrPerImage(perturbed, batch.images).sum().item();
      });
      perturbedToo = perturbed !== null;
      if (b === 0) await writeImageRows([batch.images, clean, ...(perturbed ? [perturbed] : [])], paths.testGrid, 8);
    } finally {
      batch.dispose();
      clean.dispose();
      perturbed?.dispose();
    }
  }
  events.progress({ label: 'test', done: n, total: n, unit: 'img' });
  const summary = { step: trainer.stepCount, split: label, images: n, psnr: sums.clean / n, psnrTrainingPerturbation: perturbedToo ? sums.perturbed / n : null, grid: paths.testGrid };
  refuseNonFiniteResults(`${paths.summary} (not written)`, { 'test PSNR': summary.psnr, 'test PSNR at the training perturbation': summary.psnrTrainingPerturbation });
  writeFileAtomic(paths.summary, [Buffer.from(`${JSON.stringify(summary, null, 2)}\n`)]);
  return summary;
}

/** The first `n` images of a split as `[n, C, S, S]` in [−1, 1], converted as training batches are (kept). */
function leadingImages(split: PreparedSplit, n: number): Tensor {
  const batch = new DataLoader(split, { batchSize: n, shuffle: false }).batch(0, 0);
  batch.labels.dispose();
  return batch.images.keep();
}
