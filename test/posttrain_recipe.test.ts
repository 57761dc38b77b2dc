// The post-training recipe (docs/method.md §6) on tiny models: lr = 0 changes
// nothing (the pipeline check), the EMA starts from the trained weights with
// a half-life and no warm-up, both optimizers share one schedule shape, the
// GAN starts at loss.gan.start, the main-training loss settings and
// discriminator carry over, the round trip records its lineage so its
// decoder is still accepted for the generator's tokens, pregenerated σ-tokens
// log their replacement rate, the scoring network is never one inside a
// loss, and post-train-compare pairs σ with its σ = 1 control per seed.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { codebookFingerprint, loadGenerator } from '../src/generator/index.js';
import { emaDecayForHalfLife } from '../src/optim/index.js';
import { PostTrainer, posttrainSchema } from '../src/posttrain/index.js';
import { type PostTrainComparison, loadGeneratorPair, postTrain, refuseLossNetwork, runPaths } from '../src/runs/index.js';
import { Tokenizer, readTokenizerLineage, saveTokenizer } from '../src/tokenizer/index.js';
import { RandomStream, type Tensor, liveTensors, loadSafetensors, manualSeed, rand, randint, tidy } from '../src/torch/index.js';
import { readProgress } from '../src/train/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { metricLines, presets, robustok, saveRandomClassifier, saveTinyGenerator, saveTinyTokenizer } from './helpers/runs.js';

const work = scratchDir();
const tokA = saveTinyTokenizer(path.join(work, 'tok-a'), 0);
const tokB = saveTinyTokenizer(path.join(work, 'tok-b'), 1);  // same K, another codebook
const gen = saveTinyGenerator(path.join(work, 'gen'), tokA, 2);

async function post(dir: string, sets: string[], tokenizer = tokA) {
  const config = resolveConfig(posttrainSchema, [loadConfigFile(presets.posttrain)], ['train.logEvery=1', ...sets]);
  const logs: string[] = [];
  const result = await postTrain(config, dir, { tokenizer, generator: gen, events: { log: (m) => logs.push(m) } });
  return { result, log: logs.join('\n') };
}

const tensorsOf = (file: string): Record<string, Tensor> => loadSafetensors(file).tensors;
const same = (a: Tensor, b: Tensor): boolean => tidy(() => a.shape.join() === b.shape.join() && Boolean(a.eq(b).all().item()));

test('the pipeline check: post-training at lr = 0 exports every tensor of the tokenizer bit for bit (EMA, GAN and σ-tokens included)', async () => {
  const live = liveTensors();
  const out = path.join(work, 'lr0');
  const { result } = await post(out, ['optim.lr=0', 'optim.lrMin=0', 'optim.emaHalfLife=1']);
  assert.equal(result.status, 'done');
  tidy(() => {
    const [before, after] = [tensorsOf(path.join(tokA, 'tokenizer.safetensors')), tensorsOf(path.join(out, 'tokenizer.safetensors'))];
    const moved = Object.keys(before).filter((name) => !same(before[name]!, after[name]!));
    assert.deepEqual(moved, [], 'tensors that moved at lr = 0');
  });
  assert.equal(liveTensors(), live, 'nothing leaks');
});

test('EMA from the trained weights with decay 0.5^(1/h) and no warm-up; decoder and discriminator rates follow one warm-up + cosine shape; the GAN is off before loss.gan.start', async () => {
  for (const h of [1, 7, 140]) assert.ok(Math.abs(emaDecayForHalfLife(h) ** h - 0.5) < 1e-12, `half-life ${h}`);
  assert.throws(() => emaDecayForHalfLife(0), /steps must be a positive number/);

  const config = resolveConfig(posttrainSchema, [loadConfigFile(presets.posttrain)],
    ['optim.emaHalfLife=2', 'optim.warmupFraction=0.5', 'optim.lr=1e-3', 'optim.lrMin=1e-4', 'loss.gan.lr=2e-4', 'loss.gan.start=0.5', 'train.batchSize=4']);
  const pair = loadGeneratorPair(gen, tokA);
  manualSeed(0);
  const t = new PostTrainer(config, pair.tokenizer, pair.model, pair.info.sampling, { channels: 1 });
  assert.equal(t.ema.decay, emaDecayForHalfLife(2));
  assert.equal(t.ema.warmup, false, 'no warm-up: the shadow starts as the trained weights and keeps them');
  assert.equal(t.ganStart, 3);
  const seen: { gan: boolean; decoder: number; discriminator: number }[] = [];
  for (let step = 0; step < 6; step++) {
    const decoder = t.optimizer.paramGroups[0]!.lr;
    const discriminator = t.objective.discriminatorOptimizer!.paramGroups[0]!.lr;
    const m = tidy(() => t.step(rand([4, 1, 32, 32], { stream: new RandomStream(step) }).mul(2).sub(1), randint(0, 10, [4], { dtype: 'int64', stream: new RandomStream(10 + step) })));
    seen.push({ gan: m.gan !== undefined, decoder, discriminator });
  }
  assert.deepEqual(seen.map((s) => s.gan), [false, false, false, true, true, true], 'GAN terms from step ganStart on');
  assert.equal(seen[0]!.decoder, 0, 'warm-up starts at 0');
  for (const s of seen) assert.ok(Math.abs(s.discriminator / 2e-4 - s.decoder / 1e-3) < 1e-12, `the two rates keep one shape (${s.decoder}, ${s.discriminator})`);
  assert.ok(seen[3]!.decoder === 1e-3 && seen[5]!.decoder < seen[4]!.decoder, 'peak after warm-up, then cosine');
  t.dispose();
  pair.dispose();
});

