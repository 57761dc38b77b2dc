// The generator as a run and as commands: a stopped run resumed
// to the end equals a straight one bit for bit (with and without mirror
// images); the token cache is reused, re-encoded when the tokenizer changes,
// and holds tokenizer.encode's ids; `robustok sample` writes a grid and its
// ids (read back by NumPy), seeded; `robustok eval-generator --json` prints
// the object and an offline report; bad inputs are named (exit 1).
// The tokenizers have random weights of the tiny preset's shape (another
// seed: another codebook; codebookSize=32: another K): the generator layer
// must not care whether they were trained, and training three would not
// fit the time budget.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeNpy } from '../src/cli/npy.js';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { DataLoader, leadingSamples, openDataset, prepareSplit } from '../src/data/index.js';
import { generatorSchema } from '../src/generator/index.js';
import { runPaths, trainGenerator } from '../src/runs/index.js';
import { Tokenizer } from '../src/tokenizer/index.js';
import { liveTensors, loadSafetensors, noGrad, tidy } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { metricLines, presets, robustok, sameTensors, saveRandomClassifier, saveTinyTokenizer } from './helpers/runs.js';

const work = scratchDir();

/** trainGenerator on the tiny preset with `sets`, its log lines collected; `stopAt` aborts once that step is logged. */
async function train(dir: string, tokenizer: string, sets: string[], o: { resume?: boolean; stopAt?: number } = {}) {
  const config = resolveConfig(generatorSchema, [loadConfigFile(presets.generator)], sets);
  const logs: string[] = [];
  const stop = new AbortController();
  const result = await trainGenerator(config, dir, {
    tokenizer, resume: o.resume, events: {
      log: (m) => logs.push(m), signal: stop.signal,
      progress: (e) => { if (o.stopAt !== undefined && e.label === 'train' && e.done >= o.stopAt) stop.abort('stopped by the test'); },
    },
  });
  return { result, log: logs.join('\n') };
}

const tokA = saveTinyTokenizer(path.join(work, 'tok-a'), 0);
const tokB = saveTinyTokenizer(path.join(work, 'tok-b'), 1);  // same K, another codebook
const tokK32 = saveTinyTokenizer(path.join(work, 'tok-k32'), 0, ['model.codebookSize=32']);
const small = ['data.limit=64', 'train.logEvery=1', 'train.sampleEvery=100', 'train.checkpointEvery=100'];  // 4 batches of 16 per epoch
const gen = path.join(work, 'gen');
const base = await train(gen, tokA, [...small, 'train.steps=4']);
assert.equal(base.result.status, 'done', 'the shared generator trains');

