// train.precision (src/train/precision.ts) and the fp16 loss scale
// (src/optim/grad_scaler.ts): autocast casts the forward ops libtorch lists
// and restores the previous state; the scaler divides gradients back, skips
// a step whose gradients overflowed and halves its scale, grows after a run
// of good steps, and survives a checkpoint; bf16 trains all three trainers'
// steps on the CPU close to fp32; fp16 is refused on the CPU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { GeneratorTrainer, generatorSchema } from '../src/generator/index.js';
import { GradScaler } from '../src/optim/index.js';
import { TokenizerTrainer, tokenizerSchema } from '../src/tokenizer/index.js';
import { F, RandomStream, type Tensor, autocast, manualSeed, randint, randn, tensor, tidy } from '../src/torch/index.js';
import { MixedPrecision, Optimisation } from '../src/train/index.js';
import { presets } from './helpers/runs.js';

test('autocast: matrix products and convolutions in bfloat16 inside, float32 outside and after a throw; fp16 refused on the CPU', () => tidy(() => {
  const a = randn([4, 8]);
  const b = randn([8, 3]);
  assert.equal(autocast('cpu', 'bfloat16', () => a.matmul(b).dtype), 'bfloat16');
  assert.equal(autocast('cpu', 'bfloat16', () => F.conv2d(randn([1, 2, 5, 5]), randn([3, 2, 3, 3])).dtype), 'bfloat16');
  assert.throws(() => autocast('cpu', 'bfloat16', () => { throw new Error('inside'); }), /inside/);
  assert.equal(a.matmul(b).dtype, 'float32', 'the state is restored');
  assert.throws(() => autocast('cpu', 'float16', () => 0), /on the CPU libtorch casts to bfloat16 only/);
  assert.throws(() => new MixedPrecision('fp16', 'cpu'), /fp16 needs a GPU .*use bf16 on the CPU/);
  assert.equal(new MixedPrecision('fp32', 'cpu').forward(() => a.matmul(b).dtype), 'float32');
}));

test('GradScaler: unscaled gradients, overflow found and backed off, growth after the interval, state round trip, bad options', () => tidy(() => {
  const scaler = new GradScaler({ initScale: 8, growthInterval: 2 });
  const w = tensor([1, 2, 3]).requiresGrad_(true);
  scaler.scaled(w.mul(w).sum()).backward();
  assert.ok(scaler.unscale([w]));
  assert.deepEqual(Array.from(w.grad!.toTypedArray() as Float32Array), [2, 4, 6], 'the gradient of the loss itself');
  scaler.update(true);
  scaler.update(true);
  assert.equal(scaler.scale, 16, 'grew after 2 good steps');
  w.grad!.fill_(Number.POSITIVE_INFINITY);
  assert.equal(scaler.unscale([w]), false);
  scaler.update(false);
  assert.equal(scaler.scale, 8, 'halved on an overflow');
  const copy = new GradScaler();
  copy.loadStateDict(scaler.stateDict());
  assert.deepEqual(copy.stateDict(), scaler.stateDict());
  assert.throws(() => copy.loadStateDict({ tensors: {}, meta: { kind: 'GradScaler', scale: -1, goodSteps: 0 } }), /meta.scale must be a number > 0/);
  assert.throws(() => new GradScaler({ backoffFactor: 2 }), /0 < backoffFactor < 1/);
}));

test('Optimisation with a loss scale: a finite step equals the unscaled one; an overflowing step is skipped, the schedule moving on', () => tidy(() => {
  const settings = { lr: 0.1, lrMin: 0.01, warmupFraction: 0, weightDecay: 0, clipNorm: 1, emaDecay: 0.9 };
  const run = (scaled: boolean, poison: boolean): { w: number[]; lr: number; skipped: boolean } => {
    const w = tensor([0.5, -1, 2]).requiresGrad_(true);
    // A MixedPrecision's scaler alone is what Optimisation reads; fp16 itself needs a GPU.
    const precision = scaled ? ({ scaler: new GradScaler({ initScale: 1024 }) } as unknown as MixedPrecision) : undefined;
    const o = new Optimisation(settings, { params: [w], averaged: [['w', w]], clipped: [w], betas: [0.9, 0.95], steps: 4, precision });
    const loss = poison ? w.mul(Number.POSITIVE_INFINITY).sum() : w.mul(w).sum();
    const r = o.update(loss);
    const out = { w: Array.from(w.toTypedArray() as Float32Array), lr: o.optimizer.paramGroups[0]!.lr, skipped: r.skipped === true };
    o.dispose();
    return out;
  };
  const plain = run(false, false);
  const scaled = run(true, false);
  assert.equal(scaled.skipped, false);
  scaled.w.forEach((v, i) => assert.ok(Math.abs(v - plain.w[i]!) < 1e-6, `weight ${i}: ${v} vs ${plain.w[i]}`));
  const overflow = run(true, true);
  assert.ok(overflow.skipped, 'skipped');
  assert.deepEqual(overflow.w, [0.5, -1, 2], 'no update');
  assert.equal(overflow.lr, plain.lr, 'the schedule moved on as after a step');
}));

/** Loss of the first steps of a trainer at each precision, from the same seed. */
function losses(step: (precision: string) => number[]): { fp32: number[]; bf16: number[] } {
  return { fp32: step('fp32'), bf16: step('bf16') };
}

test('train.precision bf16 on the CPU: tokenizer (GAN on) and generator steps train close to fp32; weights stay float32', () => {
  const tokenizer = losses((precision) => {
    manualSeed(0);
    const config = resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)],
      ['train.steps=3', 'train.batchSize=4', 'loss.gan.enabled=true', 'loss.gan.start=0', `train.precision=${precision}`]);
    const trainer = new TokenizerTrainer(config);
    const images = tidy(() => randn([4, 1, 32, 32], { stream: new RandomStream(3) }).tanh());
    const out = [0, 1, 2].map(() => trainer.step(images).loss);
    assert.ok(trainer.model.parameters().every((p) => p.dtype === 'float32'));
    images.dispose();
    trainer.dispose();
    return out;
  });
  const generator = losses((precision) => {
    manualSeed(0);
    const config = resolveConfig(generatorSchema, [loadConfigFile(presets.generator)], ['train.steps=3', 'train.batchSize=4', `train.precision=${precision}`]);
    const ids: Tensor = randint(0, 16, [16, 1, 4], { dtype: 'int16', stream: new RandomStream(5) }).keep();
    const labels: Tensor = randint(0, 3, [16], { stream: new RandomStream(6) }).keep();
    const tokens = { ids, labels, grid: [2, 2] as [number, number], vocabSize: 16, fingerprint: 'random', dispose: () => { ids.dispose(); labels.dispose(); } };
    const trainer = new GeneratorTrainer(config, tokens, 3);
    const out = [0, 1, 2].map(() => trainer.step().loss);
    trainer.dispose();
    tokens.dispose();
    return out;
  });
  for (const [name, l] of Object.entries({ tokenizer, generator })) {
    assert.notDeepEqual(l.bf16, l.fp32, `${name}: bf16 changed the numbers (autocast was on)`);
    l.bf16.forEach((v, i) => assert.ok(Math.abs(v - l.fp32[i]!) <= 0.05 * Math.abs(l.fp32[i]!), `${name} step ${i + 1}: bf16 ${v} vs fp32 ${l.fp32[i]}`));
  }
});
