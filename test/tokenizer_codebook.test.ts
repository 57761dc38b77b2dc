// Issue #14's tools for a pFID measurement with power: the codebook's
// crowding (neighbourCosine), the sensitivity pFID(α = 1)/rFID and the pFID
// curve over δ in evaluation; the k-means start and dead-code replacement
// of the codebook in training, resumable bit for bit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { leadingSamples, openDataset, prepareSplit } from '../src/data/index.js';
import { evaluateTokenizer } from '../src/eval/index.js';
import { DatasetClassifier, type FeatureNetwork, classifierNetwork, saveClassifier } from '../src/features/index.js';
import { CodeHistogram } from '../src/metrics/index.js';
import { neighbourCosine } from '../src/metrics/index.js';
import { Ema } from '../src/optim/index.js';
import {
  CodebookUpkeep, type StepMetrics, Tokenizer, TokenizerTrainer, VectorQuantizer, loadTokenizer, modelOptions, saveTokenizer,
  sphericalKmeans, tokenizerSchema,
} from '../src/tokenizer/index.js';
import { RandomStream, type Tensor, liveTensors, manualSeed, noGrad, randn, randperm, tensor, tidy } from '../src/torch/index.js';
import { readProgress } from '../src/train/index.js';
import { resumedTrainer } from './helpers/tokenizer_resume.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const tinyPreset = path.join(root, 'configs', 'tokenizer', 'tiny.yaml');
const scratch = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-codebook-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const rows = (t: Tensor): number[][] => tidy(() => t.detach().to('float64').tolist() as number[][]);
const unit = (v: number[]): number[] => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const close = (a: number[][], b: number[][], tol: number, what: string): void => {
  assert.equal(a.length, b.length, what);
  a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i]![j]!) <= tol, `${what}[${i}][${j}]: ${v} vs ${b[i]![j]}`)));
};

// ---- codebook geometry -----------------------------------------------------------

test('neighbourCosine: the mean over used codes of the mean cosine to the δ − 1 nearest other codes, as computed directly', () => {
  const codes = [[1, 0, 0], [2, 0.2, 0], [0.5, 0.5, 0], [0, 3, 0], [0, 0, 1], [-1, 0.1, 0.2]];
  const used = [true, false, true, true, false, true];
  const delta = 3;
  const direct = codes.map((c, i) => {
    const others = codes.filter((_, j) => j !== i).map((o) => dot(unit(c), unit(o))).sort((a, b) => b - a);
    return others.slice(0, delta - 1).reduce((s, x) => s + x, 0) / (delta - 1);
  }).filter((_, i) => used[i]);
  const expected = direct.reduce((s, x) => s + x, 0) / direct.length;
  const got = tidy(() => neighbourCosine(tensor(codes.flat(), { shape: [6, 3], dtype: 'float64' }), tensor(used), delta));
  assert.ok(Math.abs(got - expected) < 1e-12, `${got} vs ${expected}`);
  assert.throws(() => tidy(() => neighbourCosine(tensor(codes.flat(), { shape: [6, 3], dtype: 'float64' }), tensor(used), 1)), /δ must be an integer in \[2, 6\]/);
  assert.throws(() => tidy(() => neighbourCosine(tensor(codes.flat(), { shape: [6, 3], dtype: 'float64' }), tensor(used.map(() => false)), 2)), /no code is used/);
});

// ---- evaluation: sensitivity, δ curve, crowding ------------------------------------

// A random-weight tokenizer of the tiny preset and a random-weight classifier as the feature network: the numbers are meaningless, the bookkeeping is not.
const tinyConfig = resolveConfig(tokenizerSchema, [loadConfigFile(tinyPreset)], []);
manualSeed(0);
const tokenizer = new Tokenizer(modelOptions(tinyConfig)).eval();
const classifierOptions = { channels: 1, size: 32, numClasses: 10, widths: [8], featureSize: 16 } as const;
const classifierRecord = { dataset: 'fashion-mnist', testAccuracy: 0, epochs: 0 };
const classifier = new DatasetClassifier({ ...classifierOptions, widths: [...classifierOptions.widths] });
const network: FeatureNetwork = classifierNetwork(classifier, { ...classifierRecord, options: classifier.options });
const split = leadingSamples(await prepareSplit(await openDataset('fashion-mnist'), 'test', { preprocess: { size: 32, channels: 1 } }), 96);

