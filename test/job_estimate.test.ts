// The expected total of training + eval (src/runs/job_estimate.ts), on
// hand-made step times and a fake clock: the GAN's and the eval's cost
// ratios applied as documented, the classifier counted only when its file is
// missing, and one line logged after the second progress line of training.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  CLASSIFIER_STEP_COST, EVAL_IMAGE_COST, type EvalWork, GAN_STEP_COST, estimateJob, evalWorkFor, withJobEstimate,
} from '../src/runs/job_estimate.js';
import type { ProgressEvent } from '../src/runs/index.js';

const work: EvalWork = { data: 'fashion-mnist', classifierSteps: 1000, evalImages: 10_000 };
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test('estimateJob: GAN-off steps at the measured time, GAN-on steps dearer; classifier and eval from the GAN-off step', () => {
  const e = estimateJob(0.1, { done: 50, total: 1200, ganStart: 336 }, work);
  close(e.trainingS, 0.1 * (286 + GAN_STEP_COST * 864), 'training');
  close(e.classifierS, 0.1 * CLASSIFIER_STEP_COST * 1000, 'classifier');
  close(e.evalS, 0.1 * EVAL_IMAGE_COST * 10_000, 'eval');
  close(e.totalS, e.trainingS + e.classifierS + e.evalS, 'total');
  // Measured with the GAN on (a resumed run): that step is the dear one.
  const late = estimateJob(GAN_STEP_COST * 0.1, { done: 600, total: 1200, ganStart: 336 }, work);
  close(late.trainingS, GAN_STEP_COST * 0.1 * 600, 'training, GAN on');
  close(late.classifierS, e.classifierS, 'classifier, GAN on');
  const noGan = estimateJob(0.1, { done: 50, total: 1200, ganStart: null }, { ...work, classifierSteps: 0 });
  close(noGan.trainingS, 0.1 * 1150, 'training, no GAN');
  assert.equal(noGan.classifierS, 0);
});

test('withJobEstimate logs once, after the second training progress line, and passes every event on', () => {
  let ms = 0;
  const seen: ProgressEvent[] = [];
  const logs: string[] = [];
  const events = withJobEstimate({ progress: (e) => seen.push(e), log: (m) => logs.push(m) }, work, 336, () => ms);
  const train = (done: number) => events.progress!({ label: 'train', done, total: 1200, start: 0 });
  train(0);
  ms = 5000;  // warm-up: not measured
  train(25);
  events.progress!({ label: 'eval', done: 10, total: 100 });
  assert.equal(logs.length, 0);
  ms = 7500;  // 25 steps in 2.5 s: 0.1 s a step
  train(50);
  train(75);
  assert.equal(seen.length, 5);
  assert.equal(logs.length, 1);
  const expected = estimateJob(0.1, { done: 50, total: 1200, ganStart: 336 }, work);
  assert.match(logs[0]!, new RegExp(`^expected total of this training and robustok eval --data fashion-mnist: ~${(expected.totalS / 60).toFixed(1)} min from now `));
  assert.match(logs[0]!, /classifier 0\.9 min, eval of 10000 images 0\.7 min; an estimate/);
});

test('evalWorkFor counts the classifier\'s steps only when its file is missing (Fashion-MNIST\'s ships with robustok)', async () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'robustok-estimate-'));
  const before = process.env.ROBUSTOK_CACHE;
  process.env.ROBUSTOK_CACHE = cache;
  try {
    // An empty cache: the shipped classifier is read, nothing to train; eval scores the 10,000 test images.
    assert.deepEqual(await evalWorkFor('fashion-mnist'), { data: 'fashion-mnist', classifierSteps: 0, evalImages: 10_000 });
    // No file at all: 4 epochs of ⌊60,000 / 128⌋ steps (the classifier's defaults).
    assert.deepEqual(await evalWorkFor('fashion-mnist', path.join(cache, 'none.safetensors')), { data: 'fashion-mnist', classifierSteps: 4 * 468, evalImages: 10_000 });
  } finally {
    if (before === undefined) delete process.env.ROBUSTOK_CACHE;
    else process.env.ROBUSTOK_CACHE = before;
    rmSync(cache, { recursive: true, force: true });
  }
});
