// `robustok reproduce` end to end on the quick preset, into a
// temp dir, with one thread and a random-weight tiny feature classifier (the
// numbers are meaningless; the plumbing is not):
//  - a run stopped inside its first training stage records it as running,
//    and --resume continues that stage from its checkpoint, then runs the rest;
//  - every stage's outputs and stage.json exist; results.json holds numbers
//    for every tokenizer and seed and the three claims with verdicts;
//    report.html is offline (no http(s) anywhere);
//  - a second --resume skips every stage, quickly;
//  - edited weights rerun exactly the stages that read them, a changed config
//    key reruns the stages it reaches, an edited record reruns its stage,
//    each with a line saying why;
//  - DIR is not reused without --resume, and --jobs beyond the cores is refused;
//  - --jobs 2 runs stages in two one-thread child processes, stops and resumes
//    like the in-process run, and gives the same numbers.
// Then, without models: the presets resolve (every stage config) and bad ones
// list every problem (the statistics on hand-made numbers: test/reproduce_analysis.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/config/index.js';
import {
  type Results, type StageRecord, type TokenizerRun, STAGE_KINDS, claim1Seeds, entriesOn, layerConfigs, loadPreset, posttrainSeeds, recordFile, reproduce,
} from '../src/pipeline/index.js';
import { loadSafetensors, saveSafetensors, tidy } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { saveRandomClassifier } from './helpers/runs.js';
import { oneThreadEnv } from './helpers/one_thread.js';

const work = scratchDir();
const dir = path.join(work, 'quick');
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const classifier = saveRandomClassifier(path.join(work, 'classifier.safetensors'));
const sets = [`eval.weights=${classifier}`];

/** `robustok reproduce --preset quick --out DIR ARGS` with one thread: exit status, stderr, seconds. */
function cliRun(...args: string[]): { status: number | null; stderr: string; stdout: string; seconds: number } {
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, 'reproduce', '--preset', 'quick', '--out', dir, '--set', sets[0]!, ...args], {
    env: oneThreadEnv, encoding: 'utf8', maxBuffer: 1 << 28,
  });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout, seconds: (performance.now() - started) / 1000 };
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const lines = (text: string, pattern: RegExp): string[] => text.split('\n').filter((l) => pattern.test(l));
let fullSeconds = 0;

