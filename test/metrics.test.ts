// Metrics on hand-computable cases: Fréchet distance closed forms and its
// ε-offset fallback, PSNR's closed form, SSIM of identical images, codebook
// usage/perplexity on hand-made histograms, Inception Score by hand,
// precision/recall on identical, disjoint and half-overlapping sets, and
// that nothing leaks. (Parity with NumPy/SciPy: parity_metrics.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CodeHistogram, FeatureStats, codebookReport, codebookUsage, frechetDistance, inceptionScore, precisionRecall, psnr,
  psnrPerImage, ssim, traceSqrtProduct,
} from '../src/metrics/index.js';
import { type Tensor, cat, eye, linalg, full, liveTensors, manualSeed, randn, tensor, tidy, zeros } from '../src/torch/index.js';

const close = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const f64 = (data: number[][] | number[]): Tensor => tensor(data, { dtype: 'float64' });

/** Runs `fn` and checks it leaves no native tensor behind. */
function noLeak(fn: () => void): void {
  const before = liveTensors();
  tidy(fn);
  assert.equal(liveTensors(), before, 'live tensors after the test');
}

test('frechetDistance: closed forms for 1-d and diagonal Gaussians, zero for equal statistics', () => noLeak(() => {
  // 1-d: (μ₁−μ₂)² + (σ₁ − σ₂)² with variances σ².
  close(frechetDistance(f64([1]), f64([[4]]), f64([3]), f64([[9]])), 4 + 1, 1e-12, '1-d');
  // Diagonal: Σ (μ₁ᵢ−μ₂ᵢ)² + (√aᵢ − √bᵢ)².
  const a = [1, 4, 0, 2.25];
  const b = [9, 1, 4, 0];
  const diag = (v: number[]): Tensor => f64(v.map((x, i) => v.map((_, j) => (i === j ? x : 0))));
  const expected = 0.5 ** 2 + a.reduce((s, x, i) => s + (Math.sqrt(x) - Math.sqrt(b[i]!)) ** 2, 0);
  close(frechetDistance(f64([0, 0, 0, 0.5]), diag(a), f64([0, 0, 0, 0]), diag(b)), expected, 1e-12, 'diagonal');
  // Equal full covariances (rotated, so not diagonal): 0 up to round-off.
  manualSeed(0);
  const x = randn([10, 6], { dtype: 'float64' });
  const s = x.T.matmul(x).div(9);
  const d = frechetDistance(zeros([6], { dtype: 'float64' }), s, zeros([6], { dtype: 'float64' }), s);
  assert.ok(Math.abs(d) < 1e-10, `equal statistics give ${d}`);
  // Rank-deficient and rotated (Σ₁ = Q·diag(a)·Qᵀ, Σ₂ = Q·diag(b)·Qᵀ, half the
  // eigenvalues 0): Σ (√aᵢ − √bᵢ)², to 1e-10, which round-off eigenvalues
  // taken through √ (≈1e-8 each) would miss.
  const q = linalg.svd(randn([40, 40], { dtype: 'float64' }))[0];
  const ev = (seed: number): Tensor => cat([randn([20], { dtype: 'float64' }).square().add(seed), zeros([20], { dtype: 'float64' })]);
  const [ea, eb] = [ev(0.1), ev(0.5)];  // same 20-d support
  const rotated = (e: Tensor): Tensor => q.mul(e.unsqueeze(0)).matmul(q.T);
  const exact = ea.sqrt().sub(eb.sqrt()).square().sum().item();
  const zero40 = zeros([40], { dtype: 'float64' });
  close(frechetDistance(zero40, rotated(ea), zero40, rotated(eb)), exact, 1e-10, 'rank-deficient rotated');
  close(frechetDistance(zero40, rotated(ea), zero40, rotated(ea.flip(0).clone())), ea.sum().item() * 2, 1e-10, 'disjoint supports');
  // float32 inputs are promoted, same answer.
  close(frechetDistance(tensor([1]), tensor([[4]]), tensor([3]), tensor([[9]])), 5, 1e-12, 'float32 inputs');
}));

test('frechetDistance: ε-offset path stays close, bad statistics are rejected', () => noLeak(() => {
  manualSeed(1);
  const x = randn([5, 8], { dtype: 'float64' });  // rank 5 < 8
  const y = randn([20, 8], { dtype: 'float64' });
  const s1 = x.T.matmul(x).div(4);
  const s2 = y.T.matmul(y).div(19);
  const exact = traceSqrtProduct(s1, s2);
  const shifted = traceSqrtProduct(s1, s2, 1e-6);
  assert.ok(exact > 0 && Math.abs(shifted - exact) < 1e-2 * exact && shifted !== exact, `${exact} vs ${shifted}`);
  const mu = zeros([8], { dtype: 'float64' });
  assert.throws(() => frechetDistance(mu, s1, zeros([7], { dtype: 'float64' }), s2), /mu2 has shape \[7\]/);
  assert.throws(() => frechetDistance(mu, s1.mul(NaN), mu, s2), /NaN or infinite/);
  assert.throws(() => frechetDistance(mu, eye(8), mu, zeros([8, 7])), /sigma2/);
}));

test('FeatureStats: known mean and covariance, guards', () => noLeak(() => {
  const s = new FeatureStats(2);
  s.update(f64([[1, 2], [3, 6]])).update(f64([[5, 10]]));
  const { mu, sigma, n } = s.result();
  assert.equal(n, 3);
  assert.deepEqual(mu.tolist(), [3, 6]);
  assert.deepEqual(sigma.tolist(), [[4, 8], [8, 16]]);  // var of 1,3,5 is 4 with n − 1
  assert.throws(() => s.update(f64([[1, 2, 3]])), /expected \[B, 2\]/);
  const single = new FeatureStats(2).update(f64([[1, 2]]));
  assert.throws(() => single.result(), /at least 2 samples/);
  for (const t of [s, single]) t.dispose();
}));

