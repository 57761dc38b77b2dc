// Data-parallel train-generator and post-train (src/runs/data_parallel.ts)
// with two real processes on loopback: 2 ranks × batch B train as one
// process × batch 2B (every step's numbers and the final weights within
// 1e-5 relative), rank 0 alone writes the caches the other rank reads (the
// token set, the σ-tokens), and a generator checkpoint written by 2 ranks
// continues in one process as that process's own run would. Skipped, saying
// why, without Gloo in the addon.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runPaths } from '../src/runs/index.js';
import { distributedAvailability } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { metricLines, presets, robustok, saveTinyGenerator, saveTinyTokenizer } from './helpers/runs.js';
import { robustokOnRanks, sameMetrics, sameWeights } from './helpers/spawn_ranks.js';

const { backends, reason } = distributedAvailability();
const skip = backends.includes('gloo') ? false : `no Gloo in this addon: ${reason}`;
const work = scratchDir();
const tokenizer = saveTinyTokenizer(path.join(work, 'tok'), 0);

/** `--set` flags of every run: each step logged, one checkpoint at the end. */
const sets = (...pairs: string[]) => pairs.flatMap((p) => ['--set', p]);

function single(...args: string[]): void {
  const run = robustok(...args);
  assert.equal(run.status, 0, run.stderr);
}

test('train-generator: 2 ranks × batch 8 equal 1 process × batch 16 (class dropout and mirror images on); the 2-rank checkpoint continues in 1 process', { skip }, async () => {
  // 64 images: 4 global batches of 16 per epoch, so 8 steps cross two epochs. Dropout off: each rank
  // draws its own masks (as each GPU does under DDP), which one process cannot reproduce.
  const run = (steps: number, batchSize: number) => ['train-generator', '--tokenizer', tokenizer, '--config', presets.generator,
    ...sets('data.limit=64', 'data.flip=true', 'model.dropout=0', `train.steps=${steps}`, `train.batchSize=${batchSize}`, 'train.logEvery=1',
      'train.sampleEvery=100', `train.checkpointEvery=${steps}`)];
  const one = path.join(work, 'gen-one');
  const two = path.join(work, 'gen-two');
  single(...run(4, 16), '--out', one);
  await robustokOnRanks(2, ...run(4, 8), '--out', two);
  const fields = ['loss', 'accuracy', 'lr', 'gradNorm'];
  sameMetrics(metricLines(one), metricLines(two), fields);
  sameWeights(runPaths(one).checkpoint, runPaths(two).checkpoint);
  // Both continue in one process (another world size for the 2-rank run): the same global batch of 16,
  // so the same data order and draws from step 5 on.
  single(...run(8, 16), '--out', one, '--resume');
  single(...run(8, 16), '--out', two, '--resume');
  sameMetrics(metricLines(one), metricLines(two), fields);
  sameWeights(runPaths(one).checkpoint, runPaths(two).checkpoint);
  sameWeights(runPaths(one).checkpoint, runPaths(two).checkpoint, 'ema.');
});

test('post-train: 2 ranks × batch 4 equal 1 process × batch 8 on pregenerated σ-tokens (rank 0 draws them, rank 1 reads its cache)', { skip }, async () => {
  const generator = saveTinyGenerator(path.join(work, 'gen-random'), tokenizer, 2);
  // The GAN off: its adaptive weight is each rank's own (see the README), so with it 2 ranks are not one process.
  const run = (batchSize: number) => ['post-train', '--tokenizer', tokenizer, '--generator', generator, '--config', presets.posttrain,
    ...sets('loss.gan.enabled=false', 'tokens.pregenerate=64', 'data.limit=64', 'train.steps=6', `train.batchSize=${batchSize}`,
      'train.logEvery=1', 'train.sampleEvery=100', 'train.checkpointEvery=6')];
  const one = path.join(work, 'post-one');
  const two = path.join(work, 'post-two');
  single(...run(8), '--out', one);
  await robustokOnRanks(2, ...run(4), '--out', two);
  sameMetrics(metricLines(one), metricLines(two), ['loss', 'reconstruction']);
  sameWeights(runPaths(one).checkpoint, runPaths(two).checkpoint, 'tokenizer.decoder.');
});
