// Starts the ranks of a multi-process test as real Node processes on
// loopback, on a port that was free a moment ago, and collects what each
// printed. Used by the distributed tests.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

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
    const child = spawn(process.execPath, args(rank), { env: { ...process.env, ROBUSTOK_THREADS: '1', OMP_NUM_THREADS: '1', RANK: String(rank), LOCAL_RANK: String(rank), ...env } });
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