test('PSNR: closed form per image and mean, range convention, identical images', () => noLeak(() => {
  const x = zeros([2, 3, 4, 4], { dtype: 'float64' });
  const y = tidy(() => zeros([2, 3, 4, 4], { dtype: 'float64' }).indexPut_([tensor([1], { dtype: 'int64' })], full([1, 3, 4, 4], 0.2, { dtype: 'float64' })));
  y.indexPut_([tensor([0], { dtype: 'int64' })], full([1, 3, 4, 4], 0.1, { dtype: 'float64' }));
  const per = psnrPerImage(x, y).tolist() as number[];
  close(per[0]!, 10 * Math.log10(4 / 0.01), 1e-12, 'image 0, range 2');
  close(per[1]!, 10 * Math.log10(4 / 0.04), 1e-12, 'image 1, range 2');
  close(psnr(x, y), (per[0]! + per[1]!) / 2, 1e-12, 'mean');
  close(psnr(x, y, { dataRange: 1 }), psnr(x, y) - 20 * Math.log10(2), 1e-12, 'range 1 is 6.02 dB lower');
  assert.equal(psnr(x, x), Infinity);
  assert.throws(() => psnr(x, zeros([2, 3, 4, 5])), /one shape/);
}));

test('SSIM: 1 for identical images, lower for noisy ones, rejects small images', () => noLeak(() => {
  manualSeed(2);
  const x = randn([2, 3, 16, 16]).tanh();
  close(ssim(x, x), 1, 1e-12, 'identical');
  const noisy = ssim(x, x.add(randn([2, 3, 16, 16]).mul(0.3)));
  assert.ok(noisy > 0 && noisy < 0.95, `noisy SSIM ${noisy}`);
  assert.throws(() => ssim(zeros([1, 1, 8, 8]), zeros([1, 1, 8, 8])), /smaller than the 11-pixel window/);
}));

test('codebook usage and perplexity on hand-made histograms', () => noLeak(() => {
  const two = codebookReport(f64([5, 5, 0, 0]));
  assert.deepEqual([two.usage, two.tokens], [0.5, 10]);
  close(two.perplexity, 2, 1e-12, 'two equal codes');
  close(codebookReport(f64([1, 1, 1, 1, 1, 1, 1, 1])).perplexity, 8, 1e-12, 'uniform over K');
  close(codebookReport(f64([0, 7, 0])).perplexity, 1, 1e-12, 'one code');
  close(codebookReport(f64([1, 3])).perplexity, Math.exp(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75))), 1e-12, '1:3');
  // Streaming token tensors of any shape.
  const h = new CodeHistogram(6);
  h.update(tensor([[0, 1], [1, 2]], { dtype: 'int64' })).update(tensor([2, 2, 5, 5], { dtype: 'int32' }));
  assert.deepEqual(h.counts.tolist(), [1, 2, 3, 0, 0, 2]);
  const r = h.report();
  assert.equal(r.usage, 4 / 6);
  close(r.perplexity, Math.exp(-[1, 2, 3, 2].reduce((s, c) => s + (c / 8) * Math.log(c / 8), 0)), 1e-12, 'stream');
  assert.throws(() => h.update(tensor([6], { dtype: 'int64' })), /outside the codebook/);
  h.dispose();
  assert.equal(codebookUsage(tensor([3, 3, 3], { dtype: 'int64' }), 4).usage, 0.25);
}));

test('Inception Score by hand: confident and diverse, uniform, mixed, splits', () => noLeak(() => {
  close(inceptionScore(eye(5, 5, { dtype: 'float64' }), 1).mean, 5, 1e-12, 'one-hot over 5 classes');
  close(inceptionScore(full([6, 4], 0.25), 2).mean, 1, 1e-6, 'uniform predictions');
  // p₁ = [1, 0], p₂ = [½, ½]: p(y) = [¾, ¼].
  const kl = (Math.log(1 / 0.75) + 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25)) / 2;
  close(inceptionScore(f64([[1, 0], [0.5, 0.5]]), 1).mean, Math.exp(kl), 1e-12, 'mixed');
  // Two splits scoring 2 and 1: mean 1.5, population std 0.5.
  const s = inceptionScore(f64([[1, 0], [0, 1], [0.5, 0.5], [0.5, 0.5]]), 2);
  close(s.mean, 1.5, 1e-12, 'split mean');
  close(s.std, 0.5, 1e-12, 'split std');
  assert.throws(() => inceptionScore(eye(3), 4), /4 splits of 3/);
}));

test('precision and recall: identical sets, disjoint far sets, half-overlap', () => noLeak(() => {
  manualSeed(3);
  const real = randn([200, 16]);
  const same = precisionRecall(real, real, { batchSize: 64 });
  assert.deepEqual(same, { precision: 1, recall: 1 });
  const far = precisionRecall(real, randn([150, 16]).add(100), { batchSize: 64 });
  assert.deepEqual(far, { precision: 0, recall: 0 });
  // Fakes: the first 100 reals plus 100 far points. Precision is exactly ½;
  // recall counts every copied real and some of the rest.
  const fake = cat([real.narrow(0, 0, 100), randn([100, 16]).add(100)]);
  const half = precisionRecall(real, fake, { batchSize: 37 });
  assert.equal(half.precision, 0.5);
  assert.ok(half.recall >= 0.5 && half.recall < 1, `recall ${half.recall}`);
  assert.throws(() => precisionRecall(real, randn([10, 15])), /\[N, F\] and \[M, F\]/);
}));
