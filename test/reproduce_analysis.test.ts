// The reproduction's statistics on hand-made numbers, without models: the
// seed as the unit for all three claims (per-seed values, exact within-seed
// permutation p, t intervals and per-seed Spearman ρ against SciPy), failed
// FIDs left out of the part they spoil and named, the σ = 1 control deciding
// claim 3 when the results carry one, the verdict rule, and designs that
// cannot reach significance refused when the preset loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ConfigError } from '../src/config/index.js';
import { type AnalysisSettings, type TokenizerRun, analyse, loadPreset, reproduceSchema } from '../src/pipeline/index.js';
import { resolveConfig } from '../src/config/index.js';

function scipy(code: string, input: unknown): unknown {
  const run = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-c', `import json, sys, numpy as np\nfrom scipy import stats\nreq = json.load(sys.stdin)\n${code}`],
    { input: JSON.stringify(input), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3-scipy failed (installed by scripts/setup.mjs --oracle?):\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

const settings: AnalysisSettings = { ...resolveConfig(reproduceSchema, [], []).analysis, baseline: 'none' };
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

interface Numbers { rfid: number; pfid: number; gfid: number; post?: number; control?: number }

/** Bootstrap replicates of a FID (metrics/frechet_noise.ts), by kind of FID, when a test gives them. */
type Replicates = (name: string, seed: number, kind: 'pfid' | 'gfid' | 'post' | 'control') => number[] | null;

/** Hand-made runs over tokenizers none, a, b, c and seeds 0–2: `f(name, seed)` gives each one's numbers. */
function runsOf(f: (name: string, seed: number) => Numbers, replicates: Replicates = () => null): TokenizerRun[] {
  const noise = (r: number[] | null) => (r ? { standardError: NaN, replicates: r } : null);
  const gen = (gfid: number, r: number[] | null = null) => ({ gfid, is: null, precision: 0.5, recall: 0.5, samples: 100, gfidNoise: noise(r) });
  return ['none', 'a', 'b', 'c'].flatMap((name) => [0, 1, 2].map((seed) => {
    const v = f(name, seed);
    const at = (kind: Parameters<Replicates>[2]) => replicates(name, seed, kind);
    return {
      name, seed, perturbed: name !== 'none', stages: {}, configs: {},
      tokenizer: {
        rfid: v.rfid, pfid: v.pfid, pfidAlpha: 0.5, pfidDelta: 6, sensitivity: null, psnr: 20, ssim: 0.8, usage: 0.5, perplexity: 40, neighbourCosine: null,
        curve: [], deltaCurve: [], images: 100, features: 'x', rfidNoise: null, pfidNoise: noise(at('pfid')),
      },
      generator: gen(v.gfid, at('gfid')), posttrained: v.post === undefined ? null : gen(v.post, at('post')),
      ...(v.control === undefined ? {} : { control: gen(v.control, at('control')) }),
    };
  }));
}

// Fixed, irregular numbers: the quality of a, b, c and seed offsets with noise that does not line up.
const noise = (name: string, seed: number, k: number) => Math.sin(name.charCodeAt(0) * 12.9898 + seed * 78.233 + k * 3.1) * 4;
const quality = (name: string) => (name === 'none' ? 0 : 'abc'.indexOf(name) + 1);
const measured = runsOf((name, seed) => ({
  rfid: 60 + seed + noise(name, seed, 0) / 2, pfid: 110 - 3 * quality(name) + 4 * seed + noise(name, seed, 1),
  gfid: 180 - 2 * quality(name) + 8 * seed + noise(name, seed, 2), post: name === 'none' || name === 'c' ? 175 + 8 * seed + noise(name, seed, 3) : undefined,
}));

test('per-seed values, t intervals and per-seed Spearman ρ equal SciPy; claim 1\'s exact p is (1/4)^3 when every seed has its baseline worst', () => {
  const a = analyse(measured, settings);
  const { perturbation: c1, ranking: c2, posttraining: c3 } = a.claims;
  const bySeed = [0, 1, 2].map((seed) => ['none', 'a', 'b', 'c'].map((name) => measured.find((r) => r.name === name && r.seed === seed)!));
  const want = scipy(`out = {}
def t(x):
    x = np.array(x); lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x)); return [float(x.mean()), float(lo), float(hi)]
d = lambda s, k: float(np.mean([r[k] - s[0][k] for r in s[1:]]))
out['pfid'] = t([d(s, 'pfid') for s in req]); out['gfid'] = t([d(s, 'gfid') for s in req])
out['rfid'] = t([float(np.mean([r['rfid'] / s[0]['rfid'] - 1 for r in s[1:]])) for s in req])
rho = lambda s, k: float(stats.spearmanr([r[k] for r in s], [r['gfid'] for r in s])[0])
out['rho'] = [[rho(s, 'rfid'), rho(s, 'pfid')] for s in req]
out['post'] = t([float(np.mean([r['post'] - r['gfid'] for r in s if r['post'] is not None])) for s in req])
print(json.dumps(out))`, bySeed.map((s) => s.map((r) => ({ rfid: r.tokenizer.rfid, pfid: r.tokenizer.pfid, gfid: r.generator.gfid, post: r.posttrained?.gfid ?? null })))) as
    Record<'pfid' | 'gfid' | 'rfid' | 'post', number[]> & { rho: number[][] };
  for (const [name, part] of [['pfid', c1.pfid], ['gfid', c1.gfid], ['rfid', c1.rfidCost], ['post', c3.effect]] as const) {
    assert.equal(part.n, 3, name);
    close(part.t.mean, want[name][0]!, `${name} mean`);
    close(part.t.interval[0], want[name][1]!, `${name} interval low`);
    close(part.t.interval[1], want[name][2]!, `${name} interval high`);
  }
  c2.seeds.forEach((s, i) => {
    close(s.spearman.rfid, want.rho[i]![0]!, `seed ${i} ρ(rFID)`);
    close(s.spearman.pfid, want.rho[i]![1]!, `seed ${i} ρ(pFID)`);
  });
  close(c2.spearman.pfid.t.mean, want.rho.reduce((x, r) => x + r[1]!, 0) / 3, 'mean per-seed ρ(pFID)');
  // pFID of the baseline is the worst in every seed here: the smallest p of 4^3 relabellings.
  assert.ok(bySeed.every((s) => s.slice(1).every((r) => r.tokenizer.pfid < s[0]!.tokenizer.pfid)));
  close(c1.pfid.p, 1 / 64, 'claim 1 pFID p');
  assert.equal(c1.pfid.detectableEffect.smallestP, 1 / 64);
  assert.match(c1.pfid.test, /exact, all 64 relabellings/);
  assert.match(c2.spearman.difference.test, /exact, all 13824 relabellings/);
  assert.equal(c1.unit, 'seed');
  assert.equal(a.tokenizers[0]!.gfid.n, 3);
  close(a.tokenizers[0]!.gfid.standardError, a.tokenizers[0]!.gfid.std / Math.sqrt(3), 'SE of a FID over seeds');
});

test('a failed FID drops its seed from that part only, and says so; a seed with fewer than 3 finite tokenizers leaves claim 2', () => {
  const runs = measured.map((r) => (r.name === 'b' && r.seed === 1 ? { ...r, generator: { ...r.generator, gfid: NaN } } : r));
  const { perturbation: c1, ranking: c2 } = analyse(runs, settings).claims;
  assert.equal(c1.gfid.n, 2);
  assert.match(c1.gfid.dropped.join(), /seed 1 \(gFID of b not measured or not finite\)/);
  assert.equal(c1.pfid.n, 3, 'pFID is unaffected');
  assert.equal(c1.pfid.dropped.length, 0);
  assert.equal(c2.seeds.find((s) => s.seed === 1)!.tokenizers.length, 3, 'claim 2 ranks the other three of seed 1');
  assert.match(c2.dropped.join(), /b seed 1/);
  const worse = runs.map((r) => (r.seed === 1 && r.name !== 'none' ? { ...r, tokenizer: { ...r.tokenizer, pfid: NaN } } : r));
  const c2b = analyse(worse, settings).claims.ranking;
  assert.equal(c2b.spearman.difference.n, 2);
  assert.match(c2b.dropped.join(), /seed 1 \(1 tokenizers with finite FIDs, a rank correlation needs 3\)/);
});

test('with a σ = 1 control in the results, claim 3 is post − control; post − original is shown beside it', () => {
  // Post-training beats the original decoder by 5 in every seed, but the control does just as well: no σ effect.
  const runs = runsOf((name, seed) => ({ rfid: 60, pfid: 100, gfid: 180 + seed + quality(name), post: name === 'none' ? 175 + seed + seed * seed * 0.3 : undefined,
    control: name === 'none' ? 175 + seed + [0.4, -0.6, 0.3][seed]! : undefined }));
  const c3 = analyse(runs, settings).claims.posttraining;
  assert.equal(c3.primary, 'control');
  assert.ok(c3.control && c3.control.n === 3);
  assert.equal(c3.effect.verdict, 'supported', 'the original decoder is beaten');
  assert.notEqual(c3.verdict, 'supported', c3.line);
  assert.equal(c3.verdict, c3.control.verdict);
  assert.match(c3.line, /vs the σ = 1 control/);
  const without = analyse(measured, settings).claims.posttraining;
  assert.equal(without.control, null);
  assert.match(without.line, /no σ = 1 control/);
});

test('the verdicts follow the rule (src/pipeline/verdict.ts): supported, not supported, below this design\'s resolution, a bound', () => {
  const good = analyse(runsOf((name, seed) => ({
    rfid: 10 + noise(name, seed, 0) / 50, pfid: 30 - 5 * quality(name) + seed, gfid: 40 - 4 * quality(name) + seed + noise(name, seed, 1) / 10,
    post: name === 'none' || name === 'c' ? 35 - 4 * quality(name) + seed + noise(name, seed, 2) / 10 : undefined,
  })), settings);
  for (const claim of Object.values(good.claims)) assert.equal(claim.verdict, 'supported', claim.line);
  const bad = analyse(runsOf((name, seed) => {
    const q = quality(name);
    return { rfid: 10 + q, pfid: 20 - q + seed * 0.1, gfid: 30 + 2 * q + seed * 0.1 + noise(name, seed, 1) / 10, post: q === 3 || q === 0 ? 40 + q + seed + noise(name, seed, 2) : undefined };
  }), settings);
  for (const claim of Object.values(bad.claims)) assert.equal(claim.verdict, 'not supported', claim.line);
  // Tiny effects drowned by seed noise: not seen, and the floor says the design could not have seen them.
  const faint = analyse(runsOf((name, seed) => ({ rfid: 10, pfid: 30 + noise(name, seed, 1) * 3, gfid: 40 + noise(name, seed, 2) * 3, post: name === 'none' ? 40 + noise(name, seed, 3) * 3 : undefined })), settings);
  const c1 = faint.claims.perturbation;
  assert.equal(c1.gfid.verdict, "below this design's resolution", c1.line);
  assert.ok(Math.abs(c1.gfid.t.mean) < c1.gfid.detectableEffect.effect);
  assert.match(c1.line, /detectable at 80% power: /);
  // Perturbation helps but costs 30–50% rFID, beyond the registered 10%: not the claim.
  const costly = analyse(runsOf((name, seed) => ({ rfid: name === 'none' ? 10 : 13 + seed + noise(name, seed, 0) / 10, pfid: name === 'none' ? 30 : 20 + seed, gfid: name === 'none' ? 40 : 30 + seed })), settings);
  assert.equal(costly.claims.perturbation.rfidCost.verdict, 'not supported', costly.claims.perturbation.line);
  assert.equal(costly.claims.perturbation.verdict, 'not supported');
  assert.equal(costly.claims.perturbation.rfidCost.bound, 0.1, 'the default bound is 10% relative');
});

test('a preset whose design cannot reach significance is refused at load, naming the claim and the smallest n that could', () => {
  const refused = (o: Parameters<typeof loadPreset>[1], pattern: RegExp) => assert.throws(() => loadPreset('quick', o), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, pattern);
    return true;
  });
  // Quick's 3 tokenizers over 2 seeds: (1/3)^2 = 0.111 ≥ 0.05.
  refused({ seeds: [0, 1] }, /claim 1 \(perturbation\) cannot reach significance 0\.05: .*2 seed\(s\) × 3 tokenizers .*p = \(1\/3\)\^2 = 0\.111; it needs at least 3 seeds that train all of them \(or 5 tokenizers per seed\)/);
  refused({ seeds: [0] }, /claim 1's rFID cost is a t test over seeds: 1 seed\(s\) training all its tokenizers give no p; it needs at least 2.*\n.*claim 3 \(post-training\) is a t test over the post-trained seeds: 1 give no p/s);
  refused({ sets: ['tokenizer.sweep=[{"name":"none","set":["perturbation.enabled=false"]},{"name":"delta4","set":["perturbation.delta=4"]}]'] },
    /claim 2 \(ranking\) needs at least 3 tokenizers on a seed .*the most any seed trains is 2/);
  refused({ sets: ['analysis.significance=0.001'] }, /claim 1 .*gives at best p = \(1\/3\)\^3 = 0\.0370; it needs at least 7 seeds that train all of them \(or 11 tokenizers per seed\).*\n.*claim 2 \(ranking\) cannot reach significance 0\.001: .*3 seed\(s\) of 3, 3, 3 tokenizers gives at best p = 0\.00463; at 3 tokenizers per seed it needs at least 4 seeds \(or 4 tokenizers per seed\)/s);
  // Entries on some seeds only: claim 1 counts the seeds that train all of its tokenizers, claim 3 the post-trained seeds.
  const sweep = (delta4Seeds: number[]) => `tokenizer.sweep=[{"name":"none","set":["perturbation.enabled=false"]},{"name":"delta4","set":["perturbation.delta=4"],"seeds":${JSON.stringify(delta4Seeds)}},{"name":"delta16","set":["perturbation.delta=16"]}]`;
  refused({ sets: [sweep([0]), 'analysis.perturbed=["delta4"]'] }, /claim 1 \(perturbation\) cannot reach significance 0\.05: .*over 1 seed\(s\) × 2 tokenizers/);
  refused({ sets: [sweep([7])] }, /tokenizer\.sweep\[1\]\.seeds: none of 7 is among seeds \(0, 1, 2\), so 'delta4' would never train/);
  refused({ sets: ['posttrain.seeds=[2]'] }, /claim 3 \(post-training\) is a t test over the post-trained seeds: 1 give no p; it needs at least 2 \(posttrain\.seeds\)/);
  refused({ sets: ['eval.fidReplicates=1'] }, /eval\.fidReplicates: 1 replicate has no spread/);
  assert.doesNotThrow(() => loadPreset('quick', { sets: [sweep([0, 1, 2])] }));
  for (const name of ['quick', 'small', 'emoji64']) assert.doesNotThrow(() => loadPreset(name), name);
  assert.equal(loadPreset('small').config.analysis.rfidCost, 0.1);
});

test('sample noise: each seed\'s error is the spread of the same combination of its FIDs\' replicates, set against the between-seed spread', () => {
  // Replicates: a pattern shared by every FID (shared real images) plus one of each FID's own.
  const wave = (k: number) => Array.from({ length: 20 }, (_, b) => Math.sin(b * 1.7 + k) * 2);
  const code = (name: string, seed: number, kind: string) => name.charCodeAt(0) + 10 * seed + kind.length;
  const replicates: Replicates = (name, seed, kind) => wave(0).map((v, b) => v + wave(code(name, seed, kind))[b]! / 4);
  const runs = runsOf((name, seed) => ({
    rfid: 60, pfid: 100 - 5 * quality(name) + noise(name, seed, 1), gfid: 180 - 4 * quality(name) + 3 * noise(name, seed, 2),
    post: name === 'none' ? 170 + noise(name, seed, 3) : undefined, control: name === 'none' ? 172 + noise(name, seed, 4) : undefined,
  }), replicates);
  const a = analyse(runs, settings);
  const sd = (x: number[]) => Math.sqrt(x.reduce((s2, v) => s2 + (v - x.reduce((m, u) => m + u, 0) / x.length) ** 2, 0) / (x.length - 1));
  for (const seed of [0, 1, 2]) {
    // Claim 1's gFID value: mean over a, b, c of (entry − none).
    const combined = wave(0).map((_, b) => ['a', 'b', 'c'].reduce((m, n) => m + replicates(n, seed, 'gfid')![b]! / 3, 0) - replicates('none', seed, 'gfid')![b]!);
    close(a.claims.perturbation.gfid.sampleNoise!.perSeed.find((e) => e.seed === seed)!.value, sd(combined), `claim 1 gFID error, seed ${seed}`);
    // Claim 3: post − control on the same tokens.
    const paired = wave(0).map((_, b) => replicates('none', seed, 'post')![b]! - replicates('none', seed, 'control')![b]!);
    close(a.claims.posttraining.control!.sampleNoise!.perSeed.find((e) => e.seed === seed)!.value, sd(paired), `claim 3 error, seed ${seed}`);
  }
  const part = a.claims.perturbation.gfid;
  const typical = Math.sqrt(part.sampleNoise!.perSeed.reduce((m, e) => m + e.value ** 2, 0) / 3);
  close(part.sampleNoise!.share, typical ** 2 / part.t.std ** 2, 'share of the between-seed variance');
  assert.equal(part.sampleNoise!.dominant, part.sampleNoise!.share > 0.5 ? 'sample' : 'training');
  // The shared pattern cancels in every difference: each error is far below one FID's replicate spread.
  assert.ok(part.sampleNoise!.typical < sd(replicates('none', 0, 'gfid')!) / 2, `${part.sampleNoise!.typical}`);
  assert.match(a.claims.perturbation.line, /ΔgFID .*sample noise [0-9.]+ per seed \([0-9.]+% of the between-seed variance: (sample|training) noise dominates\)/);
  // Ranks and the rFID ratio are not FIDs: no sample noise there; nor where no FID carried replicates.
  assert.equal(a.claims.ranking.spearman.difference.sampleNoise, null);
  assert.equal(a.claims.perturbation.rfidCost.sampleNoise, null);
  assert.equal(analyse(measured, settings).claims.perturbation.gfid.sampleNoise, null);
});
