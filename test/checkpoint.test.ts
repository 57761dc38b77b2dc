// Training checkpoints: exact resume, atomic writes, clear errors; and
// module state dicts exchanged with PyTorch through .pt and safetensors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BatchNorm2d, Conv2d, ConvTranspose2d, GroupNorm, type Layer, Linear, Module, Sequential, SiLU, TransformerBlock } from '../src/nn/index.js';
import { AdamW, Ema, Scheduler, warmupCosine } from '../src/optim/index.js';
import { F, type Tensor, flattenStateDict, liveTensors, loadPt, loadSafetensors, manualSeed, randn, savePt, saveSafetensors, tidy } from '../src/torch/index.js';
import { loadCheckpoint, readProgress, saveCheckpoint } from '../src/train/index.js';
import { scratchDir } from './helpers/checkpoint.js';

class Net extends Module implements Layer {
  readonly fc1 = this.child('fc1', new Linear(6, 16));
  readonly fc2 = this.child('fc2', new Linear(16, 6));
  forward(x: Tensor): Tensor {
    return this.fc2.forward(F.dropout(F.gelu(this.fc1.forward(x)), 0.2, this.training));
  }
}

/** A run whose every part matters for exactness: AdamW, a schedule, EMA, dropout and random batches. */
function makeRun(seed: number) {
  manualSeed(seed);
  const model = new Net();
  const optimizer = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.05 });
  const scheduler = new Scheduler(optimizer, warmupCosine({ lr: 3e-3, warmupSteps: 3, totalSteps: 20, lrMin: 1e-4 }));
  const ema = new Ema(model.namedParameters(), { decay: 0.9 });
  const step = () => tidy(() => {
    const x = randn([8, 6]);
    optimizer.zeroGrad();
    F.mseLoss(model.forward(x), x.flip(1)).backward();
    optimizer.step();
    scheduler.step();
    ema.update();
  });
  const parts = { model, optimizer, scheduler, ema };
  const snapshot = () => tidy(() => [...model.parameters(), ...Object.values(ema.stateDict().tensors)]
    .map((t) => Array.from(t.toTypedArray() as Float32Array)));
  const dispose = () => { optimizer.dispose(); ema.dispose(); model.dispose(); };
  return { parts, step, snapshot, dispose };
}

test('N steps, save, resume in a fresh run, M steps = N + M uninterrupted steps, bit for bit', () => {
  const live = liveTensors();
  const dir = scratchDir();
  const file = path.join(dir, 'run.ckpt');

  const straight = makeRun(11);
  for (let i = 0; i < 10; i++) straight.step();
  const expected = straight.snapshot();
  straight.dispose();

  const first = makeRun(11);
  for (let i = 0; i < 4; i++) first.step();
  saveCheckpoint(file, first.parts, { step: 4, epoch: 0, config: { lr: 3e-3 } });
  first.dispose();
  manualSeed(999);  // the resumed run must not depend on the RNG state at load time

  const resumed = makeRun(12);  // different initial weights, overwritten by the checkpoint
  const progress = loadCheckpoint(file, resumed.parts);
  assert.deepEqual(progress, { step: 4, epoch: 0, config: { lr: 3e-3 } });
  for (let i = 4; i < 10; i++) resumed.step();
  assert.deepEqual(resumed.snapshot(), expected);
  resumed.dispose();
  assert.equal(liveTensors(), live);
});

test('checkpoint errors name the problem', () => {
  const dir = scratchDir();
  const file = path.join(dir, 'a.ckpt');
  const run = makeRun(1);
  saveCheckpoint(file, run.parts, { step: 1, epoch: 0 });
  assert.deepEqual(readProgress(file).parts, ['model', 'optimizer', 'scheduler', 'ema']);
  assert.throws(() => loadCheckpoint(file, { model: run.parts.model }), /has parts this run lacks: optimizer, scheduler, ema/);
  const other = new TransformerBlock(8, { heads: 2 });
  assert.throws(() => loadCheckpoint(file, { ...run.parts, model: other }), /part 'model'.*another architecture/);
  assert.throws(() => loadCheckpoint(path.join(dir, 'missing.ckpt'), run.parts), /not found/);
  const plain = path.join(dir, 'plain.safetensors');
  saveSafetensors(plain, run.parts.model.stateDict());
  assert.throws(() => loadCheckpoint(plain, run.parts), /not a robustok checkpoint/);
  other.dispose();
  run.dispose();
});

