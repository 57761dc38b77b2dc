// Process groups over c10d (src/torch/distributed.ts): two real processes on
// loopback with Gloo; collective values against hand computation, and the
// errors a user meets (rendezvous timeout, shapes or world sizes that differ
// across ranks). Skipped, saying why, on an addon built without c10d.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProcessGroup, distributedAvailability } from '../src/torch/index.js';
import { gradientSyncFrom } from '../src/train/index.js';
import { freePort, lastJson, runRanks } from './helpers/spawn_ranks.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'distributed_worker.js');
const { backends, reason } = distributedAvailability();
const skip = backends.includes('gloo') ? false : `no Gloo in this addon: ${reason}`;

type Result = { rank: number; ok: boolean; error?: string; sum?: number[]; avg?: number[]; max?: number[]; broadcast?: number[]; gathered?: number[][] };

async function scenario(name: string, world = 2): Promise<Result[]> {
  const port = await freePort();
  const runs = await runRanks(world, (rank) => [worker, name, String(rank), String(world), String(port)]);
  return runs.map((run) => lastJson<Result>(run));
}

test('allReduce (sum, avg, max), broadcast, allGather and barrier across two processes match hand computation', { skip }, async () => {
  for (const r of await scenario('collectives')) {
    assert.equal(r.ok, true, r.error);
    // Rank 0 holds [1, 2, 3], rank 1 [2, 4, 6].
    assert.deepEqual(r.sum, [3, 6, 9]);
    assert.deepEqual(r.avg, [1.5, 3, 4.5]);
    assert.deepEqual(r.max, [2, 4, 6]);
    assert.deepEqual(r.broadcast, [10, 11], 'rank 1 broadcast [10, 11]');
    assert.deepEqual(r.gathered, [[0, 10], [1, 9]]);
  }
});

test('gradients are averaged during backward, bucket by bucket in order; a bucket backward does not reach holds back the later ones', { skip }, async () => {
  type Finish = { gradients: number; bucketsDuringBackward: number };
  type Grads = { a: number[]; b: number[] };
  type Order = { first: Finish; second: Finish; once: Grads; twice: Grads; cHasGrad: boolean };
  for (const r of await scenario('reducer') as unknown as (Result & { cLast: Order; cFirst: Order })[]) {
    assert.equal(r.ok, true, r.error);
    for (const [order, launchedEarly] of [[r.cLast, 2], [r.cFirst, 0]] as const) {
      // Means of rank 0's and rank 1's gradients: a (1 and 2)·[1, 2, 3], b (1 and 4)·[1, 1].
      assert.deepEqual(order.once, { a: [1.5, 3, 4.5], b: [2.5, 2.5] });
      // The second backward adds each rank's gradient to the mean, then averages again.
      assert.deepEqual(order.twice, { a: [3, 6, 9], b: [5, 5] });
      assert.deepEqual(order.first, { gradients: 2, bucketsDuringBackward: launchedEarly });
      assert.deepEqual(order.second, order.first);
      assert.equal(order.cHasGrad, false);
    }
  }
});

test('a collective on tensors whose shapes differ across ranks fails on every rank, naming both shapes', { skip }, async () => {
  for (const r of await scenario('mismatch')) {
    assert.equal(r.ok, false);
    assert.match(r.error!, /allReduce: the tensors differ across ranks \(rank 0: 1 tensor\(s\), float32, first \[3\], 3 elements; rank 1: .*\[4\]/);
  }
});

test('a rank started with another world size is told so', { skip }, async () => {
  const [, last] = await scenario('world');
  assert.equal(last!.ok, false);
  assert.match(last!.error!, /world size mismatch: rank 1 was started with world size 3 but rank 0 with 2/);
});

test('a rendezvous nobody serves times out naming the address and the timeout', { skip }, async () => {
  const port = await freePort();
  assert.throws(() => ProcessGroup.init({ rank: 1, worldSize: 2, rendezvous: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 1000 }),
    new RegExp(`rendezvous at 127\\.0\\.0\\.1:${port} failed for rank 1 of 2 within the timeout of 1 s .*MASTER_ADDR`));
});

test('bad ranks and world sizes are refused before any rendezvous', () => {
  const rendezvous = { kind: 'tcp' as const, host: '127.0.0.1', port: 1 };
  assert.throws(() => ProcessGroup.init({ rank: 2, worldSize: 2, rendezvous }), /rank must be an integer in \[0, 2\), got 2/);
  assert.throws(() => ProcessGroup.init({ rank: 0, worldSize: 0, rendezvous }), /world size must be a positive integer, got 0/);
});

test('the gradient sync from the environment: overlap by default, 25 MiB buckets; bad values named', () => {
  assert.deepEqual(gradientSyncFrom({}), { overlapBackward: true, bucketMb: 25 });
  assert.deepEqual(gradientSyncFrom({ ROBUSTOK_OVERLAP_BACKWARD: '0', ROBUSTOK_BUCKET_MB: '0.5' }), { overlapBackward: false, bucketMb: 0.5 });
  assert.throws(() => gradientSyncFrom({ ROBUSTOK_OVERLAP_BACKWARD: 'yes' }), /ROBUSTOK_OVERLAP_BACKWARD=yes must be 0 or 1/);
  assert.throws(() => gradientSyncFrom({ ROBUSTOK_BUCKET_MB: 'big' }), /ROBUSTOK_BUCKET_MB=big must be a number of MiB in \(0, 4096\]/);
});
