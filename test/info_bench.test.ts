// `robustok info --bench` (src/train/machine_bench.ts): one JSON line with
// every reference figure a finite positive number. No timing thresholds: the
// figures depend on the machine and its load, which is what they measure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { oneThreadEnv } from './helpers/one_thread.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const info = (...args: string[]) => spawnSync(process.execPath, [cli, 'info', ...args], { env: oneThreadEnv, encoding: 'utf8' });

test('robustok info --bench --json prints one JSON object of finite positive figures, and the load around them', () => {
  const run = info('--bench', '--json');
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, run.stdout);
  const figures = JSON.parse(lines[0]!) as Record<string, unknown>;
  for (const key of ['cores', 'sgemmGflops1Thread', 'sgemmGflopsAllThreads', 'convStepMs', 'convStepThreads']) {
    const v = figures[key];
    assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${key}: ${String(v)}`);
  }
  assert.equal(typeof figures.cpu, 'string');
  for (const key of ['loadBefore', 'loadAfter']) {
    const load = figures[key];
    assert.ok(load === null || (Array.isArray(load) && load.length === 3 && load.every((v) => Number.isFinite(v))), `${key}: ${JSON.stringify(load)}`);
  }
  const busy = Math.max(...[figures.loadBefore, figures.loadAfter].map((l) => (Array.isArray(l) ? (l[0] as number) : 0)));
  assert.equal(/warning: the 1-minute load average was/.test(run.stderr), busy > 0.5, run.stderr);
});

test('robustok info: --json without --bench and an unknown flag are refused, naming them', () => {
  assert.match(info('--json').stderr, /--json goes with --bench/);
  assert.match(info('--fast').stderr, /unknown option --fast/);
  const plain = info();
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok('libtorch' in (JSON.parse(plain.stdout) as object));
});
