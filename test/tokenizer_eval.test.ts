// rFID / pFID evaluation of a tokenizer: streaming equals one-shot, α = 0
// leaves pFID equal to rFID, the seed fixes pFID, the pixel and codebook
// numbers match direct computations, and `robustok eval` prints the issue's
// JSON and writes an offline report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { openDataset, prepareSplit, leadingSamples } from '../src/data/index.js';
import { type FeatureNetwork, classifierNetwork, classifierSchema, saveClassifier, trainClassifier } from '../src/features/index.js';
import { defaultPfidDelta, evaluateTokenizer } from '../src/eval/index.js';
import { FeatureStats, codebookUsage, frechetDistance, psnr } from '../src/metrics/index.js';
import { Tokenizer, modelOptions, saveTokenizer, tokenizerSchema } from '../src/tokenizer/index.js';
import { manualSeed, noGrad, tensor, tidy } from '../src/torch/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const scratch = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-eval-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

// A random-weight tokenizer of the tiny preset and a quickly trained classifier: the numbers are meaningless, the machinery is not.
const tinyConfig = resolveConfig(tokenizerSchema, [loadConfigFile(path.join(root, 'configs', 'tokenizer', 'tiny.yaml'))], []);
manualSeed(0);
const tokenizer = new Tokenizer(modelOptions(tinyConfig)).eval();
const classifierConfig = resolveConfig(classifierSchema, [], ['data.limit=512', 'train.epochs=1', 'model.widths=[8]', 'model.featureSize=16']);
const trained = await trainClassifier(classifierConfig);
const network: FeatureNetwork = classifierNetwork(trained.model, { options: trained.model.options, dataset: 'fashion-mnist', testAccuracy: trained.testAccuracy, epochs: 1 });
const split = leadingSamples(await prepareSplit(await openDataset('fashion-mnist'), 'test', { preprocess: { size: 32, channels: 1 } }), 96);
const images = tensor(Float32Array.from(split.images, (v) => v / 127.5 - 1), { shape: [96, 1, 32, 32] }).keep();

test('rFID from streamed batches equals the one-shot Fréchet distance; PSNR and codebook numbers match direct computations', () => {
  const r = evaluateTokenizer(tokenizer, split, { network, batchSize: 7, curve: [] });
  const expected = noGrad(() => tidy(() => {
    const q = tokenizer.encode(images);
    const recon = tokenizer.decode(q.zq).clamp(-1, 1);
    const [a, b] = [images, recon].map((x) => new FeatureStats(16).update(network.features(x)).result());
    return { fid: frechetDistance(a!.mu, a!.sigma, b!.mu, b!.sigma), psnr: psnr(recon, images), codes: codebookUsage(q.ids, 64) };
  }));
  assert.equal(r.n, 96);
  assert.equal(r.features, 'classifier:fashion-mnist');
  assert.ok(r.biased, 'fewer than 2,048 images');
  assert.ok(Math.abs(r.rfid - expected.fid) <= 1e-6 * Math.max(1, expected.fid), `rFID ${r.rfid} vs one-shot ${expected.fid}`);
  // float32 convolutions over batches of 7 and of 96 round differently (seen: 1e-8 dB with one thread).
  assert.ok(Math.abs(r.psnr - expected.psnr) < 1e-5, `PSNR ${r.psnr} vs ${expected.psnr}`);
  assert.equal(r.usage, expected.codes.usage);
  assert.ok(Math.abs(r.perplexity - expected.codes.perplexity) < 1e-9);
  assert.deepEqual(r.curve, []);
  assert.equal(r.pfid.delta, defaultPfidDelta(64));
  assert.equal(defaultPfidDelta(4096), 100);
  assert.equal(defaultPfidDelta(16), 2);
});

test('pFID: α = 0 equals rFID, a fixed seed fixes it, the curve holds the default level and grows away from α = 0', () => {
  const zero = evaluateTokenizer(tokenizer, split, { network, alpha: 0, curve: [], batchSize: 48 });
  assert.equal(zero.pfid.value, zero.rfid);
  assert.equal(zero.psnrPfidLevel, zero.psnr);
  const a = evaluateTokenizer(tokenizer, split, { network, batchSize: 48, seed: 3, delta: 16 });
  const b = evaluateTokenizer(tokenizer, split, { network, batchSize: 48, seed: 3, delta: 16, curve: [] });
  const c = evaluateTokenizer(tokenizer, split, { network, batchSize: 48, seed: 4, delta: 16, curve: [] });
  assert.deepEqual(a.curve.map((p) => p.alpha), [0.1, 0.25, 0.5, 0.75, 1]);
  assert.equal(a.pfid.value, a.curve.find((p) => p.alpha === 0.5)!.value);
  assert.equal(a.pfid.value, b.pfid.value, 'a level does not depend on which other levels are computed');
  assert.notEqual(a.pfid.value, c.pfid.value, 'another seed draws other perturbations');
  assert.ok(a.pfid.value > a.rfid, `pFID ${a.pfid.value} should exceed rFID ${a.rfid}`);
  assert.ok(a.curve.at(-1)!.value > a.curve[0]!.value, 'α = 1 perturbs more than α = 0.1');
  assert.throws(() => evaluateTokenizer(tokenizer, split, { network, delta: 65 }), /δ must be an integer in \[1, 64\]/);
});

test('robustok eval --json prints the issue\'s object and writes report.html; bad flags are named', () => {
  const dir = scratch();
  const tokDir = path.join(dir, 'tok');
  mkdirSync(tokDir);
  saveTokenizer(tokDir, tokenizer, { size: 32, channels: 1, fit: 'pad', padValue: 0 });
  const clf = path.join(dir, 'clf.safetensors');
  saveClassifier(clf, trained.model, { dataset: 'fashion-mnist', testAccuracy: trained.testAccuracy, epochs: 1 });
  const run = spawnSync(process.execPath, [cli, 'eval', '--tokenizer', tokDir, '--data', 'fashion-mnist', '--weights', clf, '--n', '64', '--json', '--curve', '0.5,1'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as Record<string, unknown> & { pfid: { alpha: number; delta: number; value: number } };
  for (const key of ['features', 'n', 'rfid', 'pfid', 'psnr', 'ssim', 'usage', 'perplexity']) assert.ok(key in out, key);
  assert.equal(out.features, 'classifier:fashion-mnist');
  assert.equal(out.n, 64);
  assert.deepEqual([out.pfid.alpha, out.pfid.delta], [0.5, 2]);
  assert.match(run.stderr, /biased/);
  const html = readFileSync(path.join(tokDir, 'eval', 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /data:image\/png;base64,/);
  assert.match(html, /classifier:fashion-mnist/);
  assert.ok(!/https?:\/\//.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, '')), 'no network references');
  assert.ok(existsSync(path.join(tokDir, 'eval', 'result.json')));

  const bad = spawnSync(process.execPath, [cli, 'eval', '--tokenizer', tokDir, '--data', 'fashion-mnist', '--pfid-alpha', '1.5'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--pfid-alpha must be a number in \[0, 1\], got '1.5'/);
  const missing = spawnSync(process.execPath, [cli, 'eval', '--tokenizer', path.join(dir, 'nope'), '--data', 'fashion-mnist'], { encoding: 'utf8' });
  assert.match(missing.stderr, /nope does not exist/);
});

test.after(() => {
  images.dispose();
  network.dispose();
  tokenizer.dispose();
});
