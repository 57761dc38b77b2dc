// Tokenizer main training: the tiny preset end to end through the CLI, exact
// resume through checkpoints, and config errors that name the key and range.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { RandomStream, type Tensor, liveTensors, manualSeed, randn, tidy } from '../src/torch/index.js';
import { TokenizerTrainer, loadTokenizer, tokenizerSchema } from '../src/tokenizer/index.js';
import { resumedTrainer } from './helpers/tokenizer_resume.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const tinyPreset = path.join(root, 'configs', 'tokenizer', 'tiny.yaml');
const scratch = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-train-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('the tiny preset trains through the CLI: loss falls, files written, the tokenizer loads back', () => {
  const out = scratch();
  execFileSync(process.execPath, [cli, 'train-tokenizer', '--config', tinyPreset, '--out', out, '--set', 'train.steps=40'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; reconstruction: number; usage: number });
  assert.deepEqual(lines.map((l) => l.step), [5, 10, 15, 20, 25, 30, 35, 40]);
  assert.ok(lines.at(-1)!.reconstruction < lines[0]!.reconstruction * 0.8, `reconstruction ${lines[0]!.reconstruction} → ${lines.at(-1)!.reconstruction}`);
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { psnr: number };
  assert.ok(summary.psnr > 10, `test PSNR ${summary.psnr}`);
  tidy(() => {
    const model = loadTokenizer(out);
    const q = model.encode(randn([2, 1, 32, 32]));
    assert.deepEqual(q.idsGrid.shape, [2, 16, 16]);
    assert.deepEqual(model.decodeIds(q.idsGrid).shape, [2, 1, 32, 32]);
    model.dispose();
  });
});

test('the Gaussian-noise kind trains: α and δ report 0, decoded batches differ from a clean run, annealing scales σ_max', () => {
  const config = (kind: string) => resolveConfig(tokenizerSchema, [loadConfigFile(tinyPreset)],
    ['train.steps=4', 'train.batchSize=4', `perturbation.kind=${kind}`, 'perturbation.beta=1', 'perturbation.annealStart=0', 'perturbation.annealEnd=1']);
  const x = tidy(() => randn([4, 1, 32, 32], { stream: new RandomStream(7) }).tanh());
  const losses = (kind: string) => {
    const trainer = new TokenizerTrainer(config(kind));
    const now = trainer.perturbationNow();
    const out = [0, 1].map(() => trainer.step(x));
    const later = trainer.perturbationNow();
    trainer.dispose();
    return { out, now, later };
  };
  const gaussian = losses('gaussian');
  const codebook = losses('codebook');
  assert.deepEqual(gaussian.now, { kind: 'gaussian', scale: 0.5 });
  assert.ok(gaussian.later?.kind === 'gaussian' && gaussian.later.scale < 0.5, 'annealed like α');
  assert.deepEqual([gaussian.out[0]!.noiseScale, 'alpha' in gaussian.out[0]!], [0.5, false], 'a gaussian run logs its own scale, not α = δ = 0');
  assert.deepEqual([codebook.now?.kind, codebook.out[0]!.alpha, 'noiseScale' in codebook.out[0]!], ['codebook', 1, false], 'a codebook run logs α and δ');
  assert.notEqual(gaussian.out[0]!.reconstruction, codebook.out[0]!.reconstruction, 'another corruption, another loss');
  x.dispose();
});

test('a bad config value is rejected with the key, the value and the allowed range', () => {
  const out = scratch();
  const run = spawnSync(process.execPath, [cli, 'train-tokenizer', '--config', tinyPreset, '--out', out,
    '--set', 'perturbation.alpha=1.5', '--set', 'model.architecture=mlp', '--set', 'perturbaton.delta=3',
    '--set', 'loss.gan.diffaug=["blur"]'], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /perturbation\.alpha: 1\.5 is outside \[0, 1\]/);
  assert.match(run.stderr, /model\.architecture: "mlp" is not one of cnn \| vit/);
  assert.match(run.stderr, /perturbaton: unknown key \(did you mean perturbation\?\)/);
  assert.match(run.stderr, /loss\.gan\.diffaug\[0\]: "blur" is not one of color \| translation \| cutout/, 'caught at start, not when the GAN switches on');
});

test('N steps, checkpoint, resume in a fresh trainer, M steps = N + M steps, bit for bit (GAN and perturbation on)', () => {
  const live = liveTensors();
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(tinyPreset)], ['train.steps=8', 'loss.gan.enabled=true', 'loss.gan.start=0.25', 'train.batchSize=4']);
  const batch = (i: number): Tensor => tidy(() => randn([4, 1, 32, 32], { stream: new RandomStream(100 + i) }).tanh());
  const run = (trainer: TokenizerTrainer, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const x = batch(i);
      trainer.step(x);
      x.dispose();
    }
  };
  const weights = (trainer: TokenizerTrainer) => tidy(() => [
    ...trainer.model.parameters(), ...trainer.discriminator!.parameters(),
  ].map((t) => Array.from(t.toTypedArray() as Float32Array)));

  manualSeed(0);
  const straight = new TokenizerTrainer(config);
  run(straight, 0, 8);
  const expected = weights(straight);
  straight.dispose();

  const resumed = resumedTrainer(config, path.join(scratch(), 'ckpt.safetensors'), 3, run);
  assert.equal(resumed.stepCount, 3);
  run(resumed, 3, 8);
  assert.deepEqual(weights(resumed), expected);
  resumed.dispose();
  assert.equal(liveTensors(), live);
});
