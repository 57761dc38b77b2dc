// Data-parallel training (src/train/distributed.ts) with two real processes
// on loopback: 20 steps of the tiny tokenizer on 2 ranks with batch 8 each
// equal one process with batch 16 on the same data order (every step's loss
// and the final weights within 1e-5 relative), and a 2-rank checkpoint
// resumes in one process. Skipped, saying why, without Gloo in the addon.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runPaths } from '../src/runs/index.js';
import { distributedAvailability } from '../src/torch/index.js';
import { metricLines, presets, robustok } from './helpers/runs.js';
import { freePort, robustokOnRanks, sameMetrics, sameWeights } from './helpers/spawn_ranks.js';

const { backends, reason } = distributedAvailability();
const skip = backends.includes('gloo') ? false : `no Gloo in this addon: ${reason}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'robustok-ddp-'));
after(() => rmSync(work, { recursive: true, force: true }));

// Perturbation off: its noise is drawn per batch from one stream, which a rank's half-batch draws differently.
const sets = (steps: number, batchSize: number) => ['--set', 'perturbation.enabled=false', '--set', `train.steps=${steps}`,
  '--set', `train.batchSize=${batchSize}`, '--set', 'train.logEvery=1', '--set', `train.checkpointEvery=${steps}`, '--set', `train.sampleEvery=${steps}`];

const twoRanks = (out: string, steps: number) =>
  robustokOnRanks(2, 'train-tokenizer', '--config', presets.tokenizer, '--out', out, ...sets(steps, 8));

function single(out: string, steps: number, ...extra: string[]): void {
  const run = robustok('train-tokenizer', '--config', presets.tokenizer, '--out', out, ...sets(steps, 16), ...extra);
  assert.equal(run.status, 0, run.stderr);
}

/** The 20-step single-process run both comparisons are made against. */
const one = path.join(work, 'one');
let oneDone = false;
function singleTwenty(): string {
  if (!oneDone) single(one, 20);
  oneDone = true;
  return one;
}

test('2 ranks × batch 8 equal 1 process × batch 16: every step\'s loss and the final weights', { skip }, async () => {
  const two = path.join(work, 'two');
  singleTwenty();
  await twoRanks(two, 20);
  assert.equal(metricLines(two).length, 20);
  sameMetrics(metricLines(one), metricLines(two), ['loss', 'reconstruction']);
  sameWeights(runPaths(one).checkpoint, runPaths(two).checkpoint);
});

test('robustok launch --no-overlap-backward (averaging after backward, in small buckets) gives the same run', { skip }, async () => {
  const after = path.join(work, 'after');
  singleTwenty();
  const run = robustok('launch', '--nproc', '2', '--master-port', String(await freePort()), '--no-overlap-backward', '--bucket-mb', '0.01',
    'train-tokenizer', '--config', presets.tokenizer, '--out', after, ...sets(20, 8));
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /\[rank 0\] .*data-parallel over 2 ranks \(gloo\): gradients averaged after backward in ([4-9]|\d{2,}) bucket\(s\) of at most 0\.01 MiB/);
  sameMetrics(metricLines(one), metricLines(after), ['loss', 'reconstruction']);
  sameWeights(runPaths(one).checkpoint, runPaths(after).checkpoint);
});

test('a checkpoint of a 2-rank run resumes in one process (batch 16) as a 1-process checkpoint does', { skip }, async () => {
  const two = path.join(work, 'resume-two');
  const one = path.join(work, 'resume-one');
  await twoRanks(two, 10);
  single(one, 10);
  // Continue both in one process: the same global batch, so the same data order from step 10 on.
  single(two, 12, '--resume');
  single(one, 12, '--resume');
  assert.equal(metricLines(two).length, 12);
  sameWeights(runPaths(one).checkpoint, runPaths(two).checkpoint);
});

test('robustok launch: a failing rank ends the job with its message and a non-zero exit', { skip }, async () => {
  const port = await freePort();
  const run = robustok('launch', '--nproc', '2', '--master-port', String(port), 'train-tokenizer', '--config', presets.tokenizer,
    '--out', path.join(work, 'failing'), '--set', 'train.batchSize=4096');
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /\[rank [01]\] robustok train-tokenizer: dropLast with batchSize 4096 on each of 2 ranks leaves no batch from 512 samples/);
  assert.match(run.stderr, /launch: rank [01] failed \(exit 1\): robustok train-tokenizer: dropLast with batchSize 4096/);
});

test('robustok launch refuses a missing --nproc, a bad --bucket-mb and a command it cannot launch', () => {
  assert.match(robustok('launch', 'train-tokenizer').stderr, /--nproc N is required/);
  assert.match(robustok('launch', '--nproc', '2', '--bucket-mb', '0', 'train-tokenizer').stderr, /--bucket-mb must be a positive number, got '0'/);
  assert.match(robustok('launch', '--nproc', '2').stderr, /a command to launch is required \(one of train-tokenizer, train-generator, post-train\)/);
});
