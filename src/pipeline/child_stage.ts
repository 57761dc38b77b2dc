// Running a stage in a child process, so that --jobs N stages run at once,
// each with its own libtorch thread count (ROBUSTOK_THREADS): threads are a
// per-process setting, and OpenMP threads that outnumber the cores cost up to
// 20× here (docs/design.md §9). The child (stage_worker.ts) rebuilds the same
// stage from the preset and runs it with runStage, so records, hashes and
// checkpoints are exactly those of an in-process run; log lines and progress
// come back over the IPC channel.
import { fork } from 'node:child_process';
import { type ProgressEvent, type RunEvents, stopSignalOf } from '../runs/index.js';
import type { Device } from '../torch/index.js';
import type { ReproducePreset } from './preset.js';
import type { StageOutcome } from './runner.js';
import type { StageKind, StageSpec } from './stage_record.js';

/** Parent → child: which stage of which reproduction. */
export interface StageTask {
  preset: ReproducePreset;
  /** The reproduction's folder, absolute. */
  dir: string;
  kind: StageKind;
  name: string;
  seed: number;
  /** Where the stage computes (its slot's device, stage_devices.ts). */
  device: Device;
}

/** Child → parent. */
export type StageMessage =
  | { type: 'log'; message: string }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'outcome'; outcome: StageOutcome }
  | { type: 'error'; message: string };

const workerScript = new URL('./stage_worker.js', import.meta.url);

/**
 * Runs `spec` in a child with `threads` libtorch threads. An abort of
 * `events.signal` is passed on as the signal it carries (SIGINT/SIGTERM), once,
 * and the child saves a checkpoint and reports 'interrupted' as a trainer in
 * this process would. The child has its own process group, so a Ctrl-C in the
 * terminal reaches it only through this forward, never twice.
 */
export function runStageInChild(task: Omit<StageTask, 'kind' | 'name' | 'seed'>, spec: StageSpec, threads: number, events: RunEvents): Promise<StageOutcome> {
  return new Promise((resolve, reject) => {
    const child = fork(workerScript, [], {
      env: { ...process.env, ROBUSTOK_THREADS: String(threads) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    let settled: StageOutcome | Error | null = null;
    const forward = () => { child.kill(stopSignalOf(events.signal)); };
    events.signal?.addEventListener('abort', forward, { once: true });
    child.on('message', (m: StageMessage) => {
      if (m.type === 'log') events.log?.(m.message);
      else if (m.type === 'progress') events.progress?.(m.event);
      else if (m.type === 'outcome') settled = m.outcome;
      else settled = new Error(m.message);
    });
    child.on('error', (error) => { settled ??= error; });
    child.on('exit', (code, signal) => {
      events.signal?.removeEventListener('abort', forward);
      if (settled instanceof Error) reject(settled);
      else if (settled) resolve(settled);
      else reject(new Error(`${spec.id}: its process ended without a result (${signal ?? `exit code ${code}`}); continue with --resume`));
    });
    const message: StageTask = { ...task, kind: spec.kind, name: spec.name, seed: spec.seed };
    child.send(message);
  });
}
