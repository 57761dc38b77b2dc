// --profile: phases nest and add up, the table accounts for the wall time,
// and a real training run writes a profile whose phases are the step's parts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ProfileReport, phase, profile, profileTable } from '../src/torch/index.js';
import { oneThreadEnv } from './helpers/one_thread.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

test('phases nest by path, a parent includes its children, and nothing is recorded while the profile is off', async () => {
  phase('before', () => busy(1));
  profile.start();
  for (let i = 0; i < 3; i++) {
    phase('step', () => {
      phase('forward', () => busy(2));
      phase('backward', () => busy(4));
      profile.count('reads');
    });
    await profile.phaseAsync('data', async () => busy(1));
    profile.step();
  }
  const r = profile.report();
  profile.stop();
  phase('after', () => busy(1));
  assert.deepEqual(r.phases.map((p) => [p.path, p.depth, p.calls]), [
    ['step', 0, 3], ['step › forward', 1, 3], ['step › backward', 1, 3], ['data', 0, 3],
  ]);
  const ms = Object.fromEntries(r.phases.map((p) => [p.path, p.ms]));
  assert.ok(ms['step › forward']! >= 6 && ms['step › backward']! >= 12, JSON.stringify(ms));
  assert.ok(ms.step! >= ms['step › forward']! + ms['step › backward']!);
  assert.ok(r.wallSeconds * 1000 >= ms.step! + ms.data!);
  assert.equal(r.steps, 3);
  assert.deepEqual(r.counts, { reads: 3 });
  const table = profileTable(r);
  assert.match(table, /\| step \| [\d.]+ \| [\d.]+ \| [\d.]+% \| 3 \|/);
  assert.match(table, /\(itself\)/);
  assert.match(table, /\(outside every phase\)/);
  assert.match(table, /3 steps in [\d.]+ s; reads: 3 \(1\.0 per step\)/);
});

test('a phase that throws still closes, so the phases after it keep their paths', () => {
  profile.start();
  assert.throws(() => phase('outer', () => phase('inner', () => { throw new Error('boom'); })), /boom/);
  phase('next', () => undefined);
  const r: ProfileReport = profile.report();
  profile.stop();
  assert.deepEqual(r.phases.map((p) => p.path), ['outer', 'outer › inner', 'next']);
});

test('a phase first entered late sits under its parent in the report, not after the phases entered before it', () => {
  profile.start();
  phase('step', () => phase('forward', () => undefined));
  phase('metrics', () => undefined);
  phase('step', () => phase('discriminator', () => undefined));
  const r = profile.report();
  profile.stop();
  assert.deepEqual(r.phases.map((p) => p.path), ['step', 'step › forward', 'step › discriminator', 'metrics']);
});

test('train-tokenizer --profile writes profile.json and profile.md with the step split into its parts', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'robustok-profile-'));
  try {
    const r = spawnSync(process.execPath, [
      path.join(root, 'dist', 'src', 'cli', 'main.js'), 'train-tokenizer', '--config', path.join(root, 'configs', 'tokenizer', 'tiny.yaml'),
      '--out', out, '--set', 'train.steps=6', '--set', 'train.checkpointEvery=6', '--set', 'loss.gan.enabled=true', '--set', 'loss.gan.start=0.5', '--profile',
    ], { env: oneThreadEnv, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(path.join(out, 'profile.json'), 'utf8')) as ProfileReport & { command: string; threads: number };
    assert.equal(p.command, 'train-tokenizer');
    assert.equal(p.steps, 6);
    assert.equal(p.threads, 1);
    const calls = Object.fromEntries(p.phases.map((x) => [x.path, x.calls]));
    for (const part of ['step › data', 'step › forward › encoder', 'step › forward › decoder', 'step › forward › perturbation', 'step › update › backward', 'step › update › AdamW', 'step › EMA']) {
      assert.equal(calls[part], 6, part);
    }
    // The GAN from step 3 on: its terms and the discriminator's update on the last 3 steps only.
    for (const part of ['step › adaptive weight', 'step › discriminator step › backward']) assert.equal(calls[part], 3, part);
    const top = p.phases.filter((x) => x.depth === 0).reduce((s, x) => s + x.ms, 0);
    assert.ok(top <= p.wallSeconds * 1000 + 1, `${top} ms in phases, ${p.wallSeconds} s of wall time`);
    assert.ok(p.counts['host reads (item)']! > 0);
    assert.ok(existsSync(path.join(out, 'profile.md')));
    assert.match(r.stderr, /\| step \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
