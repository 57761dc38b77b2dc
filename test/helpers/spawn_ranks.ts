// Starts the ranks of a multi-process test as real Node processes on
// loopback, on a port that was free a moment ago, and collects what each
// printed; and the comparisons the data-parallel tests make between a run on
// W ranks and one process. Used by the distributed tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { type Tensor, loadSafetensors, tidy } from '../../src/torch/index.js';
import { oneThreadEnv } from './one_thread.js';
import { cli } from './runs.js';

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RankRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args(rank)` for every rank at once (one thread each; RANK and LOCAL_RANK set) and waits for all of them. */
export function runRanks(worldSize: number, args: (rank: number) => string[], env: Record<string, string> = {}): Promise<RankRun[]> {
  return Promise.all(Array.from({ length: worldSize }, (_, rank) => new Promise<RankRun>((resolve, reject) => {
    const child = spawn(process.execPath, args(rank), { env: { ...oneThreadEnv, RANK: String(rank), LOCAL_RANK: String(rank), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  })));
}

/** The last JSON line a rank printed. */
export function lastJson<T>(run: RankRun): T {
  const lines = run.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]!) as T;
  } catch {
    throw new Error(`no JSON result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** `robustok ARGS` on `worldSize` ranks at once, as `robustok launch` starts them; every rank must succeed. */
export async function robustokOnRanks(worldSize: number, ...args: string[]): Promise<RankRun[]> {
  const port = await freePort();
  const runs = await runRanks(worldSize, () => [cli, ...args], { WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) });
  runs.forEach((run, rank) => assert.equal(run.code, 0, `rank ${rank}:\n${run.stderr}`));
  return runs;
}

export const relativeClose = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b), 1e-12), `${what}: ${a} vs ${b}`);

/** Every number of `fields` in two metrics lists, step by step, within 1e-5 relative. */
export function sameMetrics(a: object[], b: object[], fields: string[]): void {
  assert.equal(b.length, a.length, 'as many metrics lines');
  a.forEach((line, i) => {
    const [m, n] = [line, b[i]!] as Record<string, number>[];
    assert.equal(n!.step, m!.step);
    for (const field of fields) relativeClose(n![field]!, m![field]!, `${field} at step ${m!.step}`);
  });
}

/**
 * The tensors named `prefix`* in two checkpoints agree within 1e-5
 * relative, per tensor: ‖a − b‖ ≤ 1e-5·‖b‖. (Not element by element: AdamW
 * divides each gradient by its own running scale, so a gradient that is
 * rounding noise in both runs gives updates of either sign, of the order of
 * lr, in either.)
 */
export const sameWeights = (fileA: string, fileB: string, prefix = 'model.') => tidy(() => {
  const [a, b] = [fileA, fileB].map((f) => loadSafetensors(f).tensors) as [Record<string, Tensor>, Record<string, Tensor>];
  const names = Object.keys(a).filter((n) => n.startsWith(prefix));
  assert.ok(names.length > 0, `tensors named ${prefix}*`);
  for (const name of names) {
    const scale = Math.max(b[name]!.norm().item(), 1e-12);
    const diff = a[name]!.sub(b[name]!).norm().item();
    assert.ok(diff <= 1e-5 * scale, `${name}: ‖a − b‖ = ${diff}, ${diff / scale} of ‖b‖`);
  }
});
