// bench/generator's loop compares like with like: from the weights
// trainGenerator starts from and the tokens it trains on (its own token
// cache), the PyTorch twin's loop (bench/generator_torch.py `loop`) logs the
// same metrics lines as robustok's train-generator loop — loss, token
// accuracy, learning rate, gradient norm, epoch — at every step (relative
// 1e-4), which also checks that both applied the same AdamW, clipping and
// schedule in between, and it writes the same sample grids and a checkpoint
// at the same steps. Model and class dropout are off here (each side draws
// its masks from its own stream), and the data is one batch, so an epoch's
// shuffle only reorders the rows of a batch, which the mean loss and its
// gradient do not see.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { prepareLoop, robustokLoop, sampleLabels, smallConfig, startGeneratorTwin, writeTwinInit } from '../bench/generator.js';
import { GeneratorTrainer } from '../src/generator/index.js';
import { getNumThreads } from '../src/torch/index.js';

const RTOL = 1e-4;
const ATOL = 1e-6;
const BATCH = 8;
const STEPS = 3;

type Line = Record<string, number>;

test("the PyTorch twin's loop does the work of robustok's train-generator loop (same metrics, grids and checkpoints)", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-twin-'));
  const config = smallConfig([
    `data.limit=${BATCH}`, `train.batchSize=${BATCH}`, `train.steps=${STEPS}`, 'train.logEvery=1', 'train.sampleEvery=2', 'train.checkpointEvery=2',
    'train.samplesPerClass=1', 'model.dropout=0', 'model.classDropout=0',
  ]);
  const setup = await prepareLoop(config, dir);
  const trainer = new GeneratorTrainer(config, setup.tokens, setup.start.options.numClasses);
  const labels = sampleLabels(setup.start.options.numClasses);
  try {
    const run = path.join(dir, 'run');
    await robustokLoop(setup, run);
    const ours = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    const ourGrids = readdirSync(path.join(run, 'samples')).sort();

    const initFile = path.join(dir, 'init.pt');
    writeTwinInit(initFile, trainer, labels, setup);
    const twin = await startGeneratorTwin(getNumThreads(), initFile);
    let answer: { ms: number; metrics: Line[]; files: string[] };
    try {
      answer = JSON.parse(twin.ask('loop-log')) as typeof answer;
    } finally {
      twin.close();
    }

    assert.deepEqual(ours.map((m) => m.step), [1, 2, 3], 'robustok logs every step');
    assert.deepEqual(answer.metrics.map((m) => m.step), ours.map((m) => m.step), 'the twin logs the same steps');
    for (const [i, a] of ours.entries()) {
      const b = answer.metrics[i]!;
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), `step ${a.step}: the same numbers are logged`);
      assert.equal(b.epoch, a.epoch, `step ${a.step}: epoch`);
      assert.equal(b.threads, a.threads, `step ${a.step}: threads`);
      const off = ['loss', 'accuracy', 'lr', 'gradNorm'].filter((k) => !(Math.abs(a[k]! - b[k]!) <= ATOL + RTOL * Math.abs(b[k]!)))
        .map((k) => `${k}: robustok ${a[k]} vs PyTorch ${b[k]}`);
      assert.deepEqual(off, [], `step ${a.step} (rtol ${RTOL}, atol ${ATOL})`);
    }
    assert.ok(ours[1]!.loss !== ours[0]!.loss, 'the first update moved the weights (so step 2 checks it)');
    assert.deepEqual(ourGrids, ['step-2.png', 'step-3.png'], 'robustok: a grid every sampleEvery steps and at the end');
    assert.deepEqual(answer.files.filter((f) => f.startsWith('samples')), ourGrids.map((f) => path.join('samples', f)), 'the twin: the same grids');
    assert.ok(answer.files.includes('checkpoint.pt') && !answer.files.some((f) => f.endsWith('.tmp')), 'the twin: a whole checkpoint');
  } finally {
    labels.dispose();
    trainer.dispose();
    setup.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