test('sensitivity is pFID(α = 1)/rFID of the same evaluation, measured also without a curve; the δ curve holds the main level', () => {
  const full = evaluateTokenizer(tokenizer, split, { network, batchSize: 48, delta: 4, deltaCurve: [8, 2] });
  const alpha1 = full.curve.find((p) => p.alpha === 1)!;
  assert.equal(full.sensitivity, alpha1.value / full.rfid);
  assert.ok(full.sensitivity > 1, `sensitivity ${full.sensitivity}: redrawing every token should move FID`);
  assert.deepEqual(full.deltaCurve.map((p) => [p.alpha, p.delta]), [[0.5, 2], [0.5, 4], [0.5, 8]], 'ascending, at the level\'s α, the level\'s δ joined');
  assert.equal(full.deltaCurve.find((p) => p.delta === 4)!.value, full.pfid.value, 'δ curve at the level\'s δ is the level');

  const bare = evaluateTokenizer(tokenizer, split, { network, batchSize: 48, delta: 4, curve: [] });
  assert.deepEqual(bare.curve, []);
  assert.deepEqual(bare.deltaCurve, [], 'no δ curve unless asked for');
  assert.equal(bare.sensitivity, full.sensitivity, 'α = 1 is measured without a curve, on its own stream');
  const atTwo = evaluateTokenizer(tokenizer, split, { network, batchSize: 48, delta: 2, curve: [] });
  assert.equal(full.deltaCurve[0]!.value, atTwo.pfid.value, 'a δ-curve point equals the main level at that δ');

  const used = tidy(() => {
    const h = new CodeHistogram(64);
    try {
      noGrad(() => h.update(tokenizer.encode(tensor(Float32Array.from(split.images, (v) => v / 127.5 - 1), { shape: [96, 1, 32, 32] })).ids));
      return h.counts.gt(0);
    } finally {
      h.dispose();
    }
  });
  const expected = tidy(() => neighbourCosine(tokenizer.quantize.embedding.weight, used, 4));
  used.dispose();
  assert.equal(full.neighbourCosine, expected);
  assert.ok(full.neighbourCosine! > -1 && full.neighbourCosine! <= 1);
  assert.equal(evaluateTokenizer(tokenizer, split, { network, batchSize: 48, delta: 1, curve: [] }).neighbourCosine, null, 'δ = 1 has no swap candidates');
  assert.throws(() => evaluateTokenizer(tokenizer, split, { network, deltaCurve: [2, 65] }), /δ must be an integer in \[1, 64\] \(the codebook size\), got 65/);
});

test('robustok eval prints sensitivity, neighbourCosine and deltaCurve, and the report shows them; a bad --delta-curve is named', () => {
  const dir = scratch();
  const tokDir = path.join(dir, 'tok');
  mkdirSync(tokDir);
  saveTokenizer(tokDir, tokenizer, { size: 32, channels: 1, fit: 'pad', padValue: 0 });
  const weights = path.join(dir, 'clf.safetensors');
  saveClassifier(weights, classifier, classifierRecord);
  const args = ['eval', '--tokenizer', tokDir, '--data', 'fashion-mnist', '--weights', weights, '--n', '64', '--curve', 'none'];
  const run = spawnSync(process.execPath, [cli, ...args, '--json', '--delta-curve', '2,8'], { encoding: 'utf8', env: { ...process.env, ROBUSTOK_THREADS: '1' } });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { sensitivity: number; neighbourCosine: number; deltaCurve: { delta: number }[]; pfid: { delta: number } };
  assert.equal(typeof out.sensitivity, 'number');
  assert.equal(typeof out.neighbourCosine, 'number');
  assert.deepEqual(out.deltaCurve.map((p) => p.delta), [2, 8], 'the default δ for K = 64 is 2');
  const html = readFileSync(path.join(tokDir, 'eval', 'report.html'), 'utf8');
  for (const text of ['sensitivity', 'pFID against δ', 'nearest other codes']) assert.ok(html.includes(text), text);
  const table = spawnSync(process.execPath, [cli, ...args, '--delta-curve', '2,8'], { encoding: 'utf8', env: { ...process.env, ROBUSTOK_THREADS: '1' } });
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /sensitivity pFID\(α=1 δ=2\) \/ rFID\s+\d/);
  assert.match(table.stdout, /pFID curve δ=8 \(α=0\.5\)\s+\d/);
  assert.match(table.stdout, /mean cosine of a used code to its 1 nearest others\s+-?\d/);
  const bad = spawnSync(process.execPath, [cli, ...args, '--delta-curve', '2,x'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--delta-curve takes positive integers separated by commas, got 'x'/);
});

// ---- training: k-means start -------------------------------------------------------

