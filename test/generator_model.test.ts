// The autoregressive generator (src/generator/model.ts, sample.ts,
// trainer.ts) against its PyTorch twin (test/generator_ref.py) and against
// itself:
//  - teacher-forced logits and the cross-entropy gradient of every parameter
//    equal the twin's on the same weights (robustok's state dict, saved with
//    savePt, loaded strictly by the twin), with learned positions and an
//    untied head, and with 2-D RoPE, QK-norm and a tied head; greedy guided
//    samples from the twin's KV-cached sampler equal sampleTokens';
//  - the KV cache: feeding positions one at a time (or in uneven chunks)
//    gives the full forward's logits at every position;
//  - classifier-free guidance as one doubled batch equals running the
//    conditional and unconditional batches separately;
//  - seeded draws repeat, other seeds differ, kvCache:false draws the same;
//  - class dropout in GeneratorTrainer hits config model.classDropout;
//  - the parameter count, by a formula checked on small models, of the
//    reference scale (RAR-B's width and depth at K = 4096, 16×16, 1000 classes).
// Weights are redrawn at unit-ish scale first: with the GPT-2 init (std
// 0.02) attention is nearly uniform and logits nearly equal, which would
// hide mistakes in masking, positions and guidance.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import {
  ArGenerator, type GeneratorOptions, GeneratorTrainer, type SampleOptions, type TokenSet,
  cfgScale, generatorOptions, generatorSchema, guideLogits, sampleTokens,
} from '../src/generator/index.js';
import { F, RandomStream, type Tensor, cat, fullLike, liveTensors, loadPt, manualSeed, noGrad, randint, randn, savePt, tensor, tidy } from '../src/torch/index.js';

const twinScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'generator_ref.py');

/** Small but with every part exercised: 2 blocks, 2 heads, a non-square 3×4 grid (so rows and columns differ). */
const learned: GeneratorOptions = {
  vocabSize: 24, numClasses: 5, grid: [3, 4], width: 32, depth: 2, heads: 2, mlpRatio: 2,
  dropout: 0, qkNorm: false, tieWeights: false, positions: 'learned', ropeBase: 10000,
};
/** Head width 16: 8 pairs, 4 turning with the row and 4 with the column. */
const rope: GeneratorOptions = { ...learned, positions: 'rope2d', qkNorm: true, tieWeights: true };
const configs: [string, GeneratorOptions][] = [['learned positions, untied head', learned], ['2-D RoPE, QK-norm, tied head', rope]];

/**
 * Redraws every parameter from a seeded stream at a scale where each part
 * matters: matrices N(0, 1/fan_in), embeddings and positions N(0, 0.5²),
 * norm gains 1 + N(0, 0.1²), biases N(0, 0.1²).
 */
function randomize(model: ArGenerator, seed: number): void {
  const g = new RandomStream(seed);
  noGrad(() => tidy(() => {
    for (const [name, p] of model.namedParameters()) {
      const r = randn(p.shape, { stream: g });
      if (name.endsWith('bias')) p.copy_(r.mul(0.1));
      else if (name.includes('norm')) p.copy_(r.mul(0.1).add(1));
      else if (name.includes('emb')) p.copy_(r.mul(0.5));
      else p.copy_(r.div(Math.sqrt(p.size(-1))));
    }
  }));
}

/** A model with randomized weights, in eval mode (no dropout). */
function makeModel(o: GeneratorOptions, seed: number): ArGenerator {
  const model = new ArGenerator(o);
  randomize(model, seed);
  return model.eval();
}

/** Labels `[B]` cycling through the classes and ending with the null class. */
const someLabels = (model: ArGenerator, B: number): Tensor =>
  tensor(Array.from({ length: B }, (_, i) => (i === B - 1 ? model.nullClass : i % model.options.numClasses)), { dtype: 'int64' });

const flat = (t: Tensor): Float64Array => tidy(() => t.detach().to('float64').toTypedArray() as Float64Array);

interface Difference {
  /** max |a − b| */
  abs: number;
  /** max |a − b| / max |b|: the error relative to the tensor's scale. */
  rel: number;
}

