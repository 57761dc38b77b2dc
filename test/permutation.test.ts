// Within-block permutation tests and the power floor (src/metrics/permutation.ts,
// src/metrics/power.ts) against Python on fixed inputs: the exact p of claim
// 1's statistic (which tokenizer of each seed is the baseline) and of claim
// 2's (gFID shuffled within each seed, per-seed scipy.stats.spearmanr) by
// brute-force enumeration in Python; the Monte Carlo p against the exact one;
// the detectable effect against scipy.stats.t and the noncentral t's power.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { blockPermutationTest, detectableEffect, nthPermutation, referenceBlock, shuffleBlock, spearman } from '../src/metrics/index.js';

function python(code: string, input: unknown): unknown {
  const run = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-c', `import json, sys, itertools, numpy as np\nfrom scipy import stats\nreq = json.load(sys.stdin)\n${code}`],
    { input: JSON.stringify(input), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3-scipy failed (installed by scripts/setup.mjs --oracle?):\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

const close = (a: number, b: number, what: string, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Claim 1's per-seed statistic: mean over the others of (other − reference). */
const meanDifference = (x: readonly number[], b: number) => x.reduce((a, v, i) => (i === b ? a : a + v - x[b]!), 0) / (x.length - 1);

// Three seeds × four tokenizers (index 0 the measured baseline); the second set has ties.
const seedsOf = [
  [[30.1, 27.4, 28.9, 25.0], [33.0, 31.2, 29.8, 32.5], [29.4, 29.9, 26.1, 27.7]],
  [[10, 10, 12, 8], [5, 5, 5, 5], [7, 6, 7, 6]],
];

test('baseline relabelling within seeds: exact one-sided p equal a brute-force enumeration in Python', () => {
  const want = python(`out = []
for seeds in req:
    stat = lambda x, b: np.mean([v - x[b] for i, v in enumerate(x) if i != b])
    obs = np.mean([stat(x, 0) for x in seeds])
    null = [np.mean([stat(x, b) for x, b in zip(seeds, bs)]) for bs in itertools.product(*[range(len(x)) for x in seeds])]
    tol = 1e-12 * max(1, abs(obs))
    out.append([float(obs), float(np.mean([v <= obs + tol for v in null])), float(np.mean([v >= obs - tol for v in null])), len(null)])
print(json.dumps(out))`, seedsOf) as number[][];
  seedsOf.forEach((seeds, k) => {
    const r = blockPermutationTest(seeds.map((x) => referenceBlock(x.length, 0, (b) => [meanDifference(x, b)])));
    const [obs, lower, upper, total] = want[k]!;
    close(r.observed[0]!, obs!, `set ${k} observed`);
    close(r.lower[0]!, lower!, `set ${k} lower p`);
    close(r.upper[0]!, upper!, `set ${k} upper p`);
    assert.equal(r.total, total);
    assert.ok(r.exact);
    assert.equal(r.smallestP, 1 / 64);
  });
  // Every seed lower with the baseline worst: the smallest p, (1/T)^S.
  const best = blockPermutationTest([[9, 1, 2], [8, 2, 1], [7, 3, 1]].map((x) => referenceBlock(3, 0, (b) => [meanDifference(x, b)])));
  close(best.lower[0]!, 1 / 27, 'all lower');
});

test('gFID shuffled within seeds: per-seed Spearman ρ equals scipy.spearmanr and the exact p of the mean ρ difference equals Python\'s enumeration', () => {
  const seeds = [
    { rfid: [60, 64, 58, 70, 66], pfid: [110, 104, 120, 98, 115], gfid: [180, 176, 185, 170, 190] },
    { rfid: [62, 61, 67, 59, 65], pfid: [112, 118, 101, 109, 109], gfid: [170, 182, 168, 171, 175] },
  ];
  const want = python(`rho = lambda a, b: float(stats.spearmanr(a, b)[0])
stat = lambda s, g: [rho(s['rfid'], g), rho(s['pfid'], g), rho(s['pfid'], g) - rho(s['rfid'], g)]
per = [[stat(s, [s['gfid'][i] for i in p]) for p in itertools.permutations(range(len(s['gfid'])))] for s in req]
obs = np.mean([p[0] for p in per], axis=0)
null = np.array([np.mean(c, axis=0) for c in itertools.product(*per)])
tol = 1e-12 * np.maximum(1, np.abs(obs))
print(json.dumps({'per_seed': [p[0] for p in per], 'obs': obs.tolist(), 'lower': np.mean(null <= obs + tol, axis=0).tolist(),
  'upper': np.mean(null >= obs - tol, axis=0).tolist(), 'total': len(null)}))`, seeds) as { per_seed: number[][]; obs: number[]; lower: number[]; upper: number[]; total: number };
  const blocks = seeds.map((s) => shuffleBlock(s.gfid, (g) => {
    const [rr, rp] = [spearman(s.rfid, g), spearman(s.pfid, g)];
    return [rr, rp, rp - rr];
  }));
  blocks.forEach((b, k) => b.at(0).forEach((v, j) => close(v, want.per_seed[k]![j]!, `seed ${k} statistic ${j}`)));
  const r = blockPermutationTest(blocks);
  assert.ok(r.exact);
  assert.equal(r.total, want.total);
  for (let j = 0; j < 3; j++) {
    close(r.observed[j]!, want.obs[j]!, `observed ${j}`);
    close(r.lower[j]!, want.lower[j]!, `lower p ${j}`);
    close(r.upper[j]!, want.upper[j]!, `upper p ${j}`);
  }
});

test('above exactLimit, seeded Monte Carlo: (hits + 1)/(draws + 1), close to the exact p and the same on every run', () => {
  const seeds = [[31, 27, 29, 25, 28, 26], [33, 31, 30, 32, 29, 31.5], [29, 30, 26, 28, 27.5, 27]];
  const blocks = seeds.map((x) => referenceBlock(6, 0, (b) => [meanDifference(x, b)]));
  const exact = blockPermutationTest(blocks);
  const mc = blockPermutationTest(blocks, { exactLimit: 100, samples: 20_000, seed: 3 });
  assert.ok(exact.exact && !mc.exact);
  assert.equal(mc.total, 216);
  assert.equal(mc.evaluated, 20_000);
  assert.equal(mc.smallestP, 1 / 20_001);
  const se = Math.sqrt(exact.lower[0]! * (1 - exact.lower[0]!) / 20_000);
  assert.ok(Math.abs(mc.lower[0]! - exact.lower[0]!) < 4 * se + 1e-4, `Monte Carlo ${mc.lower[0]} vs exact ${exact.lower[0]}`);
  assert.deepEqual(blockPermutationTest(blocks, { exactLimit: 100, samples: 20_000, seed: 3 }), mc, 'seeded: the same p again');
  // Shuffles of 20 values (20! is far past 2^53) are drawn, never indexed.
  const many = Array.from({ length: 20 }, (_, i) => i);
  const big = blockPermutationTest([shuffleBlock(many, (v) => [spearman(many, v)])], { samples: 500 });
  assert.ok(!big.exact);
  close(big.upper[0]!, 1 / 501, 'ρ = 1 is the unique maximum');
});

test('nthPermutation numbers every permutation once, 0 being the identity', () => {
  const seen = new Set(Array.from({ length: 120 }, (_, i) => nthPermutation(5, i).join('')));
  assert.equal(seen.size, 120);
  assert.deepEqual(nthPermutation(5, 0), [0, 1, 2, 3, 4]);
});

test('detectableEffect is (t_{1−α,n−1} + t_{0.8,n−1})·s/√n (scipy.stats.t), and a t test at that effect has about 80% power (noncentral t)', () => {
  const cases = [[3, 5.2, 0.05], [6, 1.3, 0.05], [12, 0.4, 0.01], [2, 10, 0.05]] as const;
  const want = python(`out = []
for n, s, a in req:
    d = (stats.t.ppf(1 - a, n - 1) + stats.t.ppf(0.8, n - 1)) * s / np.sqrt(n)
    power = 1 - stats.nct.cdf(stats.t.ppf(1 - a, n - 1), n - 1, d / (s / np.sqrt(n)))
    out.append([float(d), float(power)])
print(json.dumps(out))`, cases) as number[][];
  cases.forEach(([n, s, a], i) => {
    close(detectableEffect(n, s, a), want[i]![0]!, `n = ${n}`, 1e-8 * want[i]![0]!);
    assert.ok(want[i]![1]! > 0.7 && want[i]![1]! < 0.85, `power at the floor, n = ${n}: ${want[i]![1]}`);
  });
  assert.ok(Number.isNaN(detectableEffect(1, 3, 0.05)), 'one unit: no floor');
});
