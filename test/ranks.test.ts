// The statistics of the reproduction's claims (src/metrics/ranks.ts,
// sign_test.ts, bootstrap.ts, mean_std.ts) against SciPy (Debian's
// python3-scipy, as test/parity_metrics.test.ts uses): Spearman ρ
// (scipy.stats.spearmanr), Kendall τ-b (scipy.stats.kendalltau, its default
// variant) on random data, data with ties and degenerate data, and the sign
// test (scipy.stats.binomtest(k, n, 0.5), two-sided); the bootstrap helper
// and mean ± std on hand-made data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { averageRanks, bootstrapInterval, bootstrapMean, kendallTauB, meanStd, seededUniform, signTest, spearman } from '../src/metrics/index.js';

/** The reference values for `cases`, from SciPy in one Python process. */
function scipy<T>(task: string, cases: unknown[]): T[] {
  const script = `
import json, sys, math
from scipy import stats
req = json.load(sys.stdin)
out = []
for c in req["cases"]:
    if req["task"] == "ranks":
        rho = stats.spearmanr(c["x"], c["y"])[0]
        tau = stats.kendalltau(c["x"], c["y"])[0]
        out.append({"rho": None if math.isnan(rho) else float(rho), "tau": None if math.isnan(tau) else float(tau), "ranks": stats.rankdata(c["x"]).tolist()})
    else:
        out.append(float(stats.binomtest(c["k"], c["n"], 0.5).pvalue))
print(json.dumps(out))
`;
  const run = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-c', script], { input: JSON.stringify({ task, cases }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scipy reference failed (python3-scipy installed?):\n${run.stderr}`);
  return JSON.parse(run.stdout) as T[];
}

const random = seededUniform(7);
const draws = (n: number, levels = 0) => Array.from({ length: n }, () => (levels > 0 ? Math.floor(random() * levels) : random() * 10));

test('Spearman ρ, Kendall τ-b and average ranks match scipy, with and without ties', () => {
  const cases = [
    { x: draws(12), y: draws(12) },
    { x: draws(40), y: draws(40) },
    { x: draws(30, 4), y: draws(30, 5) },           // many ties on both sides
    { x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10] },     // perfect agreement
    { x: [1, 2, 3, 4, 5], y: [5, 4, 3, 2, 1] },      // perfect disagreement
    { x: [1, 1, 2, 2, 3, 3], y: [3, 1, 2, 2, 1, 3] },
    { x: [3, 1, 2], y: [1, 1, 1] },                  // a constant side: undefined
  ];
  cases.push((() => { const x = draws(21); return { x, y: x.map((v) => v + 3 * random()) }; })());
  const want = scipy<{ rho: number | null; tau: number | null; ranks: number[] }>('ranks', cases);
  cases.forEach((c, i) => {
    const [rho, tau] = [spearman(c.x, c.y), kendallTauB(c.x, c.y)];
    const w = want[i]!;
    if (w.rho === null) assert.ok(Number.isNaN(rho), `case ${i}: ρ should be NaN, got ${rho}`);
    else assert.ok(Math.abs(rho - w.rho) < 1e-12, `case ${i}: ρ ${rho} vs scipy ${w.rho}`);
    if (w.tau === null) assert.ok(Number.isNaN(tau), `case ${i}: τ should be NaN, got ${tau}`);
    else assert.ok(Math.abs(tau - w.tau) < 1e-12, `case ${i}: τ-b ${tau} vs scipy ${w.tau}`);
    assert.deepEqual(averageRanks(c.x), w.ranks, `case ${i}: ranks`);
  });
  assert.throws(() => spearman([1, 2], [1]), /2 values, y has 1/);
  assert.throws(() => kendallTauB([1, NaN], [1, 2]), /finite/);
});

test('the sign test is scipy.stats.binomtest(k, n, ½) two-sided; zeros are dropped; no nonzero difference gives p = 1', () => {
  const splits = [[0, 1], [0, 3], [1, 5], [0, 6], [2, 9], [5, 10], [3, 20], [0, 40], [17, 60]];
  const want = scipy<number>('binom', splits.map(([k, n]) => ({ k, n })));
  splits.forEach(([k, n], i) => {
    const differences = [...Array(k).fill(-1), ...Array(n! - k!).fill(2), 0, 0];
    const s = signTest(differences);
    assert.deepEqual([s.negative, s.positive], [k, n! - k!]);
    assert.ok(Math.abs(s.p - want[i]!) < 1e-12, `${k} of ${n}: p ${s.p} vs scipy ${want[i]}`);
  });
  assert.equal(signTest([0, 0]).p, 1);
  assert.equal(signTest([]).p, 1);
  assert.ok(Math.abs(signTest([-1, -2, -3]).p - 0.25) < 1e-12, 'three seeds can never reach p < 0.05');
});

test('mean ± std: sample std (n − 1); NaN where undefined', () => {
  const m = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(m.mean, 5);
  assert.ok(Math.abs(m.std - Math.sqrt(32 / 7)) < 1e-12);
  assert.equal(m.n, 8);
  assert.ok(Number.isNaN(meanStd([3]).std) && meanStd([3]).mean === 3);
  assert.ok(Number.isNaN(meanStd([]).mean));
});

test('the bootstrap interval: seeded, brackets the estimate, collapses on constant data, narrows with more data, skips undefined resamples', () => {
  const data = [1.2, 0.4, -0.3, 2.2, 1.0, 0.7, 1.9, 0.1];
  const a = bootstrapMean(data, { seed: 3 });
  assert.deepEqual(bootstrapMean(data, { seed: 3 }), a, 'the same seed gives the same interval');
  assert.notDeepEqual(bootstrapMean(data, { seed: 4 }), a, 'another seed resamples otherwise');
  assert.ok(Math.abs(a.estimate - data.reduce((x, y) => x + y, 0) / data.length) < 1e-12);
  assert.ok(a.lo < a.estimate && a.estimate < a.hi && a.lo >= Math.min(...data) && a.hi <= Math.max(...data));
  assert.equal(a.level, 0.95);
  assert.deepEqual([bootstrapMean([2, 2, 2]).lo, bootstrapMean([2, 2, 2]).hi], [2, 2]);
  // Sixteen copies of the data: the mean's interval is about four times narrower.
  const wide = a.hi - a.lo;
  const long = bootstrapMean(Array.from({ length: 16 }, () => data).flat(), { seed: 3 });
  assert.ok(long.hi - long.lo < wide / 2.5, `${long.hi - long.lo} vs ${wide}`);
  // A 50% interval lies inside the 95% one.
  const half = bootstrapMean(data, { seed: 3, level: 0.5 });
  assert.ok(half.lo >= a.lo && half.hi <= a.hi);
  // A rank correlation of resampled points is undefined when a resample repeats one point: those are left out.
  const x = [1, 2, 3];
  const r = bootstrapInterval(3, (ix) => spearman(ix.map((i) => x[i]!), ix.map((i) => x[i]!)), { resamples: 200 });
  assert.ok(r.resamples < 200 && r.resamples > 0 && r.lo === 1 && r.hi === 1);
  assert.ok(Number.isNaN(bootstrapMean([]).lo));
  assert.throws(() => bootstrapMean(data, { level: 1 }), /level/);
});
