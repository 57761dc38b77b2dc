// The bootstrap standard error of a FID (src/metrics/frechet_noise.ts):
// each replicate is the Fréchet distance of the rows it names; the error
// agrees with the spread of FIDs over truly independent samples; paired
// differences cancel shared noise; bad input is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeatureStats, combinationError, fidNoise, frechetDistance, gaussianOf, replicateError, resampledRows } from '../src/metrics/index.js';
import { type Tensor, RandomStream, liveTensors, randn, tidy } from '../src/torch/index.js';

/** Rows `[n, F]` from N(shift, diag(scale²)), drawn from `stream`. */
const gaussianRows = (n: number, f: number, stream: RandomStream, shift = 0, scale = 1): Tensor =>
  randn([n, f], { dtype: 'float64', stream }).mul(scale).add(shift);

test('fidNoise: replicate b is the FID of the rows resampledRows names (paired: the same rows on both sides)', () => {
  const before = liveTensors();
  tidy(() => {
    const s = new RandomStream(3);
    const real = gaussianRows(60, 3, s);
    const fake = gaussianRows(50, 3, s, 0.3, 1.2);
    const fid = (a: Tensor, b: Tensor) => {
      const [x, y] = [gaussianOf(a), gaussianOf(b)];
      return frechetDistance(x.mu, x.sigma, y.mu, y.sigma);
    };
    const unpaired = fidNoise(real, fake, { replicates: 4, seed: 7, paired: false });
    assert.equal(unpaired.replicates.length, 4);
    for (let b = 0; b < 4; b++) {
      const expected = fid(real.indexSelect(0, resampledRows(60, b, 7, 0)), fake.indexSelect(0, resampledRows(50, b, 7, 1)));
      assert.ok(Math.abs(unpaired.replicates[b]! - expected) < 1e-12, `replicate ${b}: ${unpaired.replicates[b]} vs ${expected}`);
    }
    const twin = real.add(gaussianRows(60, 3, s, 0, 0.1));
    const both = fidNoise(real, twin, { replicates: 3, seed: 7, paired: true });
    for (let b = 0; b < 3; b++) {
      const rows = resampledRows(60, b, 7, 0);
      assert.ok(Math.abs(both.replicates[b]! - fid(real.indexSelect(0, rows), twin.indexSelect(0, rows))) < 1e-12, `paired replicate ${b}`);
    }
    // The same settings resample the same rows; another seed, others.
    assert.deepEqual(fidNoise(real, fake, { replicates: 4, seed: 7, paired: false }).replicates, unpaired.replicates);
    assert.notDeepEqual(fidNoise(real, fake, { replicates: 4, seed: 8, paired: false }).replicates, unpaired.replicates);
    // gaussianOf is FeatureStats' mean and covariance.
    const stats = new FeatureStats(3).update(real.narrow(0, 0, 25)).update(real.narrow(0, 25, 35));
    const { mu, sigma } = stats.result();
    const g = gaussianOf(real);
    assert.ok(mu.sub(g.mu).abs().max().item() < 1e-12 && sigma.sub(g.sigma).abs().max().item() < 1e-12, 'gaussianOf = FeatureStats');
    stats.dispose();
  });
  assert.equal(liveTensors(), before, 'live tensors after fidNoise');
});

test('fidNoise: the bootstrap error matches the spread of FIDs over independent samples', () => {
  tidy(() => {
    const s = new RandomStream(11);
    const [n, f] = [300, 4];
    // The truth: FID's standard deviation over 80 independent (real, fake) samples.
    const fids: number[] = [];
    for (let i = 0; i < 80; i++) {
      fids.push(tidy(() => {
        const [a, b] = [gaussianOf(gaussianRows(n, f, s)), gaussianOf(gaussianRows(n, f, s, 0.4, 1.3))];
        return frechetDistance(a.mu, a.sigma, b.mu, b.sigma);
      }));
    }
    const truth = replicateError(fids);
    // The bootstrap's estimate from one sample, averaged over 6 samples (each estimate alone is noisy).
    const estimates = Array.from({ length: 6 }, (_, i) => tidy(() =>
      fidNoise(gaussianRows(n, f, s), gaussianRows(n, f, s, 0.4, 1.3), { replicates: 150, seed: i, paired: false }).standardError));
    const mean = estimates.reduce((a, v) => a + v, 0) / estimates.length;
    assert.ok(mean > 0.7 * truth && mean < 1.4 * truth, `bootstrap standard error ${mean.toFixed(4)} against the true spread ${truth.toFixed(4)}`);
  });
});

test('combinationError: a difference of FIDs on the same rows has the spread of the replicate differences; noise shared by both sides cancels', () => {
  tidy(() => {
    const s = new RandomStream(5);
    const real = gaussianRows(400, 4, s);
    const fake = gaussianRows(400, 4, s, 0.5, 1.2);
    // A second decoder of the same samples: the same rows, slightly moved.
    const close = fake.add(gaussianRows(400, 4, s, 0, 0.05));
    const o = { replicates: 60, seed: 1, paired: false };
    const [a, b] = [fidNoise(real, fake, o), fidNoise(real, close, o)];
    const difference = combinationError([{ coefficient: 1, noise: b }, { coefficient: -1, noise: a }]);
    const byHand = replicateError(b.replicates.map((v, i) => v - a.replicates[i]!));
    assert.ok(Math.abs(difference - byHand) < 1e-12, `${difference} vs ${byHand}`);
    assert.ok(difference < 0.2 * a.standardError, `paired difference error ${difference} vs one FID's ${a.standardError}`);
    // Independent draws of the rows (another seed for one side) do not cancel.
    const unpaired = combinationError([{ coefficient: 1, noise: b }, { coefficient: -1, noise: fidNoise(real, fake, { ...o, seed: 2 }) }]);
    assert.ok(unpaired > 0.5 * a.standardError, `unpaired difference error ${unpaired}`);
    assert.ok(Number.isNaN(combinationError([{ coefficient: 1, noise: a }, { coefficient: -1, noise: null }])), 'a missing side gives NaN');
    assert.ok(Number.isNaN(combinationError([{ coefficient: 1, noise: a }, { coefficient: -1, noise: { standardError: 1, replicates: [1, 2] } }])), 'counts differ: NaN');
  });
});

test('fidNoise: bad input is refused with the reason', () => {
  tidy(() => {
    const s = new RandomStream(1);
    const [x, y] = [gaussianRows(10, 3, s), gaussianRows(12, 3, s)];
    assert.throws(() => fidNoise(x, y, { replicates: 5, seed: 0, paired: true }), /paired sides need the same number of rows, got 10 and 12/);
    assert.throws(() => fidNoise(x, gaussianRows(12, 2, s), { replicates: 5, seed: 0, paired: false }), /feature rows \[n, F\] on both sides/);
    assert.throws(() => fidNoise(x, y, { replicates: 1, seed: 0, paired: false }), /replicates must be an integer ≥ 2, got 1/);
  });
});