/** Lloyd's algorithm on the unit sphere in plain JS, from the given starting rows. */
function lloyd(latents: number[][], start: number[][], iterations: number): number[][] {
  let centroids = start.map(unit);
  for (let it = 0; it < iterations; it++) {
    const sums = centroids.map(() => latents[0]!.map(() => 0));
    const counts = centroids.map(() => 0);
    for (const x of latents) {
      const scores = centroids.map((c) => dot(x, c));
      const k = scores.indexOf(Math.max(...scores));
      counts[k]! += 1;
      x.forEach((v, j) => { sums[k]![j]! += v; });
    }
    centroids = centroids.map((c, k) => (counts[k] === 0 ? c : unit(sums[k]!)));
  }
  return centroids;
}

test('k-means start: the codes are the Lloyd centroids of the first batch\'s latents, from a seeded draw; only at step 0', () => {
  const K = 3;
  const D = 3;
  const latents = tidy(() => randn([1, 24, D], { stream: new RandomStream(7) }).keep());
  const xs = rows(latents.reshape(24, D)).map(unit);
  const first = tidy(() => randperm(24, { stream: new RandomStream(5) }).slice(0, 0, K).tolist() as number[]);
  const expected = lloyd(xs, first.map((i) => xs[i]!), 10);

  manualSeed(0);
  const vq = new VectorQuantizer({ codebookSize: K, codeDim: D });
  const ema = new Ema(vq.namedParameters(), { decay: 0.9 });
  const upkeep = new CodebookUpkeep(vq, { codebookInit: 'kmeans', deadCodeThreshold: 0, deadCodeDecay: 0.99 }, new RandomStream(5), { ema, owner: vq });
  const before = rows(vq.embedding.weight);
  upkeep.start(1, () => latents);
  assert.deepEqual(rows(vq.embedding.weight), before, 'nothing happens after step 0');
  upkeep.start(0, () => latents);
  close(rows(vq.embedding.weight), expected, 1e-6, 'codes vs JS Lloyd');
  close(rows(ema.stateDict().tensors['embedding.weight']!), expected, 1e-6, 'EMA shadow follows');

  // Converged, each code is the normalised mean of the latents nearest it (a fixed point of Lloyd's step), and the draw is seeded.
  const again = tidy(() => {
    const a = sphericalKmeans(latents.reshape(24, D), K, { stream: new RandomStream(9), iterations: 50 });
    const b = sphericalKmeans(latents.reshape(24, D), K, { stream: new RandomStream(9), iterations: 50 });
    return { a: rows(a.centroids), b: rows(b.centroids), counts: a.counts.tolist() as number[] };
  });
  assert.deepEqual(again.a, again.b, 'same seed, same centroids');
  close(lloyd(xs, again.a, 1), again.a, 1e-6, 'one more Lloyd step moves nothing');
  assert.equal(again.counts.reduce((s, c) => s + c, 0), 24);
  latents.dispose();
  ema.dispose();
  upkeep.dispose();
  vq.dispose();
});

// ---- training: dead codes ------------------------------------------------------------

test('dead codes: exactly the codes whose EMA usage fell below the threshold are replaced, by latents of the batch', () => {
  const K = 6;
  const D = 3;
  manualSeed(1);
  const vq = new VectorQuantizer({ codebookSize: K, codeDim: D });
  const ema = new Ema(vq.namedParameters(), { decay: 0.9 });
  const upkeep = new CodebookUpkeep(vq, { codebookInit: 'uniform', deadCodeThreshold: 2, deadCodeDecay: 0.5 }, new RandomStream(3), { ema, owner: vq });
  const before = rows(vq.embedding.weight);
  // Usage this batch: code 0 four times, 1 three, 2 twice, 3 once, 4 and 5 never. From 2 (the threshold) with decay 0.5: 3, 2.5, 2, 1.5, 1, 1.
  const ids = tensor([0, 0, 0, 0, 1, 1, 1, 2, 2, 3], { dtype: 'int64', shape: [1, 10] });
  const z = randn([1, 10, D], { stream: new RandomStream(11) }).keep();
  const zs = rows(z.reshape(10, D)).map(unit);
  assert.equal(upkeep.afterStep(ids, z), 3);
  const after = rows(vq.embedding.weight);
  assert.deepEqual(after.slice(0, 3), before.slice(0, 3), 'codes at or above the threshold are kept');
  const picked = after.slice(3).map((row) => zs.findIndex((x) => x.every((v, j) => Math.abs(v - row[j]!) < 1e-6)));
  assert.ok(picked.every((i) => i >= 0), `replacements are batch latents (normalised): ${picked}`);
  assert.equal(new Set(picked).size, 3, 'distinct latents when the batch has enough');
  assert.deepEqual(rows(ema.stateDict().tensors['embedding.weight']!), after, 'the EMA shadow restarts with them');
  assert.deepEqual(tidy(() => upkeep.usage!.counts.tolist()), [3, 2.5, 2, 2, 2, 2], 'replaced codes restart at the threshold');
  // Every code used at least twice: counts stay ≥ 2, nothing is replaced.
  const everyone = tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], { dtype: 'int64', shape: [1, 12] });
  assert.equal(upkeep.afterStep(everyone, randn([1, 12, D])), 0);
  assert.deepEqual(rows(vq.embedding.weight), after);
  const off = new CodebookUpkeep(vq, { codebookInit: 'uniform', deadCodeThreshold: 0, deadCodeDecay: 0.5 }, new RandomStream(3));
  assert.equal(off.afterStep(ids, z), null, 'threshold 0: off');
  assert.deepEqual(off.parts(), {});
  for (const t of [ids, z, everyone]) t.dispose();
  ema.dispose();
  upkeep.dispose();
  vq.dispose();
});

