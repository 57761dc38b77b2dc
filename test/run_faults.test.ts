// Faults injected into real `robustok train-tokenizer` processes:
// a second writer, SIGTERM (and the handler behind it), kill -9 then --resume
// (bit-exact, metrics not repeated), a checkpoint past train.steps, a loss
// that turns NaN.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { TokenizerTrainer, tokenizerSchema } from '../src/tokenizer/index.js';
import { DatasetClassifier, saveClassifier } from '../src/features/index.js';
import { full, liveTensors, loadSafetensors, manualSeed, noGrad, tidy } from '../src/torch/index.js';
import { NonFiniteLossError, readProgress } from '../src/train/index.js';
import { abortOnSignals, stopSignalOf } from '../src/runs/index.js';
import { saveTinyTokenizer } from './helpers/runs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const tiny = path.join(root, 'configs', 'tokenizer', 'tiny.yaml');
const env = { ...process.env, ROBUSTOK_THREADS: '1' };
const scratch = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-faults-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const train = (out: string, ...extra: string[]) => ['train-tokenizer', '--config', tiny, '--out', out, '--set', 'train.logEvery=1', ...extra];
const metricSteps = (out: string): number[] =>
  readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { step: number }).step);

/** Starts a long run and resolves once it has logged `steps` steps. */
async function startRun(out: string, steps: number, ...extra: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
  return startCommand(out, steps, train(out, '--set', 'train.steps=100000', ...extra));
}

/** Starts `robustok argv…` writing to `out` and resolves once it has logged `steps` steps. */
async function startCommand(out: string, steps: number, argv: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const deadline = Date.now() + 120_000;
  while (!(existsSync(path.join(out, 'metrics.jsonl')) && metricSteps(out).length >= steps)) {
    if (child.exitCode !== null) throw new Error(`the run ended early: ${stderr}`);
    if (Date.now() > deadline) throw new Error('the run did not reach its steps in time');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, stderr: () => stderr };
}
const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.on('exit', (code) => resolve(code)));

test('two writers: the second is refused naming the first; SIGTERM saves a checkpoint at the current step and exits 143', async () => {
  const out = scratch();
  const first = await startRun(out, 3);
  const second = spawnSync(process.execPath, [cli, ...train(out, '--resume')], { env, encoding: 'utf8' });
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`is being written by pid ${first.child.pid} since`));
  first.child.kill('SIGTERM');
  assert.equal(await exited(first.child), 143);
  assert.match(first.stderr(), /SIGTERM at step \d+: checkpoint saved/);
  const steps = metricSteps(out);
  assert.equal(readProgress(path.join(out, 'checkpoint.safetensors')).step, steps.at(-1), 'the checkpoint is at the last logged step');
  assert.ok(!existsSync(path.join(out, '.robustok.lock')), 'the lock is released');
});

test('SIGTERM stops a generator run at the next step, although its steps never wait on I/O (no grid is due)', { timeout: 60_000 }, async () => {
  const tokenizer = saveTinyTokenizer(path.join(scratch(), 'tok'), 0);
  const out = scratch();
  const run = await startCommand(out, 3, ['train-generator', '--tokenizer', tokenizer, '--config', path.join(root, 'configs', 'generator', 'tiny.yaml'),
    '--out', out, '--set', 'train.steps=100000', '--set', 'train.logEvery=1', '--set', 'train.sampleEvery=100000', '--set', 'train.checkpointEvery=100000']);
  const sent = metricSteps(out).at(-1)!;
  const stray = setTimeout(() => run.child.kill('SIGKILL'), 50_000);  // a run that ignores the signal must not outlive the test
  run.child.kill('SIGTERM');
  assert.equal(await exited(run.child), 143);
  clearTimeout(stray);
  const saved = readProgress(path.join(out, 'checkpoint.safetensors')).step;
  assert.ok(saved - sent <= 3, `stopped at step ${saved}, ${saved - sent} steps after the signal (at most the step under way and the next log)`);
});

test('abortOnSignals: the first stop signal aborts with its name, a second is seen as a repeat and keeps that reason; stopSignalOf passes it on', () => {
  const controller = new AbortController();
  const seen: string[] = [];
  const listeners = process.listenerCount('SIGINT');
  const release = abortOnSignals(controller, (signal, again) => seen.push(again ? `${signal} again` : signal));
  process.emit('SIGTERM', 'SIGTERM');
  process.emit('SIGINT', 'SIGINT');
  release();
  assert.equal(process.listenerCount('SIGINT'), listeners, 'release removes the handlers');
  assert.deepEqual(seen, ['SIGTERM', 'SIGINT again']);
  assert.equal(controller.signal.reason, 'SIGTERM');
  assert.equal(stopSignalOf(controller.signal), 'SIGTERM');
  const aborted = (reason: string) => { const c = new AbortController(); c.abort(reason); return c.signal; };
  assert.equal(stopSignalOf(aborted('SIGINT')), 'SIGINT');
  assert.equal(stopSignalOf(aborted('stopped by the test')), 'SIGTERM');
  assert.equal(stopSignalOf(undefined), 'SIGTERM');
});

