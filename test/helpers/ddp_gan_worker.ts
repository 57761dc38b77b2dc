// One rank of test/distributed_gan.test.ts: trains the tiny tokenizer with
// the GAN on from the first step (a batch-norm discriminator, whose running
// statistics are buffers) as one rank of a data-parallel run (the
// environment of `robustok launch`), as the training loop drives a trainer
// (a step, then rank 0's buffers to all), for STEPS steps of batch 4 per rank;
// rank NAN_RANK feeds NaN images at step 3 (train.nonFinite=skip). Writes
// its whole training state to OUT/rank-R.safetensors and prints, as one
// JSON line, the steps at which it skipped a batch and why.
import { loadConfigFile, resolveConfig } from '../../src/config/index.js';
import { DataLoader, leadingSamples, openDataset, prepareSplit } from '../../src/data/index.js';
import { joinDataParallel, shardOf } from '../../src/runs/data_parallel.js';
import { TokenizerTrainer, checkTokenizerConfig, tokenizerSchema } from '../../src/tokenizer/index.js';
import { manualSeed, tidy } from '../../src/torch/index.js';
import { NonFiniteLossError, saveCheckpoint } from '../../src/train/index.js';
import { presets } from './runs.js';

// Usage: node ddp_gan_worker.js OUT STEPS NAN_RANK
const [out, stepsText, nanRankText] = process.argv.slice(2);
const steps = Number(stepsText);
const nanRank = Number(nanRankText);
const cfg = checkTokenizerConfig(resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)],
  ['loss.gan.enabled=true', 'loss.gan.start=0', 'loss.gan.spectralNorm=false', 'train.batchSize=4', 'train.nonFinite=skip', `train.steps=${steps}`]));
const parallel = joinDataParallel('cpu')!;
const split = leadingSamples(await prepareSplit(await openDataset(cfg.data.name), 'train', { preprocess: { size: cfg.data.size, channels: cfg.data.channels } }), 64);
const loader = new DataLoader(split, { batchSize: cfg.train.batchSize, seed: cfg.train.seed, dropLast: true, shard: shardOf(parallel) });
manualSeed(cfg.train.seed);
const trainer = new TokenizerTrainer(cfg);
parallel.attach(trainer.parts());
const skipped: { step: number; message: string }[] = [];
for (let b = 0; trainer.stepCount < steps; b++) {
  if (b === loader.batchesPerEpoch) throw new Error(`rank ${parallel.rank}: one epoch of ${b} batches ran out before step ${steps} (skipped: ${JSON.stringify(skipped)})`);
  const batch = loader.batch(0, b);
  // The third batch (step 3) on one rank only: NaN images give that rank alone a NaN loss. Skipped, the step
  // is taken again on the next batch.
  const images = b === 2 && parallel.rank === nanRank ? tidy(() => batch.images.mul(Number.NaN)).keep() : batch.images;
  try {
    trainer.step(images);
    parallel.syncBuffers();
  } catch (error) {
    if (!(error instanceof NonFiniteLossError)) throw error;
    skipped.push({ step: error.step, message: error.message });
  } finally {
    if (images !== batch.images) images.dispose();
    batch.dispose();
  }
}
saveCheckpoint(`${out}/rank-${parallel.rank}.safetensors`, trainer.parts(), { step: trainer.stepCount, epoch: 0, config: cfg });
process.stdout.write(`${JSON.stringify({ rank: parallel.rank, skipped })}\n`);
trainer.dispose();
parallel.dispose();
