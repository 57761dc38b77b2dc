// The tokenizer's pluggable perceptual term (src/tokenizer/perceptual.ts):
// off by default and in the presets, config errors that name the key, LPIPS
// from small random weight files inside tokenizer training (logged, finite,
// added with its weight, and actually trained through), and the feature-
// network distance with an injected network.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFile, resolveConfig } from '../src/config/index.js';
import type { FeatureNetwork } from '../src/features/network.js';
import { Lpips } from '../src/features/lpips.js';
import { F, RandomStream, type Tensor, liveTensors, manualSeed, noGrad, randn, saveSafetensors, savePt, tidy } from '../src/torch/index.js';
import { TokenizerTrainer, type TokenizerConfig, checkTokenizerConfig, tokenizerSchema } from '../src/tokenizer/index.js';
import { PerceptualLoss, featureDistance } from '../src/tokenizer/perceptual.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const preset = (name: string) => loadConfigFile(path.join(root, 'configs', 'tokenizer', `${name}.yaml`));
const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-perceptual-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tiny = (...sets: string[]): TokenizerConfig => resolveConfig(tokenizerSchema, [preset('tiny')], ['train.batchSize=4', ...sets]);
const batch = (i: number): Tensor => tidy(() => randn([4, 1, 32, 32], { stream: new RandomStream(100 + i) }).tanh());

/** Small random LPIPS weights in the two file layouts users bring: a torchvision-style .pth and heads as .safetensors. */
const weights = (() => {
  manualSeed(7);
  const lpips = new Lpips([4, 8, 8, 8, 8]);
  const vgg = path.join(dir, 'vgg.pth');
  const lin = path.join(dir, 'lin.safetensors');
  savePt(vgg, lpips.net.stateDict());
  tidy(() => saveSafetensors(lin, Object.fromEntries(lpips.heads.map((h, k) => [`lin${k}.model.1.weight`, randn(h.model.conv.weight.shape).abs().mul(0.1)]))));
  lpips.dispose();
  return { vgg, lin };
})();
const lpipsSets = (weight: number) => ['loss.perceptual.kind=lpips', `loss.perceptual.weight=${weight}`, `loss.perceptual.vgg=${weights.vgg}`, `loss.perceptual.lin=${weights.lin}`];

/** Trains `steps` steps from seed 0 and returns the metrics and the final weights. */
function train(config: TokenizerConfig, steps: number, featureNetwork?: FeatureNetwork) {
  manualSeed(0);
  const trainer = new TokenizerTrainer(config, { featureNetwork });
  try {
    const metrics = Array.from({ length: steps }, (_, i) => {
      const x = batch(i);
      const m = trainer.step(x);
      x.dispose();
      return m;
    });
    const params = tidy(() => trainer.model.parameters().map((p) => Array.from(p.toTypedArray() as Float32Array)));
    const lpips = trainer.perceptual?.lpips;
    const frozen = lpips ? lpips.parameters().every((p) => !p.requiresGrad && p.grad === null) : null;
    return { metrics, params, frozen };
  } finally {
    trainer.dispose();
  }
}

test('perceptual stays off by default and in the tiny and small presets', () => {
  assert.equal(resolveConfig(tokenizerSchema).loss.perceptual.kind, 'none');
  assert.equal(resolveConfig(tokenizerSchema).loss.perceptual.weight, 1);
  for (const name of ['tiny', 'small']) assert.equal(resolveConfig(tokenizerSchema, [preset(name)]).loss.perceptual.kind, 'none');
  const { metrics } = train(tiny(), 1);
  assert.equal(metrics[0]!.perceptual, undefined);
});

test('kind=lpips without weight paths, or kind=features without a network, is rejected naming the key', () => {
  const lpips = tiny('loss.perceptual.kind=lpips');
  assert.throws(() => checkTokenizerConfig(lpips), (e: unknown) => e instanceof ConfigError &&
    e.issues.length === 2 && /^loss\.perceptual\.vgg: required when loss\.perceptual\.kind is lpips/.test(e.issues[0]!) &&
    /^loss\.perceptual\.lin: required/.test(e.issues[1]!));
  assert.throws(() => new TokenizerTrainer(lpips), /loss\.perceptual\.vgg: required/, 'the trainer checks too');
  const features = tiny('loss.perceptual.kind=features');
  assert.throws(() => checkTokenizerConfig(features), /loss\.perceptual\.network: required when loss\.perceptual\.kind is features/);
  assert.doesNotThrow(() => checkTokenizerConfig(tiny(...lpipsSets(1))));
  assert.throws(() => new TokenizerTrainer(tiny('loss.perceptual.kind=lpips', 'loss.perceptual.vgg=/nowhere/vgg.pth', `loss.perceptual.lin=${weights.lin}`)),
    /loss\.perceptual: LPIPS VGG16 weights file \/nowhere\/vgg\.pth does not exist/);
});

