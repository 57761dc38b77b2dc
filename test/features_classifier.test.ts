// The dataset classifier behind `classifier:DATASET` features: it learns,
// its file round-trips exactly, the registry finds it (a cached one, else the
// one robustok ships) or says how to make one.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../src/config/index.js';
import {
  MissingClassifierError, classifierFileFor, classifierNetwork, classifierSchema, classifierToRead, loadClassifier, loadFeatureNetwork, saveClassifier,
  shippedClassifierFile, toNetworkInput, trainClassifier,
} from '../src/features/index.js';
import { RandomStream, manualSeed, noGrad, randn, tidy } from '../src/torch/index.js';

const scratch = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-classifier-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

// 2,000 training images, 2 epochs, a narrow net: seconds, and far above chance (10%).
const quick = resolveConfig(classifierSchema, [], ['data.limit=2000', 'train.epochs=2', 'train.batchSize=64', 'model.widths=[8,16]', 'model.featureSize=32']);

test('a quick classifier learns Fashion-MNIST, and its file gives back the same features', async () => {
  const { model, testAccuracy } = await trainClassifier(quick);
  assert.ok(testAccuracy > 0.6, `test accuracy ${testAccuracy} on the first 2,000 test images`);
  const file = path.join(scratch(), 'fm.safetensors');
  saveClassifier(file, model, { dataset: 'fashion-mnist', testAccuracy, epochs: 2 });
  const loaded = loadClassifier(file);
  assert.equal(loaded.record.testAccuracy, testAccuracy);
  assert.deepEqual(loaded.record.options, model.options);
  const a = classifierNetwork(model, loaded.record);
  const b = await loadFeatureNetwork('classifier:fashion-mnist', { weights: file });
  tidy(() => {
    const images = randn([3, 1, 28, 28], { stream: new RandomStream(1) }).tanh();
    const fa = noGrad(() => a.features(images));
    assert.deepEqual(fa.shape, [3, 32]);
    assert.equal(fa.sub(b.features(images)).abs().max().item(), 0);
    assert.deepEqual(b.logits(images).shape, [3, 10]);
    assert.equal(b.name, 'classifier:fashion-mnist');
  });
  a.dispose();
  b.dispose();
  loaded.model.dispose();
});

test('features let gradients reach the input (a perceptual loss) while the weights stay frozen', async () => {
  manualSeed(0);
  const { model } = await trainClassifier(resolveConfig(classifierSchema, [], ['data.limit=256', 'train.epochs=1', 'model.widths=[4]', 'model.featureSize=8']));
  const network = classifierNetwork(model, { options: model.options, dataset: 'fashion-mnist', testAccuracy: 0, epochs: 1 });
  tidy(() => {
    const x = randn([2, 1, 32, 32]).requiresGrad_(true);
    network.features(x).square().sum().backward();
    assert.ok(x.grad!.abs().sum().item() > 0);
    assert.ok(model.parameters().every((p) => !p.requiresGrad));
  });
  network.dispose();
});

test('the registry: a missing classifier says how to train one; wrong files and names are named', async () => {
  const dir = scratch();
  await assert.rejects(loadFeatureNetwork('classifier:mnist', { cacheDir: dir }), (e: unknown) =>
    e instanceof MissingClassifierError && /robustok train-classifier --data mnist/.test(e.message) && e.file.startsWith(dir));
  const bogus = path.join(dir, 'bogus.safetensors');
  writeFileSync(bogus, 'not a safetensors file');
  await assert.rejects(loadFeatureNetwork('classifier:mnist', { weights: bogus }), /bogus\.safetensors/);
  await assert.rejects(loadFeatureNetwork('inception-v9'), /unknown feature network 'inception-v9'; known: inception-fid/);
  await assert.rejects(loadFeatureNetwork('classifier:'), /needs a dataset name/);
});

test('network input: grey ↔ RGB, resizing and range mapping', () => {
  tidy(() => {
    const grey = randn([2, 1, 8, 8]).tanh();
    const rgb = toNetworkInput(grey, { size: 16, channels: 3, range: [0, 1] });
    assert.deepEqual(rgb.shape, [2, 3, 16, 16]);
    assert.ok(rgb.min().item() >= 0 && rgb.max().item() <= 1);
    assert.equal(rgb.select(1, 0).sub(rgb.select(1, 2)).abs().max().item(), 0);
    const back = toNetworkInput(randn([1, 3, 8, 8]), { size: 8, channels: 1 });
    assert.deepEqual(back.shape, [1, 1, 8, 8]);
    assert.throws(() => toNetworkInput(randn([2, 2, 8, 8]), { size: 8, channels: 3 }), /\[B, 1 or 3, H, W\], got \[2,2,8,8\]/);
  });
});

test('the shipped Fashion-MNIST classifier: read when the cache has none, what train-classifier\'s defaults build, above 92.5% test accuracy; a cached one comes first', async () => {
  const dir = scratch();
  const file = classifierToRead('fashion-mnist', { cacheDir: dir });
  assert.equal(file, shippedClassifierFile('fashion-mnist'));
  const { model, record } = loadClassifier(file);
  const defaults = resolveConfig(classifierSchema, [{ data: { name: 'fashion-mnist' } }], []);
  assert.equal(record.dataset, 'fashion-mnist');
  assert.ok(record.testAccuracy >= 0.925, `test accuracy ${record.testAccuracy}`);
  assert.equal(record.epochs, defaults.train.epochs);
  assert.deepEqual(record.options, {
    channels: defaults.data.channels, size: defaults.data.size, numClasses: 10, widths: defaults.model.widths, featureSize: defaults.model.featureSize,
  });
  model.dispose();
  const network = await loadFeatureNetwork('classifier:fashion-mnist', { cacheDir: dir });
  assert.equal(network.name, 'classifier:fashion-mnist');
  network.dispose();
  // One trained here (train-classifier, or eval on first use) takes precedence.
  const own = classifierFileFor('fashion-mnist', { cacheDir: dir });
  mkdirSync(path.dirname(own), { recursive: true });
  writeFileSync(own, 'x');
  assert.equal(classifierToRead('fashion-mnist', { cacheDir: dir }), own);
  assert.equal(classifierToRead('mnist', { cacheDir: dir }), classifierFileFor('mnist', { cacheDir: dir }), 'no shipped classifier: the cache\'s place');
});
