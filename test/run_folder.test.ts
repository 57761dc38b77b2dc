// The run-folder layer on its own: the lock, leftovers of interrupted writes,
// metrics.jsonl cut back on resume, the run's kind recorded, damaged files named; locks
// left by a process whose pid is alive again, and a lock being taken.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RunFolder, YOUNG_LOCK_MS, bootId, processStartTime, readJsonObject, recordedRunKind, resolveRunConfig, runPaths } from '../src/runs/index.js';
import { tokenizerSchema } from '../src/tokenizer/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scratchRoot = mkdtempSync(path.join(os.tmpdir(), 'robustok-folder-'));
process.on('exit', () => rmSync(scratchRoot, { recursive: true, force: true }));
const scratch = (): string => mkdtempSync(path.join(scratchRoot, 'run-'));
/** A pid that is certainly not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

test('a second writer is refused while the first holds the folder, naming its pid; the lock goes with release', async () => {
  const dir = scratch();
  // The holder is another process, as in real use.
  const holder = spawn(process.execPath, ['--input-type=module', '-e',
    `const { RunFolder } = await import(${JSON.stringify(path.join(here, '..', 'src', 'runs', 'index.js'))});
     RunFolder.open(${JSON.stringify(dir)}); console.log('locked'); setTimeout(() => {}, 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve) => holder.stdout!.on('data', () => resolve()));
    assert.throws(() => RunFolder.open(dir), new RegExp(`is being written by pid ${holder.pid} since \\d{4}-`));
  } finally {
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('exit', resolve));
  }
  // Killed with -9, it left its lock behind: taken over, with a message.
  const logs: string[] = [];
  const folder = RunFolder.open(dir, { log: (m) => logs.push(m) });
  assert.match(logs.join('\n'), new RegExp(`taking over .*from pid ${holder.pid} .*no longer running`));
  assert.equal(JSON.parse(readFileSync(runPaths(dir).lock, 'utf8')).pid, process.pid);
  assert.throws(() => RunFolder.open(dir), /already open in this process/);
  folder.release();
  assert.ok(!existsSync(runPaths(dir).lock), 'release removes the lock');
  RunFolder.open(dir).release();
});

test('a torn lock file (a kill between create and write) counts as stale once it is a few seconds old', () => {
  const dir = scratch();
  mkdirSync(dir, { recursive: true });
  writeFileSync(runPaths(dir).lock, '{"pid": 12');
  const old = new Date(Date.now() - 2 * YOUNG_LOCK_MS);
  utimesSync(runPaths(dir).lock, old, old);
  const logs: string[] = [];
  RunFolder.open(dir, { log: (m) => logs.push(m) }).release();
  assert.match(logs.join('\n'), /unreadable/);
});

test('an empty lock younger than a few seconds is held (a starter between create and write), naming the file and the fix', () => {
  const dir = scratch();
  mkdirSync(dir, { recursive: true });
  const lock = runPaths(dir).lock;
  writeFileSync(lock, '');
  assert.throws(() => RunFolder.open(dir), (error: Error) => {
    assert.match(error.message, /is being locked by another process right now \(.*\.robustok\.lock is empty, \d+ ms old\); try again/);
    assert.ok(error.message.includes(`rm "${lock}"`), error.message);
    return true;
  });
  assert.equal(readFileSync(lock, 'utf8'), '', 'the young lock is left alone');
  const old = new Date(Date.now() - 2 * YOUNG_LOCK_MS);
  utimesSync(lock, old, old);
  RunFolder.open(dir).release();
});

test('the lock is written whole in one step and records the holder\'s start time, boot id and host', () => {
  const dir = scratch();
  const folder = RunFolder.open(dir);
  try {
    const info = JSON.parse(readFileSync(runPaths(dir).lock, 'utf8'));
    assert.equal(info.pid, process.pid);
    assert.equal(info.host, os.hostname());
    assert.equal(info.processStart, processStartTime(process.pid));
    assert.match(info.processStart, /^\d+$/);
    assert.match(info.bootId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary file of the lock is left');
  } finally {
    folder.release();
  }
});

/** A lock as another robustok process would have written it. */
const writeLock = (dir: string, fields: Record<string, unknown>): void => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(runPaths(dir).lock, JSON.stringify({ host: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', bootId: bootId(), ...fields }));
};

test('a lock whose pid is alive again as another process (a restarted container) is taken over with a message', () => {
  // This process's pid with an earlier start time: the lock's writer had this pid before a restart.
  const dir = scratch();
  writeLock(dir, { pid: process.pid, processStart: '1' });
  const logs: string[] = [];
  RunFolder.open(dir, { log: (m) => logs.push(m) }).release();
  assert.match(logs.join('\n'), new RegExp(`taking over .* from pid ${process.pid} .*the pid was reused`));

  // Another live pid (the parent) whose start time differs from the lock's: taken over; the same start time: held.
  const other = scratch();
  const parentStart = processStartTime(process.ppid)!;
  writeLock(other, { pid: process.ppid, processStart: String(Number(parentStart) - 1) });
  const otherLogs: string[] = [];
  RunFolder.open(other, { log: (m) => otherLogs.push(m) }).release();
  assert.match(otherLogs.join('\n'), new RegExp(`from pid ${process.ppid} .*another process than the one that took it`));
  writeLock(other, { pid: process.ppid, processStart: parentStart });
  assert.throws(() => RunFolder.open(other), new RegExp(`is being written by pid ${process.ppid} since 2024-`));

  // Taken before this machine last booted: stale whatever the pid.
  writeLock(other, { pid: process.ppid, processStart: parentStart, bootId: '00000000-0000-0000-0000-000000000000' });
  RunFolder.open(other).release();
});

test('when the holder cannot be told apart (an old lock without a start time, another host), the error names the lock and the command that clears it', () => {
  const dir = scratch();
  const lock = runPaths(dir).lock;
  writeLock(dir, { pid: process.ppid, processStart: undefined });
  assert.throws(() => RunFolder.open(dir), (error: Error) => {
    assert.match(error.message, new RegExp(`is being written by pid ${process.ppid} since .*cannot be told here`));
    assert.ok(error.message.includes(`rm "${lock}"`), error.message);
    return true;
  });
  writeLock(dir, { pid: process.pid, processStart: undefined });  // this pid, by an older robustok: reused, or this very process?
  assert.throws(() => RunFolder.open(dir), (error: Error) => error.message.includes('records no start time') && error.message.includes(`rm "${lock}"`));
  writeLock(dir, { pid: process.pid, processStart: processStartTime(process.pid) });  // this process's own, taken through another copy of the module
  assert.throws(() => RunFolder.open(dir), /already open in this process/);
  writeLock(dir, { pid: 1, host: 'elsewhere' });
  assert.throws(() => RunFolder.open(dir), (error: Error) => error.message.includes('on elsewhere since') && error.message.includes(`rm "${lock}"`));
});

test('temporary files of dead writers are removed at open; a live writer\'s are kept', async () => {
  const dir = scratch();
  mkdirSync(path.join(dir, 'samples'), { recursive: true });
  const dead = await deadPid();
  const stale = [path.join(dir, `checkpoint.safetensors.tmp-${dead}`), path.join(dir, 'samples', `step-5.png.tmp-${dead}`)];
  const live = path.join(dir, `config.json.tmp-${process.ppid}`);
  for (const f of [...stale, live]) writeFileSync(f, 'partial');
  const logs: string[] = [];
  RunFolder.open(dir, { log: (m) => logs.push(m) }).release();
  for (const f of stale) assert.ok(!existsSync(f), `${f} removed`);
  assert.ok(existsSync(live), 'a file another running process is writing stays');
  assert.equal(logs.filter((l) => l.startsWith('removed')).length, 2);
});

test('metrics.jsonl on resume keeps the steps up to the checkpoint and drops a torn last line', () => {
  const dir = scratch();
  const folder = RunFolder.open(dir);
  folder.resetMetrics();
  for (let step = 1; step <= 12; step++) folder.appendMetrics({ step, loss: 1 / step });
  writeFileSync(runPaths(dir).metrics, `${readFileSync(runPaths(dir).metrics, 'utf8')}{"step": 13, "lo`);  // a kill mid-line
  assert.equal(folder.resetMetrics(10), 3, 'steps 11, 12 and the torn line');
  folder.appendMetrics({ step: 11, loss: 0 });
  const steps = readFileSync(runPaths(dir).metrics, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  folder.release();
});

test('the writer records the run\'s kind in run.json, beside a config.json that holds the config alone (it is read back through the schema)', () => {
  const dir = scratch();
  const folder = RunFolder.open(dir);
  assert.equal(recordedRunKind(dir), null, 'nothing recorded yet (as in folders written before run.json)');
  folder.writeConfig('post-trained tokenizer', { sigma: 0.7 });
  assert.equal(recordedRunKind(dir), 'post-trained tokenizer');
  assert.deepEqual(JSON.parse(readFileSync(runPaths(dir).config, 'utf8')), { sigma: 0.7 });
  writeFileSync(runPaths(dir).kind, '{"kind": "spaceship"}');
  assert.equal(recordedRunKind(dir), null, 'a kind robustok does not know is not taken');
  folder.release();
});

test('damaged or missing JSON files are named with what they are', () => {
  const dir = scratch();
  const file = path.join(dir, 'config.json');
  writeFileSync(file, '{"data": {"name": "fashion');
  assert.throws(() => readJsonObject(file, 'the config this run trained with'), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(the config this run trained with\\) is not valid JSON`));
  assert.throws(() => resolveRunConfig(tokenizerSchema, dir, { resume: true, missing: 'x' }), /config\.json \(the config this run trained with\) is not valid JSON/);
  writeFileSync(file, 'null');
  assert.throws(() => readJsonObject(file, 'a config'), /must hold a JSON object, found null/);
  assert.throws(() => resolveRunConfig(tokenizerSchema, scratch(), { resume: true, missing: '--config FILE is required' }), /--config FILE is required/);
});

test('cross-field rules fail at config time, naming the keys: δ₀ above K, annealing start after end', async () => {
  const { checkTokenizerConfig } = await import('../src/tokenizer/index.js');
  const { resolveConfig } = await import('../src/config/index.js');
  const cfg = resolveConfig(tokenizerSchema, [], ['perturbation.delta=300', 'perturbation.annealStart=0.7', 'perturbation.annealEnd=0.5']);
  assert.throws(() => checkTokenizerConfig(cfg), (e: Error) =>
    /perturbation\.delta: δ₀ = 300 exceeds the codebook size model\.codebookSize = 256/.test(e.message) &&
    /perturbation\.annealStart: 0\.7 is after perturbation\.annealEnd 0\.5/.test(e.message));
  assert.equal(resolveConfig(tokenizerSchema, [], ['data.channels=3']).data.channels, 3, 'channels are numbers');
  assert.equal(resolveConfig(tokenizerSchema, [{ data: { channels: '1' } }], []).data.channels, 1, "an older config.json's '1' still reads");
});
