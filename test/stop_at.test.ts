// ROBUSTOK_STOP_AT (src/pipeline/stop_at.ts): a stage child stops itself at a
// step, not when a stop from its parent happens to arrive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStopAt, stopWhenReached } from '../src/pipeline/stop_at.js';

test('ROBUSTOK_STOP_AT parses LABEL@STEP and names a bad value', () => {
  assert.equal(parseStopAt(undefined), undefined);
  assert.equal(parseStopAt(''), undefined);
  assert.deepEqual(parseStopAt('train-generator/delta4-s0 train@5'), { label: 'train-generator/delta4-s0 train', step: 5 });
  for (const bad of ['train', '@5', 'train@0', 'train@2.5', 'train@x']) {
    assert.throws(() => parseStopAt(bad), new RegExp(`ROBUSTOK_STOP_AT must be LABEL@STEP .*got '${bad.replace('.', '\\.')}'`), bad);
  }
});

test('the stop aborts as SIGTERM at the first event of its label at or past its step', () => {
  const controller = new AbortController();
  const check = stopWhenReached({ label: 'a train', step: 3 }, controller);
  check({ label: 'a train', done: 2, total: 9 });
  check({ label: 'b train', done: 5, total: 9 });
  assert.equal(controller.signal.aborted, false);
  check({ label: 'a train', done: 3, total: 9 });
  assert.equal(controller.signal.reason, 'SIGTERM');
  const unset = new AbortController();
  stopWhenReached(undefined, unset)({ label: 'a train', done: 9, total: 9 });
  assert.equal(unset.signal.aborted, false);
});