for (const flip of [false, true]) {
  test(`stopped at step 4 of 8 and resumed, the run equals a straight one bit for bit (data.flip=${flip}, two epochs)`, async () => {
    const live = liveTensors();
    const sets = [...small, 'train.steps=8', `data.flip=${flip}`];
    const straight = path.join(work, `straight-${flip}`);
    const resumed = path.join(work, `resumed-${flip}`);
    assert.equal((await train(straight, tokA, sets)).result.status, 'done');
    const first = await train(resumed, tokA, sets, { stopAt: 4 });
    assert.deepEqual([first.result.status, first.result.step], ['interrupted', 4]);
    assert.ok(!existsSync(path.join(resumed, 'generator.safetensors')), 'an interrupted run exports no generator');
    const second = await train(resumed, tokA, sets, { resume: true });
    assert.deepEqual([second.result.status, second.result.step], ['done', 8]);
    assert.match(second.log, /resumed from step 4/);
    assert.match(second.log, /tokens: 64 images from .*tokens-train\.safetensors/, 'the resumed run reads the cached tokens');
    assert.equal(liveTensors(), live, 'the runs free their tensors');

    tidy(() => assert.deepEqual(loadSafetensors(runPaths(straight).tokens).tensors.ids!.shape, [64, flip ? 2 : 1, 256], 'ids [M, V, N]: V = 2 with mirror images'));
    for (const file of ['generator.safetensors', 'checkpoint.safetensors']) sameTensors(path.join(straight, file), path.join(resumed, file));
    assert.deepEqual(metricLines(resumed), metricLines(straight), 'metrics.jsonl: each step once, equal values');
    assert.deepEqual(metricLines(straight).map((l) => (l as { step: number }).step), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(readFileSync(runPaths(straight).sample(8)).equals(readFileSync(runPaths(resumed).sample(8))), 'the final sample grids are the same bytes');
  });
}

test('the token cache: reused by a second run, encoded again after the tokenizer changed, and holding tokenizer.encode\'s ids (and the mirror images\')', async () => {
  const dir = path.join(work, 'cache');
  const tok = saveTinyTokenizer(path.join(work, 'tok-changing'), 0);
  const sets = [...small, 'train.steps=1', 'data.flip=true'];
  const split = leadingSamples(await prepareSplit(await openDataset('fashion-mnist'), 'train', { preprocess: { size: 32, channels: 1 } }), 64);
  /** The cache's ids and labels against `tokenizer.encode` of the first 64 training images and their mirror images. */
  const checkCache = (what: string): void => {
    const tokenizer = Tokenizer.load(tok).eval();
    try {
      tidy(() => noGrad(() => {
        const cached = loadSafetensors(runPaths(dir).tokens).tensors;
        const batch = new DataLoader(split, { batchSize: 64, shuffle: false }).batch(0, 0);
        const views = [batch.images, batch.images.flip([3])].map((x) => tokenizer.encode(x).ids.reshape(64, -1).to('int16'));
        assert.deepEqual(cached.ids!.shape, [64, 2, 256], what);
        assert.ok(cached.ids!.select(1, 0).eq(views[0]!).all().item(), `${what}: ids are tokenizer.encode's`);
        assert.ok(cached.ids!.select(1, 1).eq(views[1]!).all().item(), `${what}: mirror ids are tokenizer.encode's of the flipped images`);
        assert.ok(cached.labels!.eq(batch.labels).all().item(), `${what}: labels`);
      }));
    } finally {
      tokenizer.dispose();
    }
  };

  const first = await train(dir, tok, sets);
  assert.doesNotMatch(first.log, /tokens: .* from/, 'nothing cached yet');
  checkCache('first run');
  const again = await train(dir, tok, sets, { resume: true });
  assert.match(again.log, new RegExp(`tokens: 64 images from ${runPaths(dir).tokens.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.doesNotMatch(again.log, /encoded by another tokenizer/);

  saveTinyTokenizer(tok, 5);  // retrained in place: other weights, same folder
  rmSync(runPaths(dir).checkpoint);  // a new run in the same folder, with the old cache still there
  const changed = await train(dir, tok, sets);
  assert.match(changed.log, /tokens-train\.safetensors was encoded by another tokenizer or data transform: encoding again/);
  assert.doesNotMatch(changed.log, /tokens: 64 images from/);
  checkCache('after the tokenizer changed');
});

test('bad inputs are named, with exit code 1: not a tokenizer, a class out of range, sampling flags, another codebook or K, not a generator', () => {
  const fails = (args: string[], pattern: RegExp, what: string): void => {
    const run = robustok(...args);
    assert.equal(run.status, 1, `${what}: exit code (stderr: ${run.stderr})`);
    assert.match(run.stderr, pattern, what);
  };
  const notATokenizer = path.join(work, 'empty');
  mkdirSync(notATokenizer);
  const out = path.join(work, 'never');
  fails(['train-generator', '--tokenizer', notATokenizer, '--config', presets.generator, '--out', out],
    /^robustok train-generator: .*empty holds no trained tokenizer \(tokenizer\.json is missing\)/m, 'train-generator --tokenizer of a folder without one');
  assert.ok(!existsSync(out), 'nothing is written when the tokenizer is refused');

  const sample = (...extra: string[]) => ['sample', '--generator', gen, '--out', path.join(work, 'never.png'), ...extra];
  const classes = /--class must be a class id in 0…9 or a class name \(T-shirt\/top, Trouser, .*Ankle boot\), got/;
  fails(sample('--class', '99'), new RegExp(`${classes.source} '99'`), '--class 99');
  fails(sample('--class', 'nonsense'), new RegExp(`${classes.source} 'nonsense'`), '--class nonsense');
  fails(sample('--top-p', '0'), /--top-p must be a number in \(0, 1\], got '0'/, '--top-p 0');
  fails(sample('--temperature', '-1'), /--temperature must be a number ≥ 0, got '-1'/, '--temperature -1');
  fails(sample('--cfg-schedule', 'wiggly'), /--cfg-schedule must be one of constant, linear, cosine, got 'wiggly'/, '--cfg-schedule wiggly');
  fails(sample('--tokenizer', tokB), /tokenizer .*tok-b has a different codebook from the tokenizer the generator was trained on/, '--tokenizer of another codebook');
  fails(sample('--tokenizer', tokK32), /tokenizer .*tok-k32 has 32 codes but the generator was trained on 64/, '--tokenizer with another K');
  assert.ok(!existsSync(path.join(work, 'never.png')) && !existsSync(path.join(work, 'never.npy')), 'sample writes nothing when refused');
  fails(['eval-generator', '--generator', tokA, '--n', '40'], /^robustok eval-generator: .*tok-a holds no trained generator \(generator\.json is missing\)/m, 'eval-generator of a tokenizer folder');
});

test('robustok sample --per-class 2: a 10 × 2 grid and int64 ids [20, 16, 16] in [0, 64); seeded; another decoder of the same codebook draws the same ids', async () => {
  const grid = (name: string) => path.join(work, 'samples', name, 'grid.png');
  const run = (name: string, ...extra: string[]) => {
    const r = robustok('sample', '--generator', gen, '--per-class', '2', '--seed', '3', '--out', grid(name), ...extra);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(grid(name).replace(/\.png$/, '.npy'));
  };
  const npy = run('a');
  const meta = await sharp(grid('a')).metadata();
  assert.deepEqual([meta.width, meta.height], [2 * 34 + 2, 10 * 34 + 2], 'a row per class, 2 columns of 32-pixel images');
  // NumPy reads the file: int64, C order, [C·2, h, w], every id a code.
  const numpy = JSON.parse(execFileSync('/usr/bin/python3', ['-c',
    'import json, sys, numpy; a = numpy.load(sys.argv[1]); print(json.dumps([str(a.dtype), list(a.shape), int(a.min()), int(a.max()), a.flags.c_contiguous]))',
    grid('a').replace(/\.png$/, '.npy')], { encoding: 'utf8' })) as [string, number[], number, number, boolean];
  assert.deepEqual(numpy.slice(0, 2), ['int64', [20, 16, 16]]);
  assert.ok(numpy[2] >= 0 && numpy[3] < 64, `ids in ${numpy[2]}…${numpy[3]}`);
  assert.ok(numpy[4], 'C order');
  assert.deepEqual(decodeNpy(npy).shape, [20, 16, 16]);

  assert.ok(run('b').equals(npy), 'the same seed gives the same .npy bytes');
  assert.ok(run('c', '--tokenizer', tokA).equals(npy), '--tokenizer (the same codebook) draws the same ids');
  assert.ok(!run('d', '--seed', '4').equals(npy), 'another seed draws other ids');
});

test('robustok eval-generator --n 40 --json: one object naming features, n and the sampling; an offline report', () => {
  const clf = saveRandomClassifier(path.join(work, 'classifier.safetensors'));
  const run = robustok('eval-generator', '--generator', gen, '--weights', clf, '--n', '40', '--json', '--cfg', '2', '--seed', '7');
  assert.equal(run.status, 0, `eval-generator --n 40 failed: ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON line on stdout');
  const out = JSON.parse(lines[0]!) as Record<string, unknown> & { sampling: Record<string, unknown> };
  for (const key of ['features', 'n', 'gfid', 'is', 'precision', 'recall', 'sampling']) assert.ok(key in out, key);
  assert.equal(out.features, 'classifier:fashion-mnist');
  assert.equal(out.n, 40);
  for (const key of ['gfid', 'is', 'precision', 'recall']) assert.ok(Number.isFinite(out[key]), `${key} = ${out[key]}`);
  assert.deepEqual(Object.keys(out.sampling).sort(), ['cfg', 'power', 'schedule', 'seed', 'temperature', 'topK', 'topP']);
  assert.deepEqual([out.sampling.cfg, out.sampling.seed, out.sampling.schedule, out.sampling.topP], [2, 7, 'constant', 1], 'flags over generator.json defaults');
  const html = readFileSync(runPaths(gen).eval.report, 'utf8');
  assert.ok(!/https?:\/\//.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')), 'no network references in report.html');
  assert.ok(existsSync(runPaths(gen).eval.result) && existsSync(runPaths(gen).eval.samples));

  // The same setting again scores the cached sample ids (same numbers); another decoder folder gets its own report.
  const other = path.join(work, 'eval-again');
  const again = robustok('eval-generator', '--generator', gen, '--weights', clf, '--n', '40', '--json', '--cfg', '2', '--seed', '7', '--out', other);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /samples: 40 drawn before, from .*samples-[0-9a-f]{16}\.safetensors/);
  assert.equal((JSON.parse(again.stdout.trim()) as { gfid: number }).gfid, out.gfid);
  assert.ok(existsSync(path.join(other, 'report.html')));
});
