// Data-parallel training with the GAN on (src/train/distributed.ts), two
// real processes on loopback, the tiny tokenizer with loss.gan.start = 0 and
// a batch-norm discriminator:
//  - the discriminator (its running statistics too), its optimizer, the
//    tokenizer, its optimizer and EMA come out bit for bit the same on both
//    ranks (each backward's gradients are averaged, the discriminator's too;
//    rank 0's buffers go to all after each step), although the adaptive GAN
//    weight is each rank's own;
//  - a NaN loss on one rank only (rank 1 is fed NaN images at step 3, with
//    train.nonFinite=skip) makes both ranks skip that step together, each
//    saying which rank broke, instead of one rank waiting forever in the
//    other's all-reduce;
//  - averaging each bucket during backward (the default; here in many small
//    buckets) gives the very same training state as averaging after it
//    (--no-overlap-backward).
// Skipped, saying why, without Gloo in the addon.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { distributedAvailability } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { sameTensors } from './helpers/runs.js';
import { type RankRun, freePort, lastJson, runRanks } from './helpers/spawn_ranks.js';

const { backends, reason } = distributedAvailability();
const skip = backends.includes('gloo') ? false : `no Gloo in this addon: ${reason}`;
const work = scratchDir();
const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'ddp_gan_worker.js');

type Report = { rank: number; skipped: { step: number; message: string }[] };

/** A two-rank run into `out` with extra environment (the gradient sync). */
const runInto = (out: string, env: Record<string, string> = {}) => freePort().then((port) => {
  mkdirSync(out, { recursive: true });
  return runRanks(2, () => [worker, out, '4', '1'], { WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ...env });
});

/** The two ranks' run, shared by the tests (started once). */
let ranks: Promise<RankRun[]> | null = null;
const twoRanks = () => (ranks ??= runInto(work, { ROBUSTOK_BUCKET_MB: '0.01' }));

test('the GAN on 2 ranks: discriminator (with its batch-norm statistics), its optimizer and the tokenizer\'s weights, optimizer and EMA are identical on both ranks', { skip }, async () => {
  const runs = await twoRanks();
  runs.forEach((run, rank) => assert.equal(run.code, 0, `rank ${rank}:\n${run.stderr}`));
  // LeCam's running means are metadata, not tensors: each rank's own logits move them (as in the reference, where they are not buffers).
  sameTensors(path.join(work, 'rank-0.safetensors'), path.join(work, 'rank-1.safetensors'));
});

test('a NaN loss on rank 1 alone: both ranks skip step 3 together, rank 0 naming rank 1', { skip }, async () => {
  const runs = await twoRanks();
  const [zero, one] = runs.map((run) => lastJson<Report>(run));
  assert.deepEqual(one!.skipped.map((s) => s.step), [3]);
  assert.deepEqual(zero!.skipped.map((s) => s.step), [3]);
  assert.match(one!.skipped[0]!.message, /^the loss is not finite at step 3 \(loss NaN/);
  assert.match(zero!.skipped[0]!.message, /^the loss is not finite at step 3 on rank 1 \(this rank's: loss \d/);
});

test('averaging gradients during backward (buckets of 0.01 MiB) gives the same state as after it (--no-overlap-backward)', { skip }, async () => {
  await twoRanks();
  const after = path.join(work, 'after');
  const runs = await runInto(after, { ROBUSTOK_OVERLAP_BACKWARD: '0' });
  runs.forEach((run, rank) => assert.equal(run.code, 0, `rank ${rank}:\n${run.stderr}`));
  sameTensors(path.join(after, 'rank-0.safetensors'), path.join(after, 'rank-1.safetensors'));
  sameTensors(path.join(work, 'rank-0.safetensors'), path.join(after, 'rank-0.safetensors'));
});
