// Transforms and the batched loader: deterministic for a seed, reshuffled per
// epoch, batch shapes/dtypes/ranges, and the preprocessing fits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataLoader, type PreparedSplit, ImageSizeError, validatePreprocess } from '../src/data/index.js';
import { preprocess } from '../src/data/preprocess.js';
import { liveTensors } from '../src/torch/index.js';

/** 10 samples of 3×8×8 whose pixels encode their index, so batches can be traced. */
function split(count = 10, size = 8): PreparedSplit {
  const sample = 3 * size * size;
  const images = Uint8Array.from({ length: count * sample }, (_, i) => (Math.floor(i / sample) * 20 + (i % sample)) % 256);
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 3), count, channels: 3, size, skipped: [] };
}

const orders = async (loader: DataLoader, epoch: number): Promise<number[][]> => {
  const out: number[][] = [];
  for await (const batch of loader.epoch(epoch)) {
    out.push([...batch.indices]);
    batch.dispose();
  }
  return out;
};

test('same seed → same batches; another epoch or seed → another order; every sample once', async () => {
  const a = new DataLoader(split(), { batchSize: 4, seed: 7 });
  const b = new DataLoader(split(), { batchSize: 4, seed: 7 });
  const e0 = await orders(a, 0);
  assert.deepEqual(e0, await orders(b, 0));
  assert.notDeepEqual(e0, await orders(a, 1));
  assert.notDeepEqual(e0, await orders(new DataLoader(split(), { batchSize: 4, seed: 8 }), 0));
  assert.deepEqual(e0.flat().sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(e0.map((batch) => batch.length), [4, 4, 2]);
  assert.deepEqual((await orders(new DataLoader(split(), { batchSize: 4, dropLast: true }), 0)).map((x) => x.length), [4, 4]);
  assert.deepEqual((await orders(new DataLoader(split(), { batchSize: 4, shuffle: false }), 3)).flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('batches are float32 [B, C, H, W] in [−1, 1] with int64 labels [B], and free their tensors', async () => {
  const before = liveTensors();
  const loader = new DataLoader(split(), { batchSize: 4, seed: 1 });
  for await (const batch of loader.epoch(0)) {
    assert.deepEqual(batch.images.shape, [batch.indices.length, 3, 8, 8]);
    assert.equal(batch.images.dtype, 'float32');
    assert.equal(batch.labels.dtype, 'int64');
    assert.deepEqual(batch.labels.tolist(), [...batch.indices].map((i) => i % 3));
    const values = batch.images.toTypedArray() as Float32Array;
    assert.ok(values.every((v) => v >= -1 && v <= 1));
    // Pixel 0 of sample i is 20·i: maps to 20·i/127.5 − 1.
    assert.ok(Math.abs(values[0]! - ((20 * batch.indices[0]!) / 127.5 - 1)) < 1e-6);
    batch.dispose();
  }
  assert.equal(liveTensors(), before);
});

test('augmentation is deterministic per (seed, epoch, sample) and changes with the epoch', () => {
  const options = { batchSize: 10, shuffle: false, seed: 3, augment: { hflip: true, randomCrop: { scale: [0.5, 1] as [number, number] } } };
  const a = new DataLoader(split(), options).hostBatch(0, 0);
  assert.deepEqual(a.images, new DataLoader(split(), options).hostBatch(0, 0).images);
  assert.notDeepEqual(a.images, new DataLoader(split(), options).hostBatch(1, 0).images);
  assert.notDeepEqual(a.images, new DataLoader(split(), { batchSize: 10, shuffle: false }).hostBatch(0, 0).images);
  assert.throws(() => new DataLoader(split(), { batchSize: 2, augment: { randomCrop: { scale: [0, 1] } } }), /0 < min ≤ max ≤ 1/);
  assert.throws(() => new DataLoader(split(), { batchSize: 0 }), /batchSize/);
});

test('preprocess: pad 28→32, resize shorter side + centre crop, grey ↔ RGB, crop smaller than size is an error', () => {
  const grey = { data: new Uint8Array(28 * 28).fill(200), height: 28, width: 28, channels: 1 as const };
  const padded = preprocess(grey, validatePreprocess({ size: 32, fit: 'pad', channels: 1, padValue: 0 }));
  assert.equal(padded.length, 32 * 32);
  assert.equal(padded[0], 0);
  assert.equal(padded[2 * 32 + 2], 200);
  const rgb = preprocess(grey, validatePreprocess({ size: 14, fit: 'resize', channels: 3, padValue: 0 }));
  assert.equal(rgb.length, 3 * 14 * 14);
  assert.ok(rgb.every((v) => v === 200));
  // A 4×2 image: left column 0, right column 100 → resize keeps the centre square.
  const wide = { data: Uint8Array.from([0, 0, 100, 100, 0, 0, 100, 100]), height: 2, width: 4, channels: 1 as const };
  assert.deepEqual([...preprocess(wide, validatePreprocess({ size: 2, fit: 'resize', channels: 1, padValue: 0 }))], [0, 100, 0, 100]);
  assert.throws(() => preprocess(grey, validatePreprocess({ size: 32, fit: 'crop', channels: 1, padValue: 0 }), 'x.png'),
    (e: Error) => e instanceof ImageSizeError && /x\.png is 28×28, smaller than the 32×32 crop: use fit 'resize'/.test(e.message));
  assert.throws(() => validatePreprocess({ size: 0, fit: 'pad', channels: 1, padValue: 0 }), /size/);
});