test('loss settings inherited from the tokenizer\'s main training (GAN on/start kept post-training\'s own); discriminator=continue starts from its checkpoint; without one it is refused', () => {
  const tok = path.join(work, 'trained');
  const trained = robustok('train-tokenizer', '--config', presets.tokenizer, '--out', tok, '--set', 'train.steps=4', '--set', 'train.checkpointEvery=4',
    '--set', 'loss.gan.enabled=true', '--set', 'loss.gan.start=0.5', '--set', 'loss.gan.baseChannels=8', '--set', 'loss.gan.layers=1',
    '--set', 'loss.gan.weight=0.3', '--set', 'loss.reconstruction=l1', '--set', 'data.limit=64');
  assert.equal(trained.status, 0, trained.stderr);
  const tgen = saveTinyGenerator(path.join(work, 'trained-gen'), tok, 3);
  const out = path.join(work, 'continued');
  const run = robustok('post-train', '--tokenizer', tok, '--generator', tgen, '--config', presets.posttrain, '--out', out,
    '--set', 'discriminator=continue', '--set', 'loss.gan.lr=0', '--set', 'train.steps=2');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /loss settings inherited from .*trained\/config\.json/);
  assert.match(run.stderr, /discriminator: continued from .*trained\/checkpoint\.safetensors/);
  const loss = (JSON.parse(readFileSync(runPaths(out).config, 'utf8')) as { loss: { reconstruction: string; gan: Record<string, unknown> } }).loss;
  assert.equal(loss.reconstruction, 'l1', 'inherited');
  assert.equal(loss.gan.weight, 0.3, 'inherited');
  assert.deepEqual([loss.gan.enabled, loss.gan.start], [true, 0], "post-training's own GAN start");
  assert.ok(readProgress(runPaths(out).checkpoint).parts.includes('discriminatorScheduler'));
  tidy(() => {  // discriminator lr 0: its weights are main training's (spectral norm's power-iteration vectors _u/_v move with every forward)
    const [main, postCk] = [tensorsOf(runPaths(tok).checkpoint), tensorsOf(runPaths(out).checkpoint)];
    const names = Object.keys(main).filter((n) => n.startsWith('discriminator.') && !/_[uv]$/.test(n));
    assert.ok(names.length > 0, 'the main-training checkpoint holds a discriminator');
    for (const n of names) assert.ok(same(main[n]!, postCk[n]!), `${n} continued`);
  });
  const refused = robustok('post-train', '--tokenizer', tokA, '--generator', gen, '--config', presets.posttrain, '--out', path.join(work, 'no-ck'), '--set', 'discriminator=continue');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /discriminator=continue needs the main-training checkpoint of .*tok-a .*which is missing; use discriminator=fresh/);
});

