// The shipped datasets open with the right counts, labels and shapes. Only
// headers and a few images are read (`limit`), so the suite stays fast.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listDatasets, openDataset, prepareSplit } from '../src/data/index.js';

for (const name of ['fashion-mnist', 'mnist']) {
  test(`${name}: 60k/10k samples, 10 classes, 28×28 padded to 1×32×32`, async () => {
    const dataset = await openDataset(name, { limit: 200 });
    assert.equal(dataset.classes.length, 10);
    assert.equal(dataset.splits.train!.total, 60000);
    assert.equal(dataset.splits.test!.total, 10000);
    const prepared = await prepareSplit(dataset, 'train', { cache: false });
    assert.equal(prepared.count, 200);
    assert.equal(prepared.images.length, 200 * 32 * 32);
    const labels = [...prepared.labels];
    assert.ok(labels.every((l) => l >= 0 && l < 10));
    assert.ok(new Set(labels).size >= 8, 'the first 200 samples cover most classes');
    // Padding: a 2-pixel border of background (0), ink inside.
    const first = prepared.images.subarray(0, 32 * 32);
    assert.equal(first.subarray(0, 64).reduce((a, b) => a + b, 0), 0);
    assert.ok(Math.max(...first) > 200);
  });
}

test('emoji: RGB 64×64 on white, categories as classes, disjoint split without duplicates', async () => {
  const dataset = await openDataset('emoji', { limit: 24 });
  assert.ok(dataset.classes.includes('Smileys & Emotion') && dataset.classes.includes('Flags'));
  const { train, test: held } = dataset.splits;
  assert.ok(train!.total > 6000 && held!.total > 500, `train ${train!.total}, test ${held!.total}`);
  assert.ok(held!.total / (train!.total + held!.total) < 0.15);
  if (train!.kind !== 'files' || held!.kind !== 'files') throw new Error('emoji splits are file lists');
  assert.equal(train!.files.filter((f) => held!.files.includes(f)).length, 0);
  const prepared = await prepareSplit(dataset, 'train', { cache: false, workers: 1 });
  assert.equal(prepared.count, 24);
  assert.equal(prepared.channels, 3);
  assert.equal(prepared.size, 64);
  // Corners are transparent in the sources: composited to white.
  assert.equal(prepared.images[0], 255);
  assert.ok([...prepared.labels].every((l) => l >= 0 && l < dataset.classes.length));
});

test('registry: lists the datasets and rejects unknown names with the known ones', async () => {
  assert.deepEqual(listDatasets().map((l) => l.name), ['fashion-mnist', 'mnist', 'emoji', 'folder']);
  await assert.rejects(openDataset('imagenet'), /unknown dataset 'imagenet'; known: fashion-mnist, mnist, emoji, folder:PATH/);
  await assert.rejects(openDataset('mnist:x'), /unknown dataset/);
});
