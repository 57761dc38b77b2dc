// Weights that would pass for a model but are not one: NaN or
// infinite values in a checkpoint (model, EMA, optimizer state) or in
// tokenizer.safetensors, integer tensors where a checkpoint's run keeps
// floats, and a NaN number at the end of a run. Each is refused naming the
// file and the first bad tensor; a checkpoint is never written with them, so
// the "last good checkpoint" a stop names is one that loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Linear, Module } from '../src/nn/index.js';
import { AdamW, Ema } from '../src/optim/index.js';
import { RunFolder, refuseNonFiniteResults, withDefaults } from '../src/runs/index.js';
import { trainingLoop } from '../src/runs/training_loop.js';
import { Tokenizer } from '../src/tokenizer/index.js';
import { F, type Tensor, liveTensors, loadSafetensors, manualSeed, noGrad, randn, saveSafetensors, tensor, tidy } from '../src/torch/index.js';
import { type CheckpointParts, loadCheckpoint, saveCheckpoint } from '../src/train/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { cli, saveTinyTokenizer } from './helpers/runs.js';

class Net extends Module {
  readonly fc = this.child('fc', new Linear(4, 4));
}

/** A model with AdamW (stepped once, so it has state) and EMA: the parts a trainer checkpoints. */
function makeParts(): { parts: CheckpointParts; model: Net; ema: Ema; dispose(): void } {
  manualSeed(0);
  const model = new Net();
  const optimizer = new AdamW(model.parameters(), { lr: 1e-3 });
  const ema = new Ema(model.namedParameters(), { decay: 0.9 });
  tidy(() => {
    F.mseLoss(model.fc.forward(randn([2, 4])), randn([2, 4])).backward();
    optimizer.step();
    ema.update();
  });
  return { parts: { model, optimizer, ema }, model, ema, dispose: () => { optimizer.dispose(); ema.dispose(); model.dispose(); } };
}

/** Rewrites `file` (a safetensors file) with tensor `name` replaced by `edit` of it, keeping the metadata. */
function editTensor(file: string, name: string, edit: (t: Tensor) => Tensor): void {
  const { tensors, metadata } = loadSafetensors(file);
  assert.ok(name in tensors, `${name} is in ${file}: ${Object.keys(tensors).join(', ')}`);
  const edited = edit(tensors[name]!);
  saveSafetensors(file, { ...tensors, [name]: edited }, metadata);
  for (const t of [...Object.values(tensors), edited]) t.dispose();
}

/** `t` as float32 with its second value NaN (or +Infinity). */
const poisoned = (t: Tensor, value = Number.NaN): Tensor => {
  const values = Float32Array.from(tidy(() => t.to('float32').toTypedArray() as Float32Array));
  values[1] = value;
  return tensor(values, { shape: t.shape });
};

test('a checkpoint whose EMA, model or optimizer state holds NaN or Infinity is refused on loading, naming the file and the tensor', () => {
  const dir = scratchDir();
  const live = liveTensors();
  for (const [name, value] of [['ema.fc.weight', Number.NaN], ['model.fc.bias', Number.POSITIVE_INFINITY], ['optimizer.state.0.exp_avg_sq', Number.NaN]] as const) {
    const run = makeParts();
    const file = path.join(dir, `${name}.safetensors`);
    saveCheckpoint(file, run.parts, { step: 3, epoch: 0 });
    loadCheckpoint(file, run.parts);  // the baseline loads
    editTensor(file, name, (t) => poisoned(t, value));
    assert.throws(() => loadCheckpoint(file, run.parts), {
      message: `${file} cannot be resumed: tensor '${name}' holds 1 NaN or infinite value (of ${name.endsWith('bias') ? 4 : 16}) — ` +
        'it was saved after the weights broke: resume from an earlier copy, or delete it to start afresh',
    });
    run.dispose();
  }
  assert.equal(liveTensors(), live, 'a refused checkpoint leaves no tensors behind');
});

test('a checkpoint is not written with NaN weights, so the file on disk stays the last good one', () => {
  const dir = scratchDir();
  const file = path.join(dir, 'checkpoint.safetensors');
  const run = makeParts();
  saveCheckpoint(file, run.parts, { step: 2, epoch: 0 });
  const before = readFileSync(file);
  noGrad(() => run.ema.stateDict().tensors['fc.weight']!.fill_(Number.NaN));
  assert.throws(() => saveCheckpoint(file, run.parts, { step: 4, epoch: 0 }), {
    message: `${file} is not written: tensor 'ema.fc.weight' holds 16 NaN or infinite values (of 16) — the weights broke since the last save, which ${file} still holds`,
  });
  assert.deepEqual(readFileSync(file), before);
  run.dispose();
});