test('kind=lpips trains: the term is logged, finite, added with its weight, and reaches the weights (LPIPS frozen)', () => {
  const live = liveTensors();
  const on = train(tiny(...lpipsSets(2)), 3);
  for (const m of on.metrics) {
    assert.ok(Number.isFinite(m.perceptual) && m.perceptual! > 0, `perceptual ${m.perceptual}`);
    const expected = m.reconstruction + 2 * m.perceptual! + m.codebook + 0.25 * m.commitment;
    assert.ok(Math.abs(m.loss - expected) <= 1e-5 * expected, `loss ${m.loss} vs parts ${expected}`);
  }
  assert.equal(on.frozen, true, 'LPIPS weights neither require nor receive gradients');
  // Weight 0 computes the term but adds nothing: bit for bit the run without it
  // (loading LPIPS leaves the seeded random stream alone). Weight 2 must then
  // train a different tokenizer, or no gradient flowed through LPIPS. (Three
  // steps: the first has lr 0 in warm-up, and Adam's next is sign-like.)
  const zero = train(tiny(...lpipsSets(0)), 3);
  const none = train(tiny(), 3);
  assert.deepEqual(zero.params, none.params);
  assert.notDeepEqual(on.params, none.params);
  assert.equal(liveTensors(), live);
});

test('kind=lpips with the GAN on: the adaptive weight balances pixel + perceptual, all finite', () => {
  const { metrics } = train(tiny(...lpipsSets(1), 'loss.gan.enabled=true', 'loss.gan.start=0'), 2);
  for (const m of metrics) {
    assert.ok([m.loss, m.perceptual!, m.gan!.adaptiveWeight, m.gan!.adversarial].every(Number.isFinite), JSON.stringify(m));
  }
});

/** A stand-in feature network: 4×4 average-pooled pixels as features (differentiable, no weights). */
function poolNetwork(name = 'pool4', detach = false): FeatureNetwork {
  const features = (x: Tensor) => {
    const f = F.adaptiveAvgPool2d(x, 4).flatten(1);
    return detach ? f.detach() : f;
  };
  return { name, inputSize: 32, featureSize: 16, numClasses: 0, device: 'cpu', features, logits: () => { throw new Error('no classes'); }, dispose: () => {} };
}

test('kind=features: unit-feature distance matches its definition, trains through the injected network, and names what is missing', () => {
  tidy(() => {
    const a = batch(0);
    const b = batch(1);
    const d = featureDistance(poolNetwork(), a, b).toTypedArray() as Float32Array;
    const fa = noGrad(() => F.adaptiveAvgPool2d(a, 4).flatten(1)).toTypedArray() as Float32Array;
    const fb = noGrad(() => F.adaptiveAvgPool2d(b, 4).flatten(1)).toTypedArray() as Float32Array;
    for (let i = 0; i < 4; i++) {
      const u = Array.from(fa.subarray(16 * i, 16 * i + 16));
      const v = Array.from(fb.subarray(16 * i, 16 * i + 16));
      const norm = (w: number[]) => Math.hypot(...w);
      const cos = u.reduce((s, x, j) => s + x * v[j]!, 0) / (norm(u) * norm(v));
      assert.ok(Math.abs(d[i]! - (2 - 2 * cos)) < 1e-5, `image ${i}: ${d[i]} vs 2 − 2cos = ${2 - 2 * cos}`);
    }
    const loss = PerceptualLoss.fromNetwork(poolNetwork());
    assert.ok(Math.abs(loss.forward(a, b).item() - d.reduce((s, x) => s + x, 0) / 4) < 1e-6, 'the term is the batch mean');
    const x = a.clone().requiresGrad_(true);
    assert.throws(() => featureDistance(poolNetwork('frozen', true), x, b), /feature network 'frozen' returned features without a gradient/);
  });
  const sets = ['loss.perceptual.kind=features', 'loss.perceptual.network=pool4'];
  const { metrics } = train(tiny(...sets), 2, poolNetwork());
  assert.ok(metrics.every((m) => Number.isFinite(m.perceptual) && m.perceptual! > 0));
  assert.throws(() => new TokenizerTrainer(tiny(...sets)), /no feature network was given to the trainer \(pass it as TokenizerTrainer options\.featureNetwork\)/);
  assert.throws(() => new TokenizerTrainer(tiny(...sets), { featureNetwork: poolNetwork('other') }), /network is 'pool4', but the trainer was given feature network 'other'/);
});