function difference(ours: Tensor, theirs: Tensor, label: string): Difference {
  assert.deepEqual(ours.shape, theirs.shape, `${label}: shape`);
  const a = flat(ours);
  const b = flat(theirs);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { abs, rel: scale === 0 ? abs : abs / scale };
}

/** What the twin answers (see generator_ref.py's `parity`). */
interface TwinAnswer {
  logits: Tensor;
  loss: number;
  grads: Record<string, Tensor>;
  sampled: Tensor;
}

/** Runs generator_ref.py on the model's state dict and the batch; call inside tidy (the answer's tensors are scoped). */
function askTwin(model: ArGenerator, ids: Tensor, labels: Tensor, sample: { labels: Tensor; cfg: number; schedule: string; power: number }): TwinAnswer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-generator-'));
  try {
    const [input, output] = [path.join(dir, 'in.pt'), path.join(dir, 'out.pt')];
    savePt(input, { options: JSON.stringify(model.options), state: model.stateDict(), ids, labels, sample });
    const run = spawnSync('/usr/bin/python3', [twinScript, input, output], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (run.status !== 0) throw new Error(`generator_ref.py failed (is python3-torch installed?):\n${run.stderr}`);
    return loadPt(output) as unknown as TwinAnswer;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const RTOL = 1e-4;

for (const [name, options] of configs) {
  test(`${name}: logits, loss, every parameter's gradient and greedy guided samples equal the PyTorch twin's`, (t) => {
    const live = liveTensors();
    manualSeed(3);
    const model = makeModel(options, 5);
    tidy(() => {
      const B = 4;
      const N = model.length;
      const ids = randint(0, options.vocabSize, [B, N]);
      const labels = someLabels(model, B);
      const logits = model.forward(ids, labels);  // [B, N, K]
      const loss = F.crossEntropy(logits.reshape(B * N, -1), ids.reshape(B * N));
      loss.backward();
      const sample = { labels: someLabels(model, 6), cfg: 2.5, schedule: 'cosine', power: 1.15 };
      const theirs = askTwin(model, ids, labels, sample);

      const worst = { name: '', rel: 0, abs: 0 };
      const check = (label: string, ours: Tensor, twin: Tensor) => {
        const d = difference(ours, twin, label);
        if (d.rel >= worst.rel) Object.assign(worst, { name: label, ...d });
        assert.ok(d.rel <= RTOL, `${label}: max |robustok − PyTorch| = ${d.abs.toExponential(2)}, ${d.rel.toExponential(2)} of the tensor's scale (limit ${RTOL})`);
      };
      check('logits', logits, theirs.logits);
      assert.ok(Math.abs(loss.item() - theirs.loss) <= RTOL * Math.abs(theirs.loss), `loss ${loss.item()} vs PyTorch ${theirs.loss}`);
      const named = model.namedParameters();
      assert.deepEqual(named.map(([n]) => n).sort(), Object.keys(theirs.grads).sort(), 'the same parameters');
      for (const [n, p] of named) {
        assert.ok(p.grad, `${n} has a gradient`);
        check(`grad ${n}`, p.grad, theirs.grads[n]!);
      }
      if (options.tieWeights) assert.ok(!named.some(([n]) => n.startsWith('head')), 'a tied head has no weights of its own');
      if (options.positions === 'rope2d') assert.ok(!named.some(([n]) => n === 'pos_emb'), 'RoPE has no position table');
      t.diagnostic(`largest difference: ${worst.name}, ${worst.abs.toExponential(2)} (${worst.rel.toExponential(2)} of its scale); `
        + `logits ${difference(logits, theirs.logits, 'logits').abs.toExponential(2)}`);

      // The twin's KV-cached greedy sampler (what the benchmark times) draws what robustok's does.
      const ours = sampleTokens(model, sample.labels, { cfg: sample.cfg, schedule: 'cosine', power: sample.power, temperature: 0 });
      assert.deepEqual(ours.tolist(), theirs.sampled.tolist(), 'greedy guided samples');
    });
    model.dispose();
    assert.equal(liveTensors(), live, 'nothing leaks');
  });
}

test('KV cache: positions fed one at a time, or in uneven chunks, give the full forward\'s logits at every position', (t) => {
  const live = liveTensors();
  for (const [name, options] of configs) {
    manualSeed(4);
    const model = makeModel(options, 6);
    noGrad(() => tidy(() => {
      const B = 3;
      const N = model.length;
      const ids = randint(0, options.vocabSize, [B, N]);
      const labels = someLabels(model, B);
      const full = model.forward(ids, labels);  // [B, N, K]
      // The inputs forward builds: the class at position 0, token p − 1 at position p.
      const inputs = cat([model.embedClass(labels), model.embedTokens(ids.narrow(1, 0, N - 1))], 1);  // [B, N, D]
      let worst = 0;
      for (const sizes of [Array<number>(N).fill(1), [1, 3, 2, 1, 5]]) {
        assert.equal(sizes.reduce((a, b) => a + b), N);
        const caches = model.newCaches();
        let start = 0;
        for (const L of sizes) {
          const logits = model.run(inputs.narrow(1, start, L), start, caches);  // [B, L, K]
          const d = difference(logits, full.narrow(1, start, L), `${name}, positions ${start}…${start + L - 1}`);
          worst = Math.max(worst, d.abs);
          assert.ok(d.abs <= 1e-5, `${name}: positions ${start}…${start + L - 1} differ by ${d.abs.toExponential(2)}`);
          start += L;
        }
        assert.equal(caches[0]!.length, N, 'the cache holds every position');
        for (const c of caches) c.dispose();
      }
      t.diagnostic(`${name}: max |cached − full| = ${worst.toExponential(2)}`);
    }));
    model.dispose();
  }
  assert.equal(liveTensors(), live, 'nothing leaks');
});

/**
 * Guided greedy sampling written out: the conditional rows and the
 * null-class rows each through their own KV caches, combined with
 * guideLogits at cfgScale(t), argmax, the same token fed to both.
 */
function guidedBySeparateBatches(model: ArGenerator, labels: Tensor, o: { cfg: number; schedule: 'constant' | 'linear' | 'cosine'; power: number }): Tensor {
  const N = model.length;
  const [condCaches, uncondCaches] = [model.newCaches(), model.newCaches()];
  let cond = model.embedClass(labels);  // [B, 1, D]
  let uncond = model.embedClass(fullLike(labels, model.nullClass));
  const tokens: Tensor[] = [];
  for (let t = 0; t < N; t++) {
    const c = model.run(cond, t, condCaches).select(1, 0);  // [B, K]
    const u = model.run(uncond, t, uncondCaches).select(1, 0);
    const token = guideLogits(c, u, cfgScale(t, N, { scale: o.cfg, schedule: o.schedule, power: o.power })).argmax(-1);  // [B]
    tokens.push(token);
    cond = uncond = model.embedTokens(token.unsqueeze(1));
  }
  for (const cache of [...condCaches, ...uncondCaches]) cache.dispose();
  return cat(tokens.map((x) => x.unsqueeze(1)), 1);
}

test('guidance as one doubled batch (cfg ≠ 1) equals the conditional and unconditional batches run separately', () => {
  const live = liveTensors();
  for (const [name, options] of configs) {
    const model = makeModel(options, 7);
    noGrad(() => tidy(() => {
      const labels = tensor([0, 1, 2, 3, 4, 0, 2], { dtype: 'int64' });
      for (const o of [{ cfg: 3, schedule: 'linear' as const, power: 1 }, { cfg: 0.5, schedule: 'constant' as const, power: 1 }]) {
        const doubled = sampleTokens(model, labels, { ...o, temperature: 0 });
        assert.deepEqual(doubled.shape, [7, model.length]);
        assert.deepEqual(doubled.tolist(), guidedBySeparateBatches(model, labels, o).tolist(), `${name}, cfg ${o.cfg} ${o.schedule}`);
        const unguided = sampleTokens(model, labels, { cfg: 1, schedule: 'constant', power: 1, temperature: 0 });
        assert.ok(!doubled.eq(unguided).all().item(), `${name}: guidance ${o.cfg} changes some tokens`);
      }
    }));
    assert.equal(model.training, false, 'sampling restores the mode');
    model.dispose();
  }
  assert.equal(liveTensors(), live, 'nothing leaks');
});

test('sampling: the same seed draws the same tokens, another seed others; kvCache:false draws what the cache does', () => {
  const live = liveTensors();
  for (const [name, options] of configs) {
    const model = makeModel(options, 8);
    model.train();  // sampling must switch to eval itself (no dropout here anyway) and switch back
    noGrad(() => tidy(() => {
      const labels = someLabels(model, 8);
      const draw = (seed: number, more: Partial<SampleOptions> = {}) =>
        sampleTokens(model, labels, { cfg: 2, schedule: 'constant', power: 1, temperature: 1, stream: new RandomStream(seed), ...more });
      const a = draw(11);
      assert.deepEqual(a.tolist(), draw(11).tolist(), `${name}: same seed`);
      assert.ok(!a.eq(draw(12)).all().item(), `${name}: another seed`);
      assert.deepEqual(draw(11, { kvCache: false }).tolist(), a.tolist(), `${name}: kvCache:false, same seed`);
      assert.ok(a.min().item() >= 0 && a.max().item() < options.vocabSize, 'token ids in the vocabulary');
    }));
    assert.equal(model.training, true, 'sampling restores the mode');
    model.dispose();
  }
  assert.equal(liveTensors(), live, 'nothing leaks');
});

/** A TokenSet of random ids `[M, 1, N]` (int16, as tokenizeSplit stores them) and labels `[M]`. */
function fakeTokens(M: number, grid: [number, number], vocabSize: number, numClasses: number): TokenSet {
  const ids = randint(0, vocabSize, [M, 1, grid[0] * grid[1]], { dtype: 'int16' }).keep();
  const labels = randint(0, numClasses, [M]).keep();
  return { ids, labels, grid, vocabSize, fingerprint: 'random tokens', dispose: () => { ids.dispose(); labels.dispose(); } };
}

test('class dropout: GeneratorTrainer replaces labels by the null class at the configured rate, and keeps the others', (t) => {
  const live = liveTensors();
  const numClasses = 10;
  for (const rate of [undefined, 0.3]) {
    const config = resolveConfig(generatorSchema, [], [
      'model.width=16', 'model.depth=1', 'model.heads=2', 'model.mlpRatio=1', 'train.batchSize=64', 'train.steps=40',
      ...(rate === undefined ? [] : [`model.classDropout=${rate}`]),
    ]);
    const p = config.model.classDropout;
    manualSeed(9);
    const tokens = fakeTokens(256, [2, 2], 16, numClasses);
    const trainer = new GeneratorTrainer(config, tokens, numClasses);
    // Watch the labels the trainer conditions on: its forward's second argument.
    const seen: number[] = [];
    const forward = trainer.model.forward.bind(trainer.model);
    trainer.model.forward = (ids: Tensor, labels: Tensor) => {
      seen.push(...flat(labels));
      return forward(ids, labels);
    };
    let kept = 0;
    for (let step = 0; step < config.train.steps; step++) {
      const given = tidy(() => Array.from(flat(tokens.labels.indexSelect(0, trainer.batchRows(trainer.stepCount).rows))));
      const from = seen.length;
      trainer.step();
      const used = seen.slice(from);
      assert.equal(used.length, given.length);
      used.forEach((label, i) => {
        if (label === numClasses) return;
        assert.equal(label, given[i], 'a label that is not dropped is the batch row\'s own');
        kept += 1;
      });
    }
    const total = seen.length;
    const dropped = total - kept;
    const se = Math.sqrt((p * (1 - p)) / total);
    t.diagnostic(`classDropout ${p}: ${dropped} of ${total} labels null (${(dropped / total).toFixed(4)}, ${(Math.abs(dropped / total - p) / se).toFixed(2)} standard errors off)`);
    assert.ok(Math.abs(dropped / total - p) <= 4 * se, `null-class fraction ${dropped / total} vs classDropout ${p} (4 standard errors = ${(4 * se).toFixed(4)})`);
    trainer.dispose();
    tokens.dispose();
  }
  assert.equal(liveTensors(), live, 'nothing leaks');
});

/**
 * Parameters of ArGenerator by formula (D = width, K = vocabulary, C =
 * classes, N = h·w, H = round(D·mlpRatio), hd = D/heads): embeddings K·D +
 * (C + 1)·D (+ N·D learned positions), per block two LayerNorms (4D), qkv
 * (3D² + 3D), proj (D² + D), QK-norm (4·hd), fc1 (D·H + H), fc2 (H·D + D);
 * the final LayerNorm (2D); the head K·D unless tied.
 */
function parameterCount(o: GeneratorOptions): number {
  const D = o.width;
  const H = Math.round(D * o.mlpRatio);
  const N = o.grid[0] * o.grid[1];
  const block = 4 * D + (3 * D * D + 3 * D) + (D * D + D) + (o.qkNorm ? 4 * (D / o.heads) : 0) + (D * H + H) + (H * D + D);
  return o.vocabSize * D + (o.numClasses + 1) * D + (o.positions === 'learned' ? N * D : 0)
    + o.depth * block + 2 * D + (o.tieWeights ? 0 : o.vocabSize * D);
}

test('parameter count: the formula matches small models; the reference scale\'s count', (t) => {
  const live = liveTensors();
  for (const positions of ['learned', 'rope2d'] as const) {
    for (const tieWeights of [false, true]) {
      for (const qkNorm of [false, true]) {
        const o: GeneratorOptions = { ...learned, positions, tieWeights, qkNorm, mlpRatio: 2.5, width: 24, depth: 3, heads: 3, grid: [2, 5] };
        const o2 = { ...o, heads: positions === 'rope2d' ? 2 : 3 };  // RoPE needs head width % 4 = 0
        const model = new ArGenerator(o2);
        assert.equal(model.numParameters(), parameterCount(o2), JSON.stringify({ positions, tieWeights, qkNorm }));
        model.dispose();
      }
    }
  }
  // RAR-B's transformer (width 768, depth 24, 16 heads) over a 4096-code, 16×16 tokenizer and 1000 classes;
  // everything else at the schema's defaults (learned positions, untied head, no QK-norm, MLP ratio 4).
  const config = resolveConfig(generatorSchema, [], ['model.width=768', 'model.depth=24', 'model.heads=16']);
  const reference = generatorOptions(config, { vocabSize: 4096, numClasses: 1000, grid: [16, 16] });
  const count = parameterCount(reference);
  const variant = parameterCount({ ...reference, positions: 'rope2d', tieWeights: true, qkNorm: true });
  const m = (n: number) => `${n.toLocaleString('en-US')} (${(n / 1e6).toFixed(1)}M, ${((n * 4) / 2 ** 30).toFixed(2)} GiB in float32)`;
  t.diagnostic(`reference scale (width 768, depth 24, heads 16, K 4096, grid 16×16, 1000 classes; learned positions, untied head): ${m(count)}`);
  t.diagnostic(`same with 2-D RoPE, QK-norm and a tied head: ${m(variant)}`);
  assert.equal(count, 177_367_296);
  // The preset, when present, may move off the defaults: its own count too.
  const preset = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'generator', 'reference.yaml');
  if (existsSync(preset)) {
    const options = generatorOptions(resolveConfig(generatorSchema, [loadConfigFile(preset)]), { vocabSize: 4096, numClasses: 1000, grid: [16, 16] });
    t.diagnostic(`configs/generator/reference.yaml (${options.positions} positions, ${options.tieWeights ? 'tied' : 'untied'} head, qkNorm ${options.qkNorm}): ${m(parameterCount(options))}`);
  }
  assert.equal(liveTensors(), live, 'nothing leaks');
});

test('bad input is named: token ids outside the codebook, a wrong sequence length, a class id past the null class', () => {
  const model = makeModel(learned, 1);
  const N = model.length;
  const K = learned.vocabSize;
  tidy(() => {
    const labels = someLabels(model, 2);
    assert.throws(() => model.checkIds(fullLike(randint(0, K, [2, N]), K)), /token ids must be in 0…\d+ \(the tokenizer's codes\), got \d+…\d+/);
    model.checkIds(randint(0, K, [2, N]));
    assert.throws(() => model.forward(randint(0, K, [2, N - 1]), labels), /expected token ids \[B, \d+\]/);
    assert.throws(() => sampleTokens(model, fullLike(labels, learned.numClasses + 1), { cfg: 1, schedule: 'constant', power: 1 }), /class ids must be in 0…/);
  });
  model.dispose();
});