test('EMA weights that turn NaN while the loss stays finite stop the run, naming a last good checkpoint that loads', async () => {
  const dir = scratchDir();
  const folder = RunFolder.open(path.join(dir, 'run'));
  const run = makeParts();
  let stepCount = 0;
  const trainer = {
    get stepCount() { return stepCount; },
    set stepCount(v: number) { stepCount = v; },
    parts: () => run.parts,
    step() {
      stepCount += 1;
      if (stepCount === 3) noGrad(() => run.ema.stateDict().tensors['fc.bias']!.fill_(Number.NaN));
      return { step: stepCount, loss: 1 };
    },
  };
  try {
    await assert.rejects(trainingLoop({
      folder, events: withDefaults({}), trainer, resuming: false, asked: false, config: {},
      train: { steps: 10, logEvery: 1, sampleEvery: 100, checkpointEvery: 2, nonFinite: 'stop' },
      batchesPerEpoch: 5, rate: { perStep: 1, key: 'imagesPerSecond' }, detail: () => '', samples: async () => {},
    }), (error: Error) => {
      assert.match(error.message, /is not written: tensor 'ema\.fc\.bias' holds 4 NaN or infinite values/);
      assert.ok(error.message.endsWith(`stopped at step 4: the last good checkpoint is ${folder.paths.checkpoint} (step 2)`), error.message);
      return true;
    });
    const fresh = makeParts();
    assert.equal(loadCheckpoint(folder.paths.checkpoint, fresh.parts).step, 2, 'the checkpoint named loads, finite');
    fresh.dispose();
  } finally {
    run.dispose();
    folder.release();
  }
});

test('checkpoint tensors stored as integers where the run keeps floats are refused, as tokenizer.safetensors\' are', () => {
  const dir = scratchDir();
  const run = makeParts();
  for (const [name, dtype] of [['model.fc.weight', 'int32'], ['ema.fc.bias', 'int64'], ['optimizer.state.0.exp_avg', 'int32']] as const) {
    const file = path.join(dir, `${name}.safetensors`);
    saveCheckpoint(file, run.parts, { step: 3, epoch: 0 });
    editTensor(file, name, (t) => t.mul(100).to(dtype));
    assert.throws(() => loadCheckpoint(file, run.parts), {
      message: `${file}: tensor '${name}' has dtype ${dtype}, but this run's '${name.split('.')[0]}' holds it as floating point ` +
        '(an integer copy would be cast silently and give a broken model) — ' +
        'the file is damaged or was written by something else: resume from another checkpoint, or delete it to start afresh',
    });
  }
  // A float of another width is cast, as PyTorch's load_state_dict does.
  const file = path.join(dir, 'double.safetensors');
  saveCheckpoint(file, run.parts, { step: 3, epoch: 0 });
  editTensor(file, 'model.fc.weight', (t) => t.to('float64'));
  assert.equal(loadCheckpoint(file, run.parts).step, 3);
  run.dispose();
});

test('a tokenizer.safetensors holding NaN is refused by Tokenizer.load and by reconstruct (exit 1, naming the file and the tensor)', async () => {
  const dir = saveTinyTokenizer(path.join(scratchDir(), 'tok'), 0);
  const weights = path.join(dir, 'tokenizer.safetensors');
  editTensor(weights, 'quantize.embedding.weight', (t) => poisoned(t));
  const expected = `${weights} cannot be used: tensor 'quantize.embedding.weight' holds 1 NaN or infinite value`;
  assert.throws(() => Tokenizer.load(dir), (error: Error) => error.message.startsWith(expected));
  const images = path.join(dir, 'in');
  mkdirSync(images);
  writeFileSync(path.join(images, 'a.png'), await pngOf(32));
  const run = spawnSync(process.execPath, [cli, 'reconstruct', '--tokenizer', dir, '--input', images, '--out', path.join(dir, 'out')],
    { env: { ...process.env, ROBUSTOK_THREADS: '1' }, encoding: 'utf8' });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.ok(run.stderr.includes(expected), run.stderr);
  assert.doesNotMatch(run.stdout, /PSNR/);
});

test('a non-finite number at the end of a run is an error naming it, not a result', () => {
  refuseNonFiniteResults('summary.json', { PSNR: 24.1, 'PSNR perturbed': null });
  assert.throws(() => refuseNonFiniteResults('runs/x/summary.json (not written)', { 'test PSNR': Number.NaN, other: 3, psnr2: Number.POSITIVE_INFINITY }),
    { message: 'runs/x/summary.json (not written): test PSNR is NaN, psnr2 is Infinity — not a result: the model\'s weights or the images are broken ' +
      '(check the images; retrain, or resume from a checkpoint that loads)' });
});

/** A grey `size`×`size` PNG. */
async function pngOf(size: number): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(Buffer.alloc(size * size, 128), { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
}
