// The thread count's decisions, from hand-made /proc/stat samples (2 CPUs at
// 100 ticks/s unless said otherwise), and one real sample with a child
// process spinning a core.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import {
  type LoadSample, ThreadGovernor, busyByOthers, nextThreads, parseCpuList, parseProcStat, procSampler, sleepSync, threadsFor,
} from '../src/torch/threads.js';

const HZ = 100;

/** The machine after `seconds`: `others` and `own` are the cores each kept busy over that time. */
class FakeMachine {
  busy = 0;
  total = 0;
  ownMicros = 0;
  wallMs = 0;
  samples = 0;
  constructor(readonly cpus = 2) {}
  run(seconds: number, others: number, own: number): void {
    this.total += seconds * HZ * this.cpus;
    this.busy += seconds * HZ * (others + own);
    this.ownMicros += seconds * own * 1e6;
    this.wallMs += seconds * 1000;
  }
  sample = (): LoadSample => {
    this.samples++;
    return { cpu: { busy: this.busy, total: this.total, cpus: this.cpus }, ownMicros: this.ownMicros, wallMs: this.wallMs };
  };
}

/** A governor over `machine` whose load-time sample sees `othersAtLoad` cores busy; `applied` records each count set. */
function governor(machine: FakeMachine, othersAtLoad: number, env?: string, cores = machine.cpus) {
  const applied: number[] = [];
  const g = new ThreadGovernor({
    cores, sample: machine.sample, apply: (n) => applied.push(n), intervalMs: 15_000,
    now: () => machine.wallMs, sleep: (ms) => machine.run(ms / 1000, othersAtLoad, 0),
  });
  g.start(env);
  return { g, applied };
}

test('others are the system busy share minus this process, in cores', () => {
  const m = new FakeMachine(2);
  const a = m.sample();
  m.run(10, 0.5, 1.5);  // we train on 1.5 cores, others take 0.5
  assert.ok(Math.abs(busyByOthers(a, m.sample())! - 0.5) < 1e-9);
  assert.equal(busyByOthers(a, a), undefined);  // no time elapsed: no information
});

test('the count is the cores others leave free, within [1, cores]', () => {
  assert.equal(nextThreads(undefined, 0, 2, 2), 2);
  assert.equal(nextThreads(undefined, 1, 2, 2), 1);    // one core spinning elsewhere
  assert.equal(nextThreads(undefined, 0.2, 2, 2), 2);  // noise is not a core
  assert.equal(nextThreads(undefined, 5, 4, 4), 1);    // never below 1
  assert.equal(nextThreads(undefined, 0, 8, 2), 2);    // never above the cores this process may use
  assert.equal(threadsFor(2.5, 8, 8, 0.3), 5);
});

test('lowering is prompt and raising needs a margin (hysteresis)', () => {
  assert.equal(nextThreads(2, 0.4, 2, 2), 1);  // others got 0.4 of a core while we used both: lower
  assert.equal(nextThreads(1, 0.2, 2, 2), 1);  // 0.2 is below the lowering slack but above the raising one: stay
  assert.equal(nextThreads(2, 0.2, 2, 2), 2);  // ...from either side
  assert.equal(nextThreads(1, 0.05, 2, 2), 2);  // cores freed: raise
  assert.equal(nextThreads(1, 1, 2, 2), 1);
});

test('a busy start is corrected once the other process ends', () => {
  const m = new FakeMachine(2);
  const { g, applied } = governor(m, 1);  // a short-lived process spins one core at load
  assert.deepEqual([g.decision().threads, g.decision().source], [1, 'sampled']);
  assert.ok(Math.abs(g.decision().busyByOthers - 1) < 1e-9);

  m.run(5, 0, 1);  // training on 1 thread, the other process gone
  assert.deepEqual(g.maybeAdjust(), { threads: 1, changed: false });  // before the interval: no sample taken
  const samples = m.samples;
  m.run(10, 0, 1);
  const raised = g.maybeAdjust();
  assert.equal(m.samples, samples + 1);
  assert.equal(raised.threads, 2);
  assert.equal(raised.changed, true);
  assert.match(raised.reason!, /threads 1 → 2: other processes kept 0\.0 of 2 CPUs busy over the last 15 s/);

  m.run(15, 0.5, 1.5);  // another process starts and gets half a core from us
  assert.deepEqual(g.maybeAdjust().threads, 1);
  m.run(15, 1, 1);  // it now has its core: stay at 1
  assert.deepEqual(g.maybeAdjust(), { threads: 1, changed: false });
  assert.deepEqual(applied, [1, 2, 1]);
});