test('defaults add nothing; normal init redraws the codes at the scale of N(0, 1) from the trainer\'s seed', () => {
  const plain = new TokenizerTrainer(tinyConfig);
  assert.ok(!('codeUsage' in plain.parts()), 'no extra checkpoint part by default');
  const normal = resolveConfig(tokenizerSchema, [loadConfigFile(tinyPreset)], ['model.codebookInit=normal']);
  const a = new TokenizerTrainer(normal);
  const b = new TokenizerTrainer(normal);
  const norm = (t: TokenizerTrainer) => tidy(() => t.model.quantize.embedding.weight.norm(2, -1).mean().item());
  assert.ok(norm(plain) < 0.1 && norm(a) > 1, `uniform ${norm(plain)} vs normal ${norm(a)} (√D ≈ 2.8)`);
  assert.deepEqual(rows(a.model.quantize.embedding.weight), rows(b.model.quantize.embedding.weight), 'seeded by train.seed');
  for (const t of [plain, a, b]) t.dispose();
});

test('k-means start and dead-code replacement: N steps, checkpoint, resume, M steps = N + M steps bit for bit; the export loads', () => {
  const live = liveTensors();
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(tinyPreset)],
    ['train.steps=8', 'train.batchSize=4', 'model.codebookInit=kmeans', 'model.deadCodeThreshold=12', 'model.deadCodeDecay=0.9']);
  const batch = (i: number): Tensor => tidy(() => randn([4, 1, 32, 32], { stream: new RandomStream(100 + i) }).tanh());
  const run = (trainer: TokenizerTrainer, from: number, to: number): StepMetrics[] => {
    const out: StepMetrics[] = [];
    for (let i = from; i < to; i++) {
      const x = batch(i);
      out.push(trainer.step(x));
      x.dispose();
    }
    return out;
  };
  const state = (trainer: TokenizerTrainer) => tidy(() => [
    ...trainer.model.parameters(), ...Object.values(trainer.ema.stateDict().tensors), trainer.codebook.usage!.counts,
  ].map((t) => Array.from(t.toTypedArray() as Float32Array)));

  manualSeed(0);
  const straight = new TokenizerTrainer(config);
  const metrics = run(straight, 0, 8);
  const expected = state(straight);
  const dir = scratch();
  saveTokenizer(dir, straight.model);
  straight.dispose();
  assert.ok(metrics.slice(3).some((m) => m.replacedCodes! > 0), `codes replaced after the checkpoint: ${metrics.map((m) => m.replacedCodes)}`);
  tidy(() => {
    const exported = loadTokenizer(dir);
    assert.deepEqual(exported.encode(batch(0)).ids.shape, [4, 256], 'the usage counts are not in the exported weights');
    exported.dispose();
  });

  const file = path.join(scratch(), 'ckpt.safetensors');
  const resumed = resumedTrainer(config, file, 3, run);
  assert.ok(readProgress(file).parts.includes('codeUsage'));
  const resumedMetrics = run(resumed, 3, 8);
  assert.deepEqual(resumedMetrics.map((m) => m.replacedCodes), metrics.slice(3).map((m) => m.replacedCodes));
  assert.deepEqual(state(resumed), expected);
  resumed.dispose();
  assert.equal(liveTensors(), live);
});

test.after(() => {
  network.dispose();
  tokenizer.dispose();
});
