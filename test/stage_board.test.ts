// The live view of `robustok reproduce` (src/cli/stage_board.ts), on a fake
// clock: counts by state, a running stage's ETA from its progress rate, and
// the whole run's ETA from the mean time of each kind finished so far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StageBoard, clock } from '../src/cli/stage_board.js';

test('clock: minutes and seconds, hours past the hour', () => {
  assert.equal(clock(75), '1m15s');
  assert.equal(clock(3 * 3600 + 120), '3h02m');
  assert.equal(clock(-4), '0m00s');
});

test('the board: states, a running stage with progress and ETA, the run ETA shared over the jobs', () => {
  let now = 0;
  const written: string[] = [];
  const board = new StageBoard({ jobs: 2, tty: false, now: () => now, write: (t) => written.push(t) });
  for (const id of ['a', 'b', 'c']) board.update({ id: `train-tokenizer/${id}-s0`, kind: 'train-tokenizer', state: 'waiting' });
  board.update({ id: 'train-tokenizer/a-s0', kind: 'train-tokenizer', state: 'running' });
  now = 60_000;
  board.update({ id: 'train-tokenizer/a-s0', kind: 'train-tokenizer', state: 'done' });
  assert.match(board.lines()[0]!, /1\/3 stages finished \(0 skipped\), 0 running, 2 waiting · elapsed 1m00s · ETA ~1m00s$/,
    'two waiting stages of a kind that took 60 s, over 2 jobs');

  board.update({ id: 'train-tokenizer/b-s0', kind: 'train-tokenizer', state: 'running' });
  const progress = (done: number) => ({ label: 'train-tokenizer/b-s0 train', done, total: 100 });
  board.update({ id: 'train-tokenizer/b-s0', kind: 'train-tokenizer', state: 'running', progress: progress(10) });
  now = 80_000;
  board.update({ id: 'train-tokenizer/b-s0', kind: 'train-tokenizer', state: 'running', progress: progress(30) });
  const lines = board.lines();
  assert.match(lines[1]!, /train-tokenizer\/b-s0\s+train 30\/100\s+0m20s · ETA 1m10s/, '20 steps in 20 s: 70 left');
  assert.match(lines[0]!, /ETA ~1m05s/, '(70 s running + 60 s waiting) / 2 jobs');
  assert.match(lines[2]!, /next: train-tokenizer\/c-s0/);
  assert.ok(written.length >= 1 && written[0]!.startsWith('reproduce: 0/1 stages'), 'a log file gets a summary at once, then once a minute');
  board.close();
});
