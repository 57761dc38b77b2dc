// `robustok train-tokenizer --config FILE --out DIR [--set key=value ...] [--resume]`
//
// Writes to DIR: config.json (the resolved config), metrics.jsonl (one JSON
// object per logged step), samples/step-N.png (originals, EMA reconstructions
// and perturbed reconstructions, a row each), checkpoint.safetensors (atomic,
// for --resume; also written on Ctrl-C) and, at the end, tokenizer.json +
// tokenizer.safetensors (the EMA weights, for loadTokenizer / robustok eval).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeConfig, loadConfigFile, resolveConfig } from '../config/index.js';
import { DataLoader, type Dataset, type PreparedSplit, leadingSamples, openDataset, prepareSplit, writeImageRows } from '../data/index.js';
import { psnrPerImage } from '../metrics/index.js';
import { loadFeatureNetwork } from '../features/index.js';
import { TokenizerTrainer, type TokenizerConfig, checkTokenizerConfig, saveTokenizer, tokenizerSchema } from '../tokenizer/index.js';
import { type Tensor, manualSeed, tidy } from '../torch/index.js';
import { loadCheckpoint, saveCheckpoint } from '../train/index.js';
import { readFlags } from './flags.js';
import { Progress } from './progress.js';

export const trainTokenizerUsage = `usage: robustok train-tokenizer --config FILE --out DIR [--set key=value ...] [--resume]

Trains a tokenizer with latent perturbation (RobusTok, METHOD.md §2). Presets
in configs/tokenizer/: tiny.yaml (seconds), small.yaml (Fashion-MNIST, ~3 min
on 2 cores), emoji64.yaml (colour emoji, ~23 min), reference.yaml (RobusTok's
ImageNet-256 ViT-B, for a GPU machine). --set overrides any key (e.g. --set perturbation.delta=8); --resume
continues DIR's checkpoint exactly (or starts one when DIR has none). Keys, defaults and ranges:

${describeConfig(tokenizerSchema).map((l) => `  ${l}`).join('\n')}`;

interface Args {
  config?: string;
  out?: string;
  sets: string[];
  resume: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sets: [], resume: false };
  readFlags(argv, trainTokenizerUsage, (flag, read) => {
    if (flag === '--config') args.config = read.value();
    else if (flag === '--out') args.out = read.value();
    else if (flag === '--set') args.sets.push(read.value());
    else if (flag === '--resume') args.resume = true;
    else return false;
    return true;
  });
  return args;
}

/** The resolved config: DIR/config.json when resuming, else the preset; --set on top. */
function config(args: Args, out: string): TokenizerConfig {
  const saved = path.join(out, 'config.json');
  const sources = args.resume && existsSync(saved) ? [JSON.parse(readFileSync(saved, 'utf8')) as object] : args.config ? [loadConfigFile(args.config)] : [];
  if (sources.length === 0) throw new Error(`--config FILE is required (try configs/tokenizer/small.yaml)\n\n${trainTokenizerUsage}`);
  return checkTokenizerConfig(resolveConfig(tokenizerSchema, sources, args.sets));
}

