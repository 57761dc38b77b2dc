// Metrics against NumPy/SciPy (test/metrics_ref.py, Debian's python3-scipy):
// - frechetDistance vs pytorch-fid's calculate_frechet_distance (scipy
//   sqrtm of Σ₁Σ₂), within 1e-6 relative, on full-rank and rank-deficient
//   covariances (fewer samples than dimensions);
// - FeatureStats (one batch, many uneven batches, two merged accumulators)
//   vs numpy mean / cov(rowvar=False), on features with a large common
//   offset (where naive Σx, Σxxᵀ accumulation loses digits);
// - SSIM vs skimage's structural_similarity(gaussian_weights=True,
//   sigma=1.5, use_sample_covariance=False), reimplemented in the Python
//   script with scipy.ndimage.gaussian_filter (truncate 3.5, as skimage),
//   since scikit-image is not a Debian dependency here; within 1e-3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FeatureStats, frechetDistance, ssimPerImage } from '../src/metrics/index.js';
import { type Tensor, liveTensors, tensor, tidy } from '../src/torch/index.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'metrics_ref.py');

function reference<T>(request: object): T {
  const run = spawnSync('/usr/bin/python3', [script], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`metrics_ref.py failed (python3-scipy installed?):\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

const f64 = (data: number[], shape: number[]): Tensor => tensor(Float64Array.from(data), { shape });

/** max |a − b| / max(|b|, floor) over the elements. */
function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  return worst;
}

interface FidCase { mu1: number[]; sigma1: number[]; mu2: number[]; sigma2: number[]; rank1: number; rank2: number; fid: number }

test('frechetDistance agrees with scipy sqrtm (pytorch-fid) within 1e-6 relative, incl. rank-deficient covariances', (t) => {
  const specs = [
    { seed: 1, dim: 64, n1: 500, n2: 400, shift: 1 },     // full rank
    { seed: 2, dim: 64, n1: 40, n2: 30, shift: 1 },       // both rank-deficient
    { seed: 3, dim: 128, n1: 50, n2: 1000, shift: 0.1 },  // one rank-deficient, close means
    { seed: 4, dim: 256, n1: 100, n2: 120, shift: 1 },    // both rank-deficient, larger
    { seed: 5, dim: 32, n1: 2000, n2: 2000, shift: 0 },   // near-identical distributions: small FID
  ];
  const { cases } = reference<{ cases: FidCase[] }>({ task: 'fid', cases: specs });
  const before = liveTensors();
  const errors = cases.map((c, i) => {
    const d = specs[i]!.dim;
    if (i === 1 || i === 3) assert.ok(c.rank1 < d && c.rank2 < d, 'the case is meant to be rank-deficient');
    const ours = tidy(() => frechetDistance(f64(c.mu1, [d]), f64(c.sigma1, [d, d]), f64(c.mu2, [d]), f64(c.sigma2, [d, d])));
    const rel = Math.abs(ours - c.fid) / Math.abs(c.fid);
    assert.ok(rel <= 1e-6, `case ${i} (dim ${d}, ranks ${c.rank1}/${c.rank2}): ours ${ours} vs scipy ${c.fid}, relative ${rel}`);
    return rel;
  });
  assert.equal(liveTensors(), before);
  t.diagnostic(`frechet max relative error vs scipy: ${Math.max(...errors).toExponential(2)} (${errors.map((e) => e.toExponential(1)).join(', ')})`);
});

test('FeatureStats equals numpy mean/cov: one batch, uneven batches, merged accumulators', (t) => {
  const [n, dim] = [300, 24];
  const ref = reference<{ x: number[]; mu: number[]; sigma: number[] }>({ task: 'stats', seed: 7, n, dim, offset: 1e4 });
  const before = liveTensors();
  const worst = tidy(() => {
    const x = f64(ref.x, [n, dim]);
    const one = new FeatureStats(dim).update(x);
    const many = new FeatureStats(dim);
    for (const [start, len] of [[0, 1], [1, 2], [3, 97], [100, 150], [250, 50]] as const) many.update(x.narrow(0, start, len));
    const left = new FeatureStats(dim).update(x.narrow(0, 0, 123));
    const right = new FeatureStats(dim).update(x.narrow(0, 123, 100)).update(x.narrow(0, 223, 77));
    const merged = left.merge(right);
    const errs = [one, many, merged].map((s) => {
      const { mu, sigma, n: count } = s.result();
      assert.equal(count, n);
      return Math.max(
        maxRelative(mu.toTypedArray() as Float64Array, ref.mu, 1),
        maxRelative(sigma.toTypedArray() as Float64Array, ref.sigma, 1e-3),
      );
    });
    for (const s of [one, many, left, right]) s.dispose();
    return Math.max(...errs);
  });
  assert.equal(liveTensors(), before);
  assert.ok(worst <= 1e-9, `relative error ${worst}`);
  t.diagnostic(`stats max relative error vs numpy (offset 1e4): ${worst.toExponential(2)}`);
});

test('SSIM agrees with the skimage algorithm (gaussian_filter reference) within 1e-3', (t) => {
  const setups = [
    { seed: 11, shape: [3, 3, 32, 40], noise: 0.1, data_range: 2, lo: -1, hi: 1 },
    { seed: 12, shape: [2, 1, 24, 24], noise: 0.3, data_range: 1, lo: 0, hi: 1 },
  ];
  const worst = Math.max(...setups.map((s) => {
    const ref = reference<{ x: number[]; y: number[]; ssim: number[] }>({ task: 'ssim', ...s });
    const ours = tidy(() => Array.from(ssimPerImage(f64(ref.x, s.shape), f64(ref.y, s.shape), { dataRange: s.data_range }).toTypedArray() as Float64Array));
    assert.ok(ref.ssim.every((v) => v > 0.05 && v < 0.95), `reference SSIM ${ref.ssim} should be informative`);
    const err = Math.max(...ours.map((v, i) => Math.abs(v - ref.ssim[i]!)));
    assert.ok(err <= 1e-3, `ours ${ours} vs reference ${ref.ssim}`);
    return err;
  }));
  t.diagnostic(`ssim max absolute error vs reference: ${worst.toExponential(2)}`);
});