test('roundTrip: the lineage in tokenizer.json lets the moved codebook decode the generator\'s tokens, an unrelated codebook is still refused; pregenerated σ-tokens log kept and changed', async () => {
  const out = path.join(work, 'round-trip');
  const { result } = await post(out, ['roundTrip=true', 'tokens.pregenerate=16', 'train.batchSize=8']);
  assert.equal(result.status, 'done');
  const lineage = readTokenizerLineage(out)!;
  const info = loadGenerator(gen);
  assert.deepEqual([lineage.kind, lineage.from, lineage.generator, lineage.codebook, lineage.data], ['post-train', path.resolve(tokA), path.resolve(gen), info.info.codebook, 'fashion-mnist']);
  info.model.dispose();
  const moved = Tokenizer.load(out);
  const original = Tokenizer.load(tokA);
  assert.notEqual(codebookFingerprint(moved), codebookFingerprint(original), 'the round trip trains the codebook');
  for (const m of [moved, original]) m.dispose();
  loadGeneratorPair(gen, out).dispose();
  assert.throws(() => loadGeneratorPair(gen, tokB), /different codebook/);
  assert.equal((JSON.parse(readFileSync(runPaths(out).config, 'utf8')) as { data: { name: string } }).data.name, 'fashion-mnist', 'the dataset is recorded by name');
  for (const line of metricLines(out) as { kept: number; changed: number }[]) {
    assert.ok(line.kept > 0.3 && line.kept <= 1 && line.changed >= 0 && line.changed <= 1 - line.kept + 1e-9, `kept ${line.kept}, changed ${line.changed}`);
  }
});

test('the network that scores a tokenizer may not be one its training (or its lineage\'s) optimised through: eval and eval-generator refuse it, naming both', () => {
  const source = saveTinyTokenizer(path.join(work, 'perceptual-src'), 4);
  writeFileSync(runPaths(source).config, JSON.stringify({ loss: { perceptual: { kind: 'features', network: 'classifier:fashion-mnist' } } }));
  const child = path.join(work, 'perceptual-post');
  mkdirSync(child, { recursive: true });
  const model = Tokenizer.load(source);
  saveTokenizer(child, model, { size: 32, channels: 1, fit: 'resize', padValue: 0 }, { kind: 'post-train', from: path.resolve(source), generator: gen, codebook: 'x', data: 'fashion-mnist' });
  model.dispose();
  assert.throws(() => refuseLossNetwork('classifier:fashion-mnist', child), /cannot score .*perceptual-post: its training used classifier:fashion-mnist inside its loss \(loss\.perceptual\.network in .*perceptual-src\/config\.json\)/);
  refuseLossNetwork('nsfwjs-inception', child);
  refuseLossNetwork('classifier:fashion-mnist', tokA);
  const r = robustok('eval', '--tokenizer', child, '--data', 'fashion-mnist', '--n', '16');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--features classifier:fashion-mnist cannot score/);
});

test('robustok post-train-compare: σ and its σ = 1 control per seed on the same grids; paired differences with t intervals; finished arms skipped', () => {
  const clf = saveRandomClassifier(path.join(work, 'classifier.safetensors'));
  const out = path.join(work, 'compare');
  const args = ['post-train-compare', '--tokenizer', tokA, '--generator', gen, '--config', presets.posttrain, '--out', out, '--seeds', '0,1',
    '--n', '20', '--batch', '20', '--weights', clf, '--set', 'train.steps=2'];
  const first = robustok(...args);
  assert.equal(first.status, 0, first.stderr);
  const c = JSON.parse(readFileSync(path.join(out, 'compare.json'), 'utf8')) as PostTrainComparison;
  assert.deepEqual([c.sigma, c.controlSigma, c.n, c.seeds.map((s) => s.seed)], [0.7, 1, 20, [0, 1]]);
  const diffs = c.seeds.map((s) => s.post.gfid - s.control.gfid);
  assert.ok(Math.abs(c.paired.postMinusControl.mean - (diffs[0]! + diffs[1]!) / 2) < 1e-9);
  assert.equal(c.paired.postMinusControl.n, 2);
  assert.ok(c.paired.postMinusControl.interval[0] <= c.paired.postMinusControl.mean && c.paired.postMinusControl.mean <= c.paired.postMinusControl.interval[1]);
  const sigmaOf = (dir: string) => (JSON.parse(readFileSync(runPaths(path.join(out, dir)).config, 'utf8')) as { sigma: number; train: { seed: number } });
  assert.deepEqual([sigmaOf('control-s1').sigma, sigmaOf('control-s1').train.seed, sigmaOf('sigma-s1').sigma], [1, 1, 0.7]);
  assert.match(first.stdout, /σ-post-trained − control: [+-]\d/);
  for (const dir of ['original', 'sigma-s0/eval-gen', 'control-s1/eval-gen']) assert.ok(existsSync(path.join(out, dir, 'result.json')), dir);
  const again = robustok(...args);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /post-training at σ/, 'finished arms are not trained again');
  assert.equal(again.stdout, first.stdout, 'the same table');
  assert.equal(robustok(...args.slice(0, -2), '--seeds', '1,1').status, 1, 'a repeated seed is refused');
});