test('a checkpoint whose step or epoch is not a non-negative integer is refused, naming the file and the field', () => {
  const dir = scratchDir();
  const file = path.join(dir, 'good.ckpt');
  const run = makeRun(3);
  saveCheckpoint(file, run.parts, { step: 5, epoch: 1 });
  /** A copy of the checkpoint with its header edited by `edit`. */
  const edited = (name: string, edit: (header: Record<string, unknown>) => unknown): string => {
    const { tensors, metadata } = loadSafetensors(file);
    const out = path.join(dir, name);
    saveSafetensors(out, tensors, { robustok: JSON.stringify(edit(JSON.parse(metadata.robustok!) as Record<string, unknown>)) });
    for (const t of Object.values(tensors)) t.dispose();
    return out;
  };
  const negative = edited('negative.ckpt', (h) => ({ ...h, step: -50 }));
  const message = `${negative}: the checkpoint's step is -50; it must be a non-negative integer — the file is damaged or was edited: ` +
    'resume from another checkpoint, or delete it to start afresh';
  assert.throws(() => readProgress(negative), { message });
  assert.throws(() => loadCheckpoint(negative, run.parts), { message });
  assert.throws(() => readProgress(edited('epoch.ckpt', (h) => ({ ...h, epoch: 1.5 }))), /epoch\.ckpt: the checkpoint's epoch is 1\.5; it must be a non-negative integer/);
  assert.throws(() => readProgress(edited('text.ckpt', (h) => ({ ...h, step: '7' }))), /text\.ckpt: the checkpoint's step is "7"/);
  assert.throws(() => readProgress(edited('nostep.ckpt', ({ step: _, ...h }) => h)), /nostep\.ckpt: the checkpoint header lacks 'step'/);
  assert.throws(() => readProgress(edited('null.ckpt', () => null)), /null\.ckpt: the checkpoint header is null, not an object/);
  assert.equal(readProgress(edited('zero.ckpt', (h) => ({ ...h, step: 0, epoch: 0 }))).step, 0, 'step 0 is a valid start');
  run.dispose();
});

test('a failed save leaves the previous checkpoint intact', () => {
  const dir = scratchDir();
  const file = path.join(dir, 'keep.ckpt');
  const run = makeRun(2);
  saveCheckpoint(file, run.parts, { step: 7, epoch: 1 });
  const before = readFileSync(file);
  const broken = { ...run.parts, bad: { stateDict: () => { throw new Error('disk full (simulated)'); }, loadStateDict: () => {} } };
  assert.throws(() => saveCheckpoint(file, broken, { step: 8, epoch: 1 }), /disk full/);
  assert.deepEqual(readFileSync(file), before);
  assert.equal(readProgress(file).step, 7);
  run.dispose();
});

// ---- exchange with PyTorch ------------------------------------------------------

const oracleScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'module_checkpoint_oracle.py');
const pytorch = (command: 'export' | 'import', dir: string): Record<string, unknown> =>
  JSON.parse(execFileSync('/usr/bin/python3', [oracleScript, command, dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } }));

const twins: Record<string, () => Module & Layer> = {
  block: () => new TransformerBlock(16, { heads: 4, qkNorm: true }).eval() as Module & Layer,
  convs: () => new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new GroupNorm(2, 8), new SiLU(), new Conv2d(8, 4, 4, { stride: 2, padding: 1 })).eval(),
  deconv: () => new Sequential(new ConvTranspose2d(4, 3, 4, { stride: 2, padding: 1 }), new BatchNorm2d(3)).eval(),
  spectral: () => new Linear(6, 4, { spectralNorm: true }).eval(),
};
const inputShapes: Record<string, number[]> = { block: [2, 5, 16], convs: [2, 3, 8, 8], deconv: [2, 4, 5, 5], spectral: [3, 6] };

const maxDiff = (a: Tensor, b: Tensor): number => tidy(() => a.sub(b).abs().max().item());

test('state dicts saved by PyTorch (.pt and safetensors) load here and give the same outputs and input gradients', () => {
  const dir = scratchDir();
  pytorch('export', dir);
  for (const [name, build] of Object.entries(twins)) {
    const io = loadSafetensors(path.join(dir, `${name}.io.safetensors`)).tensors;
    for (const source of ['pt', 'safetensors']) {
      const model = build();
      const file = path.join(dir, `${name}.${source}`);
      const state = source === 'pt' ? flattenStateDict(loadPt(file)) : loadSafetensors(file).tensors;
      model.loadStateDict(state);
      tidy(() => {
        const x = io.x!.detach().requiresGrad_();
        const y = model.forward(x);
        y.sum().backward();
        assert.ok(maxDiff(y, io.y!) < 1e-5, `${name} from ${source}: output differs by ${maxDiff(y, io.y!)}`);
        assert.ok(maxDiff(x.grad!, io.xgrad!) < 1e-5, `${name} from ${source}: input gradient differs`);
      });
      for (const t of Object.values(state)) t.dispose();
      model.dispose();
    }
    for (const t of Object.values(io)) t.dispose();
  }
});

test('state dicts saved here (.pt and safetensors) load in PyTorch and give the same outputs', () => {
  const dir = scratchDir();
  manualSeed(5);
  for (const [name, build] of Object.entries(twins)) {
    const model = build();
    savePt(path.join(dir, `${name}.robustok.pt`), model.stateDict());
    saveSafetensors(path.join(dir, `${name}.robustok.safetensors`), model.stateDict());
    tidy(() => {
      const x = randn(inputShapes[name]!);
      saveSafetensors(path.join(dir, `${name}.robustok-io.safetensors`), { x, y: model.forward(x) });
    });
    model.dispose();
  }
  const report = pytorch('import', dir) as Record<string, number>;
  assert.deepEqual(Object.keys(report).sort(), Object.keys(twins).flatMap((n) => [`${n}.pt`, `${n}.safetensors`]).sort());
  for (const [key, diff] of Object.entries(report)) assert.ok(diff < 1e-5, `${key}: PyTorch's output differs by ${diff}`);
  assert.ok(existsSync(path.join(dir, 'block.robustok.pt')));
  writeFileSync(path.join(dir, 'done'), '');
});