test('kill -9, then --resume: metrics hold each step once and the weights equal an uninterrupted run bit for bit', async () => {
  // The schedule depends on train.steps, so the killed run has the same length as the straight one.
  const sets = ['--set', 'train.steps=60', '--set', 'train.checkpointEvery=8'];
  const straight = scratch();
  const done = spawnSync(process.execPath, [cli, ...train(straight, ...sets)], { env, encoding: 'utf8' });
  assert.equal(done.status, 0, done.stderr);

  const out = scratch();
  const { child } = await startRun(out, 20, ...sets);  // later --set wins: 60 steps
  child.kill('SIGKILL');
  await exited(child);
  const killedAt = metricSteps(out).at(-1)!;
  assert.ok(killedAt < 60, `killed before the end (step ${killedAt})`);
  const resumed = spawnSync(process.execPath, [cli, ...train(out, ...sets, '--resume')], { env, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed from step \d+/);
  assert.deepEqual(metricSteps(out), Array.from({ length: 60 }, (_, i) => i + 1), 'each step logged once');
  tidy(() => {
    const a = loadSafetensors(path.join(straight, 'tokenizer.safetensors')).tensors;
    const b = loadSafetensors(path.join(out, 'tokenizer.safetensors')).tensors;
    for (const [name, t] of Object.entries(a)) assert.ok(t.eq(b[name]!).all().item(), `${name} differs after kill -9 and resume`);
  });
});

test('a checkpoint past train.steps is refused at start, naming both numbers', () => {
  const out = scratch();
  assert.equal(spawnSync(process.execPath, [cli, ...train(out, '--set', 'train.steps=10')], { env }).status, 0);
  const again = spawnSync(process.execPath, [cli, ...train(out, '--set', 'train.steps=5', '--resume')], { env, encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /is at step 10, past train\.steps = 5: raise it/);
});

test('a non-finite loss stops the step before any update and names every term', () => {
  const live = liveTensors();
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(tiny)], ['train.batchSize=4', 'loss.gan.enabled=true', 'loss.gan.start=0']);
  manualSeed(0);
  const trainer = new TokenizerTrainer(config);
  const before = tidy(() => trainer.model.stateDict()['decoder.conv_out.weight']!.clone().keep());
  tidy(() => {
    const poisoned = full([4, 1, 32, 32], Number.NaN);
    assert.throws(() => trainer.step(poisoned), (e: unknown) =>
      e instanceof NonFiniteLossError && e.step === 1 && /not finite at step 1 \(loss NaN, reconstruction NaN, codebook NaN, commitment NaN, adversarial NaN/.test(e.message));
  });
  assert.equal(trainer.stepCount, 0, 'the bad step is not counted');
  tidy(() => assert.ok(trainer.model.stateDict()['decoder.conv_out.weight']!.eq(before).all().item(), 'no weight moved'));
  before.dispose();
  trainer.dispose();
  assert.equal(liveTensors(), live);
});

test('a run whose loss turns NaN stops with the step, the terms and the last good checkpoint named (exit 1)', () => {
  // A corrupt feature-network file (NaN weights) makes the perceptual term NaN from the first step.
  const out = scratch();
  const weights = path.join(out, 'nan-classifier.safetensors');
  tidy(() => {
    const model = new DatasetClassifier({ channels: 1, size: 32, numClasses: 10, widths: [8], featureSize: 16 });
    noGrad(() => { for (const p of model.parameters()) p.fill_(Number.NaN); });
    saveClassifier(weights, model, { dataset: 'fashion-mnist', testAccuracy: 0, epochs: 0 });
    model.dispose();
  });
  const run = spawnSync(process.execPath, [cli, ...train(out, '--set', 'train.steps=20', '--set', 'loss.perceptual.kind=features',
    '--set', 'loss.perceptual.network=classifier:fashion-mnist', '--set', `loss.perceptual.networkWeights=${weights}`)], { env, encoding: 'utf8' });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /the loss is not finite at step 1 \(loss NaN, reconstruction [\d.]+, perceptual NaN/);
  assert.match(run.stderr, /stopped: no checkpoint was written yet\. Lower optim\.lr, or set train\.nonFinite=skip/);
  assert.ok(!existsSync(path.join(out, 'checkpoint.safetensors')), 'nothing poisoned was saved');
  // With train.nonFinite=skip every batch is skipped and counted, until too many in a row.
  const skipping = spawnSync(process.execPath, [cli, ...train(scratch(), '--set', 'train.steps=20', '--set', 'train.nonFinite=skip', '--set', 'loss.perceptual.kind=features',
    '--set', 'loss.perceptual.network=classifier:fashion-mnist', '--set', `loss.perceptual.networkWeights=${weights}`)], { env, encoding: 'utf8' });
  assert.equal(skipping.status, 1);
  assert.match(skipping.stderr, /not finite at step 1 .*: batch skipped \(train\.nonFinite=skip\)/);
  assert.match(skipping.stderr, /100 batches in a row gave a non-finite loss/);
});