test('ROBUSTOK_THREADS and setNumThreads pin the count', () => {
  const m = new FakeMachine(2);
  const { g, applied } = governor(m, 1, '3');
  assert.deepEqual([g.decision().threads, g.decision().source], [3, 'env']);
  assert.equal(m.samples, 0);  // no sample at load when pinned
  m.run(30, 2, 0);
  assert.deepEqual(g.maybeAdjust(), { threads: 3, changed: false });
  assert.deepEqual(applied, [3]);
  assert.throws(() => governor(new FakeMachine(2), 0, '0'), RangeError);
  assert.equal(governor(new FakeMachine(2), 0, '').g.decision().source, 'sampled');

  const m2 = new FakeMachine(2);
  const free = governor(m2, 1);
  free.g.pin(1);
  assert.equal(free.g.decision().source, 'pinned');
  m2.run(30, 0, 1);
  assert.deepEqual(free.g.maybeAdjust(), { threads: 1, changed: false });
});

test('one core or no /proc: every core, nothing sampled', () => {
  const one = governor(new FakeMachine(1), 1);
  assert.deepEqual([one.g.decision().threads, one.g.decision().source], [1, 'unsampled']);
  const g = new ThreadGovernor({ cores: 4, apply: () => {} });
  assert.deepEqual([g.start(undefined).threads, g.decision().source], [4, 'unsampled']);
});

test('a libtorch that refuses a new count stops the adapting', () => {
  const m = new FakeMachine(2);
  let refuse = false;
  const g = new ThreadGovernor({
    cores: 2, sample: m.sample, now: () => m.wallMs, sleep: (ms) => m.run(ms / 1000, 1, 0),
    apply: () => { if (refuse) throw new Error('cannot set threads now'); },
  });
  g.start(undefined);
  refuse = true;
  m.run(20, 0, 1);
  const r = g.maybeAdjust();
  assert.deepEqual([r.threads, r.changed], [1, false]);
  assert.match(r.reason!, /cannot set threads now/);
  m.run(20, 0, 1);
  assert.deepEqual(g.maybeAdjust(), { threads: 1, changed: false });
});

test('/proc/stat is summed over the CPUs this process may run on', () => {
  const stat = 'cpu  300 0 100 600 0 0 0 0 0 0\ncpu0 100 0 50 100 0 0 0 0 0 0\ncpu1 200 0 50 500 10 5 5 20 0 0\nintr 1 2\n';
  assert.deepEqual(parseProcStat(stat, new Set([1])), { busy: 260, total: 790, cpus: 1 });
  assert.deepEqual(parseProcStat(stat), { busy: 400, total: 1000, cpus: 2 });
  assert.equal(parseProcStat('intr 1\n'), undefined);
  assert.deepEqual([...parseCpuList('0-2,5\n')], [0, 1, 2, 5]);
});

// A child spinning one core is seen as (about) one busy core: it gets at least
// most of a core even on a loaded 2-core machine, and anything else running
// only adds to what others use.
test('a real sample sees a spinning child process', { skip: procSampler() === undefined && 'no /proc/stat' }, async () => {
  const sample = procSampler()!;
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("go\\n"); const end = Date.now() + 10000; while (Date.now() < end);']);
  try {
    await once(child.stdout, 'data');
    const before = sample()!;
    sleepSync(500);
    const others = busyByOthers(before, sample()!)!;
    assert.ok(others >= 0.6, `others ${others}`);
  } finally {
    child.kill();
  }
});
