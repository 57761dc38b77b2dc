// A folder dataset without train/ and test/: a seeded slice of
// its images is held out as the test split and never trained on, so
// train-tokenizer's end-of-run summary and `robustok eval` work and say what
// they measured on; `--split train` works with a warning; a folder too small
// to spare images has no test split, and eval says how to measure anyway.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { HELD_OUT_SEED, heldOutIndices, openDataset, splitLabel } from '../src/data/index.js';
import { DatasetClassifier, saveClassifier } from '../src/features/index.js';
import { manualSeed } from '../src/torch/index.js';
import { presets, robustok } from './helpers/runs.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'robustok-held-out-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** `n` 16×16 PNGs, half in cats/ and half in dogs/, each a different grey. */
async function classFolder(name: string, n: number): Promise<string> {
  const dir = path.join(root, name);
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, i % 2 ? 'dogs' : 'cats', `${String(i).padStart(2, '0')}.png`);
    mkdirSync(path.dirname(file), { recursive: true });
    await sharp(Buffer.alloc(16 * 16 * 3, 10 * i), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(file);
  }
  return dir;
}

test('a folder without train/ and test/ holds out a seeded 10% as its test split, which the train split leaves out', async () => {
  const dir = await classFolder('twenty', 20);
  const dataset = await openDataset(`folder:${dir}`);
  const train = dataset.splits.train!;
  const testSplit = dataset.splits.test!;
  assert.ok(train.kind === 'files' && testSplit.kind === 'files');
  assert.equal(testSplit.files.length, 2);
  assert.equal(train.files.length, 18);
  assert.equal(train.files.filter((f) => testSplit.files.includes(f)).length, 0, 'no held-out image is trained on');
  assert.equal(new Set([...train.files, ...testSplit.files]).size, 20, 'every image is in one split');
  const inClassOrder = [...Array(20).keys()].sort((a, b) => (a % 2) - (b % 2) || a - b);  // cats (even) first, then dogs
  const held = heldOutIndices(20).map((i) => `${String(inClassOrder[i]).padStart(2, '0')}.png`);
  assert.deepEqual(testSplit.files.map((f) => path.basename(f)).sort(), held.sort(), 'the slice is heldOutIndices(total), seeded');
  const again = await openDataset(`folder:${dir}`);
  assert.deepEqual(again.splits.test!.kind === 'files' ? again.splits.test!.files : [], testSplit.files, 'the same slice on every open');
  assert.deepEqual(dataset.heldOut, { count: 2, seed: HELD_OUT_SEED });
  assert.equal(splitLabel(dataset, 'test'), `train (held-out slice of 2, seed ${HELD_OUT_SEED})`);
  assert.equal(heldOutIndices(20_000).length, 1000, 'at most 1,000 held out');

  const small = await openDataset(`folder:${await classFolder('four', 4)}`);
  assert.deepEqual(Object.keys(small.splits), ['train'], 'fewer than 10 images: nothing to spare');
  assert.equal(small.heldOut, undefined);
});

test('train-tokenizer on such a folder finishes with summary.json stating the held-out slice; eval measures on it, and on train with a warning', async () => {
  const dir = await classFolder('pets', 20);
  const out = path.join(root, 'tok');
  const data = `folder:${dir}`;
  const trained = robustok('train-tokenizer', '--config', presets.tokenizer, '--out', out, '--set', `data.name=${data}`, '--set', 'data.limit=0',
    '--set', 'train.steps=4', '--set', 'train.batchSize=4', '--set', 'train.checkpointEvery=2', '--set', 'train.sampleEvery=4', '--set', 'train.logEvery=2');
  assert.equal(trained.status, 0, trained.stderr);
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { split: string; images: number; psnr: number };
  assert.equal(summary.split, 'train (held-out slice of 2, seed 0)');
  assert.equal(summary.images, 2);
  assert.ok(Number.isFinite(summary.psnr));
  assert.match(trained.stderr, /done: 4 steps .*; train \(held-out slice of 2, seed 0\): PSNR \d+\.\d\d dB/);

  // A random-weight classifier of the folder's two classes stands in for the one eval would train first.
  const weights = path.join(root, 'pets-classifier.safetensors');
  manualSeed(0);
  const model = new DatasetClassifier({ channels: 3, size: 32, numClasses: 2, widths: [8], featureSize: 16 });
  saveClassifier(weights, model, { dataset: data, testAccuracy: 0, epochs: 0 });
  model.dispose();
  const evalArgs = ['eval', '--tokenizer', out, '--data', data, '--weights', weights, '--curve', 'none', '--json'];
  const held = robustok(...evalArgs);
  assert.equal(held.status, 0, held.stderr);
  assert.equal((JSON.parse(held.stdout) as { n: number }).n, 2);
  const result = JSON.parse(readFileSync(path.join(out, 'eval', 'result.json'), 'utf8')) as { split: string };
  assert.equal(result.split, 'train (held-out slice of 2, seed 0)');
  assert.match(readFileSync(path.join(out, 'eval', 'report.html'), 'utf8'), /split: train \(held-out slice of 2, seed 0\)/);

  const onTrain = robustok(...evalArgs, '--split', 'train', '--n', '8');
  assert.equal(onTrain.status, 0, onTrain.stderr);
  assert.match(onTrain.stderr, /warning: --split train: the numbers are on training images/);
  assert.match((JSON.parse(readFileSync(path.join(out, 'eval', 'result.json'), 'utf8')) as { split: string }).split, /^train \(training images/);

  // Too small to hold images out: eval without --split says how to measure.
  const tiny = robustok('eval', '--tokenizer', out, '--data', `folder:${await classFolder('three', 3)}`, '--weights', weights);
  assert.equal(tiny.status, 1);
  assert.match(tiny.stderr, /has no 'test' split \(it has: train\); pass --split train to measure on those images/);
});