export async function trainTokenizerCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(trainTokenizerUsage);
    return;
  }
  const args = parseArgs(argv);
  if (!args.out) throw new Error(`--out DIR is required\n\n${trainTokenizerUsage}`);
  const out = args.out;
  const cfg = config(args, out);  // a ConfigError lists every bad key
  if (!args.resume && existsSync(path.join(out, 'checkpoint.safetensors'))) {
    throw new Error(`${out} already holds a run: pass --resume to continue it, or choose another --out`);
  }
  mkdirSync(path.join(out, 'samples'), { recursive: true });
  writeFileSync(path.join(out, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);

  const dataset = await openDataset(cfg.data.name);
  const split = await prepareSplit(dataset, 'train', { preprocess: { size: cfg.data.size, channels: Number(cfg.data.channels) as 1 | 3 } });
  const used = leadingSamples(split, cfg.data.limit || Infinity);
  const loader = new DataLoader(used, { batchSize: cfg.train.batchSize, seed: cfg.train.seed, dropLast: true, augment: { hflip: cfg.data.flip } });

  manualSeed(cfg.train.seed);
  const perceptual = cfg.loss.perceptual;
  const featureNetwork = perceptual.kind === 'features' ? await loadFeatureNetwork(perceptual.network, { weights: perceptual.networkWeights || undefined }) : undefined;
  const trainer = new TokenizerTrainer(cfg, { featureNetwork });
  const checkpoint = path.join(out, 'checkpoint.safetensors');
  const metricsFile = path.join(out, 'metrics.jsonl');
  if (args.resume && existsSync(checkpoint)) {
    trainer.stepCount = loadCheckpoint(checkpoint, trainer.parts()).step;
    console.error(`resumed from step ${trainer.stepCount}`);
  } else {
    if (args.resume) console.error(`no checkpoint in ${out} yet: starting a new run`);
    writeFileSync(metricsFile, '');
  }
  const save = () => saveCheckpoint(checkpoint, trainer.parts(), { step: trainer.stepCount, epoch: Math.floor(trainer.stepCount / loader.batchesPerEpoch), config: cfg });
  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  process.on('SIGINT', onSigint);

  const startedAt = performance.now();
  const bar = new Progress(cfg.train.steps, { start: trainer.stepCount });
  const fixedImages = leadingImages(used, 8);
  try {
    let epoch = Math.floor(trainer.stepCount / loader.batchesPerEpoch);
    let skip = trainer.stepCount % loader.batchesPerEpoch;
    while (trainer.stepCount < cfg.train.steps && !interrupted) {
      for await (const batch of loader.epoch(epoch)) {
        if (skip > 0) { skip -= 1; batch.dispose(); continue; }
        const stepStart = performance.now();
        const m = trainer.step(batch.images);
        const imagesPerSecond = batch.images.size(0) / ((performance.now() - stepStart) / 1000);
        batch.dispose();
        if (m.step % cfg.train.logEvery === 0 || m.step === cfg.train.steps) {
          appendFileSync(metricsFile, `${JSON.stringify({ ...m, epoch, imagesPerSecond })}\n`);
          bar.update(m.step, `loss ${m.loss.toFixed(4)}`);
        }
        if (m.step % cfg.train.sampleEvery === 0 || m.step === cfg.train.steps) await writeSamples(trainer, fixedImages, out);
        if (m.step % cfg.train.checkpointEvery === 0) save();
        if (trainer.stepCount >= cfg.train.steps || interrupted) break;
      }
      epoch += 1;
    }
    save();
    bar.finish();
    if (interrupted) {
      console.error(`interrupted at step ${trainer.stepCount}: checkpoint saved; continue with --resume`);
      process.exitCode = 130;
      return;
    }
    // tokenizer.json records the training images' preprocessing, so reconstruct/encode/eval fit new images the same way.
    const image = { ...dataset.defaults, size: cfg.data.size, channels: Number(cfg.data.channels) as 1 | 3 };
    trainer.ema.withEmaWeights(() => saveTokenizer(out, trainer.model, image));
    const summary = await testSummary(trainer, cfg, dataset, out);
    console.error(`done: ${trainer.stepCount} steps in ${((performance.now() - startedAt) / 60000).toFixed(1)} min; ` +
      `tokenizer (EMA weights) in ${out}; test PSNR ${summary.psnr.toFixed(2)} dB (clean), ` +
      `${summary.psnrPerturbed === null ? '' : `${summary.psnrPerturbed.toFixed(2)} dB (perturbed), `}grid ${summary.grid}`);
  } finally {
    process.off('SIGINT', onSigint);
    fixedImages.dispose();
    trainer.dispose();
    featureNetwork?.dispose();
  }
}

async function writeSamples(trainer: TokenizerTrainer, images: Tensor, out: string): Promise<void> {
  const { clean, perturbed } = trainer.reconstruct(images);
  try {
    await writeImageRows(perturbed ? [images, clean, perturbed] : [images, clean], path.join(out, 'samples', `step-${trainer.stepCount}.png`));
  } finally {
    clean.dispose();
    perturbed?.dispose();
  }
}

/**
 * PSNR of the EMA weights' reconstructions on the first 256 test images
 * (clean and perturbed tokens), in batches of 32 so that large images stay
 * within memory; written to DIR/summary.json with a grid of the first 8.
 */
async function testSummary(trainer: TokenizerTrainer, cfg: TokenizerConfig, dataset: Dataset, out: string) {
  const split = await prepareSplit(dataset, 'test', { preprocess: { size: cfg.data.size, channels: Number(cfg.data.channels) as 1 | 3 } });
  const n = Math.min(256, split.count);
  const loader = new DataLoader(leadingSamples(split, n), { batchSize: 32, shuffle: false });
  const grid = path.join(out, 'samples', 'test.png');
  const sums = { clean: 0, perturbed: 0 };
  let perturbedToo = false;
  for (let b = 0; b < loader.batchesPerEpoch; b++) {
    const batch = loader.batch(0, b);
    const { clean, perturbed } = trainer.reconstruct(batch.images);
    const rows = [batch.images, clean, ...(perturbed ? [perturbed] : [])];
    try {
      tidy(() => {
        sums.clean += psnrPerImage(clean, batch.images).sum().item();
        if (perturbed) sums.perturbed += psnrPerImage(perturbed, batch.images).sum().item();
      });
      perturbedToo = perturbed !== null;
      if (b === 0) await writeImageRows(rows, grid, 8);
    } finally {
      batch.dispose();
      clean.dispose();
      perturbed?.dispose();
    }
  }
  const summary = { step: trainer.stepCount, images: n, psnr: sums.clean / n, psnrPerturbed: perturbedToo ? sums.perturbed / n : null, grid };
  writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** The first `n` images of a split as `[n, C, S, S]` in [−1, 1], converted as training batches are (kept). */
function leadingImages(split: PreparedSplit, n: number): Tensor {
  const batch = new DataLoader(split, { batchSize: n, shuffle: false }).batch(0, 0);
  batch.labels.dispose();
  return batch.images.keep();
}
