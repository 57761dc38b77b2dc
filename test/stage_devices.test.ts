// `reproduce --device` without a GPU (src/pipeline/stage_devices.ts): the
// slots' devices (the GPUs in turn, or one named GPU, or the CPU), a missing
// GPU refused before the reproduction's folder is touched.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPreset, reproduce, slotDevices, stageDevices } from '../src/pipeline/index.js';
import { cuda } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';

test('stage slots: the CPU everywhere, the GPUs in turn, or one named GPU for every slot', () => {
  assert.deepEqual(stageDevices('cpu', 3), ['cpu', 'cpu', 'cpu']);
  assert.deepEqual(slotDevices('cuda:0', false, 5, 2), ['cuda:0', 'cuda:1', 'cuda:0', 'cuda:1', 'cuda:0'], '--device cuda with --jobs 5 on 2 GPUs');
  assert.deepEqual(slotDevices('cuda:1', true, 3, 4), ['cuda:1', 'cuda:1', 'cuda:1'], '--device cuda:1 pins every stage');
  assert.deepEqual(slotDevices('cpu', false, 2, 0), ['cpu', 'cpu']);
  if (!cuda.isAvailable()) assert.deepEqual(stageDevices('auto', 2), ['cpu', 'cpu'], 'auto without a GPU is the CPU');
});

test('reproduce --device cuda without a GPU is refused before DIR is touched, saying what to do', { skip: cuda.isAvailable() ? 'this machine has a CUDA device' : false }, async () => {
  const dir = path.join(scratchDir(), 'reproduce');
  await assert.rejects(reproduce(loadPreset('quick'), dir, { device: 'cuda' }), /this libtorch sees no CUDA device .*use --device cpu/);
  assert.ok(!existsSync(dir), 'nothing written');
  assert.throws(() => stageDevices('gpu', 1), /device 'gpu': expected cpu, cuda, cuda:N or auto/);
});
