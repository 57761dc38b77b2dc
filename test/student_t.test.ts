// Student's t (src/metrics/student_t.ts) against SciPy (Debian's python3-scipy):
// quantiles and CDF over the degrees of freedom a few seeds give, and the
// one-sample summary against scipy.stats.ttest_1samp and t.interval.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { studentTCdf, studentTQuantile, tSummary } from '../src/metrics/student_t.js';

function scipy(code: string): unknown {
  const run = spawnSync('/usr/bin/python3', ['-c', `import json, numpy as np\nfrom scipy import stats\n${code}`], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3-scipy failed (installed by scripts/setup.mjs --oracle?):\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

const dfs = [1, 2, 3, 4, 5, 8, 11, 30];
const ps = [0.6, 0.9, 0.95, 0.975, 0.995];
const ts = [-4, -1.5, -0.3, 0, 0.7, 2.2, 6];

test('studentTQuantile and studentTCdf agree with scipy.stats.t (quantiles within 1e-8 relative, CDF within 1e-10)', () => {
  const ref = scipy(`print(json.dumps({'ppf': [[float(stats.t.ppf(p, df)) for p in ${JSON.stringify(ps)}] for df in ${JSON.stringify(dfs)}],
    'cdf': [[float(stats.t.cdf(t, df)) for t in ${JSON.stringify(ts)}] for df in ${JSON.stringify(dfs)}]}))`) as { ppf: number[][]; cdf: number[][] };
  dfs.forEach((df, i) => {
    ps.forEach((p, j) => {
      const want = ref.ppf[i]![j]!;
      assert.ok(Math.abs(studentTQuantile(p, df) - want) <= 1e-8 * Math.abs(want), `ppf(${p}, ${df}) = ${studentTQuantile(p, df)}, scipy ${want}`);
      assert.ok(Math.abs(studentTQuantile(1 - p, df) + want) <= 1e-8 * Math.abs(want), `ppf(${1 - p}, ${df}) is −ppf(${p})`);
    });
    ts.forEach((t, j) => {
      const want = ref.cdf[i]![j]!;
      assert.ok(Math.abs(studentTCdf(t, df) - want) <= 1e-10, `cdf(${t}, ${df}) = ${studentTCdf(t, df)}, scipy ${want}`);
    });
  });
});

test('tSummary: mean, SE, 95% interval and two-sided p equal scipy\'s ttest_1samp and t.interval on seed-sized samples', () => {
  const samples = [[-3.1, -1.2, -2.4], [4.0, -1.0, 2.5, 0.5, 3.3, -0.4], [0.2, 0.1]];
  const ref = scipy(`out = []
for x in ${JSON.stringify(samples)}:
    x = np.array(x); se = stats.sem(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=se)
    out.append([float(x.mean()), float(se), float(lo), float(hi), float(stats.ttest_1samp(x, 0).pvalue)])
print(json.dumps(out))`) as number[][];
  samples.forEach((x, i) => {
    const s = tSummary(x);
    const [mean, se, lo, hi, p] = ref[i]!;
    for (const [name, ours, want] of [['mean', s.mean, mean], ['SE', s.standardError, se], ['low', s.interval[0], lo], ['high', s.interval[1], hi], ['p', s.p, p]] as const) {
      assert.ok(Math.abs(ours - want!) <= 1e-9 * Math.max(1, Math.abs(want!)), `sample ${i}: ${name} ${ours}, scipy ${want}`);
    }
    assert.equal(s.n, x.length);
  });
  const one = tSummary([2]);
  assert.ok(Number.isNaN(one.interval[0]) && Number.isNaN(one.p), 'one unit gives no interval and no p');
  assert.throws(() => studentTQuantile(1, 3), /p must be in \(0, 1\)/);
});