test('a reproduction stopped in its first training stage continues it with --resume, then runs every stage into DIR', async () => {
  const stop = new AbortController();
  const logs: string[] = [];
  const stopped = await reproduce(loadPreset('quick', { sets }), dir, {
    events: {
      signal: stop.signal, log: (m) => logs.push(m),
      progress: (e) => { if (e.label === 'train-tokenizer/none-s0 train' && e.done >= 5) stop.abort('stopped by the test'); },
    },
  });
  assert.equal(stopped.status, 'interrupted');
  const first = path.join(dir, 'train-tokenizer', 'none-s0');
  assert.equal(readJson<StageRecord>(recordFile(first)).status, 'running');
  assert.ok(existsSync(path.join(first, 'checkpoint.safetensors')), 'the stopped trainer saved a checkpoint');
  assert.ok(!existsSync(path.join(dir, 'results.json')));

  const run = cliRun('--resume');
  fullSeconds = run.seconds;
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  assert.match(run.stderr, /train-tokenizer\/none-s0: interrupted \(started [^)]*\): continuing from its last checkpoint/);
  assert.match(run.stderr, /train-tokenizer\/none-s0: resumed from step 5/);
  assert.match(run.stdout, /claim 1 \(.*\): (supported|not supported|inconclusive at this scale|below this design's resolution)/);

  const results = readJson<Results>(path.join(dir, 'results.json'));
  const seeds = [0, 1, 2];
  const names = ['none', 'delta4', 'delta8'];
  assert.deepEqual(results.runs.map((r) => `${r.name}-s${r.seed}`).sort(), seeds.flatMap((s) => names.map((n) => `${n}-s${s}`)).sort());
  for (const r of results.runs) {
    for (const v of [r.tokenizer.rfid, r.tokenizer.pfid, r.generator.gfid, r.tokenizer.usage]) assert.ok(Number.isFinite(v), `${r.name}-s${r.seed}: ${v}`);
    assert.equal(r.configs['train-tokenizer'] && (r.configs['train-tokenizer'] as { train: { seed: number } }).train.seed, r.seed, 'the tokenizer trained with its seed');
    assert.ok(r.configs['eval-generator'], 'the configs that made the numbers are recorded');
    // Every stage of this tokenizer: its folder, outputs and a finished record.
    for (const [kind, rel] of Object.entries(r.stages)) {
      assert.ok((STAGE_KINDS as readonly string[]).includes(kind));
      const record = readJson<StageRecord>(recordFile(path.join(dir, rel)));
      assert.equal(record.status, 'done', rel);
      assert.equal(rel, `${kind}/${r.name}-s${r.seed}`);
      assert.ok(record.outputs && record.hash && record.config, rel);
    }
    assert.equal(Object.keys(r.stages).length, r.posttrained ? 8 : 4, 'post-trained tokenizers add post-training, its σ = 1 control and their evaluations');
  }
  for (const s of seeds) {
    const post = results.runs.filter((r) => r.seed === s && r.posttrained);
    assert.ok(post.some((r) => r.name === 'none'), `seed ${s}: the baseline is post-trained`);
    const best = results.runs.filter((r) => r.seed === s).sort((a, b) => a.tokenizer.pfid - b.tokenizer.pfid)[0]!;
    assert.ok(post.some((r) => r.name === best.name), `seed ${s}: the lowest-pFID tokenizer is post-trained`);
    for (const r of post) assert.ok(Number.isFinite(r.posttrained!.gfid) && Number.isFinite(r.control!.gfid));
    for (const r of post) {
      const config = (kind: string) => r.configs[kind] as { sigma: number; train: { seed: number } };
      assert.equal(config('post-train-control').sigma, 1, 'the control keeps every ground-truth token');
      assert.ok(config('post-train').sigma < 1);
      assert.deepEqual({ ...config('post-train-control'), sigma: 0 }, { ...config('post-train'), sigma: 0 }, 'the same recipe and seed but σ');
    }
  }
  const { claims } = results.analysis;
  for (const claim of [claims.perturbation, claims.ranking, claims.posttraining]) {
    assert.ok(['supported', 'not supported', 'inconclusive at this scale', "below this design's resolution"].includes(claim.verdict), claim.verdict);
    assert.ok(claim.line.startsWith(claim.verdict));
  }
  assert.equal(claims.perturbation.pairs.length, 6, 'delta4 and delta8 against none, per seed');
  assert.equal(claims.ranking.points, 9);
  assert.ok(Number.isFinite(claims.ranking.spearman.pfid.t.mean));
  assert.equal(claims.posttraining.pairs.length, results.runs.filter((r) => r.posttrained).length);
  assert.equal(results.preset.config.eval.weights, classifier);
  // The seed as the unit: each claim's test, p, interval, per-part n and power floor.
  const parts = [claims.perturbation.pfid, claims.perturbation.gfid, claims.perturbation.rfidCost, claims.ranking.spearman.difference, claims.posttraining.effect, claims.posttraining.control!];
  for (const claim of [claims.perturbation, claims.ranking, claims.posttraining]) assert.equal(claim.unit, 'seed');
  for (const part of parts) {
    assert.equal(part.unit, 'seed');
    assert.equal(part.n, 3, part.what);
    assert.ok(part.test.length > 0 && Number.isFinite(part.p) && part.t.interval.every(Number.isFinite), part.what);
    assert.ok(part.detectableEffect.effect > 0 && part.detectableEffect.reachable, part.what);
  }
  assert.match(claims.perturbation.pfid.test, /exact, all 27 relabellings/);
  assert.match(claims.ranking.spearman.difference.test, /exact, all 216 relabellings/);
  assert.equal(claims.posttraining.primary, 'control', 'claim 3 is decided against the σ = 1 control');
  assert.equal(claims.posttraining.control!.n, 3);
  for (const t of results.analysis.tokenizers) {
    for (const f of [t.rfid, t.pfid, t.gfid]) assert.ok(f.standardError > 0 && f.sampleError > 0, `${t.name}: standard errors over seeds and over samples beside each FID`);
  }
  // FID noise: every FID carries its bootstrap replicates, and the FID parts set their sample noise against the seeds'.
  const replicates = results.preset.config.eval.fidReplicates;
  for (const r of results.runs) {
    const noises = [r.tokenizer.rfidNoise, r.tokenizer.pfidNoise, r.generator.gfidNoise, ...(r.posttrained ? [r.posttrained.gfidNoise, r.control!.gfidNoise] : [])];
    for (const n of noises) assert.ok(n && n.replicates.length === replicates && n.standardError > 0, `${r.name}-s${r.seed}: a bootstrap standard error beside each FID`);
  }
  for (const part of [claims.perturbation.pfid, claims.perturbation.gfid, claims.posttraining.control!]) {
    assert.ok(part.sampleNoise && part.sampleNoise.perSeed.length === 3 && part.sampleNoise.typical > 0, part.what);
  }
  assert.match(results.preset.hash, /^[0-9a-f]{64}$/);
  assert.match(results.preset.fileHash, /^[0-9a-f]{64}$/);

  const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.ok(!/https?:\/\//.test(html), 'no network references in report.html');
  assert.ok(html.indexOf('Registered before the run') < html.indexOf('<h2>Claims'), 'the rule comes before the numbers');
  assert.ok(html.includes(results.preset.hash));
  assert.match(html, /<svg/);
  assert.match(html, /data:image\/png;base64,/);
  for (const claim of [claims.perturbation, claims.ranking, claims.posttraining]) assert.ok(html.includes(claim.verdict));
  const summary = readFileSync(path.join(dir, 'summary.md'), 'utf8');
  for (const claim of [claims.perturbation, claims.ranking, claims.posttraining]) assert.ok(summary.includes(`**${claim.verdict}**`), 'summary.md carries the verdicts');
  for (const plot of ['gfid-vs-rfid.svg', 'gfid-vs-pfid.svg']) assert.match(readFileSync(path.join(dir, 'plots', plot), 'utf8'), /^<svg[^>]*xmlns=/);
});

test('a second --resume skips every stage, quickly', () => {
  const run = cliRun('--resume');
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  const stageLines = lines(run.stderr, /^[a-z-]+\/[\w.-]+-s\d+: /);
  const results = readJson<Results>(path.join(dir, 'results.json'));
  const stages = results.runs.reduce((n, r) => n + Object.keys(r.stages).length, 0);
  assert.equal(lines(run.stderr, /: skipped \(done .*, same config and inputs\)$/).length, stages, 'one "skipped" line per stage');
  assert.equal(stageLines.length, stages, `only skipped lines:\n${stageLines.filter((l) => !/skipped/.test(l)).join('\n')}`);
  assert.ok(run.seconds < Math.max(15, fullSeconds / 3), `the skipping run took ${run.seconds.toFixed(1)} s (the full one ${fullSeconds.toFixed(1)} s)`);
});

test('changed inputs rerun the stages that read them, with a line saying why; nothing else reruns', () => {
  // The baseline tokenizer of seed 0: weights edited (every dependent stage must rerun).
  const weights = path.join(dir, 'train-tokenizer', 'none-s0', 'tokenizer.safetensors');
  tidy(() => {
    const { tensors, metadata } = loadSafetensors(weights);
    const name = Object.keys(tensors).find((k) => tensors[k]!.dtype === 'float32')!;
    saveSafetensors(weights, { ...tensors, [name]: tensors[name]!.add(0.05) }, metadata);
  });
  // An evaluation's record edited by hand: that stage alone reruns.
  const record = recordFile(path.join(dir, 'eval-generator', 'delta8-s1'));
  writeFileSync(record, JSON.stringify({ ...readJson<StageRecord>(record), hash: '0'.repeat(64) }));
  // A config key that only tokenizer evaluations read: all of them rerun.
  const run = cliRun('--resume', '--set', 'eval.pfid.curve=[0.5]');
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  const e = run.stderr;
  assert.match(e, /train-tokenizer\/none-s0: skipped .*its outputs changed since \(edited\?\)/);
  for (const kind of ['train-generator', 'eval-generator']) assert.match(e, new RegExp(`${kind}/none-s0: rerun: input[^\\n]*train-tokenizer/none-s0[^\\n]* changed`));
  assert.match(e, /eval-tokenizer\/none-s0: rerun: config changed: pfid\.curve \[0\.5,1\] → \[0\.5\]; input train-tokenizer\/none-s0 changed/);
  assert.match(e, /eval-tokenizer\/delta4-s1: rerun: config changed: pfid\.curve/);
  assert.match(e, /eval-generator\/delta8-s1: rerun: its recorded hash does not match/);
  for (const id of ['train-tokenizer/delta4-s0', 'train-generator/delta4-s0', 'eval-generator/delta4-s0', 'train-generator/none-s1', 'eval-generator/delta8-s0']) {
    assert.match(e, new RegExp(`${id}: skipped`), `${id} does not read anything that changed`);
  }
  const results = readJson<Results>(path.join(dir, 'results.json'));
  assert.ok(results.runs.every((r) => r.tokenizer.curve.length === 1), 'the new curve is in the results');
});

test('DIR is not reused without --resume; --jobs beyond the cores is refused with a clear message', async () => {
  const again = cliRun();
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a reproduction: pass --resume/);
  await assert.rejects(reproduce(loadPreset('quick', { sets }), dir, { jobs: 3, cores: 2, resume: true }), /--jobs 3 is more than the 2 cores here/);
  await assert.rejects(reproduce(loadPreset('quick', { sets }), dir, { jobs: 0, resume: true }), /--jobs must be a positive integer/);
});

test('--jobs 2: stages in two child processes of one thread each; stopped and resumed, the numbers equal the one-at-a-time run', async () => {
  const parallel = path.join(work, 'parallel');
  // One seed is plumbing only: no claim can be decided on it, and loadPreset refuses such a design
  // (src/pipeline/design.ts), so the preset is built past that check.
  const quick = loadPreset('quick', { sets });
  const preset = { ...quick, config: { ...quick.config, seeds: [0] } };
  const stop = new AbortController();
  const logs: string[] = [];
  const states: string[] = [];
  // The child stops itself at step 5 (ROBUSTOK_STOP_AT): a stop sent when this process hears of step 5
  // reaches it a moment later, a step later under load. This process's stop then ends the other stage.
  const events = { signal: stop.signal, log: (m: string) => logs.push(m),
    progress: (e: { label: string; done: number }) => { if (e.label === 'train-generator/delta4-s0 train' && e.done >= 5) stop.abort('SIGTERM'); } };
  process.env.ROBUSTOK_STOP_AT = 'train-generator/delta4-s0 train@5';
  const stopped = await reproduce(preset, parallel, { jobs: 2, cores: 2, events, onStage: (u) => states.push(`${u.id} ${u.state}`) })
    .finally(() => { delete process.env.ROBUSTOK_STOP_AT; });
  assert.equal(stopped.status, 'interrupted');
  const generator = path.join(parallel, 'train-generator', 'delta4-s0');
  assert.equal(readJson<StageRecord>(recordFile(generator)).status, 'running');
  assert.ok(existsSync(path.join(generator, 'checkpoint.safetensors')), 'the child saved a checkpoint when the stop reached it');
  assert.ok(states.includes('train-generator/delta4-s0 interrupted'));
  const running = new Set<string>();
  let most = 0;
  for (const line of states) {
    const [id, state] = line.split(' ') as [string, string];
    if (state === 'running') running.add(id);
    else running.delete(id);
    most = Math.max(most, running.size);
  }
  assert.equal(most, 2, 'two stages ran at once, never more');

  const resumed = await reproduce(preset, parallel, { jobs: 2, cores: 2, resume: true, events: { log: (m) => logs.push(m) } });
  assert.equal(resumed.status, 'done');
  assert.ok(logs.some((l) => /train-generator\/delta4-s0: resumed from step 5/.test(l)), logs.filter((l) => /delta4-s0/.test(l)).join('\n'));
  // delta4 and delta8 of seed 0 ran with one thread in both reproductions (none-s0 did not: the first
  // test stopped it in this process), so their numbers are the same to the last bit.
  const serial = readJson<Results>(path.join(dir, 'results.json'));
  const numbers = (r: TokenizerRun) => [r.tokenizer.rfid, r.tokenizer.pfid, r.generator.gfid];
  for (const name of ['delta4', 'delta8']) {
    const run = (res: Results): TokenizerRun => res.runs.find((r) => r.name === name && r.seed === 0)!;
    assert.deepEqual(numbers(run(resumed.output!)), numbers(run(serial)), name);
  }
});

test('the presets resolve with every stage config; a bad preset lists every problem at once', () => {
  for (const name of ['quick', 'small', 'emoji64']) {
    const preset = loadPreset(name);
    const layers = layerConfigs(preset);
    const { seeds, tokenizer } = preset.config;
    if (name !== 'quick') assert.ok(seeds.length >= 3, `${name}: seeds`);
    for (const v of tokenizer.sweep) {
      const seed = (v.seeds ?? seeds)[0]!;
      assert.equal(layers.tokenizer(v.name, seed).train.seed, seed);
    }
    assert.equal(layers.perturbed(tokenizer.baseline), false);
  }
  // small's shape (issue #25): claim 1's two arms on 7 seeds, 4 tokenizers ranked on seeds 0 and 1, post-training on seeds 0–2.
  const small = loadPreset('small').config;
  assert.deepEqual(claim1Seeds(small), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(small.seeds.map((seed) => entriesOn(small, seed).length), [4, 4, 2, 2, 2, 2, 2]);
  assert.deepEqual(posttrainSeeds(small), [0, 1, 2]);
  assert.equal(layerConfigs(loadPreset('small')).tokenizer('none-300', 1).train.steps, 300);
  assert.throws(() => layerConfigs(loadPreset('small')).tokenizer('none-300', 2), /no tokenizer config for none-300\/2/, 'an entry has no config on a seed it does not train');
  assert.deepEqual(loadPreset('quick', { seeds: [4, 7, 9] }).config.seeds, [4, 7, 9]);
  const bad = [
    'tokenizer.baseline=delta4', 'posttrain.tokenizers=["best-pfid","nope"]',
    'tokenizer.sweep=[{"name":"none","set":["perturbation.enabled=false"]},{"name":"delta4","set":["perturbation.delta=999","model.nosuch=1"]},{"name":"delta8","set":["perturbation.delta=8"]}]',
  ];
  assert.throws(() => layerConfigs(loadPreset('quick', { sets: bad.slice(2) })), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const text = error.issues.join('\n');
    assert.match(text, /tokenizer\.sweep\[1\] \(delta4\): .*model\.nosuch: unknown key/);
    return true;
  });
  assert.throws(() => loadPreset('quick', { sets: bad.slice(0, 2) }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /posttrain\.tokenizers\[1\]: 'nope' is not a sweep name/);
    return true;
  });
  assert.throws(() => layerConfigs(loadPreset('quick', { sets: ['tokenizer.baseline=delta4'] })), /needs it off/);
  assert.throws(() => loadPreset('quick', { sets: ['tokenizer.sweep=[{"name":"a b"},{"name":"x"},{"name":"x"}]'] }), /not a name of letters.*\n.*repeated: x/s);
  assert.throws(() => loadPreset('nosuch'), /no reproduce preset 'nosuch'/);
});
